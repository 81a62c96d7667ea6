#!/usr/bin/env bash
# dcdir's benchmarks in one run: throughput (h2load) against dcdir-server, the callback greeter
# (the ceiling of the gRPC stack) and etcd (a serializable Range of the same precomputed answer),
# alternated over several rounds, medians and same-run ratios; success proven from dcdir's
# /metrics; latency at 50% and 90% of the measured dcdir max (dcdir_load_client); RSS idle and
# under load; time from process start to answering; the core and propagation benchmarks.
#
#   scripts/bench.sh [--quick] [--no-install] [--build_dir=DIR] [--write_docs]
#
# --quick        small counts (CI smoke, < 60 s; no thresholds).
# --no-install   do not run scripts/install-deps.sh test (CI: already installed).
# --write_docs   replace the section between the bench.sh markers in docs/BENCHMARKS.md.
# Prints the results as markdown. Every server listens on free loopback ports and is stopped
# (by its pid) on exit. etcd is skipped (and said so) if it is not installed.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"

quick=0; install=1; write_docs=0; build_dir="${BUILD_DIR:-build-bench}"
for a in "$@"; do
  case "${a}" in
    --quick) quick=1 ;;
    --no-install) install=0 ;;
    --write_docs) write_docs=1 ;;
    --build_dir=*) build_dir="${a#--build_dir=}" ;;
    *) echo "usage: $0 [--quick] [--no-install] [--build_dir=DIR] [--write_docs]" >&2; exit 2 ;;
  esac
done

if ((quick)); then
  rounds=1; h2_n=2000; lat_seconds=0.5; lat_rounds=1; probe_rate=500; h2_max_n=5000
  core_args=(--benchmark_min_time=0.01)
  prop_args=(--changes=20 --seconds=0.3 --threads=2)
else
  rounds=5; h2_n=60000; lat_seconds=5; lat_rounds=3; probe_rate=1000; h2_max_n=100000
  core_args=(--benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
  prop_args=(--changes=300 --seconds=2 --threads=4)
fi

((install)) && scripts/install-deps.sh test >&2
log() { echo "bench: $*" >&2; }

# ---- build
targets=(dcdir-server dcdirctl dcdir-agent dcdir_bench_greeter dcdir_load_client dcdir_core_bench
  dcdir_world_gen)
if [[ ! -x "${build_dir}/service/dcdir-server" || "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  cmake -S . -B "${build_dir}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDCDIR_BUILD_BENCHMARKS=ON \
    >/dev/null
  cmake --build "${build_dir}" -j2 --target "${targets[@]}" >&2
  cmake --build "${build_dir}" -j2 --target dcdir_propagation_bench >&2 2>/dev/null || true
fi
find_bin() { find "${build_dir}" -name "$1" -type f -perm -u+x | head -1; }
server_bin="$(find_bin dcdir-server)"; ctl_bin="$(find_bin dcdirctl)"
agent_bin="$(find_bin dcdir-agent)"; greeter_bin="$(find_bin dcdir_bench_greeter)"
load_bin="$(find_bin dcdir_load_client)"; core_bin="$(find_bin dcdir_core_bench)"
prop_bin="$(find_bin dcdir_propagation_bench)"; world_gen_bin="$(find_bin dcdir_world_gen)"

# ---- processes, cleaned up by pid
workdir="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "${p}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "${p}" 2>/dev/null || true; done
  rm -rf "${workdir}"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
now_ns() { date +%s%N; }
rss_kb() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, clock ticks
mib() { awk -v kb="$1" 'BEGIN {printf "%.1f", kb/1024}'; }

# ---- dcdir-server on the example world; start-up = launch -> grpc.health.v1 Check says SERVING,
# polled every ms by dcdir_load_client --wait_serving, itself launched just before the server.
head -c 24 /dev/urandom | base64 >"${workdir}/token"
grpc_port="$(free_port)"; metrics_port="$(free_port)"
export DCDIR_SERVER="127.0.0.1:${grpc_port}"
# The waiter polls first (its own process start-up and channel are not counted); the clock starts
# just before the server is launched.
"${load_bin}" --target="${DCDIR_SERVER}" --wait_serving=20 --ready_file="${workdir}/waiter.ready" \
  >"${workdir}/serving.txt" &
waiter_pid=$!
for _ in $(seq 1000); do [[ -e "${workdir}/waiter.ready" ]] && break; sleep 0.01; done
t0="$(now_ns)"
"${server_bin}" --config=deploy/config/world.yaml --grpc_host=127.0.0.1 --grpc_port="${grpc_port}" \
  --metrics_host=127.0.0.1 --metrics_port="${metrics_port}" \
  --auth_token_file="${workdir}/token" >"${workdir}/server.log" 2>&1 &
server_pid=$!; pids+=("${server_pid}")
if ! wait "${waiter_pid}"; then
  cat "${workdir}/server.log" >&2; log "dcdir-server did not become SERVING"; exit 1
fi
startup_ms="$(awk -v t0="${t0}" '{for (i=1;i<=NF;i++) if ($i ~ /^serving_at_ns=/) {split($i,a,"="); printf "%.1f", (a[2]-t0)/1e6}}' "${workdir}/serving.txt")"
ctl() { "${ctl_bin}" --token_file "${workdir}/token" "$@"; }
for _ in $(seq 100); do ctl list >/dev/null 2>&1 && break; sleep 0.05; done

"${agent_bin}" --server "${DCDIR_SERVER}" --token_file "${workdir}/token" \
  --config deploy/config/world.yaml --simulate --once --seed 7 --outage_probability 0 >/dev/null
ctl tenant set --tenant acme --home_region us --allowed_regions us,ca >/dev/null
client_id="bench-client-0001"
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

# ---- request bodies: gRPC frame (0, 4-byte big-endian length) + hand-encoded proto
python3 - "${workdir}" "${client_id}" <<'EOF'
import struct, sys
d, client_id = sys.argv[1], sys.argv[2].encode()
def field(n, b): return bytes([n << 3 | 2, len(b)]) + b
def frame(m): return b"\0" + struct.pack(">I", len(m)) + m
answer = open(f"{d}/answer.bin", "rb").read()
key = b"/dcdir/answer/US/acme"
# dcdir.v1.GetDirectoryRequest{client_country=1, tenant_id=2, client_id=3}
open(f"{d}/get.req", "wb").write(frame(field(1, b"US") + field(2, b"acme") + field(3, client_id)))
# etcdserverpb.RangeRequest{key=1, serializable=7 (varint true)}
open(f"{d}/range.req", "wb").write(frame(field(1, key) + bytes([7 << 3 | 0, 1])))
# etcdserverpb.PutRequest{key=1, value=2}; the value is longer than 127 bytes: varint length
def varint(n):
    out = b""
    while True:
        b = n & 0x7F; n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n: return out
put = field(1, key) + bytes([2 << 3 | 2]) + varint(len(answer)) + answer
open(f"{d}/put.req", "wb").write(frame(put))
EOF

h2() {  # h2() URL REQFILE N [h2load options] -> prints "rate succeeded"
  local url="$1" req="$2" n="$3"; shift 3
  local opts=(-c 8 -m 16 -t 2); (($# > 0)) && opts=("$@")
  h2load -n "${n}" "${opts[@]}" -H 'content-type: application/grpc' -H 'te: trailers' \
    -d "${req}" "${url}" 2>&1 | awk '
      /^finished in/ {gsub(",", "", $4); rate=$4}
      /^requests:/ {ok=$8}
      END {print rate, ok}'
}
wait_grpc() {  # wait_grpc URL REQFILE: until one h2load request gets HTTP 200
  for _ in $(seq 200); do
    [[ "$(h2 "$1" "$2" 1 -c 1 -m 1 -t 1 | awk '{print $2}')" == 1 ]] && return 0
    sleep 0.05
  done
  return 1
}
ok_count() {
  curl -s "http://127.0.0.1:${metrics_port}/metrics" |
    awk '/^dcdir_directory_requests_total\{/ && /code="OK"/ {s+=$2} END {printf "%d", s}'
}
notok_count() {
  curl -s "http://127.0.0.1:${metrics_port}/metrics" |
    awk '/^dcdir_directory_requests_total\{/ && !/code="OK"/ {s+=$2} END {printf "%d", s}'
}

dcdir_url="http://127.0.0.1:${grpc_port}/dcdir.v1.DirectoryService/GetDirectory"
greeter_url="http://127.0.0.1:${greeter_port}/dcdir.v1.DirectoryService/GetDirectory"
wait_grpc "${greeter_url}" "${workdir}/get.req" || { log "greeter did not start"; exit 1; }
stock_url="http://127.0.0.1:${stock_port}/dcdir.v1.DirectoryService/GetDirectory"
wait_grpc "${stock_url}" "${workdir}/get.req" || { log "stock greeter did not start"; exit 1; }
if ((have_etcd)); then
  etcd_url="http://127.0.0.1:${etcd_port}/etcdserverpb.KV/Range"
  if wait_grpc "http://127.0.0.1:${etcd_port}/etcdserverpb.KV/Put" "${workdir}/put.req"; then
    # Check the Range answer carries the value (kvs[0].value) before timing it.
    got="$(curl -s "http://127.0.0.1:${etcd_port}/v3/kv/range" \
      -d "{\"key\":\"$(printf '/dcdir/answer/US/acme' | base64 -w0)\",\"serializable\":true}" |
      python3 -c 'import json,sys,base64; print(len(base64.b64decode(json.load(sys.stdin)["kvs"][0]["value"])))')"
    [[ "${got}" == "$(stat -c %s "${workdir}/answer.bin")" ]] || { log "etcd value mismatch"; have_etcd=0; }
  else
    log "etcd did not start; skipping it"; have_etcd=0
  fi
else
  log "etcd not installed (Debian etcd-server); skipping the etcd peer"
fi
etcd_ok_before=0
etcd_ok() {
  curl -s "http://127.0.0.1:${etcd_port}/metrics" |
    awk '/^grpc_server_handled_total\{/ && /grpc_code="OK"/ && /grpc_method="Range"/ {s+=$2} END {printf "%d", s}'
}
((have_etcd)) && etcd_ok_before="$(etcd_ok)"

# ---- throughput: alternate dcdir / greeter / etcd, `rounds` times
dcdir_rates=(); greeter_rates=(); etcd_rates=(); dcdir_sent=0; etcd_sent=0
ok_before="$(ok_count)"; notok_before="$(notok_count)"
dcdir_ticks=0; greeter_ticks=0; greeter_sent=0; stock_rates=(); stock_ticks=0; stock_sent=0
for r in $(seq "${rounds}"); do
  c0="$(cpu_ticks "${server_pid}")"
  read -r rate ok < <(h2 "${dcdir_url}" "${workdir}/get.req" "${h2_n}")
  dcdir_ticks=$((dcdir_ticks + $(cpu_ticks "${server_pid}") - c0))
  dcdir_rates+=("${rate}"); dcdir_sent=$((dcdir_sent + ok))
  c0="$(cpu_ticks "${greeter_pid}")"
  read -r rate ok < <(h2 "${greeter_url}" "${workdir}/get.req" "${h2_n}")
  greeter_ticks=$((greeter_ticks + $(cpu_ticks "${greeter_pid}") - c0))
  greeter_rates+=("${rate}"); greeter_sent=$((greeter_sent + ok))
  c0="$(cpu_ticks "${stock_pid}")"
  read -r rate ok < <(h2 "${stock_url}" "${workdir}/get.req" "${h2_n}")
  stock_ticks=$((stock_ticks + $(cpu_ticks "${stock_pid}") - c0))
  stock_rates+=("${rate}"); stock_sent=$((stock_sent + ok))
  if ((have_etcd)); then
    read -r rate ok < <(h2 "${etcd_url}" "${workdir}/range.req" "${h2_n}")
    etcd_rates+=("${rate}"); etcd_sent=$((etcd_sent + ok))
  fi
  log "round ${r}: dcdir ${dcdir_rates[-1]} greeter ${greeter_rates[-1]} stock ${stock_rates[-1]} etcd ${etcd_rates[*]: -1} req/s"
done
ok_delta=$(( $(ok_count) - ok_before )); notok_delta=$(( $(notok_count) - notok_before ))
etcd_ok_delta=0; ((have_etcd)) && etcd_ok_delta=$(( $(etcd_ok) - etcd_ok_before ))
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a/b; else print "-"}'; }
rates_fmt() { printf '%.0f ' "$@"; }
dcdir_med="$(median "${dcdir_rates[@]}")"; greeter_med="$(median "${greeter_rates[@]}")"
etcd_med="-"; ((have_etcd)) && etcd_med="$(median "${etcd_rates[@]}")"
r_greeter="$(ratio "${dcdir_med}" "${greeter_med}")"; r_etcd="-"
stock_med="$(median "${stock_rates[@]}")"; r_stock="$(ratio "${dcdir_med}" "${stock_med}")"
((have_etcd)) && r_etcd="$(ratio "${dcdir_med}" "${etcd_med}")"
hz="$(getconf CLK_TCK)"
us_per() { awk -v t="$1" -v n="$2" -v hz="${hz}" 'BEGIN {if (n > 0) printf "%.1f", t*1e6/hz/n; else print "-"}'; }
dcdir_cpu_us="$(us_per "${dcdir_ticks}" "${dcdir_sent}")"; greeter_cpu_us="$(us_per "${greeter_ticks}" "${greeter_sent}")"
r_cpu="$(ratio "${dcdir_cpu_us}" "${greeter_cpu_us}")"
stock_cpu_us="$(us_per "${stock_ticks}" "${stock_sent}")"; r_cpu_stock="$(ratio "${dcdir_cpu_us}" "${stock_cpu_us}")"
load_hwm="$(rss_kb "${server_pid}" VmHWM)"; load_rss="$(rss_kb "${server_pid}" VmRSS)"
greeter_hwm="$(rss_kb "${greeter_pid}" VmHWM)"

# ---- latency. Set-up (docs/BENCHMARKS.md, "Latency"): the server under test pinned to CPU 0, every
# client pinned to CPU 1, all SCHED_FIFO when this user may (else plain, and the report says so), so
# other work on a shared machine does not preempt them. "max" is the server's own max in that
# pinned set-up, driven by h2load (cheap per request, so it saturates CPU 0, not CPU 1). Then
# h2load --rps supplies the background load at 50% / 90% of dcdir's max while dcdir_load_client
# (FIFO above h2load) probes the latency at a low fixed rate, open loop, latency from each call's
# *scheduled* start. Same rates against the greeter, alternated rounds, medians.
ncpu="$(nproc)"; can_pin=0; can_rt=0
if ((ncpu >= 2)) && command -v taskset >/dev/null; then can_pin=1; fi
if command -v chrt >/dev/null && chrt -f 1 true 2>/dev/null; then can_rt=1; fi
pin_server() {  # pin_server PID: all its threads to CPU 0, SCHED_FIFO 1
  if ((can_pin)); then taskset -a -p -c 0 "$1" >/dev/null; fi
  if ((can_rt)); then chrt -a -f -p 1 "$1" >/dev/null; fi
}
unpin_server() {
  if ((can_pin)); then taskset -a -p -c "0-$((ncpu - 1))" "$1" >/dev/null; fi
  if ((can_rt)); then chrt -a -o -p 0 "$1" >/dev/null; fi
}
on_client() {  # on_client FIFO_PRIORITY CMD...: on CPU 1 (and FIFO) when possible
  local prio="$1"; shift
  local pre=()
  if ((can_pin)); then pre+=(taskset -c 1); fi
  if ((can_rt)); then pre+=(chrt -f "${prio}"); fi
  "${pre[@]}" "$@"
}
setup_desc="no pinning (fewer than 2 CPUs or no taskset), normal priority"
if ((can_pin && can_rt)); then
  setup_desc="server pinned to CPU 0, clients to CPU 1, all SCHED_FIFO (h2load priority 1, probe 2)"
elif ((can_pin)); then
  setup_desc="server pinned to CPU 0, clients to CPU 1, normal priority (no permission for SCHED_FIFO)"
fi
declare -A L
L[wakeup]="$(on_client 2 "${load_bin}" --probe_wakeup="${lat_seconds}")"
log "wake-up floor: ${L[wakeup]}"
h2max() {  # h2max URL -> closed-loop req/s from CPU 1
  on_client 1 h2load -n "${h2_max_n}" -c 4 -m 16 -t 1 -H 'content-type: application/grpc' \
    -H 'te: trailers' -d "${workdir}/get.req" "$1" 2>&1 |
    awk '/^finished in/ {gsub(",", "", $4); printf "%.0f", $4}'
}
# probe URL_PORT BG_RATE [extra load_client flags] -> the probe's line, plus " bg_rate=.. bg_ok=.."
probe() {
  local port="$1" bg="$2"; shift 2
  local url="http://127.0.0.1:${port}/dcdir.v1.DirectoryService/GetDirectory" bgpid=""
  if ((bg >= 4)); then
    on_client 1 h2load -D "$(awk -v s="${lat_seconds}" 'BEGIN {printf "%d", s + 1.999}')" --warm-up-time=1 \
      -c 4 -m 16 -t 1 --rps="$((bg / 4))" -H 'content-type: application/grpc' -H 'te: trailers' \
      -d "${probe_req}" "${url}" >"${workdir}/bg.txt" 2>&1 &
    bgpid=$!
    sleep 1.2
  fi
  local line
  line="$(on_client 2 "${load_bin}" --target="127.0.0.1:${port}" --rate="${probe_rate}" \
    --channels=1 --outstanding=64 --seconds="${lat_seconds}" --warmup=0 --country=US \
    --tenant=acme --client_id="${client_id}" "$@" || true)"
  if [[ -n "${bgpid}" ]]; then
    wait "${bgpid}" || true
    line+=" $(awk '/^finished in/ {gsub(",", "", $4); r=$4} /^requests:/ {ok=$8}
      END {printf "bg_rate=%.0f bg_ok=%d", r, ok}' "${workdir}/bg.txt")"
  fi
  echo "${line}"
}
field() { sed -n "s/.*[ ^]$1=\([^ ]*\).*/\1/p" <<<" $2"; }
snapshot_version() {
  curl -s "http://127.0.0.1:${metrics_port}/metrics" | awk '/^dcdir_snapshot_version/ {printf "%d", $2}'
}
probe_req="${workdir}/get.req"
flip_dcs="us-nyc,eu-ams,jp-tyo,au-syd"  # 50/s over 4 DCs: under the 20/s per-DC report limit
pin_server "${server_pid}"; pin_server "${greeter_pid}"; pin_server "${stock_pid}"
L[dcdir,max]="$(h2max "${dcdir_url}")"; L[greeter,max]="$(h2max "${greeter_url}")"
L[stock,max]="$(h2max "${stock_url}")"
log "pinned max: dcdir ${L[dcdir,max]} greeter ${L[greeter,max]} stock ${L[stock,max]} req/s"
lat_keys=(dcdir,idle greeter,idle stock,idle dcdir,50 greeter,50 stock,50 dcdir,50,flips
  dcdir,90 greeter,90 stock,90)
declare -A LR  # key -> space-separated lines of the rounds, joined by '|'
v_before="$(snapshot_version)"; flips_sent=0
for r in $(seq "${lat_rounds}"); do
  for key in "${lat_keys[@]}"; do
    IFS=, read -r who pct extra <<<"${key}"
    port="${grpc_port}"; [[ "${who}" == greeter ]] && port="${greeter_port}"
    [[ "${who}" == stock ]] && port="${stock_port}"
    bg=0
    if [[ "${pct}" != idle ]]; then
      bg="$(awk -v m="${L[dcdir,max]}" -v p="${pct}" -v q="${probe_rate}" 'BEGIN {printf "%d", m*p/100 - q}')"
    fi
    args=()
    [[ "${extra:-}" == flips ]] && args=(--flip_rate=50 --flip_dcs="${flip_dcs}" --token_file="${workdir}/token")
    line="$(probe "${port}" "${bg}" "${args[@]}")"
    flips_sent=$((flips_sent + $(field flips_ok "${line}")))
    LR[${key}]+="${line}|"
    log "latency round ${r} ${key}: ${line}"
  done
done
rebuilds="$(( $(snapshot_version) - v_before ))"
unpin_server "${server_pid}"; unpin_server "${greeter_pid}"; unpin_server "${stock_pid}"
after_lat_hwm="$(rss_kb "${server_pid}" VmHWM)"
# med KEY FIELD -> median of FIELD over the rounds
med() {
  local vals=() line
  IFS='|' read -r -a lines <<<"${LR[$1]}"
  local v
  for line in "${lines[@]}"; do
    [[ -n "${line}" ]] || continue
    v="$(field "$2" "${line}")"; [[ -n "${v}" ]] && vals+=("${v}")
  done
  if ((${#vals[@]} == 0)); then echo "-"; else median "${vals[@]}"; fi
}
rounds_of() {
  local vals=() line
  IFS='|' read -r -a lines <<<"${LR[$1]}"
  for line in "${lines[@]}"; do [[ -n "${line}" ]] && vals+=("$(field "$2" "${line}")"); done
  echo "${vals[*]}"
}

# ---- the 1,000-DC / 200-region world (tests/testing/synthetic_world.h as YAML): RSS idle and
# under load, GetDirectory throughput against the example-world server in the same run (alternated).
"${world_gen_bin}" --regions=200 --dcs_per_region=5 --seed=1 --out="${workdir}/world1000.yaml" \
  --print_dcs=1000 >"${workdir}/world1000.dcs"
big_port="$(free_port)"; big_metrics="$(free_port)"
"${load_bin}" --target="127.0.0.1:${big_port}" --wait_serving=20 --ready_file="${workdir}/big.ready" \
  >"${workdir}/big_serving.txt" &
big_waiter=$!
for _ in $(seq 1000); do [[ -e "${workdir}/big.ready" ]] && break; sleep 0.01; done
big_t0="$(now_ns)"
"${server_bin}" --config="${workdir}/world1000.yaml" --grpc_host=127.0.0.1 --grpc_port="${big_port}" \
  --metrics_host=127.0.0.1 --metrics_port="${big_metrics}" \
  --auth_token_file="${workdir}/token" >"${workdir}/big.log" 2>&1 &
big_pid=$!; pids+=("${big_pid}")
wait "${big_waiter}" || { cat "${workdir}/big.log" >&2; log "1,000-DC server did not become SERVING"; exit 1; }
big_startup_ms="$(awk -v t0="${big_t0}" '{for (i=1;i<=NF;i++) if ($i ~ /^serving_at_ns=/) {split($i,a,"="); printf "%.1f", (a[2]-t0)/1e6}}' "${workdir}/big_serving.txt")"
big_before_rss="$(rss_kb "${big_pid}" VmRSS)"
DCDIR_SERVER="127.0.0.1:${big_port}" "${agent_bin}" --server "127.0.0.1:${big_port}" \
  --token_file "${workdir}/token" --config "${workdir}/world1000.yaml" --simulate --once --seed 7 \
  --outage_probability 0 >/dev/null
# A client of region r001 (country AC), no tenant: the 1,000-DC world has no tenants in YAML.
python3 - "${workdir}" "${client_id}" <<'PY'
import struct, sys
d, client_id = sys.argv[1], sys.argv[2].encode()
def field(n, b): return bytes([n << 3 | 2, len(b)]) + b
m = field(1, b"AC") + field(3, client_id)
open(f"{d}/get1000.req", "wb").write(b"\0" + struct.pack(">I", len(m)) + m)
PY
big_url="http://127.0.0.1:${big_port}/dcdir.v1.DirectoryService/GetDirectory"
big_ok() {
  curl -s "http://127.0.0.1:${big_metrics}/metrics" |
    awk '/^dcdir_directory_requests_total\{/ && /code="OK"/ {s+=$2} END {printf "%d", s}'
}
sleep 0.2
big_idle_rss="$(rss_kb "${big_pid}" VmRSS)"; big_idle_hwm="$(rss_kb "${big_pid}" VmHWM)"
# No /metrics scrape before the load: with 200 regions one scrape is ~10 MB of text and its
# transient memory would hide the server's own (reported separately below). The OK counter
# starts at 0: nothing has called GetDirectory on this fresh server yet.
big_rates=(); small_rates=(); big_sent=0; big_ok_before=0
for r in $(seq "${rounds}"); do
  read -r rate ok < <(h2 "${big_url}" "${workdir}/get1000.req" "${h2_n}")
  big_rates+=("${rate}"); big_sent=$((big_sent + ok))
  read -r rate ok < <(h2 "${dcdir_url}" "${workdir}/get.req" "${h2_n}")
  small_rates+=("${rate}")
  log "1,000-DC round ${r}: ${big_rates[-1]} req/s; example world ${small_rates[-1]} req/s"
done
big_med="$(median "${big_rates[@]}")"; small_med="$(median "${small_rates[@]}")"
r_big="$(ratio "${big_med}" "${small_med}")"
big_load_hwm="$(rss_kb "${big_pid}" VmHWM)"; big_load_rss="$(rss_kb "${big_pid}" VmRSS)"
# Rebuilds under load in the 1,000-DC world: probe at 50% of the example-world dcdir max, with and
# without 50 health flips/s (alternated), pinned as above.
big_flip_dcs="$(sed -n '11p;111p;511p;911p' "${workdir}/world1000.dcs" | paste -sd,)"
pin_server "${big_pid}"
big_bg="$(awk -v m="${L[dcdir,max]}" -v q="${probe_rate}" 'BEGIN {printf "%d", m*50/100 - q}')"
probe_req="${workdir}/get1000.req"
big_flips=0
for r in $(seq "${lat_rounds}"); do
  for mode in plain flips; do
    args=(--country=AC --tenant=)
    [[ "${mode}" == flips ]] && args+=(--flip_rate=50 --flip_dcs="${big_flip_dcs}" --token_file="${workdir}/token")
    line="$(probe "${big_port}" "${big_bg}" "${args[@]}")"
    LR[big,${mode}]+="${line}|"
    big_flips=$((big_flips + $(field flips_ok "${line}")))
    big_sent=$((big_sent + $(field ok "${line}") + $(field errors "${line}") + $(field bg_ok "${line}")))
    log "1,000-DC latency round ${r} ${mode}: ${line}"
  done
done
unpin_server "${big_pid}"
big_after_lat_hwm="$(rss_kb "${big_pid}" VmHWM)"
# Now the scrapes: the OK count proof, the snapshot version, and what one scrape costs in memory.
big_metrics_bytes="$(curl -s "http://127.0.0.1:${big_metrics}/metrics" | wc -c)"
big_ok_delta=$(( $(big_ok) - big_ok_before ))
big_notok="$(curl -s "http://127.0.0.1:${big_metrics}/metrics" |
  awk '/^dcdir_directory_requests_total\{/ && !/code="OK"/ {s+=$2} END {printf "%d", s}')"
big_version="$(curl -s "http://127.0.0.1:${big_metrics}/metrics" | awk '/^dcdir_snapshot_version/ {printf "%d", $2}')"
big_scrape_rss="$(rss_kb "${big_pid}" VmRSS)"; big_scrape_hwm="$(rss_kb "${big_pid}" VmHWM)"
big_series="$(curl -s "http://127.0.0.1:${big_metrics}/metrics" | grep -vc '^#')"

# ---- core and propagation benchmarks
core_out="$("${core_bin}" "${core_args[@]}" 2>/dev/null |
  awk '/^BM_/ && ($1 !~ /_(mean|stddev|cv)$/) {printf "%-45s %10s %-3s %10s %s\n", $1, $2, $3, $4, $5}')"
prop_out="(dcdir_propagation_bench not built: needs redis-server and the replica fixture)"
if [[ -n "${prop_bin}" ]] && command -v redis-server >/dev/null; then
  prop_out="$("${prop_bin}" "${prop_args[@]}" 2>&1 | tail -n 20)"
fi

# ---- report
cpu="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
cmdline="scripts/bench.sh $*"
ok_verdict="✔ equal"; [[ "${ok_delta}" == "${dcdir_sent}" && "${notok_delta}" == 0 ]] || ok_verdict="✘ MISMATCH"
row() {  # row NAME KEY: medians over the rounds; p99 of each round in brackets
  printf '| %s | %s | %s | %s | %s (%s) | %s | %s | %s | %s |\n' "$1" "$(med "$2" bg_rate)" \
    "$(med "$2" p50_us)" "$(med "$2" p90_us)" "$(med "$2" p99_us)" "$(rounds_of "$2" p99_us)" \
    "$(med "$2" p999_us)" "$(med "$2" svc_p99_us)" "$(med "$2" lag_p99_us)" \
    "$(awk '{s=0; for (i=1;i<=NF;i++) s+=$i; print s}' <<<"$(rounds_of "$2" errors)")"
}
report="$(cat <<EOF
Command: \`${cmdline}\` ($( ((quick)) && echo "QUICK smoke counts: not figures to quote" || echo "full counts")).
Machine: \`nproc\` = $(nproc), CPU "${cpu}", load average before the run $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/'),
$(date -u '+%Y-%m-%d %H:%M UTC'). Loopback; client and servers share the same $(nproc) cores.

**Throughput** (h2load \`-n ${h2_n} -c 8 -m 16 -t 2\`, same request bytes, ${rounds} alternated round(s), medians):

| server | req/s (median) | rounds | ratio dcdir / this |
|---|---|---|---|
| dcdir-server GetDirectory (example world, US, tenant acme, client id) | $(printf %.0f "${dcdir_med}") | $(rates_fmt "${dcdir_rates[@]}")| 1.00 |
| stock callback greeter (\`--stock\`: gRPC's defaults), same method, fixed answer | $(printf %.0f "${stock_med}") | $(rates_fmt "${stock_rates[@]}")| ${r_stock} |
| the greeter with dcdir's two settings (per-call arena, no Abseil deadlock graph) | $(printf %.0f "${greeter_med}") | $(rates_fmt "${greeter_rates[@]}")| ${r_greeter} |
| etcd ${etcd_version} serializable Range, same answer bytes | ${etcd_med%.*} | ${etcd_rates[*]:--} | ${r_etcd} |

Server CPU per request (utime+stime of the server process over its h2load runs ÷ requests; less
sensitive to the noise of a shared machine than req/s): dcdir ${dcdir_cpu_us} µs, stock greeter
${stock_cpu_us} µs (ratio ${r_cpu_stock}), greeter with dcdir's settings ${greeter_cpu_us} µs (ratio ${r_cpu}).

Success: h2load sent ${dcdir_sent} GetDirectory requests to dcdir; its
\`dcdir_directory_requests_total{code="OK"}\` grew by ${ok_delta}, every other code by ${notok_delta}: ${ok_verdict}.
etcd \`grpc_server_handled_total{grpc_method="Range",grpc_code="OK"}\` grew by ${etcd_ok_delta} for ${etcd_sent} sent.

**Latency** (set-up: ${setup_desc}). Max = closed loop by h2load from CPU 1 (\`-c 4 -m 16 -t 1\`):
dcdir ${L[dcdir,max]} req/s, stock greeter ${L[stock,max]} req/s (ratio $(ratio "${L[dcdir,max]}" "${L[stock,max]}")), greeter with dcdir's settings
${L[greeter,max]} req/s (ratio $(ratio "${L[dcdir,max]}" "${L[greeter,max]}")). Background load: h2load
\`--rps\` at 50% / 90% of dcdir's max (minus the probe); probe: \`dcdir_load_client\` at ${probe_rate} req/s, open
loop, 1 channel, ${lat_seconds} s, latency from each call's *scheduled* start; ${lat_rounds} alternated round(s), medians
(each round's p99 in brackets); µs. "svc p99" counts from the moment the probe handed the call to
gRPC, "lag p99" is how late the probe's own pacer was:

| server @ load | background req/s | p50 | p90 | p99 (rounds) | p99.9 | svc p99 | lag p99 | errors |
|---|---|---|---|---|---|---|---|---|
$(row "dcdir, probe only" "dcdir,idle")
$(row "greeter, probe only" "greeter,idle")
$(row "stock greeter, probe only" "stock,idle")
$(row "dcdir @ 50% of dcdir max" "dcdir,50")
$(row "greeter @ same rate" "greeter,50")
$(row "stock greeter @ same rate" "stock,50")
$(row "dcdir @ 50% + 50 health flips/s (snapshot rebuilds)" "dcdir,50,flips")
$(row "dcdir @ 90%" "dcdir,90")
$(row "greeter @ same rate" "greeter,90")
$(row "stock greeter @ same rate" "stock,90")

Rebuilds: the flips made ${flips_sent} ReportHealth changes; \`dcdir_snapshot_version\` grew by ${rebuilds}
during the latency runs (each change publishes a snapshot). Floor of this machine, same pinning, no
gRPC (\`dcdir_load_client --probe_wakeup\`: a thread sleeping until a slot every 200 µs, how late it
wakes): p50 $(field late_p50_us "${L[wakeup]}") µs, p99 $(field late_p99_us "${L[wakeup]}") µs, p99.9 $(field late_p999_us "${L[wakeup]}") µs, max $(field late_max_us "${L[wakeup]}") µs.

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

**1,000-DC world** (\`dcdir_world_gen --regions=200 --dcs_per_region=5 --seed=1\`: 200 regions, 1,000
DCs, 400 countries, 21 deny rules; client country AC, no tenant): start-up to SERVING ${big_startup_ms} ms;
VmRSS at SERVING $(mib "${big_before_rss}") MiB, idle after the health reports $(mib "${big_idle_rss}") MiB (VmHWM $(mib "${big_idle_hwm}") MiB),
after the h2load rounds VmRSS $(mib "${big_load_rss}") MiB / VmHWM $(mib "${big_load_hwm}") MiB, after the latency runs VmHWM
$(mib "${big_after_lat_hwm}") MiB (no /metrics scrape until then). Then three /metrics scrapes
(${big_metrics_bytes} bytes, ${big_series} series each): VmRSS $(mib "${big_scrape_rss}") MiB, VmHWM $(mib "${big_scrape_hwm}") MiB. Throughput (h2load as above, ${rounds} round(s) alternated with the example-world
server): $(printf %.0f "${big_med}") req/s (rounds $(rates_fmt "${big_rates[@]}")) vs example world $(printf %.0f "${small_med}") req/s: ratio ${r_big};
\`dcdir_directory_requests_total{code="OK"}\` grew by ${big_ok_delta} for ${big_sent} GetDirectory calls that got an answer
(h2load rounds, latency background and probe; h2load does not count the requests of its 1 s
warm-up, so the OK delta is larger by about one second of background per latency run); every
other code: ${big_notok}.
Latency at 50% of the example-world dcdir max, pinned as above, with and without 50 health flips/s
(${big_flips} health changes; \`dcdir_snapshot_version\` at the end ${big_version}, after 1,000 agent reports and the flips):

| 1,000-DC server @ 50% | background req/s | p50 | p90 | p99 (rounds) | p99.9 | svc p99 | lag p99 | errors |
|---|---|---|---|---|---|---|---|---|
$(row "no health changes" "big,plain")
$(row "50 health flips/s (snapshot rebuilds)" "big,flips")

**Core** (\`dcdir_core_bench ${core_args[*]}\`; name, wall, CPU):
\`\`\`
${core_out}
\`\`\`

**Propagation** (\`dcdir_propagation_bench ${prop_args[*]}\`, last lines):
\`\`\`
${prop_out}
\`\`\`
EOF
)"
echo "${report}"

if ((write_docs)); then
  python3 - docs/BENCHMARKS.md "${report}" <<'EOF'
import sys
path, body = sys.argv[1], sys.argv[2]
begin, end = "<!-- bench.sh:begin -->", "<!-- bench.sh:end -->"
text = open(path).read()
if begin in text and end in text:
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    text = head + begin + "\n" + body + "\n" + end + tail
else:
    text = text.rstrip("\n") + "\n\n## Throughput, latency, memory, start-up\n\n" + begin + "\n" + body + "\n" + end + "\n"
open(path, "w").write(text)
EOF
  log "wrote docs/BENCHMARKS.md"
fi
