//! The library API: keyring, Encryptor/Decryptor streams (blocking and async), ciphertext
//! detection, values on a keyring, and rewrap.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{Read, Write};
use std::sync::Arc;

use kms_aead::AeadBackend;
use kms_envelope::rewrap::{Outcome, Rewrapper};
use kms_envelope::stream::{open_header, Header, BATCH_SEGMENTS};
use kms_envelope::{
    value, Ciphertext, Decryptor, Encryptor, Error, Format, Key256, KeyId, Keyring, Purpose,
};

const SEG: usize = 1024;

fn aead(id: &str, byte: u8) -> Arc<dyn kms_envelope::Backend> {
    Arc::new(AeadBackend::new(Key256::new([byte; 32]), id))
}

fn keyring() -> Keyring {
    let mut k = Keyring::new();
    k.push(Purpose::Root, aead("root-2", 2));
    k.push(Purpose::PreviousRoot, aead("root-1", 1));
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

fn sizes() -> Vec<usize> {
    let batch = BATCH_SEGMENTS * SEG;
    vec![
        0,
        1,
        SEG - 1,
        SEG,
        SEG + 1,
        batch - 1,
        batch,
        batch + 1,
        2 * batch + 7,
    ]
}

fn encrypt(k: &Keyring, plain: &[u8], chunk: usize) -> Vec<u8> {
    rt().block_on(async {
        let mut w = Encryptor::new(k, Purpose::Root)
            .segment_size(SEG as u32)
            .wrap_output(Vec::new())
            .await
            .unwrap();
        for c in plain.chunks(chunk.max(1)) {
            w.write_all(c).unwrap();
        }
        w.finish().unwrap()
    })
}

async fn decrypt_in(k: &Keyring, file: &[u8]) -> Result<Vec<u8>, Error> {
    let mut r = Decryptor::new(k).open(file).await?;
    let mut out = Vec::new();
    r.read_to_end(&mut out)
        .map_err(|e| kms_envelope::stream::error_from_io(e, "reading"))?;
    Ok(out)
}

fn decrypt(k: &Keyring, file: &[u8]) -> Result<Vec<u8>, Error> {
    rt().block_on(decrypt_in(k, file))
}

#[test]
fn keyring_selects_as_the_facade_did() {
    let k = keyring();
    assert_eq!(k.encrypt_wrappers(Purpose::Root).unwrap().len(), 1);
    let ids = |ws: Vec<&dyn kms_envelope::Backend>| -> Vec<String> {
        ws.iter().map(|w| w.key_id().to_string()).collect()
    };
    assert_eq!(ids(k.decrypt_wrappers(Purpose::Root)), ["root-2", "root-1"]);
    assert_eq!(
        ids(k.decrypt_wrappers_all(Purpose::Root)),
        ["root-2", "root-1", "recovery"]
    );
    assert_eq!(
        ids(k
            .encrypt_wrappers_with(Purpose::Root, &[Purpose::Recovery, Purpose::Root])
            .unwrap()),
        ["root-2", "recovery"]
    );
    let e = k.encrypt_wrappers(Purpose::PreviousRoot).unwrap_err();
    assert!(matches!(e.root(), Error::Config(_)));
    assert_eq!(
        e.to_string(),
        "configuration error: previous-root keys only decrypt; encrypt with purpose root"
    );
    let e = k.encrypt_wrappers(Purpose::Config).unwrap_err();
    assert_eq!(
        e.to_string(),
        "configuration error: the config has no kms stanza with purpose \"config\"; add one, or choose a purpose it has"
    );
}

#[test]
fn values_round_trip_on_a_keyring() {
    let k = keyring();
    rt().block_on(async {
        let blob = value::encrypt(&k, Purpose::Root, b"secret", b"aad")
            .await
            .unwrap();
        let plain = value::decrypt(&k, Purpose::Root, &blob, b"aad")
            .await
            .unwrap();
        assert_eq!(plain.expose_secret(), b"secret");
        assert!(value::decrypt(&k, Purpose::Root, &blob, b"other")
            .await
            .unwrap_err()
            .is_decrypt_failed());
    });
}

#[test]
fn streams_round_trip_through_write_and_read() {
    let k = keyring();
    for len in sizes() {
        let plain = data(len);
        for chunk in [1000, 4096, 1 << 20] {
            let file = encrypt(&k, &plain, chunk);
            assert_eq!(
                decrypt(&k, &file).unwrap(),
                plain,
                "len {len} chunk {chunk}"
            );
        }
    }
}

#[test]
fn the_bulk_paths_match_the_byte_paths() {
    let k = keyring();
    let plain = data(3 * BATCH_SEGMENTS * SEG + 5);
    let file = rt().block_on(async {
        let mut w = Encryptor::new(&k, Purpose::Root)
            .segment_size(SEG as u32)
            .wrap_output(Vec::new())
            .await
            .unwrap();
        assert_eq!(
            w.copy_from(&mut plain.as_slice()).unwrap(),
            plain.len() as u64
        );
        w.finish().unwrap()
    });
    assert_eq!(decrypt(&k, &file).unwrap(), plain);
    // Read a little, then copy the rest.
    rt().block_on(async {
        let mut r = Decryptor::new(&k).open(file.as_slice()).await.unwrap();
        let mut first = [0u8; 100];
        r.read_exact(&mut first).unwrap();
        let mut rest = Vec::new();
        r.copy_to(&mut rest).unwrap();
        assert_eq!([&first[..], &rest].concat(), plain);
    });
    // The old low-level body functions read and write the same format.
    let mut input = file.as_slice();
    let (h, _) = Header::read_from(&mut input).unwrap();
    let wrappers = k.decrypt_wrappers_all(h.purpose);
    let key = rt().block_on(open_header(&h, &wrappers, b"")).unwrap();
    let mut out = Vec::new();
    key.decrypt_body(&mut input, &mut out, &mut |_| {}).unwrap();
    assert_eq!(out, plain);
}

#[test]
fn a_writer_dropped_without_finish_never_decrypts() {
    let k = keyring();
    for len in [
        0,
        10,
        BATCH_SEGMENTS * SEG + 1,
        3 * BATCH_SEGMENTS * SEG + 1,
    ] {
        let mut file = Vec::new();
        rt().block_on(async {
            let mut w = Encryptor::new(&k, Purpose::Root)
                .segment_size(SEG as u32)
                .wrap_output(&mut file)
                .await
                .unwrap();
            w.write_all(&data(len)).unwrap();
            drop(w);
        });
        let e = decrypt(&k, &file).unwrap_err();
        assert!(e.is_decrypt_failed(), "len {len}: {e}");
    }
}

#[test]
fn truncation_and_appending_are_errors_not_eof() {
    let k = keyring();
    let plain = data(2 * BATCH_SEGMENTS * SEG + 10);
    let file = encrypt(&k, &plain, 1 << 20);
    let header_len = Header::parse(&file).unwrap().1;
    let full = SEG + 16;
    let mut cuts: Vec<usize> = (1..=2 * BATCH_SEGMENTS + 1)
        .map(|i| header_len + i * full)
        .filter(|&c| c < file.len())
        .collect();
    cuts.extend([header_len, header_len + 1, file.len() - 1]);
    for cut in cuts {
        let e = decrypt(&k, &file[..cut]).unwrap_err();
        assert!(e.is_decrypt_failed(), "cut at {cut}: {e}");
    }
    let mut longer = file.clone();
    longer.push(0);
    assert!(decrypt(&k, &longer).unwrap_err().is_decrypt_failed());
    // After an error, reads keep failing.
    rt().block_on(async {
        let mut r = Decryptor::new(&k)
            .open(&file[..file.len() - 1])
            .await
            .unwrap();
        let mut out = Vec::new();
        assert!(r.read_to_end(&mut out).is_err());
        assert!(r.read(&mut [0u8; 10]).is_err());
    });
}

#[test]
fn aad_is_bound() {
    let k = keyring();
    rt().block_on(async {
        let mut w = Encryptor::new(&k, Purpose::Root)
            .aad(b"ctx")
            .wrap_output(Vec::new())
            .await
            .unwrap();
        w.write_all(b"x").unwrap();
        let file = w.finish().unwrap();
        let e = Decryptor::new(&k).open(file.as_slice()).await.unwrap_err();
        assert!(matches!(e.root(), Error::InvalidInput(_)));
        let e = Decryptor::new(&k)
            .aad(b"other")
            .open(file.as_slice())
            .await
            .unwrap_err();
        assert!(e.is_decrypt_failed());
        let mut r = Decryptor::new(&k)
            .aad(b"ctx")
            .open(file.as_slice())
            .await
            .unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"x");
    });
}

#[cfg(feature = "tokio")]
#[test]
fn async_streams_round_trip_and_refuse_truncation() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let k = keyring();
    rt().block_on(async {
        for len in sizes() {
            let plain = data(len);
            let mut w = Encryptor::new(&k, Purpose::Root)
                .segment_size(SEG as u32)
                .wrap_async_output(Vec::new())
                .await
                .unwrap();
            for c in plain.chunks(3000) {
                w.write_all(c).await.unwrap();
            }
            w.shutdown().await.unwrap();
            let file = w.finish().await.unwrap();
            // Async and blocking read the same format.
            assert_eq!(decrypt_in(&k, &file).await.unwrap(), plain, "len {len}");
            let mut r = Decryptor::new(&k)
                .open_async(file.as_slice())
                .await
                .unwrap();
            let mut out = Vec::new();
            r.read_to_end(&mut out).await.unwrap();
            assert_eq!(out, plain, "len {len}");
            let mut r = Decryptor::new(&k)
                .open_async(&file[..file.len() - 1])
                .await
                .unwrap();
            assert!(r.read_to_end(&mut Vec::new()).await.is_err());
        }
        // Dropped without shutdown or finish: never decrypts.
        let mut w = Encryptor::new(&k, Purpose::Root)
            .wrap_async_output(Vec::new())
            .await
            .unwrap();
        w.write_all(b"abc").await.unwrap();
        drop(w);
    });
}

#[test]
fn ciphertexts_are_recognised_once() {
    let k = keyring();
    let file = encrypt(&k, b"hello", 10);
    assert_eq!(Ciphertext::detect(&file), Format::Stream);
    assert_eq!(Ciphertext::detect(&file[..3]), Format::Stream);
    let blob = rt()
        .block_on(value::encrypt(&k, Purpose::Root, b"v", b""))
        .unwrap();
    assert_eq!(Ciphertext::detect(&blob.to_bytes()), Format::Value);
    assert_eq!(
        Ciphertext::detect(blob.to_text().as_bytes()),
        Format::ValueText
    );
    assert_eq!(Ciphertext::detect(b"hello"), Format::Unknown);
    assert_eq!(Ciphertext::detect(b""), Format::Unknown);

    let mut r = std::io::BufReader::new(file.as_slice());
    let Ciphertext::Stream(h) = Ciphertext::read(&mut r).unwrap() else {
        panic!("not a stream")
    };
    let info = h.info(file.len() as u64 - h.header_bytes() as u64);
    assert_eq!(info.segments, Some(1));
    assert_eq!(info.wrapped_keys[0].key_id, "root-2");
    let text = blob.to_text();
    let Ciphertext::Value(v) = Ciphertext::read(&mut text.as_bytes()).unwrap() else {
        panic!("not a value")
    };
    assert!(v.text);
    assert_eq!(v.blob, blob);
    assert!(matches!(
        Ciphertext::read(&mut &b"junk"[..]).unwrap_err().root(),
        Error::Malformed(_)
    ));
    assert!(matches!(
        Ciphertext::read(&mut &b""[..]).unwrap_err().root(),
        Error::Truncated(_)
    ));
}

#[test]
fn rewrap_moves_streams_and_values_and_checks_the_body() {
    let old = {
        let mut k = Keyring::new();
        k.push(Purpose::Root, aead("root-1", 1));
        k
    };
    let new = keyring();
    let plain = data(3 * SEG + 5);
    let file = encrypt(&old, &plain, 1 << 20);
    let rewrapper = Rewrapper::new(&new, Purpose::Root, &[]).unwrap();
    rt().block_on(async {
        let mut out = Vec::new();
        let outcome = rewrapper
            .stream_to(&mut file.as_slice(), &mut out)
            .await
            .unwrap();
        assert_eq!(
            outcome,
            Outcome::Rewrapped {
                old: vec![KeyId::new("root-1")],
                new: vec![KeyId::new("root-2")]
            }
        );
        assert_eq!(decrypt_in(&new, &out).await.unwrap(), plain);
        let again = rewrapper
            .stream_to(&mut out.as_slice(), &mut Vec::new())
            .await
            .unwrap();
        assert_eq!(again, Outcome::Current(vec![KeyId::new("root-2")]));
        // A truncated or extended body is not rewrapped.
        for bad in [
            &file[..file.len() - 3],
            &[&file[..], &[0u8; 5]].concat()[..],
        ] {
            let e = rewrapper
                .stream_to(&mut &bad[..], &mut Vec::new())
                .await
                .unwrap_err();
            assert!(
                matches!(e.root(), Error::Malformed(_) | Error::DecryptFailed),
                "{e}"
            );
        }
        // Values: direct (aead's default) and envelope.
        let direct = value::encrypt(&old, Purpose::Root, b"v", b"")
            .await
            .unwrap();
        let envelope = kms_envelope::value::encrypt_value_owned(
            old.for_purpose(Purpose::Root)[0],
            b"w".to_vec(),
            b"",
        )
        .await
        .unwrap();
        for (blob, plain) in [(direct, &b"v"[..]), (envelope, &b"w"[..])] {
            let r = rewrapper.value(&blob).await.unwrap();
            assert!(matches!(r.outcome, Outcome::Rewrapped { .. }));
            assert_eq!(r.blob.key_id(), "root-2");
            let got = value::decrypt(&new, Purpose::Root, &r.blob, b"")
                .await
                .unwrap();
            assert_eq!(got.expose_secret(), plain);
            let r2 = rewrapper.value(&r.blob).await.unwrap();
            assert_eq!(r2.outcome, Outcome::Current(vec![KeyId::new("root-2")]));
        }
    });
}

#[test]
fn rewrap_names_the_real_purpose() {
    let mut k = Keyring::new();
    k.push(Purpose::Recovery, aead("recovery", 3));
    let other = keyring();
    let file = rt().block_on(async {
        let mut w = Encryptor::new(&other, Purpose::Root)
            .wrap_output(Vec::new())
            .await
            .unwrap();
        w.write_all(b"x").unwrap();
        w.finish().unwrap()
    });
    let blob = rt()
        .block_on(kms_envelope::value::encrypt_value_owned(
            other.for_purpose(Purpose::Root)[0],
            b"w".to_vec(),
            b"",
        ))
        .unwrap();
    let rewrapper = Rewrapper::new(&k, Purpose::Recovery, &[]).unwrap();
    rt().block_on(async {
        let e = rewrapper.value(&blob).await.unwrap_err();
        assert!(
            matches!(
                e.root(),
                Error::NoMatchingWrapper {
                    purpose: Purpose::Recovery,
                    ..
                }
            ),
            "{e}"
        );
        let e = rewrapper
            .stream_to(&mut file.as_slice(), &mut Vec::new())
            .await
            .unwrap_err();
        assert!(matches!(e.root(), Error::NoMatchingWrapper { .. }), "{e}");
    });
}

/// A target that re-wraps server-side, as AWS KMS does, but answers each call with `error`;
/// it counts its wrap calls.
#[derive(Debug)]
struct Refusing {
    id: KeyId,
    error: fn() -> Error,
    wraps: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl kms_envelope::Backend for Refusing {
    fn kind(&self) -> kms_core::BackendKind {
        kms_core::BackendKind::new("refusing")
    }
    fn key_id(&self) -> &KeyId {
        &self.id
    }
    fn secret_limits(&self) -> kms_core::SecretLimits {
        kms_core::SecretLimits::UNBOUNDED
    }
    async fn wrap(
        &self,
        _secret: &[u8],
        _context: &kms_core::WrapContext,
    ) -> kms_core::Result<kms_core::Wrapped> {
        self.wraps.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(kms_core::Wrapped {
            bytes: vec![1; 40],
            key_id: self.id.clone(),
        })
    }
    async fn unwrap(
        &self,
        _wrapped: &[u8],
        _recorded: &KeyId,
        _context: &kms_core::WrapContext,
    ) -> kms_core::Result<kms_envelope::SecretBytes> {
        Err(Error::DecryptFailed)
    }
    async fn rewrap(
        &self,
        _wrapped: &[u8],
        _recorded: &KeyId,
        _context: &kms_core::WrapContext,
    ) -> kms_core::Result<Option<kms_core::Wrapped>> {
        Err((self.error)())
    }
}

/// A throttled or unreachable server-side re-wrap is returned, not retried as unwrap + wrap
/// (twice the calls to a service that asked for fewer); a refusal for good falls back.
#[test]
fn a_throttled_rewrap_is_returned_and_a_refused_one_falls_back() {
    let old = keyring();
    let blob = rt()
        .block_on(kms_envelope::value::encrypt_value_owned(
            old.for_purpose(Purpose::Root)[0],
            b"w".to_vec(),
            b"",
        ))
        .unwrap();
    let cases: [(fn() -> Error, bool); 3] = [
        (|| Error::Throttled("rate exceeded".into()), false),
        (|| Error::Unavailable("timed out".into()), false),
        (|| Error::PermissionDenied("kms:ReEncrypt".into()), true),
    ];
    for (error, falls_back) in cases {
        let target = Arc::new(Refusing {
            id: KeyId::new("target"),
            error,
            wraps: Default::default(),
        });
        let mut k = Keyring::new();
        k.push(Purpose::Root, target.clone());
        k.push(Purpose::PreviousRoot, aead("root-2", 2));
        let rewrapper = Rewrapper::new(&k, Purpose::Root, &[]).unwrap();
        let r = rt().block_on(rewrapper.value(&blob));
        let wraps = target.wraps.load(std::sync::atomic::Ordering::SeqCst);
        if falls_back {
            assert!(r.is_ok(), "{:?}", r.err());
            assert_eq!(wraps, 1);
        } else {
            let e = r.unwrap_err();
            assert!(e.is_retryable(), "{e}");
            assert_eq!(wraps, 0, "{e}: no unwrap + wrap fallback");
        }
    }
}

/// A reader that yields `left` bytes, then fails.
struct FailingReader {
    left: usize,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("disk gone"));
        }
        let n = buf.len().min(self.left);
        buf[..n].fill(7);
        self.left -= n;
        Ok(n)
    }
}

#[test]
fn a_writer_whose_copy_failed_refuses_more_and_never_finishes() {
    let k = keyring();
    rt().block_on(async {
        let mut w = Encryptor::new(&k, Purpose::Root)
            .segment_size(SEG as u32)
            .wrap_output(Vec::new())
            .await
            .unwrap();
        // Past one batch, so the overlapped pipeline runs and then fails.
        let mut input = FailingReader {
            left: 3 * BATCH_SEGMENTS * SEG,
        };
        assert!(w.copy_from(&mut input).is_err());
        assert!(w.write(b"more").is_err());
        assert!(w.copy_from(&mut &b"more"[..]).is_err());
        assert!(w.finish().is_err());
    });
}
