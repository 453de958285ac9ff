#!/bin/bash
# The Debian package, as a new admin meets it on a fresh Debian 12 (a booted
# guest under QEMU, its own sshd and PAM files): build it from this tree
# (dpkg-buildpackage, lintian), install it, confine a user with cellctl,
# log in over ssh into a cell, list, enter and stop it, catch a broken
# config line, give the user their shell back, see removal refused while a
# PAM stack loads pam_cell, and purge without a trace.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/vm/lib.sh
. "$TOP/tests/vm/lib.sh"

if [ "$(id -u)" != 0 ]; then
	say "skip - the package guest # needs root (mmdebstrap builds the image)"
	exit 0
fi
OUT=$(mktemp -d /tmp/cell-deb-out.XXXXXX)
CLIENT_PIDS=()
finish() {
	local p
	for p in "${CLIENT_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	vm_stop
	rm -rf "$OUT"
	say "$PASS passed, $FAIL failed, $SKIP skipped"
}
trap finish EXIT

VERSION=$(cat "$TOP/VERSION")
deb=$("$TOP/tools/build-deb.sh" "$OUT" 2>"$OUT/build.err" | tail -1)
if [ ! -f "$deb" ]; then
	not_ok "dpkg-buildpackage -us -uc -b builds the package, lintian clean" "$(tail -20 "$OUT/build.err")"
	exit 1
fi
ok "dpkg-buildpackage -us -uc -b builds $(basename "$deb"); lintian: no error or warning"

t0=$SECONDS
vm_start || { not_ok "the Debian 12 guest boots and answers ssh"; exit 1; }
ok "the Debian 12 guest boots and answers ssh ($((SECONDS - t0)) s)"
ssh-keygen -q -t ed25519 -N '' -C celltest-client -f "$VM_RUN/client"
SSH_C=(ssh -i "$VM_RUN/client" -o BatchMode=yes -o StrictHostKeyChecking=no
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=30 -p "$VM_PORT")
login() { "${SSH_C[@]}" "$1@127.0.0.1" "${@:2}"; }
A=ctalice
# What is on the guest before: every path under /etc /usr /lib /var/lib
# (package databases aside), the PAM stacks, /etc/shells, the groups.
snapshot() {
	vm_root "find /etc /usr /lib /var/lib /run/cell -xdev 2>/dev/null |
		grep -vE '^/var/lib/(dpkg|apt|systemd|pam)(/|\$)|^/etc/(passwd|group|shadow|gshadow|subuid|subgid)-\$|^/etc/ld.so.cache\$' | sort;
		cat /etc/pam.d/common-* /etc/shells /var/lib/pam/*; getent group | cut -d: -f1 | sort"
}
before=$(snapshot)

# ---- install ----
vm_root 'cat >/root/cell.deb' <"$deb"
out=$(vm_root 'dpkg -i /root/cell.deb 2>&1'); rc=$?
eq "dpkg -i: the package installs on a fresh Debian 12" 0 "$rc" || say "$out"
eq "cellctl --version is the tree's" "cellctl $VERSION" "$(vm_root cellctl --version 2>&1)"
eq "cellsh --version" "cellsh $VERSION" "$(vm_root /usr/bin/cellsh --version 2>&1)"
eq "pam_cell.so is in the multiarch security directory" "ok" \
	"$(vm_root 'test -f /lib/x86_64-linux-gnu/security/pam_cell.so && echo ok')"
check "cellsh is in /etc/shells (add-shell)" vm_root 'grep -qx /usr/bin/cellsh /etc/shells'
eq "/run/cell from tmpfiles.d: root, 0711" "711 root" "$(vm_root 'stat -c "%a %U" /run/cell' 2>&1)"
eq "the config is a conffile" "/etc/security/cell.conf /etc/ssh/sshd_config.d/cell.conf" \
	"$(vm_root "dpkg-query -W -f='\${Conffiles}' cell | awk '{print \$1}' | sort | tr '\n' ' ' | sed 's/ \$//'")"
check "the pam-auth-update profile is offered" vm_root 'test -f /usr/share/pam-configs/cell'
check "... but not enabled: no PAM stack changed" vm_root '! grep -q pam_cell /etc/pam.d/*'
# (the guest's dpkg skips /usr/share/man: the package's list says it)
check "the man pages are in the package" vm_root 'dpkg -L cell | grep -q man8/cellctl.8.gz && dpkg -L cell | grep -q man5/cell.conf.5.gz'

# ---- check before anything is set up ----
out=$(vm_root 'cellctl check 2>&1'); rc=$?
has "cellctl check: no PAM stack loads pam_cell yet, and it says so" "no PAM service loads pam_cell.so" "$out"
eq "... exit 1" 1 "$rc"

# ---- a user, confined in one step ----
vm_root "useradd -m -s /bin/bash $A && install -d -o $A -m 0700 /home/$A/.ssh &&
	cat >/home/$A/.ssh/authorized_keys && chown $A /home/$A/.ssh/authorized_keys" <"$VM_RUN/client.pub"
out=$(vm_root "cellctl enable $A 2>&1"); rc=$?
eq "cellctl enable $A: exit 0" 0 "$rc" || say "$out"
eq "... cellsh is the login shell" /usr/bin/cellsh "$(vm_root "getent passwd $A | cut -d: -f7")"
has "... in group cell, which the shipped sshd snippet matches" " cell" " $(vm_root "id -nG $A")"
vm_root 'pam-auth-update --enable cell' >/dev/null 2>&1
check "pam-auth-update --enable cell: pam_cell in common-session" vm_root 'grep -q "pam_cell.so" /etc/pam.d/common-session'
vm_root 'systemctl reload ssh'
sleep 1

# ---- a broken line is caught before any login ----
vm_root "printf '[user %s]\nmemory_max = lots\n' nobody >/etc/security/cell.d/typo.conf"
out=$(vm_root 'cellctl check 2>&1'); rc=$?
has "cellctl check names a broken drop-in line with file:line" "/etc/security/cell.d/typo.conf:2: memory_max" "$out"
eq "... exit 1" 1 "$rc"
out=$(login "$A" 'echo SHELL-RAN' 2>&1)
lacks "... and meanwhile a confined login is refused, never a host shell" "SHELL-RAN" "$out"
has "... the user is told the cause (pam_error)" "session refused: /etc/security/cell.conf has 1 error(s), the first: /etc/security/cell.d/typo.conf:2" "$out"
vm_root 'rm /etc/security/cell.d/typo.conf'
out=$(vm_root "cellctl check --user $A --service sshd 2>&1"); rc=$?
has "cellctl check --user $A --service sshd: a confined login would work" "a confined login would work" "$out"
eq "... exit 0" 0 "$rc" || say "$out"

# ---- ssh into a cell; list, enter, stop ----
"${SSH_C[@]}" -tt "$A@127.0.0.1" 'echo CELL=$CELL_ID; sleep 300' </dev/null >"$VM_RUN/s1" 2>&1 &
S1=$!
CLIENT_PIDS+=($S1)
wait_for 60 grep -qs "CELL=" "$VM_RUN/s1"
id=$(grep -o 'CELL=[0-9a-f]*' "$VM_RUN/s1" | head -1 | cut -d= -f2)
check "an ssh login of $A lands in a cell" test -n "$id"
out=$(vm_root 'cellctl list')
has "cellctl list shows it" "$id" "$out"
has "... with user and service" "$A" "$(grep "$id" <<<"$out")"
out=$(vm_root "cellctl enter $A -- ps -eo comm")
has "cellctl enter $A -- ps -e: the cell's PID 1" "cell-init" "$out"
has "... the session's sleep" "sleep" "$out"
lacks "... nothing of the host (no sshd)" "sshd" "$out"
lacks "... (no systemd)" "systemd" "$out"
out=$(vm_root "cellctl stop $A 2>&1")
has "cellctl stop $A" "stopped" "$out"
check "... the ssh session ends" wait_for 20 sh -c "! kill -0 $S1 2>/dev/null"
check "... no process of $A is left" wait_for 20 vm_root "! pgrep -u $A >/dev/null"
lacks "... and list no longer shows it" "$id" "$(vm_root 'cellctl list')"

# ---- disable: the normal shell back ----
out=$(vm_root "cellctl disable $A 2>&1"); rc=$?
eq "cellctl disable $A: exit 0" 0 "$rc" || say "$out"
eq "... the login shell is bash again" /bin/bash "$(vm_root "getent passwd $A | cut -d: -f7")"
eq "... an ssh login is an ordinary one" "CELL=none" "$(login "$A" 'echo CELL=${CELL_ID:-none}' 2>&1)"

# ---- removal refused while a stack loads pam_cell by hand ----
vm_root 'echo "session required pam_cell.so" >>/etc/pam.d/login'
out=$(vm_root 'dpkg -r cell 2>&1'); rc=$?
check "dpkg -r with pam_cell in /etc/pam.d/login: refused" test "$rc" -ne 0
has "... naming the stack" "/etc/pam.d/login" "$out"
eq "... the package stays installed" "installed" "$(vm_root "dpkg-query -W -f='\${db:Status-Status}' cell")"
check "... with its module" vm_root 'test -f /lib/x86_64-linux-gnu/security/pam_cell.so'
vm_root "sed -i '/pam_cell/d' /etc/pam.d/login"

# ---- purge: no trace ----
# The test's user goes (its user manager lingers a moment after logout).
vm_root "loginctl terminate-user $A; pkill -KILL -u $A" >/dev/null 2>&1
wait_for 30 vm_root "! pgrep -u $A >/dev/null && userdel -r $A 2>/dev/null"
out=$(vm_root 'dpkg --purge cell 2>&1'); rc=$?
eq "dpkg --purge cell: exit 0 (pam-auth-update's profile taken out first)" 0 "$rc" || say "$out"
check "... no PAM stack mentions pam_cell" vm_root '! grep -rq pam_cell /etc/pam.d'
after=$(snapshot)
eq "... and every path, PAM stack, shell and group is as before the install" "" \
	"$(diff <(echo "$before") <(echo "$after"))"
exit 0
