#!/usr/bin/env bash
# check_layers.py on a made-up tree with three violations: core -> api, store -> api,
# clients -> service. It must exit 1 and name each.
set -euo pipefail
python=$1 check=$2
tree=$(mktemp -d)
trap 'rm -rf "${tree}"' EXIT
mkdir -p "${tree}/service/core" "${tree}/service/store" "${tree}/service/api" "${tree}/clients/cpp"
echo '#include "service/api/server.h"' >"${tree}/service/core/answer.h"
echo '#include "service/util/log.h"' >"${tree}/service/core/ok.h"
echo '#include "service/api/api_error.h"' >"${tree}/service/store/redis_store.cc"
echo '#include "service/core/answer.h"' >"${tree}/service/api/server.cc"
echo '#include "service/core/model.h"' >"${tree}/clients/cpp/client.cc"
set +e
out=$("${python}" "${check}" "${tree}")
rc=$?
set -e
echo "${out}"
[[ ${rc} -eq 1 ]] || { echo "FAIL: exit ${rc}, want 1"; exit 1; }
for want in "service/core/answer.h:1: service/core must not include service/api/server.h" \
            "service/store/redis_store.cc:1: service/store must not include service/api/api_error.h" \
            "clients/cpp/client.cc:1: clients/ must not include service/core/model.h" \
            "3 layer violation(s)"; do
  grep -qF -- "${want}" <<<"${out}" || { echo "FAIL: missing: ${want}"; exit 1; }
done
echo "ok: all three violations reported"
