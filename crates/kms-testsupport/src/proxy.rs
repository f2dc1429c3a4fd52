//! A small HTTP/1.1 proxy between the SDK and moto: counts requests per KMS operation
//! (`X-Amz-Target: TrentService.Decrypt`) and injects faults.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A fault to inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forward normally.
    None,
    /// Close each new connection at once, without reading.
    Refuse,
    /// Hold each request this long before forwarding it.
    Delay(Duration),
    /// Forward the request, then cut the connection after part of the response.
    ResetMidResponse,
    /// Answer HTTP 500 with a KMSInternalException body.
    Status500,
    /// Answer HTTP 400 with a ThrottlingException body.
    Throttle,
}

struct State {
    fault: Mutex<Fault>,
    /// Apply the fault to only this many more requests (then forward); `usize::MAX` = always.
    remaining: AtomicUsize,
    counts: Mutex<HashMap<String, usize>>,
    stop: AtomicBool,
}

/// A running proxy on a free loopback port.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    state: Arc<State>,
    port: u16,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

impl Proxy {
    /// Starts a proxy forwarding to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Proxy {
        let up = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State {
            fault: Mutex::new(Fault::None),
            remaining: AtomicUsize::new(usize::MAX),
            counts: Mutex::default(),
            stop: AtomicBool::new(false),
        });
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = conn else { continue };
                let (st, up) = (st.clone(), up.clone());
                std::thread::spawn(move || handle(client, &up, &st));
            }
        });
        Proxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            state,
            port,
        }
    }

    /// Injects `fault` into every following request.
    pub fn set_fault(&self, fault: Fault) {
        *self.state.fault.lock().unwrap() = fault;
        self.state.remaining.store(usize::MAX, Ordering::SeqCst);
    }

    /// Injects `fault` into the next `n` requests only, then forwards normally.
    pub fn fail_next(&self, fault: Fault, n: usize) {
        *self.state.fault.lock().unwrap() = fault;
        self.state.remaining.store(n, Ordering::SeqCst);
    }

    /// Requests seen for a KMS operation (e.g. "Decrypt"), faulted ones included.
    pub fn count(&self, operation: &str) -> usize {
        self.state
            .counts
            .lock()
            .unwrap()
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// Every operation count.
    pub fn counts(&self) -> HashMap<String, usize> {
        self.state.counts.lock().unwrap().clone()
    }

    /// Forgets the counts.
    pub fn reset_counts(&self) {
        self.state.counts.lock().unwrap().clear();
    }
}

fn current_fault(st: &State) -> Fault {
    let f = *st.fault.lock().unwrap();
    if f == Fault::None {
        return f;
    }
    let prev = st
        .remaining
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |r| {
            if r == 0 {
                None
            } else if r == usize::MAX {
                Some(r)
            } else {
                Some(r - 1)
            }
        });
    match prev {
        Ok(_) => f,
        Err(_) => Fault::None,
    }
}

fn handle(client: TcpStream, upstream: &str, st: &State) {
    if *st.fault.lock().unwrap() == Fault::Refuse && current_fault(st) == Fault::Refuse {
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut client_w = client;
    let mut server_r = BufReader::new(server.try_clone().unwrap());
    let mut server_w = server;
    loop {
        // Read one request: headers, then Content-Length bytes of body.
        let mut head = Vec::new();
        let mut target = String::new();
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("x-amz-target:") {
                target = line["x-amz-target:".len()..]
                    .trim()
                    .rsplit('.')
                    .next()
                    .unwrap_or("")
                    .to_owned();
            }
            head.extend_from_slice(line.as_bytes());
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0u8; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let op = if target.is_empty() {
            "(none)".to_owned()
        } else {
            target.clone()
        };
        *st.counts.lock().unwrap().entry(op.clone()).or_default() += 1;
        match current_fault(st) {
            Fault::Refuse => {
                let _ = client_w.shutdown(Shutdown::Both);
                return;
            }
            Fault::Status500 => {
                let body = br#"{"__type":"KMSInternalException","message":"injected fault"}"#;
                let _ = write!(client_w, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n", body.len());
                let _ = client_w.write_all(body);
                continue;
            }
            Fault::Throttle => {
                let body =
                    br#"{"__type":"ThrottlingException","message":"Rate exceeded (injected)"}"#;
                let _ = write!(client_w, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-ErrorType: ThrottlingException\r\nContent-Length: {}\r\n\r\n", body.len());
                let _ = client_w.write_all(body);
                continue;
            }
            Fault::Delay(d) => std::thread::sleep(d),
            Fault::ResetMidResponse => {
                let _ = server_w
                    .write_all(&head)
                    .and_then(|_| server_w.write_all(&body));
                let mut partial = [0u8; 20];
                let n = server_r.read(&mut partial).unwrap_or(0);
                let _ = client_w.write_all(&partial[..n]);
                let _ = client_w.shutdown(Shutdown::Both);
                return;
            }
            Fault::None => {}
        }
        if server_w
            .write_all(&head)
            .and_then(|_| server_w.write_all(&body))
            .is_err()
        {
            return;
        }
        if !relay_response(&mut server_r, &mut client_w) {
            return;
        }
    }
}

/// Copies one HTTP response (Content-Length framed, as moto sends) to the client.
fn relay_response(server: &mut BufReader<TcpStream>, client: &mut TcpStream) -> bool {
    let mut len = 0usize;
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        match server.read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        head.extend_from_slice(line.as_bytes());
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0u8; len];
    if server.read_exact(&mut body).is_err() {
        return false;
    }
    client.write_all(&head).is_ok() && client.write_all(&body).is_ok()
}
