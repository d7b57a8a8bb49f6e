//! Port of golang/go src/runtime/chan_test.go TestPseudoRandomSend: a select with two send cases on
//! the *same* channel (values 1 and 0) must pick each pseudo-randomly, parked (cap 0) or not (cap
//! n). Before the fix (a stable sort of the poll order by channel), gort's select parked on two cases
//! of one channel always served the first; this test showed it ("0 zeros and 100 ones").
//!
//! Copyright 2009 The Go Authors. All rights reserved. Use of this source code is governed by a
//! BSD-style license that can be found in tests/LICENSE-GO. (The port follows Go's structure; the
//! Rust is our own.)

use gort::chan::channel;

#[test]
fn test_pseudo_random_send() {
    const N: usize = 100;
    let rt = gort::Builder::new().procs(2).build().expect("runtime");
    for cap in [0, N] {
        let l = rt.block_on(async move {
            let (c, cr) = channel::<usize>(cap);
            let reader = gort::go(async move {
                let mut l = Vec::with_capacity(N);
                for _ in 0..N {
                    gort::yield_now().await; // runtime.Gosched()
                    l.push(cr.recv().await.unwrap());
                }
                l
            });
            for _ in 0..N {
                gort::select! {
                    send(c, 1) -> r => r.unwrap(),
                    send(c, 0) -> r => r.unwrap(),
                }
            }
            reader.await.unwrap()
        });
        let n1: usize = l.iter().sum();
        let n0 = N - n1;
        assert!(
            n0 > N / 10 && n1 > N / 10,
            "want pseudorandom, got {n0} zeros and {n1} ones (chan cap {cap})"
        );
    }
}
