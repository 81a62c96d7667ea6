#!/usr/bin/env bash
# Secrets never leak: runs the real dcdir-server with a token file and a Redis password file,
# provokes errors (wrong token, no token, unreachable Redis with a password, bad requests), then
# greps the server's log, /metrics and every client-visible error for the token and the password.
#   check_secrets.sh DCDIR_SERVER DCDIRCTL WORLD_YAML
set -u
server_bin=$1 ctl_bin=$2 world=$3
dir=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "${server_pid}" ]]; then kill "${server_pid}" 2>/dev/null; wait "${server_pid}" 2>/dev/null; fi
  rm -rf "${dir}"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

token="tok-SeCrEt-7f3a9c1e52"
password="pw-SeCrEt-b81d04aa6e"
wrong="wrong-SeCrEt-0c9e11"
printf '%s\n' "${token}" >"${dir}/token"
printf '%s\n' "${password}" >"${dir}/password"
printf '%s\n' "${wrong}" >"${dir}/wrong"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
metrics_port=$(free_port)
dead_redis_port=$(free_port)  # nothing listens there

"${server_bin}" --config="${world}" --grpc_host=127.0.0.1 --grpc_port=0 \
  --metrics_host=127.0.0.1 --metrics_port="${metrics_port}" \
  --auth_token_file="${dir}/token" --redis_password_file="${dir}/password" \
  --redis="redis://127.0.0.1:${dead_redis_port}" >"${dir}/server.out" 2>"${dir}/server.err" &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "${dir}/server.err" | head -1)
  [[ -n "${port}" ]] && break
  sleep 0.1
done
[[ -n "${port}" ]] || { cat "${dir}/server.err"; fail "server did not start"; }

ctl() { "${ctl_bin}" --server "127.0.0.1:${port}" --timeout 5s "$@" >>"${dir}/client.out" 2>&1; echo "exit $?" >>"${dir}/client.out"; }
ctl --token_file "${dir}/wrong" report-health --dc us-sjc --status healthy
ctl report-health --dc us-sjc --status healthy
ctl --token_file "${dir}/token" report-health --dc us-sjc --status healthy   # Redis unreachable
ctl --token_file "${dir}/token" report-health --dc no-such-dc --status healthy
ctl --token_file "${dir}/token" tenant get --tenant acme
ctl --token_file "${dir}/wrong" list
ctl --json --token_file "${dir}/wrong" list
ctl get --country US
ctl get --country ZZZ
sleep 1  # a few store retries get logged
curl -fsS "http://127.0.0.1:${metrics_port}/metrics" >"${dir}/metrics" || fail "no /metrics"
kill -TERM "${server_pid}"; wait "${server_pid}"; server_pid=""

# The errors really happened (else this test proves nothing).
grep -q "INVALID_CREDENTIALS\|not valid" "${dir}/client.out" || { cat "${dir}/client.out"; fail "no wrong-token error seen"; }
grep -q "MISSING_CREDENTIALS\|needs" "${dir}/client.out" || fail "no missing-token error seen"
grep -qi "redis\|store" "${dir}/server.err" || fail "no store error logged"
grep -q "dcdir_" "${dir}/metrics" || fail "metrics empty"

leaks=0
for secret in "${token}" "${password}" "${wrong}"; do
  for f in server.err server.out client.out metrics; do
    if grep -qF "${secret}" "${dir}/${f}"; then
      echo "LEAK: ${secret} appears in ${f}:"; grep -F "${secret}" "${dir}/${f}" | head -3
      leaks=1
    fi
  done
done
[[ ${leaks} == 0 ]] || fail "secrets leaked"
echo "PASS: no token or password in $(wc -l <"${dir}/server.err") log lines, $(wc -l <"${dir}/metrics") metric lines, $(grep -c '^exit' "${dir}/client.out") client errors"
