# bench.sh part: dcdir_propagation_bench (change on replica A -> seen on B over one real
# redis-server), its last lines; skipped (and said so) without the binary or redis-server.
# Sourced by bench.sh (prop_args); report_propagation prints its section.

prop_out="(dcdir_propagation_bench not built: needs redis-server and the replica fixture)"
if [[ -n "${prop_bin}" ]] && command -v redis-server >/dev/null; then
  prop_out="$("${prop_bin}" "${prop_args[@]}" 2>&1 | tail -n 20)"
fi

report_propagation() {
  cat <<REPORT
**Propagation** (\`dcdir_propagation_bench ${prop_args[*]}\`, last lines):
\`\`\`
${prop_out}
\`\`\`
REPORT
}
