#!/usr/bin/env bash
# Fuzz gort with libFuzzer (cargo-fuzz, nightly): run each target in fuzz/ for SECONDS on its seed
# corpus (fuzz/corpus/<target>/, kept in the repo; new inputs the fuzzer finds are added there, so
# commit the interesting ones, or `cargo +nightly fuzz cmin <target>` first).
#
# Usage: scripts/fuzz.sh SECONDS [target...]     (default: every target below)
# Targets (fuzz/fuzz_targets/): http_request, chunked (the example server's request parser and
# chunked decoder), trace_decode (the trace decoder: bytes -> events or an error), trace_chrome (the
# Chrome JSON converter behind it; its one finding is fixed, see fuzz/findings/README.md),
# chan_model (channels and select! against a sequential model; its one finding is fixed too).
# A crash leaves its input in fuzz/artifacts/<target>/ and fails the run; replay it with
# `cd fuzz && cargo +nightly fuzz run <target> artifacts/<target>/crash-...`.
# Installs nightly and cargo-fuzz if missing; if that cannot be done here, says so and exits 0.
set -uo pipefail
cd "$(dirname "$0")/.."
secs="${1:?usage: scripts/fuzz.sh SECONDS [target...]}"
shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(http_request chunked trace_decode trace_chrome chan_model)

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal >/dev/null 2>&1 || true
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz (about a minute)"
  cargo install --locked cargo-fuzz >/dev/null 2>&1 || true
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz: SKIPPED — no nightly toolchain with cargo-fuzz, and it could not be installed here."
  echo "      To run it: rustup toolchain install nightly && cargo install cargo-fuzz && scripts/fuzz.sh $secs"
  exit 0
fi
set -e
cd fuzz
# -O: an optimised build with debug assertions; the fuzz targets' own asserts are the oracle.
cargo +nightly fuzz build -O
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "fuzz: $t for ${secs}s"
  # rss_limit: the targets are small; more than 2 GiB is a finding (an unbounded allocation).
  log="$(mktemp)"
  if ! cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
      -malloc_limit_mb=2048 >"$log" 2>&1; then
    grep -E 'panicked|ERROR|SUMMARY|artifact|^ +[0-9]+: ' "$log" | head -n 40
    echo "fuzz: $t FAILED (the input is in fuzz/artifacts/$t/; full log: $log)"
    exit 1
  fi
  grep -E '^Done' "$log" || true
  rm -f "$log"
done
echo "fuzz: passed"
