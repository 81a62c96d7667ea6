# What every part of scripts/bench.sh shares; sourced by bench.sh (not run on its own).
# Needs: build_dir, h2_max_n, max_rounds, lat_seconds, probe_rate, client_id (set by bench.sh).
# Gives: log, find_bin; the work dir and the pids killed (TERM, then waited for) on exit;
# free_port, now_ns, rss_kb, cpu_ticks, mib; start_dcdir (a server and its start-up time);
# dcdir_count (the GetDirectory counters of /metrics); h2, wait_grpc, h2max, probe, field;
# median, ratio, rates_fmt, us_per, med, rounds_of, row; pin_server, unpin_server, on_client.

log() { echo "bench: $*" >&2; }
# The build tree's own binary, never a staged copy (the install test stages one under tests/install).
find_bin() { find "${build_dir}" -name "$1" -type f -perm -u+x -not -path '*/tests/install/*' | head -1; }

# ---- processes, cleaned up by pid
workdir="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "${p}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "${p}" 2>/dev/null || true; done
  rm -rf "${workdir}"
}
trap cleanup EXIT
# forget PID: it was stopped and waited for (so cleanup never signals a reused pid).
forget() { local p kept=(); for p in "${pids[@]}"; do [[ "${p}" == "$1" ]] || kept+=("${p}"); done; pids=("${kept[@]}"); }
trap 'exit 130' INT; trap 'exit 143' TERM  # so that cleanup runs on these too
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
now_ns() { date +%s%N; }
rss_kb() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, clock ticks
mib() { awk -v kb="$1" 'BEGIN {printf "%.1f", kb/1024}'; }

# start_dcdir NAME CONFIG GRPC_PORT METRICS_PORT [SERVER FLAGS..]: dcdir-server (token ${workdir}/token, log
# ${workdir}/NAME.log), added to pids; sets started_pid and started_ms. Start-up = launch ->
# grpc.health.v1 Check says SERVING, polled every ms by dcdir_load_client --wait_serving, itself
# launched and polling first (its own process start-up and channel are not counted); the clock
# starts just before the server is launched.
start_dcdir() {
  local name="$1" config="$2" port="$3" mport="$4" waiter t0
  "${load_bin}" --target="127.0.0.1:${port}" --wait_serving=20 --ready_file="${workdir}/${name}.ready" \
    >"${workdir}/${name}_serving.txt" &
  waiter=$!
  for _ in $(seq 1000); do [[ -e "${workdir}/${name}.ready" ]] && break; sleep 0.01; done
  t0="$(now_ns)"
  "${server_bin}" --config="${config}" --grpc_host=127.0.0.1 --grpc_port="${port}" \
    --metrics_host=127.0.0.1 --metrics_port="${mport}" \
    --auth_token_file="${workdir}/token" "${@:5}" >"${workdir}/${name}.log" 2>&1 &
  started_pid=$!; pids+=("${started_pid}")
  if ! wait "${waiter}"; then
    cat "${workdir}/${name}.log" >&2; log "dcdir-server (${name}) did not become SERVING"; exit 1
  fi
  started_ms="$(awk -v t0="${t0}" '{for (i=1;i<=NF;i++) if ($i ~ /^serving_at_ns=/) {split($i,a,"="); printf "%.1f", (a[2]-t0)/1e6}}' "${workdir}/${name}_serving.txt")"
}
# dcdir_count METRICS_PORT ok|notok: sum of dcdir_directory_requests_total with code OK / not OK.
dcdir_count() {
  local sel='/code="OK"/'; [[ "$2" == notok ]] && sel='!/code="OK"/'
  curl -s "http://127.0.0.1:$1/metrics" |
    awk "/^dcdir_directory_requests_total\\{/ && ${sel} {s+=\$2} END {printf \"%d\", s}"
}
# snapshot_version METRICS_PORT: dcdir_snapshot_version.
snapshot_version() {
  curl -s "http://127.0.0.1:$1/metrics" | awk '/^dcdir_snapshot_version/ {printf "%d", $2}'
}
getdir_url() { echo "http://127.0.0.1:$1/dcdir.v1.DirectoryService/GetDirectory"; }

# ---- h2load
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

# ---- statistics
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a/b; else print "-"}'; }
rates_fmt() { printf '%.0f ' "$@"; }
hz="$(getconf CLK_TCK)"
us_per() { awk -v t="$1" -v n="$2" -v hz="${hz}" 'BEGIN {if (n > 0) printf "%.1f", t*1e6/hz/n; else print "-"}'; }

# ---- pinning. Set-up (docs/BENCHMARKS.md, "Latency"): the server under test pinned to CPU 0,
# every client pinned to CPU 1, all SCHED_FIFO when this user may (else plain, and the report
# says so), so other work on a shared machine does not preempt them.
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

# ---- latency probes
h2max() {  # h2max URL -> closed-loop req/s from CPU 1
  on_client 1 h2load -n "${h2_max_n}" -c 4 -m 16 -t 1 -H 'content-type: application/grpc' \
    -H 'te: trailers' -d "${workdir}/get.req" "$1" 2>&1 |
    awk '/^finished in/ {gsub(",", "", $4); printf "%.0f", $4}'
}
# probe PORT BG_RATE REQFILE [extra load_client flags] -> the probe's line, plus
# " bg_rate=.. bg_ok=..": h2load --rps sends BG_RATE req/s of REQFILE (if >= 4) while
# dcdir_load_client (FIFO above h2load) probes at probe_rate, open loop.
probe() {
  local port="$1" bg="$2" req="$3"; shift 3
  local url bgpid=""
  url="$(getdir_url "${port}")"
  if ((bg >= 4)); then
    on_client 1 h2load -D "$(awk -v s="${lat_seconds}" 'BEGIN {printf "%d", s + 1.999}')" --warm-up-time=1 \
      -c 4 -m 16 -t 1 --rps="$((bg / 4))" -H 'content-type: application/grpc' -H 'te: trailers' \
      -d "${req}" "${url}" >"${workdir}/bg.txt" 2>&1 &
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
declare -A L   # latency figures: L[wakeup], L[WHO,max]
declare -A LR  # key -> the probe lines of the rounds, joined by '|'
med() {  # med KEY FIELD -> median of FIELD over the rounds
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
row() {  # row NAME KEY: a latency table row, medians over the rounds; p99 of each round in brackets
  printf '| %s | %s | %s | %s | %s (%s) | %s | %s | %s | %s |\n' "$1" "$(med "$2" bg_rate)" \
    "$(med "$2" p50_us)" "$(med "$2" p90_us)" "$(med "$2" p99_us)" "$(rounds_of "$2" p99_us)" \
    "$(med "$2" p999_us)" "$(med "$2" svc_p99_us)" "$(med "$2" lag_p99_us)" \
    "$(awk '{s=0; for (i=1;i<=NF;i++) s+=$i; print s}' <<<"$(rounds_of "$2" errors)")"
}
