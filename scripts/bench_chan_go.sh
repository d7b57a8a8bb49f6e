#!/usr/bin/env bash
# gort's channels beside Go's: the shapes of benches/go/main.go (Go) and benches/src/bin/chan_shapes.rs
# (gort) — seq, spsc, mpsc, mpmc, select_rx, select_both at caps 0, 1 and 1000, 1 000 000 messages,
# 2 Ps / GOMAXPROCS=2 — run alternately, one shape at a time (Go, then gort, then the next shape), RUNS
# times. Prints each shape's median time on both and the gort/Go ratio (below 1: gort is faster), then
# the geometric mean of the ratios. Not part of `cargo test`: it takes about a minute and its numbers
# are only meaningful on a quiet machine.
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
trap 'rm -f "$out"' EXIT
for r in $(seq "$runs"); do
  for sc in $shapes; do
    s="${sc%%:*}" c="${sc##*:}"
    GOMAXPROCS=2 "$gobin" "$s" "$c" | sed 's/^/go /' >>"$out"
    GORT_PROCS=2 "$gortbin" "$s" "$c" 2>/dev/null | sed 's/^/gort /' >>"$out"
  done
  echo "run $r/$runs done" >&2
done

# Median per (runtime, shape, cap), then ratios and their geometric mean.
sort -k2,2 -k3,3n -k1,1 -k4,4g "$out" | awk -v shapes="$shapes" '
  { key = $1 " " $2 " " $3; t[key, ++n[key]] = $4 }
  END {
    printf "%-12s %8s %10s %10s %8s\n", "shape", "cap", "Go (ms)", "gort (ms)", "gort/Go"
    k = split(shapes, list, " "); logsum = 0; worst = 0
    for (i = 1; i <= k; i++) {
      split(list[i], sc, ":")
      g = "go " sc[1] " " sc[2]; o = "gort " sc[1] " " sc[2]
      mg = t[g, int((n[g] + 1) / 2)]; mo = t[o, int((n[o] + 1) / 2)]
      ratio = mo / mg; logsum += log(ratio); if (ratio > worst) worst = ratio
      printf "%-12s %8s %10.1f %10.1f %7.2fx\n", sc[1], sc[2], mg * 1000, mo * 1000, ratio
    }
    printf "geometric mean of gort/Go: %.2fx (worst shape %.2fx), median of %d alternated runs\n", exp(logsum / k), worst, n[g]
  }'
