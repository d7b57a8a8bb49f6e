//! The `select!` macro: what Go's compiler does to a `select` statement (cmd/compile/internal/walk/
//! select.go: `walkSelect`, `walkSelectCases`), done by `macro_rules!`. The engine it calls is
//! chan/select.rs (Go's runtime/select.go).
//!
//! Go's compiler turns each case into an `scase`, puts them in an array on the stack and calls
//! `selectgo`, which returns the index of the case that ran; a `default` makes the call non-blocking
//! (`block = false`), and `select {}` becomes `block()`, which parks forever. The macro does the same:
//! each channel arm becomes a case variable (`RecvCase`, `SendCase`, `SendFromCase`), each `fut` arm a
//! `FutCase` over the pinned future; the cases go into two arrays (`&mut dyn Case`, `&mut dyn
//! FutArm`), and `select` (awaited) or `try_select` (with `default`) runs them. Then every case hands
//! over its result (`take_fired`, `Some` for the one that won) and is dropped, and the arm whose result
//! is `Some` runs its body. Dropping the cases before the body is what lets a body use what an arm
//! borrowed (reassign `rx`, read a buffer a `fut` arm was filling).
//!
//! The public `select!` is one rule that hands its input to `__select_impl!` (hidden), so the rustdoc
//! page shows the syntax below instead of the parser's internal rules.
//!
//! Where this differs from Go, and why: Go special-cases selects of one case (a plain send or receive)
//! and of one case plus `default` (`selectnbsend`, `selectnbrecv`); the macro always goes through the
//! general path, which costs no allocation unless it parks, so the special cases would buy little.

/// Wait on several channel operations (and futures); run the arm of the one that proceeds (Go's
/// `select`).
///
/// # Arms
/// | arm | fires when | binds |
/// |---|---|---|
/// | `recv(rx) -> v => body` | a value can be received, or `rx`'s channel is closed | `v: Option<T>`, `None` once closed and drained |
/// | `send(tx, value) -> res => body` | `value` can be sent, or the channel is closed | `res: Result<(), SendError<T>>` (the value back if closed) |
/// | `send_from(tx, &mut slot) -> res => body` | as `send`, with the value in `slot: Option<T>`; an empty slot switches the arm off | as `send`; a losing arm leaves the value in `slot` |
/// | `fut(future) -> out => body` | `future` completes | `out: future's Output` |
/// | `default => body` | nothing else is ready (at most one) | |
///
/// `rx`/`tx` is a `Receiver`/`Sender` (or a reference to one, or an expression making one, such as
/// `time::after(d)`), or an `Option` of one: `None`, like `Receiver::nil()`/`Sender::nil()`, is Go's
/// nil channel, and its arm is never chosen. Bodies are blocks or expressions, separated by commas
/// (optional after blocks); they may `break`, `continue`, `return` and `.await`.
///
/// # Semantics
/// - Exactly one arm runs. Without `default` the macro awaits (so it must be used in async code) until
///   an arm is ready; with `default` it never waits, and also works outside async code. If several
///   arms are ready, one is chosen uniformly at random, so no channel starves.
/// - Channel arms keep Go's exactly-once rule: a losing `recv` consumes nothing, a losing `send`
///   delivers nothing, even on unbuffered channels and when the select is dropped while waiting. A
///   losing `send(tx, value)` drops its value; use `send_from` to keep it.
/// - A `fut` arm is polled beside the channel arms; a losing future is **dropped**, that is cancelled,
///   as in tokio's `select!` (unlike a channel arm, whatever it had half done is its own business: use
///   futures that are safe to drop, such as `Receiver::recv`, `TcpListener::accept` or `time::sleep`).
///   A `fut` arm cannot be combined with `default`. Future arms and their outputs must be `Send`.
/// - All arms nil and no `default` (or `select! {}`): waits forever, like Go's `select {}`.
/// - A case on a closed channel is always ready: once a channel is closed, switch its arm off (set the
///   receiver to `Receiver::nil()` or `None`) or leave the loop.
///
/// # Examples
/// A loop over two inputs, switching each off once it is closed (Go's `ch = nil` idiom):
/// ```
/// use gort::chan::{channel, Receiver};
///
/// let total = gort::run(async {
///     let (tx_a, mut a) = channel::<u32>(0);
///     let (tx_b, mut b) = channel::<u32>(0);
///     gort::go(async move { for i in 0..3 { tx_a.send(i).await.unwrap(); } });
///     gort::go(async move { for i in 10..13 { tx_b.send(i).await.unwrap(); } });
///     let mut total = 0;
///     while !(a.is_nil() && b.is_nil()) {
///         gort::select! {
///             recv(a) -> v => match v {
///                 Some(v) => total += v,
///                 None => a = Receiver::nil(), // closed: never chosen again
///             },
///             recv(b) -> v => match v {
///                 Some(v) => total += v,
///                 None => b = Receiver::nil(),
///             },
///         }
///     }
///     total
/// });
/// assert_eq!(total, 3 + 33);
/// ```
///
/// Polling with `default`, an `Option` arm, and a timeout as a future arm:
/// ```
/// use std::time::Duration;
/// use gort::chan::channel;
///
/// gort::run(async {
///     let (tx, rx) = channel::<u32>(1);
///     let polled = gort::select! {
///         recv(rx) -> v => v,
///         default => None,
///     };
///     assert_eq!(polled, None); // nothing was ready
///
///     let maybe_tx = Some(&tx); // `None` would switch the arm off
///     let got = gort::select! {
///         send(maybe_tx, 5) -> res => { res.unwrap(); rx.try_recv().ok() }
///         fut(gort::time::sleep(Duration::from_secs(60))) -> () => None,
///     };
///     assert_eq!(got, Some(5));
///
///     let timed_out = gort::select! {
///         recv(rx) -> _ => false,
///         fut(gort::time::sleep(Duration::from_millis(5))) -> () => true,
///     };
///     assert!(timed_out);
/// });
/// ```
///
/// A producer that never loses a value: `send_from` takes the value only if its arm fires.
/// ```
/// use gort::chan::channel;
///
/// let got = gort::run(async {
///     let (out_tx, out_rx) = channel::<String>(0);
///     let (quit_tx, quit) = channel::<()>(0);
///     let consumer = gort::go(async move {
///         let first = out_rx.recv().await;
///         drop(quit_tx); // then ask the producer to stop
///         first
///     });
///     let mut pending = vec!["a".to_string(), "b".to_string()];
///     let mut next = pending.pop();
///     loop {
///         gort::select! {
///             send_from(out_tx, &mut next) -> res => { res.unwrap(); next = pending.pop(); }
///             recv(quit) -> _ => break,
///         }
///     }
///     // Whatever was not sent is still ours.
///     let mut unsent: Vec<String> = next.into_iter().chain(pending).collect();
///     unsent.sort();
///     (consumer.await.unwrap(), unsent)
/// });
/// assert_eq!(got, (Some("b".to_string()), vec!["a".to_string()]));
/// ```
///
/// For a select over a list of channels known only at run time, see [`chan::Select`](crate::chan::Select).
/// The algorithm (Go's `selectgo`) is described in runtime/src/chan/select.rs.
#[macro_export]
macro_rules! select {
    ($($arms:tt)*) => {
        $crate::__select_impl!(@parse [] [] [] [] $($arms)*)
    };
}

/// The parser and code generator behind `select!`. Not a public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_impl {
    // `@parse [arms] [channel cases] [future cases] [default]` takes one arm at a time. Each step is
    // its own macro expansion, so the `__ch`/`__case` names it writes are distinct variables per arm
    // (macro hygiene). `let __ch = &expr;` extends the life of a temporary channel end, as in
    // `recv(time::after(d))`.
    (@parse [$($arms:tt)*] [$($chans:tt)*] [$($futs:tt)*] [$($def:tt)*]) => {
        $crate::__select_impl!(@emit [$($arms)*] [$($chans)*] [$($futs)*] [$($def)*])
    };
    (@parse [$($arms:tt)*] [$($chans:tt)*] [$($futs:tt)*] [$($def:tt)*] , $($rest:tt)*) => {
        $crate::__select_impl!(@parse [$($arms)*] [$($chans)*] [$($futs)*] [$($def)*] $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($chans:tt)*] [$($futs:tt)*] [$($def:tt)*] recv($rx:expr) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::__select_impl!(@parse [$($arms)* (__case [
            let __ch = &$rx;
            let mut __case = $crate::__private::RecvCase::new(__ch);
        ] $p => $body)] [$($chans)* __case] [$($futs)*] [$($def)*] $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($chans:tt)*] [$($futs:tt)*] [$($def:tt)*] send($tx:expr, $v:expr) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::__select_impl!(@parse [$($arms)* (__case [
            let __ch = &$tx;
            let mut __case = $crate::__private::SendCase::new(__ch, ::core::option::Option::Some($v));
        ] $p => $body)] [$($chans)* __case] [$($futs)*] [$($def)*] $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($chans:tt)*] [$($futs:tt)*] [$($def:tt)*] send_from($tx:expr, $slot:expr) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::__select_impl!(@parse [$($arms)* (__case [
            let __ch = &$tx;
            let mut __case = $crate::__private::SendFromCase::new(__ch, $slot);
        ] $p => $body)] [$($chans)* __case] [$($futs)*] [$($def)*] $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($chans:tt)*] [$($futs:tt)*] [$($def:tt)*] fut($f:expr) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::__select_impl!(@parse [$($arms)* (__case [
            let __pinned = ::core::pin::pin!($f);
            let mut __case = $crate::__private::FutCase::new(__pinned);
        ] $p => $body)] [$($chans)*] [$($futs)* __case] [$($def)*] $($rest)*)
    };
    // An expression body: wrap it in a block and parse the arm again.
    (@parse [$($arms:tt)*] [$($chans:tt)*] [$($futs:tt)*] [$($def:tt)*] recv($($args:tt)*) -> $p:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_impl!(@parse [$($arms)*] [$($chans)*] [$($futs)*] [$($def)*] recv($($args)*) -> $p => { $body } $(, $($rest)*)?)
    };
    (@parse [$($arms:tt)*] [$($chans:tt)*] [$($futs:tt)*] [$($def:tt)*] send($($args:tt)*) -> $p:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_impl!(@parse [$($arms)*] [$($chans)*] [$($futs)*] [$($def)*] send($($args)*) -> $p => { $body } $(, $($rest)*)?)
    };
    (@parse [$($arms:tt)*] [$($chans:tt)*] [$($futs:tt)*] [$($def:tt)*] send_from($($args:tt)*) -> $p:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_impl!(@parse [$($arms)*] [$($chans)*] [$($futs)*] [$($def)*] send_from($($args)*) -> $p => { $body } $(, $($rest)*)?)
    };
    (@parse [$($arms:tt)*] [$($chans:tt)*] [$($futs:tt)*] [$($def:tt)*] fut($($args:tt)*) -> $p:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_impl!(@parse [$($arms)*] [$($chans)*] [$($futs)*] [$($def)*] fut($($args)*) -> $p => { $body } $(, $($rest)*)?)
    };
    (@parse [$($arms:tt)*] [$($chans:tt)*] [$($futs:tt)*] [] default => $body:block $($rest:tt)*) => {
        $crate::__select_impl!(@parse [$($arms)*] [$($chans)*] [$($futs)*] [$body] $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($chans:tt)*] [$($futs:tt)*] [] default => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_impl!(@parse [$($arms)*] [$($chans)*] [$($futs)*] [{ $body }] $(, $($rest)*)?)
    };
    (@parse [$($arms:tt)*] [$($chans:tt)*] [$($futs:tt)*] [$($def:tt)+] default $($rest:tt)*) => {
        ::core::compile_error!("select!: more than one `default` arm")
    };
    (@parse [$($arms:tt)*] [$($chans:tt)*] [$($futs:tt)*] [$($def:tt)*] $($rest:tt)*) => {
        ::core::compile_error!(
            "select!: expected `recv(rx) -> v => ..`, `send(tx, value) -> res => ..`, `send_from(tx, &mut slot) -> res => ..`, `fut(future) -> out => ..` or `default => ..`"
        )
    };

    // `select! {}`: Go's `select {}`, wait forever.
    (@emit [] [] [] []) => {
        loop {
            ::core::future::pending::<()>().await
        }
    };
    // Only `default`: nothing to try.
    (@emit [] [] [] [$def:block]) => {
        $def
    };
    // With `default`: pass 1 only, no await. Every case is dropped before the arm's body runs.
    (@emit [$(($case:ident [$($bind:tt)*] $p:pat => $body:block))*] [$($chan:ident)*] [] [$def:block]) => {{
        let ($($case,)*) = {
            $($($bind)*)*
            $crate::__private::try_select([$($crate::__private::case(&mut $chan)),*]);
            ($($case.take_fired(),)*)
        };
        $(if let ::core::option::Option::Some(__fired) = $case {
            #[allow(clippy::let_unit_value)] // a `fut` arm's output may be `()`
            let $p = __fired;
            $body
        } else)* $def
    }};
    (@emit [$($arms:tt)*] [$($chan:ident)*] [$($fut:ident)+] [$def:block]) => {
        ::core::compile_error!("select!: a `fut` arm cannot be combined with `default`")
    };
    (@emit [$(($case:ident [$($bind:tt)*] $p:pat => $body:block))+] [$($chan:ident)*] [$($fut:ident)*] []) => {{
        let ($($case,)+) = {
            $($($bind)*)+
            $crate::__private::select(
                [$($crate::__private::case(&mut $chan)),*],
                [$($crate::__private::fut_arm(&mut $fut)),*],
            ).await;
            ($($case.take_fired(),)+)
        };
        $(if let ::core::option::Option::Some(__fired) = $case {
            #[allow(clippy::let_unit_value)] // a `fut` arm's output may be `()`
            let $p = __fired;
            $body
        } else)+ {
            ::core::unreachable!("select!: no case fired")
        }
    }};
}
