#!/usr/bin/env bash
# The unit and integration tests under ASan+UBSan (clang), plus the fuzz smokes (the fuzzers come
# with the clang build): configures ${BUILD_DIR:-build-asan}, builds, runs ctest without the
# deploy / prometheus / e2e / bench labels. Prints the wall time of each phase.
#   scripts/sanitizers.sh              (JOBS defaults to 2)
# Needs clang and libclang-rt-14-dev (scripts/install-deps.sh test).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"
build_dir="${BUILD_DIR:-build-asan}"
jobs="${JOBS:-2}"
export CCACHE_BASEDIR="${repo_root}" CCACHE_NOHASHDIR=1

start=$(date +%s)
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CC=clang CXX=clang++ cmake -S . -B "${build_dir}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDCDIR_BUILD_TESTS=ON -DDCDIR_BUILD_BENCHMARKS=OFF -DDCDIR_BUILD_FUZZERS=ON \
  -DCMAKE_C_FLAGS="${sanitize}" -DCMAKE_CXX_FLAGS="${sanitize}" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "${build_dir}" -j"${jobs}"
built=$(date +%s)

# Leak checking stays on; gRPC's and protobuf's process-lifetime singletons are not leaks.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=${repo_root}/scripts/lsan.supp"
status=0
ctest --test-dir "${build_dir}" --output-on-failure -j"${jobs}" --timeout 900 \
  -LE "deploy|prometheus|e2e|monitoring|bench" || status=$?
done_at=$(date +%s)
echo "sanitizers: build $((built - start))s, tests $((done_at - built))s, total $((done_at - start))s"
exit "${status}"
