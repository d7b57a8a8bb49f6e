#!/usr/bin/env bash
# What the execution tracer's hooks cost while tracing is OFF (issue 6: "disabled tracing costs one
# predictable branch ... <1 % on the executor benches").
#
# The effect is far below what wall-clock time resolves on a shared VM, so this counts instructions
# instead: `valgrind --tool=callgrind` runs the executor workloads (`run-workload`, one P, sysmon
# off, so a round's count repeats to within a few hundred instructions) in two builds of the same
# source:
#   hooks compiled in, tracing off   (the normal build)
#   hooks compiled out               (RUSTFLAGS="--cfg gort_notrace": every hook is empty)
# A round's count is (count of 3 rounds - count of 1 round) / 2, which cancels start-up and exit.
#
# With --wall it also runs `benches/trace_overhead` (criterion, gort next to tokio) in both builds,
# for the wall-clock view: compare the `off / tokio` column of the two tables it prints.
#
# Needs valgrind (Debian: apt-get install valgrind). Takes ~3 minutes (~8 with --wall).
# Usage: scripts/trace_disabled_cost.sh [--wall]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
  echo "valgrind is not installed (Debian: apt-get install valgrind)" >&2
  exit 1
fi

WORKLOADS=(spawn_many_local spawn_many_remote_idle yield_many ping_pong chained_spawn)
# Honour CARGO_TARGET_DIR; the compiled-out build goes to a directory of its own (target/notrace,
# or beside CARGO_TARGET_DIR).
TARGET_DIR=${CARGO_TARGET_DIR:-target}
if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
  NOTRACE_DIR=${NOTRACE_DIR:-$CARGO_TARGET_DIR-notrace}
else
  NOTRACE_DIR=${NOTRACE_DIR:-target/notrace}
fi

echo "building run-workload with the hooks, and with --cfg gort_notrace into $NOTRACE_DIR ..." >&2
CARGO_TARGET_DIR="$TARGET_DIR" cargo build --quiet --release -p benches --bin run-workload
RUSTFLAGS="--cfg gort_notrace" CARGO_TARGET_DIR="$NOTRACE_DIR" \
  cargo build --quiet --release -p benches --bin run-workload

# Instructions executed by `run-workload $1 $2` (all threads).
count() {
  local bin=$1 workload=$2 rounds=$3 out
  out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$workload" "$rounds" 2>&1)
  echo "$out" | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

per_round() {
  local one three
  one=$(count "$1" "$2" 1)
  three=$(count "$1" "$2" 3)
  echo $(( (three - one) / 2 ))
}

echo
echo "Tracer hooks with tracing off: instructions per round (callgrind; 1 P, sysmon off)"
echo
echo "| workload | hooks compiled out | hooks in, tracing off | difference |"
echo "|---|---:|---:|---:|"
for w in "${WORKLOADS[@]}"; do
  out=$(per_round "$NOTRACE_DIR/release/run-workload" "$w")
  in=$(per_round "$TARGET_DIR/release/run-workload" "$w")
  diff=$(awk -v a="$in" -v b="$out" 'BEGIN { printf "%+.2f %%", (a - b) * 100 / b }')
  echo "| $w | $out | $in | $diff |"
done

if [[ "${1:-}" == "--wall" ]]; then
  echo
  echo "== criterion, hooks compiled in (see the 'off / tokio' column)"
  CARGO_TARGET_DIR="$TARGET_DIR" cargo bench --quiet -p benches --bench trace_overhead 2>&1 | sed -n '/^| workload/,/^$/p'
  echo
  echo "== criterion, hooks compiled out (--cfg gort_notrace)"
  RUSTFLAGS="--cfg gort_notrace" CARGO_TARGET_DIR="$NOTRACE_DIR" \
    cargo bench --quiet -p benches --bench trace_overhead 2>&1 | sed -n '/^| workload/,/^$/p'
fi
