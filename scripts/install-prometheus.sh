#!/usr/bin/env bash
# Installs Debian's `prometheus` package (the server and `promtool`) if `promtool` is missing.
#
# Idempotent: does nothing when `promtool` is already on PATH (or in /usr/bin). The tests start
# their own Prometheus on a loopback port, so the Debian system service is never left running:
# during the install a temporary policy-rc.d forbids maintainer scripts from starting services
# (unless one is already in place), and afterwards any running `prometheus` service is stopped
# and disabled.
#
# Usage: scripts/install-prometheus.sh        (needs root, or sudo without a password)
set -euo pipefail

log() { echo "install-prometheus: $*" >&2; }

if command -v promtool >/dev/null 2>&1 || [[ -x /usr/bin/promtool ]]; then
  log "promtool already installed: $(command -v promtool || echo /usr/bin/promtool)"
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    log "not root and no sudo: cannot install prometheus"
    exit 1
  fi
fi

POLICY=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
  if [[ "${created_policy}" -eq 1 ]]; then
    "${SUDO[@]}" rm -f "${POLICY}"
  fi
}
trap cleanup EXIT

if [[ ! -e "${POLICY}" ]]; then
  # 101 = "action forbidden by policy": invoke-rc.d will not start the service on install.
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "${POLICY}" >/dev/null
  "${SUDO[@]}" chmod 0755 "${POLICY}"
  created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show prometheus >/dev/null 2>&1; then
  log "running apt-get update"
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
fi
log "installing prometheus (server + promtool)"
if ! "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends prometheus >&2; then
  log "install failed; retrying after apt-get update"
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends prometheus >&2
fi

# Belt and braces: if a system service was started anyway (e.g. an existing policy allowed it),
# stop and disable it so that it does not hold port 9090 or scrape anything.
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
  if systemctl is-active --quiet prometheus 2>/dev/null; then
    log "stopping the Debian prometheus service"
    "${SUDO[@]}" systemctl stop prometheus || true
  fi
  "${SUDO[@]}" systemctl disable prometheus >/dev/null 2>&1 || true
elif [[ -x /etc/init.d/prometheus ]]; then
  if "${SUDO[@]}" /etc/init.d/prometheus status >/dev/null 2>&1; then
    log "stopping the Debian prometheus service"
    "${SUDO[@]}" /etc/init.d/prometheus stop >/dev/null 2>&1 || true
  fi
  if command -v update-rc.d >/dev/null 2>&1; then
    "${SUDO[@]}" update-rc.d prometheus disable >/dev/null 2>&1 || true
  fi
fi

if ! command -v promtool >/dev/null 2>&1 && [[ ! -x /usr/bin/promtool ]]; then
  log "prometheus installed but promtool not found"
  exit 1
fi
log "installed: $(/usr/bin/promtool --version 2>&1 | head -n1)"
