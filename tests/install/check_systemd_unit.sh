#!/usr/bin/env bash
# The staged systemd unit: `systemd-analyze verify` says nothing (it exits 0 on unknown keys and
# bad values, only printing them, so any output fails), and systemd's offline security score of
# the hardening is 1.5 or less (0 = fully locked down, 10 = no hardening).
#   check_systemd_unit.sh STAGE_DIR
# Exit 77 (ctest: skipped) with the reason when systemd-analyze is not installed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
stage="$1"
unit="$stage/lib/systemd/system/dcdir-server.service"
[[ -f "$unit" ]] || fail "no $unit (run install_staged_files)"
if ! command -v systemd-analyze >/dev/null; then
  log "SKIP: systemd-analyze is not installed (Debian package systemd): unit not verified"
  exit 77
fi
exec_start="ExecStart=$stage/bin/dcdir-server --config=$stage/etc/dcdir/world.yaml"
grep -qx "$exec_start \$DCDIR_SERVER_OPTS" "$unit" ||
  fail "$unit: ExecStart does not run the staged server: $(grep ExecStart= "$unit")"
systemd-analyze verify "$unit" >"$TMP/verify.log" 2>&1 ||
  fail "systemd-analyze verify failed: $(cat "$TMP/verify.log")"
[[ ! -s "$TMP/verify.log" ]] || fail "systemd-analyze verify warns: $(cat "$TMP/verify.log")"
log "ok: systemd-analyze verify: no warning"
systemd-analyze security --offline=yes --threshold=15 "$unit" >"$TMP/security.log" 2>&1 ||
  fail "exposure above 1.5: $(grep -E '✗|Overall' "$TMP/security.log")"
log "ok: $(grep -o 'Overall exposure level.*' "$TMP/security.log")"
