# Shared settings for the deployment checks (sourced, not run).
# TOOLS_DIR: where scripts/install-deploy-tools.sh put helm, kubectl and the Node packages.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS_DIR="${TOOLS_DIR:-${REPO_ROOT}/.tools}"
CHART_DIR="${REPO_ROOT}/helm/dcdir"
HELM="${TOOLS_DIR}/bin/helm"
KUBECTL="${TOOLS_DIR}/bin/kubectl"
export NODE_PATH="${TOOLS_DIR}/node/node_modules"
# The Kubernetes version renders are made for (kubectl from the same npm package is v1.31).
KUBE_VERSION="${KUBE_VERSION:-1.31.0}"
RELEASE="dcdir"
NAMESPACE="default"

require_tools() {
  local missing=0
  for t in "${HELM}" "${KUBECTL}"; do
    [[ -x "${t}" ]] || { echo "missing ${t}" >&2; missing=1; }
  done
  for m in kubernetes-models yaml @kubernetes-models/prometheus-operator dockerfilelint; do
    [[ -f "${NODE_PATH}/${m}/package.json" ]] || { echo "missing node module ${m}" >&2; missing=1; }
  done
  command -v node >/dev/null || { echo "missing node" >&2; missing=1; }
  if ((missing)); then
    echo "run scripts/install-deploy-tools.sh (or set TOOLS_DIR)" >&2
    exit 2
  fi
}

# helm template with the pinned Kubernetes version; extra args are passed through.
render() {
  "${HELM}" template "${RELEASE}" "${CHART_DIR}" --namespace "${NAMESPACE}" \
    --kube-version "${KUBE_VERSION}" "$@"
}
