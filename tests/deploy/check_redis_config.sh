#!/usr/bin/env bash
# Runs the in-chart Redis init script (helm/dcdir/files/redis-init.sh, as rendered into
# deploy/k8s) for pod 0 and pod 1 and starts the real Debian redis-server / redis-sentinel on
# what it wrote, on loopback: pod 0's redis becomes the master, pod 1's its replica (password
# from the "secret"), and pod 1's sentinel monitors the master and sees the replica, which needs
# the auth-pass to work. Cluster DNS names are mapped to 127.0.0.1 and free ports, and paths to
# a temp dir; everything else is the generated config as is.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_tools
for t in redis-server redis-sentinel redis-cli; do
  command -v "${t}" >/dev/null || { echo "missing ${t} (apt-get install redis-server redis-sentinel)" >&2; exit 2; }
done

work="$(mktemp -d)"
cleanup() {
  local f pid
  for f in "${work}"/*.pid; do
    [[ -f "${f}" ]] || continue
    pid="$(cat "${f}")"
    # SIGTERM makes redis save first; it does not exit when that fails: ask for no save.
    case "$(basename "${f}")" in
      master.pid) REDISCLI_AUTH="${password:-}" redis-cli -h 127.0.0.1 -p "${master_port:-0}" shutdown nosave >/dev/null 2>&1 ;;
      replica.pid) REDISCLI_AUTH="${password:-}" redis-cli -h 127.0.0.1 -p "${replica_port:-0}" shutdown nosave >/dev/null 2>&1 ;;
    esac
    kill "${pid}" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.1; done
    kill -9 "${pid}" 2>/dev/null || true
  done
  rm -rf "${work}" || true
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
master_port="$(free_port)"
replica_port="$(free_port)"
sentinel_port="$(free_port)"
password="pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s' "${password}" >"${work}/password"

# The init script as the chart renders it (default values).
render --show-only templates/redis/configmap.yaml |
  node -e 'const Y=require("yaml");process.stdout.write(Y.parse(require("fs").readFileSync(0,"utf8")).data["init.sh"])' \
    >"${work}/init.sh"
grep -q 'sentinel monitor' "${work}/init.sh" || fail "rendered init.sh has no sentinel monitor line"

for pod in 0 1; do
  mkdir -p "${work}/pod${pod}/conf" "${work}/pod${pod}/data"
  sed -e "s#/conf/#${work}/pod${pod}/conf/#g" -e "s#^dir /conf#dir ${work}/pod${pod}/conf#" \
      -e "s#^dir /data#dir ${work}/pod${pod}/data#" -e "s#/run/secrets/redis/password#${work}/password#" \
      "${work}/init.sh" >"${work}/pod${pod}/init.sh"
  # No sentinel answers yet: pod 0 must pick itself, pod 1 must follow pod 0.
  POD_NAME="dcdir-redis-${pod}" sh "${work}/pod${pod}/init.sh" 2>"${work}/pod${pod}/init.log" ||
    fail "init.sh failed for pod ${pod}: $(cat "${work}/pod${pod}/init.log")"
done
grep -q '^replicaof' "${work}/pod0/conf/redis.conf" && fail "pod 0 config is a replica on a fresh install"
grep -qx 'replicaof dcdir-redis-0.dcdir-redis-headless 6379' "${work}/pod1/conf/redis.conf" ||
  fail "pod 1 does not replicate pod 0"
grep -qx "requirepass \"${password}\"" "${work}/pod0/conf/redis.conf" || fail "requirepass is not the secret"
grep -qx 'sentinel monitor dcdir dcdir-redis-0.dcdir-redis-headless 6379 2' "${work}/pod1/conf/sentinel.conf" ||
  fail "sentinel does not monitor pod 0 with quorum 2"

# Loopback instead of cluster DNS.
sed -i -e "s/^port 6379$/port ${replica_port}/" -e 's/^bind .*/bind 127.0.0.1/' \
    -e "s/^replicaof dcdir-redis-0.dcdir-redis-headless 6379$/replicaof 127.0.0.1 ${master_port}/" \
    -e '/^replica-announce-/d' "${work}/pod1/conf/redis.conf"
sed -i -e "s/^port 6379$/port ${master_port}/" -e 's/^bind .*/bind 127.0.0.1/' -e '/^replica-announce-/d' \
    "${work}/pod0/conf/redis.conf"
sed -i -e "s/^port 26379$/port ${sentinel_port}/" -e 's/^bind .*/bind 127.0.0.1/' \
    -e '/^sentinel announce-/d' \
    -e "s/^sentinel monitor dcdir dcdir-redis-0.dcdir-redis-headless 6379 2$/sentinel monitor dcdir 127.0.0.1 ${master_port} 1/" \
    "${work}/pod1/conf/sentinel.conf"

redis-server "${work}/pod0/conf/redis.conf" --daemonize yes --pidfile "${work}/master.pid" \
  --logfile "${work}/master.log" || fail "redis-server rejected pod 0's config"
redis-server "${work}/pod1/conf/redis.conf" --daemonize yes --pidfile "${work}/replica.pid" \
  --logfile "${work}/replica.log" || fail "redis-server rejected pod 1's config"
redis-sentinel "${work}/pod1/conf/sentinel.conf" --daemonize yes --pidfile "${work}/sentinel.pid" \
  --logfile "${work}/sentinel.log" || fail "redis-sentinel rejected pod 1's config"

# Poll (no fixed sleeps) until the condition holds or ~20 s pass.
wait_for() { # description, command...
  local what="$1"; shift
  for _ in $(seq 1 200); do
    if "$@" >/dev/null 2>&1; then echo "ok: ${what}"; return 0; fi
    sleep 0.1
  done
  echo "--- logs" >&2; tail -n 5 "${work}"/*.log >&2
  fail "${what}"
}
rcli() { REDISCLI_AUTH="${password}" redis-cli -h 127.0.0.1 "$@"; }
wait_for "master answers with the password" bash -c "REDISCLI_AUTH='${password}' redis-cli -h 127.0.0.1 -p ${master_port} ping | grep -qx PONG"
[[ "$(redis-cli -h 127.0.0.1 -p "${master_port}" ping 2>&1)" == *NOAUTH* ]] || fail "master answers without the password"
wait_for "replica linked to the master" bash -c "REDISCLI_AUTH='${password}' redis-cli -h 127.0.0.1 -p ${replica_port} info replication | grep -q master_link_status:up"
rcli -p "${master_port}" set dcdir:probe replicated >/dev/null
wait_for "write replicated" bash -c "[[ \$(REDISCLI_AUTH='${password}' redis-cli -h 127.0.0.1 -p ${replica_port} get dcdir:probe) == replicated ]]"
[[ "$(rcli -p "${master_port}" config get maxmemory-policy | tail -n 1)" == noeviction ]] || fail "maxmemory-policy is not noeviction"
# A master cut off from its replicas stops accepting writes after min-replicas-max-lag.
[[ "$(rcli -p "${master_port}" config get min-replicas-to-write | tail -n 1)" == 1 ]] || fail "min-replicas-to-write is not 1"
[[ "$(rcli -p "${master_port}" config get min-replicas-max-lag | tail -n 1)" == 5 ]] || fail "min-replicas-max-lag is not 5"
[[ "$(redis-cli -h 127.0.0.1 -p "${sentinel_port}" sentinel get-master-addr-by-name dcdir | tr '\n' ' ')" == "127.0.0.1 ${master_port} " ]] ||
  fail "sentinel does not report the master"
echo "ok: generated redis.conf and sentinel.conf work with $(redis-server --version | awk '{ print $3 }')"
wait_for "sentinel sees the replica (auth-pass works)" bash -c \
  "redis-cli -h 127.0.0.1 -p ${sentinel_port} sentinel replicas dcdir | grep -qx ${replica_port}"
