#!/usr/bin/env bash
# Stop the local test DSA started by start.sh on PORT ($1, else $HISTOACTIVE_DSA_PORT, else 8765).
set -euo pipefail
port="${1:-${HISTOACTIVE_DSA_PORT:-8765}}"
run_dir="${HISTOACTIVE_DSA_RUN_DIR:-/tmp/histoactive-dsa-$port}"
pid_file="$run_dir/server.pid"
[ -f "$pid_file" ] || { echo "no test DSA recorded on port $port" >&2; exit 0; }
pid="$(cat "$pid_file")"
if kill -0 "$pid" 2>/dev/null; then
  kill "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  echo "stopped the test DSA on port $port (pid $pid)" >&2
fi
rm -f "$pid_file"
