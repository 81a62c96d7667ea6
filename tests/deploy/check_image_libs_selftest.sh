#!/usr/bin/env bash
# Shows that check_image_libs.sh fails on a broken runtime stage: each mutation of DOCKERFILE
# must be rejected with the expected reason.
#   check_image_libs_selftest.sh BINARY DOCKERFILE
set -euo pipefail
binary="$1"
dockerfile="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

expect_fail() { # name, expected text, sed program
  local name="$1" want="$2" prog="$3" out
  sed -e "${prog}" "${dockerfile}" >"${work}/${name}"
  cmp -s "${dockerfile}" "${work}/${name}" && { echo "FAIL: mutation ${name} changed nothing" >&2; exit 1; }
  if out="$(bash "${here}/check_image_libs.sh" "${binary}" "${work}/${name}" 2>&1)"; then
    echo "FAIL: ${name} accepted" >&2
    exit 1
  fi
  grep -qF -- "${want}" <<<"${out}" || { echo "FAIL: ${name}: expected '${want}', got: ${out}" >&2; exit 1; }
  echo "ok: ${name} rejected (${want})"
}

expect_fail missing-protobuf "does not install libprotobuf32" '/^ *libprotobuf32 \\$/d'
expect_fail dev-package "development package libyaml-cpp-dev" 's/^\( *\)libyaml-cpp0.7 \\$/&\n\1libyaml-cpp-dev \\/'
expect_fail unneeded-package "installs curl, which provides no library" 's/^\( *\)libyaml-cpp0.7 \\$/&\n\1curl \\/'
