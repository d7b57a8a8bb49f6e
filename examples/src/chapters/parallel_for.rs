//! Parallel for (Go book, chapter 15): split a loop's range into one chunk per G, run the chunks at
//! once, and join.
//!
//! Go writes this with a `sync.WaitGroup` and each goroutine writing its own slot of a results slice.
//! In Rust a G that returns a value is the simpler join: each chunk's `JoinHandle` yields that chunk's
//! result, and awaiting the handles in order puts the results back in order — no shared slice, no
//! lock. The Gs spread over the Ps by work stealing, so with `GORTMAXPROCS` Ps the chunks really run
//! in parallel.

/// The work per index: deliberately a little CPU-heavy (a few hundred multiply-adds), so that
/// splitting it pays.
pub fn work(i: u64) -> u64 {
    let mut x = i;
    for _ in 0..256 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
    }
    x >> 40
}

/// The chunk bounds: `n` indices split into `parts` nearly equal half-open ranges, in order.
pub fn chunks(n: u64, parts: u64) -> Vec<(u64, u64)> {
    let parts = parts.max(1);
    (0..parts)
        .map(|k| (n * k / parts, n * (k + 1) / parts))
        .collect()
}

/// The result of a run.
#[derive(Debug)]
pub struct Report {
    /// `work(i)` summed over `0..n`.
    pub sum: u64,
    /// Per chunk: its range and the P that finished it (`None` if it could not tell).
    pub chunks: Vec<((u64, u64), Option<usize>)>,
}

/// Sum `work(i)` for `i` in `0..n`, over `gs` Gs.
pub async fn parallel_for(n: u64, gs: u64) -> Report {
    let handles: Vec<_> = chunks(n, gs)
        .into_iter()
        .map(|(lo, hi)| {
            gort::go(async move {
                let mut sum = 0u64;
                for i in lo..hi {
                    sum = sum.wrapping_add(work(i));
                    if i % 4096 == 0 {
                        // A long loop with no channel operation would never reach a preemption
                        // point; this is Go's function-prologue check, made explicit.
                        gort::coop().await;
                    }
                }
                ((lo, hi), sum, gort::current_p())
            })
        })
        .collect();
    let mut report = Report {
        sum: 0,
        chunks: Vec::new(),
    };
    for h in handles {
        match h.await {
            Ok((range, sum, p)) => {
                report.sum = report.sum.wrapping_add(sum);
                report.chunks.push((range, p));
            }
            Err(e) => panic!("a chunk's G failed: {e}"),
        }
    }
    report
}
