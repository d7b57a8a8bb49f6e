//! Child processes on the netpoller (gort::process): output and exit status, many children at once,
//! contexts that kill, pipes closed early, missing programs, and children nobody waits for — none
//! may be left a zombie. Tests run in parallel threads of one process, so the zombie checks look
//! only at the pids each test spawned.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use gort::context;
use gort::io::AsyncWriteExt;
use gort::process::{Child, Command, Stdio};
use tests::run_within;

const LIMIT: Duration = Duration::from_secs(20);

/// Is `pid` a zombie child of this process? Reads `/proc/<pid>/stat` ("pid (comm) S ppid ...").
/// A pid that no longer exists, or now belongs to someone else's process, is not our zombie.
fn is_our_zombie(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return false;
    };
    let mut fields = rest.split_whitespace();
    let state = fields.next();
    let ppid = fields.next().and_then(|p| p.parse::<u32>().ok());
    state == Some("Z") && ppid == Some(std::process::id())
}

#[test]
fn sh_children_report_their_output_and_exit_status() {
    run_within(2, LIMIT, async {
        let out = Command::new("sh")
            .args(["-c", "echo out; echo err >&2; exit 7"])
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.status.code(), Some(7));
        assert!(!out.status.success());

        assert!(Command::new("true").status().await.unwrap().success());
        assert_eq!(
            Command::new("false").status().await.unwrap().code(),
            Some(1)
        );

        // Environment and directory reach the child.
        let dir = std::env::temp_dir();
        let out = Command::new("sh")
            .args(["-c", "echo \"$GORT_X:$(pwd)\""])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GORT_X", "42")
            .current_dir(&dir)
            .output()
            .await
            .unwrap();
        let got = String::from_utf8(out.stdout).unwrap();
        let want_dir = dir.canonicalize().unwrap();
        assert_eq!(got.trim_end(), format!("42:{}", want_dir.display()));
    });
}

#[test]
fn two_hundred_children_waited_concurrently_leave_no_zombie() {
    const N: u32 = 200;
    let pids = run_within(2, LIMIT, async {
        let handles: Vec<_> = (0..N)
            .map(|i| {
                gort::go(async move {
                    let mut child = Command::new("sh")
                        .args(["-c", &format!("exit {}", i % 7)])
                        .spawn()
                        .unwrap();
                    let pid = child.id();
                    let status = child.wait().await.unwrap();
                    assert_eq!(status.code(), Some((i % 7) as i32));
                    pid
                })
            })
            .collect();
        let mut pids = Vec::new();
        for h in handles {
            pids.push(h.await.unwrap());
        }
        pids
    });
    assert_eq!(pids.len(), N as usize);
    let zombies: Vec<u32> = pids.into_iter().filter(|&p| is_our_zombie(p)).collect();
    assert!(zombies.is_empty(), "zombies left: {zombies:?}");
}

#[test]
fn a_context_deadline_kills_the_child_within_100ms() {
    let (late, status) = run_within(2, LIMIT, async {
        let (ctx, _cancel) =
            context::with_timeout(&context::background(), Duration::from_millis(200));
        let deadline = ctx.deadline().unwrap();
        let mut child = Command::new("sleep")
            .arg("10")
            .context(ctx)
            .spawn()
            .unwrap();
        let status = child.wait().await.unwrap();
        (Instant::now().saturating_duration_since(deadline), status)
    });
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    assert!(
        late < Duration::from_millis(100),
        "killed {late:?} after the deadline"
    );
}

#[test]
fn a_context_done_before_spawn_starts_nothing() {
    run_within(1, LIMIT, async {
        let (ctx, cancel) = context::with_cancel(&context::background());
        cancel.cancel();
        let err = Command::new("true").context(ctx).spawn().unwrap_err();
        let inner = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<context::ContextError>());
        assert_eq!(inner, Some(&context::ContextError::Canceled));
    });
}

#[test]
fn kill_ends_a_running_child_and_wait_reports_the_signal() {
    run_within(1, LIMIT, async {
        let mut child = Command::new("sleep").arg("10").spawn().unwrap();
        assert!(child.try_wait().unwrap().is_none());
        child.kill().unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        // Waiting or killing again is harmless.
        assert_eq!(child.wait().await.unwrap(), status);
        child.kill().unwrap();
    });
}

#[test]
fn a_child_that_closed_its_stdin_gives_the_writer_broken_pipe() {
    run_within(1, LIMIT, async {
        let mut child = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        assert!(child.wait().await.unwrap().success()); // its end of the pipe is closed now
        let chunk = vec![b'x'; 64 * 1024];
        let err = loop {
            // The first write may fit in the pipe's buffer on some systems; the reader is gone, so
            // a later one cannot.
            if let Err(e) = stdin.write_all(&chunk).await {
                break e;
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        // The parent is alive (no SIGPIPE death) and can go on running children.
        assert!(Command::new("true").status().await.unwrap().success());
    });
}

#[test]
fn a_missing_program_is_not_found() {
    run_within(1, LIMIT, async {
        let err = Command::new("gort-no-such-program-here")
            .spawn()
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let err = Command::new("/nonexistent/gort/prog")
            .output()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    });
}

#[test]
fn pipes_stream_a_megabyte_through_cat_both_ways_at_once() {
    const LEN: usize = 1 << 20;
    let got = run_within(2, LIMIT, async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // More than a pipe holds: the writer must park until cat reads, cat until we read.
        let writer = gort::go(async move {
            let data: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
            stdin.write_all(&data).await.unwrap();
            stdin.close().await.unwrap(); // end of input for cat
        });
        // gort::io::read_all_into, not futures-util's read_to_end, which zeroes its spare room again
        // after every wait on the pipe (quadratic: minutes for this megabyte under TSan).
        let mut out = Vec::new();
        let mut stdout = child.stdout.take().unwrap();
        gort::io::read_all_into(&mut stdout, &mut out)
            .await
            .unwrap();
        writer.await.unwrap();
        assert!(child.wait().await.unwrap().success());
        out
    });
    assert_eq!(got.len(), LEN);
    assert!(got.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
}

/// `output` reads the pipes with `gort::io::read_all`. futures-util's `read_to_end` zeroed its spare
/// room again after every wait on the pipe (64 KiB a time here): 8 MB took seconds in a debug build.
#[test]
fn output_of_a_child_that_writes_megabytes_arrives_whole() {
    const LEN: usize = 8_000_000;
    let out = run_within(2, LIMIT, async {
        Command::new("head")
            .args(["-c", &LEN.to_string(), "/dev/zero"])
            .output()
            .await
            .unwrap()
    });
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), LEN);
    assert!(out.stdout.iter().all(|&b| b == 0));
}

#[test]
fn a_pipeline_wires_one_childs_stdout_to_the_next_childs_stdin() {
    let out = run_within(2, LIMIT, async {
        let mut printf = Command::new("printf")
            .arg("c\\nb\\na\\nd\\n")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let sort_in = Stdio::try_from(printf.stdout.take().unwrap()).unwrap();
        let mut sort = Command::new("sort")
            .stdin(sort_in)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let head_in = Stdio::try_from(sort.stdout.take().unwrap()).unwrap();
        let head = Command::new("head")
            .args(["-n", "3"])
            .stdin(head_in)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(); // the Command, holding a copy of sort's pipe, is dropped here
        let out = head.wait_with_output().await.unwrap();
        assert!(printf.wait().await.unwrap().success());
        assert!(sort.wait().await.unwrap().success());
        out
    });
    assert!(out.status.success());
    assert_eq!(out.stdout, b"a\nb\nc\n");
}

#[test]
fn a_child_dropped_without_wait_is_reaped_in_the_background() {
    let pid = run_within(1, LIMIT, async {
        let child = Command::new("sh")
            .args(["-c", "sleep 0.1"])
            .spawn()
            .unwrap();
        let pid = child.id();
        drop(child);
        // Checked while the runtime (and so the reaper G) is alive, after the child's exit.
        gort::time::sleep(Duration::from_millis(150)).await;
        for _ in 0..500 {
            if !is_our_zombie(pid) {
                return pid;
            }
            gort::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("pid {pid} left a zombie");
    });
    assert!(!is_our_zombie(pid));
}

#[test]
fn a_child_outliving_its_runtime_is_reaped_by_the_next_spawn() {
    let pid = run_within(1, LIMIT, async {
        let child: Child = Command::new("sleep").arg("0.2").spawn().unwrap();
        child.id() // the Child is dropped here, then the runtime: its reaper G never runs
    });
    // Now it exits with nobody waiting for it. (Another test's spawn may sweep it first: the
    // orphan list is process-wide. Either way, after the next spawn it must be gone.)
    std::thread::sleep(Duration::from_millis(500));
    run_within(1, LIMIT, async {
        assert!(Command::new("true").status().await.unwrap().success());
    });
    assert!(
        !is_our_zombie(pid),
        "pid {pid} is still a zombie after the next spawn"
    );
}

#[test]
fn a_writer_upstream_sees_its_reader_exit_no_pipe_end_stays_in_the_parent() {
    // `yes | head -n 3`: yes writes forever and can only stop by SIGPIPE once head exits, which
    // happens only if no copy of the pipe's read end is left open here.
    let (yes_status, out) = run_within(2, LIMIT, async {
        let mut yes = Command::new("yes").stdout(Stdio::piped()).spawn().unwrap();
        let pipe = Stdio::try_from(yes.stdout.take().unwrap()).unwrap();
        let head = Command::new("head")
            .args(["-n", "3"])
            .stdin(pipe)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = head.wait_with_output().await.unwrap();
        (yes.wait().await.unwrap(), out)
    });
    assert_eq!(out.stdout, b"y\ny\ny\n");
    assert_eq!(yes_status.signal(), Some(libc::SIGPIPE));
}

#[test]
fn spawning_outside_a_runtime_is_an_error_not_a_panic() {
    let err = Command::new("true").spawn().unwrap_err();
    assert!(err.to_string().contains("outside a gort runtime"), "{err}");
}
