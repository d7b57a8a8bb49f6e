//! Port of golang/go test/chan/select2.go: "Test that selects do not consume undue memory." Its own
//! test binary, because it counts every byte the process has live (a counting global allocator
//! stands in for Go's `runtime.ReadMemStats`), and other tests in the same process would add to it.
//!
//! Copyright 2010 The Go Authors. All rights reserved. Use of this source code is governed by a
//! BSD-style license that can be found in tests/LICENSE-GO. (The port follows Go's structure; the
//! Rust is our own.)
//!
//! Go: a sender G sends 100 000 values on an unbuffered channel; the main goroutine receives them
//! with a select over that channel and a dummy one that never fires; once to warm up, then again,
//! and the second round must not grow the heap by more than 110 000 bytes (after a GC). Here: the
//! same, with the live bytes counted by the allocator (no GC needed: a select that parks frees its
//! state when it completes). Go's counts kept.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use gort::chan::{channel, Receiver, Sender};

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments, so `System`'s guarantees
// hold; the counter is only arithmetic on the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded as is; `ptr` came from `alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

async fn sender(c: Sender<i32>, n: usize) {
    for _ in 0..n {
        c.send(1).await.unwrap();
    }
}

async fn receiver(c: &Receiver<i32>, dummy: &Receiver<i32>, n: usize) {
    for _ in 0..n {
        gort::select! {
            recv(c) -> v => { v.unwrap(); }
            recv(dummy) -> _ => panic!("dummy"),
        }
    }
}

#[test]
fn select2_selects_do_not_consume_undue_memory() {
    const N: usize = 100_000;
    let rt = gort::Builder::new().procs(2).build().expect("runtime");
    let (first, second) = rt.block_on(async {
        let (c, cr) = channel::<i32>(0);
        let (_dummy_tx, dummy) = channel::<i32>(0);
        // warm up
        let h = gort::go(sender(c.clone(), N));
        receiver(&cr, &dummy, N).await;
        h.await.unwrap();
        let first = LIVE.load(Ordering::Relaxed);
        // second time shouldn't increase footprint by much
        let h = gort::go(sender(c.clone(), N));
        receiver(&cr, &dummy, N).await;
        h.await.unwrap();
        (first, LIVE.load(Ordering::Relaxed))
    });
    assert!(
        second - first <= 110_000,
        "select2: live heap grew by {} bytes over {N} selects",
        second - first
    );
}
