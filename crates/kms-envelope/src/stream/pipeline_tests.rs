//! The overlapped paths against the sequential ones: the same bytes, the same errors, and no
//! hang when either end fails.
#![allow(clippy::unwrap_used)]

use std::io::{self, Read, Write};

use kms_core::{Error, Purpose};

use super::super::body::Batch;
use super::super::header::Header;
use super::super::keys::StreamKey;
use super::{open_overlapped, seal_overlapped};

const SEG: usize = 1024;

fn key(seg: usize) -> StreamKey {
    let header = Header {
        segment_size: seg as u32,
        salt: [7; 32],
        nonce_prefix: [9; 7],
        purpose: Purpose::Root,
        aad_bound: false,
        entries: Vec::new(),
        commitment: [0; 32],
        mac: [0; 32],
    };
    StreamKey::from_data_key(&header, &[3; 32]).unwrap()
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// A reader that returns at most `step` bytes per read.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn seal_sequential(k: &StreamKey, pt: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    k.encrypt_body(&mut &pt[..], &mut out, &mut |_| {}).unwrap();
    out
}

/// As `StreamWriter`: `head` written first (placed in the batch), then the bulk path.
fn seal_piped(k: &StreamKey, head: &[u8], input: &mut (impl Read + Send)) -> Vec<u8> {
    let mut batch = Batch::new(k.segment_size);
    let mut out = Vec::new();
    let mut placed = 0;
    while placed < head.len() {
        if batch.is_full() {
            out.extend_from_slice(batch.seal(k, false).unwrap());
        }
        placed += batch.put(&head[placed..]);
    }
    seal_overlapped(k, &mut batch, input, &mut out, &mut 0, &mut |_| {}).unwrap();
    out.extend_from_slice(batch.seal(k, true).unwrap());
    out
}

fn open_piped(k: &StreamKey, body: &[u8]) -> Result<Vec<u8>, Error> {
    let mut batch = Batch::new(k.segment_size);
    let mut out = Vec::new();
    open_overlapped(k, &mut batch, &mut &body[..], &mut out, &mut |_| {})?;
    Ok(out)
}

fn sizes(seg: usize) -> Vec<usize> {
    let batch = Batch::new(seg).segments_per_batch() * seg;
    vec![
        0,
        1,
        seg,
        batch - 1,
        batch,
        batch + 1,
        2 * batch,
        2 * batch + 1,
        3 * batch + seg + 7,
        7 * batch - 1,
    ]
}

#[test]
fn overlapped_writes_the_sequential_bytes() {
    let k = key(SEG);
    for len in sizes(SEG) {
        let pt = data(len);
        let expected = seal_sequential(&k, &pt);
        assert_eq!(seal_piped(&k, &[], &mut &pt[..]), expected, "len {len}");
        let mut trickle = Trickle {
            data: &pt,
            step: 333,
        };
        assert_eq!(
            seal_piped(&k, &[], &mut trickle),
            expected,
            "len {len}, short reads"
        );
        for head in [1, SEG + 3, len] {
            let head = head.min(len);
            assert_eq!(
                seal_piped(&k, &pt[..head], &mut &pt[head..]),
                expected,
                "len {len}, {head} bytes written first"
            );
        }
        assert_eq!(open_piped(&k, &expected).unwrap(), pt, "open, len {len}");
    }
}

#[test]
fn overlapped_paths_hold_for_the_largest_segments() {
    let seg = 16 << 20;
    let k = key(seg);
    let pt = data(2 * seg + 5);
    let sealed = seal_piped(&k, &[], &mut &pt[..]);
    assert_eq!(sealed, seal_sequential(&k, &pt));
    assert_eq!(open_piped(&k, &sealed).unwrap(), pt);
}

#[test]
fn overlapped_open_refuses_truncation_tampering_and_appending() {
    let k = key(SEG);
    let pt = data(5 * Batch::new(SEG).segments_per_batch() * SEG + 10);
    let sealed = seal_sequential(&k, &pt);
    let full = SEG + 16;
    for cut in [
        sealed.len() - 1,
        sealed.len() - 11,
        3 * full,
        200 * full,
        17,
    ] {
        let e = open_piped(&k, &sealed[..cut]).unwrap_err();
        assert!(matches!(e, Error::DecryptFailed), "cut {cut}: {e:?}");
    }
    let mut appended = sealed.clone();
    appended.push(0);
    assert!(matches!(
        open_piped(&k, &appended).unwrap_err(),
        Error::DecryptFailed
    ));
    // A flip in the third batch: the first two batches were written, nothing after.
    let per = Batch::new(SEG).segments_per_batch();
    let mut flipped = sealed.clone();
    flipped[2 * per * full + 5] ^= 1;
    let mut batch = Batch::new(SEG);
    let mut out = Vec::new();
    let e = open_overlapped(&k, &mut batch, &mut &flipped[..], &mut out, &mut |_| {});
    assert!(matches!(e, Err(Error::DecryptFailed)), "{e:?}");
    assert_eq!(out, pt[..2 * per * SEG]);
}

struct FailingWriter {
    room: usize,
}

impl Write for FailingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.room == 0 {
            return Err(io::Error::other("disk full"));
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct FailingReader {
    left: usize,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::other("device gone"));
        }
        let n = buf.len().min(self.left);
        buf[..n].fill(1);
        self.left -= n;
        Ok(n)
    }
}

fn io_context(e: &Error) -> &str {
    match e {
        Error::Io { context, .. } => context,
        other => panic!("not an I/O error: {other:?}"),
    }
}

#[test]
fn a_failing_end_stops_the_pipeline_with_its_error() {
    let k = key(SEG);
    let big = 20 * Batch::new(SEG).segments_per_batch() * SEG;
    let pt = data(big);
    for room in [0, 10, 3 * SEG, big / 2] {
        let mut batch = Batch::new(SEG);
        let e = seal_overlapped(
            &k,
            &mut batch,
            &mut &pt[..],
            &mut FailingWriter { room },
            &mut 0,
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(io_context(&e), "writing output", "room {room}");
    }
    for left in [0, 10, big / 2] {
        let mut batch = Batch::new(SEG);
        let e = seal_overlapped(
            &k,
            &mut batch,
            &mut FailingReader { left },
            &mut Vec::new(),
            &mut 0,
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(io_context(&e), "reading input", "left {left}");
    }
    let sealed = seal_sequential(&k, &pt);
    for room in [0, 10, big / 2] {
        let mut batch = Batch::new(SEG);
        let e = open_overlapped(
            &k,
            &mut batch,
            &mut &sealed[..],
            &mut FailingWriter { room },
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(io_context(&e), "writing output", "room {room}");
    }
    for left in [10, sealed.len() / 2] {
        let mut batch = Batch::new(SEG);
        let mut input = (&sealed[..left]).chain(FailingReader { left: 0 });
        let e =
            open_overlapped(&k, &mut batch, &mut input, &mut Vec::new(), &mut |_| {}).unwrap_err();
        assert_eq!(io_context(&e), "reading input", "left {left}");
    }
}

/// Records where each `write` call lands.
#[derive(Default)]
struct Recorder {
    out: Vec<u8>,
    calls: Vec<(usize, usize)>,
}

impl Recorder {
    /// Asserts that no call took more than `chunk` bytes or crossed a multiple of it.
    fn assert_aligned(&self, chunk: usize, what: &str) {
        for &(at, len) in &self.calls {
            assert!(len <= chunk, "{what}: {len} bytes at {at}");
            assert_eq!(
                at / chunk,
                (at + len - 1) / chunk,
                "{what}: a write of {len} bytes at {at} crosses a {chunk}-byte boundary"
            );
        }
    }
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.calls.push((self.out.len(), buf.len()));
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let len = bufs.iter().map(|b| b.len()).sum();
        self.calls.push((self.out.len(), len));
        for b in bufs {
            self.out.extend_from_slice(b);
        }
        Ok(len)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn overlapped_seal_writes_whole_aligned_pieces_after_any_header() {
    let seg = 64 << 10;
    let k = key(seg);
    let pt = data(40 * seg + 3);
    let chunk = super::WRITE_CHUNK;
    for header in [0usize, 1, 333, chunk - 1] {
        let mut batch = Batch::new(seg);
        let mut rec = Recorder::default();
        rec.out.resize(header, 0);
        let mut written = header as u64;
        seal_overlapped(
            &k,
            &mut batch,
            &mut &pt[..],
            &mut rec,
            &mut written,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(written, rec.out.len() as u64, "header {header}");
        rec.assert_aligned(chunk, &format!("header {header}"));
        rec.out.extend_from_slice(batch.seal(&k, true).unwrap());
        assert_eq!(
            rec.out[header..],
            seal_sequential(&k, &pt)[..],
            "header {header}"
        );
    }
}

/// Decryption's vectored writes end on the same multiples, whatever the segment size, with
/// segments cut where a multiple falls inside one.
#[test]
fn overlapped_open_writes_whole_aligned_pieces() {
    // 1.5 MiB: one segment a batch, three buffers; 3 MiB: one segment over a batch, two.
    for seg in [64 << 10, 48 << 10, 1000 + 24, 3 << 19, 3 << 20] {
        let k = key(seg);
        let pt = data(5 * seg + 77 + (6 << 20));
        let sealed = seal_sequential(&k, &pt);
        let mut batch = Batch::new(seg);
        let mut rec = Recorder::default();
        open_overlapped(&k, &mut batch, &mut &sealed[..], &mut rec, &mut |_| {}).unwrap();
        assert!(rec.out == pt, "segment size {seg}");
        rec.assert_aligned(super::WRITE_CHUNK, &format!("segment size {seg}"));
    }
}

/// Default-sized segments, where batches ramp up (3, 6, 12, 24 segments, then whole batches
/// of 31): every length around the ramp's steps, taken from the ramp itself, gives the
/// sequential path's bytes.
#[test]
fn ramped_batches_give_the_same_bytes_at_every_step() {
    let seg = 64 << 10;
    let k = key(seg);
    let pt = data(160 * seg + 1);
    let mut batch = Batch::new(seg);
    let mut ramp = super::Ramp::new(&batch);
    let mut ends = vec![0, 1, 2, 4];
    let mut end = 0;
    loop {
        end += ramp.next;
        if end > 160 {
            break;
        }
        ends.push(end);
        ramp.apply(&mut batch);
    }
    assert_eq!(ends[4..7], [3, 9, 21], "the ramp's first steps");
    assert!(
        ends.len() >= 10,
        "the ramp and whole batches after it: {ends:?}"
    );
    for segs in ends {
        for len in [segs * seg, segs * seg + 1, (segs * seg).saturating_sub(1)] {
            let sealed = seal_piped(&k, &[], &mut &pt[..len]);
            assert_eq!(sealed, seal_sequential(&k, &pt[..len]), "{len} bytes");
            assert_eq!(open_piped(&k, &sealed).unwrap(), pt[..len], "{len} bytes");
        }
    }
}

/// With ramped batches too, a tampered segment releases exactly the batches before its own.
#[test]
fn ramped_open_releases_only_the_batches_before_a_tampered_one() {
    let seg = 64 << 10;
    let full = seg + 16;
    let k = key(seg);
    let pt = data(100 * seg);
    let sealed = seal_sequential(&k, &pt);
    // Batches of 3, 6, 12, 24, then whole batches of 31: segment 10 is in the third, which
    // starts at 9; segment 50 in the first whole batch, which starts at 45.
    for (flip, released) in [
        (0, 0),
        (2, 0),
        (3, 3),
        (8, 3),
        (10, 9),
        (20, 9),
        (21, 21),
        (44, 21),
        (50, 45),
        (76, 76),
    ] {
        let mut bad = sealed.clone();
        bad[flip * full + 5] ^= 1;
        let mut batch = Batch::new(seg);
        let mut out = Vec::new();
        let e = open_overlapped(&k, &mut batch, &mut &bad[..], &mut out, &mut |_| {});
        assert!(
            matches!(e, Err(Error::DecryptFailed)),
            "segment {flip}: {e:?}"
        );
        assert_eq!(out.len(), released * seg, "segment {flip}");
        assert_eq!(out, pt[..released * seg], "segment {flip}");
    }
}
