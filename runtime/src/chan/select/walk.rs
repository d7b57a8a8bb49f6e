//! The `select!` macro: what Go's compiler does to a `select` statement (cmd/compile/internal/walk/
//! select.go: `walkSelect`, `walkSelectCases`), done by `macro_rules!`. The engine it calls is
//! chan/select.rs (Go's runtime/select.go).
//!
//! Go's compiler turns each case into an `scase`, puts them in an array on the stack and calls
//! `selectgo`, which returns the index of the case that ran; a `default` makes the call non-blocking
//! (`block = false`), and `select {}` becomes `block()`, which parks forever. The macro does the same:
//! each arm becomes a case variable (`RecvCase`, `SendCase`), the cases go into an array of `&mut dyn
//! Case`, and `select` (awaited) or `try_select` (with `default`) runs them; then the arm whose case
//! holds a result (`take_fired`) runs its body.
//!
//! Where this differs from Go, and why: Go special-cases selects of one case (a plain send or receive)
//! and of one case plus `default` (`selectnbsend`, `selectnbrecv`); the macro always goes through the
//! general path, which costs no allocation unless it parks, so the special cases would buy little.

/// Wait on several channel operations; run the arm of the one that proceeds (Go's `select`).
///
/// Arms: `recv(rx) -> v => body` (`v: Option<T>`, `None` once the channel is closed and drained),
/// `send(tx, value) -> res => body` (`res: Result<(), SendError<T>>`), and at most one
/// `default => body`. Bodies are blocks or expressions, separated by commas (optional after blocks).
/// Without `default` the macro awaits, so it must be used in async code; with `default` it never
/// waits. Several ready cases: one is chosen uniformly at random. See runtime/src/chan/select.rs for
/// the algorithm.
///
/// ```
/// use gort::chan::channel;
///
/// let got = gort::run(async {
///     let (tx, rx) = channel::<u32>(0);
///     let (quit_tx, quit) = channel::<()>(0);
///     gort::go(async move {
///         for i in 0..3 {
///             tx.send(i).await.unwrap();
///         }
///         drop(quit_tx); // closing `quit` makes its arm ready
///     });
///     let mut got = Vec::new();
///     loop {
///         gort::select! {
///             // Once the sender G has finished, `rx` is closed too and both arms are ready;
///             // either may be chosen, so a closed `rx` (None) also ends the loop.
///             recv(rx) -> v => match v {
///                 Some(v) => got.push(v),
///                 None => break,
///             },
///             recv(quit) -> _ => break,
///         }
///     }
///     // Nothing ready any more: `default` runs.
///     let polled = gort::select! {
///         recv(rx) -> v => v,
///         default => None,
///     };
///     assert_eq!(polled, None);
///     got
/// });
/// assert_eq!(got, [0, 1, 2]);
/// ```
#[macro_export]
macro_rules! select {
    // `@parse` takes one arm at a time into `[arms]`, keeping the default body in `[default]`. Each
    // step is its own macro expansion, so the `__ch`/`__case` names it writes are distinct variables
    // per arm (macro hygiene). `let __ch = &expr;` extends the life of a temporary channel end, as in
    // `recv(time::after(d))`.
    (@parse [$($arms:tt)*] [$($def:tt)*]) => {
        $crate::select!(@emit [$($arms)*] [$($def)*])
    };
    (@parse [$($arms:tt)*] [$($def:tt)*] , $($rest:tt)*) => {
        $crate::select!(@parse [$($arms)*] [$($def)*] $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($def:tt)*] recv($rx:expr) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::select!(@parse [$($arms)* (__case [
            let __ch = &$rx;
            let mut __case = $crate::__private::RecvCase::new(__ch);
        ] $p => $body)] [$($def)*] $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($def:tt)*] recv($rx:expr) -> $p:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::select!(@parse [$($arms)*] [$($def)*] recv($rx) -> $p => { $body } $(, $($rest)*)?)
    };
    (@parse [$($arms:tt)*] [$($def:tt)*] send($tx:expr, $v:expr) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::select!(@parse [$($arms)* (__case [
            let __ch = &$tx;
            let mut __case = $crate::__private::SendCase::new(__ch, $v);
        ] $p => $body)] [$($def)*] $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($def:tt)*] send($tx:expr, $v:expr) -> $p:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::select!(@parse [$($arms)*] [$($def)*] send($tx, $v) -> $p => { $body } $(, $($rest)*)?)
    };
    (@parse [$($arms:tt)*] [] default => $body:block $($rest:tt)*) => {
        $crate::select!(@parse [$($arms)*] [$body] $($rest)*)
    };
    (@parse [$($arms:tt)*] [] default => $body:expr $(, $($rest:tt)*)?) => {
        $crate::select!(@parse [$($arms)*] [{ $body }] $(, $($rest)*)?)
    };
    (@parse [$($arms:tt)*] [$($def:tt)+] default $($rest:tt)*) => {
        ::core::compile_error!("select!: more than one `default` arm")
    };
    (@parse [$($arms:tt)*] [$($def:tt)*] $($rest:tt)*) => {
        ::core::compile_error!(
            "select!: expected `recv(rx) -> v => { .. }`, `send(tx, value) -> res => { .. }` or `default => { .. }`"
        )
    };

    // `select! {}`: Go's `select {}`, wait forever.
    (@emit [] []) => {
        loop {
            ::core::future::pending::<()>().await
        }
    };
    // With `default`: pass 1 only, no await.
    (@emit [$(($case:ident [$($bind:tt)*] $p:pat => $body:block))*] [$def:block]) => {{
        $($($bind)*)*
        $crate::__private::try_select([$($crate::__private::case(&mut $case)),*]);
        $(if let ::core::option::Option::Some(__fired) = $case.take_fired() {
            let $p = __fired;
            $body
        } else)* $def
    }};
    (@emit [$(($case:ident [$($bind:tt)*] $p:pat => $body:block))+] []) => {{
        $($($bind)*)+
        $crate::__private::select([$($crate::__private::case(&mut $case)),+]).await;
        $(if let ::core::option::Option::Some(__fired) = $case.take_fired() {
            let $p = __fired;
            $body
        } else)+ {
            ::core::unreachable!("select!: no case fired")
        }
    }};

    ($($arms:tt)*) => {
        $crate::select!(@parse [] [] $($arms)*)
    };
}
