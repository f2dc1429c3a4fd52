//! Streams as library calls: [`Encryptor`] gives a [`Write`] that encrypts, [`Decryptor`] a
//! [`Read`] of authenticated plaintext.

use std::fmt;
use std::io::{self, BufRead, Read, Write};

use kms_core::{Error, Purpose, Result};

use super::body::Batch;
use super::header::Header;
use super::info::StreamHeader;
use super::keys::{open_header, seal_header, StreamKey};
use super::pipeline::{open_overlapped, seal_overlapped, write_aligned, write_aligned_io};
use super::DEFAULT_SEGMENT_SIZE;
use crate::keyring::Keyring;

/// Encrypts a stream under the wrappers of a [`Keyring`] purpose.
///
/// ```
/// use std::io::Write;
/// use std::sync::Arc;
/// use kms_envelope::stream::{Decryptor, Encryptor};
/// use kms_envelope::{Key256, Keyring, Purpose};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut keyring = Keyring::new();
/// keyring.push(Purpose::Root, Arc::new(kms_aead::AeadBackend::new(Key256::generate()?, "root")));
///
/// let mut w = Encryptor::new(&keyring, Purpose::Root).aad(b"backup").wrap_output(Vec::new()).await?;
/// w.write_all(b"a large file")?;
/// let file = w.finish()?;
///
/// let mut r = Decryptor::new(&keyring).aad(b"backup").open(file.as_slice()).await?;
/// let mut plain = Vec::new();
/// std::io::Read::read_to_end(&mut r, &mut plain)?;
/// assert_eq!(plain, b"a large file");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Encryptor<'a> {
    keyring: &'a Keyring,
    purpose: Purpose,
    also: Vec<Purpose>,
    aad: Vec<u8>,
    segment_size: u32,
}

impl<'a> Encryptor<'a> {
    /// Encrypts for `purpose` with the keyring's wrappers of that purpose.
    pub fn new(keyring: &'a Keyring, purpose: Purpose) -> Self {
        Encryptor {
            keyring,
            purpose,
            also: Vec::new(),
            aad: Vec::new(),
            segment_size: DEFAULT_SEGMENT_SIZE,
        }
    }

    /// Also wraps the data key under the wrappers of these purposes (any one opens the file).
    pub fn also(mut self, also: &[Purpose]) -> Self {
        self.also = also.to_vec();
        self
    }

    /// Binds `aad` (it must be given again to decrypt). Empty means none.
    pub fn aad(mut self, aad: &[u8]) -> Self {
        self.aad = aad.to_vec();
        self
    }

    /// Plaintext bytes per segment (default [`DEFAULT_SEGMENT_SIZE`]).
    pub fn segment_size(mut self, segment_size: u32) -> Self {
        self.segment_size = segment_size;
        self
    }

    /// Creates the header: a fresh data key, wrapped by every selected wrapper.
    pub(super) async fn seal(&self) -> Result<(Vec<u8>, StreamKey)> {
        let wrappers = self
            .keyring
            .encrypt_wrappers_with(self.purpose, &self.also)?;
        let (header, key) =
            seal_header(&wrappers, self.purpose, &self.aad, self.segment_size).await?;
        Ok((header.encode(), key))
    }

    /// Writes the header to `output` and returns a writer that encrypts into it. Call
    /// [`StreamWriter::finish`] at the end: without it the file has no final segment and
    /// never decrypts.
    ///
    /// # Errors
    /// [`Error::Config`] for a purpose with no wrapper or previous-root; backend errors from
    /// wrapping the data key; [`Error::Io`] writing the header.
    pub async fn wrap_output<W: Write>(self, mut output: W) -> Result<StreamWriter<W>> {
        let (header, key) = self.seal().await?;
        output
            .write_all(&header)
            .map_err(|e| Error::io("writing output", e))?;
        Ok(StreamWriter {
            batch: Batch::new(key.segment_size),
            output,
            key,
            written: header.len() as u64,
            failed: false,
        })
    }
}

/// A [`Write`] that encrypts into its output, batch by batch (see [`Encryptor`]).
///
/// Plaintext is buffered up to one batch and sealed as a batch; `flush` only flushes the
/// output, since a partial segment cannot be written before the stream's end is known.
pub struct StreamWriter<W: Write> {
    output: W,
    key: StreamKey,
    batch: Batch,
    /// Bytes of the stream written to `output` so far (header included): `copy_from` aligns
    /// its writes to the output's offsets.
    written: u64,
    /// A failed `copy_from` kept the batch it lent to the pipeline, and the stream lost its
    /// place: every later write and `finish` is an error, never a stream that looks whole.
    failed: bool,
}

impl<W: Write> fmt::Debug for StreamWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamWriter").finish_non_exhaustive()
    }
}

impl<W: Write + Send> StreamWriter<W> {
    /// Encrypts everything `input` yields; returns the plaintext bytes read. The bulk path:
    /// reading and sealing (on the calling thread, straight into place) overlap with writing
    /// (a writer thread), with a few batch buffers between them, and the writes are aligned
    /// to the output's offsets. The same bytes as writing it all; an input that fits in one
    /// batch starts no thread.
    ///
    /// # Errors
    /// [`Error::Io`] with context `reading input` or `writing output`.
    pub fn copy_from(&mut self, input: &mut impl Read) -> Result<u64> {
        if self.failed {
            return Err(failed_earlier());
        }
        let result = seal_overlapped(
            &self.key,
            &mut self.batch,
            input,
            &mut self.output,
            &mut self.written,
            &mut |_| {},
        );
        self.failed = result.is_err();
        result
    }
}

impl<W: Write> StreamWriter<W> {
    /// Writes the final segment and returns the output, flushed.
    ///
    /// # Errors
    /// [`Error::Io`] writing or flushing the output.
    pub fn finish(mut self) -> Result<W> {
        if self.failed {
            return Err(failed_earlier());
        }
        let ct = self.batch.seal(&self.key, true)?;
        write_aligned(&mut self.output, ct, &mut self.written)?;
        self.output
            .flush()
            .map_err(|e| Error::io("writing output", e))?;
        Ok(self.output)
    }
}

impl<W: Write> Write for StreamWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::other(failed_earlier()));
        }
        if data.is_empty() {
            return Ok(0);
        }
        if self.batch.is_full() {
            // More plaintext follows, so the full batch is not the last.
            let ct = self
                .batch
                .seal(&self.key, false)
                .map_err(io::Error::other)?;
            write_aligned_io(&mut self.output, ct, &mut self.written)?;
        }
        Ok(self.batch.put(data))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.output.flush()
    }
}

fn failed_earlier() -> Error {
    Error::Internal(
        "the stream writer failed earlier (copy_from returned an error): the stream is incomplete and cannot be finished"
            .into(),
    )
}

/// Opens streams with the wrappers of a [`Keyring`].
#[derive(Debug, Clone)]
pub struct Decryptor<'a> {
    keyring: &'a Keyring,
    aad: Vec<u8>,
}

impl<'a> Decryptor<'a> {
    /// Opens with `keyring`: the recorded purpose's wrappers first, then every other one (for
    /// multi-key files).
    pub fn new(keyring: &'a Keyring) -> Self {
        Decryptor {
            keyring,
            aad: Vec::new(),
        }
    }

    /// The AAD the stream was encrypted with (empty: none).
    pub fn aad(mut self, aad: &[u8]) -> Self {
        self.aad = aad.to_vec();
        self
    }

    /// Reads the header from `input`, unwraps the data key, checks the key commitment and
    /// the header MAC, and returns a reader of the plaintext.
    ///
    /// # Errors
    /// [`Error::Malformed`]/[`Error::Truncated`] for a bad header; [`Error::InvalidInput`]
    /// for AAD given for a file without or missing for one with; [`Error::DecryptFailed`]
    /// for a wrong key, wrong AAD or tampered header; [`Error::NoMatchingWrapper`] when no
    /// wrapper may open a recorded key.
    pub async fn open<R: Read>(self, mut input: R) -> Result<StreamReader<R>> {
        let (header, _, rest) = Header::read_unbuffered(&mut input)?;
        self.open_parsed(header, rest, input).await
    }

    /// As [`Decryptor::open`], for a stream whose header was already read by
    /// [`crate::Ciphertext::read`]; `input` continues right after it.
    ///
    /// # Errors
    /// As [`Decryptor::open`].
    pub async fn open_after_header<R: Read>(
        self,
        header: StreamHeader,
        input: R,
    ) -> Result<StreamReader<R>> {
        self.open_parsed(header.header, Vec::new(), input).await
    }

    pub(super) async fn open_key(&self, header: &Header) -> Result<StreamKey> {
        let wrappers = self.keyring.decrypt_wrappers_all(header.purpose);
        open_header(header, &wrappers, &self.aad).await
    }

    async fn open_parsed<R: Read>(
        self,
        header: Header,
        prefix: Vec<u8>,
        input: R,
    ) -> Result<StreamReader<R>> {
        let key = self.open_key(&header).await?;
        Ok(StreamReader {
            input: Prefixed {
                prefix,
                pos: 0,
                inner: input,
            },
            batch: Batch::new(key.segment_size),
            key,
            seg: 0,
            off: 0,
            state: ReadState::Start,
        })
    }
}

/// Bytes read past the header, then the rest of the input.
struct Prefixed<R> {
    prefix: Vec<u8>,
    pos: usize,
    inner: R,
}

impl<R: Read> Read for Prefixed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.prefix.len() {
            let n = (self.prefix.len() - self.pos).min(buf.len());
            buf[..n].copy_from_slice(&self.prefix[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ReadState {
    Start,
    More,
    Last,
    Failed,
}

/// A [`Read`] of a stream's plaintext (see [`Decryptor`]).
///
/// It yields only authenticated plaintext: a batch of segments is released after every
/// segment in it authenticated. Truncation (at any point, a segment boundary included),
/// appended data and tampering are errors, never an early end of file; after an error every
/// read fails.
pub struct StreamReader<R> {
    input: Prefixed<R>,
    key: StreamKey,
    batch: Batch,
    /// Reading position in the opened batch: segment and offset in it.
    seg: usize,
    off: usize,
    state: ReadState,
}

impl<R> fmt::Debug for StreamReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader").finish_non_exhaustive()
    }
}

impl<R: Read> StreamReader<R> {
    /// Opens the next batch; `false` at the end of the stream.
    fn next_batch(&mut self) -> Result<bool> {
        match self.state {
            ReadState::Last => return Ok(false),
            ReadState::Failed => {
                return Err(Error::InvalidInput(
                    "the stream failed earlier; the rest of its plaintext is not available".into(),
                ))
            }
            ReadState::Start | ReadState::More => {}
        }
        match self.batch.read_open(&self.key, &mut self.input) {
            Ok(last) => {
                self.state = if last {
                    ReadState::Last
                } else {
                    ReadState::More
                };
                self.seg = 0;
                self.off = 0;
                Ok(true)
            }
            Err(e) => {
                self.state = ReadState::Failed;
                Err(e)
            }
        }
    }

    /// The underlying reader, positioned wherever decryption stopped.
    pub fn into_inner(self) -> R {
        self.input.inner
    }

    /// Decrypts the rest of the stream into `output`; returns the plaintext bytes written.
    /// The bulk path: reading, opening and writing overlap (see [`StreamWriter::copy_from`]),
    /// and each batch goes to `output` straight from where it was opened, once all its
    /// segments authenticated.
    ///
    /// # Errors
    /// [`Error::DecryptFailed`] when a segment fails authentication (tampering, truncation,
    /// appended data); [`Error::Io`] with context `reading input` or `writing output`. What
    /// was written before the error stays written.
    pub fn copy_to(&mut self, output: &mut (impl Write + Send)) -> Result<u64> {
        let mut total = 0u64;
        match self.state {
            ReadState::Failed => {
                self.next_batch()?;
            }
            ReadState::Start => {}
            ReadState::More | ReadState::Last => {
                // The rest of a batch the caller already began reading.
                while self.seg < self.batch.segments() {
                    let pt = &self.batch.segment(self.seg)[self.off..];
                    output
                        .write_all(pt)
                        .map_err(|e| Error::io("writing output", e))?;
                    total += pt.len() as u64;
                    self.seg += 1;
                    self.off = 0;
                }
                if self.state == ReadState::Last {
                    return Ok(total);
                }
            }
        }
        let result = open_overlapped(
            &self.key,
            &mut self.batch,
            &mut self.input,
            output,
            &mut |_| {},
        );
        self.seg = self.batch.segments();
        self.state = if result.is_ok() {
            ReadState::Last
        } else {
            ReadState::Failed
        };
        Ok(total + result?)
    }
}

impl<R: Read> Read for StreamReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for StreamReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        loop {
            if self.state != ReadState::Start {
                while self.seg < self.batch.segments()
                    && self.off >= self.batch.segment(self.seg).len()
                {
                    self.seg += 1;
                    self.off = 0;
                }
                if self.seg < self.batch.segments() {
                    return Ok(&self.batch.segment(self.seg)[self.off..]);
                }
            }
            if !self.next_batch().map_err(io::Error::other)? {
                return Ok(&[]);
            }
        }
    }

    fn consume(&mut self, amt: usize) {
        self.off += amt;
    }
}

/// The [`Error`] inside an I/O error from a [`StreamReader`] or [`StreamWriter`], or the I/O
/// error itself with `context` (e.g. `reading input`) when it came from the underlying
/// reader or writer.
pub fn error_from_io(e: io::Error, context: &str) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        if let Some(inner) = e.into_inner() {
            if let Ok(err) = inner.downcast::<Error>() {
                return *err;
            }
        }
        return Error::Internal("lost I/O error".into());
    }
    Error::io(context, e)
}
