#!/usr/bin/env bash
# Start the local test DSA (Girder 3 + large_image annotation plugin, in-memory
# database, 127.0.0.1 only) in the background and wait until its API answers.
#
#   scripts/dsa-server/start.sh [PORT]        PORT: $HISTOACTIVE_DSA_PORT, else 8765
#
# Prints the API URL on stdout. Safe to call again: a server already up on PORT
# is reused. The Python virtualenv ($HISTOACTIVE_DSA_VENV, default
# /opt/histoactive-dsa-venv) is created from PyPI on first use (about a minute).
# HISTOACTIVE_DSA_SLICER=1 also installs and loads the slicer_cli_web plugin.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${1:-${HISTOACTIVE_DSA_PORT:-8765}}"
case "$port" in ''|*[!0-9]*) echo "usage: $0 [PORT]" >&2; exit 2 ;; esac
venv="${HISTOACTIVE_DSA_VENV:-/opt/histoactive-dsa-venv}"
run_dir="${HISTOACTIVE_DSA_RUN_DIR:-/tmp/histoactive-dsa-$port}"
url="http://127.0.0.1:$port/api/v1"
wait_s="${HISTOACTIVE_DSA_START_TIMEOUT:-180}"
plugins="jobs,large_image,large_image_annotation"
modules="girder, girder_large_image_annotation, large_image_source_pil, mongomock"
requirements=(-r "$here/requirements.txt")
if [ "${HISTOACTIVE_DSA_SLICER:-0}" = 1 ]; then
  plugins="$plugins,slicer_cli_web"
  modules="$modules, slicer_cli_web"
  requirements+=(-r "$here/requirements-slicer.txt")
fi

up() { curl -fsS -m 2 "$url/system/version" >/dev/null 2>&1; }
if up; then
  echo "$url"
  exit 0
fi

mkdir -p "$run_dir"
# Tests running in parallel may all call this at once: one of them starts the
# server, the others wait for the lock and then find it up.
exec 9>"$run_dir.lock"
flock 9
if up; then
  echo "$url"
  exit 0
fi

if ! "$venv/bin/python" -c "import $modules" >/dev/null 2>&1; then
  echo "creating $venv from PyPI (first use, about a minute)..." >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "${requirements[@]}" >&2
  "$venv/bin/python" -c "import $modules"
fi

# The database lives in the server process, so files from an earlier run are orphans.
rm -rf "$run_dir/assetstore"
nohup "$venv/bin/python" "$here/serve.py" --port "$port" --data-dir "$run_dir" \
  --plugins "$plugins" >"$run_dir/server.log" 2>&1 </dev/null 9>&- &
pid=$!
echo "$pid" >"$run_dir/server.pid"

deadline=$((SECONDS + wait_s))
until up; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the test DSA exited while starting; end of $run_dir/server.log:" >&2
    tail -n 30 "$run_dir/server.log" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "the test DSA did not answer within ${wait_s}s (log: $run_dir/server.log)" >&2
    kill "$pid" 2>/dev/null || true
    exit 1
  fi
  sleep 0.2
done
echo "test DSA up on $url (pid $pid, log $run_dir/server.log)" >&2
echo "$url"
