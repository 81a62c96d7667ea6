# bench.sh part: throughput. h2load against dcdir-server, the greeter with dcdir's settings, the
# stock greeter and etcd (serializable Range of the same answer), alternated `rounds` times;
# medians, same-run ratios, server CPU per request; success proven from dcdir's /metrics and
# etcd's. Sourced by bench.sh after servers.sh; report_throughput prints its section.

etcd_ok() {
  curl -s "http://127.0.0.1:${etcd_port}/metrics" |
    awk '/^grpc_server_handled_total\{/ && /grpc_code="OK"/ && /grpc_method="Range"/ {s+=$2} END {printf "%d", s}'
}
etcd_ok_before=0
((have_etcd)) && etcd_ok_before="$(etcd_ok)"

dcdir_rates=(); greeter_rates=(); etcd_rates=(); dcdir_sent=0; etcd_sent=0
ok_before="$(dcdir_count "${metrics_port}" ok)"; notok_before="$(dcdir_count "${metrics_port}" notok)"
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
ok_delta=$(( $(dcdir_count "${metrics_port}" ok) - ok_before ))
notok_delta=$(( $(dcdir_count "${metrics_port}" notok) - notok_before ))
etcd_ok_delta=0; ((have_etcd)) && etcd_ok_delta=$(( $(etcd_ok) - etcd_ok_before ))
dcdir_med="$(median "${dcdir_rates[@]}")"; greeter_med="$(median "${greeter_rates[@]}")"
etcd_med="-"; ((have_etcd)) && etcd_med="$(median "${etcd_rates[@]}")"
r_greeter="$(ratio "${dcdir_med}" "${greeter_med}")"; r_etcd="-"
stock_med="$(median "${stock_rates[@]}")"; r_stock="$(ratio "${dcdir_med}" "${stock_med}")"
((have_etcd)) && r_etcd="$(ratio "${dcdir_med}" "${etcd_med}")"
dcdir_cpu_us="$(us_per "${dcdir_ticks}" "${dcdir_sent}")"; greeter_cpu_us="$(us_per "${greeter_ticks}" "${greeter_sent}")"
r_cpu="$(ratio "${dcdir_cpu_us}" "${greeter_cpu_us}")"
stock_cpu_us="$(us_per "${stock_ticks}" "${stock_sent}")"; r_cpu_stock="$(ratio "${dcdir_cpu_us}" "${stock_cpu_us}")"
load_hwm="$(rss_kb "${server_pid}" VmHWM)"; load_rss="$(rss_kb "${server_pid}" VmRSS)"
greeter_hwm="$(rss_kb "${greeter_pid}" VmHWM)"
ok_verdict="✔ equal"; [[ "${ok_delta}" == "${dcdir_sent}" && "${notok_delta}" == 0 ]] || ok_verdict="✘ MISMATCH"

report_throughput() {
  cat <<REPORT
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
REPORT
}
