#!/usr/bin/env bash
# Renders every Kubernetes variant under deploy/k8s (the base and each overlay) with kustomize and
# validates the result offline: strictly against the Kubernetes schemas (an unknown field is an
# error), then against qbench's own invariants (scripts/deploy_check.py). Fails naming the variant,
# the resource and the problem.
#
#   scripts/deploy-check.sh
#
# Environment: KUBECTL (default ~/.cache/qbench-venv/bin/kubectl, for `kubectl kustomize`), PYTHON
# (default ~/.cache/qbench-venv/bin/python, with kubernetes-validate), K8S_VERSION (the schemas'
# version, default 1.35: the pinned kubectl's). `make deps` installs both tools.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$HOME/.cache/qbench-venv"
kubectl="${KUBECTL:-$venv/bin/kubectl}"
python="${PYTHON:-$venv/bin/python}"
version="${K8S_VERSION:-1.35}"

[ -x "$kubectl" ] || { echo "deploy-check: $kubectl is missing; run 'make deps'" >&2; exit 1; }
"$python" -c 'import kubernetes_validate' 2>/dev/null \
  || { echo "deploy-check: kubernetes-validate is missing from $python; run 'make deps'" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failed=0
rendered=()
for dir in "$root/deploy/k8s/base" "$root"/deploy/k8s/overlays/*/; do
  dir="${dir%/}"
  name="$(basename "$dir")"
  if "$kubectl" kustomize "$dir" >"$work/$name.yaml" 2>"$work/$name.err"; then
    rendered+=("$work/$name.yaml")
  else
    echo "deploy-check: ${dir#"$root"/}: kustomize failed: $(cat "$work/$name.err")"
    failed=1
  fi
done
[ "${#rendered[@]}" -gt 0 ] || exit 1
"$python" "$root/scripts/deploy_check.py" --version "$version" --root "$root" "${rendered[@]}" || failed=1
exit "$failed"
