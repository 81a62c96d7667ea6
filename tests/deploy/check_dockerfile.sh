#!/usr/bin/env bash
# dockerfilelint on deploy/docker/Dockerfile (exits non-zero on any finding), plus what the
# image promises: multi-stage bookworm build, non-root numeric USER, exec-form ENTRYPOINT
# (no shell at run time), no -dev package in the runtime stage; and .dockerignore excludes
# the build and tool directories.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_tools
dockerfile="${1:-${REPO_ROOT}/deploy/docker/Dockerfile}"
fail() { echo "FAIL: $*" >&2; exit 1; }

"${NODE_PATH}/.bin/dockerfilelint" "${dockerfile}"

grep -qE '^FROM debian:bookworm(-[0-9]+)? AS build$' "${dockerfile}" || fail "no 'FROM debian:bookworm AS build' stage"
last_from="$(grep -E '^FROM ' "${dockerfile}" | tail -n 1)"
[[ "${last_from}" =~ ^FROM\ debian:bookworm(-[0-9]+)?-slim\ AS\ runtime$ ]] || fail "last stage is not bookworm-slim runtime: ${last_from}"
runtime="$(sed -n '/^FROM .* AS runtime$/,$p' "${dockerfile}")"
user="$(grep -E '^USER ' <<<"${runtime}" | tail -n 1 | awk '{ print $2 }')"
[[ "${user}" =~ ^[1-9][0-9]*(:[1-9][0-9]*)?$ ]] || fail "runtime USER must be a numeric non-root uid (got '${user}')"
grep -qE '^ENTRYPOINT \["/usr/local/bin/dcdir-server"\]$' <<<"${runtime}" || fail "ENTRYPOINT is not the exec form of dcdir-server"
grep -qE -- '-dev( |$)' <<<"$(sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' <<<"${runtime}" | grep -E '^RUN ')" &&
  fail "runtime stage installs a -dev package"
grep -q -- '--target dcdir-server' "${dockerfile}" || fail "build stage does not build only the dcdir-server target"
for p in .git .tools 'build-*'; do
  grep -qxF -- "${p}" "${REPO_ROOT}/.dockerignore" || fail ".dockerignore does not exclude ${p}"
done
echo "ok: Dockerfile lint-clean and non-root, exec-form, slim runtime"
