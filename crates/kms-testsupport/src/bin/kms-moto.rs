//! `kms-moto`: the test harness's moto server for tools outside the tests (`cargo xtask bench`).
//!
//! Starts moto on a free loopback port with [`kms_testsupport::Moto`], creates one symmetric
//! key, prints `ENDPOINT KEY_ARN` on one line, then runs until its stdin is closed and stops
//! moto. The caller holds the pipe, so moto never outlives it.
//!
//! With `KMS_MOTO_DELAY_MS=N`, the endpoint printed is the fault proxy's, holding each request
//! N ms before forwarding it: a KMS round trip over a network rather than over loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};

fn main() {
    let moto = kms_testsupport::Moto::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let arn = rt.block_on(moto.create_key());
    let delay = std::env::var("KMS_MOTO_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&ms| ms > 0);
    let proxy = delay.map(|ms| {
        let p = kms_testsupport::Proxy::start(&moto.endpoint);
        p.set_fault(kms_testsupport::Fault::Delay(
            std::time::Duration::from_millis(ms),
        ));
        p
    });
    let endpoint = proxy.as_ref().map_or(&moto.endpoint, |p| &p.endpoint);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{endpoint} {arn}").expect("stdout");
    out.flush().expect("stdout");
    drop(out);
    // Wait for EOF; the bytes themselves mean nothing.
    let _ = std::io::stdin().lock().read_to_end(&mut Vec::new());
    drop(proxy);
    drop(moto);
}
