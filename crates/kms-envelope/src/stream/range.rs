//! Random access: the plaintext of a byte range of a seekable stream, reading the header, the
//! final segment and only the segments that cover the range (docs/FORMAT.md, "Range reads").

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom, Write};

use kms_core::cipher::TAG_LEN;
use kms_core::{Error, Result};

use super::body::Batch;
use super::header::Header;
use super::io::Decryptor;
use super::keys::StreamKey;

impl Decryptor<'_> {
    /// Opens a stream in a seekable `input` for range reads ([`RangeReader::read_range`]):
    /// reads the header from the current position, unwraps the data key and checks the key
    /// commitment and the header MAC, as [`Decryptor::open`]. The body is read later, only
    /// where a range needs it.
    ///
    /// # Errors
    /// As [`Decryptor::open`]; [`Error::Io`] (`reading input`) when `input` cannot seek.
    pub async fn open_seekable<R: Read + Seek>(self, mut input: R) -> Result<RangeReader<R>> {
        let start = input.stream_position().map_err(read_err)?;
        let (header, header_len, _) = Header::read_unbuffered(&mut input)?;
        let end = input.seek(SeekFrom::End(0)).map_err(read_err)?;
        let body_start = start + header_len as u64;
        let key = self.open_key(&header).await?;
        Ok(RangeReader {
            input,
            key,
            body_start,
            // A file that shrank below its header since it was read has no valid body.
            body_len: end.checked_sub(body_start),
            header,
            end: None,
            batch: None,
        })
    }
}

fn read_err(e: io::Error) -> Error {
    Error::io("reading input", e)
}

/// The final segment, once authenticated: it proves the plaintext's length.
#[derive(Clone, Copy)]
struct End {
    segments: u64,
    plaintext_len: u64,
}

/// Range reads of a stream in a seekable input (see [`Decryptor::open_seekable`]).
///
/// Every read authenticates the final segment first (once), which proves the plaintext's
/// length: a file truncated or extended anywhere, a segment boundary included, fails instead
/// of giving a short range. Then it reads and authenticates each segment that covers the
/// range, and releases plaintext only from segments that authenticated. Segments outside the
/// range are not read, so not authenticated either.
pub struct RangeReader<R> {
    input: R,
    key: StreamKey,
    header: Header,
    body_start: u64,
    body_len: Option<u64>,
    end: Option<End>,
    batch: Option<Batch>,
}

impl<R> fmt::Debug for RangeReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RangeReader").finish_non_exhaustive()
    }
}

impl<R: Read + Seek> RangeReader<R> {
    /// The plaintext's length, after authenticating the final segment.
    ///
    /// # Errors
    /// [`Error::DecryptFailed`] when the body was truncated, extended or modified at its end;
    /// [`Error::Io`] reading the input.
    pub fn plaintext_len(&mut self) -> Result<u64> {
        Ok(self.end()?.plaintext_len)
    }

    /// Writes the plaintext bytes `offset .. offset + length` to `output`; returns `length`.
    /// A range must lie within the plaintext (`offset + length <= plaintext_len`); an empty
    /// range at any offset up to the end writes nothing.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a range that ends past the end of the plaintext;
    /// [`Error::DecryptFailed`] when a segment read fails authentication (the final one, or
    /// one in the range); [`Error::Io`] with context `reading input` or `writing output`.
    /// Segments are written in batches, each only after all its segments authenticated; what
    /// was written before an error stays written.
    pub fn read_range(&mut self, offset: u64, length: u64, output: &mut impl Write) -> Result<u64> {
        let end = self.end()?;
        let stop = offset
            .checked_add(length)
            .filter(|&stop| stop <= end.plaintext_len)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "the range of {length} bytes at offset {offset} ends past the end of the plaintext ({} bytes)",
                    end.plaintext_len
                ))
            })?;
        if length == 0 {
            return Ok(0);
        }
        let seg = self.header.segment_size as u64;
        let (first, last) = (offset / seg, (stop - 1) / seg);
        let mut i = first;
        while i <= last {
            let per_batch = self.batch().segments_per_batch() as u64;
            let count = per_batch.min(last - i + 1);
            self.open_run(i, count)?;
            let batch = self.batch();
            for j in 0..batch.segments() {
                let seg_start = (i + j as u64) * seg;
                let pt = batch.segment(j);
                let lo = offset.saturating_sub(seg_start).min(pt.len() as u64) as usize;
                let hi = (stop - seg_start).min(pt.len() as u64) as usize;
                output
                    .write_all(&pt[lo..hi])
                    .map_err(|e| Error::io("writing output", e))?;
            }
            i += count;
        }
        Ok(length)
    }

    /// The underlying reader, positioned wherever reading stopped.
    pub fn into_inner(self) -> R {
        self.input
    }

    fn batch(&mut self) -> &mut Batch {
        let seg = self.header.segment_size as usize;
        self.batch.get_or_insert_with(|| Batch::new(seg))
    }

    /// Authenticates the final segment (once) and returns what it proves.
    fn end(&mut self) -> Result<End> {
        if let Some(end) = self.end {
            return Ok(end);
        }
        let body_len = self.body_len.ok_or(Error::DecryptFailed)?;
        let segments = self
            .header
            .segments_for_body(body_len)
            .filter(|&n| n <= 1 << 32)
            .ok_or(Error::DecryptFailed)?;
        let end = End {
            segments,
            plaintext_len: body_len - segments * TAG_LEN as u64,
        };
        self.end = Some(end);
        if let Err(e) = self.open_run(segments - 1, 1) {
            self.end = None;
            return Err(e);
        }
        Ok(end)
    }

    /// Reads `count` segments from segment `first` (at most one batch) and opens them.
    fn open_run(&mut self, first: u64, count: u64) -> Result<()> {
        let Some(end) = self.end else {
            return Err(Error::Internal(
                "range read before the end was known".into(),
            ));
        };
        let body_len = self.body_len.ok_or(Error::DecryptFailed)?;
        let full = self.header.segment_bytes();
        let start = first * full;
        let stop = ((first + count) * full).min(body_len);
        let len = (stop - start) as usize;
        self.input
            .seek(SeekFrom::Start(self.body_start + start))
            .map_err(read_err)?;
        let input = &mut self.input;
        let seg = self.header.segment_size as usize;
        let batch = self.batch.get_or_insert_with(|| Batch::new(seg));
        batch.begin_fill_with(None);
        let room = batch.ct_room();
        let room = room
            .get_mut(..len)
            .ok_or(Error::Internal("range batch".into()))?;
        match input.read_exact(room) {
            Ok(()) => {}
            // The file shrank since it was opened.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(Error::DecryptFailed),
            Err(e) => return Err(read_err(e)),
        }
        batch.ct_filled(len);
        batch.set_counter(first);
        batch.open_as(&self.key, first + count == end.segments)
    }
}
