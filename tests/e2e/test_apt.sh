#!/bin/bash
# A real Debian 12 as rootfs = image:NAME, through the real sshd: the
# cell's root runs apt-get install (a local package: no traffic leaves the
# machine once the image is built) and apt-get remove; the package persists
# in that user's upper across logins, a second user of the image does not
# see it, and the base image's dpkg database is unchanged. The image is
# mmdebstrap --variant=apt bookworm, built once and cached (~75 s, ~120 MB).
. "$(dirname "$0")/lib.sh"
setup_common
CACHE=/var/cache/cell-test/images
TAR=$CACHE/bookworm-apt-1.tar # bump the number when the recipe changes
if [ ! -s "$TAR" ]; then
	mkdir -p "$CACHE"
	say "# building $TAR with mmdebstrap (once)"
	if ! mmdebstrap --quiet --variant=apt \
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		bookworm "$TAR.tmp" "deb ${CELL_VM_MIRROR:-http://deb.debian.org/debian} bookworm main" \
		>"$W/mmdebstrap.log" 2>&1; then
		rm -f "$TAR.tmp"
		say "skip - apt-get in a Debian image # mmdebstrap could not build bookworm: $(tail -1 "$W/mmdebstrap.log")"
		finish
		exit 0
	fi
	mv "$TAR.tmp" "$TAR"
fi
new_user U
new_user V
start_sshd || exit 1
STATE=/var/lib/cell
[ -d $STATE ] || CREATED_PATHS+=($STATE)
[ -d $STATE/images ] || CREATED_PATHS+=($STATE/images)
[ -d $STATE/users ] || CREATED_PATHS+=($STATE/users)
IMG=ct$$deb
CREATED_PATHS+=("$STATE/images/$IMG" "$STATE/users/$U" "$STATE/users/$V")
CTL=("$BUILD/cellctl" --conf "$CONF")
has "image import of a Debian 12 tarball: refused, it has setuid files (su, passwd)" "setuid or setgid file(s)" \
	"$("${CTL[@]}" image import "$IMG" "$TAR" 2>&1)"
has "... imported when the admin says so (and for its /dev nodes)" "image $IMG: " "$("${CTL[@]}" image import "$IMG" "$TAR" --allow-setuid --allow-devices 2>&1)"
status_before=$(sha256sum <"$STATE/images/$IMG/var/lib/dpkg/status") || exit 1

give_deb "$U" hello-from-apt || exit 1

write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
exempt = root
[profile deb]
rootfs = image:$IMG
identity = root
shell = /bin/bash
path = /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
[user $U]
profile = deb
[user $V]
profile = deb"

# setgroups is denied in a cell, so apt's drop to _apt cannot happen: the
# sandbox user is root (of the cell's user namespace), as SECURITY.md says.
APT="apt-get -q -y -o APT::Sandbox::User=root"
out=$(ssh_to "$U" "id -u; $APT install ~/cellhello.deb 2>&1 | tail -3; echo rc=\${PIPESTATUS[0]}; cellhello" 2>&1)
eq "the cell's root is uid 0 in a Debian image" "0" "$(sed -n 1p <<<"$out")"
has "apt-get install of a package works inside" "rc=0" "$out"
has "... and the package runs" "hello-from-apt" "$out"
out=$(ssh_to "$U" 'dpkg-query -W -f="\${Status}\n" cellhello; apt list --installed 2>/dev/null | grep -c ^cellhello; cellhello' 2>&1)
eq "at the next login dpkg and apt know it, and it runs" "install ok installed
1
hello-from-apt" "$out"
out=$(ssh_to "$V" 'dpkg-query -W cellhello 2>&1; command -v cellhello || echo NOT-THERE' 2>&1)
has "a second user of the image does not see it" "NOT-THERE" "$out"
has "... nor does their dpkg" "no packages found matching cellhello" "$out"
eq "the base image's dpkg database is unchanged" "$status_before" "$(sha256sum <"$STATE/images/$IMG/var/lib/dpkg/status")"
check "... and the host has no cellhello" test ! -e /usr/bin/cellhello
out=$(ssh_to "$U" "$APT remove cellhello 2>&1 | tail -1; echo rc=\${PIPESTATUS[0]}; command -v cellhello || echo GONE" 2>&1)
has "apt-get remove works inside too" "rc=0" "$out"
has "... and the package is gone" "GONE" "$out"
check "no cell is left" wait_for 10 cell_gone "$U"
finish
