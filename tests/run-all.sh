#!/bin/bash
# Run every test: unit (cmocka), module checks, then the root end-to-end
# suites (real namespaces, a real sshd, su). Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0 skip=0
log=$(mktemp)
img_pid="" img_log=""
# (An interrupted run stops the image build with its whole process group.)
trap 'rm -f "$log" $img_log; [ -z "$img_pid" ] || kill -- -"$img_pid" 2>/dev/null' EXIT

tally() { # tally NAME STATUS OUTPUT-FILE SECONDS, counting TAP-ish and cmocka lines
	local p f s
	p=$(grep -cE '^(ok -|\[       OK \])' "$3")
	f=$(grep -cE '^(not ok -|\[  FAILED  \] [a-z_]+$|\[  ERROR   \])' "$3")
	s=$(grep -cE '^(skip -|\[  SKIPPED \] [a-z_]+$)' "$3")
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $1 exited $2"; fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	printf '== %s: %d passed, %d failed, %d skipped (%d s)\n' "$1" "$p" "$f" "$s" "$4"
}

run() { # run NAME COMMAND...
	local t0=$SECONDS
	echo "== $1"
	"${@:2}" 2>&1 | tee "$log"
	tally "$1" "${PIPESTATUS[0]}" "$log" $((SECONDS - t0))
}

# The systemd guest's image (~2 min to build when not cached: mostly
# downloads and dpkg) is built while the unit tests and the fuzz build run,
# and waited for before the end-to-end suites, whose timings it must not
# disturb. A failed build is the systemd guest's to report (it tries again).
if [ "$(id -u)" = 0 ]; then
	img_log=$(mktemp)
	setsid tests/vm/image.sh >"$img_log" 2>&1 </dev/null &
	img_pid=$!
fi
for t in build/tests/test_*; do run "unit $(basename "$t")" "$t"; done
run "unit tests under ASan+UBSan" make -s check-asan
run "format" sh -c 'make -s format-check && echo "ok - the sources match .clang-format"'
run "module exports" tests/e2e/test_module.sh
run "fuzz smoke" tests/fuzz/smoke.sh
if [ "$(id -u)" = 0 ]; then
	t0=$SECONDS
	wait "$img_pid" || { echo "(the guest image's build failed; the systemd guest will say why)"; tail -5 "$img_log"; }
	echo "== the guest image: ready after $((SECONDS - t0)) s more"
	img_pid=""
	for t in tests/e2e/test_*.sh tests/escape/test_*.sh; do
		[ "$t" = tests/e2e/test_module.sh ] && continue
		[ -x "$t" ] && run "$(basename "$t" .sh)" timeout 300 "$t"
	done
	# A booted Debian 12 under QEMU: ~90 s to build its image the first
	# time (cached after), ~40 s to boot, ~1 min of cases.
	run "systemd guest" timeout 900 tests/vm/test_systemd.sh
	# The Debian package built from this tree (dpkg-buildpackage, lintian),
	# installed, used and purged on a fresh guest: ~2 min.
	run "package guest" timeout 900 tests/vm/test_package.sh
else
	echo "skip - end-to-end suites # they need root (users, namespaces, sshd)"
	skip=$((skip + 1))
fi
echo "$pass passed, $fail failed, $skip skipped ($SECONDS s in all)"
[ "$fail" -eq 0 ]
