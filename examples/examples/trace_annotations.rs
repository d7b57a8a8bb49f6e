//! # trace_annotations — the program's own words in the trace, and the flight recorder
//!
//! Run: `cargo run --release --example trace_annotations`
//! Look: open `trace_annotations.json` in https://ui.perfetto.dev (or
//!       `cargo run --release --bin gort-trace -- html trace_annotations.json`). Below the P and M
//!       tracks: a track per task (`task request #N`), one slice from `Task::new` to its drop; a
//!       track per G that annotated (`G12 user`) with its regions `parse` and `respond` nested in
//!       `handle`, and `status` log messages as marks. A region spans the G's awaits: the G
//!       sleeps inside `parse`, and may resume on another M.
//! Then: a flight recorder asked to keep at least the last 100 ms of a 3 s run, in at most
//!       128 KiB; `trace_annotations_flight.bin` holds that window (raw trace):
//!       `cargo run --release --bin gort-trace -- summary trace_annotations_flight.bin`. It keeps
//!       whole 64 KiB chunks, and every thread's chunk being filled, so the window reaches back
//!       further than 100 ms — how far, the program prints — and a thread that records little
//!       (the one in `block_on`) keeps its first events.
//!
//! Go: runtime/trace `NewTask`, `WithRegion` / `StartRegion`, `Log`, and Go 1.25's
//! `FlightRecorder` (`GORTTRACE=flight:path` does the same for a whole program).

use std::time::Duration;

use gort::trace::{self, FlightConfig, FlightRecorder, Task};

/// Handle `n` requests on their own Gs, each a task with nested regions and a log message.
async fn serve(n: u64) {
    let mut handles = Vec::new();
    for i in 0..n {
        let task = Task::new("request");
        handles.push(gort::go(async move {
            let _handle = trace::start_region("handle");
            {
                let _parse = task.start_region("parse");
                gort::time::sleep(Duration::from_millis(1)).await;
            }
            let body = task.region("respond", || format!("hello {i}"));
            task.log("status", if i % 5 == 0 { "404" } else { "200" });
            body.len()
        }));
    }
    for h in handles {
        h.await.expect("a request");
    }
}

fn main() -> std::io::Result<()> {
    let file = std::fs::File::create("trace_annotations.json")?;
    trace::start(file)?;
    gort::run(serve(20));
    trace::stop()?;
    println!("wrote trace_annotations.json: 20 request tasks, their regions and log messages");

    let fr = FlightRecorder::new(FlightConfig {
        min_age: Duration::from_millis(100),
        max_bytes: 128 << 10,
    });
    fr.start()?;
    gort::run(async {
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            serve(50).await;
        }
    });
    let mut out = std::fs::File::create("trace_annotations_flight.bin")?;
    let n = fr.write_to(&mut out)?;
    fr.stop();
    // Where the window starts: the G runs it holds (a run whose start fell out of the window is
    // drawn from the start of the trace, so take the 5th percentile, not the first).
    let t =
        gort_trace::Trace::load("trace_annotations_flight.bin").map_err(std::io::Error::other)?;
    let mut starts: Vec<u64> = t.slices_of("g").map(|s| s.start).collect();
    starts.sort_unstable();
    let p5 = starts.get(starts.len() / 20).copied().unwrap_or(0);
    println!(
        "wrote trace_annotations_flight.bin ({n} bytes): {} G runs, 95 % of them from {:.2} s to \
         {:.2} s of the run",
        starts.len(),
        p5 as f64 / 1e9,
        t.end as f64 / 1e9
    );
    Ok(())
}
