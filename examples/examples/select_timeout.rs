//! # select_timeout — timing out, moving on
//!
//! Run: `cargo run --release --example select_timeout`
//!
//! What to watch for:
//! 1. three replicas answer after 30, 10 and 50 ms; the `select!` takes replica 1's answer, about
//!    10 ms in, and moves on (the late replicas still deliver into the buffer and exit);
//! 2. the same query with a 5 ms limit times out: the `time::after` arm wins;
//! 3. a worker stops when its `done` channel is closed, after exactly the items it was handed;
//! 4. a worker doing 10 ms jobs under a 55 ms context deadline finishes about 5 and stops with
//!    "context deadline exceeded".
//!
//! Chapter: Go book ch. 15, concurrency patterns (Go blog, "Go Concurrency Patterns: Timing out,
//! Moving On"); runtime story: `select!` and timers as channels (`runtime/src/chan/select.rs`, `time.rs`).

use std::time::Duration;

use examples::chapters::select_timeout::{
    first_answer, work_until_deadline, work_until_done, Outcome,
};

fn main() {
    gort::run(async {
        let ms = Duration::from_millis;
        let replicas = [Some(ms(30)), Some(ms(10)), Some(ms(50))];
        for limit in [ms(100), ms(5)] {
            print!("replicas answering after 30/10/50 ms, limit {limit:?}: ");
            match first_answer(replicas.to_vec(), limit).await {
                Outcome::Answered { replica, after } => {
                    println!("replica {replica} answered first, after {after:.1?}")
                }
                Outcome::TimedOut => println!("timed out, moving on"),
                Outcome::NoAnswer => println!("every replica failed"),
            }
        }
        let (processed, why) = work_until_done(1000).await;
        println!("worker processed {processed} items and stopped: {why}");
        let (jobs, err) = work_until_deadline(ms(55), ms(10)).await;
        match err {
            Some(e) => println!("worker under a 55 ms deadline finished {jobs} jobs of 10 ms: {e}"),
            None => println!("worker finished {jobs} jobs; its context was not done"),
        }
    });
}
