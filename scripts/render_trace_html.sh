#!/usr/bin/env bash
# Render a gort trace's HTML timeline to a PNG with headless Chromium, to check by eye what a browser
# shows. Not run in CI.
#
#   scripts/render_trace_html.sh trace.json [out.png] [width]
#
# Writes the HTML next to the PNG (out.html) with `gort-trace html`, then screenshots it. Installs
# Chromium with apt-get if it is missing (Debian/Ubuntu; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."

trace="${1:?usage: scripts/render_trace_html.sh trace.json [out.png] [width]}"
png="${2:-${trace%.json}.png}"
width="${3:-1320}"
html="${png%.png}.html"

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [ -z "$browser" ]; then
  echo "render_trace_html: installing chromium with apt-get" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  browser=chromium
fi

cargo run --quiet --release --bin gort-trace -- html "$trace" -o "$html"

# The page's height: the SVG's height attribute plus the text below it, generously.
svg_h=$(grep -o '<svg class="timeline" width="[0-9]*" height="[0-9]*"' "$html" | grep -o 'height="[0-9]*"' | grep -o '[0-9]*' || echo 400)
lines=$(grep -c '' "$html")
height=$(( svg_h + 200 + (lines > 400 ? 400 : lines) * 2 ))

abs_html="$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size="${width},${height}" --screenshot="$png" "file://${abs_html}" 2>/dev/null
echo "wrote $png (${width}x${height}) from $html"
