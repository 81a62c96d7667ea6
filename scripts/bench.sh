#!/usr/bin/env bash
# dcdir's benchmarks in one run: throughput (h2load) against dcdir-server, the callback greeter
# (the ceiling of the gRPC stack) and etcd (a serializable Range of the same precomputed answer),
# alternated over several rounds, medians and same-run ratios; success proven from dcdir's
# /metrics; latency at 50% and 90% of the measured dcdir max (dcdir_load_client); RSS idle and
# under load; time from process start to answering; the core and propagation benchmarks; the cost
# curve (answer cost and RSS as DCs, tenants and watches grow).
#
#   scripts/bench.sh [--quick] [--no-install] [--build_dir=DIR] [--write_docs] [--parts=LIST]
#
# --quick        small counts (CI smoke, < 60 s; no thresholds).
# --no-install   do not run scripts/install-deps.sh test (CI: already installed).
# --write_docs   replace the section between the bench.sh markers in docs/BENCHMARKS.md.
# --parts=LIST   only these parts (comma-separated, run in the order above whatever the order
#                given; servers always runs first), e.g. --parts=costcurve; world1000 needs
#                latency (its rates are the example world's pinned max); not with --write_docs.
# Prints the results as markdown. Every server listens on free loopback ports and is stopped
# (by its pid) on exit. etcd is skipped (and said so) if it is not installed.
# The parts live in scripts/bench/: lib.sh (what they share), then servers.sh, throughput.sh,
# latency.sh, world1000.sh, core.sh, propagation.sh and costcurve.sh, sourced in that order (each needs the
# variables of the ones before); each defines report_* for its section of the report.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"

quick=0; install=1; write_docs=0; build_dir="${BUILD_DIR:-build-bench}"
all_parts=(throughput latency world1000 core propagation costcurve); parts=("${all_parts[@]}")
for a in "$@"; do
  case "${a}" in
    --quick) quick=1 ;;
    --no-install) install=0 ;;
    --write_docs) write_docs=1 ;;
    --build_dir=*) build_dir="${a#--build_dir=}" ;;
    --parts=*) IFS=, read -r -a parts <<<"${a#--parts=}" ;;
    *) echo "usage: $0 [--quick] [--no-install] [--build_dir=DIR] [--write_docs] [--parts=LIST]" >&2; exit 2 ;;
  esac
done

if ((quick)); then
  rounds=1; h2_n=2000; lat_seconds=0.5; lat_rounds=1; probe_rate=500; h2_max_n=5000; max_rounds=1
  core_args=(--benchmark_min_time=0.01)
  prop_args=(--changes=20 --seconds=0.3 --threads=2)
  cc_tenants=1000; cc_watchers=200; cc_seconds=0.5; cc_reports=5; cc_ab_rounds=1
else
  rounds=5; h2_n=60000; lat_seconds=5; lat_rounds=3; probe_rate=1000; h2_max_n=60000; max_rounds=9
  core_args=(--benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
  prop_args=(--changes=300 --seconds=2 --threads=4)
  cc_tenants=100000; cc_watchers=10000; cc_seconds=5; cc_reports=50; cc_ab_rounds=5
fi
client_id="bench-client-0001"

((install)) && scripts/install-deps.sh test >&2
source scripts/bench/lib.sh

# ---- build
targets=(dcdir-server dcdirctl dcdir-agent dcdir_bench_greeter dcdir_load_client dcdir_core_bench
  dcdir_world_gen dcdir_watch_bench)
if [[ ! -x "${build_dir}/service/dcdir-server" || "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  cmake -S . -B "${build_dir}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDCDIR_BUILD_BENCHMARKS=ON \
    >/dev/null
  cmake --build "${build_dir}" -j2 --target "${targets[@]}" >&2
  cmake --build "${build_dir}" -j2 --target dcdir_propagation_bench >&2 2>/dev/null || true
fi
server_bin="$(find_bin dcdir-server)"; ctl_bin="$(find_bin dcdirctl)"
agent_bin="$(find_bin dcdir-agent)"; greeter_bin="$(find_bin dcdir_bench_greeter)"
load_bin="$(find_bin dcdir_load_client)"; core_bin="$(find_bin dcdir_core_bench)"
prop_bin="$(find_bin dcdir_propagation_bench)"; world_gen_bin="$(find_bin dcdir_world_gen)"
watch_bin="$(find_bin dcdir_watch_bench)"

# ---- the parts
for part in "${parts[@]}"; do
  [[ " ${all_parts[*]} " == *" ${part} "* ]] || { echo "unknown part: ${part}" >&2; exit 2; }
done
asked=" ${parts[*]} "; parts=()  # in all_parts' order, each once
for part in "${all_parts[@]}"; do
  if [[ "${asked}" == *" ${part} "* ]]; then parts+=("${part}"); fi
done
if [[ " ${parts[*]} " == *" world1000 "* && " ${parts[*]} " != *" latency "* ]]; then
  echo "--parts: world1000 needs latency" >&2; exit 2
fi
if ((write_docs)) && [[ "${parts[*]}" != "${all_parts[*]}" ]]; then
  echo "--write_docs needs every part" >&2; exit 2
fi
for part in servers "${parts[@]}"; do
  source "scripts/bench/${part}.sh"
done

# ---- report
cpu="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
cmdline="scripts/bench.sh $*"
report_header() {
  cat <<EOF
Command: \`${cmdline}\` ($( ((quick)) && echo "QUICK smoke counts: not figures to quote" || echo "full counts")).
Machine: \`nproc\` = $(nproc), CPU "${cpu}", load average before the run $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/'),
$(date -u '+%Y-%m-%d %H:%M UTC'). Loopback; client and servers share the same $(nproc) cores.
EOF
}
report="$(
  report_header
  for section in "${parts[@]}"; do
    echo; "report_${section}"
    # (memory uses throughput's and latency's figures: printed after latency, as always)
    if [[ "${section}" == latency && " ${parts[*]} " == *" throughput "* ]]; then
      echo; report_memory_startup
    fi
  done
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
