#!/usr/bin/env bash
# deploy/k8s (kustomize base) must equal the chart's default render:
#   1. its files are byte-identical to what scripts/render-k8s.sh writes now;
#   2. "kubectl kustomize deploy/k8s" builds, and yields the same objects as "helm template".
# Fix a failure with scripts/render-k8s.sh.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_tools
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
k8s_dir="${K8S_DIR:-${REPO_ROOT}/deploy/k8s}"

render >"${work}/render.yaml"
mkdir "${work}/fresh"
node "${REPO_ROOT}/tests/deploy/split_manifests.cjs" "${work}/fresh" <"${work}/render.yaml" >/dev/null
if ! diff -r -u "${work}/fresh" "${k8s_dir}"; then
  echo "FAIL: ${k8s_dir} drifted from the chart's default render; run scripts/render-k8s.sh" >&2
  exit 1
fi
"${KUBECTL}" kustomize "${k8s_dir}" >"${work}/kustomize.yaml"
node "${REPO_ROOT}/tests/deploy/compare_objects.mjs" "${work}/render.yaml" "${work}/kustomize.yaml"
echo "ok: ${k8s_dir} equals the chart's default render"
