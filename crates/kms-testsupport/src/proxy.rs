//! A small HTTP/1.1 proxy between a client and its server (the SDK and moto, kms-transit and
//! OpenBao): counts requests per KMS operation (`X-Amz-Target: TrentService.Decrypt`) or,
//! without one, per path under `/v1/`, and injects faults.

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
    /// Close each new connection at once, without reading; on a connection the client already
    /// holds (keep-alive), read the next request (counted) and close without an answer.
    Refuse,
    /// Hold each request this long before forwarding it.
    Delay(Duration),
    /// Forward the request, then cut the connection after part of the response.
    ResetMidResponse,
    /// Answer HTTP 500 with a KMSInternalException body.
    Status500,
    /// Answer HTTP 400 with a ThrottlingException body.
    Throttle,
    /// Answer HTTP 502 with an HTML page, as a load balancer does: no KMS error code.
    BadGatewayHtml,
}

/// Which requests get which fault.
#[derive(Clone, Debug)]
enum Plan {
    /// Every request (`Fault::None`: forward everything).
    Always(Fault),
    /// The next `n` requests (or refused connections), then forward.
    Next(Fault, usize),
    /// Every `n`th request (counted over all operations) gets the next fault of `faults`, in
    /// turn; the others are forwarded. Connections are always accepted.
    Every {
        n: usize,
        faults: Vec<Fault>,
        seen: usize,
    },
}

struct State {
    plan: Mutex<Plan>,
    counts: Mutex<HashMap<String, usize>>,
    /// Connections closed on accept (`Fault::Refuse`), which carried no readable request.
    refused: AtomicUsize,
    /// Faults injected so far (refused connections included).
    injected: AtomicUsize,
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
            plan: Mutex::new(Plan::Always(Fault::None)),
            counts: Mutex::default(),
            refused: AtomicUsize::new(0),
            injected: AtomicUsize::new(0),
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

    /// Injects `fault` into every following request (and, for `Refuse`, every new connection).
    pub fn set_fault(&self, fault: Fault) {
        *self.state.plan.lock().unwrap() = Plan::Always(fault);
    }

    /// Injects `fault` into the next `n` requests only, then forwards normally. With `Refuse`,
    /// each refused new connection counts as one of the `n`.
    pub fn fail_next(&self, fault: Fault, n: usize) {
        *self.state.plan.lock().unwrap() = Plan::Next(fault, n);
    }

    /// Injects a fault into every `n`th request from now on (counted over all operations),
    /// taking the faults of `faults` in turn; forwards the others. Intermittent failures for
    /// stress tests: a retried request is a later one, so it usually goes through.
    ///
    /// # Panics
    /// When `n` is 0 or `faults` is empty.
    pub fn fail_every(&self, n: usize, faults: &[Fault]) {
        assert!(
            n > 0 && !faults.is_empty(),
            "fail_every needs n > 0 and faults"
        );
        *self.state.plan.lock().unwrap() = Plan::Every {
            n,
            faults: faults.to_vec(),
            seen: 0,
        };
    }

    /// Requests seen for a KMS operation (e.g. "Decrypt"), faulted ones included. Connections
    /// refused on accept carry no readable request: see [`Proxy::refused`].
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

    /// Connections closed on accept by `Fault::Refuse` (each is one failed client attempt).
    pub fn refused(&self) -> usize {
        self.state.refused.load(Ordering::SeqCst)
    }

    /// Faults injected so far, refused connections included.
    pub fn injected(&self) -> usize {
        self.state.injected.load(Ordering::SeqCst)
    }

    /// Forgets the counts (operations, refused connections, injected faults).
    pub fn reset_counts(&self) {
        self.state.counts.lock().unwrap().clear();
        self.state.refused.store(0, Ordering::SeqCst);
        self.state.injected.store(0, Ordering::SeqCst);
    }
}

/// The fault for the next request, consuming it from the plan.
fn next_fault(st: &State) -> Fault {
    let mut plan = st.plan.lock().unwrap();
    let f = match &mut *plan {
        Plan::Always(f) => *f,
        Plan::Next(f, n) => {
            if *n == 0 {
                Fault::None
            } else {
                *n -= 1;
                *f
            }
        }
        Plan::Every { n, faults, seen } => {
            *seen += 1;
            if *seen % *n == 0 {
                faults[(*seen / *n - 1) % faults.len()]
            } else {
                Fault::None
            }
        }
    };
    if f != Fault::None {
        st.injected.fetch_add(1, Ordering::SeqCst);
    }
    f
}

/// Whether to close a new connection at once (`Refuse` from `set_fault` or `fail_next`).
fn refuse_connection(st: &State) -> bool {
    let mut plan = st.plan.lock().unwrap();
    let refuse = match &mut *plan {
        Plan::Always(f) => *f == Fault::Refuse,
        Plan::Next(Fault::Refuse, n) if *n > 0 => {
            *n -= 1;
            true
        }
        Plan::Next(..) | Plan::Every { .. } => false,
    };
    if refuse {
        st.refused.fetch_add(1, Ordering::SeqCst);
        st.injected.fetch_add(1, Ordering::SeqCst);
    }
    refuse
}

fn handle(client: TcpStream, upstream: &str, st: &State) {
    if refuse_connection(st) {
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
        // A KMS operation by its target; another request (Vault's API) by its path under
        // /v1/, e.g. `transit/decrypt/k1`.
        let op = if !target.is_empty() {
            target.clone()
        } else {
            let first = String::from_utf8_lossy(&head);
            first
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.strip_prefix("/v1/"))
                .map_or_else(|| "(none)".to_owned(), str::to_owned)
        };
        *st.counts.lock().unwrap().entry(op.clone()).or_default() += 1;
        match next_fault(st) {
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
            Fault::BadGatewayHtml => {
                let body = b"<html><body><h1>502 Bad Gateway</h1></body></html>";
                let _ = write!(client_w, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n", body.len());
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
