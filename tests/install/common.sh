# Shared by the install tests (sourced): logging, a temporary directory and clean-up steps run at
# exit whatever happens, and a real dcdir-server on free loopback ports.
set -euo pipefail

log() { echo "[$(basename "$0")] $*" >&2; }
fail() {
  log "FAIL: $*"
  exit 1
}

TMP="$(mktemp -d /tmp/dcdir-install-test.XXXXXX)"
CLEANUP=()  # shell commands, run last first at exit (also on failure or a signal)
cleanup() {
  local rc=$?
  for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do eval "${CLEANUP[i]}" || true; done
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Two distinct free loopback ports (bound and released; nothing else should grab them in the
# few milliseconds before the server does).
free_ports() {
  /usr/bin/python3 - <<'PYEOF'
import socket
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PYEOF
}

# start_server SERVER_BIN WORLD_YAML: runs the server on loopback until the script exits and
# waits (up to 10 s) until it listens. Sets SERVER (host:port), METRICS_PORT and SERVER_PID.
start_server() {
  local bin="$1" world="$2" grpc_port
  read -r grpc_port METRICS_PORT < <(free_ports)
  "$bin" --config="$world" --grpc_host=127.0.0.1 --grpc_port="$grpc_port" \
    --metrics_host=127.0.0.1 --metrics_port="$METRICS_PORT" >"$TMP/server.log" 2>&1 &
  SERVER_PID=$!
  CLEANUP+=("kill -TERM $SERVER_PID 2>/dev/null; wait $SERVER_PID 2>/dev/null")
  SERVER="127.0.0.1:$grpc_port"
  for _ in $(seq 100); do
    grep -q "listening on" "$TMP/server.log" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || fail "$bin exited at start: $(cat "$TMP/server.log")"
    sleep 0.1
  done
  fail "$bin did not listen within 10 s: $(cat "$TMP/server.log")"
}

# report_healthy DCDIRCTL DC...: reports each DC HEALTHY (congestion 0) to $SERVER.
report_healthy() {
  local ctl="$1" dc
  shift
  for dc in "$@"; do
    "$ctl" --server "$SERVER" report-health --dc "$dc" --status healthy --ttl 10m >/dev/null ||
      fail "dcdirctl report-health --dc $dc failed"
  done
}

# resolver_transcript APP: runs the sample app against $SERVER as a US client, a malformed
# country and a mainland-China client; prints each command (address as ADDR), its output
# (stdout and stderr) and exit code. testdata/resolver-app.transcript is the expected result
# when only us-den, ca-yyz and ca-yvr are healthy.
resolver_transcript() {
  local app="$1" args rc
  for args in "US client-1" "USA" "CN client-1"; do
    echo "\$ resolver-app ADDR $args"
    rc=0
    # shellcheck disable=SC2086  # args is a list of words
    "$app" "$SERVER" $args 2>&1 || rc=$?
    echo "exit $rc"
  done
}

# expect_same EXPECTED_FILE ACTUAL_FILE WHAT: fails with a diff unless they are equal.
expect_same() {
  if ! diff -u "$1" "$2" >"$TMP/diff.txt"; then
    cat "$TMP/diff.txt" >&2
    fail "$3 differs from $1 (diff above: - expected, + actual)"
  fi
  log "ok: $3 ($(wc -l <"$2") lines, as expected)"
}
