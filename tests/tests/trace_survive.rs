//! Traces that survive and traces as long as the run (issue 16, items 4, 6, 7), end to end in
//! child processes: a hung program stopped by SIGINT or SIGTERM leaves a whole trace (JSON that
//! parses, or a raw file that decodes), the process still ends as the signal ends it; a
//! `GORTTRACE=flight:` recorder writes its window; a raw trace streamed to a file while the
//! program runs is readable before the program ends; the user annotations reach the JSON.
//!
//! The child processes are this test binary run with `--exact NAME --ignored`, with `GORTTRACE`
//! set (it is read once per process).

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gort::chan;

/// A program that hangs: its main G waits on a channel nobody sends on, after some work.
#[test]
#[ignore = "run as a child process by the tests below"]
fn hung_child() {
    gort::run(async {
        let task = gort::trace::Task::new("hang");
        for i in 0..50u64 {
            gort::go(async move { i * 2 }).await.unwrap();
        }
        task.log("state", "about to hang");
        let (_tx, rx) = chan::channel::<()>(0);
        println!("child: hanging");
        let _r = gort::trace::start_region("waiting forever");
        let _ = rx.recv().await;
    });
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("gort-survive-{}-{name}", std::process::id()))
}

/// Run `hung_child` with `GORTTRACE=value`, wait until it hangs, send it `sig`, and return its
/// exit status and stderr.
fn hang_then_signal(value: &str, sig: i32) -> (std::process::ExitStatus, String) {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
    // SAFETY: the closure runs in the forked child before exec and only calls setrlimit, which
    // is async-signal-safe: no core file from SIGQUIT.
    unsafe {
        cmd.pre_exec(|| {
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &none);
            Ok(())
        });
    }
    let mut child = cmd
        .args([
            "--exact",
            "hung_child",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env("GORTTRACE", value)
        // Its hang is a deadlock gort would report (exit 2); stand in for a program whose wakers
        // live outside the runtime, which nothing can tell from a deadlock.
        .env("GORTDEBUG", "checkdead=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the child");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match lines.next() {
            Some(Ok(l)) if l.contains("child: hanging") => break,
            Some(Ok(_)) => {}
            _ => panic!("the child ended before hanging"),
        }
        assert!(Instant::now() < deadline, "the child never hung");
    }
    // Let it settle into its hang (the Ms park).
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, sig) };
    let out = tests::wait_child_within(child, Duration::from_secs(60));
    drop(lines); // read from until the child ended, so its prints never meet a closed pipe
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn parse_json(path: &Path) -> gort_trace::Trace {
    let text = std::fs::read_to_string(path).expect("the trace file is there");
    assert!(!text.is_empty(), "a 0-byte trace");
    gort_trace::Trace::parse(&text).expect("a loadable JSON trace")
}

#[test]
fn a_hung_program_stopped_by_sigint_leaves_a_whole_json_trace() {
    let path = temp("sigint.json");
    let (status, stderr) = hang_then_signal(path.to_str().expect("utf-8"), libc::SIGINT);
    assert_eq!(
        status.signal(),
        Some(libc::SIGINT),
        "ended by SIGINT: {status:?} {stderr}"
    );
    assert!(
        stderr.contains("SIGINT: wrote the execution trace"),
        "{stderr}"
    );
    let t = parse_json(&path);
    let _ = std::fs::remove_file(&path);
    assert!(
        !Path::new(&format!("{}.raw", path.display())).exists(),
        "side file removed"
    );
    assert!(
        t.slices.iter().filter(|s| s.cat == "g").count() >= 50,
        "the runs are there"
    );
    // The user annotations: the task, still open, its log message, the region the G waits in.
    assert!(t.slices.iter().any(|s| s.cat == "task" && s.name == "hang"));
    assert!(t
        .slices
        .iter()
        .any(|s| s.cat == "region" && s.name == "waiting forever"));
    assert!(t.instants.iter().any(|i| i.name == "state"));
}

#[test]
fn a_hung_program_stopped_by_sigterm_leaves_a_raw_trace_that_decodes() {
    let path = temp("sigterm.bin");
    let (status, stderr) = hang_then_signal(path.to_str().expect("utf-8"), libc::SIGTERM);
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?} {stderr}");
    let bytes = std::fs::read(&path).expect("the raw trace");
    let _ = std::fs::remove_file(&path);
    let raw = gort_trace_format::RawTrace::read(&bytes).expect("a raw trace");
    assert!(!raw.truncated, "the stream has its end frame");
    let t = raw.decode().expect("decodes");
    assert!(t.events.len() > 100, "{} events", t.events.len());
}

#[test]
fn a_flight_recorder_writes_its_window_on_sigquit() {
    let path = temp("flight.json");
    let (status, stderr) = hang_then_signal(&format!("flight:{}", path.display()), libc::SIGQUIT);
    // Go's SIGQUIT: the goroutine dump, then exit 2; the flight recorder's window is written first.
    assert_eq!(status.code(), Some(2), "{status:?} {stderr}");
    assert!(stderr.contains("SIGQUIT: quit"), "{stderr}");
    let t = parse_json(&path);
    let _ = std::fs::remove_file(&path);
    assert!(t.slices.iter().any(|s| s.cat == "g"));
}
