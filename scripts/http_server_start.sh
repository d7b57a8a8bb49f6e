# Sourced by the HTTP scripts: start_server BIN LOG starts an example server on a free loopback
# port, sets `pid` and `addr` (host:port from its "listening on" line), or exits with its output.
start_server() {
  "$1" --addr 127.0.0.1:0 >"$2" 2>&1 &
  pid=$!
  addr=
  for _ in $(seq 100); do
    addr=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$2" | head -1)
    [[ -n "$addr" ]] && return 0
    sleep 0.05
  done
  echo "$(basename "$0"): $(basename "$1") did not start:" >&2; cat "$2" >&2; exit 1
}
