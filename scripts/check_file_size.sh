#!/usr/bin/env bash
# Keeps the lesson readable: no source file's non-test part is over MAX lines (default 600).
# The non-test part is everything before the first `#[cfg(test)]` / `#[cfg(all(test, ...))]` item;
# files that are tests through and through (tests.rs, loom_tests.rs, anything under a tests/ or
# benches/ folder of a package) are not counted.
# Usage: scripts/check_file_size.sh [MAX]
set -euo pipefail
cd "$(dirname "$0")/.."
max="${1:-600}"
fail=0
while IFS= read -r f; do
  case "$f" in
    */tests.rs | */loom_tests.rs | */tests/* | */benches/*) continue ;;
  esac
  n=$(awk '/^[[:space:]]*#\[cfg\((all\()?test[,)]/ { exit } { n++ } END { print n + 0 }' "$f")
  if (( n > max )); then
    echo "$f: $n lines before its tests (limit $max): split it by concept"
    fail=1
  fi
done < <(git ls-files '*.rs')
if (( fail )); then
  exit 1
fi
echo "file size: every source file is within $max lines"
