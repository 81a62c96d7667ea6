#!/usr/bin/env bash
# `cmake --install` into a staging prefix installs exactly the files of the expected list; the
# staged binaries print the version; the package's version file accepts the same major only.
#   check_staged_install.sh BUILD_DIR STAGE_DIR LIBDIR CONFIG EXPECTED_LIST VERSION
# STAGE_DIR is emptied first and kept afterwards: the sample-app tests build against it.
# EXPECTED_LIST holds one path per line relative to the prefix, @LIBDIR@ standing for
# CMAKE_INSTALL_LIBDIR (lib, or lib/<multiarch> when configured with the prefix /usr) and
# @CONFIG@ for the build type in lower case (the exported targets' per-configuration file).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build_dir="$1" stage="$2" libdir="$3" config="$4" expected_list="$5" version="$6"

rm -rf "$stage"
cmake --install "$build_dir" --prefix "$stage" >"$TMP/install.log" 2>&1 ||
  fail "cmake --install failed: $(cat "$TMP/install.log")"
(cd "$stage" && find . -type f -o -type l) | sed 's|^\./||' | LC_ALL=C sort >"$TMP/actual.txt"
sed -e "s|@LIBDIR@|$libdir|g" -e "s|@CONFIG@|$config|g" "$expected_list" |
  LC_ALL=C sort >"$TMP/expected.txt"
expect_same "$TMP/expected.txt" "$TMP/actual.txt" "the staged install's file list"

# The installed binaries run from the staging prefix and print the project version (VERSION:
# project(dcdir VERSION ...)), as does the installed header.
grep -qx "#define DCDIR_VERSION_STRING \"$version\"" "$stage/include/dcdir/client/version.h" ||
  fail "the installed version.h does not define DCDIR_VERSION_STRING \"$version\""
for bin in dcdir-server dcdirctl dcdir-agent; do
  got="$("$stage/bin/$bin" --version)"
  [[ "$got" == "$bin $version" ]] || fail "$bin --version printed \"$got\", not \"$bin $version\""
done
log "ok: dcdir-server, dcdirctl and dcdir-agent --version print $version"

# The CMake package's version file (SameMajorVersion): which versions find_package(dcdir V)
# accepts, asked the way find_package asks it.
major="${version%%.*}"
cat >"$TMP/version_check.cmake" <<CMAKE
foreach(wanted IN ITEMS $major.0 $version $((major + 1)).0 $major.999)
  set(PACKAGE_FIND_VERSION \${wanted})
  string(REPLACE "." ";" parts \${wanted})
  list(GET parts 0 PACKAGE_FIND_VERSION_MAJOR)
  unset(PACKAGE_VERSION_COMPATIBLE)
  include("$stage/$libdir/cmake/dcdir/dcdirConfigVersion.cmake")
  message("\${wanted} \${PACKAGE_VERSION_COMPATIBLE}")
endforeach()
CMAKE
cmake -P "$TMP/version_check.cmake" >"$TMP/version_check.txt" 2>&1
printf '%s\n' "$major.0 TRUE" "$version TRUE" "$((major + 1)).0 FALSE" "$major.999 FALSE" \
  >"$TMP/version_check.expected"
expect_same "$TMP/version_check.expected" "$TMP/version_check.txt" \
  "find_package(dcdir V) acceptance of $major.0, $version, $((major + 1)).0, $major.999"
