#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts dcdir-server on the example world with
# the embedded in-memory store, reports health for every DC (dcdir-agent --simulate --once),
# and shows the answers for a few countries, a US outage with its cross-border fallback and
# metric, and a mainland-China outage that fails closed. Stops the server at the end
# (KEEP_RUNNING=1 leaves it running).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"
build_dir="${BUILD_DIR:-build}"
grpc_port="${GRPC_PORT:-50051}"
metrics_port="${METRICS_PORT:-9464}"

scripts/install-deps.sh build
cmake -S . -B "${build_dir}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDCDIR_BUILD_TESTS=OFF \
  -DDCDIR_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "${build_dir}" -j2 --target dcdir-server dcdirctl dcdir-agent

bin="${build_dir}"
server="$(find "${bin}" -name dcdir-server -type f -perm -u+x | head -1)"
ctl="$(find "${bin}" -name dcdirctl -type f -perm -u+x | head -1)"
agent="$(find "${bin}" -name dcdir-agent -type f -perm -u+x | head -1)"

workdir="$(mktemp -d)"
head -c 24 /dev/urandom | base64 > "${workdir}/token"
"${server}" --config=deploy/config/world.yaml --grpc_host=127.0.0.1 --grpc_port="${grpc_port}" \
  --metrics_host=127.0.0.1 --metrics_port="${metrics_port}" \
  --auth_token_file="${workdir}/token" >"${workdir}/server.log" 2>&1 &
server_pid=$!
cleanup() {
  if [[ "${KEEP_RUNNING:-0}" != 1 ]]; then
    kill -TERM "${server_pid}" 2>/dev/null && wait "${server_pid}" 2>/dev/null || true
    rm -rf "${workdir}"
  fi
}
trap cleanup EXIT

export DCDIR_SERVER="127.0.0.1:${grpc_port}"
ctl() { "${ctl}" --token_file "${workdir}/token" "$@"; }
for _ in $(seq 50); do ctl list >/dev/null 2>&1 && break; sleep 0.1; done

section() { printf '\n=== %s\n' "$*"; }

section "dcdir-server --check_config: what the rules allow, per region"
"${server}" --check_config --config=deploy/config/world.yaml >"${workdir}/report.txt"
sed -n '1,25p' "${workdir}/report.txt"
echo "..."
grep -E '^ *if (us|cn) fails: (us|cn) ' "${workdir}/report.txt" || true

section "A fresh directory has no health: fail closed (exit code 3 = unavailable)"
ctl get --country US || echo "(dcdirctl exit code $?)"

section "dcdir-agent --simulate --once: every DC reports its health"
"${agent}" --server "${DCDIR_SERVER}" --token_file "${workdir}/token" \
  --config deploy/config/world.yaml --simulate --once --seed 7 --outage_probability 0
ctl list

for country in US DE JP BR CN; do
  section "GetDirectory for a client in ${country}"
  ctl get --country "${country}" --client_id demo-client
done

section "Tenant acme (home us, allowed us+ca): its US clients never leave US/CA"
ctl tenant set --tenant acme --home_region us --allowed_regions us,ca
ctl get --country US --tenant acme --client_id demo-client

section "US outage: all four US DCs report DOWN"
for dc in us-sjc us-den us-nyc us-iad; do ctl report-health --dc "${dc}" --status down; done
ctl get --country US --client_id demo-client
section "... and the cross-border fallback is counted"
curl -s "http://127.0.0.1:${metrics_port}/metrics" | grep -E '^dcdir_(cross_border_fallback_total|fallback_responses_total)\{client_region="us"' | grep -v ' 0$'

section "Why? ExplainDirectory for a US client"
ctl explain --country US --client_id demo-client

section "Mainland China outage: CN clients get UNAVAILABLE, never a DC abroad"
for dc in cn-pek cn-sha; do ctl report-health --dc "${dc}" --status down; done
ctl get --country CN || echo "(dcdirctl exit code $?)"

section "Server log"
cat "${workdir}/server.log"
if [[ "${KEEP_RUNNING:-0}" == 1 ]]; then
  echo "dcdir-server keeps running on ${DCDIR_SERVER} (pid ${server_pid}); token in ${workdir}/token"
fi
