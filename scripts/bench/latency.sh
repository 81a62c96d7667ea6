# bench.sh part: latency, pinned (lib.sh's pinning). "max" is each server's own max in that
# set-up, driven by h2load (cheap per request, so it saturates CPU 0, not CPU 1). Then h2load
# --rps supplies the background load at 50% / 90% of each server's own max while
# dcdir_load_client (FIFO above h2load) probes the latency at a low fixed rate, open loop, latency
# from each call's *scheduled* start. Alternated rounds, medians; one set with 50 health flips/s
# (snapshot rebuilds). Sourced by bench.sh after throughput.sh; report_latency
# prints its section.

L[wakeup]="$(on_client 2 "${load_bin}" --probe_wakeup="${lat_seconds}")"
log "wake-up floor: ${L[wakeup]}"
flip_dcs="us-nyc,eu-ams,jp-tyo,au-syd"  # 50/s over 4 DCs: under the 20/s per-DC report limit
pin_server "${server_pid}"; pin_server "${greeter_pid}"; pin_server "${stock_pid}"
# The pinned max: max_rounds alternated closed-loop rounds per server (the host's speed drifts
# within minutes, so one round each is not a ratio to quote); max = each server's median, and
# the pinned ratio dcdir / stock greeter as the median of the per-round pair ratios, their range,
# and the ratio of the summed rates.
max_dcdir=(); max_greeter=(); max_stock=(); pair_stock=(); pair_greeter=()
for r in $(seq "${max_rounds}"); do
  max_dcdir+=("$(h2max "${dcdir_url}")"); max_stock+=("$(h2max "${stock_url}")")
  max_greeter+=("$(h2max "${greeter_url}")")
  pair_stock+=("$(ratio "${max_dcdir[-1]}" "${max_stock[-1]}")")
  pair_greeter+=("$(ratio "${max_dcdir[-1]}" "${max_greeter[-1]}")")
  log "pinned max round ${r}: dcdir ${max_dcdir[-1]} stock ${max_stock[-1]} greeter ${max_greeter[-1]} req/s"
done
L[dcdir,max]="$(printf %.0f "$(median "${max_dcdir[@]}")")"
L[greeter,max]="$(printf %.0f "$(median "${max_greeter[@]}")")"
L[stock,max]="$(printf %.0f "$(median "${max_stock[@]}")")"
sum() { printf '%s\n' "$@" | awk '{s+=$1} END {printf "%.0f", s}'; }
range() { printf '%s\n' "$@" | sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {print lo "–" hi}'; }
L[pair,stock]="$(median "${pair_stock[@]}") (range $(range "${pair_stock[@]}"); summed rates $(ratio "$(sum "${max_dcdir[@]}")" "$(sum "${max_stock[@]}")"))"
L[pair,greeter]="$(median "${pair_greeter[@]}") (range $(range "${pair_greeter[@]}"); summed rates $(ratio "$(sum "${max_dcdir[@]}")" "$(sum "${max_greeter[@]}")"))"
log "pinned max (medians): dcdir ${L[dcdir,max]} greeter ${L[greeter,max]} stock ${L[stock,max]} req/s; dcdir/stock ${L[pair,stock]}"
lat_keys=(dcdir,idle greeter,idle stock,idle dcdir,50 greeter,50 stock,50 dcdir,50,flips
  dcdir,90 greeter,90 stock,90)
v_before="$(snapshot_version "${metrics_port}")"; flips_sent=0
for r in $(seq "${lat_rounds}"); do
  for key in "${lat_keys[@]}"; do
    IFS=, read -r who pct extra <<<"${key}"
    port="${grpc_port}"; [[ "${who}" == greeter ]] && port="${greeter_port}"
    [[ "${who}" == stock ]] && port="${stock_port}"
    bg=0
    if [[ "${pct}" != idle ]]; then
      bg="$(awk -v m="${L[${who},max]}" -v p="${pct}" -v q="${probe_rate}" 'BEGIN {printf "%d", m*p/100 - q}')"
    fi
    args=()
    [[ "${extra:-}" == flips ]] && args=(--flip_rate=50 --flip_dcs="${flip_dcs}" --token_file="${workdir}/token")
    line="$(probe "${port}" "${bg}" "${workdir}/get.req" "${args[@]}")"
    flips_sent=$((flips_sent + $(field flips_ok "${line}")))
    LR[${key}]+="${line}|"
    log "latency round ${r} ${key}: ${line}"
  done
done
rebuilds="$(( $(snapshot_version "${metrics_port}") - v_before ))"
unpin_server "${server_pid}"; unpin_server "${greeter_pid}"; unpin_server "${stock_pid}"
after_lat_hwm="$(rss_kb "${server_pid}" VmHWM)"

report_latency() {
  cat <<REPORT
**Latency** (set-up: ${setup_desc}). Max = closed loop by h2load from CPU 1 (\`-c 4 -m 16 -t 1
-n ${h2_max_n}\`), ${max_rounds} alternated round(s) per server, medians: dcdir ${L[dcdir,max]} req/s (rounds
$(rates_fmt "${max_dcdir[@]}")), stock greeter ${L[stock,max]} req/s (rounds $(rates_fmt "${max_stock[@]}")), greeter with dcdir's
settings ${L[greeter,max]} req/s (rounds $(rates_fmt "${max_greeter[@]}")). **Pinned ratio dcdir / stock greeter**, median of
the per-round pairs: ${L[pair,stock]}; dcdir / greeter with dcdir's settings: ${L[pair,greeter]}. Background load: h2load
\`--rps\` at 50% / 90% of each server's own max (minus the probe); probe: \`dcdir_load_client\` at ${probe_rate} req/s, open
loop, 1 channel, ${lat_seconds} s, latency from each call's *scheduled* start; ${lat_rounds} alternated round(s), medians
(each round's p99 in brackets); µs. "svc p99" counts from the moment the probe handed the call to
gRPC, "lag p99" is how late the probe's own pacer was:

| server @ load | background req/s | p50 | p90 | p99 (rounds) | p99.9 | svc p99 | lag p99 | errors |
|---|---|---|---|---|---|---|---|---|
$(row "dcdir, probe only" "dcdir,idle")
$(row "greeter, probe only" "greeter,idle")
$(row "stock greeter, probe only" "stock,idle")
$(row "dcdir @ 50% of its max" "dcdir,50")
$(row "greeter @ 50% of its max" "greeter,50")
$(row "stock greeter @ 50% of its max" "stock,50")
$(row "dcdir @ 50% + 50 health flips/s (snapshot rebuilds)" "dcdir,50,flips")
$(row "dcdir @ 90% of its max" "dcdir,90")
$(row "greeter @ 90% of its max" "greeter,90")
$(row "stock greeter @ 90% of its max" "stock,90")

Rebuilds: the flips made ${flips_sent} ReportHealth changes; \`dcdir_snapshot_version\` grew by ${rebuilds}
during the latency runs (each change publishes a snapshot). Floor of this machine, same pinning, no
gRPC (\`dcdir_load_client --probe_wakeup\`: a thread sleeping until a slot every 200 µs, how late it
wakes): p50 $(field late_p50_us "${L[wakeup]}") µs, p99 $(field late_p99_us "${L[wakeup]}") µs, p99.9 $(field late_p999_us "${L[wakeup]}") µs, max $(field late_max_us "${L[wakeup]}") µs.
REPORT
}
