//! Length-prefixed frames: a `u32` length in native byte order, then that many bytes of UTF-8 JSON.
//!
//! This is Chrome's and Firefox's native-messaging framing; haul uses the same framing on its local
//! socket so one codec serves every hop. Reading a frame is always:
//!
//! 1. read exactly four header bytes (a stream that ends *between* frames is a clean end; one that
//!    ends inside a header or body is [`FrameError::Truncated`]);
//! 2. check the length against the limit of this direction **before** allocating anything;
//! 3. read exactly that many bytes — never assume one `read()` is one message.
//!
//! The limits are the browser's own: at most [`MAX_TO_BROWSER`] bytes towards the browser (a larger
//! frame makes Chrome close the port) and at most [`MAX_FROM_BROWSER`] from it.
//!
//! [`FrameCodec`] is the async (tokio-util) form used by the daemon, the host and the CLI;
//! [`read_frame`] and [`write_frame`] are the blocking form, built on the same header functions.

use std::io::{self, Read, Write};

use bytes::{Buf, BufMut, BytesMut};
use thiserror::Error;

/// Bytes in a frame header.
pub const HEADER_LEN: usize = 4;

/// Largest frame a browser sends to a native host (Chrome documents 64 MiB).
pub const MAX_FROM_BROWSER: usize = 64 * 1024 * 1024;

/// Largest frame a native host may send to the browser (Chrome and Firefox: 1 MiB).
pub const MAX_TO_BROWSER: usize = 1024 * 1024;

/// What can be wrong with a frame.
#[derive(Debug, Error)]
pub enum FrameError {
    /// The declared length exceeds what this direction allows; nothing was allocated for it.
    #[error("frame of {len} bytes exceeds the limit of {limit} bytes")]
    TooLarge { len: usize, limit: usize },
    /// The stream ended inside a frame.
    #[error("stream ended inside a frame: expected {expected} bytes, got {got}")]
    Truncated { expected: usize, got: usize },
    /// The frame body is not UTF-8.
    #[error("frame body is not valid UTF-8 (byte {valid_up_to} is the first bad one)")]
    InvalidUtf8 { valid_up_to: usize },
    /// Reading or writing the underlying stream failed.
    #[error("i/o error on the message stream: {0}")]
    Io(#[from] io::Error),
}

/// The header for a body of `len` bytes, or `TooLarge` when `len` exceeds `limit`.
pub fn encode_header(len: usize, limit: usize) -> Result<[u8; HEADER_LEN], FrameError> {
    check_len(len, limit)?;
    // `limit` never exceeds u32::MAX in practice, but a caller could pass usize::MAX.
    let len32 = u32::try_from(len).map_err(|_| FrameError::TooLarge {
        len,
        limit: u32::MAX as usize,
    })?;
    Ok(len32.to_ne_bytes())
}

/// The body length a header declares, checked against `limit`.
pub fn decode_header(header: [u8; HEADER_LEN], limit: usize) -> Result<usize, FrameError> {
    let len = u32::from_ne_bytes(header) as usize;
    check_len(len, limit)?;
    Ok(len)
}

fn check_len(len: usize, limit: usize) -> Result<(), FrameError> {
    if len > limit {
        return Err(FrameError::TooLarge { len, limit });
    }
    Ok(())
}

fn check_utf8(body: &[u8]) -> Result<(), FrameError> {
    std::str::from_utf8(body)
        .map(|_| ())
        .map_err(|e| FrameError::InvalidUtf8 {
            valid_up_to: e.valid_up_to(),
        })
}

/// Reads one frame, blocking. `Ok(None)` is a clean end of stream between frames.
pub fn read_frame(reader: &mut impl Read, limit: usize) -> Result<Option<Vec<u8>>, FrameError> {
    let mut header = [0u8; HEADER_LEN];
    let got = read_full(reader, &mut header)?;
    if got == 0 {
        return Ok(None);
    }
    if got < HEADER_LEN {
        return Err(FrameError::Truncated {
            expected: HEADER_LEN,
            got,
        });
    }
    let len = decode_header(header, limit)?;
    let mut body = vec![0u8; len];
    let got = read_full(reader, &mut body)?;
    if got < len {
        return Err(FrameError::Truncated { expected: len, got });
    }
    check_utf8(&body)?;
    Ok(Some(body))
}

/// Writes one frame and flushes, blocking.
pub fn write_frame(writer: &mut impl Write, body: &[u8], limit: usize) -> Result<(), FrameError> {
    let header = encode_header(body.len(), limit)?;
    writer.write_all(&header)?;
    writer.write_all(body)?;
    writer.flush()?;
    Ok(())
}

/// Reads until `buf` is full or the stream ends; returns how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// tokio-util codec for frames, with separate limits for what it reads and what it writes.
#[derive(Debug, Clone, Copy)]
pub struct FrameCodec {
    max_read: usize,
    max_write: usize,
}

impl FrameCodec {
    /// A codec that accepts frames of up to `max_read` bytes and writes frames of up to
    /// `max_write` bytes.
    pub fn new(max_read: usize, max_write: usize) -> Self {
        FrameCodec {
            max_read,
            max_write,
        }
    }

    /// The codec of the local socket between host/CLI and daemon: a page handed over by the
    /// browser may be as large as the browser allows in either direction.
    pub fn local_socket() -> Self {
        FrameCodec::new(MAX_FROM_BROWSER, MAX_FROM_BROWSER)
    }
}

impl tokio_util::codec::Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        if src.len() < HEADER_LEN {
            return Ok(None);
        }
        let mut header = [0u8; HEADER_LEN];
        header.copy_from_slice(&src[..HEADER_LEN]);
        // Checked before reserving: a hostile length never turns into an allocation.
        let len = decode_header(header, self.max_read)?;
        if src.len() < HEADER_LEN + len {
            src.reserve(HEADER_LEN + len - src.len());
            return Ok(None);
        }
        src.advance(HEADER_LEN);
        let body = src.split_to(len);
        check_utf8(&body)?;
        Ok(Some(body))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => {
                let expected = if src.len() < HEADER_LEN {
                    HEADER_LEN
                } else {
                    let mut header = [0u8; HEADER_LEN];
                    header.copy_from_slice(&src[..HEADER_LEN]);
                    HEADER_LEN + u32::from_ne_bytes(header) as usize
                };
                Err(FrameError::Truncated {
                    expected,
                    got: src.len(),
                })
            }
        }
    }
}

impl tokio_util::codec::Encoder<&[u8]> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, body: &[u8], dst: &mut BytesMut) -> Result<(), FrameError> {
        let header = encode_header(body.len(), self.max_write)?;
        dst.reserve(HEADER_LEN + body.len());
        dst.put_slice(&header);
        dst.put_slice(body);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_util::codec::{Decoder, Encoder};

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut v = (body.len() as u32).to_ne_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn header_is_native_endian_length() {
        let header = encode_header(0x0102_0304, usize::MAX >> 1).unwrap();
        assert_eq!(header, 0x0102_0304u32.to_ne_bytes());
        if cfg!(target_endian = "little") {
            assert_eq!(header, [0x04, 0x03, 0x02, 0x01]);
        }
        let mut out = Vec::new();
        write_frame(&mut out, br#"{"type":"hello"}"#, MAX_TO_BROWSER).unwrap();
        assert_eq!(&out[..4], &16u32.to_ne_bytes());
        assert_eq!(&out[4..], br#"{"type":"hello"}"#);
    }

    #[test]
    fn blocking_round_trip_and_clean_eof() {
        let mut stream = framed(b"{}");
        stream.extend(framed(b"[1]"));
        let mut r = &stream[..];
        assert_eq!(read_frame(&mut r, 10).unwrap().unwrap(), b"{}");
        assert_eq!(read_frame(&mut r, 10).unwrap().unwrap(), b"[1]");
        assert!(read_frame(&mut r, 10).unwrap().is_none());
    }

    #[test]
    fn blocking_truncated_header_and_body() {
        let mut r: &[u8] = &[1, 0];
        assert!(matches!(
            read_frame(&mut r, 10),
            Err(FrameError::Truncated {
                expected: 4,
                got: 2
            })
        ));
        let stream = framed(b"{\"a\":1}");
        let mut r = &stream[..stream.len() - 2];
        assert!(matches!(
            read_frame(&mut r, 100),
            Err(FrameError::Truncated {
                expected: 7,
                got: 5
            })
        ));
    }

    #[test]
    fn blocking_rejects_length_over_limit_without_reading_body() {
        let mut r: &[u8] = &u32::MAX.to_ne_bytes();
        match read_frame(&mut r, MAX_FROM_BROWSER) {
            Err(FrameError::TooLarge { len, limit }) => {
                assert_eq!(len, u32::MAX as usize);
                assert_eq!(limit, MAX_FROM_BROWSER);
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        let stream = framed(&[b'"', 0xff, 0xfe, b'"']);
        let mut r = &stream[..];
        assert!(matches!(
            read_frame(&mut r, 100),
            Err(FrameError::InvalidUtf8 { valid_up_to: 1 })
        ));
        let mut buf = BytesMut::from(&stream[..]);
        assert!(matches!(
            FrameCodec::new(100, 100).decode(&mut buf),
            Err(FrameError::InvalidUtf8 { .. })
        ));
    }

    #[test]
    fn write_refuses_body_over_limit() {
        let mut out = Vec::new();
        let body = vec![b' '; MAX_TO_BROWSER + 1];
        assert!(matches!(
            write_frame(&mut out, &body, MAX_TO_BROWSER),
            Err(FrameError::TooLarge { .. })
        ));
        assert!(out.is_empty(), "nothing may be written for a refused frame");
        let mut dst = BytesMut::new();
        assert!(
            FrameCodec::new(10, MAX_TO_BROWSER)
                .encode(&body[..], &mut dst)
                .is_err()
        );
        assert!(dst.is_empty());
    }

    #[test]
    fn codec_two_frames_in_one_buffer_and_split_frames() {
        let mut codec = FrameCodec::new(100, 100);
        let mut stream = framed(b"{\"n\":1}");
        stream.extend(framed(b"{\"n\":2}"));
        let mut buf = BytesMut::from(&stream[..]);
        assert_eq!(&codec.decode(&mut buf).unwrap().unwrap()[..], b"{\"n\":1}");
        assert_eq!(&codec.decode(&mut buf).unwrap().unwrap()[..], b"{\"n\":2}");
        assert!(codec.decode(&mut buf).unwrap().is_none());

        // Byte by byte: no frame until the last byte arrives.
        let one = framed(b"{\"n\":3}");
        let mut buf = BytesMut::new();
        for (i, b) in one.iter().enumerate() {
            buf.put_u8(*b);
            let got = codec.decode(&mut buf).unwrap();
            assert_eq!(got.is_some(), i == one.len() - 1);
        }
    }

    #[test]
    fn codec_checks_limit_before_body_arrives() {
        let mut codec = FrameCodec::new(16, 16);
        let mut buf = BytesMut::from(&17u32.to_ne_bytes()[..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(FrameError::TooLarge { len: 17, limit: 16 })
        ));
        assert!(buf.capacity() < 1024, "no allocation for the refused body");
    }

    #[test]
    fn codec_eof_inside_frame_is_truncated() {
        let mut codec = FrameCodec::new(100, 100);
        let mut buf = BytesMut::from(&[5u8, 0][..]);
        assert!(matches!(
            codec.decode_eof(&mut buf),
            Err(FrameError::Truncated { .. })
        ));
        let stream = framed(b"{\"a\":1}");
        let mut buf = BytesMut::from(&stream[..6]);
        assert!(matches!(
            codec.decode_eof(&mut buf),
            Err(FrameError::Truncated {
                expected: 11,
                got: 6
            })
        ));
        let mut empty = BytesMut::new();
        assert!(codec.decode_eof(&mut empty).unwrap().is_none());
    }
}
