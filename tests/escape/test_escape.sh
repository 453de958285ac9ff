#!/bin/bash
# The escape suite. The attacker is a real confined login (sshd on
# 127.0.0.1, pam_cell, cellsh); tests/escape/attack.c is the tool it runs
# inside. Every check names the attack (or CVE class) and fails if it works.
. "$(dirname "$0")/../e2e/lib.sh"
setup_common
new_user A	# keep-id attacker, with small limits
new_user R	# attacker who is uid 0 of their cell (identity = root)
new_user V	# victim
new_user B	# bystander: must keep working while A misbehaves
new_user Y	# a profile that allows nested user namespaces
new_user S	# a shared cell whose uid goes to a new account
new_group G
usermod -aG "$G" "$A"
# An include where a cell can see it (/usr is bound into every cell).
INC=$(mktemp -d /usr/local/share/celltest.XXXXXX) && CREATED_PATHS+=("$INC")
chmod 0755 "$INC"
printf '# celltest include: a secret policy line\n' >"$INC/inc.conf"; chmod 0644 "$INC/inc.conf"
CONF_TEXT="cellsh = $CELLSH
cell_init = $W/bin/cell-init
include = $INC/inc.conf
[user $A]
pids_max = 64
memory_max = 64M
pty_max = 4
[user $S]
share = user
[user ${S}x]
share = user
[user $R]"
FULL_CONF="$CONF_TEXT
identity = root
[user $Y]
seccomp_allow = userns
pids_max = none
memory_max = none
[user $V]
share = user
[user ct$$u*]"
# ESCAPE_EXTRA="proc_views = yes\nnet = none": the attackers' profiles with
# more features on (the suite must hold with them too).
if [ -n "${ESCAPE_EXTRA:-}" ]; then
	extra=$(printf '%b' "$ESCAPE_EXTRA")
	FULL_CONF=${FULL_CONF/\[user $A\]/[user $A]$'\n'$extra}
	FULL_CONF=${FULL_CONF/\[user $R\]/[user $R]$'\n'$extra}
	say "# attackers' profiles add: $(tr '\n' ';' <<<"$extra")"
fi
write_conf "$FULL_CONF"
start_sshd "MaxStartups 100
AcceptEnv CELL_ID" || exit 1
for u in "$A" "$R" "$V" "$B" "$Y" "$S"; do
	h=$(getent passwd "$u" | cut -d: -f6)
	install -o "$u" -m 0755 "$BUILD/tests/attack" "$h/attack"
done
HOME_A=$(getent passwd "$A" | cut -d: -f6)
in_cell() { ssh_to "$@" 2>&1; }	# in_cell USER COMMAND
HOST_ROOT=$(stat -c %d:%i /)

# 1. Double chroot (chroot into a subdirectory, chdir .. past it, chroot .).
for u in "$A" "$R"; do
	out=$(in_cell "$u" './attack chroot; stat -c ROOTSTAT=%d:%i /')
	has "1. double chroot ($u): chroot is refused" "chroot: EPERM" "$out"
	lacks "1. ... and / is never the host's root" "ROOTSTAT=$HOST_ROOT" "$out"
done

# 2. TIOCSTI / TIOCLINUX: typing into the login's terminal.
out=$(run_pty "$A" "./attack tiocsti 'touch ~/INJECTED
'" "./attack tiocsti-high 'touch ~/INJECTED2
'" "./attack tioclinux" "sleep 1")
has "2. TIOCSTI on the login terminal is refused by seccomp" "tiocsti: EPERM" "$out"
has "2. TIOCSTI with high bits set in the request is refused too" "tiocsti-high: EPERM" "$out"
has "2. TIOCLINUX is refused" "tioclinux: EPERM" "$out"
check "2. nothing reached the outer terminal (no injected command ran)" \
	test ! -e "$HOME_A/INJECTED" -a ! -e "$HOME_A/INJECTED2"

# 3. Inherited fds and directories.
out=$(in_cell "$A" './attack fds')
eq "3. only fds 0-2 are open in a command's process" "0 1 2" \
	"$(sed -n 's/^fd \([0-9]*\) .*/\1/p' <<<"$out" | sort -n | tr '\n' ' ' | sed 's/ $//')"
lacks "3. no fd resolves to a host path" "/run/celltest" "$(grep '^fd' <<<"$out")"
eq "3. the working directory is the home, inside" "cwd -> $HOME_A" "$(grep '^cwd' <<<"$out")"
eq "3. the root is the cell's" "root -> /" "$(grep '^root' <<<"$out")"
out=$(run_pty "$A" './attack fds')
eq "3. ... also on a pty" "0 1 2" \
	"$(grep -aoE 'fd [0-9]+ ->' <<<"$out" | awk '{ print $2 }' | sort -n | tr '\n' ' ' | sed 's/ $//')"
out=$(in_cell "$A" 'for p in /proc/[0-9]*; do ls -l $p/fd 2>/dev/null; readlink $p/cwd; done')
lacks "3. no process in the cell holds a host path (pam/sshd files)" "/run/celltest" "$out"
lacks "3. ... nor the registry" "/run/cell/" "$out"

# 4. PID 1 holds nothing of the login program.
wait_for 10 sh -c '! pgrep -u "$1" >/dev/null' sh "$A"
in_cell "$A" 'sleep 5' >/dev/null &
sp=$!
wait_for 10 live_cell "$A" >/dev/null
id=$(live_cell "$A"); pid1=$(sed -n 's/^pid=//p' "/run/cell/$id")
say "# cell $id, PID 1 = $pid1"
eq "4. PID 1's environment is cell-init's only" "PATH=/usr/sbin:/usr/bin:/sbin:/bin" \
	"$(tr '\0' '\n' <"/proc/$pid1/environ")"
maps=$(awk '$6 ~ /\// { print $6 }' "/proc/$pid1/maps" | sort -u)
lacks "4. no sshd code is mapped in PID 1" "sshd" "$maps"
lacks "4. no PAM module or libpam is mapped in PID 1" "pam" "$maps"
eq "4. PID 1 holds no fd (the socket to pam_cell is closed)" "0 1 2" "$(ls "/proc/$pid1/fd" | sort -n | tr '\n' ' ' | sed 's/ $//')"
wait "$sp"
out=$(in_cell "$A" './attack openw /proc/1/exe; ./attack read /proc/1/environ; ./attack read /proc/1/mem')
has "4. /proc/1/exe cannot be opened for writing" "openw: E" "$out"
lacks "4. ... not at all" "openw: ok" "$out"
lacks "4. PID 1's environment and memory are unreadable from inside" "read: ok" "$out"

# 5. ptrace of PID 1, and of joining processes (a shared-cell style race:
# B-side logins join while A-side scans for them).
out=$(in_cell "$A" './attack ptrace 1')
has "5. ptrace of PID 1 from inside fails" "ptrace: EPERM" "$out"
out=$(in_cell "$R" './attack ptrace 1')
has "5. ... also for uid 0 of the cell" "ptrace: EPERM" "$out"
# V has share = user: a watcher in its cell sees every later join.
in_cell "$V" './attack ptrace-watch 6' >"$W/watch.out" &
wp=$!
sleep 1
for i in $(seq 1 12); do in_cell "$V" 'true' >/dev/null; done
wait "$wp"
has "5. watcher ran in the shared cell" "ptrace-watch:" "$(cat "$W/watch.out")"
has "5. no joining process (cellsh, non-dumpable) could be attached" "attached 0" "$(cat "$W/watch.out")"
say "# $(cat "$W/watch.out")"

# 6. setuid-root and file-capability binaries inside gain nothing.
install -o root -m 4755 "$BUILD/tests/attack" "$HOME_A/attack-suid"
cp "$BUILD/tests/attack" "$HOME_A/attack-caps"; setcap cap_net_raw+ei "$HOME_A/attack-caps"
check "6. (the test binary really has cap_net_raw+ei)" sh -c "getcap '$HOME_A/attack-caps' | grep -q cap_net_raw"
out=$(in_cell "$A" './attack-suid caps; ./attack-caps caps; /usr/bin/su -c id root </dev/null')
lacks "6. a setuid-root binary runs with the user's euid" "euid: 0" "$out"
has "6. ... and the file-capability binary gets no raw socket" "raw-socket: EPERM" "$out"
check "6. CapPrm and CapEff are empty for both" test "$(grep -cE '^Cap(Prm|Eff):\s+0+$' <<<"$out")" -eq 4
lacks "6. the host's setuid su gives nothing" "uid=0(root)" "$out"

# 7. setgroups stays denied: dropping a group must not unlock a file.
printf 'secret\n' >"$HOME_A/group-denied"; chown root:"$G" "$HOME_A/group-denied"; chmod 0604 "$HOME_A/group-denied"
out=$(in_cell "$A" 'cat ~/group-denied; ./attack setgroups; cat /proc/self/setgroups')
lacks "7. a file that denies one of the user's groups stays unreadable" "secret" "$out"
has "7. setgroups() fails" "setgroups: EPERM" "$out"
has "7. /proc/self/setgroups says deny" "deny" "$out"

# 8. Host processes, mounts, hostname, SysV IPC.
sshd_pid=$(cat "$W/sshd.pid")
out=$(in_cell "$A" "ps -eo comm=; ./attack kill $sshd_pid; ./attack kill 1; ./attack mount; ./attack umount; ./attack pivot_root; ./attack unshare-user; ./attack clone-user; unshare -U true; echo unshare=\$?; ./attack sethostname; hostname; ipcmk -M 4096")
lacks "8. host processes are invisible (no sshd)" "sshd" "$(grep -vF attack <<<"$out")"
has "8. a host pid cannot be signalled (not in the cell's pid namespace)" "kill: ESRCH" "$out"
has "8. mount fails" "mount: EPERM" "$out"
has "8. umount fails" "umount: EPERM" "$out"
has "8. pivot_root fails" "pivot_root: EPERM" "$out"
has "8. unshare(CLONE_NEWUSER) fails" "unshare-user: EPERM" "$out"
has "8. clone(CLONE_NEWUSER) fails" "clone-user: EPERM" "$out"
has "8. unshare -U fails" "unshare=1" "$out"
has "8. sethostname fails" "sethostname: EPERM" "$out"
eq "8. the host's hostname is untouched" "$(cat /proc/sys/kernel/hostname)" "$(hostname)"
shmid=$(grep -oE 'Shared memory id: [0-9]+' <<<"$out" | grep -oE '[0-9]+$')
check "8. SysV IPC works inside the cell (id $shmid)" test -n "$shmid"
lacks "8. ... and does not reach the host" " $shmid " "$(ipcs -m | awk '{ print " " $2 " " }')"
out=$(in_cell "$Y" './attack unshare-user; unshare -U true && echo nested-ok')
has "8. a profile with seccomp_allow = userns (and no cgroup limits) may nest user namespaces" "unshare-user: ok" "$out"
has "8. ... so the filter is what blocks them by default" "nested-ok" "$out"

# The seccomp filter's default set, against the same calls on the host.
calls="keyctl add_key bpf perf_event_open userfaultfd open_by_handle_at init_module kexec_load io_uring_setup"
out=$(in_cell "$A" "for c in $calls; do ./attack \$c; done; grep -E '^Seccomp' /proc/self/status")
host=$(cd / && for c in $calls; do runuser -u "$A" -- "$BUILD/tests/attack" "$c"; done 2>&1)
for c in $calls; do
	has "8. seccomp: $c fails with EPERM (on the host: $(sed -n "s/^$c: //p" <<<"$host"))" "$c: EPERM" "$out"
done
has "8. a seccomp filter is loaded" "Seccomp_filters:	1" "$out"

# 9. Forged joins.
in_cell "$V" 'sleep 8' >/dev/null &
vp=$!
wait_for 10 live_cell "$V" >/dev/null
vid=$(live_cell "$V")
out=$(runuser -u "$A" -- env CELL_ID="$vid" "$CELLSH" -c id 2>&1); rc=$?
has "9. cellsh refuses another user's cell id" "belongs to user $V" "$out"
eq "9. ... with status 126 and no shell" 126 "$rc"
out=$(SSH_EXTRA=(-o SendEnv=CELL_ID) CELL_ID="$vid" ssh_to "$A" 'echo IN=$CELL_ID' 2>&1)
lacks "9. a CELL_ID sent by the ssh client never selects another user's cell" "IN=$vid" "$out"
# A recycled pid: a record whose PID 1 is now another process of the user.
cp "/run/cell/$vid" "$W/victim.rec"
wait "$vp"
wait_for 10 test ! -e "/run/cell/$vid"
fake=$(printf '%032x' $((RANDOM * 7919)))
vpid=$(sed -n 's/^pid=//p' "$W/victim.rec")
# The attacker builds their own "cell" (user, mount, pid namespaces) and we
# give it the recorded pid (ns_last_pid), as a pid-reuse attack would.
# setpriv execs unshare, so the first new pid (vpid) is the fake's own.
echo $((vpid - 1)) >/proc/sys/kernel/ns_last_pid
setpriv --reuid "$V" --regid "$V" --init-groups unshare -Ur -m -p --fork sleep 30 &
fp=$!
wait_for 5 sh -c "pgrep -u $V -x sleep >/dev/null"
fpid=$fp
eq "9. (the attacker's fake got the recorded pid)" "$vpid" "$fpid"
sed "s/^id=.*/id=$fake/" "$W/victim.rec" >"/run/cell/$fake"; chmod 0644 "/run/cell/$fake"
out=$(runuser -u "$V" -- env CELL_ID="$fake" "$CELLSH" -c id 2>&1)
has "9. a recycled pid is refused (pid $vpid is the attacker's own process now)" "recycled pid" "$out"
# Now with the fake's own pid and start time copied into the record: only
# the namespace inodes, which no one can forge, still differ.
st=$(awk '{ print $22 }' "/proc/$fpid/stat")
sed -i "s/^pid=.*/pid=$fpid/; s/^starttime=.*/starttime=$st/" "/run/cell/$fake"
out=$(runuser -u "$V" -- env CELL_ID="$fake" "$CELLSH" -c id 2>&1)
has "9. a fake cell with every copyable marker is refused" "namespace is not the recorded one" "$out"
rm -f "/run/cell/$fake"
kill "$fp" 2>/dev/null; pkill -u "$V" -x sleep; wait "$fp" 2>/dev/null

# 11. Subordinate range edge cases: refused, with the reason.
subtest() { # subtest NAME RANGE EXPECTED-MESSAGE
	local u
	new_user u "$CELLSH" 0
	sed -i "/^$u:/d" /etc/subuid /etc/subgid
	printf '%s:%s\n' "$u" "$2" >>/etc/subuid; printf '%s:%s\n' "$u" "$2" >>/etc/subgid
	out=$(ssh_to "$u" 'echo INSIDE' 2>&1)
	lacks "11. $1: no shell" "INSIDE" "$out"
	has "11. $1: the reason is logged" "$3" "$(grep "refused user=$u" "$LOG")"
	# Its range may be another user's: gone, so that user's logins go on.
	sed -i "/^$u:/d" /etc/subuid /etc/subgid
}
subtest "start+count overflow" "4294900000:100000" "runs past the largest id"
subtest "zero count" "2000000000:0" "subordinate"
subtest "a range over root and real uids" "0:65536" "starts below subid_min"
shared=$(awk -F: -v u="$V" '$1 == u { print $2 ":" $3 }' /etc/subuid)
subtest "two users sharing a range" "$shared" "overlaps"
vstart=$(awk -F: -v u="$V" '$1 == u { print $2 }' /etc/subuid)
subtest "a range strictly inside another user's" "$((vstart + 100)):10" "overlaps $vstart:65536 of $V"
# Another account's real uid (and a group's gid) inside the range: inside
# the cell, files of that id would be the host's.
acct="ct$$acct"
useradd -M -N -u 3000000007 -s /usr/sbin/nologin "$acct" && CREATED_USERS+=("$acct")
subtest "a range over another account's uid" "3000000000:65536" "contains uid 3000000007 of $acct"
groupadd -g 3100000005 "ct$$grp" && CREATED_GROUPS+=("ct$$grp")
subtest "a range over a group's gid" "3100000000:65536" "contains gid 3100000005 of ct$$grp"
new_user u "$CELLSH" 0
out=$(ssh_to "$u" 'echo INSIDE' 2>&1)
lacks "11. no range at all: no shell" "INSIDE" "$out"
has "11. no range at all: the reason and fix are logged" "usermod" "$(grep "refused user=$u" "$LOG")"

# 11b. The checks' verdict is kept across logins (lib/subidcache.c) while
# the account files stay as they were: it must never outlive a change, nor
# be taken from a file that is not root's.
new_user K
start=$(subuid_start "$K")
sleep 2.2	# the account files older than the racy window: a verdict is kept
out=$(ssh_to "$K" 'cat /proc/self/uid_map' 2>&1)
has "11b. (a first login maps K's range $start)" " $start " "$out"
KEPT=/run/cell/subid/u$(id -u "$K")
check "11b. (its verdict was kept: $KEPT)" test -s "$KEPT"
# A kept verdict is used: one rewritten by root to another range maps that.
alt=$((start + 65536 * 7))
sed -i "s/^range .*/range $alt 65536/" "$KEPT"
out=$(ssh_to "$K" 'cat /proc/self/uid_map' 2>&1)
has "11b. (a kept verdict is what the next login uses: it maps $alt)" " $alt " "$out"
# ...but not one the user could have written.
chown "$K" "$KEPT"
out=$(ssh_to "$K" 'cat /proc/self/uid_map' 2>&1)
has "11b. a kept verdict not owned by root is ignored: the real range again" " $start " "$out"
lacks "11b. ... and not the planted one" " $alt " "$out"
rm -f "$KEPT"
sleep 2.2
ssh_to "$K" true >/dev/null 2>&1
check "11b. (kept again)" test -s "$KEPT"
# Another user given an overlapping range: /etc/subuid changed, so the
# kept verdict is void and the login is refused.
new_user KO "$CELLSH" 0
printf '%s:%s:65536\n' "$KO" "$((start + 1000))" >>/etc/subuid
: >"$LOG"
out=$(ssh_to "$K" 'echo INSIDE' 2>&1)
lacks "11b. a range made to overlap after the verdict was kept: no shell" "INSIDE" "$out"
has "11b. ... refused for the overlap" "overlaps" "$(grep "refused user=$K" "$LOG")"
sed -i "/^$KO:/d" /etc/subuid
sleep 2.2
ssh_to "$K" true >/dev/null 2>&1
check "11b. (kept again, files restored)" test -s "$KEPT"
# An account created inside the range (only /etc/passwd changes).
useradd -M -N -u $((start + 4242)) -s /usr/sbin/nologin "ct$$kin" && CREATED_USERS+=("ct$$kin")
: >"$LOG"
out=$(ssh_to "$K" 'echo INSIDE' 2>&1)
lacks "11b. an account made inside the range after the verdict was kept: no shell" "INSIDE" "$out"
has "11b. ... refused for that account" "contains uid $((start + 4242)) of ct$$kin" \
	"$(grep "refused user=$K" "$LOG")"
userdel "ct$$kin" 2>/dev/null

# 12. Fork bomb and memory hog are contained.
in_cell "$A" 'bomb() { bomb | bomb & }; (bomb) 2>/dev/null; sleep 6; echo bombed' >"$W/bomb.out" &
bp=$!
sleep 3
id=$(live_cell "$A")
cur=$(cat "/sys/fs/cgroup/pids/cell/$id/pids.current" 2>/dev/null || cat "/sys/fs/cgroup/cell/$id/pids.current" 2>/dev/null)
check "12. fork bomb: the cell stays at its pids_max of 64 (now ${cur:-?})" test -n "$cur" -a "${cur:-999}" -le 64
out=$(in_cell "$B" 'echo BYSTANDER-OK')
has "12. ... another user's login still works meanwhile" "BYSTANDER-OK" "$out"
check "12. ... and the host can still fork" /bin/true
wait "$bp"
wait_for 20 sh -c "[ -z \"\$(pgrep -u $A)\" ]"
in_cell "$A" 'head -c 300M /dev/zero | tail -c 290M >/dev/null; echo HOG-STATUS=${PIPESTATUS[1]}; sleep 2' >"$W/hog.out" &
hp=$!
wait_for 20 grep -q HOG-STATUS "$W/hog.out"
id=$(live_cell "$A")
oom=$(cat "/sys/fs/cgroup/memory/cell/$id/memory.oom_control" "/sys/fs/cgroup/cell/$id/memory.events" 2>/dev/null | awk '$1 == "oom_kill" { print $2 }')
wait "$hp"
has "12. memory hog: killed inside its 64M cell (SIGKILL, 137)" "HOG-STATUS=137" "$(cat "$W/hog.out")"
check "12. ... by the OOM killer of the cell's own memory cgroup (oom_kill=${oom:-?})" test "${oom:-0}" -ge 1
out=$(in_cell "$B" 'echo BYSTANDER-OK')
has "12. ... and other users are unaffected" "BYSTANDER-OK" "$out"

# 13. Set-id bits made in a cell would run as the user on the host (in the
# host's user namespace, which owns the cell): every call that sets them fails.
out=$(in_cell "$A" "./attack setid ~; stat -c MODE=%a ~/attack")
for c in plain-create plain-fchmod; do has "13. (control: $c works in the home)" "$c: ok" "$out"; done
for c in fchmod-suid fchmod-sgid chmod-suid fchmodat-suid fchmodat2-suid open-creat-suid \
	openat-creat-sgid creat-suid tmpfile-suid mkdir-sgid mknod-suid; do
	has "13. set-id: $c fails with EPERM" "$c: EPERM" "$out"
done
has "13. openat2 (mode unreadable by a filter) reports ENOSYS" "openat2: ENOSYS" "$out"
out=$(in_cell "$A" "chmod 4755 ~/attack; echo rc=\$?; chmod 0700 ~/attack; echo rc2=\$?")
has "13. chmod u+s from the shell fails" "rc=1" "$out"
has "13. ... while chmod 0700 works" "rc2=0" "$out"
check "13. on the host, no file in the home has a set-id bit" \
	test -z "$(find "$HOME_A" -xdev -perm /6000 ! -name attack-suid 2>/dev/null)"
chmod 0755 "$HOME_A/attack"

# 14. Loader and shell variables from ~/.pam_environment (pam_env
# user_readenv=1, as Debian's sshd stack has) never reach what the login
# program runs on the host (sshd's /etc/ssh/sshrc gets the same environment
# as the shell it execs: cellsh's initial one, read here from /proc).
install_pam sshd-celltest "account required pam_unix.so
session optional pam_umask.so umask=0077
session required pam_env.so user_readenv=1 readenv=0
session required pam_unix.so
session required $W/pam_cell.so conf=$CONF"
HOME_B=$(getent passwd "$B" | cut -d: -f6)
printf 'LD_PRELOAD DEFAULT=/nonexistent/evil.so\nBASH_ENV DEFAULT=/nonexistent/rc\nCELLTEST_MARK DEFAULT=seen\n' >"$HOME_B/.pam_environment"
chown "$B:" "$HOME_B/.pam_environment"
: >"$LOG"
in_cell "$B" 'sleep 4' >/dev/null &
sp=$!
wait_for 10 pgrep -u "$B" -x cellsh >/dev/null
env_b=$(tr '\0' '\n' <"/proc/$(pgrep -u "$B" -x cellsh | head -1)/environ")
has "14. (control: pam_env read ~/.pam_environment)" "CELLTEST_MARK=seen" "$env_b"
lacks "14. LD_PRELOAD is removed from the session's environment" "LD_PRELOAD" "$env_b"
lacks "14. ... and BASH_ENV" "BASH_ENV" "$env_b"
wait "$sp"
has "14. the log names what was removed" "removed from the PAM environment: LD_PRELOAD,BASH_ENV" "$(cat "$LOG")"
rm -f "$HOME_B/.pam_environment"

# 15. CPU: every cell is in a cpu cgroup, so one cell's many busy processes
# take half the machine from a second cell, not all but 1/17 of it. Each
# spinner is its own session (setsid): the kernel's autogroup would
# otherwise share the CPU per session, cgroup or not.
spin='s=$SECONDS; n=0; while [ $((SECONDS - s)) -lt 3 ]; do n=$((n + 1)); done; echo loops=$n'
alone=$(in_cell "$B" "$spin" | sed -n 's/^loops=//p')
in_cell "$A" 'for i in $(seq 16); do setsid -w timeout 6 sh -c "while :; do :; done" & done; wait' >/dev/null &
bp=$!
sleep 1
spinner=$(pgrep -u "$A" -x sh | head -1)
cg=$(cat "/proc/$spinner/cgroup" 2>/dev/null)
loaded=$(in_cell "$B" "$spin")
wait "$bp"
check "15. the busy cell's processes are in its own cpu cgroup ($(grep -E 'cpu[a-z,]*:/cell/|^0::/cell/' <<<"$cg" | head -1))" \
	grep -qE '^([0-9]+:[a-z,]*cpu[a-z,]*|0:):/cell/[0-9a-f]{32}$' <<<"$cg"
n=$(sed -n 's/^loops=//p' <<<"$loaded")
say "# 15. a lone spinner: $alone loops alone, ${n:-?} beside a cell of 16 spinners"
check "15. ... and another cell keeps at least 40% of its lone speed beside it (${n:-?}/$alone)" \
	test -n "$n" -a -n "$alone" -a "$((${n:-0} * 100))" -ge "$((${alone:-1} * 40))"

# 16. The pty pool: a cell's devpts has its own maximum (A's profile: 4).
out=$(in_cell "$A" './attack ptys 50; grep -E " /dev/pts " /proc/self/mountinfo')
has "16. a cell gets at most pty_max ptys" "ptys: 4, then ENOSPC" "$out"
has "16. ... from a devpts mounted with max=4" "max=4" "$out"
out=$(in_cell "$B" './attack ptys 50')
has "16. (control: the default profile allows more, 50 here)" "ptys: 50" "$out"

# 17. A uid given to a new account never joins the old account's shared
# cell; the old one is ended.
in_cell "$S" 'sleep 30' >/dev/null &
sp=$!
wait_for 10 live_cell "$S" >/dev/null
old=$(live_cell "$S"); oldpid=$(sed -n 's/^pid=//p' "/run/cell/$old")
suid=$(id -u "$S") sgid=$(id -g "$S") N="${S}x"
# If this dies before renaming back, cleanup still removes both.
CREATED_USERS+=("$N"); CREATED_PATHS+=("/home/$N")
sed -i "s/^$S:/$N:/" /etc/passwd /etc/shadow /etc/subuid /etc/subgid
sed -i "s|^\\($N:[^:]*:[^:]*:[^:]*:[^:]*:\\)[^:]*|\\1/home/$N|" /etc/passwd
mkdir -m 0700 "/home/$N"; chown "$suid:$sgid" "/home/$N"
cp "$W/keys/$S" "$W/keys/$N"
: >"$LOG"
out=$(in_cell "$N" 'echo ID=$CELL_ID; ls /home')
lacks "17. the new account's login does not join the old account's cell" "ID=$old" "$out"
has "17. ... it gets a cell of its own" "ID=" "$out"
eq "17. ... which holds only the new account's home" "$N" "$(sed -n '/^ID=/,$p' <<<"$out" | tail -n +2)"
check "17. the old account's cell is ended" wait_for 10 sh -c "! kill -0 $oldpid 2>/dev/null"
has "17. ... and the log says why" "whose uid $suid now belongs to $N" "$(cat "$LOG")"
sed -i "s/^$N:/$S:/" /etc/passwd /etc/shadow /etc/subuid /etc/subgid
sed -i "s|^\\($S:[^:]*:[^:]*:[^:]*:[^:]*:\\)[^:]*|\\1/home/$S|" /etc/passwd
rm -rf "/home/$N" "$W/keys/$N"
wait "$sp" 2>/dev/null

# 18. A changed profile applies to the next login of a user with a live
# shared cell: it gets a new cell; the old one lives on with its session.
in_cell "$V" 'sleep 12' >/dev/null &
sp=$!
wait_for 10 live_cell "$V" >/dev/null
old=$(live_cell "$V"); oldpid=$(sed -n 's/^pid=//p' "/run/cell/$old")
out=$(in_cell "$V" 'echo ID=$CELL_ID; ulimit -n')
has "18. (control: an unchanged profile joins the shared cell)" "ID=$old" "$out"
write_conf "${FULL_CONF/\[user $V\]/[user $V]
rlimit_nofile = 77}"
: >"$LOG"
in_cell "$V" 'echo ID=$CELL_ID; ulimit -n; sleep 4' >"$W/v2.out" &
vp=$!
wait_for 10 grep -q '^ID=' "$W/v2.out"
out=$(cat "$W/v2.out")
lacks "18. after the profile changed, a login does not join the old cell" "ID=$old" "$out"
eq "18. ... and runs under the new profile (rlimit_nofile = 77)" "77" "$(sed -n 2p "$W/v2.out")"
new=$(sed -n 's/^ID=//p' "$W/v2.out")
eq "18. the next login joins the new cell" "ID=$new" "$(in_cell "$V" 'echo ID=$CELL_ID')"
check "18. the old cell lives on with its session" kill -0 "$oldpid"
has "18. the log says why" "not joining shared cell $old: its profile changed" "$(cat "$LOG")"
wait "$vp" "$sp" 2>/dev/null
write_conf "$FULL_CONF"

# 19. What the host keeps about other users is not readable in a cell.
out=$(in_cell "$B" "cat /etc/subuid; echo subuid=\$?; cat /etc/subgid; echo subgid=\$?; [ -e /etc/security ] && echo sec=present || echo sec=absent; head -c 5 /etc/passwd; echo; cat $INC/inc.conf; echo inc=\$?; ls $INC")
has "19. /etc/subuid (every user's ranges) is unreadable" "subuid=1" "$out"
has "19. /etc/subgid too" "subgid=1" "$out"
lacks "19. ... no range of another user shows" "$V:" "$out"
has "19. /etc/security (cell.conf, PAM policy) is absent" "sec=absent" "$out"
has "19. (control: the rest of /etc is there)" "root:" "$out"
has "19. an included config file outside /etc/security is unreadable too" "inc=1" "$out"
lacks "19. ... its text never shows" "secret policy line" "$out"
has "19. (control: its directory is there, so the mask is what hides it)" "inc.conf" "$out"

# 19b. The host's system accounts a cell's /etc/passwd starts with are kept
# by pam_cell (lib/etcextract.c): used only while root's and of the host
# file as it is.
KEPTPW=/run/cell/etc/passwd
sleep 2.2	# the account files older than the racy window
in_cell "$B" true >/dev/null
has "19b. (kept: the host's system lines under the stamp of /etc/passwd)" \
	"#cell system lines of /etc/passwd" "$(head -1 "$KEPTPW" 2>&1)"
lacks "19b. ... and no person's account among them" "$B:" "$(cat "$KEPTPW")"
echo "ct$$kept:x:998:998::/nonexistent:/usr/sbin/nologin" >>"$KEPTPW"
out=$(in_cell "$B" 'cat /etc/passwd')
has "19b. (the kept lines are what a cell's /etc/passwd starts with: root's edit shows)" "ct$$kept:" "$out"
has "19b. (... with the user's own line after them)" "$B:x:" "$out"
chown "$B" "$KEPTPW"
out=$(in_cell "$B" 'cat /etc/passwd')
lacks "19b. kept lines not owned by root are ignored" "ct$$kept:" "$out"
has "19b. ... the host's own system lines instead" "root:x:0:0" "$out"
chown root "$KEPTPW"
useradd -r -M -N -s /usr/sbin/nologin "ct$$sys" && CREATED_USERS+=("ct$$sys")
out=$(in_cell "$B" 'cat /etc/passwd')
has "19b. a system account added a moment ago is in the next cell (the stamp changed)" "ct$$sys:" "$out"
lacks "19b. ... and the stale kept lines are not" "ct$$kept:" "$out"
rm -f "$KEPTPW"	# (root's edit: the next login keeps them afresh)

if wait_for 15 sh -c 'for u in "$@"; do pgrep -u "$u" >/dev/null && exit 1; done; [ -z "$(ls /run/cell 2>/dev/null | grep -E "^[0-9a-f]{32}$")" ]' sh "$A" "$R" "$V" "$B" "$Y" "$S"; then
	ok "nothing is left after the attacks"
else
	not_ok "nothing is left after the attacks" "$(leftovers "$A")"
fi
finish
