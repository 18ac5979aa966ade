#!/usr/bin/env bash
# The OpenAPI document is the contract: runs Schemathesis against the real `qbench serve` and fails
# on any disagreement between what /openapi.json promises and what the server answers.
#
#   scripts/contract.sh [MAX_EXAMPLES_PER_OPERATION]
#
# The server runs on a free port over SQLite in a fresh temporary data dir, with `auth.mode = none`
# (every request is an admin, so every operation is reachable), no rate limit (Schemathesis sends
# thousands of requests a minute) and no run worker: runs that Schemathesis creates with
# POST /experiments/{id}/runs stay queued instead of starting child processes that would eat the
# time budget. The server is stopped whatever happens; the exit code is Schemathesis's.
# Environment: SCHEMATHESIS (the executable; default ~/.cache/qbench-venv/bin/schemathesis, which
# `make deps` installs), CONTRACT_TIMEOUT (seconds for the whole Schemathesis run, default 300),
# CONTRACT_SEED (the generator's seed: fixed by default so that `make test` is reproducible and a
# red CI means a real change; `CONTRACT_SEED=random` explores with a new seed each run).
set -euo pipefail

max_examples="${1:-100}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$HOME/.cache/qbench-target}"
schemathesis="${SCHEMATHESIS:-$HOME/.cache/qbench-venv/bin/schemathesis}"
time_limit="${CONTRACT_TIMEOUT:-300}"

[ -x "$schemathesis" ] || { echo "contract: $schemathesis is missing; run 'make deps'" >&2; exit 1; }
(cd "$root" && cargo build -q -p qbench-app --bin qbench)
qbench="$target/debug/qbench"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
mkdir -p "$work/data"
env -u DATABASE_URL -u MINIO_ENDPOINT -u MINIO_ACCESS_KEY -u MINIO_SECRET_KEY \
  QBENCH_DATA_DIR="$work/data" PORT="$port" QBENCH_AUTH_MODE=none QBENCH_RATE_LIMIT_PER_MINUTE=0 \
  QBENCH_WORKER__ENABLED=false QBENCH_LOG__LEVEL=warn \
  QBENCH_SECRET_KEY="$(head -c 32 /dev/urandom | base64)" \
  "$qbench" serve >"$work/qbench.log" 2>&1 &
server_pid=$!
ready=""
for _ in $(seq 1 200); do
  if curl -sf "$base/ready" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "contract: qbench did not become ready on $base; its log:" >&2
  cat "$work/qbench.log" >&2
  exit 1
fi

seed_args=()
seed="${CONTRACT_SEED:-20261205}"
[ "$seed" != "random" ] && seed_args=(--seed "$seed")
start=$(date +%s)
status=0
# Every check, every phase (examples, coverage, fuzzing, stateful). `timeout` bounds the run as a
# whole; `--max-examples` bounds each operation's fuzzing.
# One worker: on CPython 3.11, Hypothesis describing filters from two threads at once can fail inside
# `ast` ("SystemError: AST constructor recursion depth mismatch", seen here once in four runs), which
# Schemathesis reports as a runtime error and would fail CI for nothing the server did.
# Run from the temporary dir, so Schemathesis's own state (`.schemathesis/`) stays out of the checkout.
(cd "$work" && timeout --kill-after=10 "$time_limit" "$schemathesis" --config-file "$root/scripts/contract.toml" \
  run "$base/openapi.json" \
  --checks all \
  --max-examples "$max_examples" \
  --workers 1 \
  --no-color \
  --output-sanitize false \
  --suppress-health-check too_slow,filter_too_much \
  "${seed_args[@]}") || status=$?
echo "contract: schemathesis finished in $(( $(date +%s) - start )) s with exit code $status"
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "contract: qbench stopped during the run; its log:" >&2
  tail -50 "$work/qbench.log" >&2
  status=1
fi
if [ "$status" = 124 ]; then
  echo "contract: schemathesis did not finish within ${time_limit} s" >&2
fi
exit "$status"
