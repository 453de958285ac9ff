#!/bin/bash
# The demo: install dependencies, build, and log a demo user in through a
# real PAM stack (su, with pam_cell.so in its session stack) into a cell,
# showing the host's view and the cell's side by side. Removes everything
# it made when done. Run as root on Debian 12: sudo tools/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates a user and a PAM stack)"; exit 1; }
tools/install-deps.sh
make -s -j"$(nproc)" all

USER_NAME=celldemo
made_run=""; [ -d /run/cell ] || made_run=1
W=$(mktemp -d /run/cell-demo.XXXXXX)
chmod 0755 "$W"
cleanup() {
	userdel -r "$USER_NAME" >/dev/null 2>&1 || true
	sed -i "/^$USER_NAME:/d" /etc/subuid /etc/subgid
	rm -rf "$W"
	[ -z "$made_run" ] || { rm -f /run/cell/swept /run/cell/lock-* /run/cell/seccomp-*; rmdir /run/cell 2>/dev/null; } || true
}
trap cleanup EXIT

# A private install: pam_cell trusts only root-owned paths.
install -m 0755 build/cellsh build/cell-init "$W/"
install -m 0644 build/pam_cell.so "$W/"
sed -e "s|@CELLSH@|$W/cellsh|" -e "s|@CELL_INIT@|$W/cell-init|" conf/cell.conf >"$W/cell.conf"
printf '\n# demo\n[user %s]\n' "$USER_NAME" >>"$W/cell.conf"
chmod 0644 "$W/cell.conf"
cat >"$W/pam-su" <<PAM
auth     sufficient pam_rootok.so
account  required   pam_unix.so
session  required   pam_unix.so
session  required   $W/pam_cell.so conf=$W/cell.conf
PAM

getent passwd "$USER_NAME" >/dev/null && { echo "demo: user $USER_NAME exists already"; exit 1; }
useradd -m -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 -s "$W/cellsh" "$USER_NAME"
usermod --add-subuids 2000000000-2000065535 --add-subgids 2000000000-2000065535 "$USER_NAME"

show='echo "hostname:      $(hostname)"
echo "id:            $(id)"
echo "uid_map:       $(tr -s " " </proc/self/uid_map | paste -sd";")"
echo "processes:     $(ps -e --no-headers | wc -l) ($(ps -e -o comm= | head -4 | paste -sd" "))"
echo "PID 1:         $(ps -o comm= -p 1)"
echo "/home:         $(ls /home | paste -sd" ")"
echo "mounts:        $(wc -l </proc/self/mountinfo)"
echo "mnt ns:        $(readlink /proc/self/ns/mnt)"
echo "network:       $(/usr/sbin/ip -o link 2>&1 | awk -F": " "{ print \$2 }" | paste -sd" ")"
echo "/etc/shadow:   $(head -c 12 /etc/shadow 2>&1 | head -1)"
echo "CapEff:        $(awk "/^CapEff/ {print \$2}" /proc/self/status)  NoNewPrivs: $(awk "/^NoNewPrivs/ {print \$2}" /proc/self/status)"'

echo
echo "=== the host, as root ==="
bash -c "$show"
echo
echo "=== $USER_NAME logged in with 'su - $USER_NAME' through pam_cell.so ==="
# The private PAM file is bound over /etc/pam.d/su only inside this private
# mount namespace: the machine's own su stack is never touched.
unshare -m --propagation private sh -c \
	'mount --bind "$1" /etc/pam.d/su && exec su - "$2" -c "$3"' sh \
	"$W/pam-su" "$USER_NAME" "$show"
echo
echo "The cell ended with the session: $(ls /run/cell 2>/dev/null | grep -cE '^[0-9a-f]{32}$') live cells left."
