//! Random-access decrypt (`Decryptor::open_seekable`, `RangeReader`): every offset near
//! segment and batch boundaries, ranges past the end, truncation, tampering inside and
//! outside the range, multi-key files and AAD.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{Cursor, Write};
use std::sync::Arc;

use kms_aead::AeadBackend;
use kms_envelope::stream::{Header, BATCH_SEGMENTS};
use kms_envelope::{Decryptor, Encryptor, Error, Key256, Keyring, Purpose, RangeReader};

const SEG: usize = 1024;
const TAG: usize = 16;

fn aead(id: &str, byte: u8) -> Arc<dyn kms_envelope::Backend> {
    Arc::new(AeadBackend::new(Key256::new([byte; 32]), id))
}

fn keyring() -> Keyring {
    let mut k = Keyring::new();
    k.push(Purpose::Root, aead("root", 2));
    k.push(Purpose::Recovery, aead("recovery", 3));
    k
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn encrypt_with(k: &Keyring, plain: &[u8], also: &[Purpose], aad: &[u8]) -> Vec<u8> {
    rt().block_on(async {
        let mut w = Encryptor::new(k, Purpose::Root)
            .also(also)
            .aad(aad)
            .segment_size(SEG as u32)
            .wrap_output(Vec::new())
            .await
            .unwrap();
        w.write_all(plain).unwrap();
        w.finish().unwrap()
    })
}

fn encrypt(k: &Keyring, plain: &[u8]) -> Vec<u8> {
    encrypt_with(k, plain, &[], b"")
}

fn open(k: &Keyring, file: &[u8]) -> Result<RangeReader<Cursor<Vec<u8>>>, Error> {
    rt().block_on(Decryptor::new(k).open_seekable(Cursor::new(file.to_vec())))
}

fn range(r: &mut RangeReader<Cursor<Vec<u8>>>, offset: u64, length: u64) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let n = r.read_range(offset, length, &mut out)?;
    assert_eq!(n, out.len() as u64);
    Ok(out)
}

fn body_start(file: &[u8]) -> usize {
    Header::parse(file).unwrap().1
}

#[test]
fn every_offset_near_segment_and_batch_boundaries() {
    let k = keyring();
    // Two batches and a bit: 64 segments a batch at this segment size.
    let len = (BATCH_SEGMENTS + 6) * SEG + 300;
    let plain = data(len);
    let file = encrypt(&k, &plain);
    let mut r = open(&k, &file).unwrap();
    assert_eq!(r.plaintext_len().unwrap(), len as u64);
    let mut offsets = vec![0, 1, len - 1, len];
    for b in (SEG..len).step_by(SEG) {
        offsets.extend([b - 1, b, b + 1]);
    }
    for &o in &offsets {
        let mut lengths = vec![0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG + 1, len - o];
        lengths.push(BATCH_SEGMENTS * SEG + 3);
        for l in lengths {
            if o + l > len {
                let e = range(&mut r, o as u64, l as u64).unwrap_err();
                assert!(matches!(e, Error::InvalidInput(_)), "{o}+{l}: {e:?}");
                continue;
            }
            assert_eq!(
                range(&mut r, o as u64, l as u64).unwrap(),
                plain[o..o + l],
                "offset {o} length {l}"
            );
        }
    }
    // Past the end: an offset beyond it, a length that overflows.
    for (o, l) in [(len + 1, 0), (len, 1), (0, len + 1), (5, u64::MAX as usize)] {
        let e = range(&mut r, o as u64, l as u64).unwrap_err();
        assert!(matches!(e, Error::InvalidInput(_)), "{o}+{l}: {e:?}");
    }
}

#[test]
fn small_and_empty_streams() {
    let k = keyring();
    for len in [0, 1, SEG - 1, SEG, SEG + 1] {
        let plain = data(len);
        let mut r = open(&k, &encrypt(&k, &plain)).unwrap();
        assert_eq!(r.plaintext_len().unwrap(), len as u64);
        assert_eq!(range(&mut r, 0, len as u64).unwrap(), plain, "len {len}");
        assert!(range(&mut r, len as u64, 0).unwrap().is_empty());
        assert!(matches!(
            range(&mut r, 0, len as u64 + 1),
            Err(Error::InvalidInput(_))
        ));
    }
}

#[test]
fn truncation_and_appending_fail_even_for_a_range_far_from_the_end() {
    let k = keyring();
    let len = 6 * SEG + 10;
    let plain = data(len);
    let file = encrypt(&k, &plain);
    let body = body_start(&file);
    let full = SEG + TAG;
    // Cut at every segment boundary (a valid-looking shorter body), inside segments, and
    // inside the header's tail.
    let mut cuts: Vec<usize> = (1..=6).map(|i| body + i * full).collect();
    cuts.extend([
        body + 1,
        body + TAG,
        body + 3 * full + 100,
        file.len() - 1,
        body,
    ]);
    for cut in cuts {
        let mut r = open(&k, &file[..cut]).unwrap();
        for (o, l) in [(0, 1), (SEG as u64, 5), (0, 0)] {
            let e = range(&mut r, o, l).unwrap_err();
            assert!(
                matches!(e, Error::DecryptFailed),
                "cut {cut}, {o}+{l}: {e:?}"
            );
        }
        assert!(matches!(r.plaintext_len(), Err(Error::DecryptFailed)));
    }
    // One byte appended, or a whole segment's worth.
    for extra in [1, full, full + 3] {
        let mut longer = file.clone();
        longer.extend(std::iter::repeat_n(7, extra));
        let mut r = open(&k, &longer).unwrap();
        assert!(
            matches!(range(&mut r, 0, 1), Err(Error::DecryptFailed)),
            "+{extra}"
        );
    }
    // A final segment moved to the front of the file's end: still refused.
    let mut spliced = file[..body + 5 * full].to_vec();
    spliced.extend_from_slice(&file[body + 6 * full..]);
    let mut r = open(&k, &spliced).unwrap();
    assert!(matches!(range(&mut r, 0, 1), Err(Error::DecryptFailed)));
}

#[test]
fn tampering_inside_the_range_fails_and_outside_it_does_not() {
    let k = keyring();
    let len = 8 * SEG + 77;
    let plain = data(len);
    let file = encrypt(&k, &plain);
    let body = body_start(&file);
    let full = SEG + TAG;
    let mut flipped = file.clone();
    // A flip in segment 3's ciphertext, then one in its tag.
    for at in [body + 3 * full + 10, body + 3 * full + SEG + 2] {
        flipped.clone_from(&file);
        flipped[at] ^= 0x20;
        let mut r = open(&k, &flipped).unwrap();
        // Ranges outside segment 3 decrypt (segment 3 is never read).
        assert_eq!(range(&mut r, 0, 3 * SEG as u64).unwrap(), plain[..3 * SEG]);
        assert_eq!(
            range(&mut r, 4 * SEG as u64, (len - 4 * SEG) as u64).unwrap(),
            plain[4 * SEG..]
        );
        // Ranges that touch it fail, by one byte at either edge.
        for (o, l) in [
            (3 * SEG - 1, 2),
            (3 * SEG, 1),
            (4 * SEG - 1, 1),
            (4 * SEG - 1, 2),
            (0, len),
        ] {
            let mut out = Vec::new();
            let e = r.read_range(o as u64, l as u64, &mut out).unwrap_err();
            assert!(matches!(e, Error::DecryptFailed), "{o}+{l}: {e:?}");
            assert!(
                out.is_empty(),
                "{o}+{l}: plaintext released from a failed batch"
            );
        }
    }
    // The final segment is always authenticated: a flip there fails every range.
    flipped.clone_from(&file);
    let last = flipped.len() - 3;
    flipped[last] ^= 1;
    let mut r = open(&k, &flipped).unwrap();
    assert!(matches!(range(&mut r, 0, 10), Err(Error::DecryptFailed)));
    // A flip in the header fails at open.
    flipped.clone_from(&file);
    flipped[20] ^= 1;
    assert!(open(&k, &flipped).is_err());
}

#[test]
fn multi_key_files_aad_and_an_offset_input() {
    let k = keyring();
    let plain = data(5 * SEG + 3);
    let file = encrypt_with(&k, &plain, &[Purpose::Recovery], b"ctx");
    // Only the recovery key configured.
    let mut recovery = Keyring::new();
    recovery.push(Purpose::Recovery, aead("recovery", 3));
    let mut r = rt()
        .block_on(
            Decryptor::new(&recovery)
                .aad(b"ctx")
                .open_seekable(Cursor::new(file.clone())),
        )
        .unwrap();
    assert_eq!(range(&mut r, 1000, 2000).unwrap(), plain[1000..3000]);
    // AAD is bound: missing or wrong, the open fails.
    assert!(open(&k, &file).is_err());
    assert!(rt()
        .block_on(
            Decryptor::new(&k)
                .aad(b"other")
                .open_seekable(Cursor::new(file.clone()))
        )
        .is_err());
    // A stream that starts after other bytes in its input: positions are relative to it.
    let mut embedded = b"leading bytes".to_vec();
    embedded.extend_from_slice(&encrypt(&k, &plain));
    let mut input = Cursor::new(embedded);
    input.set_position(13);
    let mut r = rt()
        .block_on(Decryptor::new(&k).open_seekable(input))
        .unwrap();
    assert_eq!(r.plaintext_len().unwrap(), plain.len() as u64);
    assert_eq!(
        range(&mut r, 2 * SEG as u64 - 5, 10).unwrap(),
        plain[2 * SEG - 5..2 * SEG + 5]
    );
}
