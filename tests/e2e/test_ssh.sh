#!/bin/bash
# End to end through a real sshd on 127.0.0.1 and the real ssh client:
# what a confined login sees, and that nothing is left after logout.
. "$(dirname "$0")/lib.sh"
setup_common
new_user U
new_user EXEMPT /bin/bash 0
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
exempt = root $EXEMPT
[defaults]
hostname = celltest-box
env_deny = X_DENIED*
env_set = EDITOR=celltest-ed MAILDIR=%h/Mail
[user ct$$u*]"
# Host mounts below /etc (a container's /etc/resolv.conf, an autofs'd
# directory) show in a cell's /etc: a tmpfs on a directory, a file bound
# over a file.
SUBD=/etc/celltest-$$.d SUBF=/etc/celltest-$$.conf
mkdir "$SUBD" && echo on-the-host >"$SUBF" && CREATED_PATHS+=("$SUBD" "$SUBF")
mount -t tmpfs -o size=64k tmpfs "$SUBD" && CREATED_MOUNTS+=("$SUBD")
echo in-a-submount >"$SUBD/file"; echo bound-over >"$W/subf"
mount --bind "$W/subf" "$SUBF" && CREATED_MOUNTS+=("$SUBF")
MOUNTS_BEFORE=$(host_mounts)
HOST_NAME=$(hostname)
start_sshd "AcceptEnv LC_* BASH_ENV LD_PRELOAD ENV X_* EDITOR" || exit 1

uid=$(id -u "$U"); gid=$(id -g "$U"); s=$(subuid_start "$U")

# ---- identity and maps ----
out=$(ssh_to "$U" 'cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; echo --; id -u; id -g' 2>&1)
norm=$(tr -s ' ' <<<"$out" | sed 's/^ //')
expect_map="$uid $uid 1
0 $s $uid
$((uid + 1)) $((s + uid)) $((65536 - uid))"
eq "uid_map is keep-id over the subordinate range" "$expect_map" "$(sed -n '1,/^--$/p' <<<"$norm" | grep -v '^--')"
eq "gid_map is keep-id over the subordinate range" \
	"$gid $gid 1
0 $s $gid
$((gid + 1)) $((s + gid)) $((65536 - gid))" "$(sed -n '/^--$/,/^--$/p' <<<"$norm" | grep -v '^--' | head -3)"
eq "id shows the user's own uid and gid" "$uid
$gid" "$(tail -2 <<<"$norm")"

# ---- processes ----
out=$(ssh_to "$U" 'ps -e -o pid=,comm=' 2>&1)
eq "PID 1 is cell-init" "1 cell-init" "$(head -1 <<<"$out" | tr -s ' ' | sed 's/^ //')"
lacks "no host process is visible (sshd)" "sshd" "$out"
check "only the cell's few processes are visible" test "$(wc -l <<<"$out")" -le 3

# ---- namespaces and hostname ----
inside=$(ssh_to "$U" 'hostname; for n in user mnt pid uts ipc; do readlink /proc/self/ns/$n; done' 2>&1)
eq "hostname is the profile's" "celltest-box" "$(head -1 <<<"$inside")"
eq "the host's hostname is unchanged" "$HOST_NAME" "$(hostname)"
for n in user mnt pid uts ipc; do
	in=$(grep "^$n:" <<<"$inside")
	check "$n namespace differs from the host's ($in)" test -n "$in" -a "$in" != "$(readlink /proc/self/ns/$n)"
done

# ---- file system ----
eq "/home shows only the user's own home" "$U" "$(ssh_to "$U" 'ls /home' 2>&1)"
ssh_to "$U" 'echo written-inside > ~/probe' >/dev/null 2>&1
eq "a file written to ~ lands in the real home" "written-inside" "$(cat "/home/$U/probe" 2>&1)"
eq "... owned by the user's real uid" "$uid" "$(stat -c %u "/home/$U/probe" 2>&1)"
out=$(ssh_to "$U" 'cat /etc/shadow; echo "rc=$?"' 2>&1)
has "/etc/shadow is absent, not merely unreadable" "No such file or directory" "$out"
has "... and cat fails" "rc=1" "$out"
lacks "... and no hash leaks" "root:" "$out"
out=$(ssh_to "$U" 'for f in shadow shadow- gshadow gshadow- passwd- group- subuid subuid- subgid subgid- security; do
	[ -e /etc/$f ] || [ -L /etc/$f ] && echo "present=$f"; done; ls -A /etc | wc -l' 2>&1)
lacks "... so are gshadow, the backups of passwd and group (which name every user), subuid, subgid, security" "present=" "$out"
check "(control: the rest of /etc is there: $(tail -1 <<<"$out") entries)" test "$(tail -1 <<<"$out")" -gt 20
check "(control: the host has those: passwd- and gshadow exist)" test -e /etc/passwd- -a -e /etc/gshadow
eq "cat /etc/passwd- fails: no account name of another user reaches the cell" "rc=1" \
	"$(ssh_to "$U" 'cat /etc/passwd- /etc/group- >/dev/null 2>&1; echo rc=$?' 2>&1)"
out=$(ssh_to "$U" "cat $SUBD/file $SUBF; echo x >>$SUBD/file; echo w=\$?" 2>&1)
has "a host mount below /etc (tmpfs on a directory) shows in the cell" "in-a-submount" "$out"
has "... and a file bound over a file of /etc" "bound-over" "$out"
has "... read-only" "w=1" "$out"

# ---- rootfs = host, complete: what apt, dpkg, man and last read (measured
# with strace), read-only; nothing of other users, no /var/lib as a whole ----
out=$(ssh_to "$U" 'echo "apt=$(apt list --installed 2>/dev/null | wc -l)"; echo "dpkg=$(dpkg -l | wc -l)";
	last >/dev/null; echo "last=$?"; echo "wtmp=$(stat -c %s /var/log/wtmp)"; echo "varlib=$(ls /var/lib | tr "\n" " ")";
	echo "opt=$(ls /opt 2>&1 | tr "\n" " ")"; echo "srv=$(ls -A /srv | wc -l)"; man -w ls >/dev/null && echo man=ok;
	for d in /root /var/mail /var/spool /var/backups; do [ -e $d ] && echo "present=$d"; done;
	grep -E " /var/lib/dpkg | /opt " /proc/self/mountinfo | cut -d" " -f5,6 | tr "\n" " "; echo' 2>&1)
eq "apt list --installed lists what the host has" "apt=$(apt list --installed 2>/dev/null | wc -l)" "$(grep ^apt= <<<"$out")"
eq "dpkg -l too" "dpkg=$(dpkg -l | wc -l)" "$(grep ^dpkg= <<<"$out")"
eq "last works" "last=0" "$(grep ^last= <<<"$out")"
eq "... on the cell's own empty wtmp (no one else's logins)" "wtmp=0" "$(grep ^wtmp= <<<"$out")"
eq "/var/lib holds only apt and dpkg" "varlib=apt dpkg " "$(grep ^varlib= <<<"$out")"
eq "/opt is the host's" "opt=$(ls /opt 2>&1 | tr '\n' ' ')" "$(grep ^opt= <<<"$out")"
eq "/srv exists, empty" "srv=0" "$(grep ^srv= <<<"$out")"
has "man finds its pages" "man=ok" "$out"
lacks "/root, /var/mail, /var/spool and /var/backups are not there" "present=" "$out"
has "/var/lib/dpkg is read-only" "/var/lib/dpkg ro," "$out"
has "... nosuid, nodev" "nosuid,nodev" "$(grep -o '/var/lib/dpkg ro,[^ ]*' <<<"$out")"

# ---- the cell's own /etc/passwd and /etc/group: system accounts and the
# user, no one else; group member lists (they name people) cleared ----
new_user OTHER
out=$(ssh_to "$U" 'id -un; getent passwd | wc -l; getent passwd | cut -d: -f1 | tr "\n" " "; echo;
	getent group | awk -F: "\$4 != \"\"" | wc -l; touch /etc/passwd 2>&1 | grep -c "Read-only"' 2>&1)
eq "id names the user inside" "$U" "$(sed -n 1p <<<"$out")"
eq "getent passwd: the host's system accounts and the user alone" \
	"$(($(awk -F: '$3 < 1000 || $3 == 65534' /etc/passwd | wc -l) + 1))" "$(sed -n 2p <<<"$out")"
lacks "... no other user's name" " $OTHER " " $(sed -n 3p <<<"$out")"
has "... the user's own line" " $U " " $(sed -n 3p <<<"$out")"
eq "getent group: no member lists" "0" "$(sed -n 4p <<<"$out")"
eq "/etc/passwd is read-only" "1" "$(sed -n 5p <<<"$out")"
eq "... and nothing it was built with is left in / (no .host-etc, no scratch point)" "" "$(ssh_to "$U" 'ls -A / | grep "^\."' 2>&1)"
eq "the user's passwd line: home and the profile's shell" "/home/$U:/bin/bash" \
	"$(ssh_to "$U" "getent passwd $U | cut -d: -f6,7" 2>&1)"

# ---- privileges ----
out=$(ssh_to "$U" 'grep -E "^(CapInh|CapPrm|CapEff|CapAmb|NoNewPrivs):" /proc/self/status' 2>&1)
for c in CapInh CapPrm CapEff CapAmb; do
	eq "$c is zero" "0000000000000000" "$(awk -v k="$c:" '$1 == k { print $2 }' <<<"$out")"
done
eq "NoNewPrivs is 1" "1" "$(awk '$1 == "NoNewPrivs:" { print $2 }' <<<"$out")"

# ---- exit status and an interactive pty login ----
ssh_to "$U" 'exit 7' >/dev/null 2>&1
eq "ssh host 'exit 7' returns 7" 7 "$?"
out=$(run_pty "$U" 'echo MARK$((40+2)); hostname')
has "interactive ssh -tt gets a prompt and runs commands" "MARK42" "$out"
has "... runs in the cell" "celltest-box" "$out"
has "... and logs out cleanly" "EXIT=0" "$out"

# ---- nothing outlives the session ----
ssh_to "$U" 'sleep 1000 >/dev/null 2>&1 </dev/null & echo started' >/dev/null 2>&1
gone() { ! pgrep -u "$U" >/dev/null; }
check "after logout no process of the user remains (background sleep gone)" wait_for 10 gone
check "after logout nothing is added to the registry" wait_for 5 reg_nothing_added
eq "after logout the host mount table is as before" "$MOUNTS_BEFORE" "$(host_mounts)"

# ---- the login's environment, less what must not cross ----
SSH_EXTRA=(-o "SetEnv=LC_CELLTEST=passed BASH_ENV=/tmp/evil LD_PRELOAD=/tmp/evil.so ENV=/tmp/evil LC_BAD-NAME=x X_SENT=sent X_DENIED_1=x X_HOSTONLY=/root/.profile X_THERE=/usr/bin EDITOR=client-ed")
out=$(ssh_to "$U" 'env' 2>&1)
SSH_EXTRA=()
has "an LC_* variable sent by ssh (AcceptEnv) reaches the shell" "LC_CELLTEST=passed" "$out"
has "... and any other AcceptEnv lets in" "X_SENT=sent" "$out"
for v in BASH_ENV LD_PRELOAD ENV= LC_BAD-NAME; do lacks "$v from the client does not reach the shell" "$v" "$out"; done
has "PATH is the profile's" "PATH=/usr/local/bin:/usr/bin:/bin" "$out"
has "a variable pam_env set (a site file, as /etc/environment) reaches the shell" "CELLTEST_SITE=from-pam-env" "$out"
has "... a site http_proxy too" "http_proxy=http://proxy.celltest:3128" "$out"
has "SSH_CONNECTION reaches the shell" "SSH_CONNECTION=127.0.0.1 " "$out"
has "SSH_CLIENT too" "SSH_CLIENT=127.0.0.1 " "$out"
lacks "env_deny drops what it names" "X_DENIED_1" "$out"
lacks "a value naming a host path the cell cannot see is dropped" "X_HOSTONLY" "$out"
has "(control: one naming a path the cell has passes)" "X_THERE=/usr/bin" "$out"
has "env_set sets, replacing the login's" "EDITOR=celltest-ed" "$out"
lacks "... (the client's is gone)" "client-ed" "$out"
eq "env_set expands %h" "MAILDIR=/home/$U/Mail" "$(grep ^MAILDIR= <<<"$out")"
SSH_EXTRA=(-tt)
out=$(ssh_to "$U" 'echo "TTY=$(tty) SSH_TTY=$SSH_TTY"' 2>&1 | tr -d '\r')
SSH_EXTRA=()
check "ssh -tt: SSH_TTY names the cell's own terminal, the one tty names ($out)" \
	sh -c "echo '$out' | grep -qE '^TTY=(/dev/pts/[0-9]+) SSH_TTY=\\1\$'"

# ---- a record left by a killed monitor is swept at a logout, once a minute at most ----
wait_for 10 no_registry	# the records of the sessions above are gone
ssh_to "$U" 'sleep 3' >/dev/null 2>&1 &
bg=$!; STARTED_PIDS+=($bg)
live() { grep -l "^user=$U$" /run/cell/* 2>/dev/null | head -1; }
wait_for 10 sh -c "grep -q '^user=$U$' /run/cell/* 2>/dev/null"
rec=$(live)
dead=$((RANDOM + 4000000)); while kill -0 "$dead" 2>/dev/null; do dead=$((dead + 1)); done
stale=/run/cell/$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
sed "s/^pid=.*/pid=$dead/; s/^id=.*/id=$(basename "$stale")/" "$rec" >"$stale"
cp "$stale" "$W/stale.copy"
printf 1 >/run/cell/swept	# swept just now: this session's logout leaves it
wait "$bg" 2>/dev/null
check "a stale record is planted (pid $dead is not running)" test -s "$stale"
rm -f /run/cell/swept	# the last sweep's time: none, so the next logout sweeps
ssh_to "$U" true >/dev/null 2>&1
check "the next logout removes it" wait_for 5 test ! -e "$stale"
cp "$W/stale.copy" "$stale"
ssh_to "$U" true >/dev/null 2>&1
check "... but a logout within the minute does not sweep again (the login path stays O(1))" test -s "$stale"
rm -f "$stale"

# ---- the profile's seccomp filter: compiled once, root's, checked ----
# Its name: FNV-1a 64 of the header naming its lists (none here).
name=$(python3 -c 'h = 0xcbf29ce484222325
for b in b"cell-seccomp 1\n\n\n": h = ((h ^ b) * 0x100000001b3) % 2**64
print("seccomp-%016x" % h)')
cache=/run/cell/$name
# Tampered with below: whatever happens, not left for the next logins.
CLEANUP_CMDS+=("rm -f $cache")
ssh_to "$U" true >/dev/null 2>&1
eq "a login leaves its profile's filter compiled in $cache, root's, 0644" "0 644" "$(stat -c '%u %a' "$cache" 2>&1)"
has "... and the cell is filtered by it (no nested user namespace)" "Operation not permitted" \
	"$(ssh_to "$U" 'unshare -U true' 2>&1)"
chown "$U" "$cache"
out=$(ssh_to "$U" 'echo INSIDE' 2>&1)
lacks "a filter file the user could have written: no shell" "INSIDE" "$out"
has "... refused, naming it and the fix" "is not a file root alone may write" "$out"
has "... (the fix)" "remove it (the next login makes it anew)" "$out"
chown 0 "$cache"
# A file of that name for other lists (a hash collision): not used,
# cellsh compiles the profile's own filter.
printf 'cell-seccomp 1\nuserns\n\n\0%064d' 0 >"$cache"
out=$(ssh_to "$U" 'echo INSIDE; unshare -U true' 2>&1)
has "a filter file naming other lists is passed over: the login works" "INSIDE" "$out"
has "... and the profile's own filter is compiled and applied" "Operation not permitted" "$out"
# Root's, with these lists, but cut short: not a filter; compiled instead.
printf 'cell-seccomp 1\n\n\n\0abc' >"$cache"
out=$(ssh_to "$U" 'echo INSIDE; unshare -U true' 2>&1)
has "a filter file of these lists cut short is passed over: the login works" "INSIDE" "$out"
has "... and the filter is compiled and applied" "Operation not permitted" "$out"
rm -f "$cache"
ssh_to "$U" true >/dev/null 2>&1
check "... and the next login compiles it again" test -s "$cache"

# ---- no fd of the login program reaches the user's side ----
ssh_to "$U" 'sleep 4' >/dev/null 2>&1 &
bg=$!; STARTED_PIDS+=($bg)
wait_for 10 pgrep -u "$U" -x cellsh >/dev/null
p=$(pgrep -u "$U" -x cellsh | head -1)
eq "cellsh under sshd holds only fds 0-2" "0 1 2" "$(ls /proc/"$p"/fd 2>&1 | sort -n | tr '\n' ' ' | sed 's/ $//')"
wait "$bg" 2>/dev/null
# su keeps every fd the PAM stack opened (pam_cell, libsubid, syslog) open
# across its exec of the shell unless each is close-on-exec.
printf '%s\n' "auth sufficient pam_rootok.so" "account required pam_unix.so" \
	"session required $W/pam_cell.so conf=$CONF" >"$W/pam-su"
(
	# su starts with only 0-2 open, so any other fd of cellsh came from su's PAM stack.
	for f in /proc/$BASHPID/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done
	exec unshare -m --propagation private sh -c \
		'mount --bind "$1" /etc/pam.d/su && exec su - "$2" -c "sleep 4"' sh "$W/pam-su" "$U"
) >/dev/null 2>&1 </dev/null &
bg=$!; STARTED_PIDS+=($bg)
wait_for 10 pgrep -P "$bg" -x cellsh >/dev/null
p=$(pgrep -P "$bg" -x cellsh)
eq "cellsh under su holds only fds 0-2" "0 1 2" "$(ls /proc/"$p"/fd 2>&1 | sort -n | tr '\n' ' ' | sed 's/ $//')"
wait "$bg" 2>/dev/null

# ---- exempt users and logging ----
out=$(ssh_to "$EXEMPT" 'readlink /proc/self/ns/mnt' 2>&1)
eq "an exempt user logs in unconfined" "$(readlink /proc/self/ns/mnt)" "$out"
has "... and the log says so" "exempt user=$EXEMPT service=sshd-celltest" "$(cat "$LOG")"
has "each cell is logged with user, service and time" "created user=$U uid=$uid service=sshd-celltest" "$(cat "$LOG")"
has "each end is logged" "ended user=$U" "$(cat "$LOG")"

finish
