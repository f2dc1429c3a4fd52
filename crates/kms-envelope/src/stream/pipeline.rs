//! The overlapped bulk paths behind [`StreamWriter::copy_from`](super::StreamWriter::copy_from)
//! and [`StreamReader::copy_to`](super::StreamReader::copy_to): the calling thread reads each
//! batch and seals or opens it in place while a writer thread writes out the batches before
//! it.
//!
//! A fixed set of batch buffers circulates calling thread → writer → calling thread through
//! bounded channels, so memory is bounded by bytes whatever the input size: three buffers of at
//! most [`BATCH_BYTES`], or two when a batch is larger (a single segment of up to 16 MiB).
//! Output is byte-identical to the sequential path: the same segments, counters and
//! final-segment flag; only their grouping into batches differs, which no byte shows.
//!
//! Two stages, not three: a separate reader thread (read | seal | write) was measured slower
//! on this 2-core machine (ARCHITECTURE.md, decisions), since reading and sealing the same
//! batch on one core keeps it in that core's cache, and the two stages are about equal work.
//!
//! The first batch is read before any thread starts: a stream that fits in it starts none.
//! Batches ramp up from [`FIRST_BATCH_BYTES`] to a whole batch ([`Ramp`]), so the first read,
//! seal and write are small and both stages are busy almost at once.

use std::io::{self, IoSlice, Read, Write};
use std::sync::mpsc::sync_channel;
use std::thread;

use kms_core::{Error, Result};

use super::body::Batch;
use super::keys::StreamKey;
use super::{BATCH_BYTES, FIRST_BATCH_BYTES};

/// Buffers in flight for batches of at most [`BATCH_BYTES`].
const BUFFERS: usize = 3;
/// Buffers in flight when a batch is one segment larger than [`BATCH_BYTES`].
const BUFFERS_LARGE: usize = 2;

/// The most a single `write`/`writev` call is given, and the pieces end on its multiples in
/// the output. Linux (6.18, ext4 here) sizes the page-cache folios of a buffered write by the
/// call and its alignment, and on this VM, filling new folios of 512 KiB or more was two to
/// three times slower in about half the runs (`perf`: all of it in the copy into the new
/// pages). Writing 1 GiB from the page cache, interleaved: `dd` in 256 KiB calls 0.29–0.34 s
/// (15 runs, none slow), 512 KiB 0.26–0.75 s, 1 MiB 0.53–1.29 s; `kms encrypt` 1.04× cp with
/// 256 KiB writes against 1.82× with 512 KiB (9 runs each, 4 MiB batches; another set gave
/// 1.00× for 256 KiB). Sealed batches are not whole pages (31 segments of 64 KiB + 16), so
/// without the alignment every call would also start and end mid-page.
const WRITE_CHUNK: usize = 256 << 10;

/// Bytes from output offset `at` to the next multiple of [`WRITE_CHUNK`] (a whole chunk when
/// `at` is one).
fn to_chunk_end(at: u64) -> usize {
    // The remainder is below WRITE_CHUNK, so it fits.
    WRITE_CHUNK - (at % WRITE_CHUNK as u64) as usize
}

/// Writes `bytes` to `output`, which has `at` bytes before them, in pieces of at most
/// [`WRITE_CHUNK`] that end on its multiples; advances `at`.
pub(super) fn write_aligned_io(
    output: &mut impl Write,
    mut bytes: &[u8],
    at: &mut u64,
) -> io::Result<()> {
    while !bytes.is_empty() {
        let n = to_chunk_end(*at).min(bytes.len());
        output.write_all(&bytes[..n])?;
        *at += n as u64;
        bytes = &bytes[n..];
    }
    Ok(())
}

/// [`write_aligned_io`], its errors in context (`writing output`).
pub(super) fn write_aligned(output: &mut impl Write, bytes: &[u8], at: &mut u64) -> Result<()> {
    write_aligned_io(output, bytes, at).map_err(write_err)
}

fn buffers_for(batch: &Batch) -> usize {
    if batch.buffer_len() <= BATCH_BYTES + 1 {
        BUFFERS
    } else {
        BUFFERS_LARGE
    }
}

/// The segment limits of successive fills: [`FIRST_BATCH_BYTES`] worth, then twice the last,
/// up to a whole batch.
struct Ramp {
    next: usize,
    max: usize,
}

impl Ramp {
    fn new(batch: &Batch) -> Ramp {
        let max = batch.segments_per_batch();
        let first = (FIRST_BATCH_BYTES / batch.full()).clamp(1, max);
        Ramp { next: first, max }
    }

    /// Limits `batch`'s next fill to the ramp's next step.
    fn apply(&mut self, batch: &mut Batch) {
        batch.set_limit(self.next);
        self.next = self.next.saturating_mul(2).min(self.max);
    }
}

/// Why the calling thread stopped early.
enum Stop {
    /// Its own error (reading, sealing or opening).
    Error(Error),
    /// The writer thread stopped: its result says why.
    Writer,
}

fn read_err(e: io::Error) -> Error {
    Error::io("reading input", e)
}

fn write_err(e: io::Error) -> Error {
    Error::io("writing output", e)
}

/// Plaintext read per call when encrypting: half of a core's L2 cache here (1 MiB), so that
/// [`fill_sealing`] seals each piece while it is still in that cache, instead of reading a
/// whole batch and sealing it from L3 or memory.
const READ_CHUNK: usize = 512 << 10;

/// One read into the free plaintext space of `batch` (a vectored read of up to
/// [`READ_CHUNK`]); returns the bytes read, 0 at the end of the input.
fn read_some(batch: &mut Batch, input: &mut impl Read) -> io::Result<usize> {
    loop {
        match input.read_vectored(&mut batch.rooms(READ_CHUNK)) {
            Ok(n) => {
                batch.filled(n);
                return Ok(n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads plaintext into `batch` until it is full or the input ends, sealing each segment as
/// soon as more plaintext follows it ([`Batch::seal_ready`]); returns the bytes read.
fn fill_sealing(batch: &mut Batch, key: &StreamKey, input: &mut impl Read) -> Result<u64> {
    let mut read = 0;
    loop {
        batch.seal_ready(key)?;
        if batch.is_full() {
            return Ok(read);
        }
        match read_some(batch, input).map_err(read_err)? {
            0 => return Ok(read),
            n => read += n as u64,
        }
    }
}

/// Reads ciphertext into `batch` (after its carried byte) until it holds a whole batch and
/// the lookahead byte, or the input ends.
fn fill_cipher(batch: &mut Batch, input: &mut impl Read) -> io::Result<()> {
    loop {
        let room = batch.ct_room();
        if room.is_empty() {
            return Ok(());
        }
        match input.read(room) {
            Ok(0) => return Ok(()),
            Ok(n) => batch.ct_filled(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Writes the authenticated plaintext of an opened batch to `output`, which has `at` bytes
/// before it, in vectored writes of at most [`WRITE_CHUNK`] that end on its multiples;
/// advances `at` and returns the batch's plaintext length.
fn write_plain(batch: &Batch, output: &mut impl Write, at: &mut u64) -> Result<u64> {
    let start = *at;
    let mut room = to_chunk_end(*at);
    let mut slices: Vec<IoSlice<'_>> = Vec::new();
    for i in 0..batch.segments() {
        let mut s = batch.segment(i);
        while !s.is_empty() {
            let n = s.len().min(room);
            slices.push(IoSlice::new(&s[..n]));
            s = &s[n..];
            room -= n;
            *at += n as u64;
            if room == 0 {
                write_all_vectored(output, &mut slices)?;
                room = WRITE_CHUNK;
            }
        }
    }
    write_all_vectored(output, &mut slices)?;
    Ok(*at - start)
}

/// Writes all of `slices` (one `writev` when the output takes it all) and empties it.
fn write_all_vectored(output: &mut impl Write, slices: &mut Vec<IoSlice<'_>>) -> Result<()> {
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match output.write_vectored(rest) {
            Ok(0) => return Err(write_err(io::ErrorKind::WriteZero.into())),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(write_err(e)),
        }
    }
    slices.clear();
    Ok(())
}

/// Joins the writer's result with the calling thread's.
fn outcome<T>(main: std::result::Result<T, Stop>, writer: thread::Result<Result<()>>) -> Result<T> {
    let writer =
        writer.unwrap_or_else(|_| Err(Error::Internal("the writer thread panicked".into())));
    match (main, writer) {
        (Ok(v), Ok(())) => Ok(v),
        (Ok(_), Err(e)) | (Err(Stop::Writer), Err(e)) | (Err(Stop::Error(e)), _) => Err(e),
        (Err(Stop::Writer), Ok(())) => Err(Error::Internal("the pipeline stopped".into())),
    }
}

/// Encrypts everything `input` yields into `output` through `batch` (which may already hold
/// plaintext), except the final batch, which is left in `batch` for [`Batch::seal`] with
/// `last`. `written` is the stream's bytes already in `output`, and is advanced. Returns the
/// plaintext bytes read; `progress` gets the running total.
pub(super) fn seal_overlapped<R: Read, W: Write + Send>(
    key: &StreamKey,
    batch: &mut Batch,
    input: &mut R,
    output: &mut W,
    written: &mut u64,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    let mut ramp = Ramp::new(batch);
    if batch.is_empty_plain() {
        ramp.apply(batch);
    }
    let mut total = fill_sealing(batch, key, input)?;
    if !batch.is_full() {
        batch.unlimit();
        return Ok(total);
    }
    let n = buffers_for(batch);
    let (free_tx, free_rx) = sync_channel::<Batch>(n);
    for _ in 1..n {
        free_tx
            .send(Batch::new(key.segment_size))
            .map_err(|_| Error::Internal("pipeline channel".into()))?;
    }
    let (sealed_tx, sealed_rx) = sync_channel::<Batch>(n);
    thread::scope(|s| {
        let writer = s.spawn(move || -> Result<()> {
            for b in sealed_rx.iter() {
                write_aligned(output, b.sealed(), written)?;
                // Never blocks: the channel holds every buffer there is.
                let _ = free_tx.send(b);
            }
            Ok(())
        });
        // `batch` is full here; reading on decides whether it is the last.
        let main = loop {
            // Fails only when the writer stopped (it holds the sender).
            let Ok(mut next) = free_rx.recv() else {
                break Err(Stop::Writer);
            };
            ramp.apply(&mut next);
            let n = match read_some(&mut next, input) {
                Ok(0) => break Ok(total),
                Ok(n) => n,
                Err(e) => break Err(Stop::Error(read_err(e))),
            };
            if let Err(e) = batch.seal(key, false) {
                break Err(Stop::Error(e));
            }
            next.set_counter(batch.counter());
            if sealed_tx.send(std::mem::replace(batch, next)).is_err() {
                break Err(Stop::Writer);
            }
            progress(total);
            total += n as u64;
            match fill_sealing(batch, key, input) {
                Ok(m) => total += m,
                Err(e) => break Err(Stop::Error(e)),
            }
            if !batch.is_full() {
                break Ok(total);
            }
        };
        batch.unlimit();
        // Closing the channel stops the writer once it wrote what it holds.
        drop(sealed_tx);
        outcome(main, writer.join())
    })
}

/// Decrypts the rest of the body through `batch` into `output`; returns the plaintext bytes
/// written. Each batch is written only after all its segments authenticated; what was
/// written before an error stays written.
pub(super) fn open_overlapped<R: Read, W: Write + Send>(
    key: &StreamKey,
    batch: &mut Batch,
    input: &mut R,
    output: &mut W,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    let mut ramp = Ramp::new(batch);
    ramp.apply(batch);
    batch.begin_fill();
    fill_cipher(batch, input).map_err(read_err)?;
    let last = batch.split_lookahead();
    batch.open_as(key, last)?;
    let mut at = 0;
    let mut total = write_plain(batch, output, &mut at)?;
    progress(total);
    if last {
        batch.unlimit();
        return Ok(total);
    }
    let mut carry = batch.take_carry();
    let mut counter = batch.counter();
    let n = buffers_for(batch);
    let (free_tx, free_rx) = sync_channel::<Batch>(n);
    let mut spare = Some(std::mem::replace(batch, Batch::placeholder()));
    for _ in 0..n {
        let b = spare.take().unwrap_or_else(|| Batch::new(key.segment_size));
        free_tx
            .send(b)
            .map_err(|_| Error::Internal("pipeline channel".into()))?;
    }
    let (opened_tx, opened_rx) = sync_channel::<Batch>(n);
    thread::scope(|s| {
        let writer = s.spawn(move || -> Result<()> {
            for b in opened_rx.iter() {
                write_plain(&b, output, &mut at)?;
                let _ = free_tx.send(b);
            }
            Ok(())
        });
        let main = loop {
            // Fails only when the writer stopped (it holds the sender).
            let Ok(mut b) = free_rx.recv() else {
                break Err(Stop::Writer);
            };
            ramp.apply(&mut b);
            b.begin_fill_with(carry);
            if let Err(e) = fill_cipher(&mut b, input) {
                break Err(Stop::Error(read_err(e)));
            }
            let last = b.split_lookahead();
            carry = b.take_carry();
            b.set_counter(counter);
            if let Err(e) = b.open_as(key, last) {
                break Err(Stop::Error(e));
            }
            counter = b.counter();
            total += b.plaintext_len();
            if opened_tx.send(b).is_err() {
                break Err(Stop::Writer);
            }
            progress(total);
            if last {
                break Ok(total);
            }
        };
        drop(opened_tx);
        outcome(main, writer.join())
    })
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
