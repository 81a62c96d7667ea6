#!/usr/bin/env bash
# The sample app (examples/resolver-app), built outside the dcdir tree against the staged
# install only, resolves a directory from a real dcdir-server (the staged one, on the staged
# example world) and prints exactly the expected transcript.
#   check_sample_app.sh cmake|pkgconfig STAGE_DIR APP_SOURCE_DIR EXPECTED_TRANSCRIPT VERSION
# cmake:     its own CMakeLists.txt, find_package(dcdir CONFIG REQUIRED) with CMAKE_PREFIX_PATH;
#            also checks the staged server's dcdir_build_info metric.
# pkgconfig: c++ -std=c++17 main.cc $(pkg-config --cflags --libs dcdir-client) with
#            PKG_CONFIG_PATH pointing into the staging prefix.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
mode="$1" stage="$2" app_source="$3" expected="$4" version="$5"
[[ -x "$stage/bin/dcdir-server" ]] || fail "no staged install in $stage (run install_staged_files)"

# A copy of the app's sources in a temporary directory: nothing of the repository is reachable.
cp -r "$app_source" "$TMP/src"
app="$TMP/build/resolver-app"
case "$mode" in
  cmake)
    cmake -S "$TMP/src" -B "$TMP/build" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$stage" >"$TMP/configure.log" 2>&1 ||
      fail "configuring the app failed: $(cat "$TMP/configure.log")"
    cmake --build "$TMP/build" >"$TMP/build.log" 2>&1 ||
      fail "building the app failed: $(cat "$TMP/build.log")"
    grep -q "^dcdir_DIR:PATH=$stage/" "$TMP/build/CMakeCache.txt" ||
      fail "find_package(dcdir) found another package:" \
        "$(grep dcdir_DIR "$TMP/build/CMakeCache.txt")"
    ;;
  pkgconfig)
    pc_dir="$(dirname "$(find "$stage" -name dcdir-client.pc)")"
    export PKG_CONFIG_PATH="$pc_dir"
    [[ "$(pkg-config --modversion dcdir-client)" == "$version" ]] ||
      fail "pkg-config --modversion dcdir-client is not $version"
    mkdir -p "$TMP/build"
    # shellcheck disable=SC2046  # pkg-config prints a list of flags
    c++ -std=c++17 -O1 -o "$app" "$TMP/src/main.cc" $(pkg-config --cflags --libs dcdir-client) \
      >"$TMP/build.log" 2>&1 || fail "c++ with pkg-config flags failed: $(cat "$TMP/build.log")"
    ;;
  *) fail "mode must be cmake or pkgconfig, not $mode" ;;
esac
log "ok: built $app ($mode)"

start_server "$stage/bin/dcdir-server" "$stage/share/dcdir/world.yaml"
# One US DC and two Canadian ones: the answer is then fixed by the contract alone (one primary;
# the configured secondaries in their order, enough of them that nothing is topped up), not by
# the ranking formula. Mainland China's DCs stay unreported: no healthy compliant DC there.
report_healthy "$stage/bin/dcdirctl" us-den ca-yyz ca-yvr

resolver_transcript "$app" >"$TMP/transcript.txt"
sed "s|@VERSION@|$version|g" "$expected" >"$TMP/expected.txt"
expect_same "$TMP/expected.txt" "$TMP/transcript.txt" "resolver-app's transcript ($mode)"

if [[ "$mode" == cmake ]]; then
  metrics="$(curl -sf "http://127.0.0.1:$METRICS_PORT/metrics")" ||
    fail "no /metrics from the server"
  grep -qx "dcdir_build_info{version=\"$version\"} 1" <<<"$metrics" ||
    fail "no dcdir_build_info{version=\"$version\"} 1 in /metrics: $(grep build_info <<<"$metrics")"
  log "ok: the staged server exports dcdir_build_info{version=\"$version\"} 1"
fi
