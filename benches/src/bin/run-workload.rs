//! `run-workload`: run rounds of one executor workload on gort and exit — a fixed amount of work
//! for tools that count instead of time, such as `valgrind --tool=callgrind` in
//! `scripts/trace_disabled_cost.sh`.
//!
//! Usage: `run-workload <workload> <rounds> [procs] [--traced]`, where workload is one of
//! `benches::workloads::EXECUTOR` (`spawn_many_local`, `spawn_many_remote_idle`, `yield_many`,
//! `ping_pong`, `chained_spawn`); procs defaults to 1. With `--traced` the rounds run with the
//! execution tracer recording (into memory; the process exits without writing the trace), to
//! count what recording costs.
//!
//! sysmon is off: it acts on wall-clock time, which under an instruction counter (50x slower)
//! would preempt at different points each run. With one P nothing is stolen either, so the
//! instruction count of a round repeats from run to run.

use std::process::ExitCode;

use benches::workloads::{self, EXECUTOR};
use benches::Gort;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let traced = args.iter().any(|a| a == "--traced");
    args.retain(|a| a != "--traced");
    let usage = || {
        eprintln!(
            "usage: run-workload <workload> <rounds> [procs] [--traced]\nworkloads: {}",
            EXECUTOR
                .iter()
                .map(|w| w.name)
                .collect::<Vec<_>>()
                .join(", ")
        );
        ExitCode::from(2)
    };
    let (Some(name), Some(rounds)) = (args.first(), args.get(1)) else {
        return usage();
    };
    let Some(workload) = workloads::executor(name) else {
        return usage();
    };
    let Ok(rounds) = rounds.parse::<u32>() else {
        return usage();
    };
    let procs = match args.get(2).map(|p| p.parse::<usize>()) {
        None => 1,
        Some(Ok(p)) if p > 0 => p,
        Some(_) => return usage(),
    };
    let rt = match gort::Builder::new().procs(procs).sysmon(false).build() {
        Ok(rt) => Gort::from_runtime(rt),
        Err(e) => {
            eprintln!("run-workload: cannot build the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if traced {
        if let Err(e) = gort::trace::start(std::io::sink()) {
            eprintln!("run-workload: cannot start tracing: {e}");
            return ExitCode::FAILURE;
        }
    }
    for _ in 0..rounds {
        (workload.gort)(&rt);
    }
    if traced {
        // Writing the trace would dwarf the rounds in an instruction count.
        std::process::exit(0);
    }
    ExitCode::SUCCESS
}
