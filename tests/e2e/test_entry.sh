#!/bin/bash
# Every way in is confined: ssh with a pty, ssh COMMAND, scp (SFTP and legacy
# mode), sftp, rsync, su - / su -c, runuser -l and login on a pty. Each shows
# the cell's namespaces (not the host's), that files land in the user's home,
# that /tmp is the cell's own and the rest read-only, and the exit status.
. "$(dirname "$0")/lib.sh"
setup_common
new_user U
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[user $U]
hostname = entry"
start_sshd || exit 1
HOME_U=$(getent passwd "$U" | cut -d: -f6)
HOST_PIDNS=$(readlink /proc/self/ns/pid)
HOST_MNTNS=$(readlink /proc/self/ns/mnt)
PAYLOAD=$W/payload
head -c 50000 /dev/urandom >"$PAYLOAD"; chmod 0644 "$PAYLOAD"
MOUNTS_BEFORE=$(host_mounts)

lines() { grep -cE 'cell [0-9a-f]{32} created' "$LOG"; }
# The namespaces the last created cell was logged with (pid:N -> pid:[N]).
logged_ns() { log_field ns | tr ',' '\n' | sed -n "s/^$1:\(.*\)/$1:[\1]/p"; }

# in_cell LABEL OUTPUT: OUTPUT holds readlink lines of pid and mnt namespaces.
in_cell() {
	local pidns mntns
	pidns=$(grep -oE 'pid:\[[0-9]+\]' <<<"$2" | head -1)
	mntns=$(grep -oE 'mnt:\[[0-9]+\]' <<<"$2" | head -1)
	if [ -n "$pidns" ] && [ "$pidns" != "$HOST_PIDNS" ] && [ "$mntns" != "$HOST_MNTNS" ] &&
		[ "$pidns" = "$(logged_ns pid)" ] && [ "$mntns" = "$(logged_ns mnt)" ]; then
		ok "$1: runs in the cell's namespaces ($pidns $mntns)"
	else
		not_ok "$1: runs in the cell's namespaces" "seen: $pidns $mntns" \
			"cell: $(logged_ns pid) $(logged_ns mnt)" "host: $HOST_PIDNS $HOST_MNTNS"
	fi
}
# landed LABEL NAME: ~/NAME exists on the host, owned by the user.
landed() {
	if [ "$(stat -c %U "$HOME_U/$2" 2>/dev/null)" = "$U" ]; then ok "$1: file lands in the user's home"
	else not_ok "$1: file lands in the user's home" "$(ls -la "$HOME_U" 2>&1)"; fi
}
NSCMD='readlink /proc/self/ns/pid /proc/self/ns/mnt'

# ---- ssh with a pty ----
out=$(run_pty "$U" "$NSCMD" "echo pty >~/via-pty; echo x >/tmp/via-pty-$$")
has "ssh -tt: interactive login works" "EXIT=0" "$out"
in_cell "ssh -tt" "$out"
landed "ssh -tt" via-pty
check "ssh -tt: /tmp is the cell's own" test ! -e "/tmp/via-pty-$$"

# ---- ssh COMMAND ----
out=$(ssh_to "$U" "$NSCMD; echo cmd >~/via-cmd; touch /etc/x-$$ 2>&1; exit 42" 2>&1); rc=$?
eq "ssh COMMAND: exit status relayed" 42 "$rc"
in_cell "ssh COMMAND" "$out"
landed "ssh COMMAND" via-cmd
has "ssh COMMAND: / outside home is read-only" "Read-only file system" "$out"

# ---- file transfers: each its own cell ----
transfer() { # transfer LABEL COMMAND...  (the command uploads $PAYLOAD as ~/up-LABEL)
	local label=$1 before; shift
	before=$(lines)
	"$@" >"$W/xfer.out" 2>&1; local rc=$?
	eq "$label: succeeds" 0 "$rc"
	[ "$rc" = 0 ] || cat "$W/xfer.out"
	check "$label: a cell was created for it" test "$(lines)" -gt "$before"
	check "$label: uploaded file is in the home, intact" cmp -s "$PAYLOAD" "$HOME_U/up-$label"
	landed "$label" "up-$label"
}
SCP=(scp -q "${SSH_BASE[@]}" -P "$PORT")
transfer scp "${SCP[@]}" "$PAYLOAD" "$U@127.0.0.1:up-scp"
"${SCP[@]}" "$PAYLOAD" "$U@127.0.0.1:/tmp/scp-$$" 2>/dev/null
"${SCP[@]}" "$U@127.0.0.1:up-scp" "$W/down-scp" 2>/dev/null
check "scp: downloaded file is the home's" cmp -s "$PAYLOAD" "$W/down-scp"
check "scp: a write to /tmp stays in the cell's /tmp" test ! -e "/tmp/scp-$$"
out=$("${SCP[@]}" "$PAYLOAD" "$U@127.0.0.1:/etc/scp-$$" 2>&1)
check "scp: a write to /etc is refused" test ! -e "/etc/scp-$$"
has "... by the server (SFTP reports the cell's read-only root as a failure)" "Failure" "$out"

transfer scp-O "${SCP[@]}" -O "$PAYLOAD" "$U@127.0.0.1:up-scp-O"
"${SCP[@]}" -O "$PAYLOAD" "$U@127.0.0.1:/tmp/scp-O-$$" 2>/dev/null
"${SCP[@]}" -O "$U@127.0.0.1:up-scp-O" "$W/down-scp-O" 2>/dev/null
check "scp -O: downloaded file is the home's" cmp -s "$PAYLOAD" "$W/down-scp-O"
check "scp -O: a write to /tmp stays in the cell's /tmp" test ! -e "/tmp/scp-O-$$"
out=$("${SCP[@]}" -O "$PAYLOAD" "$U@127.0.0.1:/etc/scp-O-$$" 2>&1)
has "scp -O: a write to /etc fails read-only" "Read-only file system" "$out"
lacks "scp -O: ran through cellsh, not internal code" "cellsh:" "$out"

# rsync: --rsync-path runs through the login shell too, so it can show where.
before=$(lines)
out=$(rsync -e "ssh ${SSH_BASE[*]} -p $PORT" --rsync-path="$NSCMD >&2; rsync" \
	"$PAYLOAD" "$U@127.0.0.1:up-rsync" 2>&1); rc=$?
eq "rsync -e ssh: succeeds" 0 "$rc"
in_cell "rsync -e ssh" "$out"
check "rsync: uploaded file is in the home, intact" cmp -s "$PAYLOAD" "$HOME_U/up-rsync"
landed "rsync" up-rsync
rsync -e "ssh ${SSH_BASE[*]} -p $PORT" "$PAYLOAD" "$U@127.0.0.1:/tmp/rsync-$$" >/dev/null 2>&1
check "rsync: a write to /tmp stays in the cell's /tmp" test ! -e "/tmp/rsync-$$"
rsync -e "ssh ${SSH_BASE[*]} -p $PORT" "$U@127.0.0.1:up-rsync" "$W/down-rsync" >/dev/null 2>&1
check "rsync: downloaded file is the home's" cmp -s "$PAYLOAD" "$W/down-rsync"

# sftp, held open so that its server process can be inspected from the host.
mkfifo "$W/sftp.in"
sftp -q "${SSH_BASE[@]}" -P "$PORT" -b "$W/sftp.in" "$U@127.0.0.1" >"$W/sftp.out" 2>&1 &
sftp_pid=$!
STARTED_PIDS+=($sftp_pid)
exec 7>"$W/sftp.in"
printf 'put %s up-sftp\nput %s /tmp/sftp-%s\nget up-sftp %s/down-sftp\n' \
	"$PAYLOAD" "$PAYLOAD" "$$" "$W" >&7
wait_for 10 test -s "$W/down-sftp"
server=$(pgrep -u "$U" -x sftp-server | head -1)
if [ -n "$server" ]; then
	sns=$(readlink "/proc/$server/ns/pid")
	mns=$(readlink "/proc/$server/ns/mnt")
	in_cell "sftp (sftp-server pid $server)" "$sns $mns"
else
	not_ok "sftp: sftp-server runs as the user" "$(ps -u "$U" -o pid,args 2>&1)"
fi
has "sftp: sftp-server was started through cellsh" "cellsh" \
	"$(ps -o args= -p "$(ps -o ppid= -p "${server:-1}" 2>/dev/null | tr -d ' ')" 2>/dev/null)"
printf 'put %s /etc/sftp-%s\nbye\n' "$PAYLOAD" "$$" >&7
exec 7>&-
wait "$sftp_pid"
check "sftp: uploaded file is in the home, intact" cmp -s "$PAYLOAD" "$HOME_U/up-sftp"
landed sftp up-sftp
check "sftp: downloaded file is the home's" cmp -s "$PAYLOAD" "$W/down-sftp"
check "sftp: a write to /tmp stays in the cell's /tmp" test ! -e "/tmp/sftp-$$"
check "sftp: a write to /etc is refused" test ! -e "/etc/sftp-$$"

# ---- su, runuser, login: a test PAM file bound over the service's ----
PAMTEXT=$(PAM_ROOT_SESSION)
out=$(with_pam su "$PAMTEXT" su - "$U" -c "$NSCMD; echo su >~/via-su-l; exit 7" </dev/null 2>&1); rc=$?
eq "su - USER -c: exit status relayed" 7 "$rc"
in_cell "su - USER" "$out"
landed "su - USER" via-su-l
out=$(with_pam su "$PAMTEXT" su "$U" -c "$NSCMD; echo su >~/via-su; exit 5" </dev/null 2>&1); rc=$?
eq "su USER -c: exit status relayed" 5 "$rc"
in_cell "su USER -c" "$out"
landed "su USER -c" via-su
out=$(with_pam runuser-l "$PAMTEXT" runuser -l "$U" -c "$NSCMD; echo ru >~/via-runuser; exit 9" </dev/null 2>&1); rc=$?
eq "runuser -l: exit status relayed" 9 "$rc"
in_cell "runuser -l" "$out"
landed "runuser -l" via-runuser

printf '%s\n' "$PAMTEXT" >"$W/pam.login"
out=$(expect -f "$TOP/tests/e2e/login.exp" -- "$W/pam.login" "${SINK_SOCK:-/dev/log}" "$U" \
	"$NSCMD" "echo login >~/via-login" 2>&1)
has "login on a pty: logs in and out" "EXIT=0" "$out"
in_cell "login on a pty" "$out"
landed "login" via-login

# ---- a login program in the host's mount namespace ----
# (sshd and su above run in private copies, as some units do: each such
# login makes its own template.) Here the first login makes the template
# namespace and holds it on /run/cell/template.mnt; the next uses it.
install_pam "celltest-entry$$" "session required $W/pam_cell.so conf=$CONF"
out=$("$BUILD/bench/driver" run "celltest-entry$$" "$U" 1 "$CELLSH" 2>&1); rc=$?
eq "a login in the host's mount namespace: works" 0 "$rc"
check "... the template is held on /run/cell/template.mnt" template_held
t1=$(stat -L -c %i /run/cell/template.mnt 2>&1)
out=$("$BUILD/bench/driver" run "celltest-entry$$" "$U" 2 "$CELLSH" 2>&1); rc=$?
eq "... two more logins: work" 0 "$rc"
eq "... and start from the same template" "$t1" "$(stat -L -c %i /run/cell/template.mnt 2>&1)"
rm -f "/etc/pam.d/celltest-entry$$"

# ---- nothing left ----
if wait_for 10 cell_gone "$U"; then ok "no cell, registry entry or cgroup is left"
else not_ok "no cell, registry entry or cgroup is left" "$(leftovers "$U")"; fi
eq "the host's mount table is unchanged" "$MOUNTS_BEFORE" "$(host_mounts)"
finish
