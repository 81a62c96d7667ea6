#!/usr/bin/env bash
# The chart's copies of files kept elsewhere in the repo must not drift (the chart can only read
# files inside itself):
#   helm/dcdir/files/world.yaml       == deploy/config/world.yaml          (ConfigMap default)
#   helm/dcdir/files/dcdir-rules.yaml == deploy/prometheus/dcdir-rules.yaml (PrometheusRule)
# A missing source file is reported and skipped. Fix a failure with scripts/render-k8s.sh.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
status=0
for pair in "deploy/config/world.yaml:helm/dcdir/files/world.yaml" \
            "deploy/prometheus/dcdir-rules.yaml:helm/dcdir/files/dcdir-rules.yaml"; do
  src="${repo}/${pair%%:*}"
  copy="${repo}/${pair##*:}"
  [[ -f "${copy}" ]] || { echo "FAIL: ${copy} missing" >&2; status=1; continue; }
  if [[ ! -f "${src}" ]]; then
    echo "skip: ${src} does not exist"
    continue
  fi
  if cmp -s "${src}" "${copy}"; then
    echo "ok: ${pair##*:} == ${pair%%:*}"
  else
    diff -u "${src}" "${copy}" | head -20 >&2 || true
    echo "FAIL: ${copy} differs from ${src}; run scripts/render-k8s.sh" >&2
    status=1
  fi
done
exit "${status}"
