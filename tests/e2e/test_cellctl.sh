#!/bin/bash
# cellctl, as an admin uses it, through the real sshd: check a config
# before any login, enable a user, see the cell (list), enter it, stop it,
# read the log, disable the user.
. "$(dirname "$0")/lib.sh"
setup_common
install -m 0755 "$BUILD/cellctl" "$W/bin/"
CTL=("$W/bin/cellctl" --conf "$CONF")
GOOD="cellsh = $CELLSH
cell_init = $W/bin/cell-init
exempt = root
include = $W/cell.d/*.conf
[defaults]
pids_max = 100
[profile small]
pids_max = 64
[profile big]
pids_max = 500"
write_conf "$GOOD"
start_sshd "DisableForwarding yes
PermitUserRC no
PermitTunnel no" || exit 1
# enable puts the user in group "cell" (what the sshd snippet matches),
# creating it when missing: then it is this test's to remove.
getent group cell >/dev/null || CREATED_GROUPS+=(cell)
new_user A /bin/bash 0   # no subordinate ids yet: enable gives them
new_user B /bin/bash     # never confined

for p in cellctl cellsh cell-init; do
	eq "$p --version" "$p $(cat "$TOP/VERSION")" "$("$W/bin/$p" --version 2>&1)"
done
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$W/bin/cellctl" list 2>&1); rc=$?
has "cellctl as a user: refused, saying root is needed" "list needs root" "$out"
eq "... exit 1" 1 "$rc"

# The machine's cron (installed for the tests) loads no pam_cell: check
# must say so, since a confined user's jobs would run on the host. The rest
# is checked where cron's stack loads it (a private mount namespace).
printf 'session required %s/pam_cell.so\n' "$W" >"$W/pam-cron"
cron_ok() { # cron_ok COMMAND...: /etc/pam.d/cron loads pam_cell for COMMAND
	if [ -e /etc/pam.d/cron ]; then
		unshare -m --propagation private sh -c 'mount --bind "$1" /etc/pam.d/cron && shift && exec "$@"' \
			sh "$W/pam-cron" "$@"
	else
		"$@"
	fi
}
# ---- check: a broken line is caught before any login ----
mkdir -p "$W/cell.d"
printf '[user %s]\nmemory_max = lots\n' "$A" >"$W/cell.d/typo.conf"
out=$("${CTL[@]}" check 2>&1); rc=$?
has "check: a broken drop-in line is named with file:line" "$W/cell.d/typo.conf:2: memory_max" "$out"
eq "... exit 1" 1 "$rc"
has "... and the rest is checked all the same: PAM" "PAM services that build cells: sshd-celltest" "$out"
has "... the kernel's idmapped mounts" "idmapped mount" "$out"
rm "$W/cell.d/typo.conf"
out=$(cron_ok "${CTL[@]}" check --user "$B" --sshd-config "$W/sshd_config" 2>&1); rc=$?
has "check: an unconfined user is said so" "$B is not confined" "$out"
eq "... exit 3 (not confined)" 3 "$rc"

# A stack where pam_env re-reads ~/.pam_environment after pam_cell.
install_pam "celltest-env$$" "session required $W/pam_cell.so conf=$CONF
session required pam_env.so user_readenv=1"
out=$("${CTL[@]}" check 2>&1)
has "check: pam_env with user_readenv=1 after pam_cell is named with file:line" \
	"pam_env with user_readenv=1 at /etc/pam.d/celltest-env$$:2 runs after pam_cell" "$out"
rm "/etc/pam.d/celltest-env$$"

# ---- enable ----
out=$("${CTL[@]}" enable nosuchuser$$ 2>&1); rc=$?
has "enable: an unknown user is refused" "no user nosuchuser$$" "$out"
eq "... exit 1" 1 "$rc"
out=$("${CTL[@]}" enable root 2>&1); rc=$?
has "enable: an exempt user is refused" "root is listed in 'exempt'" "$out"
out=$("${CTL[@]}" enable "$A" --profile nosuch 2>&1); rc=$?
has "enable --profile: an undefined profile is refused before anything is written" "no [profile nosuch]" "$out"
eq "... exit 1" 1 "$rc"
check "... nothing written" test ! -e "$W/cell.d/user-$A.conf"
out=$("${CTL[@]}" enable "$A" --profile big 2>&1); rc=$?
eq "enable $A: exit 0" 0 "$rc"
has "... writes a [user] drop-in" "wrote $W/cell.d/user-$A.conf" "$out"
has "... gives subordinate ids from a free block" "gave $A subordinate ids" "$out"
check "... which are in /etc/subuid and /etc/subgid" sh -c "grep -q '^$A:' /etc/subuid && grep -q '^$A:' /etc/subgid"
eq "... and cellsh as the login shell" "$CELLSH" "$(getent passwd "$A" | cut -d: -f7)"
check "... listed in /etc/shells" grep -qx "$CELLSH" /etc/shells
has "... in group cell, which the sshd snippet matches" " cell" " $(id -nG "$A")"
out=$("${CTL[@]}" enable "$A" 2>&1); rc=$?
has "enable again: nothing to change" "already confined" "$out"
eq "... exit 0" 0 "$rc"
out=$("${CTL[@]}" enable "$A" --profile small 2>&1); rc=$?
has "enable with another profile: the drop-in now names it" "now uses [profile small]" "$out"
eq "... exit 0" 0 "$rc"
eq "... one profile line in the drop-in" "profile = small" "$(grep ^profile "$W/cell.d/user-$A.conf")"
eq "... one subordinate range still" 1 "$(grep -c "^$A:" /etc/subuid)"
if [ -e /etc/pam.d/cron ] && ! grep -rqs pam_cell /etc/pam.d/cron /etc/pam.d/common-session-noninteractive; then
	has "check: cron's stack without pam_cell is a FAIL, with the fix" \
		"FAIL  /etc/pam.d/cron does not load pam_cell: cron would run a confined user's jobs with /bin/sh on the host" \
		"$("${CTL[@]}" check 2>&1)"
else
	skip "check: cron's stack without pam_cell" "no /etc/pam.d/cron here, or it loads pam_cell already"
fi
out=$(cron_ok "${CTL[@]}" check --user "$A" --sshd-config "$W/sshd_config" 2>&1); rc=$?
has "check --user: confined by its section" "$A is confined by [user $A]" "$out"
has "... with its profile" "with [profile small]" "$out"
has "... and where pam_cell's log lines go" "ok    log: " "$out"
has "... whose settings it shows" "pids_max 64" "$out"
has "... and says the login would work" "a confined login would work" "$out"
eq "... exit 0" 0 "$rc" || say "$out"

# ---- a login, list ----
ssh_to "$A" 'echo CELL=$CELL_ID; sleep 60' >"$W/s1" 2>&1 &
S1=$!
STARTED_PIDS+=($S1)
wait_for 10 grep -q CELL= "$W/s1"
id=$(grep -o 'CELL=[0-9a-f]*' "$W/s1" | cut -d= -f2)
check "a confined login through sshd gets a cell" test -n "$id"
out=$("${CTL[@]}" list)
has "list shows the cell" "$id" "$out"
row=$(grep "$id" <<<"$out")
has "... with its user" " $A " "$row"
has "... its service" "sshd-celltest" "$row"
has "... the remote host" "127.0.0.1" "$row"
has "... the section that confined it" "[user $A]" "$row"
has "... its profile" " small " "$row"
json=$("${CTL[@]}" list --json)
eq "list --json: the cell, with profile, sessions, processes and memory" "$id $A 127.0.0.1 small 1 True True" \
	"$(python3 -c 'import json,sys; c=[x for x in json.load(sys.stdin) if x["id"]==sys.argv[1]][0]; print(c["id"], c["user"], c["rhost"], c["profile"], c["sessions"], c["processes"]>=3, c["memory_bytes"]>0)' "$id" <<<"$json" 2>&1)"
pid1=$(python3 -c 'import json,sys; print([x for x in json.load(sys.stdin) if x["id"]==sys.argv[1]][0]["pid1"])' "$id" <<<"$json")
cg=$(awk -F: '$2 == "pids" { print "/sys/fs/cgroup/pids" $3 } $1 == "0" && $2 == "" { print "/sys/fs/cgroup" $3 }' "/proc/$pid1/cgroup" | head -1)
eq "... its pids.max is the profile's" 64 "$(cat "$cg/pids.max" 2>&1)"

# ---- enter ----
out=$("${CTL[@]}" enter "$A" -- ps -eo pid,comm 2>&1)
has "enter -- ps -e: the cell's PID 1" "1 cell-init" "$out"
has "... and the session's sleep" "sleep" "$out"
lacks "... and nothing of the host" "sshd" "$out"
out=$("${CTL[@]}" enter "$A" -- sh -c 'id -u; grep CapEff /proc/self/status; ls /proc/self/fd | tr "\n" " "; echo; cat /proc/self/cgroup | head -1; hostname' 2>&1)
has "enter runs as the user" "$(id -u "$A")" "$(head -1 <<<"$out")"
has "... with no capability" "CapEff:	0000000000000000" "$out"
has "... with fds 0-2 only (3 is ls's own)" "0 1 2 3 " "$out"
lacks "... and no more" "0 1 2 3 4" "$out"
has "... in the cell's cgroup (the root of its cgroup namespace)" ":/" "$(sed -n 4p <<<"$out")"
lacks "... not outside it" ":/.." "$(sed -n 4p <<<"$out")"
eq "enter --root: the cell's uid 0" "0" "$("${CTL[@]}" enter --root "$A" -- id -u 2>&1)"
eq "... still without capabilities" "CapEff:	0000000000000000" "$("${CTL[@]}" enter --root "$A" -- grep CapEff /proc/self/status 2>&1)"
out=$(script -qec "$W/bin/cellctl --conf $CONF enter $A -- sh -c 'tty; [ /proc/self/fd/0 -ef \"\$(tty)\" ] && echo CELL-PTY'" /dev/null 2>&1)
has "enter on a terminal: the command gets a terminal of the cell's own devpts" "CELL-PTY" "$out"
eq "enter passes the exit status" 7 "$("${CTL[@]}" enter "$A" -- sh -c 'exit 7' >/dev/null 2>&1; echo $?)"
out=$("${CTL[@]}" enter nosuchcell$$ -- true 2>&1); rc=$?
has "enter: an unknown cell or user is refused" "no live cell is 'nosuchcell$$'" "$out"

# ---- log ----
out=$("${CTL[@]}" log "$A" --file "$LOG")
has "log USER: the cell's creation" "cell $id created user=$A" "$out"
lacks "... not other users' lines" "user=$B " "$out"
has "pam_cell's decision lines carry the version" "[cell $(cat "$TOP/VERSION")]" "$out"
eq "log --json: the cell's lines name it" "True" \
	"$("${CTL[@]}" log "$A" --file "$LOG" --json | python3 -c 'import json,sys; v=json.load(sys.stdin); print(any(x["cell"]==sys.argv[1] and "created" in x["line"] for x in v))' "$id" 2>&1)"

# ---- stop ----
out=$("${CTL[@]}" stop "$A" 2>&1); rc=$?
has "stop USER: the cell is stopped" "cell $id of $A: stopped" "$out"
eq "... exit 0" 0 "$rc"
check "... the ssh session closes" wait_for 10 sh -c "! kill -0 $S1 2>/dev/null"
check "... no process of $A is left" wait_for 10 sh -c "! pgrep -u $A >/dev/null"
check "... the record is gone" wait_for 10 sh -c "[ ! -e /run/cell/$id ]"
eq "... list no longer shows it" "" "$("${CTL[@]}" list | grep "$id")"
out=$("${CTL[@]}" stop "$A" 2>&1); rc=$?
eq "stop with nothing to stop: exit 1" 1 "$rc"

# ---- disable ----
HOME_A=$(getent passwd "$A" | cut -d: -f6)
first=$(awk -F: -v u="$A" '$1 == u { print $2 }' /etc/subuid)
touch "$HOME_A/owned-by-subid" && chown "$first" "$HOME_A/owned-by-subid"
out=$("${CTL[@]}" disable "$A" 2>&1); rc=$?
has "disable: no longer confined" "$A is no longer confined; login shell /bin/bash" "$out"
eq "... exit 0" 0 "$rc"
eq "... the shell from before is back" "/bin/bash" "$(getent passwd "$A" | cut -d: -f7)"
lacks "... out of group cell again" " cell" " $(id -nG "$A")"
check "... the drop-in is gone" test ! -e "$W/cell.d/user-$A.conf"
has "... the subordinate ids it gave stay while a file in the home is owned by one" "kept the subordinate ids" "$out"
has "... naming that file" "$HOME_A/owned-by-subid" "$out"
has "... and how to remove them" "usermod --del-subuids" "$out"
eq "... and the next login is an ordinary one" "CELL=none" "$(ssh_to "$A" 'echo CELL=${CELL_ID:-none}' 2>&1)"
out=$("${CTL[@]}" disable "$A" 2>&1); rc=$?
has "disable again: nothing to do" "is not enabled" "$out"
eq "... exit 0" 0 "$rc"

# enable then disable, nothing in the home owned by the ids: they go.
new_user C /bin/bash 0
"${CTL[@]}" enable "$C" >/dev/null 2>&1
eq "enable $C: subordinate ids given" 1 "$(grep -c "^$C:" /etc/subuid)"
out=$("${CTL[@]}" disable "$C" 2>&1)
has "disable: the ids enable gave, owning nothing in the home, are removed" "removed the subordinate ids" "$out"
eq "... from /etc/subuid and /etc/subgid" "0 0" "$(grep -c "^$C:" /etc/subuid) $(grep -c "^$C:" /etc/subgid)"

# A user confined by a section cellctl did not write is not disabled by it.
new_group G
usermod -aG "$G" "$B"
write_conf "$GOOD
[group $G]"
out=$("${CTL[@]}" disable "$B" 2>&1); rc=$?
has "disable refuses a user confined by the admin's own section" "confined by [group $G]" "$out"
eq "... exit 1" 1 "$rc"

# ---- make install / uninstall into a staging root ----
R=$W/stage
make -s -C "$TOP" install DESTDIR="$R" >/dev/null 2>&1
check "make install: cellctl and its man page" test -x "$R/usr/local/sbin/cellctl" -a -e "$R/usr/local/share/man/man8/cellctl.8"
mkdir -p "$R/etc/pam.d"
printf 'session required pam_unix.so\nsession required pam_cell.so\n' >"$R/etc/pam.d/mine"
out=$(make -s -C "$TOP" uninstall DESTDIR="$R" 2>&1); rc=$?
has "make uninstall: refused while a PAM stack loads pam_cell, naming it" "$R/etc/pam.d/mine" "$out"
check "... exit non-zero" test "$rc" -ne 0
check "... the module is still there" test -e "$R$(make -s -C "$TOP" print-pamdir)/pam_cell.so"
sed -i '/pam_cell/d' "$R/etc/pam.d/mine"
make -s -C "$TOP" uninstall DESTDIR="$R" >/dev/null 2>&1
eq "... once no stack loads it, it removes everything but the config" \
	"$R/etc/pam.d/mine $R/etc/security/cell.conf" "$(find "$R" -type f | sort | tr '\n' ' ' | sed 's/ $//')"

finish
