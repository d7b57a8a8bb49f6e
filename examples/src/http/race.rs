//! Waiting for whichever of two futures finishes first. gort's `select!` is Go's: its cases are
//! channel operations. A Go server that must stop a blocked `conn.Read` when the server shuts down
//! closes the connection or sets a deadline from another goroutine; with futures the waiting G can
//! simply stop waiting, so this is the one combinator the server needs: "read, unless told to stop".
//!
//! `a` is polled before `b` each time, so when both are ready `a` wins: callers put the stop
//! signal first, which makes shutdown deterministic even under a steady stream of input. The loser
//! is dropped; every future raced here (socket reads and accepts, channel receives) is cancel-safe:
//! dropped while pending, it takes nothing.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

/// Which future finished.
#[derive(Debug, PartialEq, Eq)]
pub enum First<A, B> {
    A(A),
    B(B),
}

/// Wait for `a` or `b`, whichever is ready first (`a` on a tie).
pub async fn first<A: Future, B: Future>(a: A, b: B) -> First<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(v) = a.as_mut().poll(cx) {
            return Poll::Ready(First::A(v));
        }
        if let Poll::Ready(v) = b.as_mut().poll(cx) {
            return Poll::Ready(First::B(v));
        }
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_earlier_future_wins_and_ties_go_to_the_first() {
        gort::run(async {
            let slow = gort::time::sleep(Duration::from_secs(60));
            let fast = gort::time::sleep(Duration::from_millis(1));
            assert_eq!(first(slow, fast).await, First::B(()));
            assert_eq!(first(async { 1 }, async { 2 }).await, First::A(1));
        });
    }
}
