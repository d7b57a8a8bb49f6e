#!/usr/bin/env bash
# System calls per HTTP request, by kind, for gort's http_server, hyper on gort (hyper_server) and
# hyper on tokio (hyper_tokio_server): each server is loaded for a few seconds by wrk (keep-alive,
# 1 thread, 50 connections, loopback) while `perf stat` counts its syscall tracepoints; the counts
# are divided by the requests wrk completed. Counts, not times: they hardly depend on the machine's
# load, so the table is comparable across runs.
#
# Usage: scripts/syscalls_per_request.sh [SECONDS]   (default 3)
# Needs perf (Debian: linux-perf) with access to tracepoints, and wrk; says so if either is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/http_server_start.sh
source scripts/http_server_start.sh
secs="${1:-3}"
for tool in perf wrk; do
  command -v "$tool" >/dev/null || { echo "syscalls_per_request: $tool is not installed" >&2; exit 1; }
done
if ! perf stat -e raw_syscalls:sys_enter true >/dev/null 2>&1; then
  echo "syscalls_per_request: perf cannot read syscall tracepoints here (try as root)" >&2; exit 1
fi
cargo build --release -q -p examples --example http_server --example hyper_server --example hyper_tokio_server
bin="${CARGO_TARGET_DIR:-target}/release/examples"
kinds=(recvfrom sendto read write writev epoll_wait epoll_pwait futex sched_yield)
events=raw_syscalls:sys_enter
for k in "${kinds[@]}"; do events="$events,syscalls:sys_enter_$k"; done
pid=
cleanup() { if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; }
trap cleanup EXIT
printf '| server | req/s (loaded, not a benchmark) | all | %s |\n' "$(IFS='|'; echo "${kinds[*]}" | sed 's/|/ | /g')"
printf '|---|---:|---:|%s\n' "$(for _ in "${kinds[@]}"; do printf -- '---:|'; done)"
for s in http_server hyper_server hyper_tokio_server; do
  out=$(mktemp); stat=$(mktemp); load=$(mktemp)
  start_server "$bin/$s" "$out"
  perf stat -x, -e "$events" -p "$pid" -o "$stat" &
  perf_pid=$!
  sleep 0.2
  wrk -t1 -c50 -d"${secs}s" "http://$addr/" >"$load"
  kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true
  cleanup; pid=
  req=$(awk '/requests in/ {print $1}' "$load")
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$load")
  row=$(awk -F, -v r="$req" '$1 ~ /^[0-9]+$/ { printf "%.2f|", $1 / r } $1 ~ /not counted/ { printf "-|" }' "$stat")
  printf '| %s | %s | %s\n' "$s" "$rps" "$(echo "$row" | sed 's/|/ | /g')"
  rm -f "$out" "$stat" "$load"
done
