#!/bin/bash
# Build (or reuse) a stock Debian 12 guest that boots systemd, for the cases
# that need a real systemd host (tests/vm/test_systemd.sh). Root only.
#
#   tests/vm/image.sh            print the image directory, building it first
#                                if the cache has none for this package list
#   tests/vm/image.sh --clean    remove every cached image
#
# The image: a raw ext4 disk made from mmdebstrap's tree (no loop mount),
# the guest's own kernel and initrd for a direct boot, and an ssh key for
# root. It is cached under $CELL_VM_CACHE (/var/cache/cell-test/vm), one
# directory per hash of this file: changing the package list or the
# customization below builds a new one. Runs never write to it (each boots
# a qcow2 overlay); the cache is the only thing the tests leave on purpose.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${CELL_VM_CACHE:-/var/cache/cell-test/vm}

if [ "${1:-}" = "--clean" ]; then
	rm -rf "$cache"
	exit 0
fi
[ "$(id -u)" = 0 ] || { echo "image.sh: needs root (mmdebstrap, mke2fs -d)" >&2; exit 2; }

# What a stock systemd server with sshd and logind has, and what cell's
# binaries link against. No compiler: the host builds, the guest runs.
packages=(systemd-sysv libpam-systemd dbus linux-image-amd64 initramfs-tools
	  openssh-server openssh-client libcap2 libseccomp2 libsubid4 procps
	  util-linux login passwd iproute2 kmod e2fsprogs)
mirror=${CELL_VM_MIRROR:-http://deb.debian.org/debian}
security=${CELL_VM_SECURITY:-http://deb.debian.org/debian-security}

key=$(sha256sum "$0" | cut -c1-16)
dir=$cache/$key
# One build at a time (run-all.sh starts one early, in the background): a
# second caller waits for it, then finds it ready.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ -f "$dir/ready" ]; then
	echo "$dir"
	exit 0
fi

for tool in mmdebstrap mke2fs qemu-system-x86_64 qemu-img; do
	command -v "$tool" >/dev/null || {
		echo "image.sh: $tool is missing: run tools/install-deps.sh --test" >&2
		exit 2
	}
done

rm -rf "$dir"
mkdir -p "$dir"
tmp=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
echo "image.sh: building a Debian 12 guest in $dir (about 2 minutes)" >&2
mmdebstrap --quiet --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
	--aptopt='Acquire::Check-Valid-Until "false"' \
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	bookworm "$root" \
	"deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
	"deb $security bookworm-security main" >&2

# ---- what makes it a reachable test server ----
echo celltest-vm >"$root/etc/hostname"
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$root/etc/fstab"
cat >"$root/etc/systemd/network/80-qemu.network" <<'EOF'
[Match]
Name=en* eth*
[Network]
DHCP=ipv4
EOF
ssh-keygen -q -t ed25519 -N '' -C celltest-vm -f "$dir/id_ed25519"
install -d -m 0700 "$root/root/.ssh"
install -m 0600 "$dir/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
cat >"$root/etc/ssh/sshd_config.d/celltest.conf" <<'EOF'
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
MaxStartups 100
MaxSessions 100
EOF
# Host keys at build time: the first boot is then no slower than the others.
chroot "$root" ssh-keygen -A >/dev/null
chroot "$root" systemctl enable -q systemd-networkd ssh
# Nothing that wakes up on a timer and loads a 25x slower CPU mid-test.
for t in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
	 dpkg-db-backup.timer; do
	chroot "$root" systemctl mask -q "$t" 2>/dev/null || true
done
chroot "$root" systemctl mask -q getty@tty1.service
passwd -R "$root" -d root >/dev/null # console login for debugging, no password

cp -L "$root/vmlinuz" "$dir/vmlinuz"
cp -L "$root/initrd.img" "$dir/initrd.img"
rm -f "$root/var/cache/apt/archives/"*.deb
chmod 0755 "$root" # the guest's / (mmdebstrap made it under a 0700 mktemp)
mke2fs -q -t ext4 -L celltest -d "$root" "$dir/disk.raw" 3G >&2
touch "$dir/ready"
echo "$dir"
