//! Reading criterion's results back: the data behind `bench-report`.
//!
//! criterion writes, for each benchmark `<group>/<function>`, a directory holding
//! `new/benchmark.json` (the ids) and `new/estimates.json` (the statistics, in nanoseconds per
//! iteration). The benches in this package name their groups after the workload and their
//! functions after the runtime (`gort`, `tokio`), so one group is one row of the comparison.
//! Benches that print tables criterion does not know about (sleep lateness, preemption-point cost)
//! also save them as Markdown next to criterion's results ([`save_table`]), and the report appends
//! them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where criterion keeps its results, found the way criterion finds it: `$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else the target directory `cargo metadata` reports (when run
/// under cargo), else `target/criterion`.
pub fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("criterion");
    }
    if let Some(dir) = cargo_target_dir() {
        return dir.join("criterion");
    }
    PathBuf::from("target/criterion")
}

fn cargo_target_dir() -> Option<PathBuf> {
    let cargo = std::env::var_os("CARGO")?;
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .ok()?;
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    meta.get("target_directory")?.as_str().map(PathBuf::from)
}

/// Save a Markdown table beside criterion's results as `<name>.md`, for the report.
pub fn save_table(name: &str, markdown: &str) -> io::Result<PathBuf> {
    let home = criterion_home();
    fs::create_dir_all(&home)?;
    let path = home.join(format!("{name}.md"));
    fs::write(&path, markdown)?;
    Ok(path)
}

/// One benchmark's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub group: String,
    pub function: String,
    /// Mean time per iteration, nanoseconds.
    pub mean_ns: f64,
    /// The mean's 95 % confidence interval, nanoseconds.
    pub ci_ns: (f64, f64),
}

/// Parse one benchmark's `benchmark.json` and `estimates.json`. `None` if either lacks a field
/// we need (a file from another criterion version, or a half-written one).
pub fn parse_estimate(benchmark_json: &str, estimates_json: &str) -> Option<Estimate> {
    let b: serde_json::Value = serde_json::from_str(benchmark_json).ok()?;
    let e: serde_json::Value = serde_json::from_str(estimates_json).ok()?;
    let mean = e.get("mean")?;
    let ci = mean.get("confidence_interval")?;
    Some(Estimate {
        group: b.get("group_id")?.as_str()?.to_owned(),
        function: b.get("function_id")?.as_str()?.to_owned(),
        mean_ns: mean.get("point_estimate")?.as_f64()?,
        ci_ns: (
            ci.get("lower_bound")?.as_f64()?,
            ci.get("upper_bound")?.as_f64()?,
        ),
    })
}

/// Every result under `home` (`<home>/<group>/<function>/new/`); unreadable ones are reported on
/// stderr and skipped.
pub fn load(home: &Path) -> io::Result<Vec<Estimate>> {
    let mut out = Vec::new();
    for group in fs::read_dir(home)? {
        let group = group?.path();
        if !group.is_dir() {
            continue;
        }
        for func in fs::read_dir(&group)? {
            let new = func?.path().join("new");
            let (Ok(b), Ok(e)) = (
                fs::read_to_string(new.join("benchmark.json")),
                fs::read_to_string(new.join("estimates.json")),
            ) else {
                continue; // criterion's own `report` directory, or no finished run
            };
            match parse_estimate(&b, &e) {
                Some(est) => out.push(est),
                None => eprintln!("bench-report: skipping {}: unexpected JSON", new.display()),
            }
        }
    }
    Ok(out)
}

/// The groups in the order of `benches/rt_multi_threaded.rs`, then the others by name.
const ORDER: &[&str] = &[
    "spawn_many_local",
    "spawn_many_remote_idle",
    "spawn_many_remote_busy1",
    "yield_many",
    "ping_pong",
    "chained_spawn",
];

/// The comparison table: one row per group, gort and tokio side by side. Groups with other
/// function names get a row per function, with the name in the workload column.
pub fn markdown(estimates: &[Estimate]) -> String {
    let mut groups: BTreeMap<(usize, String), Vec<&Estimate>> = BTreeMap::new();
    for e in estimates {
        let rank = ORDER
            .iter()
            .position(|g| *g == e.group)
            .unwrap_or(ORDER.len());
        groups.entry((rank, e.group.clone())).or_default().push(e);
    }
    let mut s = String::new();
    s.push_str("| workload | gort (mean) | tokio (mean) | ratio gort/tokio |\n");
    s.push_str("|---|---:|---:|---:|\n");
    for ((_, group), entries) in &groups {
        let find = |name: &str| entries.iter().find(|e| e.function == name);
        let (gort, tokio) = (find("gort"), find("tokio"));
        if gort.is_some() || tokio.is_some() {
            let ratio = match (gort, tokio) {
                (Some(g), Some(t)) if t.mean_ns > 0.0 => format!("{:.2}", g.mean_ns / t.mean_ns),
                _ => "–".to_owned(),
            };
            let _ = writeln!(
                s,
                "| {group} | {} | {} | {ratio} |",
                cell(gort.copied()),
                cell(tokio.copied())
            );
        }
        for e in entries {
            if e.function != "gort" && e.function != "tokio" {
                let _ = writeln!(s, "| {group}/{} | {} | | |", e.function, cell(Some(e)));
            }
        }
    }
    s
}

fn cell(e: Option<&Estimate>) -> String {
    e.map_or_else(|| "–".to_owned(), |e| fmt_ns(e.mean_ns))
}

/// A duration in nanoseconds in the unit that keeps 3–4 significant digits.
pub fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.2} ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BENCH: &str = r#"{"group_id":"ping_pong","function_id":"gort","value_str":null,
        "throughput":null,"full_id":"ping_pong/gort","directory_name":"ping_pong/gort",
        "title":"ping_pong/gort"}"#;
    const EST: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,
        "lower_bound":1000.0,"upper_bound":3000.0},"point_estimate":2000.0,
        "standard_error":10.0},"median":{"confidence_interval":{"confidence_level":0.95,
        "lower_bound":1.0,"upper_bound":2.0},"point_estimate":1.5,"standard_error":0.1}}"#;

    fn est(group: &str, function: &str, mean_ns: f64) -> Estimate {
        Estimate {
            group: group.into(),
            function: function.into(),
            mean_ns,
            ci_ns: (mean_ns, mean_ns),
        }
    }

    #[test]
    fn parse_estimate_reads_ids_and_mean() {
        let e = parse_estimate(BENCH, EST).expect("parses");
        assert_eq!(e, est_with_ci());
        fn est_with_ci() -> Estimate {
            Estimate {
                group: "ping_pong".into(),
                function: "gort".into(),
                mean_ns: 2000.0,
                ci_ns: (1000.0, 3000.0),
            }
        }
    }

    #[test]
    fn parse_estimate_rejects_json_without_a_mean() {
        assert_eq!(parse_estimate(BENCH, r#"{"median":{}}"#), None);
        assert_eq!(parse_estimate("not json", EST), None);
    }

    #[test]
    fn markdown_puts_gort_and_tokio_side_by_side_with_the_ratio() {
        let t = markdown(&[
            est("ping_pong", "tokio", 1_000_000.0),
            est("ping_pong", "gort", 2_500_000.0),
        ]);
        assert!(
            t.contains("| ping_pong | 2.500 ms | 1.000 ms | 2.50 |"),
            "{t}"
        );
    }

    #[test]
    fn markdown_orders_known_workloads_first_and_marks_missing_peers() {
        let t = markdown(&[
            est("aaa_other", "gort", 5.0),
            est("chained_spawn", "tokio", 10.0),
            est("spawn_many_local", "gort", 10.0),
        ]);
        let pos = |needle: &str| t.find(needle).expect(needle);
        assert!(pos("| spawn_many_local") < pos("| chained_spawn"));
        assert!(pos("| chained_spawn") < pos("| aaa_other"));
        assert!(t.contains("| chained_spawn | – | 10.00 ns | – |"), "{t}");
    }

    #[test]
    fn fmt_ns_picks_a_readable_unit() {
        assert_eq!(fmt_ns(1.5), "1.50 ns");
        assert_eq!(fmt_ns(2_500.0), "2.50 µs");
        assert_eq!(fmt_ns(3_000_000.0), "3.000 ms");
        assert_eq!(fmt_ns(4e9), "4.000 s");
    }
}
