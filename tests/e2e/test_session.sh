#!/bin/bash
# A session's life: sshd's own channels closed by conf/sshd_cell.conf, shared
# cells (share = user), what is left when a login program, PID 1 or the
# client dies (nothing), and terminal behaviour (^C, ^Z, resize, status).
. "$(dirname "$0")/lib.sh"
setup_common
new_group G
new_user U
new_user S
usermod -aG "$G" "$U"
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[user $S]
share = user
[user $U]"
sed -e "s/^Match Group cell,!cell-forward$/Match Group $G,!$G-fwd/" -e "s/^Match Group cell-forward$/Match Group $G-fwd/" \
	"$TOP/conf/sshd_cell.conf" >"$W/sshd_cell.conf"
check "the snippet's Match line was adapted" grep -q "^Match Group $G,!$G-fwd\$" "$W/sshd_cell.conf"
MOUNTS_BEFORE=$(host_mounts)
start_sshd "Include $W/sshd_cell.conf" || exit 1
HOME_U=$(getent passwd "$U" | cut -d: -f6)
free_port() { local p; for ((;;)); do p=$((20000 + RANDOM % 20000)); ss -ltnH "sport = :$p" | grep -q . || { echo "$p"; return; }; done; }
record_field() { sed -n "s/^$2=//p" "/run/cell/$1" 2>/dev/null; } # record_field ID KEY
one_id() { registry_ids | head -1; }
sshx() { ssh "${SSH_BASE[@]}" -p "$PORT" "$@"; }	# sshx OPTIONS... USER@HOST CMD
# The same in the background, with $! the ssh client's own pid.
bg_ssh() { (exec ssh "${SSH_BASE[@]}" -p "$PORT" "$@" >/dev/null 2>&1) & }

# ---- sshd's own channels ----
out=$(sshx -o ExitOnForwardFailure=yes -R "0:127.0.0.1:$PORT" "$U@127.0.0.1" true 2>&1); rc=$?
check "ssh -R: remote forwarding is refused" test "$rc" = 255
has "... and ssh says why" "forwarding failed" "$out"
LP=$(free_port)
ssh "${SSH_BASE[@]}" -p "$PORT" -N -L "$LP:127.0.0.1:$PORT" "$U@127.0.0.1" 2>"$W/L.err" &
lpid=$!; STARTED_PIDS+=($lpid)
wait_for 10 sh -c "ss -ltnH 'sport = :$LP' | grep -q ."
listening=$(ss -ltnH "sport = :$LP")
banner=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$LP && head -c 7 <&3" 2>/dev/null)
kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
check "ssh -L: nothing is forwarded (no SSH banner through the tunnel)" test "$banner" != "SSH-2.0"
check "... the tunnel's local end was listening, so the check means something" test -n "$listening"
has "... sshd refused the channel" "refused local port forward" "$(cat "$W/sshd.log")"
eval "$(ssh-agent -s -a "$W/agent.sock")" >/dev/null
STARTED_PIDS+=("$SSH_AGENT_PID")
sshx -A "$U@127.0.0.1" 'sleep 3' &
apid=$!
sleep 1.5
agent_dirs=$(find /tmp -maxdepth 1 -name 'ssh-*' -user "$U" 2>/dev/null)
wait "$apid"
eq "ssh -A: sshd makes no agent socket for the user on the host" "" "$agent_dirs"
out=$(DISPLAY=:99 sshx -X "$U@127.0.0.1" 'echo "[${DISPLAY:-}]"' 2>&1)
has "ssh -X: X11 forwarding is refused" "X11 forwarding request failed" "$out"
install -d -o "$U" -m 0700 "$HOME_U/.ssh"
printf 'touch "$HOME/rc-ran"\n' >"$HOME_U/.ssh/rc"; chown "$U" "$HOME_U/.ssh/rc"
ssh_to "$U" true
check "~/.ssh/rc is not run (PermitUserRC no)" test ! -e "$HOME_U/rc-ran"
rm -rf "$HOME_U/.ssh"
echo payload >"$W/sftp-file"; chmod 0644 "$W/sftp-file"
printf 'put %s via-sftp\n' "$W/sftp-file" | sftp -q "${SSH_BASE[@]}" -P "$PORT" -b - "$U@127.0.0.1" >/dev/null 2>&1
check "sftp still works with the snippet (external sftp-server through cellsh)" \
	test "$(stat -c %U "$HOME_U/via-sftp" 2>/dev/null)" = "$U"
# (test_entry.sh shows sftp-server running in the cell as cellsh's child.)

# ---- shared cells ----
ssh_to "$S" 'echo ID=$CELL_ID; tmux new-session -d -s work "sleep 300"; mkfifo /tmp/f; cat /tmp/f; sleep 4' >"$W/A.out" 2>&1 &
apid=$!
wait_for 15 grep -q ID= "$W/A.out"
out=$(ssh_to "$S" 'echo ID=$CELL_ID; tmux has-session -t work && echo TMUX-OK; ps -eo comm=; echo hello-from-B >/tmp/f' 2>&1)
idA=$(sed -n 's/^ID=//p' "$W/A.out"); idB=$(sed -n 's/^ID=//p' <<<"$out")
check "a second login of a share=user profile joins the first one's cell" test -n "$idA" -a "$idA" = "$idB"
has "... the first session's tmux session is there to reattach" TMUX-OK "$out"
has "... its processes are visible" "tmux" "$out"
wait_for 5 grep -q hello-from-B "$W/A.out"
has "... and usable: the first session read what the second wrote to its FIFO" hello-from-B "$(cat "$W/A.out")"
has "the join was logged" "joined (shared)" "$(grep "$idA" "$LOG")"
# A ends (sleep 4) while B (sleep 8) goes on: the cell must outlive A.
ssh_to "$S" 'sleep 8' &
bpid=$!
wait "$apid"
sleep 1
check "after the first session ends, the cell lives on with the second" \
	test -e "/run/cell/$idA" -a -n "$(pgrep -u "$S" tmux)"
wait "$bpid"
if wait_for 10 cell_gone "$S"; then ok "the shared cell ends with its last session (tmux too)"
else not_ok "the shared cell ends with its last session" "$(leftovers "$S")"; fi
has "... and its end was logged" "cell $idA ended: its last session closed" "$(cat "$LOG")"
# Two first logins at once still make one cell (the user's lock).
cp=()
for i in 1 2 3; do ssh_to "$S" 'echo ID=$CELL_ID; sleep 2' >"$W/C$i.out" 2>&1 & cp+=($!); done
wait "${cp[@]}"
eq "three simultaneous logins share one cell" 1 "$(sed -n 's/^ID=//p' "$W"/C?.out | sort -u | wc -l)"
wait_for 10 cell_gone "$S"
# A shared cell whose monitor is SIGKILLed: its session's logout removes
# what the monitor would have at its end (record, life pipe, join socket,
# the user's shared-cell note), not the logout sweep a minute later.
ssh_to "$S" 'echo ID=$CELL_ID; sleep 300' >"$W/K.out" 2>&1 &
kpid=$!
wait_for 15 grep -q ID= "$W/K.out"
idK=$(sed -n 's/^ID=//p' "$W/K.out")
monK=$(ps -o ppid= -p "$(record_field "$idK" pid)" | tr -d ' ')
check "a shared cell's monitor to kill ($monK), its life pipe, join socket and note" \
	test -n "$monK" -a "$(ps -o comm= -p "${monK:-0}")" = cell-init -a -p "/run/cell/$idK.life" \
	-a -S "/run/cell/$idK.join" -a "$(cat "/run/cell/shared-$(id -u "$S")" 2>/dev/null)" = "$idK"
printf 1 >/run/cell/swept # the sweep must not be what removes them
# Only a cell-init of this cell's (the check above) is ours to kill.
# (If it is not one, the login is ended instead: no 300 s wait.)
if [ -n "$monK" ] && [ "$(ps -o comm= -p "$monK")" = cell-init ]; then kill -KILL "$monK"
else kill "$kpid"; fi
wait "$kpid" 2>/dev/null
if wait_for 10 cell_gone "$S" && [ ! -e "/run/cell/shared-$(id -u "$S")" ]; then
	ok "... after it, the session's logout leaves nothing of the cell"
else not_ok "... after it, the session's logout leaves nothing of the cell" "$(leftovers "$S"; ls /run/cell)"; fi
rm_cell_cgroups "$idK"

# ---- lifecycle ----
wait_cell() { wait_for 10 sh -c "[ -n \"\$(ls /run/cell 2>/dev/null | grep -E '^[0-9a-f]{32}\$')\" ]"; }
# The sshd process that runs PAM for the session (root, "[priv]").
ssh_to "$U" 'sleep 300' >/dev/null 2>&1 &
cpid=$!
wait_cell
priv=$(pgrep -f "sshd-celltest: $U \[priv\]" | head -1)
check "found the session's privileged sshd" test -n "$priv"
kill -KILL "$priv"
if wait_for 15 cell_gone "$U"; then ok "SIGKILL to the sshd session process: no cell, record, cgroup or process left"
else not_ok "SIGKILL to the sshd session process leaves nothing" "$(leftovers "$U")"; fi
wait "$cpid" 2>/dev/null

PAMTEXT=$(PAM_ROOT_SESSION)
with_pam su "$PAMTEXT" su - "$U" -c 'sleep 300' </dev/null >/dev/null 2>&1 &
wait_cell
supid=$(pgrep -x su | while read -r p; do [ "$(stat -c %U /proc/"$p")" = root ] && grep -q "$U" /proc/"$p"/cmdline && echo "$p"; done | head -1)
check "found su" test -n "$supid"
kill -KILL "$supid"
if wait_for 15 cell_gone "$U"; then ok "SIGKILL to su: no cell, record, cgroup or process left"
else not_ok "SIGKILL to su leaves nothing" "$(leftovers "$U")"; fi

ssh_to "$U" 'sleep 300' >/dev/null 2>&1 &
cpid=$!
wait_cell
id=$(one_id); pid1=$(record_field "$id" pid)
kill -KILL "$pid1"
t0=$SECONDS
wait "$cpid"; rc=$?
check "PID 1 killed from the host ends the session ($((SECONDS - t0)) s, ssh status $rc)" test $((SECONDS - t0)) -le 10 -a "$rc" != 0
if wait_for 10 cell_gone "$U"; then ok "... and leaves nothing"; else not_ok "... and leaves nothing" "$(leftovers "$U")"; fi

bg_ssh "$U@127.0.0.1" 'sleep 300'
cpid=$!
wait_cell
check "the client killed is ssh itself" test "$(ps -o comm= -p "$cpid")" = ssh
kill -KILL "$cpid"; wait "$cpid" 2>/dev/null
if wait_for 15 cell_gone "$U"; then ok "a dropped connection (client SIGKILLed) ends the session and the cell"
else not_ok "a dropped connection ends the cell" "$(leftovers "$U")"; fi
bg_ssh -tt "$U@127.0.0.1" 'sleep 300' </dev/null
cpid=$!
wait_cell
kill -KILL "$cpid"; wait "$cpid" 2>/dev/null
if wait_for 15 cell_gone "$U"; then ok "... also with a pty"
else not_ok "... also with a pty" "$(leftovers "$U")"; fi

# close_session must not block on a cell in a bad state.
ssh_to "$U" 'sleep 2' >/dev/null 2>&1 &
cpid=$!
wait_cell
id=$(one_id); pid1=$(record_field "$id" pid)
kill -STOP "$pid1"
t0=$SECONDS; wait "$cpid"
check "a stopped PID 1 does not hold up the logout ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 6
if wait_for 10 cell_gone "$U"; then ok "... and the cell is gone"; else not_ok "... and the cell is gone" "$(leftovers "$U")"; fi
ssh_to "$U" 'sleep 2' >/dev/null 2>&1 &
cpid=$!
wait_cell
# The monitor answers cellsh's join (it moves the shell into the cell's
# cgroup): stop it only once the shell runs.
wait_for 10 pgrep -u "$U" -x sleep >/dev/null
id=$(one_id); mon=$(ps -o ppid= -p "$(record_field "$id" pid)" | tr -d ' ')
check "the monitor is root's cell-init" test "$(ps -o user=,comm= -p "$mon" | tr -s ' ')" = "root cell-init"
eq "... holding only CAP_KILL (it signals PID 1; uid 0 owns what it removes)" \
	"CapPrm:	0000000000000020 CapEff:	0000000000000020 CapBnd:	0000000000000000" \
	"$(grep -E '^Cap(Prm|Eff|Bnd)' "/proc/$mon/status" | tr '\n' ' ' | sed 's/ $//')"
kill -STOP "$mon"
t0=$SECONDS; wait "$cpid"
check "a stopped monitor does not hold up the logout ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 6
check "... the record is removed by pam_cell itself" wait_for 5 test ! -e "/run/cell/$id"
kill -CONT "$mon"
if wait_for 10 cell_gone "$U"; then ok "... and the monitor finishes the cleanup when it runs again"
else not_ok "... the monitor finishes the cleanup" "$(leftovers "$U")"; fi

# ---- terminals and signals ----
out=$(expect -f "$TOP/tests/e2e/term.exp" -- "$PORT" "$W/id" "$U" 2>&1)
has "a window-size change reaches the shell (stty size)" "GOT-SIZE=33x111" "$out"
got_tty=$(grep -o 'GOT-TTY=[^ ]*' <<<"$out" | sed 's/GOT-TTY=//' | tr -d '\r')
check "tty names the session's terminal in the cell ($got_tty), not 'not a tty'" \
	sh -c "echo '$got_tty' | grep -qE '^/dev/pts/[0-9]+$'"
has "... which exists inside the cell (ttyname() resolves it)" "OK=yes" "$out"
has "... and SSH_TTY names it too" "SSHTTY=$got_tty" "$out"
has "Ctrl-C interrupts the foreground command (status 130) and the session goes on" "GOT-RC=130" "$out"
has "Ctrl-Z stops the foreground job" "GOT-STOPPED" "$out"
has "jobs lists it" "GOT-JOBS" "$out"
has "fg resumes it and Ctrl-C ends it" "GOT-FG=130 JOBS=0" "$out"
has "the shell's exit status is ssh's" "EXIT=3" "$out"
[ "$FAIL" = 0 ] || printf '%s\n' "$out" | tail -30

if wait_for 10 cell_gone "$U"; then ok "nothing is left at the end"; else not_ok "nothing is left at the end" "$(leftovers "$U")"; fi
eq "the host's mount table is unchanged" "$MOUNTS_BEFORE" "$(host_mounts)"
finish
