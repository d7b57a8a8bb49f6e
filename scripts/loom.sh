#!/usr/bin/env bash
# Model-check gort's concurrent structures with loom: every `#[cfg(loom)]` test in the runtime and
# netpoll crates (each model's comment says which interleavings it covers and which bug it catches).
# Usage: scripts/loom.sh [test-name-filter]   (LOOM_MAX_PREEMPTIONS defaults to 2)
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="${RUSTFLAGS:-} --cfg loom"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
start=$(date +%s)
cargo test --release --target-dir target/loom -p gort -p netpoll --lib -- "$@"
echo "loom: done in $(( $(date +%s) - start ))s (LOOM_MAX_PREEMPTIONS=$LOOM_MAX_PREEMPTIONS)"
