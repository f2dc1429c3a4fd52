//! Stream throughput in process, old body functions against the Write/Read API:
//! `cargo run --release -p kms-envelope --example stream_io [MiB]`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Instant;

use kms_aead::AeadBackend;
use kms_envelope::stream::{open_header, seal_header, Header, DEFAULT_SEGMENT_SIZE};
use kms_envelope::{Decryptor, Encryptor, Key256, Keyring, Purpose};

fn rate(label: &str, bytes: usize, f: impl FnOnce()) {
    let start = Instant::now();
    f();
    let s = start.elapsed().as_secs_f64();
    println!(
        "{label:<34} {:>8.0} MiB/s",
        bytes as f64 / s / (1 << 20) as f64
    );
}

fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(512);
    let n = mib << 20;
    let plain: Vec<u8> = (0..n).map(|i| i as u8).collect();
    let mut keyring = Keyring::new();
    keyring.push(
        Purpose::Root,
        Arc::new(AeadBackend::new(Key256::new([7; 32]), "k")),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let wrappers = keyring.encrypt_wrappers(Purpose::Root).unwrap();
    for round in 0..2 {
        println!("round {round}");
        rate("encrypt_body (old API)", n, || {
            let (_, key) = rt
                .block_on(seal_header(
                    &wrappers,
                    Purpose::Root,
                    b"",
                    DEFAULT_SEGMENT_SIZE,
                ))
                .unwrap();
            key.encrypt_body(&mut plain.as_slice(), &mut io::sink(), &mut |_| {})
                .unwrap();
        });
        rate("StreamWriter via io::copy", n, || {
            let mut w = rt
                .block_on(Encryptor::new(&keyring, Purpose::Root).wrap_output(io::sink()))
                .unwrap();
            io::copy(&mut plain.as_slice(), &mut w).unwrap();
            w.finish().unwrap();
        });
        rate("StreamWriter::copy_from", n, || {
            let mut w = rt
                .block_on(Encryptor::new(&keyring, Purpose::Root).wrap_output(io::sink()))
                .unwrap();
            w.copy_from(&mut plain.as_slice()).unwrap();
            w.finish().unwrap();
        });
        let mut file = Vec::with_capacity(n + n / 1000 + 4096);
        let mut w = rt
            .block_on(Encryptor::new(&keyring, Purpose::Root).wrap_output(&mut file))
            .unwrap();
        w.write_all(&plain).unwrap();
        w.finish().unwrap();
        rate("decrypt_body (old API)", n, || {
            let mut input = file.as_slice();
            let (h, len) = Header::parse(input).unwrap();
            input = &input[len..];
            let key = rt.block_on(open_header(&h, &wrappers, b"")).unwrap();
            key.decrypt_body(&mut input, &mut io::sink(), &mut |_| {})
                .unwrap();
        });
        rate("StreamReader via io::copy", n, || {
            let mut r = rt
                .block_on(Decryptor::new(&keyring).open(file.as_slice()))
                .unwrap();
            io::copy(&mut r, &mut io::sink()).unwrap();
        });
        rate("StreamReader via read (64 KiB)", n, || {
            let mut r = rt
                .block_on(Decryptor::new(&keyring).open(file.as_slice()))
                .unwrap();
            let mut buf = vec![0u8; 1 << 16];
            while r.read(&mut buf).unwrap() > 0 {}
        });
        rate("StreamReader::copy_to", n, || {
            let mut r = rt
                .block_on(Decryptor::new(&keyring).open(file.as_slice()))
                .unwrap();
            r.copy_to(&mut io::sink()).unwrap();
        });
    }
}
