//! Reading a request head: Go's net/http `readRequest` (request.go) and the framing rules of
//! `readTransfer` / `shouldClose` (transfer.go), over `httparse` instead of Go's textproto reader.
//!
//! [`parse_head`] looks at the buffered bytes and returns either "not complete yet", a [`Head`] and
//! how many bytes it used, or an [`HttpError`]. It owns no socket, so pipelined requests are just
//! repeated calls on what is left of the buffer. The head says, besides the request itself:
//! - how the body is framed ([`Framing`]): RFC 9112 §6.3, strictly — a request with both
//!   `Content-Length` and `Transfer-Encoding`, or with two different lengths, is refused (400)
//!   rather than guessed at, since guessing is what request smuggling feeds on;
//! - whether the connection stays open after the response (`keep_alive`): HTTP/1.1 unless the
//!   client says `Connection: close`, HTTP/1.0 only if it says `Connection: keep-alive`;
//! - whether the client waits for `100 Continue` before sending its body, and accepts gzip.
//!
//! Differences from Go: Go reads the head line by line from a `bufio.Reader`; here `httparse` is
//! re-run over the whole buffer when more bytes arrive. That is quadratic only for a head trickled
//! in tiny pieces, and the head is at most `Limits::max_head` bytes.

use super::error::HttpError;
use super::gzip::accepts_gzip;

/// Size limits that protect the server from its clients.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Request line plus headers, in bytes (Go's `DefaultMaxHeaderBytes` is 1 MiB; 16 KiB is
    /// plenty for real clients). Over it: 431.
    pub max_head: usize,
    /// Number of header fields, at most [`MAX_HEADERS`]. Over it: 431.
    pub max_headers: usize,
    /// Decoded body, in bytes. Over it: 413.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head: 16 * 1024,
            max_headers: 64,
            max_body: 1024 * 1024,
        }
    }
}

/// The most header fields `Limits::max_headers` may allow: httparse fills an array of this many
/// slots, kept on the stack so parsing a head allocates only the owned request.
pub const MAX_HEADERS: usize = 64;

/// The protocol version of a request; the response uses the same one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// How the request body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A request: what a handler sees. The body is complete when a handler gets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target as sent, e.g. `/stream?n=5`.
    pub target: String,
    pub version: Version,
    /// Header fields in the order sent; names as sent (compare them case-insensitively).
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The target without its query.
    pub fn path(&self) -> &str {
        match self.target.split_once('?') {
            Some((p, _)) => p,
            None => &self.target,
        }
    }

    /// The value of query parameter `key` (no percent-decoding: the routes only take numbers).
    pub fn query(&self, key: &str) -> Option<&str> {
        let (_, q) = self.target.split_once('?')?;
        q.split('&').find_map(|kv| match kv.split_once('=') {
            Some((k, v)) if k == key => Some(v),
            None if kv == key => Some(""),
            _ => None,
        })
    }
}

/// A parsed request head, with the decisions the connection needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// The request, with an empty body for now.
    pub request: Request,
    pub framing: Framing,
    pub keep_alive: bool,
    /// `Expect: 100-continue` on an HTTP/1.1 request with a body.
    pub expect_continue: bool,
    pub accept_gzip: bool,
}

/// Parse the head at the start of `buf`. `Ok(None)`: incomplete, read more. `Ok(Some((head, n)))`:
/// the head used the first `n` bytes; the body (if any) and further requests follow.
pub fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<(Head, usize)>, HttpError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut slots[..limits.max_headers.min(MAX_HEADERS)]);
    let n = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() >= limits.max_head => {
            return Err(HttpError::HeaderTooLarge)
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HttpError::HeaderTooLarge),
        Err(httparse::Error::Version) => {
            return Err(HttpError::BadRequest("unsupported HTTP version"))
        }
        Err(httparse::Error::Token) => return Err(HttpError::BadRequest("malformed request line")),
        Err(_) => return Err(HttpError::BadRequest("malformed header")),
    };
    if n > limits.max_head {
        return Err(HttpError::HeaderTooLarge);
    }
    // A complete parse fills all three; `None` would be an httparse bug, but it is input-driven
    // code, so refuse the request rather than panic.
    let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return Err(HttpError::BadRequest("malformed request line"));
    };
    let version = match version {
        0 => Version::Http10,
        1 => Version::Http11,
        _ => return Err(HttpError::BadRequest("unsupported HTTP version")),
    };
    let headers: Vec<(String, Vec<u8>)> = req
        .headers
        .iter()
        .map(|h| (h.name.to_owned(), h.value.to_owned()))
        .collect();
    let request = Request {
        method: method.to_owned(),
        target: target.to_owned(),
        version,
        headers,
        body: Vec::new(),
    };
    let framing = framing(&request)?;
    if version == Version::Http11
        && request
            .headers
            .iter()
            .filter(|(n, _)| is(n, "host"))
            .count()
            != 1
    {
        // RFC 9112 §3.2: exactly one Host in HTTP/1.1 (Go: "missing required Host header").
        return Err(HttpError::BadRequest(
            "HTTP/1.1 needs exactly one Host header",
        ));
    }
    let keep_alive = match version {
        Version::Http11 => !has_token(&request, "connection", "close"),
        Version::Http10 => has_token(&request, "connection", "keep-alive"),
    };
    let expect_continue = version == Version::Http11
        && framing != Framing::Empty
        && request
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"));
    let accept_gzip = request
        .headers
        .iter()
        .filter(|(n, _)| is(n, "accept-encoding"))
        .any(|(_, v)| accepts_gzip(v));
    Ok(Some((
        Head {
            request,
            framing,
            keep_alive,
            expect_continue,
            accept_gzip,
        },
        n,
    )))
}

fn is(name: &str, want: &str) -> bool {
    name.eq_ignore_ascii_case(want)
}

/// Does any `name` header list `token` (comma-separated, case-insensitive)?
fn has_token(req: &Request, name: &str, token: &str) -> bool {
    req.headers
        .iter()
        .filter(|(n, _)| is(n, name))
        .flat_map(|(_, v)| v.split(|&b| b == b','))
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// RFC 9112 §6.3, refusing every ambiguous case.
fn framing(req: &Request) -> Result<Framing, HttpError> {
    let mut te = req
        .headers
        .iter()
        .filter(|(n, _)| is(n, "transfer-encoding"));
    let mut cl = req.headers.iter().filter(|(n, _)| is(n, "content-length"));
    if let Some((_, first)) = te.next() {
        if cl.next().is_some() {
            return Err(HttpError::BadRequest(
                "both Content-Length and Transfer-Encoding",
            ));
        }
        // Only plain `chunked` is implemented; any other coding (or a list of them) is 501, as
        // in Go ("unsupported transfer encoding").
        if te.next().is_some() || !first.trim_ascii().eq_ignore_ascii_case(b"chunked") {
            return Err(HttpError::NotImplemented(
                "transfer coding other than chunked",
            ));
        }
        return Ok(Framing::Chunked);
    }
    let mut len: Option<u64> = None;
    for (_, v) in cl {
        // A list like "5, 5" is allowed by the RFC when all values agree; so are repeated headers.
        for part in v.split(|&b| b == b',') {
            let n = parse_decimal(part.trim_ascii())
                .ok_or(HttpError::BadRequest("invalid Content-Length"))?;
            if len.is_some_and(|l| l != n) {
                return Err(HttpError::BadRequest("conflicting Content-Length values"));
            }
            len = Some(n);
        }
    }
    Ok(match len {
        None | Some(0) => Framing::Empty,
        Some(n) => Framing::Length(n),
    })
}

/// Digits only (no sign, no spaces), without overflow.
fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        let d = (b as char).to_digit(10)?;
        acc.checked_mul(10)?.checked_add(u64::from(d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Option<(Head, usize)>, HttpError> {
        parse_head(s.as_bytes(), &Limits::default())
    }

    fn head(s: &str) -> Head {
        parse(s).expect("valid").expect("complete").0
    }

    #[test]
    fn simple_get_is_parsed_with_its_headers_and_length() {
        let raw = "GET /stream?n=3&x HTTP/1.1\r\nHost: a\r\nX-Y: z\r\n\r\n";
        let (h, n) = parse(raw).unwrap().unwrap();
        assert_eq!(n, raw.len());
        assert_eq!(h.request.method, "GET");
        assert_eq!(h.request.path(), "/stream");
        assert_eq!(h.request.query("n"), Some("3"));
        assert_eq!(h.request.query("x"), Some(""));
        assert_eq!(h.request.query("m"), None);
        assert_eq!(h.request.header("x-y"), Some(&b"z"[..]));
        assert_eq!(h.framing, Framing::Empty);
        assert!(h.keep_alive);
    }

    #[test]
    fn incomplete_head_asks_for_more() {
        assert_eq!(parse("GET / HTTP/1.1\r\nHost: a\r\n"), Ok(None));
        assert_eq!(parse("GE"), Ok(None));
    }

    #[test]
    fn pipelined_requests_parse_one_after_the_other() {
        let raw = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c";
        let (a, n1) = parse(raw).unwrap().unwrap();
        let (b, n2) = parse(&raw[n1..]).unwrap().unwrap();
        assert_eq!(a.request.target, "/a");
        assert_eq!(b.request.target, "/b");
        assert_eq!(parse(&raw[n1 + n2..]), Ok(None));
    }

    #[test]
    fn keep_alive_follows_version_and_connection_header() {
        assert!(head("GET / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive);
        assert!(!head("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n").keep_alive);
        assert!(!head("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n").keep_alive);
        assert!(!head("GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
    }

    #[test]
    fn body_framing_from_length_or_chunked() {
        let h = head("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n");
        assert_eq!(h.framing, Framing::Length(12));
        let h = head("POST /echo HTTP/1.1\r\nHost: a\r\ncontent-length: 5, 5\r\n\r\n");
        assert_eq!(h.framing, Framing::Length(5));
        let h = head("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n");
        assert_eq!(h.framing, Framing::Chunked);
        let h = head("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(h.framing, Framing::Empty);
    }

    #[test]
    fn ambiguous_or_invalid_framing_is_refused() {
        let bad = |s: &str| parse(s).unwrap_err().status();
        assert_eq!(
            bad("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
            400
        );
        assert_eq!(
            bad("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
            400
        );
        assert_eq!(
            bad("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -3\r\n\r\n"),
            400
        );
        assert_eq!(
            bad("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"),
            400
        );
        assert_eq!(
            bad("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            501
        );
    }

    #[test]
    fn malformed_input_is_400_not_a_panic() {
        let bad = |s: &[u8]| parse_head(s, &Limits::default()).unwrap_err().status();
        assert_eq!(bad(b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n"), 400);
        assert_eq!(bad(b"GET\x01/ HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(bad(b"GET / HTTP/2.0\r\n\r\n"), 400);
        assert_eq!(bad(b"\xff\xfe\xfd garbage\r\n\r\n"), 400);
        assert_eq!(bad(b"GET / HTTP/1.1\r\n\r\n"), 400, "HTTP/1.1 without Host");
    }

    #[test]
    fn oversized_head_or_too_many_headers_is_431() {
        let limits = Limits::default();
        let mut raw = b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: ".to_vec();
        raw.resize(limits.max_head + 10, b'a');
        assert_eq!(parse_head(&raw, &limits), Err(HttpError::HeaderTooLarge));
        let mut many = String::from("GET / HTTP/1.1\r\nHost: a\r\n");
        for i in 0..limits.max_headers {
            many.push_str(&format!("X-{i}: v\r\n"));
        }
        many.push_str("\r\n");
        assert_eq!(parse(&many), Err(HttpError::HeaderTooLarge));
    }

    #[test]
    fn expect_continue_and_gzip_are_noticed() {
        let h = head(
            "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\
             Accept-Encoding: br, gzip;q=0.5\r\n\r\n",
        );
        assert!(h.expect_continue);
        assert!(h.accept_gzip);
        let h = head("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n");
        assert!(!h.expect_continue, "no body, nothing to wait for");
    }

    /// A small xorshift generator: deterministic, so a failure reproduces.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn mangled_requests_never_panic_the_parser_or_the_body_decoders() {
        let valid = b"POST /echo?x=1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\
                      Accept-Encoding: gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        let limits = Limits {
            max_head: 256,
            max_headers: 8,
            max_body: 64,
        };
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            let mut input = valid.to_vec();
            for _ in 0..(xorshift(&mut rng) % 6 + 1) {
                let i = (xorshift(&mut rng) as usize) % input.len();
                match xorshift(&mut rng) % 3 {
                    0 => input[i] = xorshift(&mut rng) as u8,
                    1 => input.truncate(i),
                    _ => input.insert(i, b"\r\n:;0 "[(xorshift(&mut rng) % 6) as usize]),
                }
                if input.is_empty() {
                    break;
                }
            }
            if let Ok(Some((head, n))) = parse_head(&input, &limits) {
                if let Ok(mut body) =
                    super::super::body::BodyDecoder::new(head.framing, limits.max_body)
                {
                    let mut out = Vec::new();
                    let _ = body.decode(&input[n..], &mut out);
                    assert!(out.len() <= limits.max_body);
                }
            }
        }
    }
}
