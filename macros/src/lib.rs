//! `#[gort::main]` and `#[gort::test]`: the attributes that turn an `async fn` into a program (or a
//! test) whose body runs as the main G of a fresh gort runtime — Go's `func main` started by
//! `runtime.main` (runtime/proc.go), spelled the way tokio users spell it. Use them through the
//! `gort` crate (`gort::main`, `gort::test`), which re-exports them; their examples and compile-fail
//! checks are tested there (`runtime/src/lib.rs`).
//!
//! The expansion calls only gort's public API. For
//!
//! ```text
//! #[gort::main(procs = 2)]
//! async fn main() -> Result<(), Box<dyn Error>> { body }
//! ```
//!
//! it writes
//!
//! ```text
//! fn main() -> std::process::ExitCode {
//!     async fn main() -> Result<(), Box<dyn Error>> { body }   // the user's fn, unchanged
//!     let rt = gort::Builder::new().procs(2).build()...;        // panics with the OS error
//!     rt.block_on(async { std::process::Termination::report(main().await) })
//! }
//! ```
//!
//! The output is turned into an exit code (`Termination::report`: "Error: {e:?}" on stderr and
//! status 1 for an `Err`) *inside* the main G. That is why a non-`Send` error such as
//! `Box<dyn Error>` is fine here, while `Runtime::block_on` itself needs a `Send` output: the main
//! G may finish on any M, and only the `ExitCode` crosses back to the calling thread. A function
//! without a return type is run as is and returns `()`, so `#[should_panic]` tests work.
//!
//! ## Where this differs from Go and why
//! Go needs no attribute: every program starts in the runtime. A Rust program starts on a plain
//! thread, and something must build the runtime first; the attribute is that something.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, MetaNameValue, ReturnType, Token};

/// Run an `async fn main` as the main G of a gort runtime. Options: `procs = N` (the number of
/// Ps, Go's GOMAXPROCS; default `GORTMAXPROCS` or the number of CPUs).
///
/// ```ignore
/// #[gort::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let out = gort::process::Command::new("uname").output().await?;
///     print!("{}", String::from_utf8(out.stdout)?);
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, Kind::Main)
}

/// Run an `async fn` test as the main G of its own gort runtime (a `#[test]` whose body may
/// `.await`). Takes the same options as `#[gort::main]`; other attributes (`#[should_panic]`,
/// `#[ignore]`) go below it as on any test.
///
/// ```ignore
/// #[gort::test(procs = 2)]
/// async fn ping_pong() {
///     let (tx, rx) = gort::chan::channel(0);
///     gort::go(async move { tx.send(1).await.unwrap() });
///     assert_eq!(rx.recv().await, Some(1));
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, Kind::Test)
}

#[derive(Clone, Copy)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Main => "#[gort::main]",
            Kind::Test => "#[gort::test]",
        }
    }
}

fn expand(args: TokenStream, item: TokenStream, kind: Kind) -> TokenStream {
    match try_expand(args.into(), item.into(), kind) {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// The options, as Builder calls.
fn options(args: TokenStream2, kind: Kind) -> syn::Result<TokenStream2> {
    let parsed = Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse2(args)?;
    let mut calls = TokenStream2::new();
    let mut seen_procs = false;
    for nv in parsed {
        if !nv.path.is_ident("procs") {
            return Err(syn::Error::new_spanned(
                &nv.path,
                format!(
                    "unknown option for {}: the one option is `procs = N`",
                    kind.name()
                ),
            ));
        }
        if seen_procs {
            return Err(syn::Error::new_spanned(&nv.path, "`procs` is given twice"));
        }
        seen_procs = true;
        let n = match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Int(i), ..
            }) => i.base10_parse::<usize>()?,
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "`procs` must be an integer literal, as in `procs = 2`",
                ))
            }
        };
        if n == 0 {
            return Err(syn::Error::new_spanned(
                &nv.value,
                "`procs` must be at least 1 (it is the number of Ps, Go's GOMAXPROCS)",
            ));
        }
        calls.extend(quote_spanned!(nv.value.span()=> .procs(#n)));
    }
    Ok(calls)
}

fn try_expand(args: TokenStream2, item: TokenStream2, kind: Kind) -> syn::Result<TokenStream2> {
    let builder_calls = options(args, kind)?;
    let mut inner: ItemFn = syn::parse2(item)?;
    let sig = &inner.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            sig.fn_token,
            format!(
                "{} needs an `async fn`: add `async` before `fn`",
                kind.name()
            ),
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.inputs,
            format!("{} takes a function without arguments", kind.name()),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            format!(
                "{} takes a function without generic parameters",
                kind.name()
            ),
        ));
    }
    // The outer function keeps the user's attributes, visibility and name; the inner one (the
    // user's function, unchanged but for its attributes) is called from the main G.
    let attrs = std::mem::take(&mut inner.attrs);
    let vis = inner.vis.clone();
    let name = inner.sig.ident.clone();
    let test_attr = match kind {
        Kind::Main => quote!(),
        Kind::Test => quote!(#[::core::prelude::v1::test]),
    };
    let start = quote_spanned! {Span::call_site()=>
        let rt = match ::gort::Builder::new() #builder_calls .build() {
            ::core::result::Result::Ok(rt) => rt,
            ::core::result::Result::Err(e) => {
                ::core::panic!("gort: cannot start the runtime: {}", e)
            }
        };
    };
    let out = match &inner.sig.output {
        ReturnType::Default => quote! {
            #(#attrs)*
            #test_attr
            #vis fn #name() {
                #inner
                #start
                rt.block_on(#name())
            }
        },
        ReturnType::Type(_, ty) => {
            let report = quote_spanned! {ty.span()=>
                ::std::process::Termination::report(#name().await)
            };
            quote! {
                #(#attrs)*
                #test_attr
                #vis fn #name() -> ::std::process::ExitCode {
                    #inner
                    #start
                    rt.block_on(async { #report })
                }
            }
        }
    };
    Ok(out)
}
