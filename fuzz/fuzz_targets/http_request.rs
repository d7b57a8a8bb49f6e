//! Fuzz target: the example server's HTTP/1.1 request-head parser and body framing
//! (examples/src/http/request.rs `parse_head`, body.rs `BodyDecoder`). Arbitrary bytes must give a
//! head, "incomplete" or an `HttpError` (400/413/431) — never a panic — and a parsed head's length
//! must lie within the input. The bytes after the head are fed to the body decoder it chose, in two
//! pieces, as a connection would.
#![no_main]

use examples::http::{parse_head, BodyDecoder, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_head: 4096,
        max_headers: 16,
        max_body: 8192,
    };
    let Ok(Some((head, n))) = parse_head(data, &limits) else {
        return;
    };
    assert!(
        n <= data.len(),
        "head length {n} past the input ({})",
        data.len()
    );
    let Ok(mut body) = BodyDecoder::new(head.framing, limits.max_body) else {
        return;
    };
    let rest = &data[n..];
    let split = rest.len() / 2;
    let mut out = Vec::new();
    let mut used = 0;
    for part in [&rest[..split], &rest[split..]] {
        match body.decode(part, &mut out) {
            Ok(k) => {
                assert!(k <= part.len());
                used += k;
                if k < part.len() {
                    break; // the body ended; what follows is the next request
                }
            }
            Err(_) => return,
        }
    }
    assert!(used <= rest.len());
    assert!(out.len() <= limits.max_body, "body past its limit");
});
