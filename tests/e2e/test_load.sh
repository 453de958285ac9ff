#!/bin/bash
# Load: 50 logins of 5 users at once - ssh shells on a pty, ssh commands and
# scp uploads mixed - all succeed, each sees only its own user's cell, and
# nothing is left afterwards. Prints the wall time.
. "$(dirname "$0")/lib.sh"
setup_common
USERS=()
for i in 1 2 3 4 5; do new_user u; USERS+=("$u"); done
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[user ct$$u*]"
MOUNTS_BEFORE=$(host_mounts)
start_sshd "MaxStartups 200
MaxSessions 100" || exit 1
echo payload >"$W/file"; chmod 0644 "$W/file"
# Inside: who am I, which cell, and whose processes can I see?
PROBE='echo "ME=$(id -un) CELL=$CELL_ID OWNERS=$(ps -eo user= | sort -u | tr "\n" ,) PID1=$(ps -o comm= -p 1)"'

one() { # one N: login number N
	local n=$1 u=${USERS[$(($1 % 5))]}
	case $((n % 3)) in
	0) run_pty "$u" "$PROBE" ;;
	1) ssh "${SSH_BASE[@]}" -p "$PORT" "$u@127.0.0.1" "$PROBE" ;;
	2) scp -q "${SSH_BASE[@]}" -P "$PORT" "$W/file" "$u@127.0.0.1:up-$n" &&
		echo "ME=$u SCP-OK" ;;
	esac
}

t0=$(date +%s%N)
pids=()
for n in $(seq 0 49); do one "$n" >"$W/out.$n" 2>&1 & pids+=($!); done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
wall=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
say "# 50 concurrent logins (5 users, pty/command/scp) took ${wall}s of wall time"
eq "all 50 logins succeed" 0 "$failed"

bad=0 cells=()
for n in $(seq 0 49); do
	u=${USERS[$((n % 5))]}
	line=$(grep -avF 'echo "ME=' "$W/out.$n" | grep -aoE 'ME=.*' | tail -1 | tr -d '\r')
	case $((n % 3)) in
	2) [ "$line" = "ME=$u SCP-OK" ] && [ -f "$(getent passwd "$u" | cut -d: -f6)/up-$n" ] ||
		{ bad=$((bad + 1)); say "    # login $n: $line"; } ;;
	*) if [[ $line == "ME=$u CELL="*" OWNERS=$u, PID1=cell-init" ]]; then
		cells+=("$(sed 's/.*CELL=\([0-9a-f]*\).*/\1/' <<<"$line")")
	   else bad=$((bad + 1)); say "    # login $n: $(head -c 300 "$W/out.$n")"; fi ;;
	esac
done
eq "every login is in its own user's cell and sees only that user's processes" 0 "$bad"
eq "every shell and command login had its own cell" 34 "$(printf '%s\n' "${cells[@]}" | sort -u | wc -l)"

if wait_for 30 sh -c 'for u in "$@"; do pgrep -u "$u" >/dev/null && exit 1; done; exit 0' sh "${USERS[@]}"; then
	ok "no process of any test user is left"
else
	not_ok "no process of any test user is left" "$(ps -o pid,user,args -u "$(IFS=,; echo "${USERS[*]}")")"
fi
check "no registry entry is left" wait_for 20 no_registry
check "no cell cgroup is left" wait_for 20 no_cell_cgroups
eq "the host's mount table is unchanged" "$MOUNTS_BEFORE" "$(host_mounts)"
finish
