#!/usr/bin/env bash
# Regenerates what is derived from other files:
#   helm/dcdir/files/world.yaml       <- deploy/config/world.yaml
#   helm/dcdir/files/dcdir-rules.yaml <- deploy/prometheus/dcdir-rules.yaml
#   deploy/k8s/                       <- helm template of helm/dcdir with default values
# Usage: scripts/render-k8s.sh          (needs scripts/install-deploy-tools.sh first)
# The tests (tests/deploy/check_chart_files.sh, check_k8s_drift.sh) fail when these drift.
source "$(dirname "${BASH_SOURCE[0]}")/../tests/deploy/common.sh"
require_tools

for pair in "deploy/config/world.yaml:helm/dcdir/files/world.yaml" \
            "deploy/prometheus/dcdir-rules.yaml:helm/dcdir/files/dcdir-rules.yaml"; do
  src="${REPO_ROOT}/${pair%%:*}"
  dst="${REPO_ROOT}/${pair##*:}"
  if [[ -f "${src}" ]]; then
    cp "${src}" "${dst}"
  else
    echo "render-k8s: ${src} missing, keeping ${dst}" >&2
  fi
done

out="${REPO_ROOT}/deploy/k8s"
rm -f "${out}"/*.yaml
mkdir -p "${out}"
render | node "${REPO_ROOT}/tests/deploy/split_manifests.cjs" "${out}"
