#!/usr/bin/env bash
# Run the unit tests of the unsafe modules (G allocation/vtable/waker, run queue, timers) under Miri.
# Miri needs a nightly toolchain with the `miri` component. If it cannot be installed (no network
# access to the toolchain server, as on this project's CI machines), say so clearly and exit 0:
# Miri is a check we run where the toolchain has it, not one we can fake.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal >/dev/null 2>&1 || true
fi
if ! cargo +nightly miri --version >/dev/null 2>&1; then
  rustup component add miri --toolchain nightly >/dev/null 2>&1 || true
fi
if ! cargo +nightly miri --version >/dev/null 2>&1; then
  echo "miri: SKIPPED — the nightly toolchain's 'miri' component is not installed and cannot be"
  echo "      downloaded here (toolchains are not fetchable on this machine). To run it elsewhere:"
  echo "      rustup +nightly component add miri && scripts/miri.sh"
  exit 0
fi
set -e
# Miri is slow: run the unit tests of the modules with unsafe code; the workload tests size
# themselves down under cfg(miri).
MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance}" \
  cargo +nightly miri test -p runtime --lib -- g:: runq:: timer:: allgs::
MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance}" \
  cargo +nightly miri test -p netpoll --lib -- pollsema:: pollcache::
