//! The execution tracer end to end: record a workload into memory, parse the Chrome Trace Event
//! JSON, and check that the scheduler's phenomena are in it — G slices, creates with their parent,
//! unblock → start flows, steals, hand-offs, preemption, the 61st-tick fairness rule, runnext, the
//! bootstrap sequence — and that the `gort-trace` analyses and HTML page work on a real trace.
//!
//! Tracing is process-wide, so every test here holds `SERIAL` while a runtime runs: a trace must
//! contain one runtime only. Assertions are about which events exist and how they relate, never
//! about how long anything took.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// An in-memory trace sink.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A recorded trace: the raw text and its events.
struct Recorded {
    text: String,
    events: Vec<Value>,
}

/// Run `f` (which builds and drops its runtime) with tracing on.
fn traced<R>(f: impl FnOnce() -> R) -> (R, Recorded) {
    let buf = SharedBuf::default();
    gort::trace::start(buf.clone()).expect("start tracing");
    let r = f();
    gort::trace::stop().expect("stop tracing");
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).expect("UTF-8 JSON");
    let v: Value = serde_json::from_str(&text).expect("the trace is valid JSON");
    assert_eq!(v["displayTimeUnit"], "ns");
    let events = v["traceEvents"]
        .as_array()
        .expect("traceEvents is an array")
        .clone();
    (r, Recorded { text, events })
}

/// A time field in integer nanoseconds (the tracer writes µs with three decimals).
fn ns(v: &Value) -> u64 {
    (v.as_f64().expect("a number") * 1000.0).round() as u64
}

impl Recorded {
    fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.events.iter().filter(move |e| e["name"] == name)
    }

    fn slices<'a>(&'a self, cat: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.events
            .iter()
            .filter(move |e| e["ph"] == "X" && e["cat"] == cat)
    }

    fn track_names(&self) -> BTreeMap<u64, String> {
        self.named("thread_name")
            .map(|e| {
                (
                    e["tid"].as_u64().unwrap(),
                    e["args"]["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The G slice on a P track that contains time `t` on track `tid`.
    fn g_slice_at(&self, tid: u64, t: u64) -> Option<&Value> {
        self.slices("g")
            .find(|s| s["tid"] == tid && ns(&s["ts"]) <= t && t <= ns(&s["ts"]) + ns(&s["dur"]))
    }

    /// The first run of G `g` on a P track.
    fn first_run(&self, g: u64) -> Option<&Value> {
        self.slices("g")
            .filter(|s| s["args"]["g"] == g)
            .min_by_key(|s| ns(&s["ts"]))
    }
}

/// Every event is well formed, and the complete slices of each track nest (the Trace Event
/// Format's rule; Perfetto draws the others wrongly).
fn assert_well_formed(r: &Recorded) {
    let mut per_tid: HashMap<u64, Vec<(u64, u64, String)>> = HashMap::new();
    for e in &r.events {
        let ph = e["ph"].as_str().expect("every event has a phase");
        assert!(e["pid"].is_u64() && e["tid"].is_u64(), "pid/tid: {e}");
        if ph != "M" {
            assert!(e["ts"].is_number(), "ts: {e}");
        }
        if ph == "X" {
            let (s, d) = (ns(&e["ts"]), ns(&e["dur"]));
            per_tid
                .entry(e["tid"].as_u64().unwrap())
                .or_default()
                .push((s, s + d, e["name"].as_str().unwrap().to_string()));
        }
    }
    for (tid, mut v) in per_tid {
        v.sort_by_key(|&(s, e, _)| (s, std::cmp::Reverse(e)));
        let mut stack: Vec<(u64, u64, String)> = Vec::new();
        for (s, e, name) in v {
            while stack.last().is_some_and(|top| top.1 <= s) {
                stack.pop();
            }
            if let Some(top) = stack.last() {
                assert!(
                    e <= top.1,
                    "on tid {tid}, {name} [{s}, {e}] overlaps {} [{}, {}] without nesting",
                    top.2,
                    top.0,
                    top.1
                );
            }
            stack.push((s, e, name));
        }
    }
}

/// Every flow's head has a tail with the same id, and the head sits inside a run of the G the
/// flow's tail created or woke.
fn assert_flows_land_on_their_g(r: &Recorded) {
    let tails: HashMap<u64, &Value> = r
        .events
        .iter()
        .filter(|e| e["ph"] == "s")
        .map(|e| (e["id"].as_u64().unwrap(), e))
        .collect();
    let mut heads = 0;
    for f in r.events.iter().filter(|e| e["ph"] == "f") {
        heads += 1;
        assert_eq!(f["bp"], "e", "{f}");
        let tail = tails
            .get(&f["id"].as_u64().unwrap())
            .expect("flow head without tail");
        assert_eq!(tail["name"], f["name"]);
        assert!(
            ns(&tail["ts"]) <= ns(&f["ts"]),
            "flow goes back in time: {f}"
        );
        let slice = r
            .g_slice_at(f["tid"].as_u64().unwrap(), ns(&f["ts"]))
            .unwrap_or_else(|| panic!("flow head outside any G slice: {f}"));
        // The G the tail made runnable: the create/unblock instant at the tail's time and track.
        let made = r
            .events
            .iter()
            .find(|e| {
                (e["name"] == "GoCreate" || e["name"] == "GoUnblock")
                    && e["tid"] == tail["tid"]
                    && e["ts"] == tail["ts"]
                    && e["args"]["g"] == slice["args"]["g"]
            })
            .is_some();
        assert!(made, "flow {f} ends in {slice}, not in the G it woke");
    }
    assert!(heads > 0, "no flow arrows at all");
}

/// A small mixed workload on two Ps: spawns, a yield, a sleep, a channel-like wait (join).
fn mixed_workload() {
    let rt = gort::Builder::new().procs(2).build().expect("runtime");
    rt.block_on(async {
        let hs: Vec<_> = (0..8u64)
            .map(|i| {
                gort::go(async move {
                    gort::yield_now().await;
                    gort::time::sleep(Duration::from_millis(2)).await;
                    examples::spin(Duration::from_micros(100));
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for h in hs {
            sum += h.await.expect("G finished");
        }
        assert_eq!(sum, 28);
    });
}

#[test]
fn a_trace_is_chrome_json_with_named_p_and_m_tracks_and_nested_slices() {
    let _s = serial();
    let ((), r) = traced(mixed_workload);
    assert_well_formed(&r);
    let names = r.track_names();
    assert_eq!(names.get(&0).map(String::as_str), Some("P0"));
    assert_eq!(names.get(&1).map(String::as_str), Some("P1"));
    assert!(names.values().any(|n| n == "M0"), "{names:?}");
    assert!(r.named("process_name").count() == 1);
    let g = r.slices("g").next().expect("a G slice");
    assert!(g["name"].as_str().unwrap().starts_with('G'));
    for key in ["g", "m", "end"] {
        assert!(!g["args"][key].is_null(), "G slice without {key}: {g}");
    }
    // The phenomena of the workload, each with its word.
    let ends: Vec<&str> = r
        .slices("g")
        .filter_map(|s| s["args"]["end"].as_str())
        .collect();
    assert!(ends.contains(&"yield"), "{ends:?}");
    assert!(ends.contains(&"complete"), "{ends:?}");
    assert!(
        r.slices("g")
            .any(|s| s["args"]["end"] == "parked" && s["args"]["wait"] == "sleep"),
        "no G parked on a sleep"
    );
    assert!(
        r.slices("g")
            .any(|s| s["args"]["end"] == "parked" && s["args"]["wait"] == "join"),
        "no G parked on a join"
    );
    assert!(
        r.named("GoUnblock").any(|e| e["args"]["by"] == "timer"),
        "no timer wake-up"
    );
    assert!(r.slices("m.g").count() >= r.slices("g").count() / 2);
    assert!(r.named("MStart").count() >= 1 && r.named("MStop").count() >= 1);
}

#[test]
fn creates_name_their_parent_and_unblocks_flow_to_the_next_start() {
    let _s = serial();
    let ((), r) = traced(mixed_workload);
    let child = r
        .named("GoCreate")
        .find(|e| e["args"]["parent"].is_u64())
        .expect("a G created by a G");
    assert_eq!(child["args"]["runnext"], true, "{child}");
    assert_eq!(
        child["args"]["by"],
        format!("G{}", child["args"]["parent"]).as_str()
    );
    let main = r
        .named("GoCreate")
        .find(|e| e["args"]["parent"].is_null())
        .expect("the main G");
    assert_eq!(main["args"]["runnext"], false);
    assert!(main["args"]["by"].as_str().unwrap().starts_with("thread "));
    // A create is not also reported as an unblock.
    let g = child["args"]["g"].as_u64().unwrap();
    let first = ns(&r.first_run(g).expect("the child ran")["ts"]);
    assert!(!r
        .named("GoUnblock")
        .any(|e| e["args"]["g"] == g && ns(&e["ts"]) < first));
    assert!(r
        .events
        .iter()
        .any(|e| e["ph"] == "s" && e["name"] == "unblock"));
    assert_flows_land_on_their_g(&r);
}

#[test]
fn an_idle_p_steals_from_a_flooded_p() {
    let _s = serial();
    // Stealing needs the second M to be scheduled by the OS while the flood lasts; on a loaded
    // machine it may not be, so try a few floods (bounded) until one shows a steal.
    for attempt in 0..5 {
        let (report, r) = traced(|| examples::work_stealing(2, 64, Duration::from_micros(200)));
        let Some(steal) = r.named("Steal").next() else {
            assert_eq!(report.stats.steals, 0, "stats saw a steal the trace missed");
            eprintln!("attempt {attempt}: no steal");
            continue;
        };
        assert_well_formed(&r);
        let (thief, victim) = (
            steal["args"]["thief"].as_u64().unwrap(),
            steal["args"]["victim"].as_u64().unwrap(),
        );
        assert_ne!(thief, victim);
        assert!(steal["args"]["n"].as_u64().unwrap() >= 1);
        assert_eq!(steal["tid"], thief, "a steal is drawn on the thief's track");
        let moved: u64 = r
            .named("Steal")
            .map(|s| s["args"]["n"].as_u64().unwrap())
            .sum();
        assert_eq!(
            moved, report.stats.steals,
            "trace and stats agree on Gs stolen"
        );
        // Some G created on one P ran first on another.
        let created_elsewhere = r.named("GoCreate").any(|c| {
            let g = c["args"]["g"].as_u64().unwrap();
            r.first_run(g)
                .is_some_and(|s| s["tid"] != c["tid"] && c["tid"].as_u64().unwrap() < 900)
        });
        assert!(
            created_elsewhere,
            "no G ran on a P other than its creator's"
        );
        return;
    }
    panic!("no steal in 5 floods");
}

#[test]
fn sysmon_hands_off_the_p_of_a_blocking_section() {
    let _s = serial();
    let (report, r) = traced(|| examples::syscall_handoff(20, Duration::from_millis(100)));
    assert_well_formed(&r);
    assert!(report.stats.handoffs >= 1);
    // The long blocking section lost its P: sysmon handed it off while the call was running.
    let long = r
        .slices("syscall")
        .max_by_key(|s| ns(&s["dur"]))
        .expect("blocking sections on the M tracks");
    assert!(
        long["args"]["exit"]
            .as_str()
            .unwrap()
            .starts_with("P taken"),
        "{long}"
    );
    let m = long["tid"].as_u64().unwrap() - 1000;
    let (from, to) = (ns(&long["ts"]), ns(&long["ts"]) + ns(&long["dur"]));
    let h = r
        .named("Handoff")
        .find(|h| h["args"]["m"] == m && (from..to).contains(&ns(&h["ts"])))
        .expect("a Handoff during the long call");
    let p = h["args"]["p"].as_u64().unwrap();
    assert_eq!(h["tid"], p, "drawn on the P's track");
    // The G's slice on that P ends at the hand-off; its M goes on in the blocking call.
    let cut = r
        .slices("g")
        .find(|s| s["args"]["end"] == "handoff" && ns(&s["ts"]) + ns(&s["dur"]) == ns(&h["ts"]))
        .expect("a G slice cut by the hand-off");
    assert_eq!(cut["args"]["g"], long["args"]["g"]);
    assert_eq!(cut["args"]["m"], m);
    assert!(r.named("GoSysExit").any(|e| e["args"]["fast"] == false));
    assert!(r.named("GoSysCall").count() >= 4);
    // Another M ran Gs on the P while the first was blocked.
    assert!(r.slices("g").any(|s| {
        s["tid"] == p && s["args"]["m"] != m && (ns(&h["ts"])..to).contains(&ns(&s["ts"]))
    }));
}

#[test]
fn sysmon_asks_a_cpu_bound_g_to_yield_and_it_does() {
    let _s = serial();
    // sysmon must see the same time slice twice, 10 ms apart, while the G computes; on a loaded
    // machine its thread may not get the CPU in time, so allow a few bounded attempts.
    let mut attempts = 0;
    let (report, r) = loop {
        attempts += 1;
        let (report, r) = traced(|| examples::preemption(Duration::from_millis(60)));
        if report.stats.preemptions > 0 || attempts == 4 {
            break (report, r);
        }
        eprintln!("attempt {attempts}: no preemption");
    };
    assert_well_formed(&r);
    assert!(
        report.stats.preemptions >= 1,
        "no preemption in {attempts} attempts"
    );
    assert!(r.named("PreemptRequest").count() >= 1, "sysmon never asked");
    // The G that yielded: its run (on its M's track) ends "preempted" and a GoPreempt mark names
    // it. Its slice on the P track may end earlier, "rescued": on a loaded machine sysmon can be
    // late enough that the poll also outlasts the runaway-poll threshold. (Which run a request is
    // drawn against can be off by one: sysmon records it just after setting the flag.)
    let cut = r
        .slices("m.g")
        .find(|s| s["args"]["end"] == "preempted")
        .expect("a run that ended in a preemption");
    let g = cut["args"]["g"].as_u64().unwrap();
    let mark = r
        .named("GoPreempt")
        .find(|e| e["args"]["g"] == g)
        .expect("a GoPreempt mark for that G");
    assert_eq!(ns(&mark["ts"]), ns(&cut["ts"]) + ns(&cut["dur"]));
    assert_eq!(
        r.named("GoPreempt").count() as u64,
        report.stats.preemptions,
        "trace and stats agree"
    );
}

#[test]
fn find_runnable_takes_a_global_g_every_61st_schedtick() {
    let _s = serial();
    let (report, r) = traced(|| examples::find_runnable(200, 8, Duration::from_micros(50)));
    assert_eq!(report.order.len(), 200 + 8 + 1);
    assert!(
        !report.interleaved.is_empty(),
        "no global G ran while local ones were queued: {:?}",
        report.order
    );
    // Exactly 60 local runs between two global ones, three times in 200 — unless sysmon rescued
    // the P from a poll the OS stalled for 20 ms, which lets a second M run the queue too.
    if report.stats.rescues == 0 {
        assert_eq!(report.interleaved.len(), 3, "{:?}", report.order);
        for w in report.interleaved.windows(2) {
            assert_eq!(w[1] - w[0] - 1, 60, "{:?}", report.order);
        }
    }
    // The sleeper was woken by its P's timers, to the tail of the local queue (not runnext).
    let t = r
        .named("GoUnblock")
        .find(|e| e["args"]["by"] == "timer")
        .expect("a timer wake-up");
    assert_eq!(t["args"]["runnext"], false);
}

/// On one P, Gs taking turns with `yield_now`: each run's end and the next run's start are
/// recorded as they happen, each with its own clock reading, so no run is lost and on the P's
/// track (and the M's) every run begins at or after the end of the one before.
#[test]
fn yields_on_one_p_lose_no_run_and_keep_each_end_before_the_next_start() {
    let _s = serial();
    const GS: u64 = 8;
    const YIELDS: u64 = 100;
    let ((), r) = traced(|| {
        let rt = gort::Builder::new()
            .procs(1)
            .sysmon(false)
            .build()
            .expect("runtime");
        rt.block_on(async {
            let hs: Vec<_> = (0..GS)
                .map(|_| {
                    gort::go(async {
                        for _ in 0..YIELDS {
                            gort::yield_now().await;
                        }
                    })
                })
                .collect();
            for h in hs {
                h.await.expect("G finished");
            }
        });
    });
    assert_well_formed(&r);
    for cat in ["g", "m.g"] {
        let mut runs: Vec<(u64, u64, &Value)> = r
            .slices(cat)
            .map(|s| (ns(&s["ts"]), ns(&s["ts"]) + ns(&s["dur"]), s))
            .collect();
        runs.sort_by_key(|&(start, _, _)| start);
        let yields = runs
            .iter()
            .filter(|(_, _, s)| s["args"]["end"] == "yield")
            .count() as u64;
        assert_eq!(
            yields,
            GS * YIELDS,
            "every yield's run is on the {cat} track"
        );
        for w in runs.windows(2) {
            assert!(
                w[0].1 <= w[1].0,
                "on the {cat} track, {} ends after {} starts",
                w[0].2,
                w[1].2
            );
        }
    }
}

#[test]
fn a_child_goes_to_runnext_and_runs_next_on_its_parents_p() {
    let _s = serial();
    let (report, r) = traced(|| examples::gmp(2, 16, Duration::from_micros(100)));
    assert_eq!(report.children, 16);
    let mut same_p = 0;
    for c in r
        .named("GoCreate")
        .filter(|c| c["args"]["runnext"] == true && c["tid"].as_u64().unwrap() < 900)
    {
        let g = c["args"]["g"].as_u64().unwrap();
        if r.first_run(g).is_some_and(|s| s["tid"] == c["tid"]) {
            same_p += 1;
        }
    }
    assert!(same_p >= 1, "no runnext child ran on its parent's P");
}

#[test]
fn bootstrap_creates_the_main_g_off_any_m_then_starts_an_m_that_runs_it() {
    let _s = serial();
    let (v, r) = traced(examples::bootstrap);
    assert_eq!(v, 42);
    let create = r.named("GoCreate").next().expect("the main G's creation");
    assert!(create["args"]["parent"].is_null());
    assert!(
        create["tid"].as_u64().unwrap() >= 2000,
        "created off any M: {create}"
    );
    let g = create["args"]["g"].as_u64().unwrap();
    let mstart = r
        .named("MStart")
        .min_by_key(|e| ns(&e["ts"]))
        .expect("an M starts");
    let first = r.first_run(g).expect("the main G runs");
    // Not asserted: GoCreate before MStart. The creation is recorded just after the G is queued,
    // and queuing it is what starts the M: on a loaded machine the new M may record MStart first.
    assert!(ns(&mstart["ts"]) <= ns(&first["ts"]));
    assert_eq!(r.named("MStart").count(), r.named("MStop").count());
    assert_flows_land_on_their_g(&r);
}

#[test]
fn gort_trace_summary_and_html_work_on_a_real_trace() {
    let _s = serial();
    let ((), r) = traced(mixed_workload);
    let t = gort_trace::Trace::parse(&r.text).expect("gort-trace reads the tracer's output");
    let a = gort_trace::analyze(&t);
    assert_eq!(a.procs, 2);
    assert!(a.gs.len() >= 9, "{} Gs", a.gs.len());
    assert!(a.gs.iter().any(|g| g.exec > 0 && g.sched_wait > 0));
    assert!(a.latency.n >= 8, "every G woke from its sleep");
    assert!(a
        .gs
        .iter()
        .any(|g| g.blocked(gort_trace::analysis::Block::Sleep) > 0));
    let text = gort_trace::summary_text(&a, 50);
    assert!(
        text.contains("Goroutine analysis") && text.contains("p99"),
        "{text}"
    );

    let page = gort_trace::html::render(&t, &a, "test");
    assert_eq!(page.matches("<svg").count(), 1);
    assert_eq!(page.matches("class=\"p-row\"").count(), 2, "one row per P");
    let ms = r
        .track_names()
        .values()
        .filter(|n| n.starts_with('M'))
        .count();
    assert_eq!(page.matches("class=\"m-row\"").count(), ms, "one row per M");
    assert_eq!(
        page.matches("<rect class=\"g\"").count(),
        r.slices("g").count(),
        "one rect per G slice"
    );
    for bad in [
        "http:", "https:", "<script", "src=", "url(", "@import", "<link",
    ] {
        assert!(
            !page.contains(bad),
            "the page refers to something outside it: {bad}"
        );
    }
}

#[test]
fn tracing_twice_is_refused_and_stopping_without_a_trace_is_an_error() {
    let _s = serial();
    gort::trace::start(std::io::sink()).expect("start");
    assert!(gort::trace::is_enabled());
    let e = gort::trace::start(std::io::sink()).expect_err("a second start");
    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
    gort::trace::stop().expect("stop");
    assert!(!gort::trace::is_enabled());
    assert!(gort::trace::stop().is_err());
}

#[test]
fn a_runtime_that_ran_before_tracing_started_leaves_nothing_in_the_trace() {
    let _s = serial();
    mixed_workload();
    let ((), r) = traced(|| {});
    assert_eq!(r.slices("g").count(), 0);
    assert_eq!(r.named("GoCreate").count(), 0);
}

/// Run by the two `gorttrace_` tests below in a child process with `GORTTRACE` set (`GORTTRACE` is
/// read once per process). On its own it just runs a runtime.
#[test]
#[ignore = "run as a child process by run_gorttrace_child"]
fn gorttrace_child() {
    let v = gort::run(async { gort::go(async { 7 }).await.unwrap() });
    assert_eq!(v, 7);
}

/// Run `gorttrace_child` in a child process (this test binary) with `GORTTRACE=trace` and wait for it.
fn run_gorttrace_child(trace: impl AsRef<std::ffi::OsStr>) -> std::process::Output {
    std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "gorttrace_child",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env("GORTTRACE", trace)
        .output()
        .expect("run the child test")
}

#[test]
fn gorttrace_writes_the_file_when_the_runtime_is_dropped() {
    let path = std::env::temp_dir().join(format!("gort-gorttrace-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let out = run_gorttrace_child(&path);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("wrote the execution trace"), "{stderr}");
    let text = std::fs::read_to_string(&path).expect("GORTTRACE file written");
    let _ = std::fs::remove_file(&path);
    let t = gort_trace::Trace::parse(&text).expect("a valid trace");
    assert!(t.slices_of("g").count() >= 2, "main G and its child ran");
}

#[test]
fn gorttrace_names_an_uncreatable_file_and_the_program_still_runs() {
    let out = run_gorttrace_child("/nonexistent-dir/gort/trace.json");
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("GORTTRACE=/nonexistent-dir/gort/trace.json: cannot create"),
        "{stderr}"
    );
}

#[test]
fn gs_parked_on_sockets_are_woken_by_netpoll() {
    let _s = serial();
    let (report, r) = traced(|| examples::netpoller(2, 8, 30));
    assert_eq!(report.round_trips, 8 * 30);
    assert_well_formed(&r);
    let parked_on_io = r
        .slices("g")
        .filter(|s| s["args"]["wait"] == "IO wait")
        .count();
    assert!(parked_on_io > 0, "no G parked on the netpoller");
    let by_netpoll: Vec<&Value> = r
        .named("GoUnblock")
        .filter(|e| e["args"]["by"] == "netpoll")
        .collect();
    assert!(!by_netpoll.is_empty(), "no G was woken by netpoll");
    assert!(r.named("Netpoll").count() > 0, "no netpoll batch event");
    // A G woken by netpoll runs again afterwards.
    let g = by_netpoll[0]["args"]["g"].as_u64().unwrap();
    let woke = ns(&by_netpoll[0]["ts"]);
    assert!(r
        .slices("g")
        .any(|s| s["args"]["g"] == g && ns(&s["ts"]) >= woke));
}

#[test]
fn channel_ops_block_and_unblock_in_pairs() {
    let _s = serial();
    let (report, r) = traced(|| examples::channels(20));
    assert_eq!(report.unbuffered, (0..20).collect::<Vec<_>>());
    assert_eq!(report.buffered, (0..20).collect::<Vec<_>>());
    assert_well_formed(&r);
    for wait in ["chan receive", "chan send"] {
        // Every run that parked on a channel op is followed by an unblock of that G by another G.
        let parked: Vec<&Value> = r
            .slices("g")
            .filter(|s| s["args"]["wait"] == wait)
            .collect();
        assert!(!parked.is_empty(), "no G parked on '{wait}'");
        for s in &parked {
            let g = s["args"]["g"].as_u64().unwrap();
            let end = ns(&s["ts"]) + ns(&s["dur"]);
            let unblock = r
                .named("GoUnblock")
                .find(|e| e["args"]["g"] == g && ns(&e["ts"]) >= end)
                .unwrap_or_else(|| panic!("G{g} parked on '{wait}' and was never unblocked"));
            let by = unblock["args"]["by"].as_str().unwrap();
            assert!(
                by.starts_with('G') && by != format!("G{g}"),
                "unblocked by {by}"
            );
        }
    }
    // The direct hand-off readies the receiver into runnext.
    assert!(r.named("GoUnblock").any(
        |e| e["args"]["runnext"] == true && e["args"]["by"].as_str().unwrap().starts_with('G')
    ));
}

/// A G's slices carry its label: a named G its name and spawn site, any other G its spawn site
/// (`file:line`, recorded by `#[track_caller]`), so a trace can be mapped back to the code.
#[test]
fn g_slices_name_the_g_and_where_it_was_spawned() {
    let _s = serial();
    let (lines, r) = traced(|| {
        gort::Builder::new()
            .procs(1)
            .build()
            .unwrap()
            .block_on(async {
                let line_plain = line!() + 1;
                let plain = gort::go(async { 1 });
                let line_named = line!() + 1;
                let named = gort::Go::new().name("accept loop").spawn(async { 2 });
                assert_eq!(plain.await.unwrap() + named.await.unwrap(), 3);
                (line_plain, line_named)
            })
    });
    let names: Vec<String> = r
        .slices("g")
        .map(|s| s["name"].as_str().unwrap_or("").to_string())
        .collect();
    let plain = format!("{}:{}", file!(), lines.0);
    let named = format!("accept loop ({}:{})", file!(), lines.1);
    assert!(
        names.iter().any(|n| n.ends_with(&plain)),
        "{plain} in {names:?}"
    );
    assert!(
        names.iter().any(|n| n.ends_with(&named)),
        "{named} in {names:?}"
    );
}
