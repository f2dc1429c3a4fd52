//! In-process throughput: raw AES-256-GCM (the limit), value encryption of 1 MiB values, and
//! the stream body on all cores. `cargo bench -p kms-envelope`.
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kms_aead::AeadBackend;
use kms_core::cipher::AesGcm;
use kms_core::{Key256, Purpose};
use kms_envelope::stream::{seal_header, DEFAULT_SEGMENT_SIZE};
use kms_envelope::value::{encrypt_value, Mechanism};

fn bench(c: &mut Criterion) {
    let key = Key256::new([7; 32]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let backend = AeadBackend::new(key.clone(), "bench");
    let mut g = c.benchmark_group("aes256gcm");
    let mib = 1usize << 20;
    g.throughput(Throughput::Bytes(mib as u64));
    let gcm = AesGcm::new(&key);
    let mut buf = vec![0u8; mib];
    g.bench_function("raw seal 1 MiB, one core", |b| {
        b.iter(|| gcm.seal_detached(&[0; 12], b"", &mut buf).unwrap())
    });
    let value = vec![0u8; mib];
    g.bench_function("value envelope 1 MiB", |b| {
        b.iter(|| {
            rt.block_on(encrypt_value(
                &backend,
                &value,
                b"",
                Some(Mechanism::Envelope),
            ))
            .unwrap()
        })
    });
    g.bench_function("value direct 1 MiB (aead)", |b| {
        b.iter(|| {
            rt.block_on(encrypt_value(
                &backend,
                &value,
                b"",
                Some(Mechanism::Direct),
            ))
            .unwrap()
        })
    });
    let big = vec![0u8; 16 * mib];
    g.throughput(Throughput::Bytes(big.len() as u64));
    let (_, skey) = rt
        .block_on(seal_header(
            &[&backend],
            Purpose::Root,
            b"",
            DEFAULT_SEGMENT_SIZE,
        ))
        .unwrap();
    let mut out = Vec::with_capacity(big.len() + big.len() / 1000);
    g.bench_function("stream body 16 MiB, all cores", |b| {
        b.iter(|| {
            out.clear();
            skey.encrypt_body(&mut &big[..], &mut out, &mut |_| {})
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
