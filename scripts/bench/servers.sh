# bench.sh part: the servers every other part measures, on free loopback ports, by pid:
# dcdir-server on the example world (health from dcdir-agent, tenant acme; start-up time and idle
# RSS), the callback greeter answering the same bytes (with dcdir's settings, and --stock), etcd
# holding the same answer under one key (optional peer), and the request bodies
# (${workdir}/get.req from dcdir_load_client --dump_request; range.req/put.req from
# etcd_requests.py). Sourced by bench.sh after lib.sh; report_memory_startup prints its sections.

head -c 24 /dev/urandom | base64 >"${workdir}/token"
grpc_port="$(free_port)"; metrics_port="$(free_port)"
export DCDIR_SERVER="127.0.0.1:${grpc_port}"
start_dcdir server deploy/config/world.yaml "${grpc_port}" "${metrics_port}"
server_pid="${started_pid}"; startup_ms="${started_ms}"
ctl() { "${ctl_bin}" --token_file "${workdir}/token" "$@"; }
for _ in $(seq 100); do ctl list >/dev/null 2>&1 && break; sleep 0.05; done

"${agent_bin}" --server "${DCDIR_SERVER}" --token_file "${workdir}/token" \
  --config deploy/config/world.yaml --simulate --once --seed 7 --outage_probability 0 >/dev/null
ctl tenant set --tenant acme --home_region us --allowed_regions us,ca >/dev/null
"${load_bin}" --target="${DCDIR_SERVER}" --country=US --tenant=acme --client_id="${client_id}" \
  --dump_response="${workdir}/answer.bin"
sleep 0.2
idle_rss="$(rss_kb "${server_pid}" VmRSS)"; idle_hwm="$(rss_kb "${server_pid}" VmHWM)"

# ---- the greeter, answering the same bytes
greeter_port="$(free_port)"
"${greeter_bin}" --port="${greeter_port}" --response_file="${workdir}/answer.bin" \
  >"${workdir}/greeter.log" 2>&1 &
greeter_pid=$!; pids+=("${greeter_pid}")
# ... and the same greeter as gRPC's callback example has it (default allocator and mutex mode):
# the stock ceiling a user would compare with.
stock_port="$(free_port)"
"${greeter_bin}" --port="${stock_port}" --response_file="${workdir}/answer.bin" --stock \
  >"${workdir}/stock.log" 2>&1 &
stock_pid=$!; pids+=("${stock_pid}")

# ---- etcd holding the same answer under one key (optional peer)
have_etcd=0; etcd_version="(not installed)"
if command -v etcd >/dev/null; then
  etcd_port="$(free_port)"; etcd_peer="$(free_port)"
  etcd --name bench --data-dir "${workdir}/etcd" \
    --listen-client-urls "http://127.0.0.1:${etcd_port}" \
    --advertise-client-urls "http://127.0.0.1:${etcd_port}" \
    --listen-peer-urls "http://127.0.0.1:${etcd_peer}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${etcd_peer}" \
    --initial-cluster "bench=http://127.0.0.1:${etcd_peer}" >"${workdir}/etcd.log" 2>&1 &
  etcd_pid=$!; pids+=("${etcd_pid}"); have_etcd=1
  etcd_version="$(etcd --version | awk '/^etcd Version/ {print $3}')"
fi

# ---- request bodies: gRPC frames (0, 4-byte big-endian length, message)
"${load_bin}" --dump_request="${workdir}/get.req" --country=US --tenant=acme \
  --client_id="${client_id}"
etcd_key=/dcdir/answer/US/acme
python3 scripts/bench/etcd_requests.py "${etcd_key}" "${workdir}/answer.bin" "${workdir}"

dcdir_url="$(getdir_url "${grpc_port}")"
greeter_url="$(getdir_url "${greeter_port}")"
wait_grpc "${greeter_url}" "${workdir}/get.req" || { log "greeter did not start"; exit 1; }
stock_url="$(getdir_url "${stock_port}")"
wait_grpc "${stock_url}" "${workdir}/get.req" || { log "stock greeter did not start"; exit 1; }
if ((have_etcd)); then
  etcd_url="http://127.0.0.1:${etcd_port}/etcdserverpb.KV/Range"
  if wait_grpc "http://127.0.0.1:${etcd_port}/etcdserverpb.KV/Put" "${workdir}/put.req"; then
    # Check the Range answer carries the value (kvs[0].value) before timing it.
    got="$(curl -s "http://127.0.0.1:${etcd_port}/v3/kv/range" \
      -d "{\"key\":\"$(printf '%s' "${etcd_key}" | base64 -w0)\",\"serializable\":true}" |
      python3 -c 'import json,sys,base64; print(len(base64.b64decode(json.load(sys.stdin)["kvs"][0]["value"])))')"
    [[ "${got}" == "$(stat -c %s "${workdir}/answer.bin")" ]] || { log "etcd value mismatch"; have_etcd=0; }
  else
    log "etcd did not start; skipping it"; have_etcd=0
  fi
else
  log "etcd not installed (Debian etcd-server); skipping the etcd peer"
fi

report_memory_startup() {
  cat <<REPORT
**Memory** (dcdir-server, example world, \`/proc/PID/status\`): idle after start-up, health and
tenant: VmRSS $(mib "${idle_rss}") MiB, VmHWM $(mib "${idle_hwm}") MiB; after the h2load rounds: VmRSS
$(mib "${load_rss}") MiB, VmHWM $(mib "${load_hwm}") MiB; after the latency runs VmHWM $(mib "${after_lat_hwm}") MiB
(greeter VmHWM $(mib "${greeter_hwm}") MiB).

**Start-up**: ${startup_ms} ms from launching \`dcdir-server\` (in-memory store, example world, no
Redis) until \`grpc.health.v1.Health/Check\` first answered SERVING, polled every 1 ms by
\`dcdir_load_client --wait_serving\`, which was already running and polling when the server was launched
(so its own ~60 ms process start-up is not counted, as it was before 2026-11-27 22:55). GetDirectory answers
UNAVAILABLE (fail closed) until the first health reports arrive: that is the product contract, not
start-up cost.
REPORT
}
