#!/usr/bin/env bash
# Runs promtool from WORKDIR: run_promtool.sh WORKDIR ARGS...
# promtool is looked up when the test runs (PROMTOOL, then PATH, then /usr/bin/promtool), so a
# promtool installed after configuring is found; when there is none the test FAILS with a hint.
# An argument containing '*' is expanded as a glob in WORKDIR and must match at least one file.
set -euo pipefail
workdir=$1
shift
promtool=${PROMTOOL:-$(command -v promtool || true)}
if [[ -z "${promtool}" && -x /usr/bin/promtool ]]; then
  promtool=/usr/bin/promtool
fi
if [[ -z "${promtool}" ]]; then
  echo "promtool not found: run scripts/install-prometheus.sh first" >&2
  exit 1
fi
cd "${workdir}"
args=()
for a in "$@"; do
  if [[ "${a}" == *'*'* ]]; then
    shopt -s nullglob
    # shellcheck disable=SC2206  # globbing intended
    matches=(${a})
    shopt -u nullglob
    if [[ ${#matches[@]} -eq 0 ]]; then
      echo "no file matches ${a} in ${workdir}" >&2
      exit 1
    fi
    args+=("${matches[@]}")
  else
    args+=("${a}")
  fi
done
echo "+ (cd ${workdir} && ${promtool} ${args[*]})"
exec "${promtool}" "${args[@]}"
