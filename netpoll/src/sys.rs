//! The platform layer: what differs between Go's runtime/netpoll_epoll.go (Linux) and netpoll_kqueue.go
//! (macOS, BSD). Everything else in this crate is portable.
//!
//! mio already hides the system calls: on Linux every fd is registered once with
//! `EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET` (exactly Go's flags) and `mio::Waker` is an eventfd; on kqueue
//! systems the fd gets `EVFILT_READ` and `EVFILT_WRITE` filters with `EV_CLEAR` (edge-triggered) and the
//! waker is an `EVFILT_USER` event. What is left is how an event maps to the two directions, and the wait
//! granularity.
//!
//! Both rules are compiled everywhere (a `cfg!` constant picks one), but only the epoll one can be
//! run on this project's machines.

use std::time::Duration;

use mio::event::Event;

/// Whether mio uses kqueue here (macOS, iOS and the BSDs); elsewhere it uses epoll.
const KQUEUE: bool = cfg!(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos",
    target_os = "visionos",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly",
));

/// Which directions an event makes ready, as `(readable, writable)`.
///
/// Go's epoll rule: readable on `IN|RDHUP|HUP|ERR`, writable on `OUT|HUP|ERR`. mio's accessors cover those
/// bits: `is_read_closed` is HUP or RDHUP, `is_write_closed` is HUP (or ERR on a pipe), `is_error` is ERR.
///
/// Go's kqueue rule: `EVFILT_READ` is readable, `EVFILT_WRITE` writable, and an `EVFILT_READ` with
/// `EV_EOF` (`is_read_closed`) wakes the writer too. Some systems never deliver a write event to the
/// write end of a pipe whose read end closed, only that read EOF; the woken writer retries and gets
/// EPIPE (or succeeds), so a spurious wake costs one syscall while a missing one would hang it.
pub(crate) fn readiness(ev: &Event) -> (bool, bool) {
    let err = ev.is_error();
    let eof = ev.is_read_closed();
    let eof_wakes_writer = KQUEUE && eof;
    (
        ev.is_readable() || eof || err,
        ev.is_writable() || ev.is_write_closed() || eof_wakes_writer || err,
    )
}

/// Whether the event says the read side is finished for good: the peer shut its half down (EOF)
/// or the socket has an error. No later event need come for a read to return at once.
pub(crate) fn read_final(ev: &Event) -> bool {
    ev.is_read_closed() || ev.is_error()
}

/// Go caps a wait at 1e9 ms (about 11.6 days); longer waits gain nothing, and the cap keeps every
/// platform's timeout arithmetic (epoll's `int` milliseconds, kqueue's `timespec`) far from overflow.
const MAX_WAIT: Duration = Duration::from_millis(1_000_000_000);

/// Go's `netpoll(delay)` timeout rule: `None` blocks, zero does not, and a positive wait is at least 1 ms.
/// epoll counts in milliseconds, so a shorter wait would either spin (rounded to 0) or need a timerfd;
/// kqueue could honour it, but one rule everywhere keeps the scheduler's behaviour the same.
pub(crate) fn wait_timeout(timeout: Option<Duration>) -> Option<Duration> {
    timeout.map(|d| {
        if d.is_zero() {
            d
        } else {
            d.clamp(Duration::from_millis(1), MAX_WAIT)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_millisecond_waits_round_up_and_long_waits_are_capped() {
        assert_eq!(wait_timeout(None), None);
        assert_eq!(wait_timeout(Some(Duration::ZERO)), Some(Duration::ZERO));
        assert_eq!(
            wait_timeout(Some(Duration::from_nanos(1))),
            Some(Duration::from_millis(1))
        );
        assert_eq!(
            wait_timeout(Some(Duration::from_micros(2500))),
            Some(Duration::from_micros(2500))
        );
        assert_eq!(wait_timeout(Some(Duration::MAX)), Some(MAX_WAIT));
    }
}
