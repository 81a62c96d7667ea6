#!/usr/bin/env bash
# The tests under the sanitizers (run by scripts/test.sh, so by .ci/run), built with -O1 -g1:
#   asan: clang -fsanitize=address,undefined into ${ASAN_BUILD_DIR:-build-asan}: every unit and
#         integration test (not the deploy / prometheus / e2e / bench / docs labels: those check files
#         and a Prometheus server, not our memory), plus the libFuzzer smokes (label fuzz).
#   tsan: gcc -fsanitize=thread into ${TSAN_BUILD_DIR:-build-tsan}: the tests labelled tsan, the
#         ones with no gRPC inside (core, config, store with a real Redis, runtime, audit).
#         Debian's gRPC, protobuf and Abseil are not TSan-instrumented, so every test that runs
#         a gRPC server or client reports thousands of races inside gRPC's own memory reuse
#         (false positives); our code's synchronisation is std::mutex, which TSan sees.
# Prints the wall time of each phase.
#   scripts/sanitizers.sh [asan|tsan|all]     (default all; JOBS defaults to 2)
# Needs clang, libclang-rt-14-dev and libtsan2 (scripts/install-deps.sh test).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"
jobs="${JOBS:-2}"
export CCACHE_BASEDIR="${repo_root}" CCACHE_NOHASHDIR=1
mode="${1:-all}"
exclude="deploy|prometheus|e2e|monitoring|bench|docs"

run() {  # name build_dir compiler_c compiler_cxx sanitize_flags ctest_label_args targets...
  local name="$1" build_dir="$2" cc="$3" cxx="$4" sanitize="$5" labels="$6"
  shift 6
  local targets=("$@") fuzzers=OFF
  local start built done_at status=0
  start=$(date +%s)
  [[ "${name}" == asan ]] && fuzzers=ON
  CC="${cc}" CXX="${cxx}" cmake -S . -B "${build_dir}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DDCDIR_BUILD_TESTS=ON -DDCDIR_BUILD_BENCHMARKS=OFF \
    -DCMAKE_C_FLAGS="${sanitize}" -DCMAKE_CXX_FLAGS="${sanitize}" \
    -DCMAKE_EXE_LINKER_FLAGS="${sanitize}" -DDCDIR_BUILD_FUZZERS="${fuzzers}" >/dev/null
  cmake --build "${build_dir}" -j"${jobs}" ${targets[@]+--target "${targets[@]}"}
  built=$(date +%s)
  # shellcheck disable=SC2086  # labels is a list of ctest options
  ctest --test-dir "${build_dir}" --output-on-failure -j"${jobs}" --timeout 900 ${labels} \
    || status=$?
  done_at=$(date +%s)
  echo "sanitizers ${name}: build $((built - start))s, tests $((done_at - built))s," \
    "total $((done_at - start))s, status ${status}"
  return "${status}"
}

asan() (
  # Leak checking stays on; gRPC's and protobuf's process-lifetime singletons are not leaks.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  export LSAN_OPTIONS="suppressions=${repo_root}/scripts/lsan.supp"
  run asan "${ASAN_BUILD_DIR:-build-asan}" clang clang++ \
      "-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
      "-LE ${exclude}"
)

tsan() (
  # No suppressions: the first report fails the test.
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
  run tsan "${TSAN_BUILD_DIR:-build-tsan}" gcc g++ "-fsanitize=thread -fno-omit-frame-pointer" \
    "-L tsan" dcdir_core_test dcdir_core_property_test dcdir_config_test dcdir_store_test \
    dcdir_runtime_test dcdir_audit_test
)

case "${mode}" in
  asan) asan ;;
  tsan) tsan ;;
  all) status=0; asan || status=$?; tsan || status=$?; exit "${status}" ;;
  *) echo "usage: $0 [asan|tsan|all]" >&2; exit 2 ;;
esac
