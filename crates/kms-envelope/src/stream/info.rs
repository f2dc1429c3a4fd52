//! What a stream header says, without any key: for detection, inspection and rewrap.

use std::io::BufRead;

use kms_core::{BackendKind, KeyId, Purpose, Result};

use super::header::Header;
use super::VERSION;

/// A stream header read from the start of an input, before any key is used.
#[derive(Clone, Debug)]
pub struct StreamHeader {
    pub(crate) header: Header,
    pub(crate) len: usize,
}

impl StreamHeader {
    /// Reads exactly the header from `reader`, consuming nothing after it.
    ///
    /// # Errors
    /// [`kms_core::Error::Malformed`]/[`kms_core::Error::Truncated`] naming the field;
    /// [`kms_core::Error::Io`].
    pub fn read(reader: &mut impl BufRead) -> Result<StreamHeader> {
        let (header, bytes) = Header::read_from(reader)?;
        Ok(StreamHeader {
            header,
            len: bytes.len(),
        })
    }

    /// The purpose the data was encrypted for.
    pub fn purpose(&self) -> Purpose {
        self.header.purpose
    }

    /// Length of the header in bytes (the body starts right after it).
    pub fn header_bytes(&self) -> usize {
        self.len
    }

    /// The recorded key ids, in header order.
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.header
            .entries
            .iter()
            .map(|e| e.key_id.clone())
            .collect()
    }

    /// What the header says, with the body's length (`body_bytes`) checked against it.
    pub fn info(&self, body_bytes: u64) -> StreamInfo {
        let h = &self.header;
        StreamInfo {
            version: VERSION,
            purpose: h.purpose,
            aad_bound: h.aad_bound,
            header_bytes: self.len,
            segment_size: h.segment_size,
            segment_bytes: h.segment_bytes(),
            segments: h.segments_for_body(body_bytes),
            body_bytes,
            wrapped_keys: h
                .entries
                .iter()
                .map(|e| WrappedKeyInfo {
                    kind: e.kind.clone(),
                    key_id: e.key_id.clone(),
                    wrapped_bytes: e.wrapped.len(),
                })
                .collect(),
        }
    }
}

/// A summary of a stream file, for inspection (no key needed).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamInfo {
    /// The format version.
    pub version: u8,
    /// The purpose the data was encrypted for.
    pub purpose: Purpose,
    /// Whether caller AAD is bound.
    pub aad_bound: bool,
    /// Length of the header in bytes.
    pub header_bytes: usize,
    /// Plaintext bytes per full segment.
    pub segment_size: u32,
    /// Bytes a full segment takes on disk (with its tag).
    pub segment_bytes: u64,
    /// Segments in the body, or `None` when no valid body has its length.
    pub segments: Option<u64>,
    /// Length of the body in bytes.
    pub body_bytes: u64,
    /// The wrapped copies of the data key.
    pub wrapped_keys: Vec<WrappedKeyInfo>,
}

/// One wrapped copy of the data key, without its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WrappedKeyInfo {
    /// The backend kind.
    pub kind: BackendKind,
    /// The key id it was wrapped under.
    pub key_id: KeyId,
    /// Length of the wrapped key.
    pub wrapped_bytes: usize,
}
