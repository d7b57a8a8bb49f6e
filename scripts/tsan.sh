#!/usr/bin/env bash
# Run the runtime's and the netpoller's unit tests, and the integration tests, under ThreadSanitizer.
#
# Go has its race detector (`go test -race`, itself ThreadSanitizer); this is gort's. TSan instruments
# every memory access and reports two threads touching the same location without a happens-before
# edge between them. It needs a nightly toolchain (`-Zsanitizer=thread`) and the standard library
# rebuilt with the same instrumentation (`-Zbuild-std`, which needs the `rust-src` component and an
# explicit `--target`), or the std's own synchronisation would be invisible to it and every Arc drop
# a false report.
#
# Usage: scripts/tsan.sh [full|ci]
#   full (default): the runtime's and netpoll's unit tests and every integration test binary.
#   ci:             the unit tests plus the integration suites that fit CI's time budget under TSan
#                   (see CI_TESTS below; the others are the very large stress runs, which are 5-15x
#                   slower instrumented and exercise the same code paths as the ones kept).
# Suppressions: scripts/tsan.supp (each entry says why it is benign). Installs the nightly toolchain
# and rust-src if missing; if that cannot be done here, says so and exits 0, as scripts/miri.sh does.
set -uo pipefail
cd "$(dirname "$0")/.."
mode="${1:-full}"

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal >/dev/null 2>&1 || true
fi
if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
  rustup component add rust-src --toolchain nightly >/dev/null 2>&1 || true
fi
if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
  echo "tsan: SKIPPED — no nightly toolchain with the 'rust-src' component, and it could not be"
  echo "      installed here. To run it: rustup toolchain install nightly --component rust-src && scripts/tsan.sh"
  exit 0
fi
set -e

target=x86_64-unknown-linux-gnu
export RUSTFLAGS="-Zsanitizer=thread"
export RUSTDOCFLAGS="-Zsanitizer=thread"
export CARGO_TARGET_DIR="${TSAN_TARGET_DIR:-target/tsan}"
# halt_on_error: the first race fails the run. second_deadlock_stack: full reports for lock cycles.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan.supp ${TSAN_OPTIONS:-}"
# Instrumented code runs several times slower; the tests' own time bounds are generous, but keep the
# parallelism down so a 2-core machine does not turn slowness into timeouts.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-2}"
cargo_tsan() { local sub=$1; shift; cargo +nightly "$sub" -Zbuild-std --target "$target" "$@"; }

# The integration suites CI runs under TSan: channels, select, Go's channel tests, executor, time,
# sysmon, sync, context, network (TCP/UDP/Unix, faults) — everything but the million-G and
# 10 000-connection stress binaries, the HTTP servers and the chapter programs.
CI_TESTS=(chan select go_chan go_chan_runtime go_powser executor time sysmon sync context net_tcp net_udp
          net_unix net_faults net_inject threads)

start=$(date +%s)
echo "tsan: unit tests (gort, netpoll)"
# The unit tests skip the same many-thread stress loops Miri skips; under TSan they take minutes.
# Also skipped: the SIGCHLD fallback of gort::process, which waits for a signal delivered from
# outside; TSan defers an asynchronous signal's handler until the receiving thread passes a call it
# intercepts, and the runtime's threads park in raw futex calls, so under TSan it waits forever
# (the same cause as the http_server SIGTERM test below; the pidfd path runs in process.rs's tests).
# And the trace's chunk-pool test, which checks that the writer thread has handed full chunks back by
# the time `stop` returns: under TSan's slowdown the last ones are still referenced then (a test
# of timing, not of memory safety; it passes in the plain and Miri runs).
cargo_tsan test -p gort -p netpoll --lib -- --skip select_fairness --skip sigchld_fallback_waits_and_reaps \
  --skip the_chunks_of_a_finished_session_are_kept_for_the_next
echo "tsan: integration tests ($mode)"
if [ "$mode" = ci ]; then
  args=()
  for t in "${CI_TESTS[@]}"; do args+=(--test "$t"); done
  cargo_tsan test -p tests "${args[@]}"
else
  # Left out: the tests whose child process must react to an asynchronous signal (SIGTERM, SIGINT,
  # SIGQUIT, SIGUSR1) while its threads are parked. Under TSan such a child does not react (it keeps
  # serving, or hangs), while TSan reports no race. TSan runs an asynchronous signal's handler only
  # when the receiving thread next passes through a call TSan intercepts, and a thread parked in
  # std's raw futex syscall never does: most likely that, not a runtime bug (the same tests pass
  # uninstrumented, and signal.rs's unit tests pass under TSan). Unproven; see design.md.
  skips=()
  for t in sigterm_finishes_in_flight_requests_and_exits_0 \
      sigquit_dumps_every_goroutine_and_exits_2 a_program_listening_for_sigquit_gets_it_instead_of_a_dump \
      a_signal_whose_listener_was_dropped_does_what_it_would_have_done \
      waits_on_a_timer_a_socket_a_signal_a_blocking_section_a_foreign_future_another_runtime_or_a_child_are_not_deadlocks \
      a_hung_program_stopped_by_sigint_leaves_a_whole_json_trace \
      a_hung_program_stopped_by_sigterm_leaves_a_raw_trace_that_decodes \
      a_flight_recorder_writes_its_window_on_sigquit; do
    skips+=(--skip "$t")
  done
  cargo_tsan test -p tests --tests --no-fail-fast -- "${skips[@]}"
fi
echo "tsan: passed in $(( $(date +%s) - start ))s"
