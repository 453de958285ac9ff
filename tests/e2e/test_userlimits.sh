#!/bin/bash
# Limits per user, not per session: with user_pids_max, user_memory_max and
# user_cpu_weight, all of a user's cells sit in one cgroup of the user's
# that carries them. Two sessions of one user together cannot fork past
# user_pids_max (each alone could: pids_max is higher), another user is not
# touched, and the user's cgroup goes with their last cell.
. "$(dirname "$0")/lib.sh"
setup_common
new_user P
new_user Q
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[user $P]
pids_max = 200
user_pids_max = 60
memory_max = 256M
user_memory_max = 300M
user_cpu_weight = 50
[user $Q]
pids_max = 200"
start_sshd || exit 1
uid=$(id -u "$P")
# forks N: how many of N children (each sleeping 20 s) could be forked
FORKS='import os, sys, time
n = 0
for i in range(int(sys.argv[1])):
    try:
        if os.fork() == 0:
            time.sleep(20); os._exit(0)
        n += 1
    except OSError:
        break
print("forked", n, flush=True)
time.sleep(20)'

ssh_to "$P" "python3 -c '$FORKS' 40" >"$W/a.out" 2>&1 &
first=$!
STARTED_PIDS+=($first)
wait_for 10 grep -q forked "$W/a.out"
eq "the first session of P forks 40 (pids_max = 200)" "forked 40" "$(cat "$W/a.out")"
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
	pd=/sys/fs/cgroup/cell/u$uid md=$pd cd=$pd mem=memory.max cpu=cpu.weight cpuv=50
else	# v1: a hierarchy per controller; cpu.shares is the weight scaled (100 = 1024)
	pd=/sys/fs/cgroup/pids/cell/u$uid md=/sys/fs/cgroup/memory/cell/u$uid
	cd=/sys/fs/cgroup/cpu/cell/u$uid mem=memory.limit_in_bytes cpu=cpu.shares cpuv=512
fi
eq "P's cells are in a cgroup of P's: pids.max = user_pids_max" "60" "$(cat "$pd/pids.max" 2>&1)"
eq "... $mem = user_memory_max" "$((300 << 20))" "$(cat "$md/$mem" 2>&1)"
eq "... $cpu from user_cpu_weight = 50" "$cpuv" "$(cat "$cd/$cpu" 2>&1)"
check "... and the cell's own cgroup is below it" sh -c "ls '$pd' | grep -qE '^[0-9a-f]{32}$'"
out=$(ssh_to "$P" "python3 -c '$FORKS' 40" 2>&1 | head -1)
n=$(awk '/forked/ { print $2 }' <<<"$out")
check "a second session of P cannot fork 40 more: the user's total is capped (forked ${n:-none})" \
	test -n "$n" -a "${n:-99}" -lt 40
out=$(ssh_to "$Q" "python3 -c '$FORKS' 40" 2>&1 | head -1)
eq "meanwhile another user forks all 40" "forked 40" "$out"
wait "$first"
check "after the sessions, nothing is left: no cell, no user cgroup" wait_for 30 cell_gone "$P"
finish
