#!/usr/bin/env bash
# End to end with a real Prometheus: a real dcdir-server (example world, in-memory store, audit
# log on) is scraped every second by a real Debian `prometheus` that loads
# deploy/prometheus/dcdir-rules.yaml. The driver (e2e_prometheus.py) reports every DC HEALTHY,
# takes the US DCs down, asks for US clients' directories, then reads
# dcdir_cross_border_fallback_total{client_region="us",dc_region="ca"} and the firing
# DcdirCrossBorderFallback alert through Prometheus' HTTP API, and the audit line.
#
# Usage: e2e_prometheus.sh DCDIR_SERVER_BINARY REPO_ROOT
# Needs: prometheus (scripts/install-prometheus.sh), python3-grpcio + python3-grpc-tools
# (scripts/install-deps.sh test). Everything started here is killed on exit.
set -euo pipefail

SERVER_BIN=${1:?usage: e2e_prometheus.sh DCDIR_SERVER_BINARY REPO_ROOT}
ROOT=${2:?usage: e2e_prometheus.sh DCDIR_SERVER_BINARY REPO_ROOT}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3  # only the system interpreter sees Debian's grpcio

log() { echo "e2e: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

PROMETHEUS=$(command -v prometheus || true)
[[ -z "$PROMETHEUS" && -x /usr/bin/prometheus ]] && PROMETHEUS=/usr/bin/prometheus
[[ -n "$PROMETHEUS" ]] || die "prometheus not installed (run scripts/install-prometheus.sh)"
"$PY" -c 'import grpc, grpc_tools' 2>/dev/null ||
  die "python3-grpcio/python3-grpc-tools not installed (run scripts/install-deps.sh test)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dcdir-e2e.XXXXXX")
PIDS=()
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $rc -ne 0 ]]; then
    for f in server.log prometheus.log audit.log; do
      [[ -f "$TMP/$f" ]] && { log "---- $f (last 30 lines)"; tail -n 30 "$TMP/$f" >&2; }
    done
  fi
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Three distinct free loopback ports (bound and released; nothing else should grab them in the
# few milliseconds before our processes do).
read -r GRPC_PORT METRICS_PORT PROM_PORT < <("$PY" - <<'PYEOF'
import socket
socks = []
for _ in range(3):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PYEOF
)
log "ports: grpc $GRPC_PORT, metrics $METRICS_PORT, prometheus $PROM_PORT; dir $TMP"

# Python stubs, generated now from the contract.
mkdir -p "$TMP/py"
"$PY" -m grpc_tools.protoc -I "$ROOT/proto" --python_out="$TMP/py" --grpc_python_out="$TMP/py" \
  "$ROOT"/proto/dcdir/v1/*.proto

"$SERVER_BIN" --config="$ROOT/deploy/config/world.yaml" \
  --grpc_host=127.0.0.1 --grpc_port="$GRPC_PORT" \
  --metrics_host=127.0.0.1 --metrics_port="$METRICS_PORT" \
  --audit_log="$TMP/audit.log" --audit_window=1s >"$TMP/server.log" 2>&1 &
PIDS+=($!)

cat >"$TMP/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $ROOT/deploy/prometheus/dcdir-rules.yaml
scrape_configs:
  - job_name: dcdir
    scrape_interval: 1s
    metrics_path: /metrics
    static_configs:
      - targets: ["127.0.0.1:$METRICS_PORT"]
YAML
"$PROMETHEUS" --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$TMP/prometheus.log" 2>&1 &
PIDS+=($!)

PYTHONPATH="$TMP/py" "$PY" "$HERE/e2e_prometheus.py" \
  --grpc="127.0.0.1:$GRPC_PORT" --prometheus="http://127.0.0.1:$PROM_PORT" \
  --audit_log="$TMP/audit.log" --requests=3
log "PASS"
