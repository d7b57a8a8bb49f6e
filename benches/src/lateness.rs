//! Sleep lateness: how long after its deadline a sleeping task runs again.
//!
//! A sleep never ends early on either runtime; it ends late by the timer's granularity (tokio's
//! timer wheel has 1 ms slots; gort's per-P heaps keep nanoseconds but the netpoller's
//! `epoll_wait` takes milliseconds, rounded up as Go does), plus the time to wake a parked
//! worker thread and run the task. On an idle runtime that is all there is, which is what
//! [`measure`] looks at: one task sleeping `n` times in a row.

use std::time::{Duration, Instant};

use crate::peer::Peer;

/// Sleep `d`, `n` times in a row, in one task on an otherwise idle runtime; return each sleep's
/// lateness (actual duration minus `d`).
pub fn measure<R: Peer>(rt: &R, d: Duration, n: usize) -> Vec<Duration> {
    rt.block_on(async move {
        let mut late = Vec::with_capacity(n);
        for _ in 0..n {
            let start = Instant::now();
            R::sleep(d).await;
            late.push(start.elapsed().saturating_sub(d));
        }
        late
    })
}

/// p50, p99 and max of a sample, in that order (nearest-rank percentiles).
pub fn summary(sample: &[Duration]) -> Option<(Duration, Duration, Duration)> {
    if sample.is_empty() {
        return None;
    }
    let mut s = sample.to_vec();
    s.sort_unstable();
    let rank = |p: usize| s[((p * s.len()).div_ceil(100)).clamp(1, s.len()) - 1];
    Some((rank(50), rank(99), s[s.len() - 1]))
}

/// `1.234 ms`-style, µs resolution.
pub fn fmt_ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn summary_of_one_to_hundred_is_fifty_ninety_nine_hundred() {
        let sample: Vec<_> = (1..=100).rev().map(ms).collect();
        assert_eq!(summary(&sample), Some((ms(50), ms(99), ms(100))));
    }

    #[test]
    fn summary_of_a_single_value_is_that_value() {
        assert_eq!(summary(&[ms(3)]), Some((ms(3), ms(3), ms(3))));
    }

    #[test]
    fn summary_of_nothing_is_none() {
        assert_eq!(summary(&[]), None);
    }

    #[test]
    fn sleeps_never_end_early_on_gort() {
        let rt = crate::Gort::build(2).expect("runtime");
        let d = Duration::from_millis(1);
        let start = Instant::now();
        let late = measure(&rt, d, 5);
        assert_eq!(late.len(), 5);
        // Each sleep lasted at least `d`, so the round took at least 5 d.
        assert!(start.elapsed() >= 5 * d);
    }
}
