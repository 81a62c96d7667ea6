# bench.sh part: the cost curve (issue 17). One fresh dcdir-server per row (embedded store, its
# own free ports), grown along one axis at a time: DCs (the example world's 21, then generated
# worlds of 1,000 and 5,000), stored tenants (0 -> cc_tenants, loaded through the admin API) and
# open WatchDirectory streams (0 -> cc_watchers, held open by dcdir_watch_bench --hold_file).
# For each row: VmRSS once the row's state is in place, then a closed-loop GetDirectory load
# (dcdir_load_client, 32 calls in flight over 4 channels, cc_seconds) with tenant ids drawn from all the
# stored tenants when there are any (--tenant_pool), else none: req/s and the server's CPU per
# answered request (utime+stime over the load / answers). Same machine, same run, rows one after
# the other: read the columns as ratios to the first row. Sourced by bench.sh after core.sh (the
# core benchmark's BM_AnswerSyntheticDcs gives the answer's own cost at 21/1,000/5,000 DCs);
# report_costcurve prints its section.

[[ -e "${workdir}/world1000.yaml" ]] ||  # world1000.sh's, when that part did not run
  "${world_gen_bin}" --regions=200 --dcs_per_region=5 --seed=1 --out="${workdir}/world1000.yaml"
"${world_gen_bin}" --regions=250 --dcs_per_region=20 --seed=1 --out="${workdir}/world5000.yaml"
example_regions="$(awk '/^regions:/ {r=1; next} /^[^ #]/ {r=0} r && /^  - id:/ {print $3}' \
  deploy/config/world.yaml | paste -sd,)"
# A country of each region, in the regions' order: tenant i (home region i % R) is asked about by
# a client of its home region, so every answer is a full one (no policy refusal); the rows
# without tenants ask from the same countries in turn.
example_countries="$(awk '/^countries:/ {c=1; next} /^[^ #]/ {c=0} c && NF >= 2 {sub(":", "", $1); if (!($2 in first)) first[$2]=$1}
  END {n=split(regions, r, ","); for (i=1;i<=n;i++) printf "%s%s", (i>1?",":""), first[r[i]]}' \
  regions="${example_regions}" deploy/config/world.yaml)"
declare -A CC  # CC[row,field]
cc_rows=()

# tenant_ab PID PORT COUNTRIES TENANTS: on the server holding TENANTS policies, cc_ab_rounds
# alternated pairs of closed-loop loads, tenant ids drawn from all of them vs no tenant id (same
# countries): medians of req/s and server CPU per answer, and their ratios (TAB[..]).
declare -A TAB
tenant_ab() {
  local pid="$1" port="$2" countries="$3" tenants="$4" r mode line c0 c1
  local -a rate_pool=() rate_none=() cpu_pool=() cpu_none=()
  for r in $(seq "${cc_ab_rounds}"); do
    for mode in pool none; do
      local pool=(--tenant=); [[ "${mode}" == pool ]] && pool=(--tenant_pool="${tenants}")
      c0="$(cpu_ticks "${pid}")"
      line="$("${load_bin}" --target="127.0.0.1:${port}" --channels=4 --outstanding=32 \
        --seconds="${cc_seconds}" --warmup=0 --countries="${countries}" \
        --client_id="${client_id}" "${pool[@]}")" || { log "tenant A/B ${mode}: ${line}"; exit 1; }
      c1="$(cpu_ticks "${pid}")"
      if [[ "${mode}" == pool ]]; then
        rate_pool+=("$(field rate "${line}")"); cpu_pool+=("$(us_per "$((c1 - c0))" "$(field ok "${line}")")")
      else
        rate_none+=("$(field rate "${line}")"); cpu_none+=("$(us_per "$((c1 - c0))" "$(field ok "${line}")")")
      fi
    done
    log "tenant A/B round ${r}: ${rate_pool[-1]} req/s (${cpu_pool[-1]} µs) with tenants, ${rate_none[-1]} req/s (${cpu_none[-1]} µs) without"
  done
  TAB[rate_pool]="$(printf %.0f "$(median "${rate_pool[@]}")")"; TAB[rate_none]="$(printf %.0f "$(median "${rate_none[@]}")")"
  TAB[cpu_pool]="$(median "${cpu_pool[@]}")"; TAB[cpu_none]="$(median "${cpu_none[@]}")"
  TAB[rates]="$(rates_fmt "${rate_pool[@]}")/ $(rates_fmt "${rate_none[@]}")"
  TAB[tenants]="${tenants}"
}

# cc_row NAME CONFIG DCS COUNTRIES TENANTS WATCHERS
cc_row() {
  local name="$1" config="$2" dcs="$3" countries="$4" tenants="$5" watchers="$6" port mport pid line
  port="$(free_port)"; mport="$(free_port)"
  local limits=()  # all the watches come from one peer (loopback)
  ((watchers > 0)) && limits=(--max_watch_streams="${watchers}" --max_watch_streams_per_peer="${watchers}")
  start_dcdir "cc_${name}" "${config}" "${port}" "${mport}" "${limits[@]}"
  pid="${started_pid}"
  "${agent_bin}" --server "127.0.0.1:${port}" --token_file "${workdir}/token" --config "${config}" \
    --simulate --once --seed 7 --outage_probability 0 >/dev/null
  CC[${name},load_s]="-"
  if ((tenants > 0)); then
    line="$("${load_bin}" --target="127.0.0.1:${port}" --load_tenants="${tenants}" \
      --regions="${example_regions}" --token_file="${workdir}/token" --outstanding=64)" ||
      { log "cost curve ${name}: loading tenants failed: ${line}"; exit 1; }
    CC[${name},load_s]="$(field seconds "${line}")"
  fi
  local hold="${workdir}/cc_${name}.hold" watch_pid=""
  if ((watchers > 0)); then
    "${watch_bin}" --target="127.0.0.1:${port}" --server_pid="${pid}" \
      --token_file="${workdir}/token" --watchers="${watchers}" --reports="${cc_reports}" \
      --hold_file="${hold}" >"${workdir}/cc_${name}_watch.txt" 2>&1 &
    watch_pid=$!; pids+=("${watch_pid}")
    for _ in $(seq 3000); do [[ -e "${hold}" ]] && break; kill -0 "${watch_pid}" 2>/dev/null || break; sleep 0.1; done
    [[ -e "${hold}" ]] || { cat "${workdir}/cc_${name}_watch.txt" >&2; log "cost curve ${name}: watches did not open"; exit 1; }
  fi
  sleep 0.2
  CC[${name},rss]="$(mib "$(rss_kb "${pid}" VmRSS)")"
  local pool=(--tenant=); ((tenants > 0)) && pool=(--tenant_pool="${tenants}")
  local c0 c1
  c0="$(cpu_ticks "${pid}")"
  line="$("${load_bin}" --target="127.0.0.1:${port}" --channels=4 --outstanding=32 \
    --seconds="${cc_seconds}" --warmup=0 --countries="${countries}" --client_id="${client_id}" \
    "${pool[@]}")" || { log "cost curve ${name}: GetDirectory load failed: ${line}"; exit 1; }
  c1="$(cpu_ticks "${pid}")"
  CC[${name},rate]="$(printf %.0f "$(field rate "${line}")")"
  CC[${name},cpu_us]="$(us_per "$((c1 - c0))" "$(field ok "${line}")")"
  CC[${name},p99]="$(field p99_us "${line}")"
  CC[${name},report_p99]="-"; CC[${name},last_p99]="-"
  if [[ -n "${watch_pid}" ]]; then
    rm -f "${hold}"
    wait "${watch_pid}" || { cat "${workdir}/cc_${name}_watch.txt" >&2; log "cost curve ${name}: watch bench failed"; exit 1; }
    forget "${watch_pid}"
    # "ReportHealth RPC, N watchers   n=..  p50 X ms  p90 X ms  p99 X ms  max X ms" (bench_support.h)
    p99_of() { awk -v l="$1" 'index($0, l) {for (i=1;i<NF;i++) if ($i=="p99") print $(i+1)}' "${workdir}/cc_${name}_watch.txt"; }
    CC[${name},report_p99]="$(p99_of "ReportHealth RPC, ${watchers} watchers")"
    CC[${name},last_p99]="$(p99_of "last watcher's message, ${watchers} watchers")"
  fi
  ((tenants > 0 && watchers == 0)) && tenant_ab "${pid}" "${port}" "${countries}" "${tenants}"
  kill -TERM "${pid}"; wait "${pid}" 2>/dev/null || true; forget "${pid}"
  CC[${name},dcs]="${dcs}"
  cc_rows+=("${name}|${tenants}|${watchers}")
  log "cost curve ${name}: rss ${CC[${name},rss]} MiB, ${CC[${name},rate]} req/s, ${CC[${name},cpu_us]} µs/answer"
}

# The generated worlds: one country of each of the first 10 regions (region i maps
# SyntheticCountry(2i)), as many as the example world's regions.
synthetic_countries="AA,AC,AE,AG,AI,AK,AM,AO,AQ,AS"
cc_row example deploy/config/world.yaml 21 "${example_countries}" 0 0
cc_row dcs1000 "${workdir}/world1000.yaml" 1000 "${synthetic_countries}" 0 0
cc_row dcs5000 "${workdir}/world5000.yaml" 5000 "${synthetic_countries}" 0 0
cc_row tenants deploy/config/world.yaml 21 "${example_countries}" "${cc_tenants}" 0
cc_row watchers deploy/config/world.yaml 21 "${example_countries}" 0 "${cc_watchers}"
cc_row all deploy/config/world.yaml 21 "${example_countries}" "${cc_tenants}" "${cc_watchers}"

report_costcurve() {
  local base_cpu="${CC[example,cpu_us]}" base_rss="${CC[example,rss]}"
  echo "**Cost curve** (one fresh dcdir-server per row, embedded store; closed-loop GetDirectory by"
  echo "\`dcdir_load_client --channels=4 --outstanding=32 --seconds=${cc_seconds}\`, tenant ids drawn from all stored"
  echo "tenants when there are any; watches held open by \`dcdir_watch_bench --hold_file\`, which first ran"
  echo "${cc_reports} ReportHealth rounds with them open; µs = server CPU per answer):"
  echo
  echo "| world | DCs | tenants | watches | load tenants s | VmRSS MiB | ÷ first | req/s | µs/answer | ÷ first | GetDirectory p99 µs, closed loop, 32 in flight | ReportHealth p99 ms | report → last watcher p99 ms |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  local row name tenants watchers
  for row in "${cc_rows[@]}"; do
    IFS='|' read -r name tenants watchers <<<"${row}"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${name}" \
      "${CC[${name},dcs]}" "${tenants}" "${watchers}" "${CC[${name},load_s]}" "${CC[${name},rss]}" \
      "$(ratio "${CC[${name},rss]}" "${base_rss}")" "${CC[${name},rate]}" "${CC[${name},cpu_us]}" \
      "$(ratio "${CC[${name},cpu_us]}" "${base_cpu}")" "${CC[${name},p99]}" \
      "${CC[${name},report_p99]}" "${CC[${name},last_p99]}"
  done
  echo
  echo "Tenant ids drawn from all ${TAB[tenants]} stored tenants vs no tenant id, on the same server (the"
  echo "\"tenants\" row), ${cc_ab_rounds} alternated pairs, medians: ${TAB[rate_pool]} vs ${TAB[rate_none]} req/s (ratio"
  echo "$(ratio "${TAB[rate_pool]}" "${TAB[rate_none]}"); rounds ${TAB[rates]}), server CPU ${TAB[cpu_pool]} vs ${TAB[cpu_none]} µs per answer (ratio"
  echo "$(ratio "${TAB[cpu_pool]}" "${TAB[cpu_none]}"))."
}
