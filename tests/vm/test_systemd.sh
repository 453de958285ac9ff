#!/bin/bash
# cell on a real systemd host: a stock Debian 12 guest (systemd 252, cgroup
# v2, logind, pam_systemd in common-session) booted under QEMU, the built
# project installed into it, confined ssh logins from this machine's ssh
# client over a port forwarded to 127.0.0.1, through the guest's own sshd
# and its own /etc/pam.d/sshd. Only what needs systemd is here; everything
# else runs on this machine (tests/e2e, tests/escape).
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/vm/lib.sh
. "$TOP/tests/vm/lib.sh"

if [ "$(id -u)" != 0 ]; then
	say "skip - the systemd guest # needs root (mmdebstrap builds the image)"
	exit 0
fi
STAGE=$(mktemp -d /tmp/cell-stage.XXXXXX)
CLIENT_PIDS=()
finish() {
	local p
	for p in "${CLIENT_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	if [ -n "${CELL_VM_KEEP:-}" ]; then # debugging: leave the guest up
		say "# guest kept: VM_RUN=$VM_RUN VM_PID=$VM_PID VM_PORT=$VM_PORT"
	else
		vm_stop
	fi
	rm -rf "$STAGE"
	say "$PASS passed, $FAIL failed, $SKIP skipped"
}
trap finish EXIT

[ -n "${CELL_VM_SETUP_ONLY:-}" ] && trap - EXIT
make -s -C "$TOP" install DESTDIR="$STAGE" >/dev/null || { not_ok "make install into a staging dir"; exit 1; }
rm -f "$STAGE/etc/security/cell.conf" # the guest gets the test's own below
t0=$SECONDS
if ! vm_start; then
	not_ok "the Debian 12 guest boots and answers ssh"
	exit 1
fi
ok "the Debian 12 guest boots and answers ssh ($((SECONDS - t0)) s, build included)"
ssh-keygen -q -t ed25519 -N '' -C celltest-client -f "$VM_RUN/client"
# A busybox tree for rootfs = image:NAME on the guest's kernel (6.1).
"$TOP/tests/e2e/make-busybox-image.sh" "$STAGE/root/celltest-bb" || not_ok "a busybox tree"
vm_push "$STAGE"

# ---- the guest, set up as an admin would: users, cell.conf, the sshd
# snippet, pam_cell at the end of the real /etc/pam.d/sshd ----
A=ctalice B=ctbob C=ctcarol D=ctdave E=cterin
vm_root "bash -s $(printf '%q ' "$A" "$B" "$C" "$(cat "$VM_RUN/client.pub")" "$D" "$E")" <<'EOF' || not_ok "guest setup"
set -e
A=$1 B=$2 C=$3 KEY=$4 D=$5 E=$6
groupadd cell
# Debian's useradd gives each new user a subordinate range (login.defs).
useradd -m -s /usr/local/bin/cellsh -G cell "$A"
useradd -m -s /bin/bash "$B"
useradd -m -s /usr/local/bin/cellsh -G cell "$C"
useradd -m -s /usr/local/bin/cellsh -G cell "$D"
useradd -m -s /usr/local/bin/cellsh -G cell "$E"
cellctl image import bb /root/celltest-bb >/dev/null
for u in "$A" "$B" "$C" "$D" "$E"; do
	install -d -o "$u" -m 0700 "/home/$u/.ssh"
	echo "$KEY" >"/home/$u/.ssh/authorized_keys"
	chown "$u" "/home/$u/.ssh/authorized_keys"
done
echo /usr/local/bin/cellsh >>/etc/shells
cat >/etc/security/cell.conf <<CONF
cellsh = /usr/local/bin/cellsh
cell_init = /usr/local/libexec/cell/cell-init
exempt = root
[defaults]
pids_max = 64
memory_max = 96M
cpu_weight = 40
[user $C]
share = user
user_pids_max = 300
user_memory_max = 200M
user_cpu_weight = 30
[user $D]
rootfs = image:bb
shell = /bin/sh
identity = root
[user $E]
proc_views = yes
net = none
[group cell]
CONF
cat >/etc/ssh/sshd_config.d/cell.conf <<'CONF'
Match Group cell
	DisableForwarding yes
	PermitUserRC no
CONF
echo 'session required pam_cell.so' >>/etc/pam.d/sshd
systemctl reload ssh
EOF
sleep 1
wait_for 30 vm_sshd_ready || not_ok "sshd is back after its reload"

[ -n "${CELL_VM_SETUP_ONLY:-}" ] && { say "# VM_RUN=$VM_RUN VM_PID=$VM_PID VM_PORT=$VM_PORT"; exit 0; }
SSH_C=(ssh -i "$VM_RUN/client" -o BatchMode=yes -o StrictHostKeyChecking=no
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=30 -p "$VM_PORT")
login() { "${SSH_C[@]}" "$1@127.0.0.1" "${@:2}"; }
# bg_login OUT USER COMMAND: a session that stays open, its output in OUT.
bg_login() {
	"${SSH_C[@]}" -tt "$2@127.0.0.1" "$3" </dev/null >"$1" 2>&1 &
	CLIENT_PIDS+=($!)
	LAST_CLIENT=$!
}
cell_of() { wait_for 30 grep -qs "CELL=" "$1" && grep -o 'CELL=[0-9a-f]*' "$1" | head -1 | cut -d= -f2; }
gone() { # gone USER: no cell scope, cgroup, monitor, record or process of USER left
	vm_root "[ -z \"\$(systemctl list-units --all --no-legend 'cell-*')\" ] &&
		[ -z \"\$(find /sys/fs/cgroup -name 'cell-*' 2>/dev/null)\" ] &&
		! pgrep -x cell-init >/dev/null && ! pgrep -u $1 >/dev/null &&
		[ -z \"\$(ls /run/cell 2>/dev/null | grep -v -e '^lock-' -e '^swept\$' -e '^seccomp-' -e '^subid\$' -e '^etc\$' -e '^template.mnt\$')\" ]"
}
leftovers() {
	vm_root "systemctl list-units --all --no-legend 'cell-*'; find /sys/fs/cgroup -name 'cell-*';
		ps -o pid,user,cgroup,args -u $1; pgrep -a cell-init; ls /run/cell" 2>&1 | tr '\n' ' '
}
# check_gone NAME USER ID: the cell ID existed, and now nothing of it is left.
check_gone() {
	if [ -z "$3" ]; then not_ok "$1" "no cell was made, so nothing could end"
	elif wait_for 30 gone "$2"; then ok "$1"
	else not_ok "$1" "$(leftovers "$2")"; fi
}

# ---- 1. where the processes of a confined ssh login are ----
bg_login "$VM_RUN/s1" "$A" 'echo CELL=$CELL_ID; while sleep 0.5; do [ -e ~/ping ] && { echo pong-$(cat ~/ping); rm -f ~/ping; }; done'
S1=$LAST_CLIENT
id=$(cell_of "$VM_RUN/s1")
if [ -z "$id" ]; then
	# Nothing below can pass without one: say why once, not 50 times.
	not_ok "a confined ssh login gets a cell" "$(cat "$VM_RUN/s1")" \
		"$(vm_root 'journalctl --no-pager -n 30 -t sshd')"
	exit 1
fi
ok "a confined ssh login gets a cell ($id)"
unit=cell-$id.scope
props=$(vm_root "systemctl show $unit -p ActiveState,Delegate,MemoryMax,MemorySwapMax,TasksMax,CPUWeight,Slice,ControlGroup")
has "1. the cell is systemd's transient unit $unit, active" "ActiveState=active" "$props"
has "1. ... in the user's slice" "Slice=user-$(vm_root id -u $A).slice" "$props"
has "1. ... with Delegate=yes" "Delegate=yes" "$props"
has "1. profile memory_max = 96M is the unit's MemoryMax" "MemoryMax=100663296" "$props"
has "1. ... and covers swap (MemorySwapMax=0)" "MemorySwapMax=0" "$props"
has "1. profile pids_max = 64 is the unit's TasksMax" "TasksMax=64" "$props"
has "1. profile cpu_weight = 40 is the unit's CPUWeight" "CPUWeight=40" "$props"
cg=$(grep '^ControlGroup=' <<<"$props" | cut -d= -f2)
in_scope=$(vm_root "for p in \$(cat /sys/fs/cgroup$cg/cgroup.procs); do ps -o user=,comm= -p \$p; done")
has "1. the scope holds the root monitor" "root     cell-init" "$in_scope"
has "1. ... the cell's PID 1 (the user's cell-init)" "$A  cell-init" "$in_scope"
has "1. ... cellsh" "cellsh" "$in_scope"
has "1. ... and the user's shell" "bash" "$in_scope"
sess=$(vm_root "loginctl list-sessions --no-legend | awk '\$3 == \"$A\" { print \$1 }'" | tail -1)
check "1. logind knows the login as a session of $A ($sess)" test -n "$sess"
lprops=$(vm_root "loginctl show-session $sess -p Active -p State -p Remote -p RemoteHost -p TTY -p Service -p Scope -p Leader")
has "1. ... active" "Active=yes" "$lprops"
has "1. ... remote, with the client's address" "RemoteHost=10.0.2.2" "$lprops"
has "1. ... on its pty" "TTY=pts/" "$lprops"
has "1. ... through sshd" "Service=sshd" "$lprops"
scope=$(grep '^Scope=' <<<"$lprops" | cut -d= -f2)
in_sess=$(vm_root "for p in \$(cat /sys/fs/cgroup/user.slice/user-\$(id -u $A).slice/$scope/cgroup.procs); do ps -o comm= -p \$p; done | sort -u | tr '\n' ' '")
eq "1. the session scope $scope holds sshd alone: nothing of the user's runs there" "sshd " "$in_sess"
leader=$(grep '^Leader=' <<<"$lprops" | cut -d= -f2)
has "1. ... and logind's session leader is the sshd that ran PAM" "sshd: $A [priv]" "$(vm_root ps -o args= -p "$leader")"
outside=$(vm_root "ps -o comm=,cgroup= -u $A | grep -v -e '$unit' -e '^sshd '")
eq "1. every process of $A but sshd's own is in the cell's scope" "" "$outside"
has "1. systemctl status shows the cell" "cell $id of $A" "$(vm_root systemctl status --no-pager "$unit")"
has "1. systemd-cgtop sees it" "$unit" "$(vm_root systemd-cgtop -b -n 1 --depth=3 -k)"
mgr=$(vm_root "systemctl show user@\$(id -u $A).service -p ActiveState,Result")
has "1. no service manager of the confined user runs on the host" "ActiveState=inactive" "$mgr"
has "1. ... skipped by cell's ExecCondition gate" "Result=exec-condition" "$mgr"

# ---- 2. the manager: an unconfined user gets theirs, a planted unit never runs ----
vm_root "install -d -o $A /home/$A/.config /home/$A/.config/systemd /home/$A/.config/systemd/user /home/$A/.config/systemd/user/default.target.wants
	printf '[Service]\nType=oneshot\nExecStart=/bin/touch /tmp/planted-ran\n' >/home/$A/.config/systemd/user/planted.service
	ln -sf ../planted.service /home/$A/.config/systemd/user/default.target.wants/planted.service"
out=$(login "$B" 'echo unconfined-ok' 2>&1)
has "2. (control) an unconfined user logs in" "unconfined-ok" "$out"
check "2. ... and gets their service manager (the gate lets it start)" \
	wait_for 20 vm_root "systemctl is-active -q user@\$(id -u $B).service"
out=$(login "$A" 'echo second-login' 2>&1)
has "2. another confined login works" "second-login" "$out"
check "2. a unit planted in the confined user's home never runs on the host" \
	vm_root "test -L /home/$A/.config/systemd/user/default.target.wants/planted.service && ! test -e /tmp/planted-ran && ! systemctl is-active -q user@\$(id -u $A).service"

# ---- 3. reloads and restarts leave live cells working ----
vm_root "systemctl daemon-reload && systemctl restart systemd-logind"
vm_root "echo 1 >/home/$A/ping"
check "3. after daemon-reload and a logind restart, the live cell still runs the session" \
	wait_for 20 grep -q pong-1 "$VM_RUN/s1"
has "3. ... its scope is still active" "ActiveState=active" "$(vm_root systemctl show "$unit" -p ActiveState)"
has "3. ... logind still lists the session, active" "Active=yes" \
	"$(vm_root loginctl show-session "$sess" -p Active)"
out=$(login "$A" 'echo after-restart' 2>&1)
has "3. ... and new confined logins work" "after-restart" "$out"

# ---- 4. limits are enforced ----
bg_login "$VM_RUN/s4" "$A" 'echo CELL=$CELL_ID; bomb() { bomb | bomb & }; (bomb) 2>/dev/null; sleep 120'
id4=$(cell_of "$VM_RUN/s4")
sleep 5
cur=$(vm_root "cat /sys/fs/cgroup/user.slice/user-\$(id -u $A).slice/cell-$id4.scope/pids.current")
check "4. a fork bomb stays at TasksMax=64 (pids.current ${cur:-?})" test -n "$cur" -a "${cur:-999}" -le 64
out=$(login "$B" 'echo bystander-ok' 2>&1)
has "4. ... while another user's login works" "bystander-ok" "$out"
vm_root "systemctl stop cell-$id4.scope"
check "4. systemctl stop ends the busy cell and its ssh session" wait_for 30 sh -c "[ -n '$id4' ] && ! kill -0 $LAST_CLIENT 2>/dev/null"
check "4. ... and its monitor removed the record" vm_root "[ -n '$id4' ] && ! test -e /run/cell/$id4"
out=$(login "$A" 'echo CELL=$CELL_ID; head -c 300M /dev/zero | tail -c 290M >/dev/null; echo HOG=${PIPESTATUS[1]}' 2>&1)
has "4. a memory hog is killed at MemoryMax=96M (SIGKILL, 137)" "HOG=137" "$out"
id4=$(grep -o 'CELL=[0-9a-f]*' <<<"$out" | cut -d= -f2)
has "4. ... by the OOM killer of its own scope" "cell-$id4.scope" \
	"$(vm_root journalctl -k --no-pager -g 'oom-kill' | tail -3)"

# ---- 5. logout and a killed sshd leave nothing ----
kill "$S1"
check_gone "5. logout: no scope, cgroup, monitor, record or process is left" "$A" "$id"
bg_login "$VM_RUN/s5" "$A" 'echo CELL=$CELL_ID; sleep 300'
id=$(cell_of "$VM_RUN/s5")
leader=$(vm_root "loginctl show-session \$(loginctl list-sessions --no-legend | awk '\$3 == \"$A\" { print \$1 }' | tail -1) -p Leader --value")
check "5. (found the session's sshd: $leader)" test -n "$leader"
vm_root "kill -KILL $leader"
check_gone "5. SIGKILL to the session's sshd: nothing is left" "$A" "$id"

# ---- 6. logind ends cells: terminate-session, terminate-user ----
bg_login "$VM_RUN/s6" "$A" 'echo CELL=$CELL_ID; sleep 300'
id=$(cell_of "$VM_RUN/s6")
sess=$(vm_root "loginctl list-sessions --no-legend | awk '\$3 == \"$A\" { print \$1 }' | tail -1")
vm_root "loginctl terminate-session $sess"
check_gone "6. loginctl terminate-session ends the cell" "$A" "$id"
bg_login "$VM_RUN/s7" "$A" 'echo CELL=$CELL_ID; sleep 300'
c7=$LAST_CLIENT
bg_login "$VM_RUN/s8" "$A" 'echo CELL=$CELL_ID; sleep 300'
c8=$LAST_CLIENT
id7=$(cell_of "$VM_RUN/s7") id8=$(cell_of "$VM_RUN/s8")
check "6. two logins, two cells ($id7, $id8)" test -n "$id7" -a -n "$id8" -a "$id7" != "$id8"
vm_root "loginctl terminate-user $A"
check_gone "6. loginctl terminate-user ends every cell of the user" "$A" "$id7$id8"
check "6. ... and both ssh sessions" wait_for 10 sh -c "[ -n '$id7' ] && ! kill -0 $c7 2>/dev/null && ! kill -0 $c8 2>/dev/null"

# ---- 7. a shared cell (share = user): one scope for every session ----
bg_login "$VM_RUN/s9" "$C" 'echo CELL=$CELL_ID; sleep 300'
c9=$LAST_CLIENT
bg_login "$VM_RUN/s10" "$C" 'echo CELL=$CELL_ID; sleep 301'
id9=$(cell_of "$VM_RUN/s9") id10=$(cell_of "$VM_RUN/s10")
check "7. a shared cell for $C ($id9)" test -n "$id9"
eq "7. the second session joins the first one's cell" "$id9" "$id10"
procs=$(vm_root "cat /sys/fs/cgroup/user.slice/user-\$(id -u $C).slice/cell-$id9.scope/cgroup.procs | xargs ps -o args= -p")
has "7. ... and its shell is in the same scope" "sleep 301" "$procs"
has "7. ... beside the first one's" "sleep 300" "$procs"
sprops=$(vm_root "systemctl show user-\$(id -u $C).slice -p TasksMax,MemoryMax,CPUWeight")
has "7. user_pids_max = 300 is the user's slice's TasksMax (all their cells)" "TasksMax=300" "$sprops"
has "7. ... user_memory_max = 200M its MemoryMax" "MemoryMax=209715200" "$sprops"
has "7. ... user_cpu_weight = 30 its CPUWeight" "CPUWeight=30" "$sprops"
kill "$c9"
sleep 3
has "7. the first session's logout leaves the shared cell to the second" "ActiveState=active" \
	"$(vm_root systemctl show "cell-$id9.scope" -p ActiveState)"
vm_root "systemctl kill cell-$id9.scope"
check_gone "7. systemctl kill of the scope ends it, and nothing is left" "$C" "$id9"

# ---- 8. rootfs = image:NAME on this kernel (6.1): idmapped lower, overlayfs in the userns ----
out=$(login "$D" 'id -u; grep CapEff /proc/self/status; echo kept >/usr/bin/celltest-persist; ls -ld /usr | cut -c1-10' 2>&1)
eq "8. identity = root over an image: uid 0" "0" "$(sed -n 1p <<<"$out")"
has "8. ... with the capabilities of the cell's user namespace" "CapEff:	000001ffffffffff" "$out"
eq "8. a write to the image's /usr, kept at the next login" "kept" "$(login "$D" 'cat /usr/bin/celltest-persist' 2>&1)"
L=/var/lib/cell/users/$D/bb/layers.ext4
eq "8. ... in the user's own upper filesystem: a file of upper_max bytes, root's 0600" "0 600 $((256 << 20))" \
	"$(vm_root "stat -c '%u %a %s' $L" 2>&1)"
eq "8. ... where the file is the user's (the cell's root)" "$(vm_root "id -u $D")" \
	"$(vm_root "mkdir -p /mnt/peek && mount -o ro,noload,loop $L /mnt/peek && stat -c %u /mnt/peek/upper/usr/bin/celltest-persist; umount /mnt/peek" 2>&1)"
check "8. ... and the image unchanged" vm_root "test ! -e /var/lib/cell/images/bb/usr/bin/celltest-persist"
check_gone "8. the image cell ends at logout, nothing left" "$D" "image"

# ---- 9. proc views on cgroup v2: the scope's memory.max, the server in a unit of its own ----
out=$(login "$E" 'free -m | awk "/^Mem:/ { print \$2, \$3 }"; cut -d. -f1 /proc/uptime;
	awk "/^cpu / { print \$2 + \$4 }" /proc/stat; cut -d" " -f4 /proc/loadavg;
	ip -o link | cut -d: -f2 | tr -d " \n"; echo' 2>&1)
eq "9. free -m in a cell with proc views: total = memory_max (96M)" "96" "$(sed -n 1p <<<"$out" | cut -d' ' -f1)"
check "9. ... used is the scope's memory.current: $(sed -n 1p <<<"$out" | cut -d' ' -f2) MiB" \
	test "$(sed -n 1p <<<"$out" | cut -d' ' -f2)" -lt 96
check "9. uptime is the cell's age: $(sed -n 2p <<<"$out") s" test "$(sed -n 2p <<<"$out")" -lt 30
check "9. /proc/stat counts the scope's cpu time (cpu.stat): $(sed -n 3p <<<"$out") ticks" \
	test "$(sed -n 3p <<<"$out")" -lt 1000
has "9. loadavg counts the scope's tasks" "/" "$(sed -n 4p <<<"$out")"
eq "9. net = none on this kernel (6.1): lo alone" "lo" "$(sed -n 5p <<<"$out")"
has "9. the server runs in cell-procfs.scope, not in the cell's" "ActiveState=active" \
	"$(vm_root 'systemctl show cell-procfs.scope -p ActiveState')"
eq "9. ... as nobody" "nobody" "$(vm_root 'ps -o user= -C cell-procfs' | tr -d ' ')"
vm_root 'umount /run/cell/procfs && rmdir /run/cell/procfs'
check "9. unmounted, the server exits and its scope goes" \
	wait_for 10 vm_root '! pgrep -x cell-procfs >/dev/null && ! systemctl -q is-active cell-procfs.scope'
check_gone "9. the cell ends at logout, nothing left" "$E" "views"
# ---- 10. systemd refuses the scope: the login is refused, nothing waits ----
# pam_cell asks for the cell's scope between its fork and cell-init's exec;
# a second sshd of the guest's, in a mount namespace where systemd's private
# socket is an empty file, cannot: the login must be refused with the
# reason, and cell-init, held back on its go pipe, must exit, not wait.
vm_root 'cat >/root/celltest-client' <"$VM_RUN/client"
out=$(vm_root "bash -s $(printf '%q ' "$A")" <<'EOF' 2>&1
A=$1
chmod 0600 /root/celltest-client
: >/run/celltest-nosd
# (Every command here off this script's stdin, which is the script.)
unshare -m --propagation private sh -c 'mount --bind /run/celltest-nosd /run/systemd/private &&
	exec /usr/sbin/sshd -D -p 2222 -o PidFile=/run/celltest-sshd2.pid' </dev/null >/dev/null 2>&1 &
for i in $(seq 50); do ss -ltnH 'sport = :2222' | grep -q . && break; sleep 0.2; done
ssh -i /root/celltest-client -p 2222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o BatchMode=yes -o LogLevel=ERROR "$A@127.0.0.1" 'echo IN-CELL=$CELL_ID' </dev/null 2>&1
echo "rc=$?"
kill "$(cat /run/celltest-sshd2.pid)"
for i in $(seq 50); do ss -ltnH 'sport = :2222' | grep -q . || break; sleep 0.2; done
for i in $(seq 50); do pgrep -f "sshd: $A" >/dev/null || break; sleep 0.2; done
echo "left=$(pgrep -f "sshd: $A" | wc -l) inits=$(pgrep -x cell-init | wc -l) scopes=$(systemctl list-units --all --no-legend 'cell-*' | wc -l)"
rm -f /root/celltest-client /run/celltest-nosd /run/celltest-sshd2.pid
EOF
)
lacks "10. without systemd's socket the confined login is refused" "IN-CELL=" "$out"
has "10. ... and says why (the scope could not be asked for)" "connecting to systemd" \
	"$out $(vm_root "journalctl --no-pager -n 200" 2>&1 | grep -i cell)"
has "10. ... cell-init, held back on its go pipe, exited: no process of the login, monitor or scope is left" \
	"left=0 inits=0 scopes=0" "$out"
exit 0
