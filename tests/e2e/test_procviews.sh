#!/bin/bash
# Proc views (proc_views = yes): free, top, uptime, ps and /proc/meminfo,
# loadavg, stat, uptime describe the cell, through the real sshd; a profile
# without them sees the host. The server (cell-procfs) is one per host,
# runs as nobody, comes back when killed, and is refused cleanly when it
# cannot start.
. "$(dirname "$0")/lib.sh"
setup_common
new_user P
new_user Q
host_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[user $P]
memory_max = 200M
proc_views = yes
[user $Q]
memory_max = 200M"
start_sshd || exit 1

# Without its server's program beside cell-init, a login with proc views is
# refused, naming the cause (and no shell runs anywhere).
if procfs_served; then
	skip "a login is refused when cell-procfs cannot start" \
		"a server from outside this test already serves /run/cell/procfs"
else
	mkdir "$W/bin2" && install -m 0755 "$W/bin/cell-init" "$W/bin2/"
	sed -i "s|^cell_init = .*|cell_init = $W/bin2/cell-init|" "$CONF"
	out=$(ssh_to "$P" 'echo INSIDE' 2>&1)
	lacks "without cell-procfs beside cell-init the login is refused" "INSIDE" "$out"
	check "... and the log names the missing server" grep -q "proc views: .*cell-procfs" "$LOG"
	has "cellctl check names it too, with the fix" "FAIL  proc_views = yes needs $W/bin2/cell-procfs beside cell_init" \
		"$("$BUILD/cellctl" --conf "$CONF" check --user "$P" 2>&1)"
	sed -i "s|^cell_init = .*|cell_init = $W/bin/cell-init|" "$CONF"
	check "... and no server is left half-started" sh -c '! pgrep -x cell-procfs >/dev/null'
fi

has "with it in place, cellctl check is content" "ok    proc views: /dev/fuse and $W/bin/cell-procfs" \
	"$("$BUILD/cellctl" --conf "$CONF" check --user "$P" 2>&1)"

# One session: the figures at rest, then with 64 MiB held and 2 s of cpu.
ssh_to "$P" '
	free -m | awk "/^Mem:/ { print \"total\", \$2; print \"used0\", \$3 }"
	awk "/^MemTotal:/ { print \"memtotal\", \$2 }" /proc/meminfo
	awk "{ print \"uptime\", int(\$1) }" /proc/uptime
	echo "etimes $(ps -o etimes= -p $$ | tr -d " ")"
	echo "btime_skew $(( $(awk "/^btime/ { print \$2 }" /proc/stat) + $(cut -d. -f1 /proc/uptime) - $(date +%s) ))"
	python3 -c "
import time
b = bytearray(64 << 20)
for i in range(0, len(b), 4096): b[i] = 1
print(\"held\", flush=True)
t = time.time()
while time.time() - t < 2: pass
time.sleep(30)" >"$HOME/hog.out" &
	for i in $(seq 50); do grep -q held "$HOME/hog.out" 2>/dev/null && break; sleep 0.1; done
	sleep 2.5
	free -m | awk "/^Mem:/ { print \"used1\", \$3 }"
	awk "{ print \"load1\", \$1; split(\$4, t, \"/\"); print \"threads\", t[2] }" /proc/loadavg
	awk -v hz=$(getconf CLK_TCK) "/^cpu / { print \"cpuused\", \$2 + \$4; print \"cputotal\", \$2 + \$3 + \$4 + \$5 }" /proc/stat
	echo "ncpu $(grep -c "^cpu[0-9]" /proc/stat)"
	awk "{ print \"uptime_f\", \$1 }" /proc/uptime
	top -bn1 | awk "/Mem :/ { print \"topmem\", \$4 }"
	kill %1
' >"$W/p.out" 2>&1
v() { awk -v k="$1" '$1 == k { print $2; exit }' "$W/p.out"; }
eq "free -m: total is the cell's memory_max (200M)" "200" "$(v total)"
eq "/proc/meminfo MemTotal is 204800 kB" "204800" "$(v memtotal)"
check "used memory is the cell's: $(v used0) MiB at rest, far below the host's" \
	test "$(v used0)" -lt 100
check "... and 64 MiB more with a 64 MiB hog: $(v used0) -> $(v used1)" \
	test "$(( $(v used1) - $(v used0) ))" -ge 56 -a "$(( $(v used1) - $(v used0) ))" -le 100
eq "top's header says 200.0 MiB" "200.0" "$(v topmem)"
check "uptime is the cell's age: $(v uptime) s (the host's: $(cut -d. -f1 /proc/uptime) s)" \
	test "$(v uptime)" -lt 30
check "ps's elapsed time of the shell agrees: $(v etimes) s" test "$(v etimes)" -le "$(v uptime)"
check "btime + uptime is now (skew $(v btime_skew) s)" test "$(v btime_skew)" -ge -2 -a "$(v btime_skew)" -le 2
check "the 1-minute load shows the cell's 2 s of cpu: $(v load1) (host: $(cut -d' ' -f1 /proc/loadavg))" \
	awk -v l="$(v load1)" 'BEGIN { exit !(l >= 0.01 && l <= 0.5) }'
check "loadavg counts the cell's threads: $(v threads)" test "$(v threads)" -ge 2 -a "$(v threads)" -le 20
check "/proc/stat's cpu line holds the cell's cpu time: $(v cpuused) ticks (>= 2 s)" \
	test "$(v cpuused)" -ge 180
check "... and the rest of ncpu x uptime is idle: total $(v cputotal) ticks for $(v ncpu) CPUs x $(v uptime_f) s" \
	awk -v t="$(v cputotal)" -v n="$(v ncpu)" -v u="$(v uptime_f)" -v hz="$(getconf CLK_TCK)" \
	'BEGIN { w = n * u * hz; exit !(t >= w * 0.9 && t <= w * 1.1) }'

# The control: the same limits without proc views see the host.
ssh_to "$Q" '
	awk "/^MemTotal:/ { print \"memtotal\", \$2 }" /proc/meminfo
	awk "{ print \"uptime\", int(\$1) }" /proc/uptime' >"$W/q.out" 2>&1
eq "without proc views MemTotal is the host's" "$host_kb" "$(awk '$1 == "memtotal" { print $2 }' "$W/q.out")"
check "... and uptime the host's" test "$(awk '$1 == "uptime" { print $2 }' "$W/q.out")" -ge "$(cut -d. -f1 /proc/uptime | awk '{ print $1 - 60 }')"

# The server: one, as nobody; a reader outside every cell gets the host's.
pid=$(procfs_pid)
check "one cell-procfs serves /run/cell/procfs" test "$(pgrep -cx cell-procfs)" = 1
eq "... as nobody" "nobody" "$(ps -o user= -p "$pid" | tr -d ' ')"
eq "... not dumpable (its /proc/PID files are root's: no ptrace by another nobody)" "root" "$(stat -c %U /proc/"$pid"/status)"
eq "a reader outside every cell gets the host's MemTotal" \
	"$(grep MemTotal /proc/meminfo)" "$(grep MemTotal /run/cell/procfs/meminfo)"
lacks "the server is no cell's: not in one's cgroup" "/cell/" "$(cat /proc/"$pid"/cgroup)"

# Killed, it is started again by the next login.
kill -KILL "$pid"
wait_for 5 sh -c "! kill -0 $pid 2>/dev/null"
out=$(ssh_to "$P" 'awk "/^MemTotal:/ { print \$2 }" /proc/meminfo' 2>&1)
eq "after the server was killed, the next login starts a new one and sees 204800 kB" "204800" "$out"
check "... served by a new process" sh -c "[ -n \"\$(pgrep -x cell-procfs)\" ] && [ \"\$(pgrep -x cell-procfs)\" != $pid ]"

check "after the sessions, nothing of the cells is left" wait_for 30 cell_gone "$P"
pid=$(procfs_pid)
stop_procfs
check "unmounted, the server exits and leaves no mount" \
	sh -c "! kill -0 $pid 2>/dev/null && ! grep -q ' /run/cell/procfs ' /proc/self/mountinfo"
finish
