#!/usr/bin/env bash
# The test command: installs everything the tests use, builds, runs every test (ctest), builds
# and checks the container image (scripts/container-check.sh), then the tests under ASan+UBSan
# (with the fuzz smokes) and TSan (scripts/sanitizers.sh).
#   scripts/test.sh            (BUILD_DIR defaults to build-ci; JOBS to 2;
#                               SANITIZERS=0 skips the sanitizer builds, CONTAINER_CHECK=0 the
#                               container check (scripts/container-check.sh), for a quick local run)
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"
build_dir="${BUILD_DIR:-build-ci}"
jobs="${JOBS:-2}"
# Compiler cache keyed on paths relative to the checkout, so every clone shares it.
export CCACHE_BASEDIR="${repo_root}" CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-15G}"

scripts/install-deps.sh test
cmake -S . -B "${build_dir}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDCDIR_BUILD_TESTS=ON \
  -DDCDIR_BUILD_BENCHMARKS=ON
cmake --build "${build_dir}" -j"${jobs}"
# The product contract's names (proto, flags, example config), when the shared tools are beside us.
if [[ -x ../shared/tools/contract-check ]]; then
  ../shared/tools/contract-check "${build_dir}"
fi
ctest --test-dir "${build_dir}" --output-on-failure -j"${jobs}" --timeout 600 -LE netfault
# Network faults between namespaced test hosts: a stage of its own (root; skips otherwise).
scripts/netfault.sh "${build_dir}"
# The real image, built and run as the chart runs it (podman; CONTAINER_CHECK=0 skips it).
[[ "${CONTAINER_CHECK:-1}" == 0 ]] || scripts/container-check.sh
if [[ "${SANITIZERS:-1}" != 0 ]]; then
  scripts/sanitizers.sh all
fi
