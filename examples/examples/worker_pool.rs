//! # worker_pool — jobs channel, results channel, N workers
//!
//! Run: `cargo run --release --example worker_pool -- --jobs 1000 --workers 4`
//!
//! What to watch for: the jobs spread over the workers (whoever is free takes the next job), every
//! job comes back exactly once, and the program ends without counting anything: closing the jobs
//! channel ends the workers, the workers ending closes the results channel, and that ends the
//! collector.
//!
//! Chapter: Go book ch. 15, concurrency patterns.

use examples::chapters::{arg, worker_pool};

fn main() {
    let jobs: u64 = arg("--jobs", 1000);
    let workers: usize = arg("--workers", 4);
    let done = gort::run(worker_pool::worker_pool(jobs, workers));
    let mut per_worker = vec![0usize; workers];
    for d in &done {
        per_worker[d.worker] += 1;
    }
    for (w, n) in per_worker.iter().enumerate() {
        println!("worker {w}: {n} jobs");
    }
    for d in done.iter().take(3) {
        println!(
            "  e.g. job {} -> digit sum {} (worker {})",
            d.job, d.answer, d.worker
        );
    }
    let once = done.iter().map(|d| d.job).eq(0..jobs);
    let right = done
        .iter()
        .all(|d| d.answer == worker_pool::digit_sum(d.job));
    println!(
        "{} results for {jobs} jobs; each job exactly once: {}; answers right: {}",
        done.len(),
        if once { "yes" } else { "NO" },
        if right { "yes" } else { "NO" }
    );
}
