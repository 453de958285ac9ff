# shellcheck shell=bash
# Boot the cached Debian 12 guest (tests/vm/image.sh) under QEMU and talk to
# it over ssh on a forwarded port of 127.0.0.1. Sourced by the VM suites.
#
#   vm_start             boot a throwaway overlay of the image; wait for sshd
#   vm_root CMD...       run CMD as root in the guest (one multiplexed ssh)
#   vm_push DIR          copy DIR's contents into the guest's /
#   vm_stop              power off, kill QEMU (by its pid), remove the overlay
#
# The guest's network is QEMU's user-mode stack with restrict=on: it reaches
# nothing, not even the host; only the forwarded port comes in. /dev/kvm here
# cannot run a stock kernel, so QEMU emulates (TCG): about 30 s to boot.

# TAP-ish assertions, as in tests/e2e/lib.sh.
PASS=0 FAIL=0 SKIP=0
say() { printf '%s\n' "$*"; }
ok() { PASS=$((PASS + 1)); say "ok - $1"; }
not_ok() { FAIL=$((FAIL + 1)); say "not ok - $1"; shift; for l in "$@"; do say "    # $l"; done; }
check() { local n=$1; shift; if "$@"; then ok "$n"; else not_ok "$n" "failed: $*"; fi; }
eq() { if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "actual:   $3"; fi; }
has() { if grep -qF -- "$2" <<<"$3"; then ok "$1"; else not_ok "$1" "missing: $2" "in: $(head -c 1500 <<<"$3")"; fi; }
lacks() { if ! grep -qF -- "$2" <<<"$3"; then ok "$1"; else not_ok "$1" "unexpected: $2" "in: $(head -c 1500 <<<"$3")"; fi; }
wait_for() { local t=$1 i; shift; for ((i = 0; i < t * 2; i++)); do "$@" && return 0; sleep 0.5; done; return 1; }

VM_DIR=""	# the image (cached)
VM_RUN=""	# this run's overlay, pid file, console log, ssh control socket
VM_PORT=""
VM_PID=""

vm_ssh_opts() {
	echo -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o LogLevel=ERROR -o ConnectTimeout=20 -p "$VM_PORT"
}

# ssh as root through one control connection: each command costs no handshake.
vm_root() {
	# shellcheck disable=SC2046
	ssh $(vm_ssh_opts) -i "$VM_DIR/id_ed25519" -o ControlPath="$VM_RUN/ctl" \
		-o ControlMaster=auto -o ControlPersist=600 root@127.0.0.1 "$@"
}

# A fresh connection (not the multiplexed one) works: sshd is listening.
vm_sshd_ready() {
	# shellcheck disable=SC2046
	ssh $(vm_ssh_opts) -i "$VM_DIR/id_ed25519" -o ControlPath=none root@127.0.0.1 true 2>/dev/null
}

vm_push() {
	# Its entries, not "." itself, whose mode would become the guest's /.
	(cd "$1" && tar -cf - -- *) | vm_root 'tar -C / --keep-directory-symlink --no-same-owner -m -xf -'
}

vm_start() {
	local i
	VM_DIR=$("$(dirname "${BASH_SOURCE[0]}")/image.sh") || return 1
	VM_RUN=$(mktemp -d /tmp/cell-vm.XXXXXX)
	qemu-img create -q -f qcow2 -F raw -b "$VM_DIR/disk.raw" "$VM_RUN/disk.qcow2"
	# A free port of 127.0.0.1 (the kernel's choice), handed to QEMU.
	VM_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	qemu-system-x86_64 -machine q35,accel=tcg -cpu max -smp 2 -m 2048 \
		-kernel "$VM_DIR/vmlinuz" -initrd "$VM_DIR/initrd.img" \
		-append "root=/dev/vda rw console=ttyS0 quiet systemd.show_status=0 net.ifnames=0" \
		-drive "file=$VM_RUN/disk.qcow2,if=virtio,format=qcow2,cache=unsafe" \
		-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$VM_PORT-:22" \
		-device virtio-net-pci,netdev=n0 -device virtio-rng-pci \
		-display none -serial "file:$VM_RUN/console.log" -monitor none \
		-pidfile "$VM_RUN/qemu.pid" -daemonize || return 1
	VM_PID=$(cat "$VM_RUN/qemu.pid")
	for i in $(seq 1 180); do
		if vm_sshd_ready && vm_root true 2>/dev/null; then
			return 0
		fi
		kill -0 "$VM_PID" 2>/dev/null || break
		sleep 1
	done
	echo "vm: the guest did not answer ssh; its console:" >&2
	tail -30 "$VM_RUN/console.log" >&2
	return 1
}

vm_stop() {
	local i
	[ -n "$VM_RUN" ] || return 0
	if [ -n "$VM_PID" ] && kill -0 "$VM_PID" 2>/dev/null; then
		vm_root -O exit 2>/dev/null
		timeout 20 ssh $(vm_ssh_opts) -i "$VM_DIR/id_ed25519" root@127.0.0.1 \
			'systemctl poweroff' >/dev/null 2>&1
		for i in $(seq 1 40); do
			kill -0 "$VM_PID" 2>/dev/null || break
			sleep 0.5
		done
		kill -KILL "$VM_PID" 2>/dev/null
	fi
	rm -rf "$VM_RUN"
	VM_RUN="" VM_PID=""
}
