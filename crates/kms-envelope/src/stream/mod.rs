//! The streaming file format (`docs/FORMAT.md`, "kms stream v1").
//!
//! A header names the wrapped data key(s), the purpose, whether AAD is bound, the segment
//! size, a salt and a nonce prefix, and a key commitment; an HMAC derived from the data key
//! covers every header field except the wrapped-key entries, which are bound to the file
//! through their wrap context (purpose + file id) instead. The body is a sequence of
//! AES-256-GCM segments under a per-file key (HKDF from the data key and the salt), with the
//! STREAM nonce `prefix(7) ‖ counter(u32 BE) ‖ last(u8)`.
//!
//! Segments are independent, so the body is processed in batches, overlapping reading,
//! sealing or opening, and writing, with memory bounded by the batch size whatever the input
//! size.

mod body;
mod header;
mod info;
mod io;
mod keys;
mod pipeline;
mod range;
#[cfg(feature = "tokio")]
mod tokio_io;

pub use header::{Header, WrappedKeyEntry};
pub use info::{StreamHeader, StreamInfo, WrappedKeyInfo};
pub use io::{error_from_io, Decryptor, Encryptor, StreamReader, StreamWriter};
pub use keys::{entry_for, open_header, seal_header, unwrap_data_key, StreamKey};
pub use range::RangeReader;
#[cfg(feature = "tokio")]
pub use tokio_io::{AsyncStreamReader, AsyncStreamWriter};

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
/// At most this many segments are processed per batch.
pub const BATCH_SEGMENTS: usize = 64;
/// A batch holds at most this many bytes, or one segment when a segment is larger: memory is
/// bounded by bytes (at most 16 MiB plus a tag for the largest segments), not by the segment
/// count a header declares. 2 MiB rather than 4: the three buffers in flight then stay in
/// the L3 cache between the thread that seals a batch and the one that writes it (1 GiB
/// encrypt 0.93–0.94× cp against 1.00×, decrypt 0.87× against 0.94×, interleaved medians).
pub const BATCH_BYTES: usize = 2 << 20;
/// The bulk paths' first batch takes at most this many bytes, and each next one twice as many
/// as the one before, up to [`BATCH_BYTES`]: the stages start overlapping after one small read
/// instead of one whole batch.
const FIRST_BATCH_BYTES: usize = 256 << 10;

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
