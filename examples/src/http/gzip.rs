//! Response compression: content negotiation on `Accept-Encoding` (RFC 9110 §12.5.3) and gzip
//! through `flate2`. Go's standard server does not compress; Go programs add a middleware
//! (`gziphandler` and the like) that does what this file does.
//!
//! Tiny bodies are sent as they are: gzip's header and trailer alone are 18 bytes, so compressing
//! "Hello" makes it bigger and costs CPU for nothing. [`MIN_GZIP_LEN`] is the cut-off.

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;

/// Bodies shorter than this are never compressed.
pub const MIN_GZIP_LEN: usize = 256;

/// Does an `Accept-Encoding` value allow gzip? `gzip`, `x-gzip` or `*` with a non-zero quality,
/// unless gzip itself is listed with `q=0` (an explicit refusal beats the wildcard).
pub fn accepts_gzip(value: &[u8]) -> bool {
    let Ok(value) = std::str::from_utf8(value) else {
        return false;
    };
    let mut gzip = None;
    let mut star = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .map(|(_, v)| v.trim().parse::<f32>().unwrap_or(0.0))
            .unwrap_or(1.0);
        if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            gzip = Some(q > 0.0);
        } else if coding == "*" {
            star = Some(q > 0.0);
        }
    }
    gzip.or(star).unwrap_or(false)
}

/// Compress `data` with gzip at a fast level (a server trades ratio for latency). Writing into
/// memory does not fail in practice; a caller that gets an error sends the body uncompressed.
pub fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 2 + 32), Compression::fast());
    enc.write_all(data)?;
    enc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    #[test]
    fn negotiation_follows_codings_and_qualities() {
        assert!(accepts_gzip(b"gzip"));
        assert!(accepts_gzip(b"deflate, GZIP;q=0.5"));
        assert!(accepts_gzip(b"x-gzip"));
        assert!(accepts_gzip(b"*"));
        assert!(!accepts_gzip(b"br, deflate"));
        assert!(!accepts_gzip(b"gzip;q=0"));
        assert!(!accepts_gzip(b"*, gzip;q=0"));
        assert!(!accepts_gzip(b"identity"));
        assert!(!accepts_gzip(b"\xff"));
    }

    #[test]
    fn gzip_round_trips() {
        let text = "Hello from gort!\n".repeat(100);
        let packed = gzip(text.as_bytes()).unwrap();
        assert!(packed.len() < text.len() / 4);
        let mut out = String::new();
        GzDecoder::new(&packed[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, text);
    }
}
