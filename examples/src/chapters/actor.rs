//! Actors (Go book, chapter 15): one G owns a piece of state, and everybody else changes or reads it
//! only by sending that G a message. "Do not communicate by sharing memory; share memory by
//! communicating."
//!
//! The state here is a bank account. It needs no lock because exactly one G ever touches it, and
//! the messages are handled one at a time, so each is atomic: a withdrawal checks the balance and
//! takes the money in one step, with no window for another withdrawal in between. Each message
//! carries its own reply channel (see `channel_of_channels`).

use gort::chan::{channel, Sender};
use gort::JoinHandle;

/// A withdrawal larger than the balance; holds the balance at that moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insufficient(pub u64);

/// What the account's G understands.
enum Msg {
    Deposit(u64, Sender<u64>),
    Withdraw(u64, Sender<Result<u64, Insufficient>>),
    Balance(Sender<u64>),
}

/// The account's own books, returned by its G when every handle is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Books {
    pub balance: u64,
    pub deposited: u64,
    pub withdrawn: u64,
    pub rejected: u64,
}

/// A handle to the account: cheap to clone, one per client. The account's G ends when the last
/// handle is dropped (its mailbox closes).
#[derive(Clone)]
pub struct Account {
    mailbox: Sender<Msg>,
}

impl Account {
    /// Start the account's G with `initial` in it.
    pub fn spawn(initial: u64) -> (Account, JoinHandle<Books>) {
        let (mailbox, inbox) = channel::<Msg>(16);
        let g = gort::go(async move {
            let mut books = Books {
                balance: initial,
                ..Books::default()
            };
            while let Some(msg) = inbox.recv().await {
                // A client that stopped waiting has dropped its reply receiver; its send fails
                // harmlessly and the account carries on.
                match msg {
                    Msg::Deposit(amount, reply) => {
                        books.balance += amount;
                        books.deposited += amount;
                        let _ = reply.send(books.balance).await;
                    }
                    Msg::Withdraw(amount, reply) => {
                        let r = if amount <= books.balance {
                            books.balance -= amount;
                            books.withdrawn += amount;
                            Ok(books.balance)
                        } else {
                            books.rejected += 1;
                            Err(Insufficient(books.balance))
                        };
                        let _ = reply.send(r).await;
                    }
                    Msg::Balance(reply) => {
                        let _ = reply.send(books.balance).await;
                    }
                }
            }
            books
        });
        (Account { mailbox }, g)
    }

    /// Deposit; returns the new balance (`None` if the account's G is gone).
    pub async fn deposit(&self, amount: u64) -> Option<u64> {
        let (reply, answer) = channel(1);
        self.mailbox.send(Msg::Deposit(amount, reply)).await.ok()?;
        answer.recv().await
    }

    /// Withdraw if the balance allows; returns the new balance or why not.
    pub async fn withdraw(&self, amount: u64) -> Option<Result<u64, Insufficient>> {
        let (reply, answer) = channel(1);
        self.mailbox.send(Msg::Withdraw(amount, reply)).await.ok()?;
        answer.recv().await
    }

    pub async fn balance(&self) -> Option<u64> {
        let (reply, answer) = channel(1);
        self.mailbox.send(Msg::Balance(reply)).await.ok()?;
        answer.recv().await
    }
}

/// What the clients did, by their own count, and what the account's books say.
#[derive(Debug)]
pub struct Report {
    pub initial: u64,
    /// Sum of the deposits the clients made.
    pub deposited: u64,
    /// Sum of the withdrawals the account granted, as the clients were told.
    pub withdrawn: u64,
    /// Withdrawals refused for lack of funds.
    pub rejected: u64,
    /// The balance a last `balance()` call returned.
    pub last_balance: u64,
    /// The account G's books.
    pub books: Books,
}

/// `clients` client Gs each make `ops` operations on one account starting at `initial`: deposits of
/// 10 and withdrawals of 25, mixed so the balance keeps running low and some withdrawals fail.
pub async fn actor(clients: u64, ops: u64, initial: u64) -> Report {
    let (account, g) = Account::spawn(initial);
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let account = account.clone();
            gort::go(async move {
                let (mut dep, mut wd, mut rej) = (0, 0, 0);
                for i in 0..ops {
                    if (c + i) % 3 == 0 {
                        match account.withdraw(25).await {
                            Some(Ok(_)) => wd += 25,
                            Some(Err(Insufficient(_))) => rej += 1,
                            None => break,
                        }
                    } else if account.deposit(10).await.is_some() {
                        dep += 10;
                    }
                }
                (dep, wd, rej)
            })
        })
        .collect();
    let (mut deposited, mut withdrawn, mut rejected) = (0, 0, 0);
    for h in handles {
        let (d, w, r) = h.await.unwrap_or_default();
        deposited += d;
        withdrawn += w;
        rejected += r;
    }
    let last_balance = account.balance().await.unwrap_or(0);
    drop(account); // the last handle: the account's G ends and hands back its books
    Report {
        initial,
        deposited,
        withdrawn,
        rejected,
        last_balance,
        books: g.await.unwrap_or_default(),
    }
}
