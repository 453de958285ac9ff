#!/bin/bash
# Escape suite 10: planted paths. Symlinks, FIFOs, sockets and foreign-owned
# directories at every path the PAM side creates or opens for the user: the
# login proceeds safely or is refused with a reason - never followed, never
# a hang (each login runs under a 20 s timeout).
. "$(dirname "$0")/../e2e/lib.sh"
setup_common
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[user ct$$u*]
share = user"
start_sshd || exit 1
try() { timeout 20 ssh "${SSH_BASE[@]}" -p "$PORT" "$1@127.0.0.1" 'echo INSIDE' 2>&1; echo "rc=$?"; }
refused() { # refused NAME USER REASON: no shell, no hang, reason logged
	local out
	out=$(try "$2")
	lacks "10. $1: no shell" "INSIDE" "$out"
	lacks "10. $1: no hang" "rc=124" "$out"
	has "10. $1: refused with the reason" "$3" "$(grep "refused user=$2" "$LOG")"
}
home_of() { getent passwd "$1" | cut -d: -f6; }

# Home planted as a symlink (to a root directory, and to one the user owns).
new_user P1; h=$(home_of "$P1"); rm -rf "$h"; ln -s /etc "$h"
refused "home is a symlink to /etc" "$P1" "opening home directory"
new_user P2; h=$(home_of "$P2"); rm -rf "$h"; mkdir -p "$W/p2home"; chown "$P2" "$W/p2home"; ln -s "$W/p2home" "$h"
refused "home is a symlink to a directory the user owns" "$P2" "opening home directory"
new_user P3; h=$(home_of "$P3"); rm -rf "$h"; mkfifo "$h"; chown "$P3" "$h"
refused "home is a FIFO" "$P3" "opening home directory"
new_user P4; h=$(home_of "$P4"); rm -rf "$h"
if python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$h" 2>/dev/null; then
	chown "$P4" "$h"
	refused "home is a socket" "$P4" "opening home directory"
else
	skip "10. home is a socket" "python3 is needed to create a unix socket file"
fi
new_user P5; new_user OTHER; h=$(home_of "$P5"); chown -R "$OTHER" "$h"
refused "home is owned by another user" "$P5" "not the user's uid $(id -u "$P5")"

# The registry: a user cannot write /run/cell, but if something were planted
# there (a stale or hostile entry), root must not follow it.
new_user P6; uid6=$(id -u "$P6")
mkdir -p /run/cell; chmod 0711 /run/cell
mkfifo "/run/cell/lock-$uid6"
refused "a FIFO planted as the user's lock file" "$P6" "is not a root-owned file"
rm -f "/run/cell/lock-$uid6"
echo "untouched" >"$W/target"; chmod 0644 "$W/target"
ln -s "$W/target" "/run/cell/shared-$uid6"
out=$(try "$P6")
has "10. a symlink planted as the shared-cell index is not followed: the login works" INSIDE "$out"
eq "10. ... and the symlink's target is untouched" "untouched" "$(cat "$W/target")"
ln -sf "$W/target" "/run/cell/lock-$uid6"
refused "a symlink planted as the user's lock file" "$P6" "lock-$uid6"
eq "10. ... and the symlink's target is untouched" "untouched" "$(cat "$W/target")"
rm -f "/run/cell/lock-$uid6" "/run/cell/shared-$uid6"
# The registry directory itself replaced by a symlink to a user-writable one.
new_user P7
if [ -z "$(registry_ids)" ]; then
	mv /run/cell "$W/cell.saved"
	mkdir -m 0777 "$W/evil"; ln -s "$W/evil" /run/cell
	refused "/run/cell is a symlink to a world-writable directory" "$P7" "/run/cell"
	eq "10. ... and nothing was created behind it" "" "$(ls -A "$W/evil")"
	rm -f /run/cell; mv "$W/cell.saved" /run/cell
else
	skip "10. /run/cell as a symlink" "other cells are live on this machine; not moving their registry"
fi
# cell.conf planted as a FIFO (root-owned, right mode): refused, no hang.
new_user P8
mv "$CONF" "$CONF.saved"; mkfifo -m 0644 "$CONF"
refused "cell.conf is a FIFO" "$P8" "not a regular file"
rm -f "$CONF"; mv "$CONF.saved" "$CONF"
out=$(try "$P8")
has "10. with the real file back, the same login works" INSIDE "$out"
check "10. nothing is left" wait_for 10 no_registry
finish
