//! The overlapped bulk paths behind [`StreamWriter::copy_from`](super::StreamWriter::copy_from)
//! and [`StreamReader::copy_to`](super::StreamReader::copy_to): a reader thread fills batches,
//! the calling thread seals or opens each one (on rayon's threads), and a writer thread writes
//! them out, all three at the same time.
//!
//! A fixed set of batch buffers circulates reader → calling thread → writer → reader through
//! bounded channels, so memory is bounded by bytes whatever the input size: three buffers of at
//! most [`BATCH_BYTES`] (one being read, one sealed or opened, one written), or two when a
//! batch is larger (a single segment of up to 16 MiB). Output is byte-identical to the
//! sequential path: the same batches, segment counters and final-segment flag.
//!
//! The first batch is read on the calling thread: a stream that fits in it starts no thread.

use std::io::{self, IoSlice, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread;

use kms_core::{Error, Result};

use super::body::Batch;
use super::keys::StreamKey;
use super::BATCH_BYTES;

/// Buffers in flight for batches of at most [`BATCH_BYTES`].
const BUFFERS: usize = 3;
/// Buffers in flight when a batch is one segment larger than [`BATCH_BYTES`].
const BUFFERS_LARGE: usize = 2;

/// The most a single `write`/`writev` call is given. Measured on Linux 6.18 / ext4 here:
/// writing 1 GiB into the page cache in 4 MiB calls costs 1.4–1.9 s of CPU, in 1 MiB calls
/// 0.2 s (the kernel's buffered-write path sizes its work by the call), so batches go out
/// in pieces of this size.
const WRITE_CHUNK: usize = 1 << 20;

fn buffers_for(batch: &Batch) -> usize {
    if batch.buffer_len() <= BATCH_BYTES + 1 {
        BUFFERS
    } else {
        BUFFERS_LARGE
    }
}

/// A batch the reader thread filled.
struct Filled {
    batch: Batch,
    /// Encryption: plaintext bytes read up to the end of this batch.
    total: u64,
    /// This batch ends the stream.
    last: bool,
}

/// Why the calling thread stopped early.
enum Stop {
    /// Its own error (sealing, opening, or one the reader sent).
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

/// One read into the free plaintext space of `batch` (a vectored read: up to a whole batch
/// in one system call); returns the bytes read, 0 at the end of the input.
fn read_some(batch: &mut Batch, input: &mut impl Read) -> io::Result<usize> {
    loop {
        match input.read_vectored(&mut batch.rooms()) {
            Ok(n) => {
                batch.filled(n);
                return Ok(n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads plaintext into `batch` until it is full or the input ends; returns the bytes read.
fn fill_plain(batch: &mut Batch, input: &mut impl Read) -> io::Result<usize> {
    let mut read = 0;
    while !batch.is_full() {
        match read_some(batch, input)? {
            0 => break,
            n => read += n,
        }
    }
    Ok(read)
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

/// Writes the authenticated plaintext of an opened batch (one vectored write for all its
/// segments); returns its length.
fn write_plain(batch: &Batch, output: &mut impl Write) -> Result<u64> {
    let mut slices: Vec<IoSlice<'_>> = (0..batch.segments())
        .map(|i| batch.segment(i))
        .filter(|s| !s.is_empty())
        .map(IoSlice::new)
        .collect();
    let len = slices.iter().map(|s| s.len() as u64).sum();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        // At most WRITE_CHUNK bytes per call (at least one slice).
        let mut take = 0;
        let mut bytes = 0;
        while take < rest.len() && (take == 0 || bytes + rest[take].len() <= WRITE_CHUNK) {
            bytes += rest[take].len();
            take += 1;
        }
        match output.write_vectored(&rest[..take]) {
            Ok(0) => return Err(write_err(io::ErrorKind::WriteZero.into())),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(write_err(e)),
        }
    }
    Ok(len)
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
/// `last`. Returns the plaintext bytes read; `progress` gets the running total.
pub(super) fn seal_overlapped<R: Read + Send, W: Write + Send>(
    key: &StreamKey,
    batch: &mut Batch,
    input: &mut R,
    output: &mut W,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    let total = fill_plain(batch, input).map_err(read_err)? as u64;
    if !batch.is_full() {
        return Ok(total);
    }
    let n = buffers_for(batch);
    let (free_tx, free_rx) = sync_channel::<Batch>(n);
    for _ in 1..n {
        free_tx
            .send(Batch::new(key.segment_size))
            .map_err(|_| Error::Internal("pipeline channel".into()))?;
    }
    let (full_tx, full_rx) = sync_channel::<io::Result<Filled>>(n);
    let (sealed_tx, sealed_rx) = sync_channel::<Batch>(n);
    let first = std::mem::replace(batch, Batch::placeholder());
    let mut counter = first.counter();
    thread::scope(|s| {
        let reader = s.spawn(move || read_plain(first, total, input, &free_rx, &full_tx));
        let writer = s.spawn(move || -> Result<()> {
            for b in sealed_rx.iter() {
                for piece in b.sealed().chunks(WRITE_CHUNK) {
                    output.write_all(piece).map_err(write_err)?;
                }
                // Never blocks: the channel holds every buffer there is.
                let _ = free_tx.send(b);
            }
            Ok(())
        });
        let main = loop {
            let mut f = match full_rx.recv() {
                Ok(Ok(f)) => f,
                Ok(Err(e)) => break Err(Stop::Error(read_err(e))),
                // The reader stops early only when the writer stopped (or it panicked).
                Err(_) => break Err(Stop::Writer),
            };
            f.batch.set_counter(counter);
            if f.last {
                *batch = f.batch;
                break Ok(f.total);
            }
            if let Err(e) = f.batch.seal(key, false) {
                break Err(Stop::Error(e));
            }
            counter = f.batch.counter();
            if sealed_tx.send(f.batch).is_err() {
                break Err(Stop::Writer);
            }
            progress(f.total);
        };
        // Closing the channels stops the reader and, once it wrote what it holds, the writer.
        drop(sealed_tx);
        drop(full_rx);
        let written = writer.join();
        reader
            .join()
            .map_err(|_| Error::Internal("the reader thread panicked".into()))?;
        outcome(main, written)
    })
}

/// The encryption reader: `cur` is a full batch; reading on decides whether it is the last.
fn read_plain(
    mut cur: Batch,
    mut total: u64,
    input: &mut impl Read,
    free: &Receiver<Batch>,
    full: &SyncSender<io::Result<Filled>>,
) {
    loop {
        let Ok(mut next) = free.recv() else { return };
        let n = match read_some(&mut next, input) {
            Ok(n) => n,
            Err(e) => {
                let _ = full.send(Err(e));
                return;
            }
        };
        let last = n == 0;
        let sent = full.send(Ok(Filled {
            batch: cur,
            total,
            last,
        }));
        if last || sent.is_err() {
            return;
        }
        total += n as u64;
        match fill_plain(&mut next, input) {
            Ok(m) => total += m as u64,
            Err(e) => {
                let _ = full.send(Err(e));
                return;
            }
        }
        if !next.is_full() {
            let _ = full.send(Ok(Filled {
                batch: next,
                total,
                last: true,
            }));
            return;
        }
        cur = next;
    }
}

/// Decrypts the rest of the body through `batch` into `output`; returns the plaintext bytes
/// written. Each batch is written only after all its segments authenticated; what was
/// written before an error stays written.
pub(super) fn open_overlapped<R: Read + Send, W: Write + Send>(
    key: &StreamKey,
    batch: &mut Batch,
    input: &mut R,
    output: &mut W,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    batch.begin_fill();
    fill_cipher(batch, input).map_err(read_err)?;
    let last = batch.split_lookahead();
    batch.open_as(key, last)?;
    let mut total = write_plain(batch, output)?;
    progress(total);
    if last {
        return Ok(total);
    }
    let carry = batch.take_carry();
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
    let (full_tx, full_rx) = sync_channel::<io::Result<Filled>>(n);
    let (opened_tx, opened_rx) = sync_channel::<Batch>(n);
    thread::scope(|s| {
        let reader = s.spawn(move || read_cipher(carry, input, &free_rx, &full_tx));
        let writer = s.spawn(move || -> Result<()> {
            for b in opened_rx.iter() {
                write_plain(&b, output)?;
                let _ = free_tx.send(b);
            }
            Ok(())
        });
        let main = loop {
            let mut f = match full_rx.recv() {
                Ok(Ok(f)) => f,
                Ok(Err(e)) => break Err(Stop::Error(read_err(e))),
                // The reader stops early only when the writer stopped (or it panicked).
                Err(_) => break Err(Stop::Writer),
            };
            f.batch.set_counter(counter);
            if let Err(e) = f.batch.open_as(key, f.last) {
                break Err(Stop::Error(e));
            }
            counter = f.batch.counter();
            total += f.batch.plaintext_len();
            if opened_tx.send(f.batch).is_err() {
                break Err(Stop::Writer);
            }
            progress(total);
            if f.last {
                break Ok(total);
            }
        };
        drop(opened_tx);
        drop(full_rx);
        let written = writer.join();
        reader
            .join()
            .map_err(|_| Error::Internal("the reader thread panicked".into()))?;
        outcome(main, written)
    })
}

/// The decryption reader: fills batches of ciphertext, passing the lookahead byte on.
fn read_cipher(
    mut carry: Option<u8>,
    input: &mut impl Read,
    free: &Receiver<Batch>,
    full: &SyncSender<io::Result<Filled>>,
) {
    loop {
        let Ok(mut b) = free.recv() else { return };
        b.begin_fill_with(carry);
        if let Err(e) = fill_cipher(&mut b, input) {
            let _ = full.send(Err(e));
            return;
        }
        let last = b.split_lookahead();
        carry = b.take_carry();
        let sent = full.send(Ok(Filled {
            batch: b,
            total: 0,
            last,
        }));
        if last || sent.is_err() {
            return;
        }
    }
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
