//! Fuzz target: the chunked transfer-coding decoder (examples/src/http/chunked.rs). Arbitrary bytes,
//! split at an arbitrary point (the first byte chooses it), must decode or fail with an `HttpError`,
//! never panic; the decoded body never passes its limit; and decoding the same bytes in one piece or
//! in two gives the same result (a push decoder must not depend on where reads split the stream).
//! A round trip checks the encoder against the decoder: `encode_chunk` of some data followed by
//! `LAST_CHUNK` decodes back to that data.
#![no_main]

use examples::http::{encode_chunk, ChunkedDecoder, LAST_CHUNK};
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 4096;

/// Decode `parts` in order: Ok((bytes used, body, done)) or the error.
fn decode(parts: &[&[u8]]) -> Result<(usize, Vec<u8>, bool), u16> {
    let mut dec = ChunkedDecoder::new();
    let (mut out, mut used) = (Vec::new(), 0);
    for part in parts {
        let k = dec.decode(part, &mut out, LIMIT).map_err(|e| e.status())?;
        assert!(k <= part.len());
        assert!(out.len() <= LIMIT, "body past its limit");
        used += k;
        if dec.is_done() {
            break;
        }
    }
    Ok((used, out, dec.is_done()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, input)) = data.split_first() else {
        return;
    };
    let cut = usize::from(cut).min(input.len());
    let whole = decode(&[input]);
    let split = decode(&[&input[..cut], &input[cut..]]);
    assert_eq!(
        whole, split,
        "result depends on where the input was split (at {cut})"
    );

    // Round trip: the input as data, in chunks of up to 7 bytes.
    let mut wire = Vec::new();
    for chunk in input.chunks(7) {
        encode_chunk(chunk, &mut wire);
    }
    wire.extend_from_slice(LAST_CHUNK);
    if input.len() <= LIMIT {
        let (used, body, done) = decode(&[&wire]).expect("our own encoding must decode");
        assert!(done && used == wire.len());
        assert_eq!(body, input);
    }
});
