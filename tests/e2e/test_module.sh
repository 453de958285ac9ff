#!/bin/bash
# pam_cell.so exports only the pam_sm_* entry points and loads with dlopen.
. "$(dirname "$0")/lib.sh"
so=$BUILD/pam_cell.so
syms=$(nm -D --defined-only "$so" | awk '$2 == "T" || $2 == "D" || $2 == "B" { print $3 }' | sort | tr '\n' ' ')
eq "pam_cell.so exports only pam_sm_open_session and pam_sm_close_session" \
	"pam_sm_close_session pam_sm_open_session " "$syms"
eq "pam_cell.so loads with dlopen (RTLD_NOW) and resolves its entry points" ok "$("$BUILD/tests/dlopen_check" "$so" 2>&1)"
needed=$(readelf -d "$so" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
# (libsubid, with libselinux, libsemanage, libaudit behind it, only when
# nsswitch.conf names a subid source other than files: dlopen, test_nss.sh.)
eq "pam_cell.so needs only libc, libpam and libseccomp" "libc.so.6 libpam.so.0 libseccomp.so.2 " "$needed"
check "cellsh is not setuid" test ! -u "$BUILD/cellsh"
if command -v getcap >/dev/null; then
	eq "cellsh has no file capabilities" "" "$(getcap "$BUILD/cellsh" 2>&1)"
else
	not_ok "cellsh has no file capabilities" "getcap is missing: install libcap2-bin (tools/install-deps.sh does)"
fi
check "cellsh is static: no dynamic loader reads LD_* from the login environment" \
	sh -c "! readelf -l '$BUILD/cellsh' | grep -q 'Requesting program interpreter'"
# cell-init starts for every cell: static, it loads nothing (pam_cell asks
# systemd for the scope, the only use it had for libsystemd).
check "cell-init is static: its exec loads no library" \
	sh -c "! readelf -l '$BUILD/cell-init' | grep -q 'Requesting program interpreter' && ! readelf -d '$BUILD/cell-init' | grep -q NEEDED"
lacks "... and has no sd-bus code in it (no libsystemd to dlopen)" "systemd_scope_start" "$(nm "$BUILD/cell-init")"
out=$(env LD_PRELOAD=/nonexistent/evil.so "$BUILD/cellsh" -c true 2>&1)
lacks "LD_PRELOAD is never acted on by cellsh" "ld.so" "$out"
finish
