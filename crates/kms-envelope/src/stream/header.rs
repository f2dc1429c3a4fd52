//! The stream header: its fields, parsing, encoding and MAC input (docs/FORMAT.md).

use std::io::{self, BufRead, Read};

use hmac::{Hmac, Mac};
use kms_core::cipher::TAG_LEN;
use kms_core::{BackendKind, Error, KeyId, Purpose, Result, WrapContext};
use sha2::Sha256;

use super::{
    CONTEXT_FILE_ID, CONTEXT_PURPOSE, FLAG_AAD, MAC_LABEL, MAGIC, MAX_ENTRIES, MAX_KEY_ID_LEN,
    MAX_KIND_LEN, MAX_PURPOSE_LEN, MAX_WRAPPED_LEN, PREFIX_LEN, SALT_LEN, SEGMENT_SIZE_RANGE,
    SUITE_AES256GCM_HKDF_SHA256, VERSION,
};
use crate::select::Recorded;

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

/// Bytes taken from a reader per header parse attempt.
const READ_CHUNK: usize = 16 << 10;

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

    pub(super) fn compute_mac(&self, mac_key: &[u8; 32], aad: &[u8]) -> Result<[u8; 32]> {
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
            // An in-memory reader offers its whole input at once; a header needs far less.
            let n_avail = avail.len().min(READ_CHUNK);
            buf.extend_from_slice(&avail[..n_avail]);
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

    /// Reads one header from an unbuffered `reader`; returns it, its length, and the bytes
    /// read past it (the start of the body).
    ///
    /// # Errors
    /// As [`Header::read_from`].
    pub(super) fn read_unbuffered(reader: &mut impl Read) -> Result<(Header, usize, Vec<u8>)> {
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = 512;
        loop {
            let had = buf.len();
            buf.resize(had + chunk, 0);
            let n = loop {
                match reader.read(&mut buf[had..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(io_err(e)),
                }
            };
            buf.truncate(had + n);
            match Header::parse(&buf) {
                Ok((h, len)) => {
                    let rest = buf.split_off(len);
                    return Ok((h, len, rest));
                }
                Err(Error::Truncated(m)) if n == 0 => {
                    return Err(Error::Truncated(if buf.is_empty() {
                        "empty input".into()
                    } else {
                        format!("{m} (input ended after {} bytes)", buf.len())
                    }));
                }
                Err(Error::Truncated(_)) => chunk = (chunk * 2).min(64 << 10),
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
