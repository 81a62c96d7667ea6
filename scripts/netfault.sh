#!/usr/bin/env bash
# The network-fault suite (tests/netfault/, docs/REDIS.md "Network faults"): test hosts made of
# network namespaces, real redis-server and dcdir-server replicas, faults from iptables and an
# NFQUEUE delay program. Needs root; each test skips with the reason otherwise. About 65 s.
#   scripts/netfault.sh [BUILD_DIR]      (default build-ci; the build must be done)
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${1:-${BUILD_DIR:-build-ci}}"
cd "${repo_root}"
start=$(date +%s)
status=0
ctest --test-dir "${build_dir}" --output-on-failure -L netfault --timeout 120 || status=$?
echo "netfault: $(( $(date +%s) - start ))s, status ${status}"
exit "${status}"
