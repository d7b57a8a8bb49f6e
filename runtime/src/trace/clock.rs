//! The tracer's clock: Go's `cputicks` (runtime/os_*.go, asm_amd64.s: `runtime·cputicks`) and the
//! tick-to-nanosecond calibration `traceClockNow` / `StopTrace` do with it (runtime/trace.go).
//!
//! Every event needs a timestamp, and on a scheduler microbenchmark the clock is most of an
//! event's price, and `clock_gettime(CLOCK_MONOTONIC)` through the vDSO costs a few times what a
//! read of the CPU's tick counter (`rdtsc`) does. So, like Go, the tracer stamps events
//! with raw ticks and converts them to nanoseconds once, when the trace is read: the session reads
//! both clocks at start and at stop ([`now`]), and every tick count in between maps linearly onto
//! that interval (`gort-trace-format`, `file.rs`: `Calibration`). With a trace of 10 ms or more
//! the conversion is accurate to well under a microsecond.
//!
//! Ticks are only trusted when they are a fine, steady, machine-wide clock:
//! - x86_64 Linux: only if the kernel itself uses the TSC as its clocksource
//!   (`/sys/devices/system/clocksource/clocksource0/current_clocksource` is `tsc`). The kernel
//!   checks that the TSC is invariant (`constant_tsc`, `nonstop_tsc`) and synchronized across
//!   CPUs, and switches away from it when it is not; we follow its verdict instead of re-deriving
//!   it from CPUID flags. This is where we differ from Go, which uses the TSC whenever it exists.
//! - aarch64: the architectural generic timer (`CNTVCT_EL0`), which the architecture guarantees is
//!   constant-rate and system-wide.
//! - anywhere else, and under Miri: the monotonic clock itself, read as "ticks" of 1 ns.
//!
//! The choice is made once per process. A thread that migrates between CPUs reads the same
//! counter either way, so one thread's events stay in order, which is all the output relies on.

use std::sync::OnceLock;

use gort_trace_format::ClockPair;

/// Nanoseconds on the monotonic clock. On Unix this is `clock_gettime(CLOCK_MONOTONIC)` read
/// directly — the clock `Instant` uses — because `Instant`'s `Duration` arithmetic roughly doubles
/// the cost of a read.
#[cfg(unix)]
pub(crate) fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call; CLOCK_MONOTONIC exists on every
    // Unix the runtime supports, and if the call failed `ts` would simply stay zero.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

#[cfg(not(unix))]
pub(crate) fn monotonic_ns() -> u64 {
    static BASE: OnceLock<std::time::Instant> = OnceLock::new();
    BASE.get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

/// Which counter [`ticks`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// The CPU's (or the architecture's) tick counter.
    Counter,
    /// [`monotonic_ns`]: one tick is one nanosecond.
    Monotonic,
}

static SOURCE: OnceLock<Source> = OnceLock::new();

/// The counter this process uses; decided on first call (at the first trace start).
pub(crate) fn source() -> Source {
    *SOURCE.get_or_init(choose)
}

fn choose() -> Source {
    if cfg!(miri) || std::env::var_os("GORTTRACE_CLOCK").is_some_and(|v| v == "monotonic") {
        return Source::Monotonic;
    }
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    {
        let path = "/sys/devices/system/clocksource/clocksource0/current_clocksource";
        if std::fs::read_to_string(path).is_ok_and(|s| s.trim() == "tsc") {
            return Source::Counter;
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        return Source::Counter;
    }
    #[allow(unreachable_code)]
    Source::Monotonic
}

/// Read the clock: the CPU's counter if `counter` (the caller's cached `source() ==
/// Source::Counter`), else the monotonic clock in nanoseconds.
#[inline(always)]
pub(crate) fn ticks(counter: bool) -> u64 {
    if counter {
        self::counter()
    } else {
        monotonic_ns()
    }
}

#[cfg(all(target_arch = "x86_64", not(miri)))]
#[inline]
fn counter() -> u64 {
    // SAFETY: RDTSC exists on every x86_64 CPU and has no memory effects. `source()` picks the
    // counter only where the kernel vouches for it being invariant and synchronized.
    unsafe { core::arch::x86_64::_rdtsc() }
}

#[cfg(all(target_arch = "aarch64", not(miri)))]
#[inline]
fn counter() -> u64 {
    let v: u64;
    // SAFETY: CNTVCT_EL0 is readable from EL0 on every aarch64 OS the runtime supports (Linux and
    // macOS enable user access to the virtual counter); the read has no side effects.
    unsafe { core::arch::asm!("mrs {}, cntvct_el0", out(reg) v, options(nomem, nostack)) };
    v
}

#[cfg(any(miri, not(any(target_arch = "x86_64", target_arch = "aarch64"))))]
#[inline]
fn counter() -> u64 {
    monotonic_ns()
}

/// Both clocks, read now: the session reads them at start and at stop, and the reader maps the
/// ticks in between onto that interval (`gort-trace-format`: `Calibration`).
pub(crate) fn now() -> ClockPair {
    // Ticks read between two nanosecond reads, paired with their midpoint: halves the error a
    // preemption between the two reads would cause.
    let a = monotonic_ns();
    let ticks = ticks(source() == Source::Counter);
    let b = monotonic_ns();
    ClockPair {
        ticks,
        ns: a + (b.saturating_sub(a)) / 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gort_trace_format::file::Calibration;

    #[test]
    fn ticks_advance_and_convert_to_about_the_elapsed_nanoseconds() {
        let counter = source() == Source::Counter;
        let a = now();
        let t0 = ticks(counter);
        std::thread::sleep(std::time::Duration::from_millis(if cfg!(miri) {
            1
        } else {
            20
        }));
        let t1 = ticks(counter);
        let b = now();
        assert!(t1 > t0);
        let cal = Calibration::new(a, b, source() == Source::Monotonic);
        let span = b.ns - a.ns;
        let mid = cal.ns(t1);
        assert!(mid <= span + span / 100 + 1_000, "{mid} > {span}");
        assert!(cal.ns(t0) <= mid);
        assert_eq!(cal.ns(a.ticks.saturating_sub(5)), 0);
    }
}
