//! The streaming file format (`docs/FORMAT.md`, "kms stream v1").
//!
//! A header names the wrapped data key(s), the purpose, whether AAD is bound, the segment
//! size, a salt and a nonce prefix, and a key commitment; an HMAC derived from the data key
//! covers every header field except the wrapped-key entries, which are bound to the file
//! through their wrap context (purpose + file id) instead. The body is a sequence of
//! AES-256-GCM segments under a per-file key (HKDF from the data key and the salt), with the
//! STREAM nonce `prefix(7) ‖ counter(u32 BE) ‖ last(u8)`.
//!
//! Segments are independent, so the body is processed in batches on all cores (rayon), with
//! memory bounded by the batch size whatever the input size or core count.

use std::io::{self, BufRead, Read, Write};

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use kms_core::cipher::{Aes256Gcm, NONCE_LEN, TAG_LEN};
use kms_core::{Backend, BackendKind, Error, Key256, KeyId, Purpose, Result, WrapContext};
use rayon::prelude::*;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::select::{self, Recorded};

/// The first 8 bytes of every stream file.
pub const MAGIC: [u8; 8] = *b"\x89KMS\r\n\x1a\n";
/// The format version this code writes and reads.
pub const VERSION: u8 = 1;
/// Suite 1: AES-256-GCM segments, HKDF-SHA256 key derivation, HMAC-SHA256 header MAC.
pub const SUITE_AES256GCM_HKDF_SHA256: u8 = 1;
/// Plaintext bytes per full segment written by default: 64 KiB.
pub const DEFAULT_SEGMENT_SIZE: u32 = 64 * 1024;
/// The smallest and largest segment sizes a reader accepts.
pub const SEGMENT_SIZE_RANGE: std::ops::RangeInclusive<u32> = 1024..=(16 << 20);
/// Segments processed per batch. Memory is about twice `BATCH_SEGMENTS × segment size`.
pub const BATCH_SEGMENTS: usize = 64;

const SALT_LEN: usize = 32;
const PREFIX_LEN: usize = 7;
const MAX_ENTRIES: usize = 16;
const MAX_PURPOSE_LEN: usize = 64;
const MAX_KIND_LEN: usize = 32;
const MAX_KEY_ID_LEN: usize = 2048;
const MAX_WRAPPED_LEN: usize = 8192;
const FLAG_AAD: u8 = 1;
const HKDF_INFO: &[u8] = b"kms-stream-v1 suite 1";
const MAC_LABEL: &[u8] = b"kms-stream-v1 header";

/// The wrap-context key that names the purpose recorded in the header.
pub const CONTEXT_PURPOSE: &str = "kms_purpose";
/// The wrap-context key that names the file (the hex salt).
pub const CONTEXT_FILE_ID: &str = "kms_file_id";

/// One wrapped copy of the data key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedKeyEntry {
    /// The backend kind, e.g. `awskms`.
    pub kind: BackendKind,
    /// The key id the backend reported.
    pub key_id: KeyId,
    /// The wrapped data key.
    pub wrapped: Vec<u8>,
}

/// A parsed stream header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Plaintext bytes per full segment.
    pub segment_size: u32,
    /// The file's random salt; it also identifies the file.
    pub salt: [u8; SALT_LEN],
    /// The random nonce prefix.
    pub nonce_prefix: [u8; PREFIX_LEN],
    /// The purpose the data was encrypted for.
    pub purpose: Purpose,
    /// Whether caller AAD was bound (it must then be given to decrypt).
    pub aad_bound: bool,
    /// The wrapped copies of the data key; at least one.
    pub entries: Vec<WrappedKeyEntry>,
    /// The key commitment.
    pub commitment: [u8; 32],
    /// HMAC-SHA256 over the header except the entries.
    pub mac: [u8; 32],
}

/// Keys derived for one file. Zeroized on drop.
struct FileKeys {
    payload: Aes256Gcm,
    mac_key: Zeroizing<[u8; 32]>,
    commitment: [u8; 32],
}

impl FileKeys {
    fn derive(data_key: &[u8], salt: &[u8; SALT_LEN]) -> Result<FileKeys> {
        if data_key.len() != Key256::LEN {
            return Err(Error::DecryptFailed);
        }
        let mut okm = Zeroizing::new([0u8; 96]);
        Hkdf::<Sha256>::new(Some(salt), data_key)
            .expand(HKDF_INFO, okm.as_mut())
            .map_err(|_| Error::Internal("HKDF expand".into()))?;
        let payload =
            Key256::from_slice(&okm[..32]).map_err(|_| Error::Internal("HKDF length".into()))?;
        let mut mac_key = Zeroizing::new([0u8; 32]);
        mac_key.copy_from_slice(&okm[32..64]);
        let mut commitment = [0u8; 32];
        commitment.copy_from_slice(&okm[64..]);
        Ok(FileKeys {
            payload: Aes256Gcm::new(&payload),
            mac_key,
            commitment,
        })
    }
}

/// The keys needed to process a file's body, after its header was sealed or opened.
pub struct StreamKey {
    keys: FileKeys,
    nonce_prefix: [u8; PREFIX_LEN],
    segment_size: usize,
}

impl std::fmt::Debug for StreamKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamKey")
            .field("segment_size", &self.segment_size)
            .finish_non_exhaustive()
    }
}

fn malformed(what: &str) -> Error {
    Error::Malformed(format!("stream header: {what}"))
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| Error::Truncated(format!("stream header: truncated in {what}")))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }
}

impl Header {
    /// Whether `bytes` start with the stream magic.
    pub fn has_magic(bytes: &[u8]) -> bool {
        bytes.starts_with(&MAGIC)
    }

    /// Encodes the header.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.mac_prefix();
        out.push(self.entries.len() as u8);
        for e in &self.entries {
            out.push(e.kind.as_str().len() as u8);
            out.extend_from_slice(e.kind.as_str().as_bytes());
            out.extend_from_slice(&(e.key_id.as_str().len() as u16).to_be_bytes());
            out.extend_from_slice(e.key_id.as_str().as_bytes());
            out.extend_from_slice(&(e.wrapped.len() as u16).to_be_bytes());
            out.extend_from_slice(&e.wrapped);
        }
        out.extend_from_slice(&self.commitment);
        out.extend_from_slice(&self.mac);
        out
    }

    /// The fixed part of the header: everything before the entries.
    fn mac_prefix(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.push(SUITE_AES256GCM_HKDF_SHA256);
        out.extend_from_slice(&self.segment_size.to_be_bytes());
        out.extend_from_slice(&self.salt);
        out.extend_from_slice(&self.nonce_prefix);
        out.push(if self.aad_bound { FLAG_AAD } else { 0 });
        let p = self.purpose.as_str().as_bytes();
        out.push(p.len() as u8);
        out.extend_from_slice(p);
        out
    }

    fn compute_mac(&self, mac_key: &[u8; 32], aad: &[u8]) -> Result<[u8; 32]> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(mac_key)
            .map_err(|_| Error::Internal("HMAC key".into()))?;
        mac.update(MAC_LABEL);
        mac.update(&self.mac_prefix());
        mac.update(&self.commitment);
        mac.update(&(aad.len() as u64).to_be_bytes());
        mac.update(aad);
        Ok(mac.finalize().into_bytes().into())
    }

    /// The wrap context that binds each entry to this file and its recorded purpose.
    pub fn wrap_context(&self) -> WrapContext {
        WrapContext::pairs([
            (CONTEXT_PURPOSE, self.purpose.as_str().to_owned()),
            (CONTEXT_FILE_ID, hex::encode(self.salt)),
        ])
    }

    /// Parses a complete header from the start of `bytes`; returns it and its length.
    ///
    /// # Errors
    /// [`Error::Malformed`] naming the field, for a bad magic, an unknown version or suite,
    /// an out-of-range length, or truncation.
    pub fn parse(bytes: &[u8]) -> Result<(Header, usize)> {
        let mut c = Cursor { bytes, pos: 0 };
        if c.take(MAGIC.len(), "magic")? != MAGIC {
            return Err(malformed("bad magic: not a kms stream file"));
        }
        let version = c.u8("version")?;
        if version != VERSION {
            return Err(Error::Malformed(format!(
                "kms stream version {version} is not supported by this build (it reads version {VERSION})"
            )));
        }
        let suite = c.u8("suite")?;
        if suite != SUITE_AES256GCM_HKDF_SHA256 {
            return Err(malformed(&format!("unknown suite {suite}")));
        }
        let segment_size = u32::from_be_bytes(c.array("segment size")?);
        if !SEGMENT_SIZE_RANGE.contains(&segment_size) {
            return Err(malformed(&format!(
                "segment size {segment_size} out of range"
            )));
        }
        let salt = c.array("salt")?;
        let nonce_prefix = c.array("nonce prefix")?;
        let flags = c.u8("flags")?;
        if flags & !FLAG_AAD != 0 {
            return Err(malformed(&format!("unknown flags {flags:#04x}")));
        }
        let plen = c.u8("purpose length")? as usize;
        if plen == 0 || plen > MAX_PURPOSE_LEN {
            return Err(malformed("purpose length out of range"));
        }
        let ptext = std::str::from_utf8(c.take(plen, "purpose")?)
            .map_err(|_| malformed("purpose is not UTF-8"))?;
        let purpose: Purpose = ptext
            .parse()
            .map_err(|_| malformed(&format!("unknown purpose {ptext:?}")))?;
        if purpose.as_str() != ptext {
            return Err(malformed(&format!(
                "purpose {ptext:?} is not in canonical form"
            )));
        }
        let n = c.u8("entry count")? as usize;
        if n == 0 || n > MAX_ENTRIES {
            return Err(malformed(&format!(
                "{n} wrapped-key entries (1 to {MAX_ENTRIES} allowed)"
            )));
        }
        let mut entries = Vec::with_capacity(n);
        for i in 0..n {
            let what = format!("wrapped-key entry {i}");
            let klen = c.u8(&what)? as usize;
            if klen == 0 || klen > MAX_KIND_LEN {
                return Err(malformed(&format!("{what}: kind length out of range")));
            }
            let kind = std::str::from_utf8(c.take(klen, &what)?)
                .map_err(|_| malformed(&format!("{what}: kind is not UTF-8")))?;
            let idlen = c.u16(&what)? as usize;
            if idlen > MAX_KEY_ID_LEN {
                return Err(malformed(&format!("{what}: key id too long")));
            }
            let key_id = std::str::from_utf8(c.take(idlen, &what)?)
                .map_err(|_| malformed(&format!("{what}: key id is not UTF-8")))?;
            let wlen = c.u16(&what)? as usize;
            if wlen == 0 || wlen > MAX_WRAPPED_LEN {
                return Err(malformed(&format!(
                    "{what}: wrapped key length out of range"
                )));
            }
            let wrapped = c.take(wlen, &what)?.to_vec();
            entries.push(WrappedKeyEntry {
                kind: BackendKind::new(kind),
                key_id: KeyId::new(key_id),
                wrapped,
            });
        }
        let commitment = c.array("key commitment")?;
        let mac = c.array("header MAC")?;
        let header = Header {
            segment_size,
            salt,
            nonce_prefix,
            purpose,
            aad_bound: flags & FLAG_AAD != 0,
            entries,
            commitment,
            mac,
        };
        Ok((header, c.pos))
    }

    /// Reads exactly one header from `reader`, consuming nothing after it; returns the
    /// header and its encoded bytes.
    ///
    /// # Errors
    /// As [`Header::parse`]; an input that ends inside the header is [`Error::Malformed`].
    pub fn read_from(reader: &mut impl BufRead) -> Result<(Header, Vec<u8>)> {
        let mut buf = Vec::with_capacity(512);
        loop {
            let avail = match reader.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err(e)),
            };
            let had = buf.len();
            buf.extend_from_slice(avail);
            let n_avail = avail.len();
            match Header::parse(&buf) {
                Ok((h, len)) => {
                    reader.consume(len - had);
                    buf.truncate(len);
                    return Ok((h, buf));
                }
                Err(Error::Truncated(m)) => {
                    reader.consume(n_avail);
                    if n_avail == 0 {
                        return Err(Error::Truncated(if buf.is_empty() {
                            "empty input".into()
                        } else {
                            format!("{m} (input ended after {} bytes)", buf.len())
                        }));
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The number of segments in a body of `body_len` bytes, or `None` if no valid body has
    /// that length.
    pub fn segments_for_body(&self, body_len: u64) -> Option<u64> {
        let full = u64::from(self.segment_size) + TAG_LEN as u64;
        if body_len < TAG_LEN as u64 {
            return None;
        }
        let n = body_len.div_ceil(full);
        let last = body_len - (n - 1) * full;
        (last >= TAG_LEN as u64).then_some(n)
    }

    /// Bytes a full segment takes on disk.
    pub fn segment_bytes(&self) -> u64 {
        u64::from(self.segment_size) + TAG_LEN as u64
    }

    /// The recorded keys, for wrapper selection.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.entries
            .iter()
            .map(|e| Recorded {
                kind: Some(e.kind.clone()),
                key_id: e.key_id.clone(),
            })
            .collect()
    }
}

fn io_err(e: io::Error) -> Error {
    Error::io("reading the stream header", e)
}

/// Reads until `buf` grew by `n` bytes or the input ended; returns how many were added.
fn read_up_to(reader: &mut impl Read, buf: &mut Vec<u8>, n: usize) -> io::Result<usize> {
    let start = buf.len();
    buf.resize(start + n, 0);
    let mut filled = 0;
    while filled < n {
        match reader.read(&mut buf[start + filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(start + filled);
                return Err(e);
            }
        }
    }
    buf.truncate(start + filled);
    Ok(filled)
}

/// Creates a header for new data: a fresh data key wrapped by each of `wrappers` (the first
/// is the primary), bound to `purpose` and the file id; `aad` is bound through the MAC.
///
/// # Errors
/// Backend errors from wrapping; [`Error::InvalidInput`] for no wrappers or a bad segment size.
pub async fn seal_header(
    wrappers: &[&dyn Backend],
    purpose: Purpose,
    aad: &[u8],
    segment_size: u32,
) -> Result<(Header, StreamKey)> {
    if wrappers.is_empty() || wrappers.len() > MAX_ENTRIES {
        return Err(Error::InvalidInput(format!(
            "a stream needs 1 to {MAX_ENTRIES} wrappers, got {}",
            wrappers.len()
        )));
    }
    if !SEGMENT_SIZE_RANGE.contains(&segment_size) {
        return Err(Error::InvalidInput(format!(
            "segment size {segment_size} out of range"
        )));
    }
    let data_key = Key256::generate()?;
    let salt: [u8; SALT_LEN] = kms_core::random_array()?;
    let nonce_prefix: [u8; PREFIX_LEN] = kms_core::random_array()?;
    let keys = FileKeys::derive(data_key.expose_secret(), &salt)?;
    let mut header = Header {
        segment_size,
        salt,
        nonce_prefix,
        purpose,
        aad_bound: !aad.is_empty(),
        entries: Vec::new(),
        commitment: keys.commitment,
        mac: [0; 32],
    };
    let ctx = header.wrap_context();
    for w in wrappers {
        let wrapped = w.wrap(data_key.expose_secret(), &ctx).await?;
        header.entries.push(entry_for(w.kind(), wrapped)?);
    }
    header.mac = header.compute_mac(&keys.mac_key, aad)?;
    Ok((
        header,
        StreamKey {
            keys,
            nonce_prefix,
            segment_size: segment_size as usize,
        },
    ))
}

/// Builds a header entry from a backend's wrap result, checking the format's limits.
///
/// # Errors
/// [`Error::InvalidInput`] when the kind, key id or wrapped bytes do not fit.
pub fn entry_for(kind: BackendKind, wrapped: kms_core::Wrapped) -> Result<WrappedKeyEntry> {
    let key_id = wrapped.key_id;
    if kind.as_str().is_empty()
        || kind.as_str().len() > MAX_KIND_LEN
        || key_id.as_str().len() > MAX_KEY_ID_LEN
        || wrapped.bytes.is_empty()
        || wrapped.bytes.len() > MAX_WRAPPED_LEN
    {
        return Err(Error::InvalidInput(format!(
            "backend {kind} returned a key id or wrapped key that does not fit the stream format"
        )));
    }
    Ok(WrappedKeyEntry {
        kind,
        key_id,
        wrapped: wrapped.bytes,
    })
}

/// Opens a header with the first of `wrappers` that unwraps one of its entries, then checks
/// the key commitment and the header MAC (over `aad`).
///
/// # Errors
/// [`Error::DecryptFailed`] when the commitment or MAC does not match (tampered header, wrong
/// AAD); [`Error::InvalidInput`] when AAD is given for a file without or missing for one with;
/// selection errors from [`select::try_candidates`].
pub async fn open_header(
    header: &Header,
    wrappers: &[&dyn Backend],
    aad: &[u8],
) -> Result<StreamKey> {
    if header.aad_bound && aad.is_empty() {
        return Err(Error::InvalidInput(
            "this file was encrypted with AAD; give the same --aad to decrypt it".into(),
        ));
    }
    if !header.aad_bound && !aad.is_empty() {
        return Err(Error::InvalidInput(
            "this file was encrypted without AAD; --aad must not be given".into(),
        ));
    }
    let keys = unwrap_file_keys(header, wrappers).await?;
    let mac = header.compute_mac(&keys.mac_key, aad)?;
    if !bool::from(mac.ct_eq(&header.mac)) {
        return Err(Error::DecryptFailed);
    }
    Ok(StreamKey {
        keys,
        nonce_prefix: header.nonce_prefix,
        segment_size: header.segment_size as usize,
    })
}

/// Unwraps the data key of `header` with the first of `wrappers` that can, checking it
/// against the key commitment. Rewrap uses this to move a file to another key without
/// touching its body; it does not check the header MAC (that needs the AAD).
///
/// # Errors
/// As [`open_header`].
pub async fn unwrap_data_key(
    header: &Header,
    wrappers: &[&dyn Backend],
) -> Result<kms_core::SecretBytes> {
    let ctx = header.wrap_context();
    let recorded = header.recorded();
    select::try_candidates(wrappers, &recorded, header.purpose, |w, i| {
        let ctx = &ctx;
        let recorded = &recorded;
        async move {
            let dk = w
                .unwrap(&header.entries[i].wrapped, &recorded[i].key_id, ctx)
                .await?;
            let keys = FileKeys::derive(dk.expose_secret(), &header.salt)?;
            // A key that unwraps but does not match the commitment is not this file's key.
            if !bool::from(keys.commitment.ct_eq(&header.commitment)) {
                return Err(Error::DecryptFailed);
            }
            Ok(dk)
        }
    })
    .await
}

async fn unwrap_file_keys(header: &Header, wrappers: &[&dyn Backend]) -> Result<FileKeys> {
    let dk = unwrap_data_key(header, wrappers).await?;
    FileKeys::derive(dk.expose_secret(), &header.salt)
}

impl StreamKey {
    fn nonce(&self, counter: u64, last: bool) -> Result<[u8; NONCE_LEN]> {
        let counter = u32::try_from(counter)
            .map_err(|_| Error::InvalidInput("stream exceeds 2^32 segments".into()))?;
        let mut n = [0u8; NONCE_LEN];
        n[..PREFIX_LEN].copy_from_slice(&self.nonce_prefix);
        n[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&counter.to_be_bytes());
        n[NONCE_LEN - 1] = u8::from(last);
        Ok(n)
    }

    /// Encrypts everything `input` yields into `output` as segments; returns plaintext bytes.
    /// `progress` is called with the running total after each batch.
    ///
    /// # Errors
    /// I/O errors (as [`Error::Internal`] naming the failing side).
    pub fn encrypt_body(
        &self,
        input: &mut impl Read,
        output: &mut impl Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        let seg = self.segment_size;
        let mut inbuf: Vec<u8> = Vec::with_capacity(BATCH_SEGMENTS * seg + 1);
        let mut outbuf: Vec<u8> = Vec::with_capacity(BATCH_SEGMENTS * (seg + TAG_LEN));
        let mut counter: u64 = 0;
        let mut total: u64 = 0;
        loop {
            // Fill a batch, plus one byte of lookahead to know whether it holds the last segment.
            let want = BATCH_SEGMENTS * seg + 1 - inbuf.len();
            read_up_to(input, &mut inbuf, want).map_err(|e| Error::io("reading input", e))?;
            let last_batch = inbuf.len() <= BATCH_SEGMENTS * seg;
            let data_len = if last_batch {
                inbuf.len()
            } else {
                BATCH_SEGMENTS * seg
            };
            let data = &inbuf[..data_len];
            let nseg = if last_batch {
                data_len.div_ceil(seg).max(1)
            } else {
                BATCH_SEGMENTS
            };
            // Lay out ciphertext segments: each is plaintext ‖ tag.
            outbuf.clear();
            let mut spans = Vec::with_capacity(nseg);
            for i in 0..nseg {
                let chunk = &data[(i * seg).min(data_len)..((i + 1) * seg).min(data_len)];
                let start = outbuf.len();
                outbuf.extend_from_slice(chunk);
                outbuf.extend_from_slice(&[0u8; TAG_LEN]);
                spans.push((start, chunk.len()));
            }
            let results: Vec<Result<()>> = split_spans(&mut outbuf, &spans)
                .into_par_iter()
                .enumerate()
                .map(|(i, buf)| {
                    let is_last = last_batch && i == nseg - 1;
                    let nonce = self.nonce(counter + i as u64, is_last)?;
                    let (pt, tag_out) = buf.split_at_mut(buf.len() - TAG_LEN);
                    let tag = self.keys.payload.seal_detached(&nonce, b"", pt)?;
                    tag_out.copy_from_slice(&tag);
                    Ok(())
                })
                .collect();
            results.into_iter().collect::<Result<Vec<()>>>()?;
            output
                .write_all(&outbuf)
                .map_err(|e| Error::io("writing output", e))?;
            counter += nseg as u64;
            total += data_len as u64;
            progress(total);
            if last_batch {
                return Ok(total);
            }
            // Keep the lookahead byte for the next batch.
            let carry = inbuf[data_len];
            inbuf.clear();
            inbuf.push(carry);
        }
    }

    /// Decrypts segments from `input` into `output`; returns plaintext bytes.
    ///
    /// Each batch of segments is written only after every segment in it authenticated. An
    /// error after some batches were written leaves those batches in `output`: callers that
    /// write files discard the temp file; callers that stream to stdout report the failure.
    ///
    /// # Errors
    /// [`Error::DecryptFailed`] naming nothing secret when a segment fails authentication,
    /// which covers tampering, reordering, truncation and appended data.
    pub fn decrypt_body(
        &self,
        input: &mut impl Read,
        output: &mut impl Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        let full = self.segment_size + TAG_LEN;
        let mut buf: Vec<u8> = Vec::with_capacity(BATCH_SEGMENTS * full + 1);
        let mut counter: u64 = 0;
        let mut total: u64 = 0;
        loop {
            let want = BATCH_SEGMENTS * full + 1 - buf.len();
            read_up_to(input, &mut buf, want).map_err(|e| Error::io("reading input", e))?;
            let last_batch = buf.len() <= BATCH_SEGMENTS * full;
            let data_len = if last_batch {
                buf.len()
            } else {
                BATCH_SEGMENTS * full
            };
            let nseg = if last_batch {
                data_len.div_ceil(full).max(1)
            } else {
                BATCH_SEGMENTS
            };
            let carry = (!last_batch).then(|| buf[data_len]);
            let spans: Vec<(usize, usize)> = (0..nseg)
                .map(|i| {
                    (
                        i * full,
                        ((i + 1) * full).min(data_len) - (i * full).min(data_len),
                    )
                })
                .collect();
            if spans.iter().any(|&(_, len)| len < TAG_LEN) {
                return Err(Error::DecryptFailed);
            }
            if last_batch && counter == 0 && nseg == 1 && spans[0].1 == TAG_LEN {
                // The only segment of an empty plaintext.
            } else if last_batch && spans[nseg - 1].1 == TAG_LEN {
                // An empty final segment is only valid for an empty plaintext.
                return Err(Error::DecryptFailed);
            }
            buf.truncate(data_len);
            let spans_pt: Vec<(usize, usize)> =
                spans.iter().map(|&(s, l)| (s, l - TAG_LEN)).collect();
            let results: Vec<Result<usize>> = split_spans(&mut buf, &spans_pt)
                .into_par_iter()
                .enumerate()
                .map(|(i, seg)| {
                    let is_last = last_batch && i == nseg - 1;
                    let nonce = self.nonce(counter + i as u64, is_last)?;
                    Ok(self.keys.payload.open_in_place(&nonce, b"", seg)?.len())
                })
                .collect();
            for r in results {
                r?;
            }
            for &(start, len) in &spans_pt {
                output
                    .write_all(&buf[start..start + len])
                    .map_err(|e| Error::io("writing output", e))?;
                total += len as u64;
            }
            counter += nseg as u64;
            progress(total);
            if last_batch {
                return Ok(total);
            }
            buf.clear();
            buf.extend(carry);
        }
    }
}

/// Splits `buf` into disjoint mutable slices `[start, start + len + TAG_LEN)` for each span
/// (spans are sorted and non-overlapping; each is a segment's plaintext plus its tag).
fn split_spans<'a>(buf: &'a mut [u8], spans: &[(usize, usize)]) -> Vec<&'a mut [u8]> {
    let mut out = Vec::with_capacity(spans.len());
    let mut rest = buf;
    let mut offset = 0;
    for &(start, len) in spans {
        let (_, tail) = rest.split_at_mut(start - offset);
        let (seg, tail) = tail.split_at_mut(len + TAG_LEN);
        out.push(seg);
        offset = start + len + TAG_LEN;
        rest = tail;
    }
    out
}
