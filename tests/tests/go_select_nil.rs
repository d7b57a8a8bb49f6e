//! Port of golang/go test/chan/select.go ("Test simple select") with nil channels, as Go writes it.
//! tests/tests/go_chan.rs has the version that stands in a never-ready channel for nil.
//!
//! Copyright 2009 The Go Authors. All rights reserved. Use of this source code is governed by a
//! BSD-style license that can be found in tests/LICENSE-GO. (The port follows Go's structure; the
//! Rust is our own.)

use std::sync::atomic::{AtomicU32, Ordering};

use gort::chan::{channel, Sender};

#[test]
fn select_simple_send_loop_with_nil_channels() {
    let counter = AtomicU32::new(0);
    let shift = AtomicU32::new(0);
    // GetValue: Go evaluates every case's value on every iteration, nil channel or not.
    let get_value = || {
        counter.fetch_add(1, Ordering::Relaxed);
        1u32 << shift.load(Ordering::Relaxed)
    };
    let send = |mut a: Sender<u32>, mut b: Sender<u32>| {
        let mut i = 0;
        loop {
            let fired = gort::select! {
                send(a, get_value()) -> r => { r.unwrap(); Some(0) }
                send(b, get_value()) -> r => { r.unwrap(); Some(1) }
                default => None,
            };
            match fired {
                Some(0) => a = Sender::nil(),
                Some(_) => b = Sender::nil(),
                None => break,
            }
            i += 1;
            shift.fetch_add(1, Ordering::Relaxed);
        }
        i
    };
    let (a, ar) = channel::<u32>(1);
    let (b, br) = channel::<u32>(1);
    assert_eq!(send(a.clone(), b.clone()), 2);
    let (av, bv) = (ar.try_recv().unwrap(), br.try_recv().unwrap());
    assert_eq!(av | bv, 3, "bad values {av} {bv}");
    assert_eq!(send(a.clone(), Sender::nil()), 1);
    assert_eq!(counter.load(Ordering::Relaxed), 10, "GetValue calls");
}
