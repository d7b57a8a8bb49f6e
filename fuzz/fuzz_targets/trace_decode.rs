//! Fuzz target: the trace decoder (trace-format/src/file.rs `RawTrace::read` and `RawTrace::decode`,
//! which runs wire.rs's `Decoder` over every buffer). Arbitrary bytes must give a trace or an
//! `Error`, never a panic; a decoded trace is in time order and names only threads it lists. The
//! Chrome JSON converter behind it is the `trace_chrome` target. Inputs that
//! do not start with the raw file's magic are also tried as the body of a file, behind a valid
//! header, so the fuzzer reaches the record decoder without having to guess the magic.
#![no_main]

use gort_trace_format::RawTrace;
use libfuzzer_sys::fuzz_target;

fn check(bytes: &[u8]) {
    let Ok(raw) = RawTrace::read(bytes) else {
        return;
    };
    if let Ok(trace) = raw.decode() {
        // Events are in time order, each naming a known thread.
        assert!(trace.events.windows(2).all(|w| w[0].1.ts <= w[1].1.ts));
        assert!(trace
            .events
            .iter()
            .all(|(t, _)| (*t as usize) < trace.threads.len()));
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if !gort_trace_format::file::is_raw(data) {
        check(&gort_trace_format::file::single_buffer_file(
            data,
            data.len() & 1 == 0,
        ));
    }
});
