#!/usr/bin/env bash
# Run the unit tests of the unsafe modules under Miri (see the list below).
# Miri needs a nightly toolchain with the `miri` component. If it cannot be installed (no network
# access to the toolchain server, as on this project's CI machines), say so clearly and exit 0:
# Miri is a check we run where the toolchain has it, not one we can fake.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal >/dev/null 2>&1 || true
fi
if ! cargo +nightly miri --version >/dev/null 2>&1; then
  rustup component add miri rust-src --toolchain nightly >/dev/null 2>&1 || true
fi
# Miri builds its own standard library (it needs the rust-src component); do that first, so that a
# toolchain we cannot complete is reported as such and not as a test failure.
if ! cargo +nightly miri --version >/dev/null 2>&1 || ! cargo +nightly miri setup >/dev/null 2>&1; then
  echo "miri: SKIPPED — the nightly toolchain's 'miri' (or 'rust-src') component is missing and could"
  echo "      not be installed here. To run it: rustup +nightly component add miri rust-src && scripts/miri.sh"
  exit 0
fi
set -e
# Miri interprets every instruction: run the unit tests of the modules with unsafe code (the G's
# allocation/vtable/waker, the run queue, timers, the G registry, channel buffers, the sync types'
# cells and semaphore, the waiter list they share with channels (util::waitq), the tracer's buffers,
# session and clock, the netpoller's wait slot) and of the trace format's encoder and decoder
# (gort-trace-format: `wire`, `file`), skipping the few many-thread stress tests (each takes minutes
# under Miri; loom and the normal test run cover them) and select's 100 000-round fairness test
# (statistics, not memory safety).
# Miri's leak checker also fails any test that leaks a G. About 2 minutes.
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance}"
cargo +nightly miri test -p gort --lib -- \
  g::tests runq:: timer:: allgs:: chan:: sema:: sync:: util:: trace:: \
  --skip mpmc_threads --skip many_threads --skip on_threads --skip threads_ --skip select_fairness
cargo +nightly miri test -p gort-trace-format --lib -- wire:: file::
cargo +nightly miri test -p netpoll --lib -- pollsema:: pollcache::
echo "miri: passed"
