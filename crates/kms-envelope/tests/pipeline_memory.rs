//! Peak memory of the overlapped bulk paths with the largest segments the format allows
//! (16 MiB), measured in-process as the kernel's high-water mark (`VmHWM`), never time. One
//! test in its own binary, so nothing else runs in the process while it measures.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{self, Read, Write};
use std::sync::Arc;

use kms_aead::AeadBackend;
use kms_envelope::{Decryptor, Encryptor, Key256, Keyring, Purpose};

/// The bound the CLI keeps (tests/bounds.rs); here for the library alone.
const CAP_KIB: u64 = 64 << 10;

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Counts bytes and checks they are all `byte`.
struct Check {
    n: u64,
    byte: u8,
}

impl Write for Check {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        assert!(buf.iter().all(|&b| b == self.byte));
        self.n += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn largest_segments_stay_under_the_cap() {
    let mut k = Keyring::new();
    k.push(
        Purpose::Root,
        Arc::new(AeadBackend::new(Key256::new([4; 32]), "k")),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let len: u64 = 160 << 20;
    let path = std::env::temp_dir().join(format!("kms-pipeline-memory-{}", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    rt.block_on(async {
        let mut w = Encryptor::new(&k, Purpose::Root)
            .segment_size(16 << 20)
            .wrap_output(file)
            .await
            .unwrap();
        assert_eq!(w.copy_from(&mut io::repeat(7).take(len)).unwrap(), len);
        w.finish().unwrap();
    });
    let after_encrypt = peak_rss_kib();
    let mut check = Check { n: 0, byte: 7 };
    rt.block_on(async {
        let mut r = Decryptor::new(&k)
            .open(std::fs::File::open(&path).unwrap())
            .await
            .unwrap();
        r.copy_to(&mut check).unwrap();
    });
    std::fs::remove_file(&path).unwrap();
    assert_eq!(check.n, len);
    let peak = peak_rss_kib();
    eprintln!("peak RSS: {after_encrypt} KiB after encrypt, {peak} KiB after decrypt");
    assert!(
        after_encrypt < CAP_KIB,
        "encrypt: peak RSS {after_encrypt} KiB"
    );
    assert!(peak < CAP_KIB, "decrypt: peak RSS {peak} KiB");
}
