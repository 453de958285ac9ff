#!/bin/bash
# Install what cell needs from Debian 12. Usage: tools/install-deps.sh [--test]
#   (no flag)  build and run dependencies
#   --test     also what the test suite needs (sshd, expect, cmocka, and
#              mmdebstrap and QEMU for the systemd guest of tests/vm/)
#   --bench    also what make bench compares against (bubblewrap, firejail, ...)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

build=(build-essential pkg-config libpam0g-dev libcap-dev libseccomp-dev libsubid-dev
       libsystemd-dev libcmocka-dev uidmap procps util-linux login passwd iproute2 passt)
test=(openssh-server openssh-client expect iproute2 libcap2-bin libpamtest0-dev libpam-wrapper
      rsync tmux slirp4netns util-linux login procps clang clang-format libnss-wrapper busybox-static file cron
      mmdebstrap qemu-system-x86 qemu-utils e2fsprogs python3
      debhelper dpkg-dev fakeroot lintian)

bench=(bubblewrap firejail gnuplot-nox time)
want=("${build[@]}")
[ "${1:-}" = "--test" ] && want+=("${test[@]}")
[ "${1:-}" = "--bench" ] && want+=("${test[@]}" "${bench[@]}")

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

# apt may be busy (unattended upgrades, another install): retry on a held lock.
apt_retry() {
	local i
	for i in $(seq 1 30); do
		if apt-get -o DPkg::Lock::Timeout=60 "$@"; then return 0; fi
		echo "apt-get $1 failed (attempt $i), retrying in 10s" >&2
		sleep 10
	done
	return 1
}
echo "installing: ${missing[*]}"
apt_retry update -q
# Packages must not start daemons here (openssh-server would start the
# machine's sshd): a temporary policy-rc.d says no, unless one exists.
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	made_policy=1
fi
trap '[ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d' EXIT
apt_retry install -y -q --no-install-recommends "${missing[@]}"
