#!/usr/bin/env bash
# The Debian packages: `cpack -G DEB` builds dcdir-server, dcdir-tools and libdcdir-client-dev;
# their contents are exactly the expected lists, their Depends name the package of every shared
# library the binaries need (dpkg-shlibdeps); then, as root, `dpkg -i` of the three, the
# installed binaries' --version, `systemd-analyze verify` and an offline security score of the
# installed unit, and the sample app built with the installed pkg-config file and run against the
# installed server. The packages are purged at the end, also when a step fails.
#   check_deb_packages.sh BUILD_DIR LIBDIR CONFIG TESTDATA_DIR APP_SOURCE_DIR VERSION
# Exit 77 (ctest: skipped, with the reason printed) when not root: dpkg -i needs it.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build_dir="$1" libdir="$2" config="$3" testdata="$4" app_source="$5" version="$6"
packages=(dcdir-server dcdir-tools libdcdir-client-dev)
arch="$(dpkg --print-architecture)"

# ---- build the packages ----
cpack --config "$build_dir/CPackConfig.cmake" -G DEB -B "$TMP/packages" >"$TMP/cpack.log" 2>&1 ||
  fail "cpack -G DEB failed: $(cat "$TMP/cpack.log")"
(cd "$TMP/packages" && ls -1 ./*.deb) | sed 's|^\./||' >"$TMP/debs.txt"
printf '%s\n' "${packages[@]/%/_$version-1_$arch.deb}" | LC_ALL=C sort >"$TMP/debs-expected.txt"
expect_same "$TMP/debs-expected.txt" "$TMP/debs.txt" "the .deb files cpack made"
deb() { echo "$TMP/packages/$1_$version-1_$arch.deb"; }

# ---- contents and control fields ----
for p in "${packages[@]}"; do
  dpkg-deb --contents "$(deb "$p")" | awk '{print $1, $2, $6}' | LC_ALL=C sort >"$TMP/$p.contents"
  sed -e "s|@LIBDIR@|$libdir|g" -e "s|@CONFIG@|$config|g" "$testdata/deb-$p.contents" |
    LC_ALL=C sort -u >"$TMP/$p.expected"
  expect_same "$TMP/$p.expected" "$TMP/$p.contents" "dpkg-deb --contents of $p"
  [[ "$(dpkg-deb -f "$(deb "$p")" Package)" == "$p" ]] || fail "$p: wrong Package field"
  [[ "$(dpkg-deb -f "$(deb "$p")" Version)" == "$version-1" ]] ||
    fail "$p: Version is not $version-1"
done
dev_depends="$(dpkg-deb -f "$(deb libdcdir-client-dev)" Depends)"
[[ "$dev_depends" == "libgrpc++-dev, libprotobuf-dev, libabsl-dev, protobuf-compiler-grpc, libssl-dev" ]] ||
  fail "libdcdir-client-dev Depends: \"$dev_depends\""

# Every shared library a packaged binary needs (ELF NEEDED) belongs to a package in its Depends.
check_shlibdeps() {  # PACKAGE BINARY...
  local p="$1" bin soname owners
  shift
  local depends
  depends=" $(dpkg-deb -f "$(deb "$p")" Depends | sed -E 's/ \([^)]*\)//g; s/,/ /g') "
  dpkg-deb -x "$(deb "$p")" "$TMP/root-$p"
  for bin in "$@"; do
    for soname in $(readelf -d "$TMP/root-$p/usr/bin/$bin" |
      sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      owners="$(dpkg -S "*/$soname" 2>/dev/null | grep -v '^diversion' | sed 's|: /.*||' |
        tr ',' '\n' | sed 's/^ *//; s/:.*//' | sort -u)"
      [[ -n "$owners" ]] || fail "$bin needs $soname, which no installed package provides"
      local found=0 o
      for o in $owners; do [[ "$depends" == *" $o "* ]] && found=1; done
      ((found)) || fail "$p: $bin needs $soname (package $owners), not in Depends:$depends"
    done
  done
  log "ok: $p Depends covers every library its binaries need:$depends"
}
check_shlibdeps dcdir-server dcdir-server
check_shlibdeps dcdir-tools dcdirctl dcdir-agent

# ---- install, use, remove (root only) ----
if [[ "$(id -u)" -ne 0 ]]; then
  log "SKIP: installing the packages needs root (CI runs as root); build and contents checked"
  exit 77
fi
for p in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    fail "$p is already installed on this machine; the test installs and purges it and will not" \
      "touch an existing installation (remove it with: dpkg --purge ${packages[*]})"
  fi
done
# dpkg takes its lock without waiting: retry while another dpkg/apt run holds it.
dpkg_retry() {
  local i
  for i in $(seq 60); do
    if dpkg "$@" >"$TMP/dpkg.log" 2>&1; then return 0; fi
    grep -q "lock" "$TMP/dpkg.log" || return 1
    sleep 2
  done
  return 1
}
installed=1  # from here on, purge at exit whatever happens (read by the CLEANUP entry)
CLEANUP+=("((installed)) && { dpkg_retry --purge ${packages[*]} ||
  log \"purge failed: \$(cat $TMP/dpkg.log)\"; }")
dpkg_retry -i "$(deb dcdir-server)" "$(deb dcdir-tools)" "$(deb libdcdir-client-dev)" ||
  fail "dpkg -i failed: $(cat "$TMP/dpkg.log")"
log "ok: dpkg -i ${packages[*]}"

for bin in dcdir-server dcdirctl dcdir-agent; do
  got="$("/usr/bin/$bin" --version)"
  [[ "$got" == "$bin $version" ]] || fail "/usr/bin/$bin --version printed \"$got\""
done
log "ok: /usr/bin/dcdir-server, dcdirctl and dcdir-agent --version print $version"

unit=/usr/lib/systemd/system/dcdir-server.service
[[ -f "$unit" ]] || fail "$unit is not installed"
grep -qx "ExecStart=/usr/bin/dcdir-server --config=/etc/dcdir/world.yaml \$DCDIR_SERVER_OPTS" \
  "$unit" || fail "$unit does not run /usr/bin/dcdir-server --config=/etc/dcdir/world.yaml"
if command -v systemd-analyze >/dev/null; then
  # verify exits 0 on unknown keys and bad values too (it only warns): any output is a failure.
  systemd-analyze verify "$unit" >"$TMP/verify.log" 2>&1 ||
    fail "systemd-analyze verify: $(cat "$TMP/verify.log")"
  [[ ! -s "$TMP/verify.log" ]] || fail "systemd-analyze verify warns: $(cat "$TMP/verify.log")"
  log "ok: systemd-analyze verify $unit: no warning"
  # The hardening, scored by systemd itself (0 = fully locked down, 10 = none); 1.5 or less.
  systemd-analyze security --offline=yes --threshold=15 "$unit" >"$TMP/security.log" 2>&1 ||
    fail "systemd-analyze security: exposure above 1.5: $(tail -3 "$TMP/security.log")"
  log "ok: $(grep -o 'Overall exposure level.*' "$TMP/security.log")"
else  # install_systemd_unit then shows as skipped too
  log "not verified: systemd-analyze is not installed (Debian package systemd)"
fi

# The sample app against the installed -dev package (default pkg-config path) and server.
cp -r "$app_source" "$TMP/src"
# shellcheck disable=SC2046  # pkg-config prints a list of flags
c++ -std=c++17 -O1 -o "$TMP/resolver-app" "$TMP/src/main.cc" \
  $(env -u PKG_CONFIG_PATH pkg-config --cflags --libs dcdir-client) >"$TMP/build.log" 2>&1 ||
  fail "building the app with the installed dcdir-client.pc failed: $(cat "$TMP/build.log")"
start_server /usr/bin/dcdir-server /usr/share/dcdir/world.yaml
report_healthy /usr/bin/dcdirctl us-den ca-yyz ca-yvr
resolver_transcript "$TMP/resolver-app" >"$TMP/transcript.txt"
sed "s|@VERSION@|$version|g" "$testdata/resolver-app.transcript" >"$TMP/transcript.expected"
expect_same "$TMP/transcript.expected" "$TMP/transcript.txt" \
  "resolver-app's transcript against the installed packages"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true

# ---- remove ----
dpkg_retry --purge "${packages[@]}" || fail "dpkg --purge failed: $(cat "$TMP/dpkg.log")"
# shellcheck disable=SC2034  # read by the CLEANUP entry
installed=0
for p in "${packages[@]}"; do
  ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    fail "$p is still installed"
done
[[ ! -e /usr/bin/dcdir-server && ! -e "$unit" && ! -e /usr/include/dcdir ]] ||
  fail "files left behind after dpkg --purge"
log "ok: dpkg --purge removed ${packages[*]}"
