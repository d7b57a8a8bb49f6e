//! `#[gort::main]` and `#[gort::test]` (the gort-macros crate): they start a runtime with the asked
//! number of Ps, run the body as its main G, and turn a returned `Result` — even one with a
//! non-`Send` error — into the exit status. Their compile errors are `compile_fail` doctests in
//! runtime/src/lib.rs.

use std::error::Error;
use std::process::ExitCode;
use std::rc::Rc;

#[gort::test]
async fn a_test_body_runs_as_a_g_and_may_await() {
    assert!(gort::current_g().is_some(), "the body runs as a G");
    let h = gort::go(async { 6 * 7 });
    assert_eq!(h.await.unwrap(), 42);
}

#[gort::test(procs = 3)]
async fn procs_sets_the_number_of_ps() {
    assert_eq!(gort::stats().gomaxprocs, 3);
}

#[gort::test]
async fn a_test_may_return_a_result() -> Result<(), Box<dyn Error>> {
    let n: u32 = "7".parse()?;
    assert_eq!(n, 7);
    Ok(())
}

#[gort::test]
#[should_panic(expected = "boom")]
async fn should_panic_works_below_the_attribute() {
    gort::time::sleep(std::time::Duration::from_millis(1)).await;
    panic!("boom");
}

/// A `main` whose error type is not `Send` (it holds an `Rc`): the report happens inside the G.
#[derive(Debug)]
struct LocalError(#[allow(dead_code)] Rc<str>);

impl std::fmt::Display for LocalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "local error: {}", self.0)
    }
}

impl Error for LocalError {}

#[gort::main(procs = 1)]
async fn failing_main() -> Result<(), Box<dyn Error>> {
    gort::time::sleep(std::time::Duration::from_millis(1)).await;
    Err(Box::new(LocalError(Rc::from("boom"))))
}

#[gort::main(procs = 1)]
async fn succeeding_main() -> Result<(), Box<dyn Error>> {
    let n: u32 = gort::go(async { 1 }).await?;
    assert_eq!(n, 1);
    Ok(())
}

#[test]
fn main_turns_err_into_a_failing_exit_code_and_ok_into_success() {
    assert_eq!(failing_main(), ExitCode::FAILURE);
    assert_eq!(succeeding_main(), ExitCode::SUCCESS);
}
