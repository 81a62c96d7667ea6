# bench.sh part: the 1,000-DC / 200-region world (tests/testing/synthetic_world.h as YAML from
# dcdir_world_gen): start-up, RSS idle and under load, GetDirectory throughput against the
# example-world server in the same run (alternated), latency at 50% of the example-world max with
# and without 50 health flips/s, and what /metrics scrapes cost. Sourced by bench.sh after
# latency.sh (it uses L[dcdir,max]); report_world1000 prints its section.

"${world_gen_bin}" --regions=200 --dcs_per_region=5 --seed=1 --out="${workdir}/world1000.yaml" \
  --print_dcs=1000 >"${workdir}/world1000.dcs"
big_port="$(free_port)"; big_metrics="$(free_port)"
start_dcdir big "${workdir}/world1000.yaml" "${big_port}" "${big_metrics}"
big_pid="${started_pid}"; big_startup_ms="${started_ms}"
big_before_rss="$(rss_kb "${big_pid}" VmRSS)"
DCDIR_SERVER="127.0.0.1:${big_port}" "${agent_bin}" --server "127.0.0.1:${big_port}" \
  --token_file "${workdir}/token" --config "${workdir}/world1000.yaml" --simulate --once --seed 7 \
  --outage_probability 0 >/dev/null
# A client of region r001 (country AC), no tenant: the 1,000-DC world has no tenants in YAML.
"${load_bin}" --dump_request="${workdir}/get1000.req" --country=AC --tenant= \
  --client_id="${client_id}"
big_url="$(getdir_url "${big_port}")"
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
# without 50 health flips/s (alternated), pinned as in latency.sh.
big_flip_dcs="$(sed -n '11p;111p;511p;911p' "${workdir}/world1000.dcs" | paste -sd,)"
pin_server "${big_pid}"
big_bg="$(awk -v m="${L[dcdir,max]}" -v q="${probe_rate}" 'BEGIN {printf "%d", m*50/100 - q}')"
big_flips=0
for r in $(seq "${lat_rounds}"); do
  for mode in plain flips; do
    args=(--country=AC --tenant=)
    [[ "${mode}" == flips ]] && args+=(--flip_rate=50 --flip_dcs="${big_flip_dcs}" --token_file="${workdir}/token")
    line="$(probe "${big_port}" "${big_bg}" "${workdir}/get1000.req" "${args[@]}")"
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
big_ok_delta=$(( $(dcdir_count "${big_metrics}" ok) - big_ok_before ))
big_notok="$(dcdir_count "${big_metrics}" notok)"
big_version="$(snapshot_version "${big_metrics}")"
big_scrape_rss="$(rss_kb "${big_pid}" VmRSS)"; big_scrape_hwm="$(rss_kb "${big_pid}" VmHWM)"
big_series="$(curl -s "http://127.0.0.1:${big_metrics}/metrics" | grep -vc '^#')"

report_world1000() {
  cat <<REPORT
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
REPORT
}
