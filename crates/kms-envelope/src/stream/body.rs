//! The body: segments sealed or opened in batches, in place.
//!
//! A [`Batch`] holds up to [`BATCH_SEGMENTS`] segments, and at most [`BATCH_BYTES`] (or one
//! segment, when larger), laid out as they are on disk
//! (`plaintext ‖ tag` each), so encryption reads plaintext straight into place and writes the
//! batch out as one slice, and decryption reads ciphertext into place and hands out the
//! plaintext prefix of each segment. [`Batch::process`] is the one batch loop of both.

use std::io::{self, IoSliceMut, Read, Write};

use kms_core::cipher::{NONCE_LEN, TAG_LEN};
use kms_core::{Error, Result};

use super::keys::StreamKey;
use super::{BATCH_BYTES, BATCH_SEGMENTS};

#[derive(Clone, Copy)]
enum Direction {
    Seal,
    Open,
}

/// One batch of segments and the position of the stream it belongs to.
pub(super) struct Batch {
    /// `max_per_batch` full segments plus one lookahead byte (decryption).
    buf: Vec<u8>,
    /// Full segments the buffer holds.
    max_per_batch: usize,
    /// Full segments this fill takes (at most `max_per_batch`; see [`Batch::set_limit`]).
    per_batch: usize,
    /// Plaintext bytes per full segment.
    seg: usize,
    /// Index of the first segment of this batch in the stream.
    counter: u64,
    /// Encryption: plaintext bytes placed so far.
    pt: usize,
    /// Encryption: leading segments already sealed ([`Batch::seal_ready`]).
    ready: usize,
    /// Decryption: ciphertext bytes held (after `open`, the batch's bytes without lookahead).
    len: usize,
    /// Decryption: the byte read past a full batch, which starts the next one.
    carry: Option<u8>,
    /// Decryption, after `open`: segments in the batch and plaintext bytes of the last one.
    nseg: usize,
    last_pt: usize,
}

impl Batch {
    pub(super) fn new(segment_size: usize) -> Batch {
        let per_batch = (BATCH_BYTES / (segment_size + TAG_LEN)).clamp(1, BATCH_SEGMENTS);
        Batch {
            buf: vec![0; per_batch * (segment_size + TAG_LEN) + 1],
            max_per_batch: per_batch,
            per_batch,
            seg: segment_size,
            counter: 0,
            pt: 0,
            ready: 0,
            len: 0,
            carry: None,
            nseg: 0,
            last_pt: 0,
        }
    }

    /// Bytes of one full segment on disk: its plaintext and its tag.
    pub(super) fn full(&self) -> usize {
        self.seg + TAG_LEN
    }

    fn cap(&self) -> usize {
        self.per_batch * self.full()
    }

    /// Seals or opens the segments in `buf[..len]`, but for the first `skip`; `last` marks
    /// the batch that holds the stream's final segment.
    fn process(&mut self, key: &StreamKey, dir: Direction, last: bool, skip: usize) -> Result<()> {
        let full = self.full();
        let counter = self.counter;
        let data = &mut self.buf[..self.len];
        let nseg = data.len().div_ceil(full).max(1);
        let one = |(i, c): (usize, &mut [u8])| -> Result<()> {
            let nonce = key.nonce(counter + i as u64, last && i == nseg - 1)?;
            match dir {
                Direction::Seal => seal_segment(key, &nonce, c)?,
                Direction::Open => {
                    key.keys.payload.open_in_place(&nonce, b"", c)?;
                }
            }
            Ok(())
        };
        data.chunks_mut(full)
            .enumerate()
            .skip(skip)
            .try_for_each(one)?;
        self.counter += nseg as u64;
        Ok(())
    }

    /// A batch with no buffer, standing in for one lent to the pipeline.
    pub(super) fn placeholder() -> Batch {
        Batch {
            buf: Vec::new(),
            max_per_batch: 0,
            per_batch: 0,
            seg: 0,
            counter: 0,
            pt: 0,
            ready: 0,
            len: 0,
            carry: None,
            nseg: 0,
            last_pt: 0,
        }
    }

    /// The bytes this batch's buffer takes.
    pub(super) fn buffer_len(&self) -> usize {
        self.buf.len()
    }

    /// Makes the next fill take at most `segments` full segments (at least one, at most what
    /// the buffer holds). Only the grouping of segments into batches changes, never the
    /// bytes of the stream. Call it before a fill, never on plaintext placed and not sealed.
    pub(super) fn set_limit(&mut self, segments: usize) {
        debug_assert_eq!(self.pt, 0);
        self.per_batch = segments.clamp(1, self.max_per_batch.max(1));
    }

    /// Lifts [`Batch::set_limit`]: fills take as many segments as the buffer holds.
    pub(super) fn unlimit(&mut self) {
        self.per_batch = self.max_per_batch;
    }

    /// Index of the first segment of the next batch processed.
    pub(super) fn counter(&self) -> u64 {
        self.counter
    }

    /// Makes this batch the one that starts at segment `counter`.
    pub(super) fn set_counter(&mut self, counter: u64) {
        self.counter = counter;
    }

    // --- Encryption ---

    /// Whether the batch holds no plaintext.
    pub(super) fn is_empty_plain(&self) -> bool {
        self.pt == 0
    }

    /// Whether the batch holds `per_batch` full segments of plaintext.
    pub(super) fn is_full(&self) -> bool {
        self.pt == self.per_batch * self.seg
    }

    /// The free plaintext space of the current segment (empty when the batch is full).
    pub(super) fn room(&mut self) -> &mut [u8] {
        if self.is_full() {
            return &mut [];
        }
        let (i, off) = (self.pt / self.seg, self.pt % self.seg);
        let start = i * self.full() + off;
        let end = i * self.full() + self.seg;
        &mut self.buf[start..end]
    }

    /// The free plaintext space of the batch's segments, in order, for one vectored read
    /// (`readv`): up to `max` bytes (at least one byte's room unless the batch is full).
    pub(super) fn rooms(&mut self, max: usize) -> Vec<IoSliceMut<'_>> {
        let (seg, full, pt) = (self.seg, self.full(), self.pt);
        let cap = self.cap();
        let mut left = max.max(1);
        let mut rooms = Vec::new();
        for (i, c) in self.buf[..cap].chunks_mut(full).enumerate() {
            if left == 0 {
                break;
            }
            if (i + 1) * seg <= pt {
                continue;
            }
            let room = &mut c[pt.saturating_sub(i * seg)..seg];
            let n = room.len().min(left);
            left -= n;
            rooms.push(IoSliceMut::new(&mut room[..n]));
        }
        rooms
    }

    /// Seals, in place, every segment placed so far that more placed plaintext follows (so
    /// none of them is the final one): called as plaintext arrives, it seals each segment
    /// while it is still in this core's cache. [`Batch::seal`] seals the rest. The bytes
    /// are those [`Batch::seal`] alone would give.
    ///
    /// # Errors
    /// As [`Batch::seal`].
    pub(super) fn seal_ready(&mut self, key: &StreamKey) -> Result<()> {
        // Segments with plaintext after them: all but the one the last byte placed is in.
        let ready = self.pt.saturating_sub(1) / self.seg;
        let full = self.full();
        for i in self.ready..ready {
            let nonce = key.nonce(self.counter + i as u64, false)?;
            seal_segment(key, &nonce, &mut self.buf[i * full..(i + 1) * full])?;
        }
        self.ready = self.ready.max(ready);
        Ok(())
    }

    /// Records `n` plaintext bytes written into [`Batch::room`].
    pub(super) fn filled(&mut self, n: usize) {
        self.pt += n;
    }

    /// Places as much of `data` as fits in the current segment; returns how much.
    pub(super) fn put(&mut self, data: &[u8]) -> usize {
        let room = self.room();
        let n = room.len().min(data.len());
        room[..n].copy_from_slice(&data[..n]);
        self.filled(n);
        n
    }

    /// Seals the plaintext placed so far and returns the batch's ciphertext; `last` when no
    /// plaintext follows. The batch is empty afterwards.
    pub(super) fn seal(&mut self, key: &StreamKey, last: bool) -> Result<&[u8]> {
        let nseg = self.pt.div_ceil(self.seg).max(1);
        let tail = self.pt - (nseg - 1) * self.seg;
        self.len = (nseg - 1) * self.full() + tail + TAG_LEN;
        self.process(key, Direction::Seal, last, self.ready)?;
        self.pt = 0;
        self.ready = 0;
        Ok(&self.buf[..self.len])
    }

    /// The ciphertext of the batch last sealed.
    pub(super) fn sealed(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    // --- Decryption ---

    /// Reads the next batch of ciphertext from `input` and opens it; returns whether it was
    /// the last one. Only authenticated plaintext is exposed ([`Batch::segment`]).
    ///
    /// # Errors
    /// [`Error::DecryptFailed`] for a segment that fails authentication, a malformed length
    /// (truncated or extended body) or an empty final segment; I/O errors reading `input`.
    pub(super) fn read_open(&mut self, key: &StreamKey, input: &mut impl Read) -> Result<bool> {
        self.begin_fill();
        loop {
            let room = self.ct_room();
            if room.is_empty() {
                break;
            }
            match input.read(room) {
                Ok(0) => break,
                Ok(n) => self.len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io("reading input", e)),
            }
        }
        self.open(key)
    }

    /// Starts filling a batch: the carried lookahead byte, if any, comes first.
    pub(super) fn begin_fill(&mut self) {
        self.nseg = 0;
        self.len = 0;
        if let Some(c) = self.carry.take() {
            self.buf[0] = c;
            self.len = 1;
        }
    }

    /// Space for more ciphertext of the batch being filled (empty when it is complete).
    pub(super) fn ct_room(&mut self) -> &mut [u8] {
        let end = self.cap() + 1;
        &mut self.buf[self.len..end]
    }

    /// Records `n` ciphertext bytes written into [`Batch::ct_room`].
    pub(super) fn ct_filled(&mut self, n: usize) {
        self.len += n;
    }

    /// Opens the filled batch; returns whether it was the last one (the input ended before
    /// the lookahead byte).
    pub(super) fn open(&mut self, key: &StreamKey) -> Result<bool> {
        let last = self.split_lookahead();
        self.open_as(key, last)?;
        Ok(last)
    }

    /// Ends filling: whether the batch is the last one (the input ended before the lookahead
    /// byte); if not, the lookahead byte is set aside for the next batch ([`Batch::take_carry`]).
    pub(super) fn split_lookahead(&mut self) -> bool {
        let cap = self.cap();
        let last = self.len <= cap;
        if !last {
            self.carry = Some(self.buf[cap]);
            self.len = cap;
        }
        last
    }

    /// The lookahead byte set aside by [`Batch::split_lookahead`].
    pub(super) fn take_carry(&mut self) -> Option<u8> {
        self.carry.take()
    }

    /// Starts filling with `carry` (from the batch before) as the first byte.
    pub(super) fn begin_fill_with(&mut self, carry: Option<u8>) {
        self.carry = carry;
        self.begin_fill();
    }

    /// Opens the `len` ciphertext bytes held; `last` when they end the stream.
    pub(super) fn open_as(&mut self, key: &StreamKey, last: bool) -> Result<()> {
        let full = self.full();
        let nseg = self.len.div_ceil(full).max(1);
        let last_len = self.len.saturating_sub((nseg - 1) * full);
        if last_len < TAG_LEN {
            return Err(Error::DecryptFailed);
        }
        let only_segment = self.counter == 0 && nseg == 1;
        if last && last_len == TAG_LEN && !only_segment {
            // An empty final segment is only valid for an empty plaintext.
            return Err(Error::DecryptFailed);
        }
        self.process(key, Direction::Open, last, 0)?;
        self.nseg = nseg;
        self.last_pt = last_len - TAG_LEN;
        Ok(())
    }

    /// Segments in the opened batch.
    pub(super) fn segments(&self) -> usize {
        self.nseg
    }

    /// Full segments a batch holds.
    pub(super) fn segments_per_batch(&self) -> usize {
        self.max_per_batch
    }

    /// The plaintext bytes of the opened batch.
    pub(super) fn plaintext_len(&self) -> u64 {
        match self.nseg {
            0 => 0,
            n => ((n - 1) * self.seg + self.last_pt) as u64,
        }
    }

    /// The authenticated plaintext of segment `i` of the opened batch.
    pub(super) fn segment(&self, i: usize) -> &[u8] {
        let start = i * self.full();
        let len = if i + 1 == self.nseg {
            self.last_pt
        } else {
            self.seg
        };
        &self.buf[start..start + len]
    }
}

/// Seals one segment in place: `c` is its plaintext followed by room for the tag.
fn seal_segment(key: &StreamKey, nonce: &[u8; NONCE_LEN], c: &mut [u8]) -> Result<()> {
    let (pt, tag_out) = c.split_at_mut(c.len() - TAG_LEN);
    let tag = key.keys.payload.seal_detached(nonce, b"", pt)?;
    tag_out.copy_from_slice(&tag);
    Ok(())
}

/// Reads into `buf` until it is full or `input` ends; returns the bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Encrypts everything `input` yields into `output` through `batch`, except the final
/// batch, which stays in `batch` for [`Batch::seal`] with `last`. Returns plaintext bytes
/// read; `progress` gets the running total after each batch written.
pub(super) fn seal_from(
    key: &StreamKey,
    batch: &mut Batch,
    input: &mut impl Read,
    output: &mut impl Write,
    mut total: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    loop {
        if batch.is_full() {
            // A full batch is sealed as "not last" only once more plaintext is known to follow.
            let mut one = [0u8; 1];
            if read_full(input, &mut one).map_err(|e| Error::io("reading input", e))? == 0 {
                return Ok(total);
            }
            let ct = batch.seal(key, false)?;
            output
                .write_all(ct)
                .map_err(|e| Error::io("writing output", e))?;
            progress(total);
            batch.put(&one);
            total += 1;
        }
        let n = read_full(input, batch.room()).map_err(|e| Error::io("reading input", e))?;
        if n == 0 {
            return Ok(total);
        }
        batch.filled(n);
        total += n as u64;
    }
}

impl StreamKey {
    /// Encrypts everything `input` yields into `output` as segments; returns plaintext bytes.
    /// `progress` is called with the running total after each batch.
    ///
    /// # Errors
    /// I/O errors ([`Error::Io`] naming the failing side).
    pub fn encrypt_body(
        &self,
        input: &mut impl Read,
        output: &mut impl Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        let mut batch = Batch::new(self.segment_size);
        let total = seal_from(self, &mut batch, input, output, 0, progress)?;
        let ct = batch.seal(self, true)?;
        output
            .write_all(ct)
            .map_err(|e| Error::io("writing output", e))?;
        progress(total);
        Ok(total)
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
        let mut batch = Batch::new(self.segment_size);
        open_into(self, &mut batch, input, output, progress)
    }
}

/// Decrypts the rest of the body through `batch` into `output`; returns plaintext bytes.
pub(super) fn open_into(
    key: &StreamKey,
    batch: &mut Batch,
    input: &mut impl Read,
    output: &mut impl Write,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    let mut total = 0u64;
    loop {
        let last = batch.read_open(key, input)?;
        for i in 0..batch.segments() {
            let pt = batch.segment(i);
            output
                .write_all(pt)
                .map_err(|e| Error::io("writing output", e))?;
            total += pt.len() as u64;
        }
        progress(total);
        if last {
            return Ok(total);
        }
    }
}
