# bench.sh part: dcdir_core_bench (google-benchmark over service/core), one line per benchmark:
# name, wall, CPU. Sourced by bench.sh (core_args); report_core prints its section.

core_out="$("${core_bin}" "${core_args[@]}" 2>/dev/null |
  awk '/^BM_/ && ($1 !~ /_(mean|stddev|cv)$/) {printf "%-45s %10s %-3s %10s %s\n", $1, $2, $3, $4, $5}')"

report_core() {
  cat <<REPORT
**Core** (\`dcdir_core_bench ${core_args[*]}\`; name, wall, CPU):
\`\`\`
${core_out}
\`\`\`
REPORT
}
