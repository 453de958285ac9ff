#!/bin/bash
# "bind = SRC:DST[:ro|rw]" through the real sshd: a shared root-owned
# directory read-only, the user's own project read-write, %u and %h; and
# every refusal (another user's SRC, a symlink in SRC) with the key's
# file:line, never a shell without the bind.
. "$(dirname "$0")/lib.sh"
setup_common
new_user U
new_user OTHER
start_sshd || exit 1
uid=$(id -u "$U")

install -d -m 0755 "$W/shared"
echo shared-data >"$W/shared/readme"
install -d -o "$U" -m 0700 "$W/proj-$U"
install -d -o "$OTHER" -m 0755 "$W/theirs"
ln -s "$W/shared" "$W/link"
BASE="cellsh = $CELLSH
cell_init = $W/bin/cell-init
exempt = root
[user $U]"

write_conf "$BASE
bind = $W/shared:/srv/shared
bind = $W/proj-%u:/srv/project:rw
bind = $W/shared/readme:%h/readme-from-host"
out=$(ssh_to "$U" 'cat /srv/shared/readme; touch /srv/shared/x 2>&1 | grep -c "Read-only";
	echo inside >/srv/project/made-inside && echo wrote; cat ~/readme-from-host;
	grep -E " /srv/(shared|project) " /proc/self/mountinfo | cut -d" " -f5,6' 2>&1)
eq "a root-owned directory is bound where the config says" "shared-data" "$(sed -n 1p <<<"$out")"
eq "... read-only by default" "1" "$(sed -n 2p <<<"$out")"
eq "the user's own directory, rw, with %u expanded" "wrote" "$(sed -n 3p <<<"$out")"
eq "... the file is on the host, owned by the user" "$uid inside" \
	"$(stat -c %u "$W/proj-$U/made-inside" 2>&1) $(cat "$W/proj-$U/made-inside" 2>&1)"
eq "a file bound to %h/..." "shared-data" "$(sed -n 4p <<<"$out")"
has "... every bind is nosuid, nodev" "/srv/shared ro,nosuid,nodev" "$out"
has "... the rw one too" "/srv/project rw,nosuid,nodev" "$out"
eq "in the real home, only the mount point: an empty file of the user's" "0 $uid" \
	"$(stat -c '%s %u' "/home/$U/readme-from-host" 2>&1)"

# Refusals: the login gets no shell, and the log names file:line.
refused() { # refused NAME CONF-TAIL EXPECTED-LOG-TEXT
	write_conf "$BASE
$2"
	: >"$LOG"
	out=$(ssh_to "$U" 'echo SHELL-RAN' 2>&1)
	lacks "$1: no shell" "SHELL-RAN" "$out"
	wait_for 5 grep -qF -- "$3" "$LOG"
	has "$1: the cause, with file:line" "$3" "$(cat "$LOG")"
}
refused "another user's directory" "bind = $W/theirs:/srv/theirs" \
	"$CONF:5: bind: $W/theirs is owned by uid $(id -u "$OTHER"), neither root nor $U"
refused "a symlink in SRC" "bind = $W/link:/srv/l" "$CONF:5: bind: opening $W/link"
refused "a missing SRC" "bind = $W/nothing-%u:/srv/n" "$CONF:5: bind: opening $W/nothing-$U"
refused "a DST where the system is read-only" "bind = $W/shared:/usr/cell-test-$$" "bind /usr/cell-test-$$"
check "... and nothing was made on the host's /usr" test ! -e "/usr/cell-test-$$"

# A race on SRC: the user swaps (renameat2 RENAME_EXCHANGE, in a loop)
# their own ~/share with a symlink to /etc while logins run. A login gets
# the user's directory or is refused; /etc is never bound.
install -d -o "$U" -m 0755 "/home/$U/share"
touch "/home/$U/share/mine"
chown "$U" "/home/$U/share/mine"
ln -s /etc "/home/$U/decoy"
chown -h "$U" "/home/$U/decoy"
write_conf "$BASE
bind = %h/share:/srv/share"
setpriv --reuid="$uid" --regid="$(id -g "$U")" --clear-groups /usr/bin/python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode(), sys.argv[2].encode()
while True:
    libc.renameat2(-100, a, -100, b, 2)
' "/home/$U/share" "/home/$U/decoy" &
RACER=$!
STARTED_PIDS+=($RACER)
sleep 0.5
check "(the racer runs as the user)" kill -0 "$RACER"
got_mine=0 got_etc=0 refused_n=0
for i in $(seq 1 30); do
	o=$(ssh_to "$U" 'ls /srv/share' 2>&1)
	case $o in
	*passwd*) got_etc=$((got_etc + 1)) ;;
	mine) got_mine=$((got_mine + 1)) ;;
	*) refused_n=$((refused_n + 1)) ;;
	esac
done
kill "$RACER" 2>/dev/null
wait "$RACER" 2>/dev/null
eq "race on SRC: /etc is never bound ($got_mine logins got the user's dir, $refused_n refused)" 0 "$got_etc"
check "... and logins still work under the race" test "$got_mine" -gt 0

# The trees root cloned for the cell, and the cell's own mounts, are
# locked: whoever holds the capabilities of the cell's user namespace (here
# root, entering it; inside, root of a cell that keeps them) cannot make a
# read-only bind writable, clear nosuid on the home, make the root writable
# or unmount a mount to see what it covers. And nothing mounted on the host
# below a bound directory after the start shows in the cell.
write_conf "$BASE
bind = $W/shared:/srv/shared"
install -d -m 0755 "$W/shared/sub"
ssh_to "$U" 'sleep 30' >/dev/null 2>&1 &
STARTED_PIDS+=($!)
wait_for 10 live_cell "$U" >/dev/null
p1=$(sed -n 's/^pid=//p' "/run/cell/$(live_cell "$U")")
check "(a cell is running: PID 1 $p1)" test -n "$p1"
mount -t tmpfs -o size=64k celltest-late "$W/shared/sub" && CREATED_MOUNTS+=("$W/shared/sub")
out=$(nsenter -t "$p1" -a -r -w sh -c 'for t in "rw /srv/shared" "rw /" "suid /home/'"$U"'" "rw /usr"; do
	set -- $t; mount -o "remount,bind,$1" "$2" 2>/dev/null && echo "CHANGED $2"; done
	umount /usr 2>/dev/null && echo "UNMOUNTED /usr"; umount /dev/null 2>/dev/null && echo "UNMOUNTED /dev/null"
	grep -c celltest-late /proc/self/mountinfo; echo done' 2>&1)
eq "with the cell's capabilities, no flag of a mount can be cleared, no mount taken away" \
	"0 done" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
umount "$W/shared/sub"

# Config errors are caught at parse time with file:line.
write_conf "$BASE
bind = $W/shared:/proc/x"
out=$("$BUILD/cellctl" --conf "$CONF" check 2>&1)
has "a DST over /proc is a config error" "$CONF:5: bind: DST '/proc/x' would cover what the cell builds" "$out"
write_conf "$BASE
bind = $W/shared/../etc:/srv/e"
out=$("$BUILD/cellctl" --conf "$CONF" check 2>&1)
has "a '..' in SRC is a config error" "$CONF:5: bind: SRC '$W/shared/../etc' must be a clean path" "$out"
finish
