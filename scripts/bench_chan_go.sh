#!/usr/bin/env bash
# gort's channels beside Go's: the shapes of benches/go/main.go (Go) and benches/src/bin/chan_shapes.rs
# (gort) — seq, spsc, mpsc, mpmc, select_rx, select_both at caps 0, 1 and 1000, 1 000 000 messages,
# 2 Ps / GOMAXPROCS=2 — run alternately, one shape at a time (Go, then gort, then the next shape), RUNS
# times. Prints each shape's median time on both (each program times the shape itself), the gort/Go
# ratio (below 1: gort is faster), the ratio of the processes' CPU time (user + system; steadier than
# wall time when other programs load the machine), and the geometric means. Not part of `cargo test`:
# about a minute per run, and the wall-time numbers are only meaningful on a quiet machine.
#
# Usage: scripts/bench_chan_go.sh [runs]   (default 3; odd counts give a true median)
# Needs Go (1.19 or later). If `go` is missing it installs the distribution's package (Debian/Ubuntu:
# apt-get install golang-go), and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
case "$runs" in '' | *[!0-9]* | 0) echo "usage: $0 [runs]" >&2; exit 2 ;; esac

if ! command -v go >/dev/null 2>&1; then
  echo "bench_chan_go: 'go' not found; installing the distribution's Go (apt-get install golang-go)" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq golang-go >/dev/null
fi
echo "Go: $(go version)"

target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target"
gobin="$(cd "$target" && pwd)/chanshapes-go"
(cd benches/go && GOFLAGS=-mod=mod go build -o "$gobin" .)
cargo build --release -q -p benches --bin chan_shapes
gortbin="$target/release/chan_shapes"

shapes="seq:1000000"
for s in spsc mpsc mpmc select_rx select_both; do
  for c in 0 1 1000; do shapes="$shapes $s:$c"; done
done

out="$(mktemp)"
one="$(mktemp)"
trap 'rm -f "$out" "$one"' EXIT
# run NAME CMD...: append "NAME shape cap wall cpu" (wall: the program's own timer around the shape;
# cpu: the process's user + system time, less sensitive than wall time to other load on the machine).
run() {
  local name="$1" cpu
  shift
  cpu=$( { TIMEFORMAT='%U %S'; time "$@" >"$one" 2>/dev/null; } 2>&1 )
  read -r shape cap wall <"$one"
  echo "$name $shape $cap $wall $(echo "$cpu" | awk '{ print $1 + $2 }')" >>"$out"
}
for r in $(seq "$runs"); do
  for sc in $shapes; do
    s="${sc%%:*}" c="${sc##*:}"
    run go env GOMAXPROCS=2 "$gobin" "$s" "$c"
    run gort env GORT_PROCS=2 "$gortbin" "$s" "$c"
  done
  echo "run $r/$runs done" >&2
done

# Medians per (runtime, shape, cap), then ratios and their geometric means.
awk -v shapes="$shapes" '
  function median(key, col,    i, j, k, v, a) {
    k = n[key]
    for (i = 1; i <= k; i++) a[i] = t[key, i, col]
    for (i = 2; i <= k; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v }
    return a[int((k + 1) / 2)]
  }
  { key = $1 " " $2 " " $3; i = ++n[key]; t[key, i, 1] = $4; t[key, i, 2] = $5 }
  END {
    printf "%-12s %8s %9s %10s %8s %10s\n", "shape", "cap", "Go (ms)", "gort (ms)", "gort/Go", "CPU gort/Go"
    k = split(shapes, list, " "); lw = 0; lc = 0; worst = 0
    for (i = 1; i <= k; i++) {
      split(list[i], sc, ":")
      g = "go " sc[1] " " sc[2]; o = "gort " sc[1] " " sc[2]
      wg = median(g, 1); wo = median(o, 1); cg = median(g, 2); co = median(o, 2)
      rw = wo / wg; rc = (cg > 0 ? co / cg : 1)
      lw += log(rw); lc += log(rc); if (rw > worst) worst = rw
      printf "%-12s %8s %9.1f %10.1f %7.2fx %10.2fx\n", sc[1], sc[2], wg * 1000, wo * 1000, rw, rc
    }
    printf "geometric mean of gort/Go: %.2fx wall (worst shape %.2fx), %.2fx CPU; median of %d alternated runs\n", exp(lw / k), worst, exp(lc / k), n[g]
  }' "$out"
