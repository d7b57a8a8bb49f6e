//! Port of the nil-channel rows of golang/go test/chan/select3.go ("Tests verifying the semantics of
//! the select statement for basic empty/non-empty cases"); the other rows are in
//! tests/tests/go_chan.rs.
//!
//! Copyright 2010 The Go Authors. All rights reserved. Use of this source code is governed by a
//! BSD-style license that can be found in tests/LICENSE-GO. (The port follows Go's structure; the
//! Rust is our own.)

use gort::chan::{Receiver, Sender};
use tests::blocks; // Go's testBlock

#[test]
fn select3_nil_channel_rows() {
    let rt = gort::Builder::new().procs(2).build().expect("runtime");
    rt.block_on(async {
        // sending/receiving from a nil channel blocks
        assert!(blocks(true, async { Sender::<i32>::nil().send(7).await.unwrap() }).await);
        assert!(
            blocks(true, async {
                Receiver::<i32>::nil().recv().await;
            })
            .await
        );
        // sending/receiving from a nil channel inside a select is never selected
        let nil_tx = Sender::<i32>::nil();
        let nil_rx = Receiver::<i32>::nil();
        gort::select! {
            send(nil_tx, 7) -> _ => unreachable!(),
            default => {}
        }
        gort::select! {
            recv(nil_rx) -> _ => unreachable!(),
            default => {}
        }
        // the same with `None` as the nil channel
        let none_tx: Option<&Sender<i32>> = None;
        let none_rx: Option<&Receiver<i32>> = None;
        gort::select! {
            send(none_tx, 7) -> _ => unreachable!(),
            recv(none_rx) -> _ => unreachable!(),
            default => {}
        }
        // selects with only nil channels always block
        assert!(
            blocks(true, async {
                let r = Receiver::<i32>::nil();
                gort::select! { recv(r) -> _ => unreachable!() }
            })
            .await
        );
        assert!(
            blocks(true, async {
                let s = Sender::<i32>::nil();
                gort::select! { send(s, 7) -> _ => unreachable!() }
            })
            .await
        );
        assert!(
            blocks(true, async {
                let (s, r) = (Sender::<i32>::nil(), Receiver::<i32>::nil());
                gort::select! {
                    recv(r) -> _ => unreachable!(),
                    send(s, 7) -> _ => unreachable!(),
                }
            })
            .await
        );
        // selects with default cases don't block
        assert!(
            !blocks(false, async {
                let r = Receiver::<i32>::nil();
                gort::select! { recv(r) -> _ => unreachable!(), default => {} }
            })
            .await
        );
        assert!(
            !blocks(false, async {
                let s = Sender::<i32>::default();
                gort::select! { send(s, 7) -> _ => unreachable!(), default => {} }
            })
            .await
        );
    });
}
