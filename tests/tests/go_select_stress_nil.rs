//! Port of golang/go src/runtime/chan_test.go TestSelectStress with nil channels as Go writes it
//! (`c1[k] = nil` once a case has done its N operations). tests/tests/go_chan_runtime.rs has the
//! version that stands in a never-ready channel for nil. Go's N = 100 000 (10 000 short) on GOMAXPROCS(10); N = 5 000 on 4 Ps.
//!
//! Copyright 2009 The Go Authors. All rights reserved. Use of this source code is governed by a
//! BSD-style license that can be found in tests/LICENSE-GO. (The port follows Go's structure; the
//! Rust is our own.)

use std::time::Duration;

use gort::chan::{channel, Receiver, Sender};

#[test]
fn test_select_stress_with_nil_channels() {
    const N: usize = 5_000;
    let rt = gort::Builder::new().procs(4).build().expect("runtime");
    rt.block_on(async {
        let (tx, rx): (Vec<Sender<i32>>, Vec<Receiver<i32>>) =
            [0usize, 0, 2, 3].iter().map(|&c| channel::<i32>(c)).unzip();
        let mut hs = Vec::new();
        for k in 0..4 {
            let (t, r) = (tx[k].clone(), rx[k].clone());
            hs.push(gort::go(async move {
                for _ in 0..N {
                    t.send(0).await.unwrap();
                }
            }));
            hs.push(gort::go(async move {
                for _ in 0..N {
                    r.recv().await.unwrap();
                }
            }));
        }
        let mut c1 = tx.clone();
        hs.push(gort::go(async move {
            let mut n = [0usize; 4];
            for _ in 0..4 * N {
                let k = gort::select! {
                    send(c1[3], 0) -> r => { r.unwrap(); 3 }
                    send(c1[2], 0) -> r => { r.unwrap(); 2 }
                    send(c1[0], 0) -> r => { r.unwrap(); 0 }
                    send(c1[1], 0) -> r => { r.unwrap(); 1 }
                };
                n[k] += 1;
                if n[k] == N {
                    c1[k] = Sender::nil();
                }
            }
        }));
        let mut c2 = rx.clone();
        hs.push(gort::go(async move {
            let mut n = [0usize; 4];
            for _ in 0..4 * N {
                let k = gort::select! {
                    recv(c2[0]) -> v => { v.unwrap(); 0 }
                    recv(c2[1]) -> v => { v.unwrap(); 1 }
                    recv(c2[2]) -> v => { v.unwrap(); 2 }
                    recv(c2[3]) -> v => { v.unwrap(); 3 }
                };
                n[k] += 1;
                if n[k] == N {
                    c2[k] = Receiver::nil();
                }
            }
        }));
        drop((tx, rx));
        for h in hs {
            let r = gort::time::timeout(Duration::from_secs(120), h).await;
            r.expect("select stress deadlocked").unwrap();
        }
    });
}
