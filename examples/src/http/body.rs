//! Reading a request body, whatever its framing: Go's net/http `body` (transfer.go), which wraps
//! either an `io.LimitReader` (Content-Length) or a chunked reader, and `MaxBytesReader` (the
//! body limit, answered with 413).
//!
//! Like the chunked decoder it is push-based: the connection feeds it the bytes it has, and it says
//! how many it used. Bytes after the end of the body belong to the next pipelined request, so it
//! never uses more than the body.
//!
//! Differences from Go: Go streams the body to the handler as an `io.Reader`; here the body is
//! read whole before the handler runs (the handlers are small, and a complete body is what lets
//! the reader move on to the next pipelined request while the handler runs in its own G). The
//! limit keeps that bounded.

use super::chunked::ChunkedDecoder;
use super::error::HttpError;
use super::request::Framing;

/// Decodes one request body.
#[derive(Clone, Debug)]
pub struct BodyDecoder {
    kind: Kind,
    limit: usize,
}

#[derive(Clone, Debug)]
enum Kind {
    Length { remaining: u64 },
    Chunked(ChunkedDecoder),
}

impl BodyDecoder {
    /// A decoder for a body framed as `framing`, at most `limit` bytes once decoded. A declared
    /// length over the limit is refused at once (413), before any of it is read.
    pub fn new(framing: Framing, limit: usize) -> Result<BodyDecoder, HttpError> {
        let kind = match framing {
            Framing::Empty => Kind::Length { remaining: 0 },
            Framing::Length(n) if n > limit as u64 => return Err(HttpError::PayloadTooLarge),
            Framing::Length(n) => Kind::Length { remaining: n },
            Framing::Chunked => Kind::Chunked(ChunkedDecoder::new()),
        };
        Ok(BodyDecoder { kind, limit })
    }

    pub fn is_done(&self) -> bool {
        match &self.kind {
            Kind::Length { remaining } => *remaining == 0,
            Kind::Chunked(c) => c.is_done(),
        }
    }

    /// Append what `input` holds of the body to `out`; returns how many bytes of `input` it used.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, HttpError> {
        match &mut self.kind {
            Kind::Length { remaining } => {
                let take = (*remaining).min(input.len() as u64) as usize;
                out.extend_from_slice(&input[..take]);
                *remaining -= take as u64;
                Ok(take)
            }
            Kind::Chunked(c) => c.decode(input, out, self.limit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_body_stops_at_its_length() {
        let mut d = BodyDecoder::new(Framing::Length(5), 100).unwrap();
        let mut out = Vec::new();
        assert_eq!(d.decode(b"hel", &mut out).unwrap(), 3);
        assert!(!d.is_done());
        assert_eq!(d.decode(b"loGET /", &mut out).unwrap(), 2);
        assert!(d.is_done());
        assert_eq!(out, b"hello");
    }

    #[test]
    fn empty_body_is_done_at_once() {
        let d = BodyDecoder::new(Framing::Empty, 0).unwrap();
        assert!(d.is_done());
    }

    #[test]
    fn declared_length_over_the_limit_is_413_up_front() {
        let e = BodyDecoder::new(Framing::Length(101), 100).unwrap_err();
        assert_eq!(e, HttpError::PayloadTooLarge);
        assert!(BodyDecoder::new(Framing::Length(100), 100).is_ok());
    }

    #[test]
    fn chunked_body_is_decoded_and_limited() {
        let mut d = BodyDecoder::new(Framing::Chunked, 8).unwrap();
        let mut out = Vec::new();
        let wire = b"3\r\nabc\r\n0\r\n\r\nnext";
        assert_eq!(d.decode(wire, &mut out).unwrap(), wire.len() - 4);
        assert!(d.is_done());
        assert_eq!(out, b"abc");
        let mut d = BodyDecoder::new(Framing::Chunked, 8).unwrap();
        let mut out = Vec::new();
        assert_eq!(
            d.decode(b"9\r\n", &mut out),
            Err(HttpError::PayloadTooLarge)
        );
    }
}
