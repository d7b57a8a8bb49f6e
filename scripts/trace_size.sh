#!/usr/bin/env bash
# How many bytes of trace per second of HTTP keep-alive load: the raw (binary) stream against the
# JSON it converts to, and Perfetto's protobuf converted from the same raw trace. Runs
# examples/http_server with GORTTRACE set, loads it with wrk (or loadgen) for SECONDS, stops it
# with SIGINT (the tracer writes the trace out before the process ends) and reports the sizes.
#
# Usage: scripts/trace_size.sh [SECONDS] [CONNECTIONS]   (defaults: 5 s, 50 connections)
# Loopback only; the numbers depend on the request rate the machine reaches, so they come with it.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"
conns="${2:-50}"
cargo build --release -q -p examples --example http_server --example loadgen
cargo build --release -q -p gort-trace
bin=target/release/examples
dir=$(mktemp -d)
pid=
cleanup() { if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$dir"; }
trap cleanup EXIT

run() { # $1 = GORTTRACE value; prints requests/s
  local out="$dir/server.out"
  GORTTRACE="$1" "$bin/http_server" --addr 127.0.0.1:0 >"$out" 2>&1 &
  pid=$!
  local addr=
  for _ in $(seq 100); do
    addr=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$out" | head -1)
    [[ -n "$addr" ]] && break
    sleep 0.05
  done
  [[ -n "$addr" ]] || { echo "trace_size: the server did not start" >&2; cat "$out" >&2; exit 1; }
  local rps
  if command -v wrk >/dev/null; then
    rps=$(wrk -t 2 -c "$conns" -d "${secs}s" "http://$addr/" | awk '/^Requests\/sec/ {printf "%.0f", $2}')
  else
    rps=$("$bin/loadgen" -c "$conns" -d "$secs" -u "http://$addr/" | sed -n 's/.*rps=\([0-9]*\).*/\1/p')
  fi
  local t0=$(date +%s.%N)
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true; pid=
  local t1=$(date +%s.%N)
  grep -h "wrote" "$out" >&2 || { cat "$out" >&2; }
  echo "$rps $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
}

read -r rps_bin stop_bin < <(run "$dir/t.bin")
read -r rps_json stop_json < <(run "$dir/t.json")
target/release/gort-trace perfetto "$dir/t.bin" -o "$dir/t.pftrace" >&2
target/release/gort-trace json "$dir/t.bin" -o "$dir/t.bin.json" >&2
size() { stat -c %s "$1"; }
mbps() { awk -v b="$1" -v s="$secs" 'BEGIN { printf "%.1f", b / s / 1e6 }'; }
echo
echo "| trace | file | MB | MB per s of load | requests/s while traced | SIGINT to exit (s) |"
echo "|---|---|---:|---:|---:|---:|"
echo "| raw stream (GORTTRACE=t.bin) | t.bin | $(mbps $(( $(size "$dir/t.bin") * secs ))) | $(mbps "$(size "$dir/t.bin")") | $rps_bin | $stop_bin |"
echo "| JSON (GORTTRACE=t.json) | t.json | $(mbps $(( $(size "$dir/t.json") * secs ))) | $(mbps "$(size "$dir/t.json")") | $rps_json | $stop_json |"
echo "| the raw run, as JSON (gort-trace json) | t.bin.json | $(mbps $(( $(size "$dir/t.bin.json") * secs ))) | $(mbps "$(size "$dir/t.bin.json")") | | |"
echo "| the raw run, as Perfetto (gort-trace perfetto) | t.pftrace | $(mbps $(( $(size "$dir/t.pftrace") * secs ))) | $(mbps "$(size "$dir/t.pftrace")") | | |"
echo
echo "$conns keep-alive connections, ${secs}s; $(nproc) cores shared by server, client and other work;"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)."
