//! `run-workload`: run rounds of one executor workload on gort and exit — a fixed amount of work
//! for tools that count instead of time, such as `valgrind --tool=callgrind` in
//! `scripts/trace_disabled_cost.sh`.
//!
//! Usage: `run-workload <workload> <rounds> [procs]`, where workload is one of `spawn_many_local`,
//! `spawn_many_remote_idle`, `yield_many`, `ping_pong`, `chained_spawn`; procs defaults to 1.
//!
//! sysmon is off: it acts on wall-clock time, which under an instruction counter (50x slower)
//! would preempt at different points each run. With one P nothing is stolen either, so the
//! instruction count of a round repeats from run to run.

use std::process::ExitCode;

use benches::{workloads, Gort};

const NAMES: &[&str] = &[
    "spawn_many_local",
    "spawn_many_remote_idle",
    "yield_many",
    "ping_pong",
    "chained_spawn",
];

fn round(name: &str, rt: &Gort) {
    match name {
        "spawn_many_local" => workloads::spawn_many_local(rt, workloads::SPAWN_N),
        "spawn_many_remote_idle" => workloads::spawn_many_remote(rt, workloads::SPAWN_N),
        "yield_many" => workloads::yield_many(rt, workloads::YIELD_TASKS, workloads::YIELD_N),
        "ping_pong" => workloads::ping_pong(rt, workloads::PING_PONG_N),
        "chained_spawn" => workloads::chained_spawn(rt, workloads::CHAIN_N),
        _ => unreachable!("names are checked in main"),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || {
        eprintln!(
            "usage: run-workload <workload> <rounds> [procs]\nworkloads: {}",
            NAMES.join(", ")
        );
        ExitCode::from(2)
    };
    let (Some(name), Some(rounds)) = (args.first(), args.get(1)) else {
        return usage();
    };
    if !NAMES.contains(&name.as_str()) {
        return usage();
    }
    let Ok(rounds) = rounds.parse::<u32>() else {
        return usage();
    };
    let procs = match args.get(2).map(|p| p.parse::<usize>()) {
        None => 1,
        Some(Ok(p)) if p > 0 => p,
        Some(_) => return usage(),
    };
    let rt = match runtime::Builder::new().procs(procs).sysmon(false).build() {
        Ok(rt) => Gort::from_runtime(rt),
        Err(e) => {
            eprintln!("run-workload: cannot build the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    for _ in 0..rounds {
        round(name, &rt);
    }
    ExitCode::SUCCESS
}
