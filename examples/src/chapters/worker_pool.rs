//! Worker pool (Go book, chapter 15): a jobs channel, a results channel, and N worker Gs between them.
//!
//! The workers share one `Receiver` of jobs (clones of it), so whichever worker is free takes the next
//! job: the channel *is* the load balancer. The dispatcher closes the jobs channel when it has sent
//! everything; each worker's loop then ends, and when the last worker drops its results `Sender`
//! the results channel closes too, which ends the collector's loop. No counting, no WaitGroup:
//! closing flows downstream.

use gort::chan::channel;

/// One finished job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Done {
    pub job: u64,
    /// Which worker ran it.
    pub worker: usize,
    /// The job's answer: here, the sum of the decimal digits of `job`.
    pub answer: u64,
}

/// The job itself: small and pure, so that the pool's plumbing is the lesson.
pub fn digit_sum(mut n: u64) -> u64 {
    let mut s = 0;
    while n > 0 {
        s += n % 10;
        n /= 10;
    }
    s
}

/// Run jobs `0..jobs` on `workers` worker Gs; returns every result, sorted by job.
pub async fn worker_pool(jobs: u64, workers: usize) -> Vec<Done> {
    let (job_tx, job_rx) = channel::<u64>(workers);
    let (res_tx, res_rx) = channel::<Done>(workers);

    for worker in 0..workers {
        let (jobs, results) = (job_rx.clone(), res_tx.clone());
        drop(gort::go(async move {
            while let Some(job) = jobs.recv().await {
                let answer = digit_sum(job);
                if results
                    .send(Done {
                        job,
                        worker,
                        answer,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }));
    }
    // Only the workers may hold these now, so the channels close when the workers finish.
    drop((job_rx, res_tx));

    // The dispatcher is its own G: if we sent the jobs from here, we could not also collect, and
    // with both channels full the workers and we would wait for each other forever.
    drop(gort::go(async move {
        for job in 0..jobs {
            if job_tx.send(job).await.is_err() {
                return;
            }
        }
    }));

    let mut done = Vec::new();
    while let Some(d) = res_rx.recv().await {
        done.push(d);
    }
    done.sort_unstable();
    done
}
