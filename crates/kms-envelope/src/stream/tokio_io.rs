//! Async streams over tokio's [`AsyncRead`]/[`AsyncWrite`] (feature `tokio`): the same
//! format, batches and guarantees as the blocking [`StreamWriter`](super::StreamWriter) and
//! [`StreamReader`](super::StreamReader).
//!
//! A batch (at most 64 segments and 2 MiB, or one larger segment of up to 16 MiB) is sealed or
//! opened on the calling task, which takes well under a millisecond at the default segment
//! size (a few for the largest segments); the I/O around it is asynchronous.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use kms_core::{Error, Result};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::body::Batch;
use super::header::Header;
use super::io::{Decryptor, Encryptor};
use super::keys::StreamKey;

impl Encryptor<'_> {
    /// As [`Encryptor::wrap_output`], for an async output. Shut the writer down
    /// ([`AsyncWriteExt::shutdown`]) or call [`AsyncStreamWriter::finish`] at the end.
    ///
    /// # Errors
    /// As [`Encryptor::wrap_output`].
    pub async fn wrap_async_output<W: AsyncWrite + Unpin>(
        self,
        mut output: W,
    ) -> Result<AsyncStreamWriter<W>> {
        let (header, key) = self.seal().await?;
        output
            .write_all(&header)
            .await
            .map_err(|e| Error::io("writing output", e))?;
        Ok(AsyncStreamWriter {
            batch: Batch::new(key.segment_size),
            output,
            key,
            pending: None,
            finished: false,
        })
    }
}

impl Decryptor<'_> {
    /// As [`Decryptor::open`], for an async input.
    ///
    /// # Errors
    /// As [`Decryptor::open`].
    pub async fn open_async<R: AsyncRead + Unpin>(
        self,
        mut input: R,
    ) -> Result<AsyncStreamReader<R>> {
        let mut buf = Vec::with_capacity(1024);
        let header = loop {
            let n = input
                .read_buf(&mut buf)
                .await
                .map_err(|e| Error::io("reading the stream header", e))?;
            match Header::parse(&buf) {
                Ok((h, len)) => break (h, len),
                Err(Error::Truncated(m)) if n == 0 => {
                    return Err(Error::Truncated(if buf.is_empty() {
                        "empty input".into()
                    } else {
                        format!("{m} (input ended after {} bytes)", buf.len())
                    }))
                }
                Err(Error::Truncated(_)) => buf.reserve(buf.len().max(512)),
                Err(e) => return Err(e),
            }
        };
        let (header, len) = header;
        let key = self.open_key(&header).await?;
        Ok(AsyncStreamReader {
            batch: Batch::new(key.segment_size),
            prefix: buf.split_off(len),
            prefix_pos: 0,
            input,
            key,
            seg: 0,
            off: 0,
            state: State::Fill { started: false },
        })
    }
}

/// An [`AsyncWrite`] that encrypts into its output (see [`Encryptor::wrap_async_output`]).
///
/// Shutting it down writes the final segment, flushes and shuts the output down; dropping it
/// without that leaves a file that never decrypts.
pub struct AsyncStreamWriter<W> {
    output: W,
    key: StreamKey,
    batch: Batch,
    /// A sealed batch being written: its length and how much was written.
    pending: Option<(usize, usize)>,
    finished: bool,
}

impl<W> fmt::Debug for AsyncStreamWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncStreamWriter").finish_non_exhaustive()
    }
}

impl<W: AsyncWrite + Unpin> AsyncStreamWriter<W> {
    fn seal(&mut self, last: bool) -> io::Result<()> {
        let len = self
            .batch
            .seal(&self.key, last)
            .map_err(io::Error::other)?
            .len();
        self.pending = Some((len, 0));
        Ok(())
    }

    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((len, done)) = self.pending {
            if done == len {
                self.pending = None;
                break;
            }
            let bytes = &self.batch.sealed()[done..len];
            let n = ready!(Pin::new(&mut self.output).poll_write(cx, bytes))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending = Some((len, done + n));
        }
        Poll::Ready(Ok(()))
    }

    fn poll_finish(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        if !self.finished {
            self.seal(true)?;
            self.finished = true;
            ready!(self.poll_pending(cx))?;
        }
        Pin::new(&mut self.output).poll_flush(cx)
    }

    /// Writes the final segment, flushes, and returns the output (not shut down).
    ///
    /// # Errors
    /// [`Error::Io`] writing the output.
    pub async fn finish(mut self) -> Result<W> {
        std::future::poll_fn(|cx| self.poll_finish(cx))
            .await
            .map_err(|e| Error::io("writing output", e))?;
        Ok(self.output)
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for AsyncStreamWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(Err(io::Error::other("write after the stream was finished")));
        }
        ready!(this.poll_pending(cx))?;
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.batch.is_full() {
            // More plaintext follows, so the full batch is not the last.
            this.seal(false)?;
            ready!(this.poll_pending(cx))?;
        }
        Poll::Ready(Ok(this.batch.put(data)))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.output).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_finish(cx))?;
        Pin::new(&mut this.output).poll_shutdown(cx)
    }
}

enum State {
    /// Reading a batch of ciphertext.
    Fill {
        started: bool,
    },
    /// Handing out an opened batch; `last` when it ends the stream.
    Serve {
        last: bool,
    },
    Failed,
}

/// An [`AsyncRead`] of a stream's authenticated plaintext (see [`Decryptor::open_async`]);
/// errors, never an early end of file, on truncation or tampering.
pub struct AsyncStreamReader<R> {
    input: R,
    prefix: Vec<u8>,
    prefix_pos: usize,
    key: StreamKey,
    batch: Batch,
    seg: usize,
    off: usize,
    state: State,
}

impl<R> fmt::Debug for AsyncStreamReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncStreamReader").finish_non_exhaustive()
    }
}

impl<R: AsyncRead + Unpin> AsyncStreamReader<R> {
    /// Fills and opens the next batch.
    fn poll_batch(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool>> {
        if let State::Fill { started: false } = self.state {
            self.batch.begin_fill();
            self.state = State::Fill { started: true };
        }
        loop {
            let room = self.batch.ct_room();
            if room.is_empty() {
                break;
            }
            if self.prefix_pos < self.prefix.len() {
                let n = (self.prefix.len() - self.prefix_pos).min(room.len());
                room[..n].copy_from_slice(&self.prefix[self.prefix_pos..self.prefix_pos + n]);
                self.prefix_pos += n;
                self.batch.ct_filled(n);
                continue;
            }
            let mut rb = ReadBuf::new(room);
            if let Err(e) = ready!(Pin::new(&mut self.input).poll_read(cx, &mut rb)) {
                return Poll::Ready(Err(Error::io("reading input", e)));
            }
            let n = rb.filled().len();
            if n == 0 {
                break;
            }
            self.batch.ct_filled(n);
        }
        Poll::Ready(self.batch.open(&self.key))
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for AsyncStreamReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match this.state {
                State::Failed => {
                    return Poll::Ready(Err(io::Error::other(Error::InvalidInput(
                        "the stream failed earlier; the rest of its plaintext is not available"
                            .into(),
                    ))))
                }
                State::Fill { .. } => match ready!(this.poll_batch(cx)) {
                    Ok(last) => {
                        this.state = State::Serve { last };
                        this.seg = 0;
                        this.off = 0;
                    }
                    Err(e) => {
                        this.state = State::Failed;
                        return Poll::Ready(Err(io::Error::other(e)));
                    }
                },
                State::Serve { last } => {
                    while this.seg < this.batch.segments() {
                        let pt = &this.batch.segment(this.seg)[this.off..];
                        if pt.is_empty() {
                            this.seg += 1;
                            this.off = 0;
                            continue;
                        }
                        let n = pt.len().min(buf.remaining());
                        buf.put_slice(&pt[..n]);
                        this.off += n;
                        return Poll::Ready(Ok(()));
                    }
                    if last {
                        return Poll::Ready(Ok(()));
                    }
                    this.state = State::Fill { started: false };
                }
            }
        }
    }
}
