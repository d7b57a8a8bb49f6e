//! `gort::context` on the real runtime: cancellation trees observed from Gs blocked on `done()`,
//! and deadlines driven by the runtime's timers. Timing is only ever a lower bound (a deadline has
//! passed) or an explicit limit that turns a hang into a failure; nothing asserts speed.

use std::time::{Duration, Instant};

use gort::chan;
use gort::context::{self, Context, ContextError};
use gort::select;
use gort::time::{sleep, timeout};
use tests::limited;

/// A G that waits for `ctx` to be done and reports the error it saw.
fn watch(ctx: &Context) -> gort::JoinHandle<Option<ContextError>> {
    let ctx = ctx.clone();
    gort::go(async move {
        assert_eq!(ctx.done().recv().await, None, "done only ever closes");
        ctx.err()
    })
}

#[test]
fn cancelling_a_parent_cancels_every_descendant() {
    limited(2, async {
        let (root, cancel_root) = context::with_cancel(&context::background());
        let (a, _ca) = context::with_cancel(&root);
        let with_id = context::with_value(&a, "id", 7u32);
        let (b, _cb) = context::with_timeout(&with_id, Duration::from_secs(3600));
        let (c, _cc) = context::with_cancel(&root);
        let watchers: Vec<_> = [&root, &a, &with_id, &b, &c]
            .into_iter()
            .map(watch)
            .collect();
        sleep(Duration::from_millis(2)).await;
        cancel_root.cancel();
        for w in watchers {
            let err = w.await.unwrap();
            assert_eq!(err, Some(ContextError::Canceled));
        }
        assert_eq!(b.value::<_, u32>(&"id"), Some(&7));
    });
}

#[test]
fn cancelling_a_child_leaves_its_parent_and_siblings_running() {
    limited(2, async {
        let (parent, _cp) = context::with_cancel(&context::background());
        let (child, cancel_child) = context::with_cancel(&parent);
        let (sibling, _cs) = context::with_cancel(&parent);
        let w = watch(&child);
        cancel_child.cancel();
        assert_eq!(w.await.unwrap(), Some(ContextError::Canceled));
        sleep(Duration::from_millis(5)).await;
        assert_eq!(parent.err(), None);
        assert_eq!(sibling.err(), None);
        assert!(
            parent.done().try_recv().is_err(),
            "the parent's done is still open"
        );
    });
}

#[test]
fn timeout_closes_done_with_deadline_exceeded() {
    limited(2, async {
        let start = Instant::now();
        let (ctx, _cancel) =
            context::with_timeout(&context::background(), Duration::from_millis(20));
        assert!(ctx
            .deadline()
            .is_some_and(|d| d >= start + Duration::from_millis(20)));
        let w = watch(&ctx);
        let err = w.await.unwrap();
        assert_eq!(err, Some(ContextError::DeadlineExceeded));
        assert!(
            start.elapsed() >= Duration::from_millis(20),
            "fired before its deadline"
        );
        assert_eq!(
            ctx.err().map(|e| e.to_string()).as_deref(),
            Some("context deadline exceeded")
        );
    });
}

#[test]
fn parent_deadline_reaches_children_as_deadline_exceeded() {
    limited(2, async {
        let (parent, _cp) =
            context::with_timeout(&context::background(), Duration::from_millis(10));
        let (child, _cc) = context::with_cancel(&parent);
        // A later deadline cannot extend the parent's.
        let (late, _cl) = context::with_timeout(&parent, Duration::from_secs(3600));
        assert_eq!(late.deadline(), parent.deadline());
        for ctx in [&child, &late] {
            let err = watch(ctx).await.unwrap();
            assert_eq!(err, Some(ContextError::DeadlineExceeded));
        }
    });
}

#[test]
fn cancel_before_the_deadline_wins_and_stays() {
    limited(2, async {
        let (ctx, cancel) =
            context::with_timeout(&context::background(), Duration::from_millis(15));
        cancel.cancel();
        assert_eq!(ctx.err(), Some(ContextError::Canceled));
        sleep(Duration::from_millis(30)).await;
        assert_eq!(
            ctx.err(),
            Some(ContextError::Canceled),
            "the stopped timer must not overwrite it"
        );
    });
}

#[test]
fn done_is_a_select_arm_beside_work() {
    limited(2, async {
        let (ctx, cancel) = context::with_cancel(&context::background());
        let (tx, rx) = chan::channel::<u32>(0);
        let worker = gort::go(async move {
            let mut got = Vec::new();
            loop {
                select! {
                    recv(rx) -> v => got.push(v.expect("sender kept open")),
                    recv(ctx.done()) -> v => {
                        assert_eq!(v, None);
                        return (got, ctx.err());
                    }
                }
            }
        });
        for i in 0..3 {
            tx.send(i).await.unwrap();
        }
        cancel.cancel();
        let (got, err) = worker.await.unwrap();
        assert_eq!(got, [0, 1, 2]);
        assert_eq!(err, Some(ContextError::Canceled));
        drop(tx);
    });
}

#[test]
fn background_is_never_done() {
    limited(2, async {
        let ctx = context::background();
        let r = timeout(Duration::from_millis(10), async { ctx.done().recv().await }).await;
        assert!(r.is_err(), "background's done must block forever");
        assert_eq!(ctx.err(), None);
        assert_eq!(ctx.deadline(), None);
    });
}

#[test]
fn a_long_chain_of_contexts_drops_without_overflowing_the_stack() {
    // `ctx = with_value(&ctx, ..)` in a loop builds a chain; dropping it must not recurse once per
    // link (a test thread has a 2 MiB stack).
    let mut ctx = context::background();
    for i in 0..200_000u32 {
        ctx = context::with_value(&ctx, "depth", i);
    }
    assert_eq!(ctx.value::<&str, u32>(&"depth"), Some(&199_999));
    drop(ctx);
}

#[test]
fn cancelling_the_root_of_a_long_chain_of_contexts_does_not_overflow_the_stack() {
    let (root, cancel) = context::with_cancel(&context::background());
    let mut ctx = root.clone();
    let mut cancels = Vec::new();
    for _ in 0..200_000 {
        let (c, f) = context::with_cancel(&ctx);
        cancels.push(f);
        ctx = c;
    }
    cancel.cancel();
    assert_eq!(ctx.err(), Some(context::ContextError::Canceled));
    drop(cancels);
    drop(ctx);
}
