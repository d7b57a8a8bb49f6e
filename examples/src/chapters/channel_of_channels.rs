//! Channels of channels (Go book, chapter 15; Effective Go's "channels of channels"): a server G reads
//! requests from one channel, and each request carries the channel its answer must go back on.
//!
//! The request channel is the server's only interface: clients need no lock, no id to match replies
//! with requests, no shared map. A reply channel of capacity 1 means the server never waits for a
//! slow client to pick its answer up — the send always finds room.

use gort::chan::{channel, Receiver, Sender};
use gort::JoinHandle;

/// A request: a number to square, and where to send the square.
pub struct Request {
    pub n: u64,
    pub reply: Sender<u64>,
}

/// Start the server G. It answers every request until the request channel is closed, then returns
/// how many it served.
pub fn serve(requests: Receiver<Request>) -> JoinHandle<u64> {
    gort::go(async move {
        let mut served = 0;
        while let Some(req) = requests.recv().await {
            // A client that gave up has dropped its receiver: the answer is simply lost, and the
            // 1-slot buffer means we do not wait for it.
            let _ = req.reply.send(req.n * req.n).await;
            served += 1;
        }
        served
    })
}

/// Ask the server for `n * n`: make a reply channel, send it along, wait on it.
pub async fn ask(server: &Sender<Request>, n: u64) -> Option<u64> {
    let (reply, answer) = channel(1);
    server.send(Request { n, reply }).await.ok()?;
    answer.recv().await
}

/// What the clients received and the server reported.
#[derive(Debug)]
pub struct Report {
    /// `(n, answer)` for every request, sorted by `n`.
    pub answers: Vec<(u64, Option<u64>)>,
    /// Requests the server says it answered.
    pub served: u64,
}

/// `clients` client Gs each ask for the squares of `per_client` numbers (client `c` asks about
/// `c * per_client ..`), all through one server G.
pub async fn channel_of_channels(clients: u64, per_client: u64) -> Report {
    let (server, requests) = channel::<Request>(0);
    let served = serve(requests);
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let server = server.clone();
            gort::go(async move {
                let mut got = Vec::new();
                for n in c * per_client..(c + 1) * per_client {
                    got.push((n, ask(&server, n).await));
                }
                got
            })
        })
        .collect();
    drop(server); // the clients hold the other clones; the server stops when they are done
    let mut answers = Vec::new();
    for h in handles {
        answers.extend(h.await.unwrap_or_default());
    }
    answers.sort_unstable();
    Report {
        answers,
        served: served.await.unwrap_or(0),
    }
}
