#!/usr/bin/env bash
# Measures the job queue on a throwaway PostgreSQL 15 and prints Markdown for docs/BENCHMARKS.md:
#   - jobs claimed (and executed) per second by 1, 3 and 8 `qbench worker` processes: JOBS noop jobs of
#     zero steps are queued first, then the workers start and drain the queue; the rate is jobs over
#     the span from the first start to the last end (database clock);
#   - submit to start on idle workers: PROBES noop jobs submitted one at a time through `qbench serve`
#     to 3 idle workers whose poll interval is a minute (so only LISTEN/NOTIFY can wake them);
#     start_time - created_at, p50/p99/max.
#
#   scripts/bench-jobs.sh [JOBS] [PROBES]
set -euo pipefail

jobs_count="${1:-2000}"
probes="${2:-200}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$HOME/.cache/qbench-target}"
(cd "$root" && cargo build --release -q -p qbench-app)
qbench="$target/release/qbench"

work="$(mktemp -d)"
chmod 755 "$work"
pids=()
pg_dir=""
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop_all() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done; pids=(); }
cleanup() {
  stop_all
  if [ -n "$pg_dir" ]; then as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$pg_dir"; fi
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pg_bin="${QBENCH_PG_BIN_DIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}"
pg_dir="$(mktemp -d)"; chmod 755 "$pg_dir"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$pg_dir"
pg_port="$(free_port)"
as_postgres "$pg_bin/initdb" -D "$pg_dir/data" -U qbench -A trust --no-sync >/dev/null
as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -w -l "$pg_dir/log" \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null

export QBENCH_SECRET_KEY="$(head -c 32 /dev/urandom | base64)" QBENCH_LOG__LEVEL=warn QBENCH_RATE_LIMIT_PER_MINUTE=0
export QBENCH_WORKER__POLL_MS=60000 QBENCH_WORKER__MAX_CONCURRENT_JOBS=4
db=0
fresh_database() {
  db=$((db + 1))
  as_postgres "$pg_bin/psql" -q -h "$pg_dir" -p "$pg_port" -U qbench -d postgres -c "CREATE DATABASE bench_$db" >/dev/null
  export DATABASE_URL="postgres://qbench@127.0.0.1:$pg_port/bench_$db"
  mkdir -p "$work/data-$db"; export QBENCH_DATA_DIR="$work/data-$db"
  port="$(free_port)"; base="http://127.0.0.1:$port"
  QBENCH_WORKER__ENABLED=false PORT="$port" "$qbench" serve >"$work/serve-$db.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "$base/ready" >/dev/null && return 0; sleep 0.1; done
  echo "bench: qbench serve did not become ready" >&2; cat "$work/serve-$db.log" >&2; exit 1
}
start_workers() { for i in $(seq 1 "$1"); do "$qbench" worker >"$work/worker-$db-$i.log" 2>&1 & pids+=($!); done; }
py() { python3 - "$base" "$@"; }

echo "PostgreSQL 15 on loopback, release build, $(nproc) cores, $(date -u +%Y-%m-%d); workers: max_concurrent_jobs=4, poll 60 s"
echo
echo "| workers | jobs | jobs/s (first start to last end) |"
echo "| --- | --- | --- |"
for workers in 1 3 8; do
  fresh_database
  py "$jobs_count" <<'PY'
import json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
base, n = sys.argv[1], int(sys.argv[2])
def submit(_):
    req = urllib.request.Request(base + "/api/v1/jobs/noop", b'{"steps":0}', {"content-type": "application/json"})
    urllib.request.urlopen(req).read()
with ThreadPoolExecutor(8) as pool:
    list(pool.map(submit, range(n)))
PY
  start_workers "$workers"
  py "$jobs_count" "$workers" <<'PY'
import json, sys, time, urllib.request
from datetime import datetime
base, n, workers = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def jobs():
    out, offset = [], 0
    while True:
        page = json.load(urllib.request.urlopen(f"{base}/api/v1/jobs?kind=noop&limit=1000&offset={offset}"))
        out += page; offset += 1000
        if len(page) < 1000: return out
deadline = time.time() + 600
while True:
    listed = jobs()
    if sum(job["status"] == "COMPLETED" for job in listed) == n: break
    if time.time() > deadline: sys.exit("bench: the queue did not drain")
    time.sleep(0.5)
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
span = max(t(j["end_time"]) for j in listed) - min(t(j["start_time"]) for j in listed)
assert all(j["attempts"] == 1 for j in listed), "a job ran twice"
print(f"| {workers} | {n} | {n / span:.0f} |")
PY
  stop_all
done

echo
fresh_database
start_workers 3
sleep 2
py "$probes" <<'PY'
import json, sys, time, urllib.request
from datetime import datetime
base, n = sys.argv[1], int(sys.argv[2])
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
waits = []
for _ in range(n):
    req = urllib.request.Request(base + "/api/v1/jobs/noop", b'{"steps":0}', {"content-type": "application/json"})
    job = json.load(urllib.request.urlopen(req))
    while True:
        seen = json.load(urllib.request.urlopen(f"{base}/api/v1/jobs/{job['id']}"))
        if seen["start_time"]: break
        time.sleep(0.005)
    waits.append(t(seen["start_time"]) - t(seen["created_at"]))
    time.sleep(0.02)
waits.sort()
ms = lambda q: waits[min(len(waits) - 1, int(len(waits) * q))] * 1000
print("| submit to start, 3 idle workers (poll 60 s) | p50 | p99 | max |")
print("| --- | --- | --- | --- |")
print(f"| {n} jobs, one at a time | {ms(0.5):.1f} ms | {ms(0.99):.1f} ms | {waits[-1] * 1000:.1f} ms |")
PY
