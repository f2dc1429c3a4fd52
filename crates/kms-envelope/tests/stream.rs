//! The stream format over the aead backend: round trips at every interesting size, and
//! rejection of every kind of tampering.
#![allow(clippy::unwrap_used, missing_docs)]

use kms_aead::AeadBackend;
use kms_core::{Backend, Error, Key256, Purpose};
use kms_envelope::stream::{open_header, seal_header, Header, DEFAULT_SEGMENT_SIZE};

fn backend() -> AeadBackend {
    AeadBackend::new(Key256::new([5; 32]), "global_root")
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

async fn encrypt(b: &dyn Backend, pt: &[u8], aad: &[u8], seg: u32) -> Vec<u8> {
    let (header, key) = seal_header(&[b], Purpose::Root, aad, seg).await.unwrap();
    let mut out = header.encode();
    let n = key
        .encrypt_body(&mut &pt[..], &mut out, &mut |_| {})
        .unwrap();
    assert_eq!(n, pt.len() as u64);
    out
}

async fn decrypt(wrappers: &[&dyn Backend], file: &[u8], aad: &[u8]) -> Result<Vec<u8>, Error> {
    let mut input = file;
    let (header, _) = Header::read_from(&mut input)?;
    let key = open_header(&header, wrappers, aad).await?;
    let mut out = Vec::new();
    key.decrypt_body(&mut input, &mut out, &mut |_| {})?;
    Ok(out)
}

#[tokio::test]
async fn round_trips_at_segment_and_batch_edges() {
    let b = backend();
    let seg = 1024usize;
    let batch = kms_envelope::stream::BATCH_SEGMENTS * seg;
    for len in [
        0,
        1,
        seg - 1,
        seg,
        seg + 1,
        3 * seg,
        batch - 1,
        batch,
        batch + 1,
        2 * batch + seg + 7,
    ] {
        let pt = data(len);
        let file = encrypt(&b, &pt, b"", seg as u32).await;
        let (h, hlen) = Header::parse(&file).unwrap();
        assert_eq!(
            h.segments_for_body((file.len() - hlen) as u64),
            Some(len.div_ceil(seg).max(1) as u64),
            "len {len}"
        );
        assert_eq!(decrypt(&[&b], &file, b"").await.unwrap(), pt, "len {len}");
    }
    // The default segment size, many segments.
    let pt = data(5 * DEFAULT_SEGMENT_SIZE as usize + 3);
    let file = encrypt(&b, &pt, b"ctx", DEFAULT_SEGMENT_SIZE).await;
    assert_eq!(decrypt(&[&b], &file, b"ctx").await.unwrap(), pt);
}

#[tokio::test]
async fn every_header_bit_flip_is_rejected() {
    let b = backend();
    let file = encrypt(&b, &data(3000), b"", 1024).await;
    let (_, hlen) = Header::parse(&file).unwrap();
    for bit in 0..hlen * 8 {
        let mut bad = file.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(
            decrypt(&[&b], &bad, b"").await.is_err(),
            "header bit {bit} flipped was accepted"
        );
    }
}

#[tokio::test]
async fn body_tampering_truncation_reordering_and_appending_are_rejected() {
    let b = backend();
    let seg = 1024usize;
    let pt = data(5 * seg + 100);
    let file = encrypt(&b, &pt, b"", seg as u32).await;
    let (_, hlen) = Header::parse(&file).unwrap();
    let full = seg + 16;
    // Body bit flips.
    for bit in (hlen * 8..file.len() * 8).step_by(97) {
        let mut bad = file.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(decrypt(&[&b], &bad, b"").await.is_err(), "body bit {bit}");
    }
    // Truncation at every segment boundary, inside segments, and inside the header.
    let mut cuts: Vec<usize> = (0..=5).map(|i| hlen + i * full).collect();
    cuts.extend([0, 1, 8, hlen / 2, hlen - 1, hlen + 10, file.len() - 1]);
    for cut in cuts {
        assert!(
            decrypt(&[&b], &file[..cut], b"").await.is_err(),
            "truncated at {cut}"
        );
    }
    // Swapping two segments.
    let mut swapped = file.clone();
    let (a, c) = (hlen, hlen + full);
    let seg0 = file[a..a + full].to_vec();
    swapped.copy_within(c..c + full, a);
    swapped[c..c + full].copy_from_slice(&seg0);
    assert!(
        decrypt(&[&b], &swapped, b"").await.is_err(),
        "swapped segments"
    );
    // Dropping a segment.
    let mut dropped = file[..hlen + full].to_vec();
    dropped.extend_from_slice(&file[hlen + 2 * full..]);
    assert!(
        decrypt(&[&b], &dropped, b"").await.is_err(),
        "dropped segment"
    );
    // Appending bytes, or a whole extra copy of the last segment.
    for extra in [&b"x"[..], &file[file.len() - 116..]] {
        let mut appended = file.clone();
        appended.extend_from_slice(extra);
        assert!(
            decrypt(&[&b], &appended, b"").await.is_err(),
            "appended {} bytes",
            extra.len()
        );
    }
    // Unmodified still opens.
    assert_eq!(decrypt(&[&b], &file, b"").await.unwrap(), pt);
}

#[tokio::test]
async fn wrapped_key_from_another_file_fails() {
    let b = backend();
    let f1 = encrypt(&b, b"one", b"", 1024).await;
    let f2 = encrypt(&b, b"two", b"", 1024).await;
    let (mut h1, hlen1) = Header::parse(&f1).unwrap();
    let (h2, _) = Header::parse(&f2).unwrap();
    h1.entries = h2.entries.clone();
    let mut spliced = h1.encode();
    spliced.extend_from_slice(&f1[hlen1..]);
    assert!(matches!(
        decrypt(&[&b], &spliced, b"").await,
        Err(Error::DecryptFailed)
    ));
}

#[tokio::test]
async fn aad_is_bound_and_required() {
    let b = backend();
    let file = encrypt(&b, b"payload", b"tenant-1", 1024).await;
    assert!(matches!(
        decrypt(&[&b], &file, b"tenant-2").await,
        Err(Error::DecryptFailed)
    ));
    assert!(matches!(
        decrypt(&[&b], &file, b"").await,
        Err(Error::InvalidInput(_))
    ));
    let plain = encrypt(&b, b"payload", b"", 1024).await;
    assert!(matches!(
        decrypt(&[&b], &plain, b"x").await,
        Err(Error::InvalidInput(_))
    ));
}

#[tokio::test]
async fn wrong_key_and_previous_root_selection() {
    let root = AeadBackend::new(Key256::new([1; 32]), "new");
    let old = AeadBackend::new(Key256::new([2; 32]), "old");
    let file = encrypt(&old, b"legacy", b"", 1024).await;
    // Both configured: the one whose key id the file records opens it.
    assert_eq!(
        decrypt(&[&root, &old], &file, b"").await.unwrap(),
        b"legacy"
    );
    // Only another key: named in the error.
    let err = decrypt(&[&root], &file, b"").await.unwrap_err();
    assert!(err.to_string().contains("old"), "{err}");
    // The same key id with other key material fails authentication.
    let impostor = AeadBackend::new(Key256::new([3; 32]), "old");
    assert!(matches!(
        decrypt(&[&impostor], &file, b"").await,
        Err(Error::DecryptFailed)
    ));
}

#[tokio::test]
async fn rewrapping_entries_keeps_the_file_valid() {
    let old = AeadBackend::new(Key256::new([1; 32]), "old");
    let new = AeadBackend::new(Key256::new([2; 32]), "new");
    let file = encrypt(&old, &data(5000), b"", 1024).await;
    let (mut h, hlen) = Header::parse(&file).unwrap();
    let ctx = h.wrap_context();
    let dk = old
        .unwrap(&h.entries[0].wrapped, &"old".into(), &ctx)
        .await
        .unwrap();
    let w = new.wrap(dk.expose_secret(), &ctx).await.unwrap();
    h.entries = vec![kms_envelope::stream::entry_for("aead".into(), w).unwrap()];
    let mut rewrapped = h.encode();
    rewrapped.extend_from_slice(&file[hlen..]);
    assert_eq!(decrypt(&[&new], &rewrapped, b"").await.unwrap(), data(5000));
    assert!(decrypt(&[&old], &rewrapped, b"").await.is_err());
}

#[test]
fn unknown_version_is_its_own_error() {
    let mut bytes = kms_envelope::stream::MAGIC.to_vec();
    bytes.push(9);
    bytes.extend_from_slice(&[0; 100]);
    let err = Header::parse(&bytes).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed input: kms stream version 9 is not supported by this build (it reads version 1)"
    );
}
