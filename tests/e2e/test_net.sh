#!/bin/bash
# net = host | none | user | bridge:NAME, through the real sshd. Every
# server here is the test's: on the host's 127.0.0.1, on a bridge the test
# makes, or in a network namespace the test makes (reached through pasta's
# or slirp4netns's outbound path): no traffic leaves the machine.
. "$(dirname "$0")/lib.sh"
setup_common
new_user N	# none
new_user H	# host, landlock = yes
new_user L	# host, landlock = no
new_user U	# user (pasta)
new_user UL	# user (pasta), net_host_loopback = yes
new_user S	# user (slirp4netns)
new_user SL	# user (slirp4netns), net_host_loopback = yes
new_user A	# user (auto), started by an sshd that cannot see pasta
new_user B1	# bridge, isolated
new_user B2
new_user F	# host, in the sshd snippet's forwarding group
new_user N2	# none, shared: a server in one session, cell-connect in another
BR=celltbr$$
BR=${BR:0:15}
SRVNS=celltest-srv$$
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[user $N]
net = none
[user $H]
net = host
[user $L]
net = host
landlock = no
[user $U]
net = user
net_dns = 10.231.88.2
[user $UL]
net = user
net_stack = pasta
net_host_loopback = yes
[user $S]
net = user
net_stack = slirp4netns
net_dns = 10.231.88.2
[user $SL]
net = user
net_stack = slirp4netns
net_host_loopback = yes
[user $A]
net = user
[user $F]
net = host
[user $N2]
net = none
share = user
bind = $W/bin:/tmp/cellbin:ro
[group cellnetb$$]
net = bridge:$BR
net_pool = 10.231.77.0/24"
groupadd "cellnetb$$" && CREATED_GROUPS+=("cellnetb$$")
usermod -aG "cellnetb$$" "$B1" && usermod -aG "cellnetb$$" "$B2"
# The sshd snippet as shipped, for groups of the test's own.
G=cellsn$$
groupadd "$G" && CREATED_GROUPS+=("$G")
groupadd "$G-fwd" && CREATED_GROUPS+=("$G-fwd")
usermod -aG "$G,$G-fwd" "$F" && usermod -aG "$G" "$N2"
sed -e "s/^Match Group cell,!cell-forward$/Match Group $G,!$G-fwd/" -e "s/^Match Group cell-forward$/Match Group $G-fwd/" \
	"$TOP/conf/sshd_cell.conf" >"$W/sshd_cell.conf"
install -m 0755 "$BUILD/cell-connect" "$W/bin/"
start_sshd "Include $W/sshd_cell.conf" || exit 1
# The bridge's address claims are locked through this file: ours if new.
[ -e /run/cell/lock-net ] || CLEANUP_CMDS+=("rm -f /run/cell/lock-net")

# Host-side listeners: a TCP port on 127.0.0.1 (sshd's own) and an abstract
# unix socket, both the test's.
ABS="celltest-abs-$$"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0" + sys.argv[1]); s.listen(8)
while True:
    c, _ = s.accept(); c.sendall(b"host-abstract\n"); c.close()' "$ABS" &
STARTED_PIDS+=($!)
ABS_PROBE="python3 -c 'import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(\"\\0$ABS\"); print(\"ABS\", s.recv(64).decode().strip())
except OSError as e:
    print(\"ABS refused\", e.errno)'"
# bg_ssh OUT USER COMMAND: a session left open; BG is its ssh client's pid.
bg_ssh() {
	ssh "${SSH_BASE[@]}" -p "$PORT" "$2@127.0.0.1" "$3" >"$1" 2>&1 &
	BG=$!
	STARTED_PIDS+=($BG)
}
TCP_PROBE() { echo "timeout 3 bash -c 'exec 3<>/dev/tcp/$1/$2 && echo TCP open' 2>/dev/null || echo TCP closed"; }
sleep 0.3
has "the host itself reaches its abstract socket (the probe works)" "ABS host-abstract" \
	"$(bash -c "$ABS_PROBE")"

# ---- none ----
out=$(ssh_to "$N" "ip -o link | awk '{ print \$2 }' | tr -d : | tr '\n' ' '; echo
	$(TCP_PROBE 127.0.0.1 "$PORT"); $ABS_PROBE; grep -c nameserver /etc/resolv.conf; grep -w \$(hostname) /etc/hosts | wc -l" 2>&1)
eq "net = none: ip link shows lo alone" "lo " "$(sed -n 1p <<<"$out")"
eq "... the host's sshd on 127.0.0.1:$PORT is out of reach" "TCP closed" "$(sed -n 2p <<<"$out")"
has "... and so is the host's abstract socket" "ABS refused 111" "$(sed -n 3p <<<"$out")"
eq "... resolv.conf names no nameserver" "0" "$(sed -n 4p <<<"$out")"
eq "... /etc/hosts names the cell's hostname" "1" "$(sed -n 5p <<<"$out")"

# cellctl check: the sshd snippet's forwarding group holds only net = host.
if getent group cell-forward >/dev/null; then
	skip "cellctl check refuses a net = none user in cell-forward" "the host has a group cell-forward of its own"
else
	groupadd cell-forward && CREATED_GROUPS+=(cell-forward)
	usermod -aG cell-forward "$N"
	has "cellctl check: a net = none user in group cell-forward is a FAIL, with the fix" \
		"FAIL  $N is in group cell-forward" "$("$BUILD/cellctl" --conf "$CONF" check --user "$N" 2>&1)"
	gpasswd -d "$N" cell-forward >/dev/null
fi
has "cellctl check of a net = none user is content" "ok    net = none" \
	"$("$BUILD/cellctl" --conf "$CONF" check --user "$N" 2>&1)"

# ---- host, with and without landlock ----
out=$(ssh_to "$H" "$(TCP_PROBE 127.0.0.1 "$PORT"); $ABS_PROBE" 2>&1)
eq "net = host: the host's loopback services are reachable (documented)" "TCP open" "$(sed -n 1p <<<"$out")"
abi=$(python3 -c 'import ctypes; l = ctypes.CDLL(None, use_errno=True); print(l.syscall(444, None, 0, 1))')
if [ "${abi:-0}" -ge 6 ]; then
	has "... but landlock = yes keeps the host's abstract socket out of reach (Landlock ABI $abi)" \
		"ABS refused 1" "$(sed -n 2p <<<"$out")"
else
	skip "landlock scopes abstract sockets" "this kernel has Landlock ABI ${abi:-none} (< 6)"
fi
has "with landlock = no the host's abstract socket answers (the control)" "ABS host-abstract" \
	"$(ssh_to "$L" "$ABS_PROBE" 2>&1)"

# ---- bridge ----
ip link add "$BR" type bridge && CLEANUP_CMDS+=("ip link del $BR")
ip addr add 10.231.77.1/24 dev "$BR" && ip link set "$BR" up
python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.231.77.1", 7781)); s.listen(8)
while True:
    c, _ = s.accept(); c.sendall(b"bridge-host\n"); c.close()' &
STARTED_PIDS+=($!)
LISTEN='python3 -c "
import socket
s = socket.socket(); s.bind((\"0.0.0.0\", 7782)); s.listen(8)
print(\"listening\", flush=True)
while True:
    c, _ = s.accept(); c.sendall(b\"from-cell\\n\"); c.close()"'
bg_ssh "$W/b2.out" "$B2" "ip -4 -o addr show eth0 | awk '{ print \$4 }'; ip -o link show eth0 | grep -o '@if[0-9]*'; $LISTEN"
b2=$BG
wait_for 15 grep -q listening "$W/b2.out"
b2addr=$(sed -n 1p "$W/b2.out" | cut -d/ -f1)
out=$(ssh_to "$B1" "ip -4 -o addr show eth0 | awk '{ print \$4 }'; ip route | grep default
	timeout 3 bash -c 'exec 3<>/dev/tcp/10.231.77.1/7781; head -1 <&3' 2>/dev/null || echo unreachable
	$(TCP_PROBE "$b2addr" 7782)" 2>&1)
check "net = bridge: each cell has its own address from the pool ($(sed -n 1p <<<"$out"), $b2addr)" \
	sh -c "[ '$(sed -n 1p <<<"$out" | cut -d/ -f1)' != '$b2addr' ] && echo '$b2addr' | grep -q '^10\.231\.77\.'"
has "... and a default route through the bridge's address" "default via 10.231.77.1 dev eth0" "$(sed -n 2p <<<"$out")"
eq "... it reaches a server on the bridge" "bridge-host" "$(sed -n 3p <<<"$out")"
eq "... but not the other user's cell on it (net_isolate = yes)" "TCP closed" "$(sed -n 4p <<<"$out")"
peer=$(sed -n 2p "$W/b2.out")
check "... the other end of a cell's eth0 (ifindex ${peer#@if}) is on the bridge" \
	sh -c "ip -o link show master $BR | grep -q '^${peer#@if}:'"
sed -i 's/^net_pool = 10.231.77.0\/24$/net_pool = 10.231.77.0\/24\nnet_isolate = no/' "$CONF"
eq "with net_isolate = no a new cell reaches the other cell's server" "TCP open" \
	"$(ssh_to "$B1" "$(TCP_PROBE "$b2addr" 7782)" 2>&1)"

# ---- port forwarding ----
SERVE() { # SERVE PORT BANNER: a server in the cell, a line per connection
	echo "python3 -c \"
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\\\"127.0.0.1\\\", $1)); s.listen(8); print(\\\"listening\\\", flush=True)
while True:
    c, _ = s.accept(); c.sendall(b\\\"$2\\\\n\\\"); c.close()\""
}
READ_FROM() { timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; head -1 <&3" 2>/dev/null; }
bg_ssh "$W/f.out" "$F" "$(SERVE 7790 from-cell-F)"
fs=$BG
wait_for 15 grep -q listening "$W/f.out"
ssh "${SSH_BASE[@]}" -p "$PORT" -N -L 17790:127.0.0.1:7790 -L 17791:10.231.77.1:7781 "$F@127.0.0.1" &
fl=$!
STARTED_PIDS+=($fl)
check "ssh -L listens on 17790 and 17791" wait_for 10 sh -c "ss -ltnH 'sport = :17790' | grep -q . && ss -ltnH 'sport = :17791' | grep -q ."
eq "net = host, group cell-forward: ssh -L reaches a server in the cell" "from-cell-F" "$(READ_FROM 17790)"
eq "... but a forward to anything but loopback is refused (PermitOpen)" "" "$(READ_FROM 17791)"
out=$(ssh "${SSH_BASE[@]}" -p "$PORT" -N -o ExitOnForwardFailure=yes -R 17793:127.0.0.1:7790 "$F@127.0.0.1" 2>&1)
has "... and a remote forward (-R) is refused" "remote port forwarding failed" "$out"
bg_ssh "$W/n2.out" "$N2" "$(SERVE 7791 from-cell-N2)"
n2s=$BG
wait_for 15 grep -q listening "$W/n2.out"
ssh "${SSH_BASE[@]}" -p "$PORT" -N -L 17792:127.0.0.1:7791 "$N2@127.0.0.1" &
nl=$!
STARTED_PIDS+=($nl)
check "ssh -L listens on 17792 (the refusal below is sshd's, not a missing listener)" \
	wait_for 10 sh -c "ss -ltnH 'sport = :17792' | grep -q ."
eq "net = none: sshd's own forwarding is off (it would connect from the host)" "" "$(READ_FROM 17792)"
eq "... cell-connect through cellsh reaches the server in the cell" "from-cell-N2" \
	"$(echo | ssh_to "$N2" /tmp/cellbin/cell-connect 127.0.0.1 7791 2>&1)"
has "... and not the host's sshd, which the cell cannot reach" "Connection refused" \
	"$(echo | ssh_to "$N2" /tmp/cellbin/cell-connect 127.0.0.1 "$PORT" 2>&1)"
kill "$fs" "$n2s" "$fl" "$nl"
check "the forwarding sessions end with their cells" wait_for 30 sh -c "! pgrep -u $F >/dev/null && ! pgrep -u $N2 >/dev/null"

kill "$b2"
check "the other cell's session ended" wait_for 30 sh -c "! pgrep -u $B2 >/dev/null"

# A SIGKILLed monitor leaves nothing on the bridge, and its address comes back.
bg_ssh "$W/b1.out" "$B1" "ip -4 -o addr show eth0 | awk '{ print \$4 }'; echo \$CELL_ID; sleep 60"
b1=$BG
wait_for 15 grep -q / "$W/b1.out"
a1=$(sed -n 1p "$W/b1.out" | cut -d/ -f1)
killed=$(sed -n 2p "$W/b1.out")
mon=""
for p in $(pgrep -x cell-init); do
	[ "$(ps -o comm= -p "$(ps -o ppid= -p "$p" | tr -d ' ')")" != cell-init ] &&
		grep -q "$B1" "/proc/$p/cmdline" 2>/dev/null && mon=$p
done
check "B1's cell has a monitor to kill ($mon)" test -n "$mon"
check "... and a join socket" test -S "/run/cell/$killed.join"
# The logout's once-a-minute sweep must not be what removes it below.
printf 1 >/run/cell/swept
kill -KILL "$mon"
check "after SIGKILL of the monitor its veth leaves the bridge" \
	wait_for 30 sh -c "[ -z \"\$(ip -o link show master $BR)\" ]"
kill "$b1" 2>/dev/null # the session may have ended with its monitor
check "... the session's logout removes the killed monitor's join socket" \
	wait_for 15 sh -c "[ ! -e /run/cell/$killed.join ]"
eq "... and the next cell gets the killed cell's address again" "$a1" \
	"$(ssh_to "$B1" "ip -4 -o addr show eth0 | awk '{ print \$4 }'" 2>&1 | cut -d/ -f1)"
check "... and its cgroups (no systemd here to remove a scope)" \
	wait_for 5 sh -c "! ls -d /sys/fs/cgroup/*/cell/$killed /sys/fs/cgroup/cell/$killed 2>/dev/null | grep -q ."
rm_cell_cgroups "$killed"
check "after the sessions no veth is left on the bridge, no address claim" \
	wait_for 30 sh -c "[ -z \"\$(bridge link show | grep 'master $BR')\" ] && ! ls /run/cell/*.net >/dev/null 2>&1"

# ---- user (pasta) ----
if ! command -v pasta >/dev/null; then
	skip "net = user" "pasta is not installed (package passt)"
else
	# pasta (as the user) opens /dev/net/tun: udev makes it 0666, this
	# machine may not have udev.
	tun_mode=$(stat -c %a /dev/net/tun)
	if [ "$tun_mode" != 666 ]; then
		out=$(ssh_to "$U" 'echo INSIDE' 2>&1)
		has "net = user with /dev/net/tun closed to users: refused, naming the fix" \
			"chmod 0666 /dev/net/tun" "$out"
		chmod 0666 /dev/net/tun && CLEANUP_CMDS+=("chmod $tun_mode /dev/net/tun")
	fi
	# ip netns makes /run/netns a mount point the first time: ours to undo.
	mountpoint -q /run/netns || CLEANUP_CMDS+=("ip netns del $SRVNS; [ -z \"\$(ls /run/netns)\" ] && umount /run/netns && rmdir /run/netns")
	ip netns add "$SRVNS" && CLEANUP_CMDS+=("ip netns del $SRVNS")
	ip link add "cth$$" type veth peer name eth0 netns "$SRVNS"
	ip addr add 10.231.88.1/30 dev "cth$$" && ip link set "cth$$" up
	ip -n "$SRVNS" addr add 10.231.88.2/30 dev eth0
	ip -n "$SRVNS" link set eth0 up && ip -n "$SRVNS" link set lo up
	ip netns exec "$SRVNS" python3 -c '
import socket, threading
def dns():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("10.231.88.2", 53))
    while True:
        q, a = u.recvfrom(512)
        # the question as asked, one A record 10.231.88.2
        end = 12
        while q[end]: end += q[end] + 1
        qd = q[12:end + 5]
        u.sendto(q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + qd +
                 b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + bytes([10, 231, 88, 2]), a)
threading.Thread(target=dns, daemon=True).start()
s = socket.socket(); s.bind(("10.231.88.2", 7788)); s.listen(8)
while True:
    c, _ = s.accept(); c.sendall(b"outside-server\n"); c.close()' &
	STARTED_PIDS+=($!)
	sleep 0.5
	out=$(ssh_to "$U" "timeout 5 bash -c 'exec 3<>/dev/tcp/10.231.88.2/7788; head -1 <&3' 2>/dev/null || echo unreachable
		getent hosts celltest.example | awk '{ print \$1 }'
		$(TCP_PROBE 127.0.0.1 "$PORT")" 2>&1)
	eq "net = user: a server in another namespace is reached through pasta" "outside-server" "$(sed -n 1p <<<"$out")"
	eq "... DNS works inside (net_dns, over pasta)" "10.231.88.2" "$(sed -n 2p <<<"$out")"
	eq "... the host's sshd on 127.0.0.1 is not reachable" "TCP closed" "$(sed -n 3p <<<"$out")"
	bg_ssh "$W/u.out" "$U" 'echo started; sleep 30'
	u=$BG
	wait_for 15 grep -qs started "$W/u.out"
	pp=$(pgrep -u "$U" -f -- '--config-net' | head -1)
	check "... pasta runs as the user ($U), not root" test -n "$pp"
	check "... in the cell's cgroup" sh -c "grep -q '/cell/' /proc/$pp/cgroup"
	check "... under a seccomp filter of its own" grep -q "^Seccomp:[[:space:]]*2" "/proc/$pp/status"
	has "... with --no-map-gw: the gateway address is not the host's loopback (not probed: it is a real router's)" \
		"--no-map-gw" "$(tr '\0' ' ' </proc/"$pp"/cmdline)"
	kill "$u"
	check "after logout no pasta and nothing of the cell is left" wait_for 30 cell_gone "$U"
	# net_host_loopback = yes: pasta maps the gateway's address to the
	# host's 127.0.0.1, where the test's sshd listens.
	GW=$(ip route show default | awk '{ print $3; exit }')
	if [ -z "$GW" ]; then
		skip "net = user, net_host_loopback = yes (pasta)" "the host has no default route for pasta to copy"
	else
		eq "net_host_loopback = yes (pasta): the gateway $GW is the host's 127.0.0.1" "TCP open" \
			"$(ssh_to "$UL" "$(TCP_PROBE "$GW" "$PORT")" 2>&1)"
	fi
	check "... and nothing of its cell is left" wait_for 30 cell_gone "$UL"
fi

# ---- user (slirp4netns) ----
if ! command -v slirp4netns >/dev/null; then
	skip "net = user, net_stack = slirp4netns" "slirp4netns is not installed"
else
	out=$(ssh_to "$S" "timeout 5 bash -c 'exec 3<>/dev/tcp/10.231.88.2/7788; head -1 <&3' 2>/dev/null || echo unreachable
		getent hosts celltest.example | awk '{ print \$1 }'
		$(TCP_PROBE 127.0.0.1 "$PORT")
		$(TCP_PROBE 10.0.2.2 "$PORT")
		ip -o -4 addr show tap0 | awk '{ print \$4 }'" 2>&1)
	has "cellctl check names the stack a net = user cell runs" "ok    net = user runs slirp4netns" \
		"$("$BUILD/cellctl" --conf "$CONF" check --user "$S" 2>&1)"
	eq "net_stack = slirp4netns: the server in another namespace is reached" "outside-server" "$(sed -n 1p <<<"$out")"
	eq "... DNS works inside (net_dns, over slirp4netns)" "10.231.88.2" "$(sed -n 2p <<<"$out")"
	eq "... the host's sshd on 127.0.0.1 is not reachable" "TCP closed" "$(sed -n 3p <<<"$out")"
	eq "... nor through 10.0.2.2 (--disable-host-loopback)" "TCP closed" "$(sed -n 4p <<<"$out")"
	eq "... the cell's address is slirp4netns's" "10.0.2.100/24" "$(sed -n 5p <<<"$out")"
	bg_ssh "$W/s.out" "$S" 'echo started; sleep 30'
	s=$BG
	wait_for 15 grep -qs started "$W/s.out"
	sp=$(pgrep -u "$S" -x slirp4netns | head -1)
	check "... slirp4netns runs as the user ($S), not root" test -n "$sp"
	check "... in the cell's cgroup" sh -c "grep -q '/cell/' /proc/$sp/cgroup"
	check "... under a seccomp filter of its own (--enable-seccomp)" grep -q "^Seccomp:[[:space:]]*2" "/proc/$sp/status"
	kill "$s"
	check "after logout no slirp4netns and nothing of the cell is left" wait_for 30 cell_gone "$S"
	eq "net_host_loopback = yes (slirp4netns): 10.0.2.2 is the host's 127.0.0.1" "TCP open" \
		"$(ssh_to "$SL" "$(TCP_PROBE 10.0.2.2 "$PORT")" 2>&1)"
	check "... and nothing of its cell is left" wait_for 30 cell_gone "$SL"

	# net_stack = auto falls back to slirp4netns where pasta is missing:
	# sshd (and every monitor and cell it starts) sees an empty,
	# non-executable /usr/bin/passt.
	SSHD_HIDE=(/usr/bin/passt)
	if [ ! -e /usr/bin/passt ]; then
		skip "net_stack = auto without pasta" "there is no /usr/bin/passt to hide"
	elif restart_sshd; then
		out=$(ssh_to "$A" "timeout 5 bash -c 'exec 3<>/dev/tcp/10.231.88.2/7788; head -1 <&3' 2>/dev/null || echo unreachable
			sed -n 's/^nameserver //p' /etc/resolv.conf" 2>&1)
		eq "net_stack = auto without pasta: slirp4netns carries the cell out" "outside-server" "$(sed -n 1p <<<"$out")"
		eq "... its resolv.conf names slirp4netns's resolver (pasta's would be the gateway)" "10.0.2.3" "$(sed -n 2p <<<"$out")"
		check "... and nothing of its cell is left" wait_for 30 cell_gone "$A"
	else
		not_ok "sshd did not restart with /usr/bin/passt hidden" "$(tail -5 "$W/sshd.log")"
	fi
	SSHD_HIDE=()
fi
check "nothing of any cell is left" wait_for 30 no_registry
finish
