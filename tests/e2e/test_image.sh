#!/bin/bash
# rootfs = image:NAME through the real sshd: a busybox image built here,
# identity = root installs a package (busybox dpkg) that persists in the
# user's upper across logins, unseen by a second user and by the host; the
# base image byte-for-byte unchanged; root of the cell's user namespace
# only; overlay = volatile and none; keep-id over an image; and every
# refusal (missing image, unsafe image, planted link or FIFO in the state
# directory) with its cause, never a shell without the image.
. "$(dirname "$0")/lib.sh"
setup_common
new_user U
new_user V
new_user K
start_sshd || exit 1
uid=$(id -u "$U")
STATE=/var/lib/cell
[ -d $STATE ] || CREATED_PATHS+=($STATE)
[ -d $STATE/images ] || CREATED_PATHS+=($STATE/images)
[ -d $STATE/users ] || CREATED_PATHS+=($STATE/users)
IMG=ct$$img
CREATED_PATHS+=("$STATE/images/$IMG" "$STATE/users/$U" "$STATE/users/$V" "$STATE/users/$K")
CTL=("$BUILD/cellctl" --conf "$CONF")
"$TOP/tests/e2e/make-busybox-image.sh" "$W/tree" || { say "not ok - building the image"; exit 1; }
echo v1 >"$W/tree/etc/image-version"

# ---- cellctl image import: checked, then atomically in place ----
bad=$W/bad
cp -a "$W/tree" "$bad"
chmod 4755 "$bad/bin/busybox"
out=$("${CTL[@]}" image import "bad$$" "$bad" 2>&1); rc=$?
has "image import refuses a setuid file, naming it" "setuid or setgid file(s), the first /bin/busybox" "$out"
eq "... exit 1" 1 "$rc"
check "... and nothing is left of it" sh -c "! ls -a $STATE/images | grep -q bad$$"
chmod 0755 "$bad/bin/busybox"; chmod 0777 "$bad/home"
has "... a world-writable directory" "world-writable director(ies) without the sticky bit, the first /home" \
	"$("${CTL[@]}" image import "bad$$" "$bad" 2>&1)"
chmod 0755 "$bad/home"; mknod "$bad/dev/sda" b 8 0
has "... a device node" "device node(s), the first /dev/sda" "$("${CTL[@]}" image import "bad$$" "$bad" 2>&1)"
has "... which --allow-devices lets through" "image bad$$: " "$("${CTL[@]}" image import "bad$$" "$bad" --allow-devices 2>&1)"
CREATED_PATHS+=("$STATE/images/bad$$")
has "image import: a bad name is refused" "is not an image name" "$("${CTL[@]}" image import ../x "$W/tree" 2>&1)"
tar -C "$W/tree" -czf "$W/tree.tgz" .
out=$("${CTL[@]}" image import "$IMG" "$W/tree.tgz" 2>&1)
has "image import NAME TARBALL: files and size" "image $IMG: " "$out"
has "... into the state directory" "at $STATE/images/$IMG" "$out"
eq "... root's, as in the archive" "0 0 755" "$(stat -c '%u %g %a' "$STATE/images/$IMG/bin/busybox")"
eq "images/ is root's 0700: no user reaches an image on the host" "0 700" "$(stat -c '%u %a' $STATE/images)"
has "... and again: refused, it exists" "exists" "$("${CTL[@]}" image import "$IMG" "$W/tree" 2>&1)"
out=$("${CTL[@]}" image list 2>&1)
has "image list shows it" "$IMG" "$out"
eq "image list --json: name and file count" "True" "$("${CTL[@]}" image list --json | python3 -c 'import json,sys; print(any(i["name"]==sys.argv[1] and i["files"]>100 for i in json.load(sys.stdin)))' "$IMG" 2>&1)"
digest() { (cd "$1" && find . -printf '%p %y %m %u %g %s %l\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16; }
img_before=$(digest "$STATE/images/$IMG")
usr_before=$(ls -la /usr/bin | sha256sum)

# A package made on the host, handed to the user in their home.
give_deb "$U" hello-from-package || exit 1

HEAD="cellsh = $CELLSH
cell_init = $W/bin/cell-init
exempt = root"
# U's upper is a filesystem of its own (upper_max); V's a directory on the
# host's (upper_max = none), which the race below works on.
USERS="[user $U]
profile = img
upper_max = 64M
[user $V]
profile = img
upper_max = none
[user $K]
profile = img"
conf() { # conf [PROFILE KEYS...]: the image profile with these keys
	local IFS=$'\n'
	write_conf "$HEAD
[profile img]
rootfs = image:${IMAGE:-$IMG}
shell = ${SHELL_IN:-/bin/sh}
path = /usr/local/bin:/usr/bin:/bin
$*
$USERS"
}
conf "identity = root"

# ---- identity = root: a package installed inside persists ----
out=$(ssh_to "$U" 'id -u; grep CapEff /proc/self/status; dpkg -i ~/cellhello.deb >/dev/null 2>&1; cellhello;
	echo x >/usr/local/bin/made && chown 1234:1234 /usr/local/bin/made && echo chowned' 2>&1)
eq "identity = root over an image: uid 0 inside" "0" "$(sed -n 1p <<<"$out")"
has "... with every capability of the cell's user namespace" "CapEff:	000001ffffffffff" "$out"
has "dpkg -i inside installs a package" "hello-from-package" "$out"
has "... and chown to another in-cell id works" "chowned" "$out"
out=$(ssh_to "$U" 'cellhello; dpkg -l cellhello 2>&1 | grep -c "^ii"' 2>&1)
eq "the package is still there at the next login" "hello-from-package
1" "$out"
# U's upper, seen from the host: its layers filesystem mounted read-only
# for a moment, while no cell of U runs.
layers=$STATE/users/$U/$IMG/layers.ext4
up=$W/peek/upper
peek() { # peek CMD...: run CMD with U's layers at $W/peek
	mkdir -p "$W/peek"
	wait_for 5 cell_gone "$U"
	mount -o ro,noload,loop "$layers" "$W/peek" || return 1
	CREATED_MOUNTS+=("$W/peek")
	"$@"
	umount "$W/peek"
}
eq "the upper layer is a filesystem in a file: root's 0600, upper_max bytes" "0 600 $((64 << 20))" "$(stat -c '%u %a %s' "$layers" 2>&1)"
eq "... in the user's upper, owned by the user (the cell's root)" "$uid" "$(peek stat -c %u "$up/usr/bin/cellhello" 2>&1)"
eq "... in-cell uid 1234 lands on the subordinate range" "$(( $(subuid_start "$U") + 1233 ))" "$(peek stat -c %u "$up/usr/local/bin/made" 2>&1)"
check "... and no loop device is left on it after logout" sh -c "[ -z \"\$(losetup -j '$layers')\" ]"

# ---- upper_max: a full upper is ENOSPC inside, nothing on the host ----
host_free=$(df -k --output=avail "$STATE" | tail -1)
out=$(ssh_to "$U" 'dd if=/dev/zero of=/usr/big bs=1M count=100 2>&1 | grep -o "No space left on device" | head -1; rm -f /usr/big; cellhello' 2>&1)
has "a full persistent upper gives ENOSPC inside" "No space left on device" "$out"
has "... the cell goes on (the package is still there)" "hello-from-package" "$out"
check "... the file on the host holds at most upper_max ($(du -k "$layers" | cut -f1) KiB used)" test "$(du -k "$layers" | cut -f1)" -le $((64 * 1024))
check "... and the host's filesystem did not fill (free: $host_free KiB before)" test "$(df -k --output=avail "$STATE" | tail -1)" -gt $((host_free - 70 * 1024))

# ---- one cell at a time on an upper: overlayfs must not share one ----
ssh_to "$U" 'echo FIRST; sleep 6' >"$W/first.out" 2>&1 &
FIRST=$!
STARTED_PIDS+=($FIRST)
wait_for 10 live_cell "$U" >/dev/null
: >"$LOG"
out=$(ssh_to "$U" 'echo SECOND-RAN' 2>&1)
lacks "a second cell of the same user over the same persistent upper: refused" "SECOND-RAN" "$out"
wait_for 5 grep -qF "is in use by another cell" "$LOG"
has "... the log says why and what to do" "in use by another cell (a login still open, or one ending): overlayfs cannot share an upper between cells; set 'share = user'" "$(cat "$LOG")"
wait "$FIRST"
has "... the first cell was not disturbed" "FIRST" "$(cat "$W/first.out")"
eq "... and once it ended, a login works again" "hello-from-package" "$(ssh_to "$U" 'cellhello' 2>&1)"
out=$(ssh_to "$V" 'cellhello 2>&1; ls /usr/bin/cellhello 2>&1; echo V-RAN' 2>&1)
has "a second user of the same image runs their own cell" "V-RAN" "$out"
lacks "... and does not see the first one's package" "hello-from-package" "$out"
eq "the base image is byte-for-byte unchanged" "$img_before" "$(digest "$STATE/images/$IMG")"
eq "... and so is the host's /usr/bin" "$usr_before" "$(ls -la /usr/bin | sha256sum)"
check "... where there is no cellhello" test ! -e /usr/bin/cellhello

# Root of the cell's user namespace only: nothing of the host.
out=$(ssh_to "$U" 'ip link add celldummy type dummy 2>&1 || echo NO-LINK;
	echo b >/proc/sysrq-trigger 2>&1 || echo NO-SYSRQ; echo 1 >/proc/sys/vm/drop_caches 2>&1 || echo NO-SYSCTL;
	cp /bin/busybox /usr/local/bin/suid && chmod 4755 /usr/local/bin/suid 2>&1; ls -l /usr/local/bin/suid' 2>&1)
has "the cell's root cannot add a link to the host's network" "NO-LINK" "$out"
has "... nor write /proc/sysrq-trigger" "NO-SYSRQ" "$out"
has "... nor a host sysctl" "NO-SYSCTL" "$out"
check "... (no such link on the host)" sh -c '! ip link show celldummy >/dev/null 2>&1'
has "a setuid bit, even by the cell's root, is refused (seccomp: EPERM)" "chmod: /usr/local/bin/suid: Operation not permitted" "$out"
eq "... the file on disk is the user's, without it" "$uid 0" "$(peek stat -c '%u %#a' "$up/usr/local/bin/suid" 2>&1 | sed 's/ 0*[0-7]\{3\}$/ 0/')"
out=$(setpriv --reuid="$(id -u "$V")" --regid="$(id -g "$V")" --clear-groups stat "$layers" 2>&1)
has "... and no other host user can even reach it (users/ is root's 0700)" "Permission denied" "$out"
out=$(setpriv --reuid="$uid" --regid="$(id -g "$U")" --clear-groups ls "$STATE/users/$U" 2>&1)
has "... nor the user themselves outside a cell" "Permission denied" "$out"
eq "users/USER is root's 0700, users/USER/NAME root's 0711" "0 700 0 711" "$(stat -c '%u %a' "$STATE/users/$U" "$STATE/users/$U/$IMG" | tr '\n' ' ' | sed 's/ $//')"

# ---- volatile and none ----
conf "identity = root" "overlay = volatile" "upper_max = 16M"
out=$(ssh_to "$K" 'echo gone >/usr/bin/volatile-file && cat /usr/bin/volatile-file;
	dd if=/dev/zero of=/usr/big bs=1M count=24 2>&1 | grep -o "No space left on device" | head -1' 2>&1)
has "overlay = volatile: the image is writable" "gone" "$out"
has "... up to upper_max, then ENOSPC inside" "No space left on device" "$out"
out=$(ssh_to "$K" 'ls /usr/bin/volatile-file 2>&1' 2>&1)
has "... and nothing of it is there at the next login" "No such file" "$out"
check "... nor on disk" test ! -e "$STATE/users/$K/$IMG"
conf "identity = root" "overlay = none"
out=$(ssh_to "$V" 'touch /usr/x 2>&1; touch ~/in-home && echo HOME-OK; cellhello 2>&1; id -u' 2>&1)
has "overlay = none: the image is read-only" "Read-only file system" "$out"
has "... the home is writable" "HOME-OK" "$out"

# ---- keep-id over an image ----
conf "identity = keep-id"
out=$(ssh_to "$K" 'id -u; id -un; grep CapEff /proc/self/status; stat -c %U /' 2>&1)
eq "identity = keep-id over an image: the user's own uid" "$(id -u "$K")" "$(sed -n 1p <<<"$out")"
eq "... known by name (the cell's /etc/passwd)" "$K" "$(sed -n 2p <<<"$out")"
eq "... / is the cell's root's" "root" "$(sed -n 4p <<<"$out")"
has "... without any capability" "CapEff:	0000000000000000" "$out"

# ---- refusals: no shell, the cause in the log ----
refused() { # refused NAME EXPECTED-LOG-TEXT [USER]
	: >"$LOG"
	out=$(ssh_to "${3:-$U}" 'echo SHELL-RAN' 2>&1)
	lacks "$1: no shell" "SHELL-RAN" "$out"
	wait_for 5 grep -qF -- "$2" "$LOG"
	has "$1: the cause" "$2" "$(cat "$LOG")"
}
IMAGE=nosuch$$ conf "identity = root"
has "check names a missing image before any login" "FAIL  rootfs image:nosuch$$: there is no image" "$("${CTL[@]}" check --user "$U" 2>&1)"
refused "an image that does not exist" "there is no image nosuch$$: import it with 'cellctl image import"
conf "identity = root"
chmod g+w "$STATE/images/$IMG"
refused "a group-writable image" "$STATE/images/$IMG is owned by uid 0 with mode 0775"
chmod g-w "$STATE/images/$IMG"
mv "$STATE/users/$V" "$STATE/users/$V.real"
ln -s /etc "$STATE/users/$V"
refused "a symlink planted at users/USER" "$STATE/users/$V is not a directory" "$V"
check "... nothing was made under the link's target" test ! -e "/etc/$IMG"
rm "$STATE/users/$V"
mkfifo "$STATE/users/$V"
refused "a FIFO planted at users/USER" "$STATE/users/$V is not a directory" "$V"
rm "$STATE/users/$V"
mv "$STATE/users/$V.real" "$STATE/users/$V"
chown "$uid" "$STATE/users/$U"
refused "users/USER not root's" "$STATE/users/$U is owned by uid $uid"
chown root "$STATE/users/$U"
conf "identity = keep-id"
refused "an upper made for another identity" "not to this cell's root"
has "... with the fix" "cellctl user reset $U $IMG" "$(cat "$LOG")"

# ---- cellctl user du / reset ----
conf "identity = root"
out=$("${CTL[@]}" user du 2>&1)
has "user du: the user's upper and its size" "$U" "$out"
eq "user du --json: U's limit is upper_max, V's none" "$((64 << 20)) 0" "$("${CTL[@]}" user du --json | python3 -c 'import json,sys; d={i["user"]:i["limit"] for i in json.load(sys.stdin)}; print(d.get(sys.argv[1]), d.get(sys.argv[2]))' "$U" "$V" 2>&1)"
eq "user du --json: the files the user added" "True" "$("${CTL[@]}" user du "$U" --json | python3 -c 'import json,sys; print(any(i["image"]==sys.argv[1] and i["files"]>=3 for i in json.load(sys.stdin)))' "$IMG" 2>&1)"
ssh_to "$U" 'sleep 20' >/dev/null 2>&1 &
LIVE=$!
STARTED_PIDS+=($LIVE)
wait_for 10 live_cell "$U" >/dev/null
out=$("${CTL[@]}" user reset "$U" "$IMG" 2>&1); rc=$?
has "user reset while a cell is live: refused" "end them first (cellctl stop $U)" "$out"
eq "... exit 1" 1 "$rc"
eq "list --json shows the cell's rootfs" "image:$IMG" "$("${CTL[@]}" list --json | python3 -c 'import json,sys; print(" ".join(c["rootfs"] for c in json.load(sys.stdin) if c["user"]==sys.argv[1]))' "$U" 2>&1)"
out=$("${CTL[@]}" check --user "$U" 2>&1)
has "check --user: the image and the user's upper" "rootfs image:$IMG, overlay persistent: the user's upper layer is in place" "$out"
"${CTL[@]}" stop "$U" >/dev/null 2>&1
wait "$LIVE" 2>/dev/null
wait_for 5 cell_gone "$U"
out=$("${CTL[@]}" user reset "$U" "$IMG" 2>&1); rc=$?
has "user reset USER IMAGE" "removed; the next login starts from the image" "$out"
check "... the upper is gone" test ! -e "$STATE/users/$U/$IMG"
conf "identity = keep-id"
out=$(ssh_to "$U" 'id -u; ls /usr/bin/cellhello 2>&1' 2>&1)
eq "... and the next login (now keep-id) works, from the image" "$uid" "$(sed -n 1p <<<"$out")"
has "... without the package" "No such file" "$out"
has "user reset USER (every image)" "removed" "$("${CTL[@]}" user reset "$K" 2>&1)"
check "... users/USER is gone" test ! -e "$STATE/users/$K"

# ---- image import --replace under a live cell ----
conf "identity = root"
ssh_to "$V" 'cat /etc/image-version; sleep 4; cat /etc/image-version' >"$W/live.out" 2>&1 &
LIVE=$!
STARTED_PIDS+=($LIVE)
wait_for 10 live_cell "$V" >/dev/null
echo v2 >"$W/tree/etc/image-version"
out=$("${CTL[@]}" image import "$IMG" "$W/tree" --replace 2>&1)
has "image import --replace" "running cells keep the old tree" "$out"
wait "$LIVE"
eq "... a cell that was running keeps the old base" "v1
v1" "$(cat "$W/live.out")"
eq "... a new login gets the new one" "v2" "$(ssh_to "$V" 'cat /etc/image-version' 2>&1)"
check "... no old tree is left" sh -c "! ls -a $STATE/images | grep -q -e '^\.old-' -e '^\.import-'"

# ---- a race on the upper: what the cell's root can do to its own upper
# (done here from the host, on the same directory) while logins run: /tmp
# swapped with a symlink to / in a renameat2 exchange loop. Each login gets
# its own tmpfs on /tmp or is refused; never the host's /. ----
vup=$STATE/users/$V/$IMG/upper
install -d -o "$(id -u "$V")" -m 1777 "$vup/tmp"
ln -s / "$vup/tmpx"
python3 -c '
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode(), sys.argv[2].encode()
while True:
    libc.renameat2(-100, a, -100, b, 2)
' "$vup/tmp" "$vup/tmpx" &
RACER=$!
STARTED_PIDS+=($RACER)
sleep 0.3
: >"$LOG"
got_tmpfs=0 got_host=0 refused_n=0
for i in $(seq 1 20); do
	out=$(ssh_to "$V" 'stat -f -c %T /tmp; ls /tmp/etc/passwd 2>/dev/null && echo HOST-ROOT' 2>&1)
	case $out in
	*HOST-ROOT*) got_host=$((got_host + 1)) ;;
	tmpfs*) got_tmpfs=$((got_tmpfs + 1)) ;;
	*"session refused"*) refused_n=$((refused_n + 1)) ;;
	esac
done
kill "$RACER"; wait "$RACER" 2>/dev/null
say "# race on the upper: $got_tmpfs logins with their tmpfs, $refused_n refused, $got_host on the host's /"
lacks "... no login was refused for an upper still held by the previous one" "is in use by another cell" "$(cat "$LOG")"
eq "a renameat2 loop on the upper's /tmp never gives a login the host's /" 0 "$got_host"
eq "... every login got its tmpfs or was refused" 20 "$((got_tmpfs + refused_n))"
check "... (some logins ran)" test "$got_tmpfs" -gt 0
SHELL_IN=/bin/bash conf "identity = keep-id"
refused "a shell the image does not have" "image $IMG has no /bin/bash, the profile's shell"

check "no cell is left" wait_for 5 cell_gone "$U"
finish
