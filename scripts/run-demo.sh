#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts dcdir-server on the example world with
# the embedded in-memory store, reports health for every DC (dcdir-agent --simulate --once),
# and shows the answers for a few countries, ranking by where the client is (a Sao Paulo
# location, a Seattle subdivision, the client's own RTTs, gradual spillover), a US outage with its
# cross-border fallback and metric, and a mainland-China outage that fails closed. Stops the server at the end
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

section "Where the client is: a client in Sao Paulo (--location) gets br-gru first"
ctl get --country BR --location -23.55,-46.63 --client_id demo-client
first_dc() { "${ctl}" "$@" | awk '$1 == "primary" && $2 == "1" { print $3 }'; }
echo "first DC for 20 Brazilian client ids, without a location: $(for k in $(seq 20); do first_dc get --country BR --client_id "c${k}"; done | sort | uniq -c | xargs)"
echo "first DC for the same 20, located in Sao Paulo:          $(for k in $(seq 20); do first_dc get --country BR --location -23.55,-46.63 --client_id "c${k}"; done | sort | uniq -c | xargs)"

section "A Seattle client by subdivision (US-WA has a point near Seattle in world.yaml): us-sjc first"
ctl get --country US --subdivision US-WA --client_id demo-client

section "The client's own measurements win: it measured us-den at 12 ms (--rtt), so us-den comes first"
ctl explain --country US --subdivision US-WA --rtt us-den=12 --client_id demo-client

section "Gradual spillover: br-gru at congestion 0.80 (spill_start 0.70, congested at 0.85)"
ctl report-health --dc br-gru --status healthy --congestion 0.1 >/dev/null
ctl report-health --dc br-gru --status healthy --congestion 0.80
moved=0; example=""
for k in $(seq 40); do
  if [[ "$(first_dc get --country BR --location -23.55,-46.63 --client_id "c${k}")" == mx-qro ]]; then
    moved=$((moved + 1)); example="${example:-c${k}}"
  fi
done
echo "${moved} of 40 Sao Paulo clients now get mx-qro first (expected share (0.80-0.70)/(0.85-0.70) = 67%; the same clients every time). Client ${example}:"
ctl explain --country BR --location -23.55,-46.63 --client_id "${example:-c1}" | grep -E 'DC |br-gru|mx-qro'
ctl report-health --dc br-gru --status healthy --congestion 0.1 >/dev/null

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
