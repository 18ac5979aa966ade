#!/usr/bin/env bash
# Measures the REST API's read throughput and latency with wrk, on SQLite and on a throwaway
# PostgreSQL 15, and prints a Markdown table for docs/BENCHMARKS.md.
#
#   scripts/bench-api.sh [DURATION_SECONDS]
#
# For each backend: start `qbench serve` (release build) on a free port with a fresh data dir, register
# 1,000 connections, then run wrk against GET /api/v1/connections/{id} and GET /api/v1/connections?limit=1000.
set -euo pipefail

duration="${1:-10}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$HOME/.cache/qbench-target}"
threads=2
connections=16

command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install -y wrk; make bench installs it)" >&2; exit 1; }
(cd "$root" && cargo build --release -q -p qbench-app)
qbench="$target/release/qbench"

work="$(mktemp -d)"
server_pid=""
pg_dir=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  if [ -n "$pg_dir" ]; then as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_qbench() { # $1 = DATABASE_URL or empty
  local port; port="$(free_port)"
  local data="$work/data-$port"
  mkdir -p "$data"
  QBENCH_DATA_DIR="$data" DATABASE_URL="$1" PORT="$port" QBENCH_LOG__LEVEL=warn QBENCH_RATE_LIMIT_PER_MINUTE=0 \
    QBENCH_SECRET_KEY="$(head -c 32 /dev/urandom | base64)" "$qbench" serve >"$work/qbench-$port.log" 2>&1 &
  server_pid=$!
  base="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do curl -sf "$base/ready" >/dev/null && return 0; sleep 0.1; done
  echo "bench: qbench did not become ready; log:" >&2; cat "$work/qbench-$port.log" >&2; exit 1
}

seed() {
  python3 - "$base" <<'PY'
import json, sys, urllib.request
base = sys.argv[1]
first = None
for i in range(1000):
    body = json.dumps({"name": f"qdrant-{i:04d}", "url": f"http://qdrant-{i}.internal:6333", "api_key": f"key-{i:04d}-secret"}).encode()
    req = urllib.request.Request(base + "/api/v1/connections", body, {"content-type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        created = json.load(resp)
        first = first or created["id"]
print(first)
PY
}

measure() { # $1 label, $2 url
  local out; out="$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$2")"
  local rps p50 p99
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  local non2xx; non2xx="$(awk '/Non-2xx/ {print $4}' <<<"$out")"
  [ -z "$non2xx" ] || { echo "bench: $1 got non-2xx answers: $non2xx" >&2; exit 1; }
  printf '| %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99"
}

run_backend() { # $1 backend label, $2 DATABASE_URL
  start_qbench "$2"
  local id; id="$(seed)"
  measure "$1: GET /api/v1/connections/{id}" "$base/api/v1/connections/$id"
  measure "$1: GET /api/v1/connections?limit=1000 (1,000 rows)" "$base/api/v1/connections?limit=1000"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}

echo "wrk -t$threads -c$connections -d${duration}s --latency; $(nproc) cores; $(date -u +%Y-%m-%d)"
echo
echo "| endpoint | requests/s | p50 | p99 |"
echo "| --- | --- | --- | --- |"
run_backend "SQLite" ""

pg_bin="${QBENCH_PG_BIN_DIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}"
pg_dir="$(mktemp -d)"
chmod 755 "$pg_dir"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$pg_dir"
pg_port="$(free_port)"
as_postgres "$pg_bin/initdb" -D "$pg_dir/data" -U qbench -A trust --no-sync >/dev/null
as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -w -l "$pg_dir/log" \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1" start >/dev/null
run_backend "PostgreSQL 15" "postgres://qbench@127.0.0.1:$pg_port/postgres"
as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null
rm -rf "$pg_dir"; pg_dir=""
