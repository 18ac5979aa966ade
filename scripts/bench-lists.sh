#!/usr/bin/env bash
# Measures list throughput on SQLite with wrk: GET /api/v1/connections?limit=50 and ?limit=1000 over
# 1,000 connections, for one or more qbench binaries and the FastAPI + SQLModel twin
# (scripts/twin), all in one run so that their ratios are comparable on a noisy machine.
#
#   scripts/bench-lists.sh [DURATION_SECONDS] [LABEL=PATH_TO_QBENCH ...]
#
# Without binaries it builds and measures the release build of this tree. Every server is started
# and seeded first; then each round measures every server in turn (ROUNDS, default 2). TWIN=0 skips
# the twin; its venv is TWIN_VENV (default ~/.cache/qbench-twin-venv), created from
# scripts/twin/requirements.txt when missing. The twin runs uvicorn with one worker per core, as
# qbench runs one actix worker per core.
set -euo pipefail

duration="${1:-10}"
shift || true
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$HOME/.cache/qbench-target}"
threads=2
connections=32
rounds="${ROUNDS:-2}"
venv="${TWIN_VENV:-$HOME/.cache/qbench-twin-venv}"

command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install -y wrk)" >&2; exit 1; }
binaries=("$@")
if [ "${#binaries[@]}" -eq 0 ]; then
  (cd "$root" && cargo build --release -q -p qbench-app)
  binaries=("qbench=$target/release/qbench")
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_ready() { # $1 base url, $2 log
  for _ in $(seq 1 200); do curl -sf "$1/ready" >/dev/null && return 0; sleep 0.1; done
  echo "bench: $1 did not become ready; log:" >&2; cat "$2" >&2; exit 1
}

seed() { # $1 base url
  python3 - "$1" <<'PY'
import json, sys, urllib.request
base = sys.argv[1]
for i in range(1000):
    body = json.dumps({"name": f"qdrant-{i:04d}", "url": f"http://qdrant-{i}.internal:6333", "api_key": f"key-{i:04d}-secret"}).encode()
    req = urllib.request.Request(base + "/api/v1/connections", body, {"content-type": "application/json"})
    urllib.request.urlopen(req).read()
PY
}

labels=()
bases=()
for entry in "${binaries[@]}"; do
  label="${entry%%=*}"; binary="${entry#*=}"
  port="$(free_port)"; data="$work/data-$port"; mkdir -p "$data"
  QBENCH_DATA_DIR="$data" PORT="$port" QBENCH_LOG__LEVEL=warn QBENCH_RATE_LIMIT_PER_MINUTE=0 \
    QBENCH_SECRET_KEY="$(head -c 32 /dev/urandom | base64)" "$binary" serve >"$work/$label.log" 2>&1 &
  pids+=("$!")
  wait_ready "http://127.0.0.1:$port" "$work/$label.log"
  seed "http://127.0.0.1:$port"
  labels+=("$label"); bases+=("http://127.0.0.1:$port")
done
if [ "${TWIN:-1}" != 0 ]; then
  [ -x "$venv/bin/uvicorn" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q -r "$root/scripts/twin/requirements.txt"; }
  port="$(free_port)"
  (cd "$root/scripts/twin" && TWIN_DATABASE="$work/twin.db" exec "$venv/bin/uvicorn" app:app --port "$port" \
    --workers "$(nproc)" --log-level warning --no-access-log >"$work/twin.log" 2>&1) &
  pids+=("$!")
  wait_ready "http://127.0.0.1:$port" "$work/twin.log"
  seed "http://127.0.0.1:$port"
  labels+=("twin"); bases+=("http://127.0.0.1:$port")
fi

measure() { # $1 label, $2 url
  local out; out="$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$2")"
  local rps p50 p99 non2xx
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  non2xx="$(awk '/Non-2xx/ {print $4}' <<<"$out")"
  [ -z "$non2xx" ] || { echo "bench: $1 got non-2xx answers: $non2xx" >&2; exit 1; }
  printf '| %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99"
}

echo "wrk -t$threads -c$connections -d${duration}s --latency; SQLite; 1,000 connections; $(nproc) cores; $(date -u +%Y-%m-%d)"
echo
echo "| round: server, endpoint | requests/s | p50 | p99 |"
echo "| --- | --- | --- | --- |"
for round in $(seq 1 "$rounds"); do
  for limit in 50 1000; do
    for i in "${!labels[@]}"; do
      measure "$round: ${labels[$i]}, GET /api/v1/connections?limit=$limit" "${bases[$i]}/api/v1/connections?limit=$limit"
    done
  done
done
