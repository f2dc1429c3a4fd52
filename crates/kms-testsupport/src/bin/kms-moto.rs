//! `kms-moto`: the test harness's moto server for tools outside the tests (`cargo xtask bench`).
//!
//! Starts moto on a free loopback port with [`kms_testsupport::Moto`], creates one symmetric
//! key, prints `ENDPOINT KEY_ARN` on one line, then runs until its stdin is closed and stops
//! moto. The caller holds the pipe, so moto never outlives it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};

fn main() {
    let moto = kms_testsupport::Moto::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let arn = rt.block_on(moto.create_key());
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} {arn}", moto.endpoint).expect("stdout");
    out.flush().expect("stdout");
    drop(out);
    // Wait for EOF; the bytes themselves mean nothing.
    let _ = std::io::stdin().lock().read_to_end(&mut Vec::new());
    drop(moto);
}
