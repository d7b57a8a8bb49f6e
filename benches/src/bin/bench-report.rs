//! `bench-report`: criterion's results for this package's benches as one Markdown table, gort
//! next to tokio, followed by the tables the benches saved themselves (sleep lateness, the cost
//! of a preemption point).
//!
//! Usage: `cargo run -p benches --bin bench-report [CRITERION_DIR]` after `cargo bench -p benches`.
//! Without an argument it looks where criterion writes (see `benches::report::criterion_home`).

use std::path::PathBuf;
use std::process::ExitCode;

use benches::report;

fn main() -> ExitCode {
    let home = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(report::criterion_home);
    let estimates = match report::load(&home) {
        Ok(e) => e,
        Err(e) => {
            eprintln!(
                "bench-report: cannot read criterion's results in {}: {e}\n\
                 Run `cargo bench -p benches` first, or pass the criterion directory.",
                home.display()
            );
            return ExitCode::FAILURE;
        }
    };
    if estimates.is_empty() {
        eprintln!(
            "bench-report: no results in {}; run `cargo bench -p benches` first",
            home.display()
        );
        return ExitCode::FAILURE;
    }
    println!(
        "criterion's mean time per iteration (the console's middle number is its slope estimate, \
         which can differ); ratio < 1 means gort is faster.\n"
    );
    println!("{}", report::markdown(&estimates));
    // The benches' own tables, in name order.
    let mut extra: Vec<PathBuf> = std::fs::read_dir(&home)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "md"))
                .collect()
        })
        .unwrap_or_default();
    extra.sort();
    for path in extra {
        match std::fs::read_to_string(&path) {
            Ok(md) => println!("{md}"),
            Err(e) => eprintln!("bench-report: cannot read {}: {e}", path.display()),
        }
    }
    ExitCode::SUCCESS
}
