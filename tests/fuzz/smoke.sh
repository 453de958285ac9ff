#!/bin/bash
# A short libFuzzer run of each target (FUZZ_TIME seconds, default 5): any
# crash, leak or sanitizer report fails it. `make fuzz` runs them longer.
set -u
cd "$(dirname "$0")/../.."
t=${FUZZ_TIME:-5} pass=0 fail=0
if ! command -v clang >/dev/null; then
	echo "skip - fuzz smoke # clang is not installed (tools/install-deps.sh --test installs it)"
	exit 0
fi
make -s -j"$(nproc)" fuzz-build >/dev/null || { echo "not ok - fuzz targets build"; exit 1; }
for f in build/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	n=$(basename "$f")
	mkdir -p "build/fuzz/corpus-$n"
	out=$("$f" -max_total_time="$t" -max_len=4096 -print_final_stats=1 \
		-artifact_prefix=build/fuzz/ "build/fuzz/corpus-$n" tests/fuzz/seeds 2>&1); rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' <<<"$out")
	if [ "$rc" = 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' <<<"$out"; then
		echo "ok - fuzz $n: ${runs:-?} inputs in ${t}s, no crash, leak or sanitizer report"
		pass=$((pass + 1))
	else
		echo "not ok - fuzz $n (exit $rc)"; grep -E 'ERROR|SUMMARY|runtime error|artifact' <<<"$out" | head -5 | sed 's/^/    # /'
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]
