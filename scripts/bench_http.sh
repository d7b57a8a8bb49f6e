#!/usr/bin/env bash
# HTTP/1.1 "hello" throughput on loopback: gort's hand-written http_server, hyper on gort
# (hyper_server) and hyper on tokio (hyper_tokio_server, the yardstick), one after another, each
# loaded for a fixed time by the same closed-loop generator (examples/loadgen.rs: std threads,
# keep-alive connections). Prints a Markdown table with requests/s and p99, and ratios vs tokio.
#
# Usage: scripts/bench_http.sh [SECONDS] [CONNECTIONS] [ROUNDS]   (defaults: 5 s, 50 connections, 1)
#   With ROUNDS > 1 the three servers take turns, round after round, and the table shows each
#   one's median requests/s and median p99: on a shared machine, one run is at the mercy of
#   whatever else runs at that moment.
#   BENCH_TOOL=wrk|loadgen  the load generator. Default: wrk if installed (an event-driven C client
#                   that needs less CPU per request than loadgen's thread per connection, so more
#                   of the machine goes to the server), else loadgen. wrk runs 2 threads and
#                   reports p99 from its --latency histogram.
#   GORTMAXPROCS    is passed through to the gort servers (default: one P per core, like tokio's
#                   default of one worker per core).
#
# Server and load generator share the machine's cores: absolute numbers say as much about the
# machine as about the servers; the ratios are the point. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/http_server_start.sh
source scripts/http_server_start.sh

secs="${1:-5}"
conns="${2:-50}"
rounds="${3:-1}"
default_tool=loadgen
command -v wrk >/dev/null && default_tool=wrk
tool="${BENCH_TOOL:-$default_tool}"
if [[ "$tool" == wrk ]] && ! command -v wrk >/dev/null; then
  echo "bench_http: wrk not installed, using loadgen" >&2
  tool=loadgen
fi

load=$(cut -d' ' -f1-3 /proc/loadavg)
cargo build --release -q -p examples \
  --example http_server --example hyper_server --example hyper_tokio_server --example loadgen
bin=target/release/examples

declare -A rps p99   # space-separated samples per server
servers=(http_server hyper_server hyper_tokio_server)
pid=
cleanup() { if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for round in $(seq "$rounds"); do
for s in "${servers[@]}"; do
  out=$(mktemp)
  start_server "$bin/$s" "$out"
  url="http://$addr/"
  # A short warm-up, so every server starts the measured run with its threads up and its
  # connections' first-use costs paid.
  "$bin/loadgen" -c "$conns" -d 1 -u "$url" >/dev/null
  echo "== round $round: $s ($url), $conns connections, ${secs}s, $tool" >&2
  if [[ "$tool" == wrk ]]; then
    res=$(wrk -t 2 -c "$conns" -d "${secs}s" --latency "$url")
    echo "$res" >&2
    rps[$s]+=" $(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$res")"
    # wrk prints e.g. "99%    2.10ms" or "99%  850.00us": convert to µs.
    p99[$s]+=" $(awk '$1=="99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
                 f = (u == "ms") ? 1000 : (u == "s") ? 1000000 : 1; printf "%.0f", v * f }' <<<"$res")"
  else
    res=$("$bin/loadgen" -c "$conns" -d "$secs" -u "$url")
    echo "$res" >&2
    line=$(grep '^RESULT' <<<"$res")
    rps[$s]+=" $(sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$line")"
    p99[$s]+=" $(sed -n 's/.*p99_us=\([0-9]*\).*/\1/p' <<<"$line")"
  fi
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true; pid=
  rm -f "$out"
done
done

base=$(median <<<"${rps[hyper_tokio_server]}")
echo
echo "| server | HTTP stack | runtime | requests/s | p99 (µs) | vs hyper-on-tokio |"
echo "|---|---|---|---:|---:|---:|"
for s in "${servers[@]}"; do
  case $s in
    http_server) stack="hand-written (httparse)"; rt=gort ;;
    hyper_server) stack="hyper 1.x"; rt=gort ;;
    hyper_tokio_server) stack="hyper 1.x"; rt=tokio ;;
  esac
  r=$(median <<<"${rps[$s]}")
  ratio=$(awk -v a="$r" -v b="$base" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }')
  echo "| $s | $stack | $rt | $r | $(median <<<"${p99[$s]}") | $ratio |"
done
echo
echo "$conns keep-alive connections, ${secs}s per run, $tool, median of $rounds round(s);"
echo "$(nproc) cores shared by server and client; load average before: $load."
