#!/usr/bin/env bash
# The time a study saves by starting from snapshots (issue 15; docs/BENCHMARKS.md, "Snapshots (issue 15)"),
# end to end against a real server: a release `qbench serve` on a scratch data dir and a free port, a generated
# dataset of ROWS × DIM Cosine points (1,000 queries) registered twice (two ids, the same files), then three grid
# studies on the embedded engine, one after the other:
#   1. "keep":    m [8, 16] × ef_construct [64], hnsw_ef [32, 64], keep_snapshots {"path": "kept"} — builds both
#                 and archives each build into <data dir>/kept;
#   2. "restore": the same builds, hnsw_ef [32, 64, 128], no keep_snapshots — every trial must restore
#                 (`"restored": true`), nothing uploaded or indexed;
#   3. "control": study 2 again on the second registration of the dataset, whose id no snapshot was built from,
#                 so it builds both: the same work as study 2 without snapshots, measured in the same sitting.
# Prints Markdown: each study's wall time (POST to COMPLETED, polled every 0.2 s) and the study's own, and per
# trial its wall time, run_seconds, upload, index or restore seconds and the archive kept or restored.
#
#   scripts/bench-study-snapshots.sh [ROWS] [DIM]      # default 100000 768; REPETITIONS=3 (passes per setting);
#                                                      # Q=path/to/qbench skips the release build
set -euo pipefail

rows="${1:-100000}"
dim="${2:-768}"
repetitions="${REPETITIONS:-3}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/qbench-target}"
# Q=path/to/qbench uses that binary as it is; otherwise the release build, brought up to date first.
if [ -z "${Q:-}" ]; then
  (cd "$root" && cargo build --release -q -p qbench-app --bin qbench)
  Q="$CARGO_TARGET_DIR/release/qbench"
fi

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
data="$work/data"
mkdir -p "$data"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
U="http://127.0.0.1:$port/api/v1"

QBENCH_DATA_DIR="$data" QBENCH_RATE_LIMIT_PER_MINUTE=0 "$Q" serve --port "$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/health" >/dev/null || { echo "the server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }

api() { curl -sf -H 'content-type: application/json' "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

"$Q" dataset generate --rows "$rows" --queries 1000 --vectors "text:$dim:Cosine" --out "$data/synth" >/dev/null
register() { # name -> dataset id
  api -X POST "$U/datasets" -d "{\"name\": \"$1\", \"source_uri\": \"synth/\",
      \"schema_config\": {\"vectors\": {\"text\": {\"dim\": $dim, \"distance\": \"Cosine\"}}}}" | json "d['id']"
}
dataset=$(register synth)
control_dataset=$(register synth-control)
embedded=$(api "$U/connections" | json "[c['id'] for c in d if c['builtin']][0]")

study() { # label dataset hnsw_ef keep -> writes $work/<label>.json and .seconds
  local label=$1 body id status start end
  body="{\"name\": \"$label\", \"dataset_id\": \"$2\", \"connection_id\": \"$embedded\", \"k\": 10,
    \"space\": {\"vectors\": {\"text\": {\"m\": [8, 16], \"ef_construct\": [64]}}, \"search\": {\"hnsw_ef\": $3}},
    \"objective\": {\"target\": 0.9}, \"repetitions\": $repetitions $4}"
  start=$(date +%s.%N)
  id=$(api -X POST "$U/studies" -d "$body" | json "d['id']")
  while :; do
    status=$(api "$U/studies/$id" | json "d['status']")
    case $status in COMPLETED) break ;; FAILED|CANCELED) api "$U/studies/$id" >&2; exit 1 ;; esac
    sleep 0.2
  done
  end=$(date +%s.%N)
  python3 -c "print($end - $start)" >"$work/$label.seconds"
  api "$U/studies/$id" >"$work/$label.json"
  # Each trial's run, for its upload, index and restore figures.
  for run in $(json "' '.join(t['run_id'] for t in d['report']['trials'])" <"$work/$label.json"); do
    api "$U/runs/$run" >"$work/run-$run.json"
  done
  echo "study $label: $(cat "$work/$label.seconds") s" >&2
}

study keep "$dataset" "[32, 64]" ', "keep_snapshots": {"path": "kept"}'
study restore "$dataset" "[32, 64, 128]" ''
study control "$control_dataset" "[32, 64, 128]" ''

python3 - "$work" "$rows" "$dim" <<'PY'
import json, sys
work, rows, dim = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
studies = {}
for label in ("keep", "restore", "control"):
    study = json.load(open(f"{work}/{label}.json"))
    seconds = float(open(f"{work}/{label}.seconds").read())
    runs = {t["run_id"]: json.load(open(f"{work}/run-{t['run_id']}.json")) for t in study["report"]["trials"]}
    studies[label] = (study, seconds, runs)
for trial in studies["restore"][0]["report"]["trials"]:
    if not trial["restored"]:
        sys.exit(f"study 2's trial {trial['build']} built instead of restoring: {trial}")
for trial in studies["control"][0]["report"]["trials"]:
    if trial["restored"]:
        sys.exit(f"the control study's trial {trial['build']} restored: {trial}")

print(f"{rows:,} × {dim} Cosine, 1,000 queries, k 10, repetitions of each setting as requested, embedded engine\n")
print("| study | hnsw_ef | wall time (s) | study's own (s) | trial | restored | trial wall (s) | run_seconds | upload (s) | index (s) | restore (s) | search (s) | archive (MB) |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for label, (study, seconds, runs) in studies.items():
    report = study["report"]
    efs = sorted({p["hnsw_ef"] for p in report["points"]})
    for i, trial in enumerate(report["trials"]):
        metrics = runs[trial["run_id"]]["metrics"]
        source = metrics.get("index_source") or {}
        search = sum(r.get("search_seconds") or 0 for r in metrics["results"])
        restore = "%.2f" % source["restore_seconds"] if source else ""
        archive = "%.1f" % (source["bytes"] / 1e6) if source else ""
        head = [label, ",".join(map(str, efs)), "%.1f" % seconds, "%.1f" % report["seconds"]] if i == 0 else [""] * 4
        row = head + [trial["build"], "yes" if trial["restored"] else "no", "%.1f" % trial["seconds"],
                      "%.1f" % trial["run_seconds"], "%.2f" % metrics["upload_seconds"],
                      "%.2f" % metrics["index_seconds"], restore, "%.1f" % search, archive]
        print("| " + " | ".join(row) + " |")
keep, restore, control = (studies[l][1] for l in ("keep", "restore", "control"))
built = sum(r["metrics"]["upload_seconds"] + r["metrics"]["index_seconds"] for r in studies["control"][2].values())
restored = sum((r["metrics"].get("index_source") or {}).get("restore_seconds", 0) for r in studies["restore"][2].values())
print()
print(f"restore study / control (same work, built): {restore:.1f} / {control:.1f} s = {restore / control:.2f}; "
      f"saved {control - restore:.1f} s")
print(f"upload + index of the control's builds: {built:.1f} s; restores of study 2: {restored:.1f} s")
keep_overhead = sum(t["seconds"] - t["run_seconds"] for t in studies["keep"][0]["report"]["trials"])
ctrl_overhead = sum(t["seconds"] - t["run_seconds"] for t in studies["control"][0]["report"]["trials"])
print(f"trial wall minus run_seconds, summed (keeping the archives in study 1): keep {keep_overhead:.1f} s, "
      f"control {ctrl_overhead:.1f} s")
PY
