#!/bin/bash
# make bench: what a confined login costs, measured side by side in one run
# against the tools admins would use instead. Root, Debian 12. Writes
# bench/results/latest.md (+ chart.png, machine.txt). BENCH_N sets the runs
# per measurement (default 40); BENCH_SCALE the idle-cell counts.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/e2e/lib.sh"
N=${BENCH_N:-40}
SCALE=${BENCH_SCALE:-"10 1000 5000"}
# BENCH_ONLY: some of the sections (start login growth images views network
# scale), for work on one of them; the report leaves the others blank.
want() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }
OUT=$TOP/bench/results
mkdir -p "$OUT"
# /run is a tmpfs on every systemd host, where the registry lives; where it
# is not (this kind of machine: /run on the root ext4, whose rename and
# create cost ~0.3 ms each), a tmpfs on /run/cell for the run, as a real
# host has, and said so in the report.
RUN_NOTE="" RUN_MADE=""
if [ "$(stat -f -c %T /run)" != tmpfs ] && ! mountpoint -q /run/cell; then
	[ -d /run/cell ] || RUN_MADE=1
	if [ -n "$(ls /run/cell 2>/dev/null | grep -E '^[0-9a-f]{32}$')" ]; then
		echo "bench: live cells in /run/cell; end them first" >&2; exit 1
	fi
	mkdir -p -m 0711 /run/cell && mount -t tmpfs -o mode=0711,size=64m cellbench /run/cell &&
		RUN_NOTE="This machine's /run is not a tmpfs: the run put one on /run/cell, as on a systemd host."
fi
setup_common >/dev/null
[ -n "$RUN_NOTE" ] && LAST_CLEANUP_CMDS+=("umount /run/cell${RUN_MADE:+ && rmdir /run/cell}")
B=$TOP/build/bench
new_user U
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[user $U]
memory_max = 256M"
HOME_U=$(getent passwd "$U" | cut -d: -f6)
CONF_BEFORE=$(cat "$CONF")
install_pam cell-bench "account required pam_unix.so
session required pam_unix.so
session required $W/pam_cell.so conf=$CONF"
start_sshd >/dev/null || exit 1

declare -A MED P90 NOTE
stats() { # stats NAME < one number (ms) per line
	sort -n | awk -v name="$1" '{ a[NR] = $1 } END {
		if (!NR) { print name, "-", "-"; exit }
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		p = a[int(NR * 0.9 + 0.5) < 1 ? 1 : int(NR * 0.9 + 0.5)]
		printf "%s %.2f %.2f\n", name, m, p }'
}
record() { read -r name m p; MED[$name]=$m; P90[$name]=$p; echo "  $name: median $m ms, p90 $p ms" >&2; }
# time_cmd NAME COMMAND...: N runs after 3 warm-ups, as given (root)
time_cmd() {
	local name=$1 i t0; shift
	for i in 1 2 3; do
		"$@" >/dev/null 2>"$W/err" || { NOTE[$name]="fails: $(head -c 200 "$W/err")"; echo "  $name: FAILS: $(cat "$W/err")" >&2; return; }
	done
	record < <(for ((i = 0; i < N; i++)); do
		t0=$(date +%s%N); "$@" >/dev/null 2>&1; echo $((($(date +%s%N) - t0) / 1000)) | awk '{ print $1 / 1000 }'
	done | stats "$name")
}
# The driver's timing mode, "PHASE MS" per line (indented phases are a
# phase's parts) -> "PHASE<tab>MEDIAN", in the order they first came.
phase_medians() {
	python3 -c '
import sys, statistics
order, vals = [], {}
for line in sys.stdin:
    phase, ms = line.rstrip("\n").rsplit(None, 1)
    if phase not in vals:
        order.append(phase)
        vals[phase] = []
    vals[phase].append(float(ms))
for phase in order:
    print("%s\t%.3f" % (phase, statistics.median(vals[phase])))'
}
# phases_grown BASE NEW: the phases of NEW (phase_medians' output) 0.25 ms
# or more slower than in BASE, largest first, as "phase +X ms, ...".
phases_grown() {
	awk 'NR == FNR { base[$1] = $2; next }
		($1 in base) && $1 != "total" && $2 - base[$1] >= 0.25 { printf "%.3f %s\n", $2 - base[$1], $1 }' \
		"$1" "$2" | sort -rn | awk '{ printf "%s%s +%.2f ms", (NR > 1 ? ", " : ""), $2, $1 }'
}
# The service cell-bench-timing: the cell row's stack, pam_cell with timing.
install_timing_pam() {
	install_pam cell-bench-timing "account required pam_unix.so
session required pam_unix.so
session required $W/pam_cell.so conf=$CONF timing"
}
as_user() { setpriv --reuid "$U" --regid "$U" --init-groups env -i HOME="$HOME_U" PATH=/usr/bin:/bin "$@"; }
peak_kib() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }

if want start; then
echo "== session start (N=$N)" >&2
ROOT=$W/minroot; mkdir -p "$ROOT/usr" "$ROOT/proc" "$ROOT/old"
for d in bin lib lib64; do ln -s "usr/$d" "$ROOT/$d"; done	# merged /usr
chown -R "$U" "$ROOT"
cd /
time_cmd none as_user /bin/true
time_cmd minimal as_user "$B/minimal" "$ROOT"
# unshare(1) needs bin and libs in ROOT: binds, set up once as root.
UROOT=$W/uroot; mkdir -p "$UROOT"/{usr,bin,lib,lib64,proc}
for d in usr bin lib lib64; do [ -e "/$d" ] && mount --bind "/$d" "$UROOT/$d"; done
time_cmd unshare as_user unshare -Urmupf --mount-proc="$UROOT/proc" /usr/sbin/chroot "$UROOT" /bin/true
BW=(bwrap --unshare-user --unshare-pid --unshare-ipc --unshare-uts --unshare-cgroup
	--ro-bind /usr /usr --ro-bind /bin /bin --ro-bind /sbin /sbin --ro-bind /lib /lib
	--ro-bind /lib64 /lib64 --ro-bind /etc /etc --bind "$HOME_U" "$HOME_U" --tmpfs /tmp
	--tmpfs /var/tmp --tmpfs /run --dev /dev --proc /proc --die-with-parent /bin/true)
time_cmd bubblewrap as_user "${BW[@]}"
# firejail mounts its own directories under /run/firejail at its first
# run and leaves them: ours to undo if they were not there.
if ! mountpoint -q /run/firejail/dbus 2>/dev/null && [ ! -e /run/firejail ]; then
	CLEANUP_CMDS+=("umount /run/firejail/firejail.ro.file /run/firejail/firejail.ro.dir /run/firejail/dbus; rm -rf /run/firejail")
fi
time_cmd firejail as_user firejail --quiet --noprofile /bin/true
NOTE[jailkit]="not measured: jk_chrootsh needs a chroot jail built per user (jk_init, jk_jailuser rewrites the user's passwd entry), not a per-session sandbox"
# Like with like: the cell row runs /bin/true inside too (the profile's
# shell: cellsh -c true execs "/bin/true -c true"); cell_bash is the
# everyday case, bash -c true.
# cell's own no-isolation row: the same driver and PAM stack without
# pam_cell, /bin/true as the user (run "/bin/true -c true": the fork,
# the drop to the user and the exec the cell row also has, and nothing of
# setpriv's). cell's overhead is over this, the others' over none.
install_pam cell-bench-plain "account required pam_unix.so
session required pam_unix.so"
"$B/driver" run cell-bench-plain "$U" 3 /bin/true >/dev/null || NOTE[none_pam]="driver failed"
CONF_MAIN=$(cat "$CONF")
printf '%s\nshell = /bin/true\n' "$CONF_MAIN" >"$CONF"
"$B/driver" run cell-bench "$U" 3 "$CELLSH" >/dev/null || NOTE[cell]="driver failed"
# In turns (5 rounds), so that the machine's drift falls on both alike.
: >"$W/cell.ms"; : >"$W/none_pam.ms"
for round in 1 2 3 4 5; do
	"$B/driver" run cell-bench "$U" $(( (N + 4) / 5 )) "$CELLSH" >>"$W/cell.ms"
	"$B/driver" run cell-bench-plain "$U" $(( (N + 4) / 5 )) /bin/true >>"$W/none_pam.ms"
done
record < <(stats cell <"$W/cell.ms")
record < <(stats none_pam <"$W/none_pam.ms")
PEAK_CELL=$(peak_kib "$B/driver" run cell-bench "$U" 1 "$CELLSH")
# Where one start goes: pam_cell's "timing" argument and cellsh's
# CELL_TIMING=1 report each phase; the median of each over N starts.
install_timing_pam
"$B/driver" timing cell-bench-timing "$U" 3 "$CELLSH" >/dev/null || NOTE[breakdown]="driver failed"
BREAKDOWN=$("$B/driver" timing cell-bench-timing "$U" "$N" "$CELLSH" | phase_medians |
	awk -F'\t' '{ gsub(/ /, "\\&nbsp;", $1); printf "| %s | %s |\n", $1, $2 }')
printf '%s\n' "$CONF_MAIN" >"$CONF"
"$B/driver" run cell-bench "$U" 3 "$CELLSH" >/dev/null || NOTE[cell_bash]="driver failed"
record < <("$B/driver" run cell-bench "$U" "$N" "$CELLSH" | stats cell_bash)
PEAK_BWRAP=$(peak_kib as_user "${BW[@]}")
PEAK_UNSHARE=$(peak_kib as_user unshare -Urmupf --mount-proc="$UROOT/proc" /usr/sbin/chroot "$UROOT" /bin/true)
for d in usr bin lib lib64; do umount "$UROOT/$d" 2>/dev/null; done
fi

if want login; then
echo "== login" >&2
# With and without pam_cell in turns (5 rounds), so that the machine's
# drift falls on both alike: U is confined (cellsh, bash inside); P, made
# alike with bash as its shell, logs in through the same stack less
# pam_cell. Only the PAM file changes between rounds, not the accounts.
new_user P /bin/bash
PAM_SSH_CELL=$(cat /etc/pam.d/sshd-celltest)
PAM_SSH_PLAIN=$(grep -v pam_cell /etc/pam.d/sshd-celltest)
SU_CELL=$(PAM_ROOT_SESSION)
SU_PLAIN=$(PAM_ROOT_SESSION | grep -v pam_cell)
OUT20='head -c 20000000 /dev/zero | tr "\0" x'
# time_into NAME COMMAND...: a warm-up, then N/5 runs, appended to $W/NAME.ms
time_into() {
	local name=$1 i t0; shift
	"$@" >/dev/null 2>"$W/err" || { NOTE[$name]="fails: $(head -c 200 "$W/err")"; echo "  $name: FAILS: $(cat "$W/err")" >&2; return; }
	for ((i = 0; i < (N + 4) / 5; i++)); do
		t0=$(date +%s%N); "$@" >/dev/null 2>&1; echo $((($(date +%s%N) - t0) / 1000)) | awk '{ print $1 / 1000 }'
	done >>"$W/$name.ms"
}
# su runs with its PAM file bound over /etc/pam.d/su in a private mount
# namespace (the machine's file is never written): one per stack, held for
# the whole section by a process of the run's own, as a host's su runs in
# one namespace whose logins share the template it holds (a fresh
# namespace per su would make a template for each).
declare -A SU_NS
for who in cell plain; do
	if [ $who = cell ]; then printf '%s\n' "$SU_CELL"; else printf '%s\n' "$SU_PLAIN"; fi >"$W/pam.su.$who"
	unshare -m --propagation private sh -c 'mount --bind "$1" /etc/pam.d/su &&
		{ mount --bind "$2" /dev/log 2>/dev/null; true; } && exec sleep 3600' \
		sh "$W/pam.su.$who" "${SINK_SOCK:-/dev/log}" &
	SU_NS[$who]=$!
	STARTED_PIDS+=("$!")
	wait_for 10 grep -qx sleep "/proc/${SU_NS[$who]}/comm"
done
for k in ssh tty tty20 su; do : >"$W/${k}_cell.ms"; : >"$W/${k}_plain.ms"; done
for round in 1 2 3 4 5; do
	for who in cell plain; do
		if [ $who = cell ]; then u=$U pam=$PAM_SSH_CELL; else u=$P pam=$PAM_SSH_PLAIN; fi
		printf '%s\n' "$pam" >/etc/pam.d/sshd-celltest
		time_into ssh_$who ssh "${SSH_BASE[@]}" -p "$PORT" "$u@127.0.0.1" true
		# On a terminal cellsh gives the shell a pty of the cell's own and
		# relays: a login's start, and 20 MB of output through it.
		time_into tty_$who ssh "${SSH_BASE[@]}" -tt -p "$PORT" "$u@127.0.0.1" true
		time_into tty20_$who ssh "${SSH_BASE[@]}" -tt -p "$PORT" "$u@127.0.0.1" "$OUT20"
		time_into su_$who nsenter -t "${SU_NS[$who]}" -m su "$u" -c true
	done
done
kill "${SU_NS[@]}"; wait "${SU_NS[@]}" 2>/dev/null
printf '%s\n' "$PAM_SSH_CELL" >/etc/pam.d/sshd-celltest
for k in ssh tty tty20 su; do
	for who in cell plain; do [ -s "$W/${k}_$who.ms" ] && record < <(stats "${k}_$who" <"$W/${k}_$who.ms"); done
done
fi

if want growth; then
echo "== growth" >&2
record < <("$B/driver" run cell-bench "$U" "$N" "$CELLSH" | stats home_2M)
fallocate -l 2G "$HOME_U/big" && chown "$U" "$HOME_U/big"
record < <("$B/driver" run cell-bench "$U" "$N" "$CELLSH" | stats home_2G)
rm -f "$HOME_U/big"
# The host's mount table: a namespace with 2000 more mounts, held by a
# process of the run's own, and starts in it and outside it taken in turns
# (5 rounds of each), so that the machine's drift falls on both alike.
# Bind mounts: no superblock each (2000 tmpfs superblocks would slow every
# memory cgroup's creation, inside the namespace and out, through the
# kernel's per-superblock shrinker slots, and hide what the table costs).
MOUNTS_BASE=$(wc -l </proc/self/mountinfo)
unshare -m --propagation private bash -c '
	for i in $(seq 2000); do mkdir -p "$1/m/$i" && mount --bind "$1/m/$i" "$1/m/$i"; done
	wc -l </proc/self/mountinfo >"$1/mounts-many.tmp" && mv "$1/mounts-many.tmp" "$1/mounts-many"
	exec sleep 3600' sh "$W" &
MANY_PID=$!
STARTED_PIDS+=("$MANY_PID")
wait_for 120 test -e "$W/mounts-many"
MOUNTS_MANY=$(cat "$W/mounts-many")
R=$(( (N + 4) / 5 ))
: >"$W/base.ms"; : >"$W/many.ms"
for round in 1 2 3 4 5; do
	"$B/driver" run cell-bench "$U" "$R" "$CELLSH" | tee -a "$W/base.ms" | tr "\n" " " >&2; echo >&2
	nsenter -t "$MANY_PID" -m "$B/driver" run cell-bench "$U" "$R" "$CELLSH" | tee -a "$W/many.ms" | tr "\n" " " >&2; echo >&2
done
# ... and their phases (the median of 10 each): what grows with the table.
install_timing_pam
"$B/driver" timing cell-bench-timing "$U" 10 "$CELLSH" | phase_medians >"$W/mphases.base"
nsenter -t "$MANY_PID" -m "$B/driver" timing cell-bench-timing "$U" 10 "$CELLSH" | phase_medians >"$W/mphases.many"
MOUNTS_GROWTH=$(phases_grown "$W/mphases.base" "$W/mphases.many")
# The way forward, probed: a start from a template namespace against a
# copy of the table (bench/template.c), in both namespaces.
TEMPLATE_BASE=$("$B/template" 20 2>&1) || TEMPLATE_BASE="fails: $TEMPLATE_BASE"
TEMPLATE_MANY=$(nsenter -t "$MANY_PID" -m "$B/template" 20 2>&1) || TEMPLATE_MANY="fails: $TEMPLATE_MANY"
kill "$MANY_PID"; wait "$MANY_PID" 2>/dev/null
record < <(stats mounts_base <"$W/base.ms")
record < <(stats mounts_many <"$W/many.ms")
# The host's accounts: a namespace whose /etc/passwd, group, subuid and
# subgid (bind mounts of copies) hold 20,000 more accounts, each with a
# range, and starts in it and outside taken in turns. The host's own files
# are never written.
NACC=${BENCH_ACCOUNTS:-20000}
mkdir -p "$W/accts"
for f in passwd group subuid subgid; do cp "/etc/$f" "$W/accts/$f"; done
python3 - "$W/accts" "$NACC" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
with open(d + "/passwd", "a") as p, open(d + "/group", "a") as g, \
        open(d + "/subuid", "a") as su, open(d + "/subgid", "a") as sg:
    for i in range(n):
        uid = 300000 + i
        p.write(f"cbacct{i}:x:{uid}:{uid}:bench account {i}:/home/cbacct{i}:/bin/bash\n")
        g.write(f"cbacct{i}:x:{uid}:\n")
        for f in (su, sg):
            f.write(f"cbacct{i}:{2000000000 + i * 65536}:65536\n")
PY
unshare -m --propagation private bash -c '
	for f in passwd group subuid subgid; do mount --bind "$1/accts/$f" "/etc/$f" || exit 1; done
	touch "$1/accts-ready"; exec sleep 3600' sh "$W" &
ACC_PID=$!
STARTED_PIDS+=("$ACC_PID")
wait_for 30 test -e "$W/accts-ready"
sleep 2.5	# (the bind mounts' ctime is now: nothing is kept for 2 s)
: >"$W/few.ms"; : >"$W/lots.ms"
# Each round's first login in a namespace finds the other's verdicts kept
# (one set per user, host-wide): it reads everything and is not counted.
for round in 1 2 3 4 5; do
	"$B/driver" run cell-bench "$U" 1 "$CELLSH" >/dev/null
	"$B/driver" run cell-bench "$U" "$R" "$CELLSH" >>"$W/few.ms"
	nsenter -t "$ACC_PID" -m "$B/driver" run cell-bench "$U" 1 "$CELLSH" >/dev/null
	nsenter -t "$ACC_PID" -m "$B/driver" run cell-bench "$U" "$R" "$CELLSH" >>"$W/lots.ms"
done
kill "$ACC_PID"; wait "$ACC_PID" 2>/dev/null
ACC_BASE=$(wc -l </etc/passwd)
record < <(stats accounts_base <"$W/few.ms")
record < <(stats accounts_many <"$W/lots.ms")
fi

if want images; then
echo "== images" >&2
# rootfs = image:NAME over a 20 MB and a 2 GB image (identity = root, a
# persistent upper): later logins, and first logins (the upper made anew).
STATE=/var/lib/cell
for d in $STATE $STATE/images $STATE/users; do [ -d "$d" ] || CREATED_PATHS+=("$d"); done
IB=bench$$
CREATED_PATHS+=("$STATE/images/${IB}s" "$STATE/images/${IB}l" "$STATE/users/$U")
"$TOP/tests/e2e/make-busybox-image.sh" "$W/img" >/dev/null
head -c 18M /dev/urandom >"$W/img/usr/filler"
"$TOP/build/cellctl" image import "${IB}s" "$W/img" >/dev/null
rm -f "$W/img/usr/filler"
"$TOP/build/cellctl" image import "${IB}l" "$W/img" >/dev/null
fallocate -l 2G "$STATE/images/${IB}l/usr/filler"
IMG_SIZE_S=$(du -sm "$STATE/images/${IB}s" | cut -f1) IMG_SIZE_L=$(du -sm "$STATE/images/${IB}l" | cut -f1)
img_conf() { write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[user $U]
memory_max = 256M
rootfs = image:$1
shell = /bin/sh
identity = root"; }
for s in s l; do
	img_conf "$IB$s"
	"$B/driver" run cell-bench "$U" 3 "$CELLSH" >/dev/null || NOTE[image_$s]="driver failed"
	record < <("$B/driver" run cell-bench "$U" "$N" "$CELLSH" | stats "image_$s")
	record < <(for ((i = 0; i < N; i++)); do
		# The last cell's monitor lets go of the upper just after the close.
		wait_for 10 "$TOP/build/cellctl" --conf "$CONF" user reset "$U" "$IB$s" >/dev/null 2>&1
		"$B/driver" run cell-bench "$U" 1 "$CELLSH"
	done | stats "image_first_$s")
done
printf '%s\n' "$CONF_BEFORE" >"$CONF"
fi

if want views; then
echo "== proc views" >&2
# proc_views = yes: the cell's start with the server already running, and
# the cost of one read of each file inside a cell, with and without.
READS='import sys, time
for f in ("meminfo", "loadavg", "stat"):
    p = "/proc/" + f
    for _ in range(50): open(p).read()
    t = time.perf_counter()
    for _ in range(int(sys.argv[1])): open(p).read()
    print(f, "%.1f" % ((time.perf_counter() - t) / int(sys.argv[1]) * 1e6))'
per_read() { # per_read LABEL: microseconds per read of each file, in a cell over ssh
	local f us
	while read -r f us; do MED[read_${f}_$1]=$us; done < <(ssh "${SSH_BASE[@]}" -p "$PORT" "$U@127.0.0.1" \
		"python3 -c '$READS' $((N * 50))" 2>/dev/null)
}
# The login section left sshd's stack without pam_cell: put it back.
install_pam sshd-celltest "account required pam_unix.so
session optional pam_umask.so umask=0077
session required pam_unix.so
session required $W/pam_cell.so conf=$CONF"
per_read host
record < <("$B/driver" run cell-bench "$U" "$N" "$CELLSH" | stats cell_again)
printf '%s\nproc_views = yes\n' "$CONF_BEFORE" >"$CONF"
"$B/driver" run cell-bench "$U" 3 "$CELLSH" >/dev/null || NOTE[cell_views]="driver failed"
record < <("$B/driver" run cell-bench "$U" "$N" "$CELLSH" | stats cell_views)
per_read views
PROCFS_PID=$(pgrep -x cell-procfs | head -1)
PROCFS_RSS=$(awk '/^Rss:/ { print $2 }' "/proc/$PROCFS_PID/smaps_rollup" 2>/dev/null)
PROCFS_PSS=$(awk '/^Pss:/ { print $2 }' "/proc/$PROCFS_PID/smaps_rollup" 2>/dev/null)
printf '%s\n' "$CONF_BEFORE" >"$CONF"
fi

if want network; then
echo "== network" >&2
# A cell's start with each net mode, one after the other in this run: host
# (the baseline), none, user (pasta), bridge (a bridge of the bench's own).
NETBR=cellbench$$
NETBR=${NETBR:0:15}
ip link add "$NETBR" type bridge && CLEANUP_CMDS+=("ip link del $NETBR")
[ -e /run/cell/lock-net ] || CLEANUP_CMDS+=("rm -f /run/cell/lock-net")
ip addr add 10.231.99.1/24 dev "$NETBR" && ip link set "$NETBR" up
tun_mode=$(stat -c %a /dev/net/tun 2>/dev/null)
if [ -n "$tun_mode" ] && [ "$tun_mode" != 666 ]; then
	chmod 0666 /dev/net/tun && CLEANUP_CMDS+=("chmod $tun_mode /dev/net/tun")
fi
for mode in host none user bridge; do
	case $mode in
	bridge) extra="net = bridge:$NETBR"$'\n'"net_pool = 10.231.99.0/24" ;;
	*) extra="net = $mode" ;;
	esac
	printf '%s\n%s\n' "$CONF_BEFORE" "$extra" >"$CONF"
	"$B/driver" run cell-bench "$U" 3 "$CELLSH" >/dev/null || NOTE[net_$mode]="driver failed"
	record < <("$B/driver" run cell-bench "$U" "$N" "$CELLSH" | stats "net_$mode")
done
printf '%s\n' "$CONF_BEFORE" >"$CONF"
# What none cannot go below: the kernel making a network namespace.
record < <("$B/driver" netns "$N" | stats netns_kernel)
fi

if want scale; then
echo "== scale" >&2
SCALE_ROWS=""
UID_U=$(id -u "$U")
# (cell-init's argument parser splits "key=value" in place: /proc shows "key value".)
cells_procs() { pgrep -f "^cell-init id.[0-9a-f]+ user.[^ ]+ uid.$UID_U " ; }
# Live cell-init processes (zombies wait for their login program to reap them).
live_inits() { ps -C cell-init -o stat= | grep -qv Z; }
no_live_inits() { ! live_inits; }
no_cell_files() { [ -z "$(cell_files)" ]; }
wait_for 60 sh -c '! ps -C cell-init -o stat= | grep -qv Z'	# earlier cells have ended
# Memory cgroups outlive their rmdir while pages are charged to them, with
# kernel memory that grows with the host's superblocks: a row starting
# while the row before's are still being freed would count their release
# against its own cells. Each row waits until the host is back to this many.
memcgs() { awk '$1 == "memory" { print $3 }' /proc/cgroups; }
MEMCG_BASE=$(memcgs)
memcgs_back() { [ "$(memcgs)" -le $((MEMCG_BASE + 5)) ]; }
install_timing_pam
SCALE_I=0 SCALE_KEYS=()
scale_run() { # scale_run N LABEL
	local n=$1 label=$2 avail used0 used1 pss procs v t0 down per_free per_pss held start closed _
	avail=$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)
	# Kernel memory per cell grows with the cells (each memory cgroup holds
	# a shrinker slot for every superblock: cgroups × superblocks), so the
	# last row's figure, scaled by the ratio of counts (an overestimate:
	# part of it is flat), must fit.
	need=$((n * 2 * 1024))
	if [ -n "${LAST_PER:-}" ] && [ "${LAST_PER:-0}" -gt 0 ]; then
		need=$((n * LAST_PER * n / LAST_N))
	fi
	if [ "$n" -gt 1 ] && [ "$avail" -lt "$need" ]; then
		SCALE_ROWS+="| $n$label | not run: it would need about $((need / 1024)) MiB, $((avail / 1024)) MiB available | | | | | |"$'\n'; return
	fi
	sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
	wait_for 120 memcgs_back ||
		echo "  (memory cgroups of the row before still there: $(memcgs), $MEMCG_BASE at the start)" >&2
	used0=$(free -k | awk '/^Mem:/ { print $3 }')
	cp /proc/meminfo "$W/meminfo.0"
	coproc HOLD { "$B/driver" hold cell-bench "$U" "$n"; }
	STARTED_PIDS+=("$HOLD_PID")	# an interrupted run closes them too
	read -r _ held start <&"${HOLD[0]}"
	sleep 1
	used1=$(free -k | awk '/^Mem:/ { print $3 }')
	# Where it went, by the kernel's own pools (the driver's heap is in
	# the anonymous pages too).
	pools=$(awk -v n="$n" 'NR == FNR { a[$1] = $2; next }
		$1 in name { printf "%s%s %.0f", (k++ ? ", " : ""), name[$1], ($2 - a[$1]) / n }
		BEGIN { name["AnonPages:"] = "anon"; name["Slab:"] = "slab"; name["PageTables:"] = "page tables"; name["KernelStack:"] = "kernel stacks" }' \
		"$W/meminfo.0" /proc/meminfo)
	# The driver holds N PAM handles: its own growth is not the cells'.
	drv=0
	for p in $(pgrep -f "bench/driver hold"); do
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null); drv=$((drv + ${v:-0}))
	done
	# One more start while these N are live (the login path must not
	# grow with the cells the host carries): the median of 20.
	"$B/driver" run cell-bench "$U" 3 "$CELLSH" >/dev/null
	one=$("$B/driver" run cell-bench "$U" 20 "$CELLSH" | stats x | cut -d' ' -f2)
	# ... and its phases (the median of 10), for what grows with N.
	SCALE_I=$((SCALE_I + 1)) SCALE_KEYS+=("$held$label")
	"$B/driver" timing cell-bench-timing "$U" 10 "$CELLSH" | phase_medians >"$W/phases.$SCALE_I"
	pss=0; procs=0
	for p in $(cells_procs); do
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
		pss=$((pss + ${v:-0})); procs=$((procs + 1))
	done
	t0=$(date +%s%N)
	echo go >&"${HOLD[1]}"
	read -r _ closed <&"${HOLD[0]}"
	wait "$HOLD_PID" 2>/dev/null
	# The end, checked cheapest first: ps reads every process's /proc
	# files (about 0.1 s of a core with 2000 cell-init processes), so
	# polled from the start it would take a core's share from the very
	# teardown it times. A monitor removes its registry files, then its
	# cgroups, then exits: wait for the files, the cgroups, the processes.
	wait_for 300 no_cell_files && wait_for 60 no_cell_cgroups && wait_for 60 no_live_inits
	down=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	per_free=$(( (used1 - used0 - drv) / held ))
	per_pss=$(( pss / held ))
	# (A few cells' delta is noise: only a row of hundreds guides the next.)
	[ -n "$label" ] || [ "$held" -lt 500 ] || { LAST_PER=$per_free; LAST_N=$held; }
	SCALE_ROWS+="| $held$label | $(printf %.2f "$start") s ($(awk -v s="$start" -v n="$held" 'BEGIN { printf "%.0f", n / s }') cells/s) | $one ms | $down s | $per_free KiB ($pools) | $per_pss KiB | $procs |"$'\n'
	echo "  $held idle cells: start ${start}s, one more ${one} ms, teardown ${down}s, free delta $per_free KiB/cell, PSS $per_pss KiB/cell" >&2
}
for n in $SCALE; do scale_run "$n" ""; done
# The same without cgroup limits: how much of a cell is its cgroups?
last=${SCALE##* }
sed -i 's/^memory_max = .*/memory_max = none\npids_max = none/' "$CONF"
scale_run "$last" " (no cgroups)"
# Each row's phases against the first row's: those that grew by 0.25 ms
# or more, largest first (what makes a start slower as cells accumulate).
SCALE_GROWTH=""
for ((i = 2; i <= SCALE_I; i++)); do
	SCALE_GROWTH+="| ${SCALE_KEYS[i - 1]} | $(phases_grown "$W/phases.1" "$W/phases.$i") | $(awk '$1 == "total" { print $2 }' "$W/phases.$i") ms (first row $(awk '$1 == "total" { print $2 }' "$W/phases.1")) |"$'\n'
done
fi

# ---- report ----
# (A section BENCH_ONLY left out leaves its cells blank.)
set +u
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-") printf "%.2f", a / b; else print "-" }'; }
mach="$(uname -sr), $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(. /etc/os-release; echo "$PRETTY_NAME")"
{
	echo "$mach"; echo "date: $(date -u +%FT%TZ)"; echo "N per measurement: $N"
} >"$OUT/machine.txt"
u=${MED[unshare]:-0}
{
	echo "# cell benchmark"
	echo
	echo "Machine: $mach. Measured $(date -u +%F), $N runs per row after 3 warm-ups; all rows from the same run. $RUN_NOTE"
	echo
	echo "## Session start: create + join + \`true\`"
	echo
	echo "| what | median ms | p90 ms | × unshare | × minimum | peak RSS KiB |"
	echo "|---|---|---|---|---|---|"
	for k in none minimal unshare bubblewrap firejail none_pam cell cell_bash; do
		peak=""
		case $k in cell) peak=${PEAK_CELL:-};; bubblewrap) peak=${PEAK_BWRAP:-};; unshare) peak=${PEAK_UNSHARE:-};; esac
		echo "| $k | ${MED[$k]:-${NOTE[$k]:-}} | ${P90[$k]:-} | $(ratio "${MED[$k]:--}" "$u") | $(ratio "${MED[$k]:--}" "${MED[minimal]:-0}") | $peak |"
	done
	echo "| jailkit | ${NOTE[jailkit]} | | | | |"
	echo
	over() { awk -v a="${MED[$1]:-0}" -v b="${MED[${2:-none}]:-0}" 'BEGIN { printf "%.2f", a - b }'; }
	echo "Overhead over no isolation: minimal $(over minimal) ms and bubblewrap $(over bubblewrap) ms over *none* (\`setpriv\` then \`/bin/true\`, as their rows run); cell $(over cell none_pam) ms over *none_pam* (the driver and PAM stack of the cell row without pam_cell, \`/bin/true\` as the user), the two taken in turns. cell's is $(ratio "$(over cell none_pam)" "$(over minimal)")× the minimal's (target ≤ 1.3×) and $(ratio "$(over cell none_pam)" "$(over bubblewrap)")× bubblewrap's."
	echo
	echo "*none*: \`true\` as the user; *minimal*: \`bench/minimal.c\` (one clone with user, mount, pid, uts, ipc namespaces, a map write, one bind, proc, pivot_root); *unshare*: \`unshare -Urmupf --mount-proc chroot ROOT true\`; *bubblewrap*: the same namespaces plus cgroup, and the host profile's mount set; *firejail*: \`--noprofile\`; *none_pam*: the cell row without pam_cell (the same driver, fork, drop to the user and PAM stack, \`/bin/true\` run as the user); *cell*: \`bench/driver.c\` as root runs the real PAM session stack (\`pam_open_session\` with pam_unix and pam_cell), \`cellsh -c true\` as the user, \`pam_close_session\`. Every user-side row includes a \`setpriv\` exec; cell's row includes PAM itself (the stack is pam_unix and pam_cell), the root monitor, the cgroups, the time namespace, the seccomp filter and the cell's own mount set, and runs \`/bin/true\` inside like the others (the profile's shell); *cell_bash* is the same with bash, the usual shell."
	echo
	echo "## Where one cell start goes"
	echo
	echo "The median of each phase over $N starts of the *cell* row, in the order they happen (pam_cell's \`timing\` argument, cellsh's \`CELL_TIMING=1\`; the driver times what lies between). *pam_cell:monitor* is the wait for the monitor, whose phases are indented below it: its exec, then its own phases up to its report; under *clone+pid1*, PID 1's: its clone (new pid, uts, ipc, cgroup namespaces; it starts in the template mount namespace), its entry into the build's mount namespace, its mount tree step by step, the lock (its copy into the cell's user namespace)."
	echo
	echo "| phase | ms |"
	echo "|---|---|"
	printf '%s\n' "${BREAKDOWN:-| ${NOTE[breakdown]:-not measured} | |}"
	echo
	echo "## Login"
	echo
	echo "| what | without pam_cell ms | with pam_cell ms | added |"
	echo "|---|---|---|---|"
	echo "| \`ssh user@127.0.0.1 true\` | ${MED[ssh_plain]:-} | ${MED[ssh_cell]:-} | $(awk -v a="${MED[ssh_cell]:-0}" -v b="${MED[ssh_plain]:-0}" 'BEGIN { if (b > 0) printf "%+.1f ms (%+.1f%%)", a - b, (a - b) / b * 100 }') |"
	echo "| \`su USER -c true\` | ${MED[su_plain]:-} | ${MED[su_cell]:-} | $(awk -v a="${MED[su_cell]:-0}" -v b="${MED[su_plain]:-0}" 'BEGIN { if (b > 0) printf "%+.1f ms", a - b }') |"
	echo "| \`ssh -tt user@127.0.0.1 true\` (a pty) | ${MED[tty_plain]:-} | ${MED[tty_cell]:-} | $(awk -v a="${MED[tty_cell]:-0}" -v b="${MED[tty_plain]:-0}" 'BEGIN { if (b > 0) printf "%+.1f ms (%+.1f%%)", a - b, (a - b) / b * 100 }') |"
	echo "| \`ssh -tt\`, 20 MB of output | ${MED[tty20_plain]:-} | ${MED[tty20_cell]:-} | $(awk -v a="${MED[tty20_cell]:-0}" -v b="${MED[tty20_plain]:-0}" 'BEGIN { if (b > 0) printf "%+.1f ms (%.2fx)", a - b, a / b }') |"
	echo
	echo "With pam_cell the login shell is cellsh, which runs bash inside; without, bash directly (a like account, the same PAM stack less pam_cell); the two taken in turns, 5 rounds. su runs in one private mount namespace per stack for the whole section (its PAM file bound over /etc/pam.d/su there), as a host's su runs in one namespace. On a pty, cellsh gives the shell a terminal of the cell's own devpts and relays it (the last two rows are that relay's cost)."
	echo
	echo "## Proc views (\`proc_views = yes\`)"
	echo
	echo "| what | without | with | × |"
	echo "|---|---|---|---|"
	echo "| cell start (create + join + \`true\`), ms | ${MED[cell_again]:-} | ${MED[cell_views]:-${NOTE[cell_views]:-}} | $(ratio "${MED[cell_views]:--}" "${MED[cell_again]:-0}") |"
	for f in meminfo loadavg stat; do
		echo "| one read of /proc/$f in a cell, µs | ${MED[read_${f}_host]:-} | ${MED[read_${f}_views]:-} | $(ratio "${MED[read_${f}_views]:--}" "${MED[read_${f}_host]:-0}") |"
	done
	echo
	echo "*without*: the kernel's files (the cell start row measured just before the *with* row, the same conf but the key); *with*: cell-procfs's, made afresh for every read. Reads are \`open\` + \`read\` + \`close\` from python3 inside a cell, $((N * 50)) per file after 50 warm-ups. The server, one per host: ${PROCFS_RSS:-?} KiB RSS, ${PROCFS_PSS:-?} KiB PSS after all the reads."
	echo
	echo "## Network (\`net = ...\`): cell start, create + join + \`true\`"
	echo
	echo "| net | median ms | p90 ms | added to host |"
	echo "|---|---|---|---|"
	for m in host none user bridge; do
		echo "| $m | ${MED[net_$m]:-${NOTE[net_$m]:-}} | ${P90[net_$m]:-} | $(awk -v a="${MED[net_$m]:-0}" -v b="${MED[net_host]:-0}" 'BEGIN { if (b > 0 && a > 0) printf "%+.2f ms", a - b }') |"
	done
	echo
	echo "| (the kernel's \`unshare(CLONE_NEWNET)\` alone) | ${MED[netns_kernel]:-} | ${P90[netns_kernel]:-} | |"
	echo
	echo "*none*: a network namespace with lo up (target: within 1 ms of host; the last row is the kernel's share of it, timed in a child of its own in the same run); *user*: plus pasta started as the user and its routes awaited; *bridge*: plus a veth pair made with two ip(8) runs and an address claimed. All rows in one run, one after the other."
	echo
	echo "## Scale: concurrent idle cells"
	echo
	echo "| cells | start (sequential) | one more start, median | teardown | memory per cell (\`free\` delta, kernel + processes, less the driver; in brackets /proc/meminfo's pools, KiB) | PSS per cell (its two cell-init processes) | cell-init processes |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s' "$SCALE_ROWS"
	echo
	echo "With a single cell the \`free\` delta is inside the machine's noise; read the 100 and 1000 rows. *no cgroups*: the same profile with \`pids_max = none\`, \`memory_max = none\`. *teardown*: from the close of the first session to the end of the last cell: its registry files, then its cgroups, then its processes gone, checked in that order (a \`ps\` polled from the start reads every process's /proc files and took a core's share from the teardown it timed)."
	echo
	echo "What grows with the cells: one more start's phases (as in *Where one cell start goes*, the median of 10) against the first row's, those 0.25 ms or more slower, largest first (*pam_cell:monitor* holds the *monitor:* phases, *monitor:clone+pid1* the *pid1:* ones)."
	echo
	echo "| cells | phases slower than with ${SCALE_KEYS[0]:-?} cells | one more start's phases in all |"
	echo "|---|---|---|"
	printf '%s' "${SCALE_GROWTH:-}"
	echo
	echo "## Growth"
	echo
	echo "| variable | small | large | slope |"
	echo "|---|---|---|---|"
	echo "| home size | 2 MB: ${MED[home_2M]} ms | 2 GB: ${MED[home_2G]} ms | $(awk -v a="${MED[home_2G]}" -v b="${MED[home_2M]}" 'BEGIN { printf "%+.3f ms per GB", (a - b) / 2 }') |"
	echo "| host accounts (passwd, group, subuid, subgid lines) | $ACC_BASE: ${MED[accounts_base]} ms | $((ACC_BASE + NACC)): ${MED[accounts_many]} ms | $(awk -v a="${MED[accounts_many]}" -v b="${MED[accounts_base]}" -v n="$NACC" 'BEGIN { printf "%+.3f ms per 1000 accounts (%.2f×)", (a - b) / n * 1000, a / b }') |"
	echo "| host mount table | $MOUNTS_BASE mounts: ${MED[mounts_base]} ms | $MOUNTS_MANY mounts: ${MED[mounts_many]} ms | $(awk -v a="${MED[mounts_many]}" -v b="${MED[mounts_base]}" -v m="$MOUNTS_MANY" -v n="$MOUNTS_BASE" 'BEGIN { printf "%+.3f ms per 1000 mounts (%.2f×)", (a - b) / (m - n) * 1000, a / b }') |"
	echo
	echo "What grows with the mount table: one start's phases with $MOUNTS_MANY mounts against $MOUNTS_BASE (the median of 10 each), those 0.25 ms or more slower: ${MOUNTS_GROWTH:-none}. A cell starts from the template mount namespace, not a copy of the table (doc/ARCHITECTURE.md)."
	echo
	echo "The template's bare mechanism, probed by bench/template.c: a PID 1 with a small root (a tmpfs, root's clone of /usr handed in, its own proc), from a template namespace against a copy of the table and pivot_root (what cells did before), the median of 20 each: $MOUNTS_BASE mounts: ${TEMPLATE_BASE:-not run}; $MOUNTS_MANY mounts: ${TEMPLATE_MANY:-not run} (ms)."
	echo
	echo "## Images (\`rootfs = image:NAME\`, identity = root, persistent upper)"
	echo
	echo "| image | later logins ms | first login ms (upper made) | × host rootfs (cell row) |"
	echo "|---|---|---|---|"
	echo "| $IMG_SIZE_S MB | ${MED[image_s]:-${NOTE[image_s]:-}} | ${MED[image_first_s]:-} | $(ratio "${MED[image_s]:--}" "${MED[cell]:-0}") |"
	echo "| $IMG_SIZE_L MB | ${MED[image_l]:-${NOTE[image_l]:-}} | ${MED[image_first_l]:-} | $(ratio "${MED[image_l]:--}" "${MED[cell]:-0}") |"
	echo "| slope | $(awk -v a="${MED[image_l]:-0}" -v b="${MED[image_s]:-0}" -v l="$IMG_SIZE_L" -v s="$IMG_SIZE_S" 'BEGIN { printf "%+.3f ms per GB", (a - b) / (l - s) * 1024 }') | $(awk -v a="${MED[image_first_l]:-0}" -v b="${MED[image_first_s]:-0}" -v l="$IMG_SIZE_L" -v s="$IMG_SIZE_S" 'BEGIN { printf "%+.3f ms per GB", (a - b) / (l - s) * 1024 }') | |"
	echo
	echo "The image rows run \`/bin/sh -c true\` (busybox) inside, the cell row \`/bin/true\`; a first login includes \`cellctl user reset\` before it only as setup, not in its time."
	echo
	echo "![session start](chart.png)"
} >"$OUT/latest.md"
printf '%s\n' none minimal unshare bubblewrap firejail cell | while read -r k; do
	[ -n "${MED[$k]:-}" ] && echo "$k ${MED[$k]}"
done >"$W/chart.dat"
if command -v gnuplot >/dev/null; then
	gnuplot <<-EOF
	set terminal png size 800,400
	set output "$OUT/chart.png"
	set title "create + join + true: median ms ($(nproc) cores, same run)"
	set style fill solid 0.6
	set boxwidth 0.6
	set ylabel "ms"
	set yrange [0:*]
	unset key
	plot "$W/chart.dat" using 0:2:xtic(1) with boxes, "" using 0:2:(sprintf("%.1f",\$2)) with labels offset 0,1
	EOF
fi
cat "$OUT/latest.md"
