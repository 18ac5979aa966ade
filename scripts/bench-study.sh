#!/usr/bin/env bash
# The study benchmark of docs/BENCHMARKS.md: `qbench tune` on ROWS × 768 Cosine clustered points
# (default 100,000; 1,000 queries), m 8/16/32 × ef_construct 64/128/256 × hnsw_ef 16…512, target
# recall@10 0.95, once with `--strategy grid` and once with `--strategy auto`. Prints Markdown: wall
# time, builds and measured points of each, whether they recommend the same build, and the time
# between trials (a trial's wall time minus its run's own) against a trial's.
#
#   scripts/bench-study.sh [ROWS] [DATASET_DIR]
set -euo pipefail

rows="${1:-100000}"
dataset="${2:-/tmp/qbench-study-${rows}}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qbench-target}"
target="$CARGO_TARGET_DIR"
(cd "$root" && cargo build --release -q -p qbench-app)
qbench="$target/release/qbench"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export QBENCH_DATA_DIR="$work/data"

if [ ! -f "$dataset/train.parquet" ]; then
  "$qbench" dataset generate --rows "$rows" --queries 1000 --vectors text:768:Cosine --out "$dataset" >/dev/null
fi
for strategy in grid auto; do
  start=$(date +%s.%N)
  "$qbench" tune --dataset "$dataset" --vectors text:768:Cosine --target-recall 0.95 --k 10 \
    --m 8,16,32 --ef-construct 64,128,256 --hnsw-ef 16,32,64,128,256,512 \
    --strategy "$strategy" --json "$work/$strategy.json" >"$work/$strategy.txt" </dev/null
  end=$(date +%s.%N)
  python3 -c "print($end - $start)" >"$work/$strategy.seconds"
done

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def load(strategy):
    report = json.load(open(f"{work}/{strategy}.json"))
    seconds = float(open(f"{work}/{strategy}.seconds").read())
    return report, seconds
def recommended(report):
    chosen = report["recommendation"]
    point = report["points"][chosen["point"]]
    return point, chosen["meets_target"]
def label(point):
    vectors = point["build"]["vectors"]
    build = ",".join(f"m={v['m']},ef_construct={v['ef_construct']}" for v in vectors.values())
    return f"{build} hnsw_ef={point['setting']['hnsw_ef']}"
print("| strategy | wall time (s) | builds | points measured in full | recommendation | recall | QPS | between trials / trial |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
results = {}
for strategy in ("grid", "auto"):
    report, seconds = load(strategy)
    point, meets = recommended(report)
    overhead = [t["seconds"] - t["run_seconds"] for t in report["trials"] if t.get("run_seconds") is not None]
    trial = [t["run_seconds"] for t in report["trials"] if t.get("run_seconds") is not None]
    share = (sum(overhead) / sum(trial)) if trial else float("nan")
    results[strategy] = (report, seconds, point)
    print(f"| {strategy} | {seconds:.0f} | {report['builds_made']} | {len(report['points'])} | {label(point)}"
          f"{'' if meets else ' (misses the target)'} | {point['quality']['recall']:.4f} | {point['qps']:.0f} | {share * 100:.2f} % |")
grid, auto = results["grid"], results["auto"]
same_build = grid[2]["build"] == auto[2]["build"]
print()
print(f"auto / grid wall time: {auto[1] / grid[1]:.2f}; same build recommended: {'yes' if same_build else 'no'}")
PY
