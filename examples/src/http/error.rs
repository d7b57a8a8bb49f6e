//! Bad input as an HTTP status: what the server answers when a request cannot be served, before
//! it closes the connection (Go's net/http: the `badRequestError`s of `readRequest`, and the 431
//! it sends when a head outgrows `MaxHeaderBytes`).
//!
//! Every error here ends the connection: once a request is malformed, the server cannot know where
//! the next one starts, so it answers and closes, as Go's server does.

use std::fmt;

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpError {
    /// 400: the request line, a header or the body framing is malformed.
    BadRequest(&'static str),
    /// 431: the head (request line and headers) is over the limit, or has too many headers.
    HeaderTooLarge,
    /// 413: the body is over the limit.
    PayloadTooLarge,
    /// 501: a transfer coding the server does not implement.
    NotImplemented(&'static str),
}

impl HttpError {
    pub fn status(&self) -> u16 {
        match self {
            HttpError::BadRequest(_) => 400,
            HttpError::HeaderTooLarge => 431,
            HttpError::PayloadTooLarge => 413,
            HttpError::NotImplemented(_) => 501,
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::BadRequest(why) => write!(f, "bad request: {why}"),
            HttpError::HeaderTooLarge => f.write_str("request header fields too large"),
            HttpError::PayloadTooLarge => f.write_str("payload too large"),
            HttpError::NotImplemented(why) => write!(f, "not implemented: {why}"),
        }
    }
}

impl std::error::Error for HttpError {}
