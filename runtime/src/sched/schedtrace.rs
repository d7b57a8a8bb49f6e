//! `GORTDEBUG=schedtrace=MS,scheddetail=1`: Go's `GODEBUG` scheduler trace (runtime/proc.go:
//! `schedtrace`), in Go 1.16's exact format so that everything written about reading Go's schedtrace
//! applies here.
//!
//! ```text
//! SCHED 1009ms: gomaxprocs=2 idleprocs=0 threads=4 spinningthreads=0 idlethreads=1 runqueue=2 [3 4]
//! ```
//! `runqueue` is the global queue, the bracket lists each P's local queue. With `scheddetail=1` the
//! line ends in Go's extra counters instead of the brackets and is followed by a line per P, M and G.
//! Fields that have no meaning in this runtime (no GC, no stacks, no locked threads) print 0 / -1 / an
//! empty value, as Go prints them when idle: `gcwaiting`, `nmidlelocked`, `stopwait`, `gfreecnt`,
//! `mallocing`, `throwing`, `preemptoff`, `locks`, `dying`, `lockedg`, `lockedm`.

use std::fmt::Write as _;

use crate::sched::g::{status as gstatus, WaitReason};
use crate::sched::Sched;
use crate::util::loom::sync::atomic::Ordering;

/// Parsed `GORTDEBUG`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DebugVars {
    pub(crate) schedtrace_ms: u64,
    pub(crate) scheddetail: bool,
    /// `checkdead=0` turns deadlock detection off (default on).
    pub(crate) checkdead: bool,
    /// `panicexit=1`: a panic in a G dumps and exits 2, as in Go (default off).
    pub(crate) panicexit: bool,
}

impl Default for DebugVars {
    fn default() -> DebugVars {
        DebugVars {
            schedtrace_ms: 0,
            scheddetail: false,
            checkdead: true,
            panicexit: false,
        }
    }
}

impl DebugVars {
    pub(crate) fn from_env() -> DebugVars {
        // `var_os`: a value that is not UTF-8 is reported too, not silently taken for "unset".
        match std::env::var_os("GORTDEBUG") {
            Some(v) => {
                let (vars, problems) = DebugVars::parse(&v.to_string_lossy());
                report_once(&problems);
                vars
            }
            None => DebugVars::default(),
        }
    }

    /// Parse `key=value,key=value`. Unknown keys and bad values are returned as messages, not
    /// silently ignored.
    pub(crate) fn parse(s: &str) -> (DebugVars, Vec<String>) {
        let mut vars = DebugVars::default();
        let mut problems = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) = item.split_once('=').unwrap_or((item, ""));
            match key {
                "schedtrace" => match value.parse::<u64>() {
                    Ok(ms) => vars.schedtrace_ms = ms,
                    Err(_) => problems.push(format!(
                        "GORTDEBUG: schedtrace={value:?} is not a number of milliseconds"
                    )),
                },
                "scheddetail" => match value {
                    "0" => vars.scheddetail = false,
                    "1" => vars.scheddetail = true,
                    _ => problems.push(format!("GORTDEBUG: scheddetail={value:?} must be 0 or 1")),
                },
                "checkdead" | "panicexit" => {
                    let on = match value {
                        "0" => false,
                        "1" => true,
                        _ => {
                            problems.push(format!("GORTDEBUG: {key}={value:?} must be 0 or 1"));
                            continue;
                        }
                    };
                    if key == "checkdead" {
                        vars.checkdead = on;
                    } else {
                        vars.panicexit = on;
                    }
                }
                _ => problems.push(format!(
                    "GORTDEBUG: unknown setting {key:?} (known: schedtrace=MS, scheddetail=1, \
                     checkdead=0, panicexit=1)"
                )),
            }
        }
        (vars, problems)
    }
}

/// Print each problem once per process, however many runtimes are built.
fn report_once(problems: &[String]) {
    static REPORTED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut seen = REPORTED.lock().unwrap_or_else(|e| e.into_inner());
    for p in problems {
        if !seen.contains(p) {
            eprintln!("gort: {p}");
            seen.push(p.clone());
        }
    }
}

/// Print one schedtrace report to stderr (Go's `schedtrace(detailed)`).
pub(crate) fn schedtrace(sched: &Sched, detailed: bool) {
    eprint!("{}", format_schedtrace(sched, detailed));
}

pub(crate) fn format_schedtrace(sched: &Sched, detailed: bool) -> String {
    let mut out = String::new();
    let ms = sched.start.elapsed().as_millis();
    let st = crate::sched::stats::Stats::collect(sched);
    let _ = write!(
        out,
        "SCHED {ms}ms: gomaxprocs={} idleprocs={} threads={} spinningthreads={} idlethreads={} runqueue={}",
        st.gomaxprocs, st.idle_procs, st.threads, st.spinning_threads, st.idle_threads, st.global_runq
    );
    if !detailed {
        let locals: Vec<String> = st.local_runq.iter().map(|n| n.to_string()).collect();
        let _ = writeln!(out, " [{}]", locals.join(" "));
        return out;
    }
    let _ = writeln!(
        out,
        " gcwaiting=0 nmidlelocked=0 stopwait=0 sysmonwait={}",
        u8::from(sched.sysmon_wait.load(Ordering::Relaxed))
    );
    for p in sched.allp.iter() {
        let m = p.m.load(Ordering::Relaxed);
        let m = if m == usize::MAX || p.go_status() == 0 {
            -1
        } else {
            m as i64
        };
        let _ = writeln!(
            out,
            "  P{}: status={} schedtick={} syscalltick={} m={} runqsize={} gfreecnt=0 timerslen={}",
            p.id,
            p.go_status(),
            p.schedtick.load(Ordering::Relaxed),
            p.syscalltick.load(Ordering::Relaxed),
            m,
            p.runq.len(),
            p.timers.len()
        );
    }
    let ms: Vec<_> = sched.lock().allm.clone();
    for m in &ms {
        let p = m.p.load(Ordering::Relaxed);
        let p = if p == usize::MAX { -1 } else { p as i64 };
        let g = m.curg.load(Ordering::Relaxed);
        let g = if g == 0 { -1 } else { g as i64 };
        let _ = writeln!(
            out,
            "  M{}: p={} curg={} mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning={} blocked={} lockedg=-1",
            m.id,
            p,
            g,
            m.spinning.load(Ordering::Relaxed),
            m.blocked.load(Ordering::Relaxed)
        );
    }
    // Which M runs which G, for the G lines' m= field.
    let running: Vec<(u64, usize)> = ms
        .iter()
        .map(|m| (m.curg.load(Ordering::Relaxed), m.id))
        .filter(|&(g, _)| g != 0)
        .collect();
    sched.allgs.for_each(|g| {
        let st = g.status.load(Ordering::Relaxed);
        let reason = if st == gstatus::WAITING {
            WaitReason::from_u8(g.waitreason.load(Ordering::Relaxed)).as_str()
        } else {
            ""
        };
        let m = running
            .iter()
            .find(|&&(gid, _)| gid == g.id)
            .map_or(-1, |&(_, m)| m as i64);
        // Go's fields, then (gort's own) where the G was spawned and its name, if any.
        let _ = write!(
            out,
            "  G{}: status={}({}) m={} lockedm=-1 created={}",
            g.id, st, reason, m, g.site
        );
        if let Some(name) = sched.allgs.name(g) {
            let _ = write!(out, " name={name:?}");
        }
        if g.gflags & crate::sched::g::gflags::SYSTEM != 0 {
            out.push_str(" system");
        }
        out.push('\n');
    });
    out
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn parses_known_keys_and_reports_unknown_ones() {
        let (v, p) = DebugVars::parse("schedtrace=1000,scheddetail=1");
        assert_eq!(
            v,
            DebugVars {
                schedtrace_ms: 1000,
                scheddetail: true,
                ..DebugVars::default()
            }
        );
        assert!(p.is_empty());
        let (v, p) = DebugVars::parse("checkdead=0,panicexit=1");
        assert!(!v.checkdead && v.panicexit, "{v:?}");
        assert!(p.is_empty());
        let (v, p) = DebugVars::parse("checkdead=no");
        assert!(v.checkdead, "a bad value leaves the default");
        assert_eq!(p.len(), 1);
        let (v, p) = DebugVars::parse("schedtrace=abc,gctrace=1, ,scheddetail=2");
        assert_eq!(v, DebugVars::default());
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p[1].contains("\"gctrace\""), "{p:?}");
    }

    #[test]
    fn scheddetail_g_lines_name_the_spawn_site_and_the_name() {
        let sched = Sched::new_for_test();
        let mut origin = crate::sched::g::Origin::here();
        origin.gflags = crate::sched::g::gflags::NAMED;
        let (q, j, reg) = crate::sched::g::GRef::new(async {}, 5, sched.clone(), origin);
        sched.allgs.set_name(5, "acceptor".into());
        sched.allgs.insert(reg).ok().expect("registry open");
        let detail = format_schedtrace(&sched, true);
        let want = format!(
            "  G5: status=1() m=-1 lockedm=-1 created={} name=\"acceptor\"\n",
            origin.site
        );
        assert!(detail.contains(&want), "{want:?} in {detail}");
        for g in sched.allgs.close_and_drain() {
            g.shutdown();
        }
        drop((q, j));
    }

    #[test]
    fn sched_line_has_go_fields_in_go_order() {
        let sched = Sched::new_for_test();
        let line = format_schedtrace(&sched, false);
        let re_ok = line.starts_with("SCHED ")
            && line.contains("ms: gomaxprocs=1 idleprocs=0 threads=")
            && line.contains(" spinningthreads=0 idlethreads=0 runqueue=0 [0]");
        assert!(re_ok, "{line}");
        let detail = format_schedtrace(&sched, true);
        assert!(
            detail.contains("runqueue=0 gcwaiting=0 nmidlelocked=0 stopwait=0 sysmonwait=0\n"),
            "{detail}"
        );
        assert!(
            detail.contains(
                "  P0: status=0 schedtick=0 syscalltick=0 m=-1 runqsize=0 gfreecnt=0 timerslen=0\n"
            ),
            "{detail}"
        );
    }
}
