#!/usr/bin/env bash
# Offline checks of the Helm chart helm/dcdir. One check per call (each is a ctest test):
#
#   check_chart.sh lint       helm lint --strict with the default values and each ci/*-values.yaml
#   check_chart.sh render     helm template per scenario (default, each ci/*-values.yaml, a custom
#                             config.world); every object validated against the Kubernetes and
#                             prometheus-operator schemas and the assertions of check_render.mjs
#   check_chart.sh checksum   the config checksum annotation changes with config.world, and only then
#   check_chart.sh schema     values.schema.json and the chart's own checks reject bad values
#   check_chart.sh docs       every value has a "## @param"; NOTES.txt renders a buf curl example
#   check_chart.sh yamllint   yamllint --strict on Chart.yaml, values.yaml and ci/*.yaml
#
# Tools from scripts/install-deploy-tools.sh (TOOLS_DIR, default <repo>/.tools).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_tools

here="${REPO_ROOT}/tests/deploy"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

ci_values() { ls "${CHART_DIR}"/ci/*-values.yaml; }
scenario_of() { basename "$1" -values.yaml; }

# The checksum/config annotation of the Deployment in a render.
config_checksum() {
  grep -E '^ +checksum/config: ' "$1" | awk '{ print $2 }'
}

case "${1:-}" in
  lint)
    "${HELM}" lint --strict --kube-version "${KUBE_VERSION}" "${CHART_DIR}"
    for f in $(ci_values); do
      "${HELM}" lint --strict --kube-version "${KUBE_VERSION}" "${CHART_DIR}" -f "${f}"
    done
    ;;

  render)
    [[ "$(ci_values | wc -l)" -ge 4 ]] || fail "expected at least 4 ci/*-values.yaml files"
    render >"${work}/default.yaml"
    node "${here}/check_render.mjs" default "${work}/default.yaml"
    for f in $(ci_values); do
      s="$(scenario_of "${f}")"
      render -f "${f}" >"${work}/${s}.yaml"
      node "${here}/check_render.mjs" "${s}" "${work}/${s}.yaml"
    done
    render --set-file config.world="${here}/testdata/custom-world.yaml" >"${work}/custom-world.yaml"
    node "${here}/check_render.mjs" custom-world "${work}/custom-world.yaml"
    render -f "${CHART_DIR}/ci/tls-values.yaml" --set tls.clientCA.require=true >"${work}/tls-require.yaml"
    node "${here}/check_render.mjs" tls-require "${work}/tls-require.yaml"
    # Before 1.30 there is no preStop "sleep" handler: the chart falls back to exec sleep.
    KUBE_VERSION=1.29.0 render >"${work}/k129.yaml"
    grep -q -- '- sleep:' "${work}/k129.yaml" && fail "preStop sleep handler rendered for Kubernetes 1.29"
    grep -q 'command: \["/bin/sleep", "5"\]' "${work}/k129.yaml" || fail "no exec preStop for Kubernetes 1.29"
    echo "ok: preStop falls back to exec sleep before Kubernetes 1.30"
    ;;

  checksum)
    render >"${work}/a.yaml"
    render >"${work}/a2.yaml"
    render --set-file config.world="${here}/testdata/custom-world.yaml" >"${work}/b.yaml"
    render --set podAnnotations.unrelated=change >"${work}/c.yaml"
    a="$(config_checksum "${work}/a.yaml")"
    b="$(config_checksum "${work}/b.yaml")"
    [[ "${a}" =~ ^[0-9a-f]{64}$ ]] || fail "default render has no checksum/config annotation (got '${a}')"
    [[ "${b}" =~ ^[0-9a-f]{64}$ ]] || fail "custom-world render has no checksum/config annotation"
    [[ "${a}" != "${b}" ]] || fail "checksum/config did not change when config.world changed"
    [[ "$(config_checksum "${work}/a2.yaml")" == "${a}" ]] || fail "checksum/config differs between identical renders"
    [[ "$(config_checksum "${work}/c.yaml")" == "${a}" ]] || fail "checksum/config changed without a config change"
    [[ "${b}" == "$(sha256sum <"${here}/testdata/custom-world.yaml" | awk '{ print $1 }')" ]] ||
      fail "checksum/config is not the sha256 of config.world"
    render --set config.rollOnChange=false >"${work}/d.yaml"
    [[ -z "$(config_checksum "${work}/d.yaml")" ]] || fail "checksum/config present with config.rollOnChange=false"
    echo "ok: checksum/config ${a:0:12}… -> ${b:0:12}… when config.world changes"
    ;;

  schema)
    # Each case: expected error text | helm arguments.
    cases=(
      "replicaCount: Invalid type|--set replicaCount=three"
      "Additional property bogus is not allowed|--set bogus=1"
      "redis.mode must be one of the following|--set redis.mode=memcached"
      "redis.url: Does not match pattern|--set redis.mode=external --set redis.url=http://redis:6379"
      "redis.url is required when redis.mode=external|--set redis.mode=external"
      "redis.mode=embedded keeps state in one process|--set redis.mode=embedded"
      "tls.enabled requires tls.existingSecret|--set tls.enabled=true"
      "ports.grpc: Must be less than or equal to 65535|--set ports.grpc=70000"
      "image.digest: Does not match pattern|--set image.digest=latest"
      "networkPolicy.ingressFrom must list peers|--set networkPolicy.allowExternal=false"
      "set either auth.token or auth.existingSecret|--set auth.token=a --set auth.existingSecret=b"
      "quorum cannot exceed|--set redis.internal.quorum=4"
      "at least preStopSleepSeconds + shutdownGraceSeconds|--set terminationGracePeriodSeconds=12"
      "audit.output must be one of the following|--set audit.output=syslog"
      "extraArgs.0: Does not match pattern|--set extraArgs[0]=config=/x"
    )
    for c in "${cases[@]}"; do
      want="${c%%|*}"
      read -ra args <<<"${c#*|}"
      if out="$(render "${args[@]}" 2>&1)"; then
        fail "accepted ${args[*]} (expected: ${want})"
      fi
      grep -qF -- "${want}" <<<"${out}" || fail "${args[*]}: expected '${want}', got: ${out}"
      echo "ok: rejected ${args[*]}"
    done
    render --set redis.mode=embedded --set replicaCount=1 >/dev/null || fail "embedded store with 1 replica rejected"
    echo "ok: embedded store with 1 replica accepted"
    ;;

  docs)
    node "${here}/check_values_documented.mjs" "${CHART_DIR}/values.yaml"
    # NOTES.txt is not rendered by "helm template": render a copy as a JSON string.
    cp -r "${CHART_DIR}" "${work}/chart"
    cp "${CHART_DIR}/templates/NOTES.txt" "${work}/chart/files/notes.txt"
    echo 'notes: {{ tpl (.Files.Get "files/notes.txt") . | toJson }}' >"${work}/chart/templates/notes-test.yaml"
    "${HELM}" template "${RELEASE}" "${work}/chart" --kube-version "${KUBE_VERSION}" \
      --show-only templates/notes-test.yaml >"${work}/notes.yaml"
    node -e '
      const YAML = require("yaml");
      const notes = YAML.parse(require("fs").readFileSync(process.argv[1], "utf8")).notes;
      const want = `buf curl --protocol grpc --http2-prior-knowledge -d '"'"'{"client_country":"US"}'"'"' http://localhost:50051/dcdir.v1.DirectoryService/GetDirectory`;
      if (!notes.includes(want)) { console.error("FAIL: NOTES.txt lacks: " + want + "\n" + notes); process.exit(1); }
      if (!notes.includes("create secret generic dcdir-auth")) { console.error("FAIL: NOTES.txt lacks the token Secret command"); process.exit(1); }
      if (!notes.includes("WARNING: the bearer token is enabled but TLS is not")) { console.error("FAIL: NOTES.txt lacks the cleartext-token warning (defaults: token on, TLS off)"); process.exit(1); }
      console.log("ok: NOTES.txt renders the buf curl example and warns of the cleartext token");' "${work}/notes.yaml"
    # With TLS on, no cleartext warning.
    "${HELM}" template "${RELEASE}" "${work}/chart" --kube-version "${KUBE_VERSION}" \
      --set tls.enabled=true --set tls.existingSecret=dcdir-tls \
      --show-only templates/notes-test.yaml >"${work}/notes-tls.yaml"
    if grep -q "bearer token is enabled but TLS is not" "${work}/notes-tls.yaml"; then
      fail "NOTES.txt warns of a cleartext token with tls.enabled=true"
    fi
    echo "ok: no cleartext-token warning with TLS on"
    ;;

  yamllint)
    yamllint --strict -c "${here}/yamllint.yaml" "${CHART_DIR}/Chart.yaml" "${CHART_DIR}/values.yaml" "${CHART_DIR}/ci"
    echo "ok: yamllint"
    ;;

  *)
    echo "usage: $0 lint|render|checksum|schema|docs|yamllint" >&2
    exit 2
    ;;
esac
