# Shared harness for cell's root tests: sourced, not run.
# Creates (and on exit removes) a private install dir, test users with their
# own subordinate ranges, a syslog capture, and a private sshd on 127.0.0.1.
# It never touches /etc/pam.d/sshd, su or login, nor the machine's sshd.
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$TOP/build
PASS=0 FAIL=0 SKIP=0
CREATED_USERS=()
CREATED_PAM=()
CREATED_GROUPS=()
CREATED_PATHS=()	# made outside $W (removed by cleanup)
CREATED_MOUNTS=()	# host mounts a test made (unmounted by cleanup, before the paths)
CLEANUP_CMDS=()	# commands undoing what a test made (a bridge, a netns), run first
LAST_CLEANUP_CMDS=()	# and run last (a mount the rest of the cleanup works under)
STARTED_PIDS=()
MADE_SSHD_DIR=""
MADE_DEVLOG=""
MADE_RUNCELL=""

say() { printf '%s\n' "$*"; }
ok() { PASS=$((PASS + 1)); say "ok - $1"; }
not_ok() { FAIL=$((FAIL + 1)); say "not ok - $1"; shift; for l in "$@"; do say "    # $l"; done; }
skip() { SKIP=$((SKIP + 1)); say "skip - $1 # $2"; }

# check NAME COND_CMD...: the test passes if the command succeeds.
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}
# eq NAME EXPECTED ACTUAL
eq() {
	if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1" "expected: $(printf %q "$2")" "actual:   $(printf %q "$3")"; fi
}
# has NAME NEEDLE HAYSTACK (fixed string, one line: grep -F would read a
# needle with a newline as several patterns, an empty one matching anything)
one_line() { [[ $1 != *$'\n'* ]] || { not_ok "$2" "bad test: the needle has a newline"; return 1; }; }
has() {
	one_line "$2" "$1" || return
	if grep -qF -- "$2" <<<"$3"; then ok "$1"; else not_ok "$1" "missing: $2" "in: $(head -c 1500 <<<"$3")"; fi
}
lacks() {
	one_line "$2" "$1" || return
	if ! grep -qF -- "$2" <<<"$3"; then ok "$1"; else not_ok "$1" "unexpected: $2" "in: $(head -c 1500 <<<"$3")"; fi
}

# Wait up to $1 seconds for a command to succeed.
wait_for() {
	local t=$1 i; shift
	for ((i = 0; i < t * 10; i++)); do "$@" && return 0; sleep 0.1; done
	return 1
}

require_root() {
	if [ "$(id -u)" != 0 ]; then
		say "skip - all root tests # need root: real namespaces, users, sshd"
		exit 0
	fi
}

# A private, root-owned, world-traversable install (pam_cell trusts only
# root-owned paths, and the test users must be able to run cellsh).
setup_install() {
	W=$(mktemp -d /run/celltest.XXXXXX)
	chmod 0755 "$W"
	mkdir -p "$W/bin" "$W/keys"
	install -m 0755 "$BUILD/cellsh" "$BUILD/cell-init" "$BUILD/cell-procfs" "$W/bin/"
	install -m 0644 "$BUILD/pam_cell.so" "$W/pam_cell.so"
	CELLSH=$W/bin/cellsh
	CONF=$W/cell.conf
	LOG=$W/syslog
	: >"$LOG"
	REG_BEFORE=$(reg_listing)
	[ -d /run/cell ] || MADE_RUNCELL=1
	# A proc views server a cell of ours starts is ours to stop, and the
	# template namespace a cell of ours makes ours to drop.
	procfs_served || STOP_PROCFS=1
	template_held || DROP_TEMPLATE=1
	CG_PARENTS_MADE=""
	for f in /sys/fs/cgroup/pids /sys/fs/cgroup/memory /sys/fs/cgroup/cpu /sys/fs/cgroup/cpuacct /sys/fs/cgroup/unified /sys/fs/cgroup; do
		[ -d "$f" ] && [ ! -d "$f/cell" ] && CG_PARENTS_MADE+=" $f/cell"
	done
}

new_group() { # new_group VAR: a unique group
	local name="ct$$g${#CREATED_GROUPS[@]}"
	groupadd "$name" || return 1
	CREATED_GROUPS+=("$name")
	printf -v "$1" '%s' "$name"
}

# What a cell may leave behind: registry files, cell cgroups, cell-init.
# /run/cell but the state any login or logout may leave: the last sweep's
# time stamp (registry_sweep) and the profiles' compiled seccomp filters.
REG_STATE='swept|seccomp-[0-9a-f]{16}|subid|etc|template.mnt|lock-template'
reg_listing() { ls /run/cell 2>/dev/null | grep -vxE "$REG_STATE" | sort; }
# Nothing is in the registry that was not there at setup_install: what
# another suite left may go meanwhile (the logout's sweep), never come.
reg_nothing_added() { [ -z "$(comm -13 <(printf '%s\n' "$REG_BEFORE") <(reg_listing))" ]; }
registry_ids() { ls /run/cell 2>/dev/null | grep -E "^[0-9a-f]{32}$" | sort; }
# A cell's cgroup, or a user's parent of their cells (user_* limits).
cell_cgroups() {
	find /sys/fs/cgroup -maxdepth 4 -type d -regextype egrep \
		-regex '.*/cell/([0-9a-f]{32}|u[0-9]+|u[0-9]+/[0-9a-f]{32})' 2>/dev/null
}
user_procs() { pgrep -u "$1" 2>/dev/null | tr '\n' ' '; }
# After a check that they are gone: cell ID's cgroup directories that are
# still there (empty, or rmdir fails) go, so a failed check leaves nothing.
rm_cell_cgroups() {
	[ -n "$1" ] || return 0
	find /sys/fs/cgroup -maxdepth 4 -depth -type d -regextype egrep \
		-regex ".*/cell/(u[0-9]+/)?$1" -exec rmdir {} + 2>/dev/null
	return 0
}
# cell-procfs (proc_views): its mount answers; unmounted, it exits.
procfs_served() { [ "$(stat -f -c %t /run/cell/procfs 2>/dev/null)" = 65735546 ]; }
procfs_pid() { pgrep -x cell-procfs | head -1; }
stop_procfs() {
	local p
	p=$(procfs_pid)
	umount /run/cell/procfs 2>/dev/null || umount -l /run/cell/procfs 2>/dev/null
	[ -n "$p" ] && wait_for 5 sh -c "! kill -0 $p 2>/dev/null"
	rmdir /run/cell/procfs 2>/dev/null
	rm -f /run/cell/lock-procfs
}
no_registry() { [ -z "$(registry_ids)" ]; }
no_cell_cgroups() { [ -z "$(cell_cgroups)" ]; }
# No process, registry entry or cgroup of any cell of user $1 is left.
# A cell's files: its record, and its join socket, life pipe and linger note.
cell_files() { ls /run/cell 2>/dev/null | grep -E '^[0-9a-f]{32}(\.(join|life|linger))?$' | sort; }
cell_gone() { [ -z "$(user_procs "$1")" ] && [ -z "$(cell_files)" ] && [ -z "$(cell_cgroups)" ]; }
leftovers() { echo "procs: $(user_procs "$1"); registry: $(cell_files | tr '\n' ' '); cgroups: $(cell_cgroups | tr '\n' ' ')"; }

# The id of a live cell of USER (its record's PID 1 is running), or nothing.
live_cell() {
	local i p
	for i in $(registry_ids); do
		grep -qx "user=$1" "/run/cell/$i" 2>/dev/null || continue
		p=$(sed -n 's/^pid=//p' "/run/cell/$i" 2>/dev/null)
		[ -n "$p" ] && [ -d "/proc/$p" ] && { echo "$i"; return 0; }
	done
	return 1
}

# The newest "cell ... created/joined" log line's fields.
log_field() { # log_field FIELD  (from the last cell line in the syslog capture)
	grep -E 'cell [0-9a-f]{32} (created|joined)' "$LOG" | tail -1 | grep -oE "(^| )$1=[^ ]*" | cut -d= -f2-
}

# Run a command in a private mount namespace with a test PAM file bound over
# /etc/pam.d/SERVICE (the machine's file is never written), and the file
# $NSSWITCH over /etc/nsswitch.conf if that is set:
#   with_pam SERVICE PAMTEXT COMMAND...
with_pam() {
	local svc=$1 text=$2 f; shift 2
	f=$W/pam.$svc
	printf '%s\n' "$text" >"$f"
	[ -e "/etc/pam.d/$svc" ] || { say "no /etc/pam.d/$svc to bind over"; return 1; }
	unshare -m --propagation private sh -c \
		'mount --bind "$1" "/etc/pam.d/$2" && { [ -z "$4" ] || mount --bind "$4" /etc/nsswitch.conf; } &&
		 { mount --bind "$3" /dev/log 2>/dev/null; true; }; shift 4; exec "$@"' \
		sh "$f" "$svc" "${SINK_SOCK:-/dev/log}" "${NSSWITCH:-}" "$@"
}
PAM_ROOT_SESSION() { # the PAM stack su/runuser/login get in tests
	printf '%s\n' "auth sufficient pam_rootok.so
auth required pam_deny.so
account required pam_unix.so
session required pam_unix.so
session required $W/pam_cell.so conf=$CONF"
}

# Unique names and subordinate ranges, far from anything real.
USER_SEQ=0
new_user() { # new_user VAR [shell] [with_subids:1|0]
	local var=$1 shell=${2:-$CELLSH} sub=${3:-1} name start
	USER_SEQ=$((USER_SEQ + 1))
	name="ct$$u$USER_SEQ"
	useradd -m -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 -s "$shell" -p '*' "$name" || return 1
	CREATED_USERS+=("$name")
	# Its home as made: tests may move it (usermod -d) or replace it with a
	# link, FIFO or socket, which userdel -r leaves behind.
	CREATED_PATHS+=("$(getent passwd "$name" | cut -d: -f6)")
	if [ "$sub" = 1 ]; then
		start=$((1000000000 + ($$ % 5000) * 200000 + USER_SEQ * 70000))
		usermod --add-subuids "$start-$((start + 65535))" \
			--add-subgids "$start-$((start + 65535))" "$name" || return 1
	fi
	install -m 0644 /dev/null "$W/keys/$name"
	cat "$W/id.pub" >"$W/keys/$name"
	printf -v "$var" '%s' "$name"
}

subuid_start() { awk -F: -v u="$1" '$1 == u { print $2; exit }' /etc/subuid; }

write_conf() { # write_conf TEXT (mode 0644 root)
	printf '%s\n' "$1" >"$CONF"
	chmod 0644 "$CONF"
}

start_logsink() {
	if [ -e /dev/log ]; then
		# A real syslog daemon: capture in sshd's private mount namespace.
		SINK_SOCK=$W/log.sock
	else
		SINK_SOCK=/dev/log
		MADE_DEVLOG=1
	fi
	"$BUILD/tests/logsink" "$SINK_SOCK" "$LOG" &
	STARTED_PIDS+=($!)
	wait_for 5 test -S "$SINK_SOCK"
}

start_sshd() { # start_sshd [extra sshd_config text]
	local i
	ssh-keygen -q -t ed25519 -N '' -f "$W/hostkey" </dev/null
	if [ ! -d /run/sshd ]; then mkdir -m 0755 /run/sshd; MADE_SSHD_DIR=1; fi
	for ((i = 0; i < 20; i++)); do
		PORT=$((20000 + RANDOM % 20000))
		ss -ltnH "sport = :$PORT" | grep -q . || break
	done
	cat >"$W/sshd_config" <<-CFG
	Port $PORT
	ListenAddress 127.0.0.1
	HostKey $W/hostkey
	PidFile $W/sshd.pid
	UsePAM yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PubkeyAuthentication yes
	AuthorizedKeysFile $W/keys/%u
	PermitRootLogin ${ROOT_LOGIN:-no}
	StrictModes yes
	Subsystem sftp /usr/lib/openssh/sftp-server
	LogLevel VERBOSE
	${1:-}
	CFG
	# sshd takes its PAM service name from argv[0].
	ln -s /usr/sbin/sshd "$W/sshd-celltest"
	# pam_umask 077 first, as many sites have it: the cell must not depend
	# on the login program's umask.
	# pam_env with a site file of the test's own (as /etc/environment
	# would be): its variables must reach a confined shell.
	printf 'CELLTEST_SITE=from-pam-env\nhttp_proxy=http://proxy.celltest:3128\n' >"$W/environment"
	: >"$W/pam_env.conf"
	install_pam sshd-celltest "account required pam_unix.so
session optional pam_umask.so umask=0077
session required pam_unix.so
session required pam_env.so conffile=$W/pam_env.conf envfile=$W/environment
session required $W/pam_cell.so conf=$CONF"
	launch_sshd
}

# sshd on $PORT with $W/sshd_config; in a mount namespace of its own if
# /dev/log is to be the test's sink (the host has a /dev/log of its own) or
# SSHD_HIDE names files: each is then an empty, non-executable file for
# sshd, the monitors it starts and their cells.
SSHD_HIDE=()
launch_sshd() {
	local f setup=""
	: >"$W/hidden" && chmod 0644 "$W/hidden"
	[ -n "$MADE_DEVLOG" ] || setup="mount --bind '$SINK_SOCK' /dev/log && "
	for f in "${SSHD_HIDE[@]}"; do setup+="mount --bind '$W/hidden' '$f' && "; done
	if [ -z "$setup" ]; then
		"$W/sshd-celltest" -D -e -f "$W/sshd_config" 2>>"$W/sshd.log" &
	else
		unshare -m --propagation private sh -c "$setup"'exec "$0" -D -e -f "$1"' \
			"$W/sshd-celltest" "$W/sshd_config" 2>>"$W/sshd.log" &
	fi
	SSHD_PID=$!
	STARTED_PIDS+=($!)
	wait_for 10 sh -c "ss -ltnH 'sport = :$PORT' | grep -q ." ||
		{ say "sshd did not start:"; cat "$W/sshd.log"; return 1; }
}

# The same sshd again (after SSHD_HIDE changed): stop ours, by its pid.
restart_sshd() {
	kill "$SSHD_PID" && wait "$SSHD_PID" 2>/dev/null
	wait_for 10 sh -c "! ss -ltnH 'sport = :$PORT' | grep -q ." && launch_sshd
}

install_pam() { # install_pam SERVICE TEXT (a private service name only)
	case $1 in sshd|su|su-l|login|runuser|runuser-l|other|common-*)
		say "refusing to write /etc/pam.d/$1"; exit 1;; esac
	printf '%s\n' "$2" >"/etc/pam.d/$1"
	CREATED_PAM+=("/etc/pam.d/$1")
}

SSH_BASE=()
setup_client() {
	ssh-keygen -q -t ed25519 -N '' -f "$W/id" </dev/null
	SSH_BASE=(-i "$W/id" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
		-o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=10)
}
ssh_to() { # ssh_to USER COMMAND... (extra ssh options in the SSH_EXTRA array)
	local u=$1; shift
	ssh "${SSH_BASE[@]}" "${SSH_EXTRA[@]}" -p "$PORT" "$u@127.0.0.1" "$@"
}
SSH_EXTRA=()

# Interactive login on a pty: run_pty USER LINE... ; prints the transcript
# and EXIT=status. Each LINE is typed at a shell prompt.
run_pty() {
	local u=$1; shift
	expect -f "$TOP/tests/e2e/pty.exp" -- "$PORT" "$W/id" "$u" "$@" 2>&1
}

# give_deb USER MESSAGE: a package "cellhello" (/usr/bin/cellhello prints
# MESSAGE) built on the host, in the user's home as cellhello.deb.
give_deb() {
	local pkg=$W/pkg-$1 home
	home=$(getent passwd "$1" | cut -d: -f6)
	install -d "$pkg/DEBIAN" "$pkg/usr/bin"
	printf 'Package: cellhello\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n' >"$pkg/DEBIAN/control"
	printf '#!/bin/sh\necho %s\n' "$2" >"$pkg/usr/bin/cellhello"
	chmod 0755 "$pkg/usr/bin/cellhello"
	dpkg-deb -Zgzip --build "$pkg" "$home/cellhello.deb" >/dev/null && chown "$1" "$home/cellhello.deb"
}

# (Without the template cells start in: held once per boot, not a leak.)
host_mounts() { awk '$5 != "/run/cell/template.mnt" { print $5, $9, $10 }' /proc/self/mountinfo | sort; }
template_held() { [ "$(stat -f -c %t /run/cell/template.mnt 2>/dev/null)" = 6e736673 ]; }

cleanup() {
	local p u f uid
	for p in "${STARTED_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${STARTED_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for f in "${CLEANUP_CMDS[@]}"; do eval "$f" 2>/dev/null; done
	for u in "${CREATED_USERS[@]}"; do
		uid=$(id -u "$u" 2>/dev/null)
		[ -n "$uid" ] && rm -f "/run/cell/lock-$uid" "/run/cell/shared-$uid" \
			"/run/cell/subid/u$uid" "/run/cell/subid/g$uid"
		pkill -KILL -u "$u" 2>/dev/null
		wait_for 5 sh -c "! pgrep -u $u >/dev/null"
		userdel -r "$u" >/dev/null 2>&1
		sed -i "/^$u:/d" /etc/subuid /etc/subgid
	done
	for u in "${CREATED_GROUPS[@]}"; do groupdel "$u" 2>/dev/null; done
	for f in "${CREATED_PAM[@]}"; do rm -f "$f"; done
	for f in "${CREATED_MOUNTS[@]}"; do umount -l -- "$f" 2>/dev/null; done
	# rm -rf removes a symlink itself, never what it points to.
	for f in "${CREATED_PATHS[@]}"; do [ -n "$f" ] && [ "$f" != / ] && rm -rf -- "$f"; done
	[ -n "${STOP_PROCFS:-}" ] && stop_procfs
	[ -n "${DROP_TEMPLATE:-}" ] && template_held && umount -l /run/cell/template.mnt &&
		rm -f /run/cell/template.mnt /run/cell/lock-template
	# Cell cgroups: none may be left; the parents only if we made them.
	for f in $CG_PARENTS_MADE; do rmdir "$f" 2>/dev/null; done
	[ -n "$MADE_SSHD_DIR" ] && rmdir /run/sshd 2>/dev/null
	[ -n "$MADE_DEVLOG" ] && rm -f /dev/log
	# Made by this test: its state files (locks, the sweep's stamp, the
	# filters) are ours.
	rmdir /run/cell/subid 2>/dev/null	# (the kept verdicts: empty once ours are gone)
	# (template.mnt: the mount point a login in a private mount namespace
	# held its template on, there only.)
	[ -n "$MADE_RUNCELL" ] && { umount -l /run/cell/template.mnt 2>/dev/null; true; } &&
		rm -f /run/cell/swept /run/cell/lock-* /run/cell/seccomp-* /run/cell/template.mnt \
		/run/cell/etc/passwd /run/cell/etc/group && rmdir /run/cell/etc 2>/dev/null;
	[ -n "$MADE_RUNCELL" ] && rmdir /run/cell 2>/dev/null
	# cellctl enable adds the test's cellsh to /etc/shells.
	[ -n "${W:-}" ] && sed -i "\|^$W/|d" /etc/shells
	[ -n "${W:-}" ] && rm -rf "$W"
	for f in "${LAST_CLEANUP_CMDS[@]}"; do eval "$f" 2>/dev/null; done
}

# The usual start of a root suite: install, client key, syslog capture.
setup_common() {
	require_root
	trap cleanup EXIT
	# A timeout's SIGTERM or a ^C must still run cleanup (through EXIT).
	trap 'exit 130' INT TERM HUP
	setup_install
	setup_client
	start_logsink
}

finish() {
	say "$PASS passed, $FAIL failed, $SKIP skipped"
	[ "$FAIL" = 0 ]
}
