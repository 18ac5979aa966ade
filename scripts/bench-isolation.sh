#!/usr/bin/env bash
# What executing each run in a child process costs (worker.isolation = "process", the default)
# against executing it in the worker's own process ("in-process"), measured in one sitting:
#   start-up: wall time of a tiny run (start_time to end_time), STARTUP_RUNS runs per mode;
#   search:   QPS per hnsw_ef of the same 100k x 768 experiment, RUNS runs per mode, interleaved,
#             with `qbench bench` (in process, on its own multi-threaded runtime) as a third series.
# Two servers (one per mode) share one data root and take turns, so they never run at once.
#
#   scripts/bench-isolation.sh            # needs a release build: cargo build --release -p qbench-app
#   ROWS=20000 RUNS=1 scripts/bench-isolation.sh   # a quick look
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
Q=${Q:-${CARGO_TARGET_DIR:-$HOME/.cache/qbench-target}/release/qbench}
WORK=${WORK:-/tmp/qbench-isolation}
ROWS=${ROWS:-100000}
DIM=${DIM:-768}
RUNS=${RUNS:-3}
STARTUP_RUNS=${STARTUP_RUNS:-10}
[ -x "$Q" ] || { echo "no release build at $Q (cargo build --release -p qbench-app)" >&2; exit 1; }

mkdir -p "$WORK/root"
if [ ! -f "$WORK/root/big-$ROWS-$DIM/neighbors.parquet" ]; then
  QBENCH_DATA_DIR="$WORK/root" "$Q" dataset generate --rows "$ROWS" --queries 1000 \
    --vectors "text:$DIM:Cosine" --out "$WORK/root/big-$ROWS-$DIM" >/dev/null
fi
if [ ! -f "$WORK/root/tiny/neighbors.parquet" ]; then
  QBENCH_DATA_DIR="$WORK/root" "$Q" dataset generate --rows 2000 --queries 50 \
    --vectors "text:8:Cosine" --out "$WORK/root/tiny" >/dev/null
fi

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

declare -A PORT
start() { # mode port
  local mode=$1 port=$2 dir="$WORK/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  printf '[engine]\ndata_roots = ["%s"]\n[worker]\nisolation = "%s"\n' "$WORK/root" "$mode" >"$dir/qbench.toml"
  QBENCH_DATA_DIR="$dir" QBENCH_RATE_LIMIT_PER_MINUTE=0 "$Q" --config "$dir/qbench.toml" serve --port "$port" \
    >"$dir/server.log" 2>&1 &
  pids+=($!)
  PORT[$mode]=$port
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return; sleep 0.1; done
  echo "server $mode did not start" >&2; exit 1
}
api() { curl -sf -H 'content-type: application/json' "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

experiment() { # mode source dim hnsw_ef -> experiment id
  local base="http://127.0.0.1:${PORT[$1]}/api/v1"
  local connection dataset
  connection=$(api "$base/connections" | json "[c['id'] for c in d if c['builtin']][0]")
  dataset=$(api -X POST "$base/datasets" -d "{\"name\": \"$2\", \"source_uri\": \"$2/\",
      \"schema_config\": {\"vectors\": {\"text\": {\"dim\": $3, \"distance\": \"Cosine\"}}}}" | json "d['id']")
  api -X POST "$base/experiments" -d "{\"name\": \"$2\", \"dataset_id\": \"$dataset\", \"connection_id\": \"$connection\",
      \"optimizer_config\": {\"indexing\": {\"text\": {\"type\": \"hnsw\", \"m\": 16, \"ef_construct\": 100}}},
      \"search_config\": {\"k\": 10, \"hnsw_ef\": $4, \"parallel\": 1}}" | json "d['id']"
}
run() { # mode experiment -> the finished run as JSON
  local base="http://127.0.0.1:${PORT[$1]}/api/v1" id status
  id=$(api -X POST "$base/experiments/$2/runs" | json "d['run_id']")
  while :; do
    status=$(api "$base/runs/$id" | json "d['status']")
    case $status in COMPLETED) break ;; FAILED|CANCELED) api "$base/runs/$id" >&2; exit 1 ;; esac
    sleep 0.2
  done
  api "$base/runs/$id"
}

start process 5091
start in-process 5092
declare -A TINY BIG
for mode in process in-process; do
  TINY[$mode]=$(experiment "$mode" tiny 8 "[16]")
  BIG[$mode]=$(experiment "$mode" "big-$ROWS-$DIM" "$DIM" "[64, 128, 256]")
done

echo "== start-up: wall time of a 2,000 x 8 run (s), $STARTUP_RUNS runs each, interleaved"
for mode in process in-process; do : >"$WORK/startup-$mode"; done
for _ in $(seq 1 "$STARTUP_RUNS"); do
  for mode in process in-process; do
    run "$mode" "${TINY[$mode]}" | json "(__import__('datetime').datetime.fromisoformat(d['end_time'].replace('Z','+00:00')) - __import__('datetime').datetime.fromisoformat(d['start_time'].replace('Z','+00:00'))).total_seconds()" >>"$WORK/startup-$mode"
  done
done
for mode in process in-process; do
  python3 -c "import statistics,sys; v=sorted(float(x) for x in open('$WORK/startup-$mode')); print(f'$mode: median {statistics.median(v):.3f} s, min {v[0]:.3f}, max {v[-1]:.3f}')"
done

echo "== search: QPS per hnsw_ef of ${ROWS} x ${DIM}, 1 client, $RUNS runs each, interleaved"
summary="' '.join(f\"{r['hnsw_ef']}={r['qps']:.0f}\" for r in m['results']) + f\" upload={m['upload_seconds']:.1f}s index={m['index_seconds']:.1f}s\""
for mode in process in-process cli; do : >"$WORK/qps-$mode"; done
for _ in $(seq 1 "$RUNS"); do
  for mode in process in-process; do
    run "$mode" "${BIG[$mode]}" | json "(lambda m: $summary)(d['metrics'])" | tee -a "$WORK/qps-$mode" | sed "s/^/$mode: /"
  done
  QBENCH_DATA_DIR="$WORK/cli" "$Q" bench --dataset "$WORK/root/big-$ROWS-$DIM" --vectors "text:$DIM:Cosine" \
    --m 16 --ef-construct 100 --hnsw-ef 64,128,256 --k 10 --parallel 1 --json "$WORK/cli.json" >/dev/null 2>&1
  json "(lambda m: $summary)(d.get('metrics', d))" <"$WORK/cli.json" | tee -a "$WORK/qps-cli" | sed "s/^/cli: /"
done
python3 - "$WORK" <<'PY'
import re, statistics, sys
work = sys.argv[1]
def table(mode):
    rows = [dict(re.findall(r"(\d+)=(\d+)", line)) for line in open(f"{work}/qps-{mode}")]
    return {ef: statistics.median(float(row[ef]) for row in rows) for ef in rows[0]}
process, inproc, cli = table("process"), table("in-process"), table("cli")
for ef in process:
    print(
        f"hnsw_ef={ef}: process {process[ef]:.0f} QPS, in-process {inproc[ef]:.0f} ({process[ef] / inproc[ef]:.3f}), "
        f"qbench bench {cli[ef]:.0f} ({process[ef] / cli[ef]:.3f})"
    )
PY
