#!/bin/bash
# Every refusal fails closed (no shell) and says the cause and the fix.
. "$(dirname "$0")/lib.sh"
setup_common
new_user U
new_user NOSUB "$CELLSH" 0
new_user BASH /bin/bash
new_user OTHER
GOOD="cellsh = $CELLSH
cell_init = $W/bin/cell-init
[user ct$$u*]"
write_conf "$GOOD"
ROOT_LOGIN=prohibit-password start_sshd || exit 1

# refused NAME USER LOG-NEEDLE...: ssh gives no shell, exits non-zero, and the
# log holds every needle; nothing of a cell is left.
refused() {
	local name=$1 user=$2 out rc n; shift 2
	: >"$LOG"
	out=$(ssh_to "$user" 'echo SHELL-RAN' 2>&1); rc=$?
	lacks "$name: no shell" "SHELL-RAN" "$out"
	check "$name: ssh fails" test "$rc" -ne 0
	wait_for 3 grep -q "refused user=$user" "$LOG"
	for n in "$@"; do has "$name: log says '$n'" "$n" "$(cat "$LOG")"; done
	check "$name: no process of $user left" wait_for 5 sh -c "! pgrep -u $user >/dev/null"
	check "$name: nothing added to the registry" reg_nothing_added
}

# sanity: the good config works, so the refusals below are about their cause
eq "baseline: a confined login works" "SHELL-RAN" "$(ssh_to "$U" 'echo SHELL-RAN' 2>&1)"

write_conf "$GOOD
identity = sometimes"
refused "syntax error in the config" "$U" "$CONF:4: identity: 'sometimes' must be one of keep-id, root, self" \
	"every confined login is refused until it is fixed"

write_conf "$GOOD"
chmod 0664 "$CONF"
refused "group-writable config" "$U" "is writable by group or others (mode 0664): fix with 'chmod go-w $CONF'"
chmod 0644 "$CONF"

refused "no subordinate range" "$NOSUB" "user $NOSUB has no subordinate uid range in /etc/subuid" \
	"usermod --add-subuids FIRST-LAST $NOSUB"

refused "login shell is not cellsh" "$BASH" "login shell is '/bin/bash', so the shell would run outside the cell: fix with 'chsh -s $CELLSH $BASH'"

write_conf "cellsh = $CELLSH
cell_init = /usr/bin/false
[user ct$$u*]"
refused "cell-init dies at once" "$U" "creating the cell: cell-init exited before the cell was ready"

mkdir -m 0777 "$W/unsafe"; cp "$W/bin/cell-init" "$W/unsafe/"
write_conf "cellsh = $CELLSH
cell_init = $W/unsafe/cell-init
[user ct$$u*]"
refused "cell-init in a world-writable directory" "$U" "cell_init: $W/unsafe is writable by group or others"

# The cell is made but its shell cannot run in it: cellsh's child (started
# on cellsh's own memory, CLONE_VM | CLONE_VFORK) fails after the drop and
# before the exec; cellsh says why and exits 126, and the session ends.
write_conf "$GOOD
shell = /usr/bin/no-such-shell"
: >"$LOG"
out=$(ssh_to "$U" 'echo SHELL-RAN' 2>&1); rc=$?
lacks "a shell missing in the cell: no shell" "SHELL-RAN" "$out"
eq "... cellsh exits 126" 126 "$rc"
has "... saying which shell and why" "cellsh: cannot run /usr/bin/no-such-shell in the cell: No such file or directory" "$out"
check "... and the cell ends with the session" wait_for 5 sh -c "! pgrep -u $U >/dev/null && ! pgrep -x cell-init >/dev/null"

# The template mount namespace cannot be made: the login program may not
# make pid namespaces (a seccomp filter on unshare, as a unit's policy
# would). with_pam's private mount namespace does not see the host's
# template, so this login makes its own: the maker says which step failed.
write_conf "$GOOD"
: >"$LOG"
out=$(with_pam su "$(PAM_ROOT_SESSION)" "$BUILD/tests/deny_pidns" su "$U" -c 'echo SHELL-RAN' </dev/null 2>&1); rc=$?
lacks "no pid namespaces for the template: no shell" "SHELL-RAN" "$out"
check "... su fails" test "$rc" -ne 0
wait_for 3 grep -q "refused user=$U" "$LOG"
has "... the log names the failed step and its errno" \
	"making the template mount namespace: unshare(CLONE_NEWNS | CLONE_NEWPID): Operation not permitted" "$(cat "$LOG")"
has "... and what to check" "user.max_pid_namespaces" "$(cat "$LOG")"
check "... no process of $U left" wait_for 5 sh -c "! pgrep -u $U >/dev/null"
check "... nothing added to the registry" reg_nothing_added

# A home the cell would cover with its own mounts.
write_conf "$GOOD"
new_user TMPHOME
mkdir -m 0700 "/tmp/$TMPHOME-home"; chown "$TMPHOME:" "/tmp/$TMPHOME-home"
usermod -d "/tmp/$TMPHOME-home" "$TMPHOME"
refused "home under /tmp" "$TMPHOME" "home directory /tmp/$TMPHOME-home lies in /tmp, which the cell builds itself: move it with 'usermod -m -d'"

# root matched by a section but not exempt: refused, never half-confined.
cat "$W/id.pub" >"$W/keys/root"
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[user root]"
: >"$LOG"
out=$(ssh_to root 'echo SHELL-RAN' 2>&1)
lacks "confining root: no shell" "SHELL-RAN" "$out"
wait_for 3 grep -q "refused user=root" "$LOG"
has "confining root: refused with the fix" "user root has uid 0, which a cell cannot confine" "$(cat "$LOG")"
has "... list it in exempt" "list it in 'exempt'" "$(cat "$LOG")"
rm -f "$W/keys/root"

rm -f "$CONF"
refused "missing config" "$U" "$CONF: cannot open: No such file or directory"
write_conf "$GOOD"

# A cellsh user whom no section confines through this service: the real
# cause, to the user and at notice level in the log, and no shell.
write_conf "$GOOD
services = login"
: >"$LOG"
out=$(ssh_to "$U" 'echo SHELL-RAN' 2>&1)
lacks "cellsh, but no section confines the user through sshd: no shell" "SHELL-RAN" "$out"
has "... the user is told the real cause" "this session has no cell: no section of $CONF confines $U through 'sshd-celltest' (service 'sshd-celltest' not in 'services = login'" "$out"
wait_for 3 grep -q "no cell for user=$U" "$LOG"
check "... and the log says it at notice level (<85>: authpriv.notice)" \
	grep -q "^<85>.*no cell for user=$U service=sshd-celltest, whose login shell is cellsh" "$LOG"
write_conf "$GOOD"

# ---- cellsh on its own ----
uid=$(id -u "$U"); gid=$(id -g "$U")
as_user() { local u=$1; shift; setpriv --reuid="$(id -u "$u")" --regid="$(id -g "$u")" --init-groups "$@"; }
out=$(env -i PATH=/usr/bin:/bin HOME=/ bash -c "$(declare -f as_user); as_user $U $CELLSH -c 'echo SHELL-RAN'" 2>&1); rc=$?
lacks "cellsh with no cell gives no shell" "SHELL-RAN" "$out"
has "... and says why and what to do" "this session has no cell (CELL_ID is not set)" "$out"
eq "... exit status 126" 126 "$rc"

out=$(as_user "$U" env CELL_ID=../../etc/passwd "$CELLSH" -c 'echo SHELL-RAN' 2>&1)
has "cellsh refuses a malformed cell id" "is not a cell id (32 hex digits)" "$out"
out=$(as_user "$U" env CELL_ID=0123456789abcdef0123456789abcdef "$CELLSH" -c 'echo SHELL-RAN' 2>&1)
has "cellsh refuses an unknown cell id" "no live cell 0123456789abcdef0123456789abcdef" "$out"

# Another user's live cell.
ssh_to "$OTHER" 'sleep 60' >/dev/null 2>&1 &
bg=$!
STARTED_PIDS+=($bg)
other_id() { for f in /run/cell/*; do [ -f "$f" ] && grep -q "^user=$OTHER$" "$f" && basename "$f"; done; }
wait_for 10 sh -c "[ -n \"\$($(declare -f other_id); OTHER=$OTHER other_id)\" ]"
oid=$(other_id)
check "the other user's cell is registered" test -n "$oid"
out=$(as_user "$U" env CELL_ID="$oid" "$CELLSH" -c 'echo SHELL-RAN' 2>&1); rc=$?
lacks "cellsh pointed at another user's cell gives no shell" "SHELL-RAN" "$out"
has "... and names whose cell it is" "belongs to user $OTHER" "$out"
eq "... exit status 126" 126 "$rc"
out=$(as_user "$U" "$CELLSH" -x 2>&1); rc=$?
has "cellsh rejects unknown arguments" "usage: cellsh [-l | -c COMMAND [ARG0 [ARG...]] | --version]" "$out"
kill "$bg" 2>/dev/null; wait "$bg" 2>/dev/null

# ---- cell-manager-gate: may user@UID.service (systemd --user) start? ----
GATE=$BUILD/cell-manager-gate
write_conf "$GOOD"
out=$("$GATE" --conf "$CONF" "$(id -u "$U")" 2>&1); rc=$?
eq "manager gate: a confined user gets no host-side manager (exit 1)" 1 "$rc"
has "... and it says why" "no host-side service manager for $U: confined by [user ct$$u*]" "$out"
"$GATE" --conf "$CONF" 0; eq "manager gate: root (not confined) may have one" 0 "$?"
write_conf "$GOOD
services = login"
"$GATE" --conf "$CONF" "$(id -u "$U")" 2>/dev/null
eq "manager gate: confined through any one service is enough to refuse" 1 "$?"
write_conf "$GOOD
identity = sometimes"
out=$("$GATE" --conf "$CONF" 0 2>&1); rc=$?
eq "manager gate: a broken config refuses everyone's (fail closed)" 1 "$rc"
has "... naming the error" "identity: 'sometimes' must be one of" "$out"
write_conf "$GOOD"
chmod 0666 "$CONF"
"$GATE" --conf "$CONF" 0 2>/dev/null
eq "manager gate: an untrusted config refuses" 1 "$?"
chmod 0644 "$CONF"
out=$("$GATE" --conf "$CONF" 4000000000 2>&1); rc=$?
eq "manager gate: an unknown uid refuses" 1 "$rc"
has "... saying the account cannot be read" "its account cannot be read" "$out"
"$GATE" 2>/dev/null
eq "manager gate: no uid is a usage error that refuses" 1 "$?"

finish
