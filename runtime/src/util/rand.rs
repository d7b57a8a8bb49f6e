//! Cheap per-thread random numbers: Go's `cheaprand` (runtime/rand.go).
//!
//! The scheduler needs randomness in two places: the order in which a thief visits victims
//! (`sched/proc.rs: steal_work`) and the poll order of `select!` arms (`chan/select.rs`, Go's
//! `pollorder`). Neither needs cryptographic quality, only speed and no shared state, so each thread
//! keeps its own wyrand state seeded from the clock, the thread's address and a global counter.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

static SEED: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);

#[cfg(not(loom))]
thread_local! {
    static STATE: Cell<u64> = const { Cell::new(0) };
}

// Under loom every execution of a model must make the same choices, so the seed is fixed.
#[cfg(loom)]
loom::thread_local! {
    static STATE: Cell<u64> = Cell::new(0x2545_F491_4F6C_DD1D);
}

fn seed() -> u64 {
    #[cfg(not(miri))]
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    // Miri isolates the program from the host's wall clock (reading it is an error there); the
    // address and the counter still give each thread its own sequence.
    #[cfg(miri)]
    let t = 0;
    let local = 0u8;
    let addr = &local as *const u8 as u64;
    let n = SEED.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    (t ^ addr.rotate_left(32) ^ n) | 1
}

/// A random u64 (wyrand).
pub(crate) fn fastrand64() -> u64 {
    STATE.with(|s| {
        let mut x = s.get();
        if x == 0 {
            x = seed();
        }
        x = x.wrapping_add(0xa076_1d64_78bd_642f);
        s.set(x);
        let t = (x as u128).wrapping_mul((x ^ 0xe703_7ed1_a0b4_28db) as u128);
        ((t >> 64) as u64) ^ (t as u64)
    })
}

/// A random number in `0..n` (Lemire's multiply-shift; `n` must be non-zero).
pub(crate) fn fastrand_n(n: u32) -> u32 {
    debug_assert!(n > 0);
    (((fastrand64() as u32) as u64 * n as u64) >> 32) as u32
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fastrand_n_stays_in_range_and_covers_it() {
        let mut seen = [0u32; 7];
        for _ in 0..7_000 {
            let x = fastrand_n(7) as usize;
            assert!(x < 7);
            seen[x] += 1;
        }
        assert!(seen.iter().all(|&c| c > 700), "badly skewed: {seen:?}");
    }
}
