#!/bin/bash
# Whether a login is confined depends on what NSS says of its groups: an
# answer pam_cell cannot read fully must refuse the login, never let it
# through unconfined. Through the real su and PAM stack, as root.
. "$(dirname "$0")/lib.sh"
setup_common
PAMTEXT=$(PAM_ROOT_SESSION)

# su_as USER: a command through su and pam_cell; prints what ran and the log.
su_as() {
	: >"$LOG"
	with_pam su "$PAMTEXT" su "$1" -c 'echo SHELL-RAN CELL=${CELL_ID:-none}' </dev/null 2>&1
	wait_for 3 grep -qE "refused user=$1|cell [0-9a-f]{32} created|exempt user=$1" "$LOG"
}

# 1. A group line of about 24 KiB (1500 members): more than the 8 KiB that
# getgrgid_r was given, which used to drop the group and its confinement.
new_group BIG
members=$(for i in $(seq 1 1500); do printf 'ct%dmember%05d,' $$ "$i"; done)
new_user BIGBASH /bin/bash
new_user BIGCELL
sed -i "s/^$BIG:x:\([0-9]*\):$/$BIG:x:\1:$members$BIGBASH,$BIGCELL/" /etc/group
size=$(getent group "$BIG" | wc -c)
check "1. (the group line of $BIG is $size bytes, over 16 KiB)" test "$size" -gt 16384
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[group $BIG]"
out=$(su_as "$BIGBASH")
lacks "1. a member of a huge confining group with a bash shell gets no host shell" "SHELL-RAN" "$out"
has "1. ... the group is seen: refused for the shell, with the fix" \
	"login shell is '/bin/bash', so the shell would run outside the cell" "$(cat "$LOG")"
out=$(su_as "$BIGCELL")
check "1. a member with cellsh is confined by the huge group ($out)" \
	grep -qE 'SHELL-RAN CELL=[0-9a-f]{32}$' <<<"$out"

# 2. A group source that fails (an LDAP server down): the group cannot be
# named, so whether it confines cannot be known. Refused.
new_group FG
new_user FBASH /bin/bash
usermod -aG "$FG" "$FBASH"
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[group $FG]"
out=$(su_as "$FBASH")
has "2. (control: with NSS working, $FBASH is confined by [group $FG])" \
	"login shell is '/bin/bash'" "$(cat "$LOG")"
printf 'passwd: files\ngroup: celltest [unavail=return] files\nshadow: files\n' >"$W/nsswitch.conf"
fgid=$(getent group "$FG" | cut -d: -f3)
export NSSWITCH=$W/nsswitch.conf LD_LIBRARY_PATH=$BUILD/tests/nss CELLTEST_FAIL_GID=$fgid
getent_fg() { unshare -m --propagation private sh -c 'mount --bind "$1" /etc/nsswitch.conf && getent group "$2"' sh "$NSSWITCH" "$fgid"; }
if getent_fg >/dev/null 2>&1; then not_ok "2. (the failing source is in effect: getent cannot read group $fgid)"
else ok "2. (the failing source is in effect: getent cannot read group $fgid)"; fi
out=$(su_as "$FBASH")
lacks "2. with the group source failing, no host shell" "SHELL-RAN" "$out"
has "2. ... refused with the cause" "cannot look up group $fgid: Input/output error" "$(cat "$LOG")"
has "2. ... and why it refuses" "could be the one that confines this user" "$(cat "$LOG")"
# 3. The same source failing while the user's group list is made
# (getgrouplist reports no error: the group is silently left out).
unset CELLTEST_FAIL_GID
export CELLTEST_FAIL_INITGROUPS=1
out=$(su_as "$FBASH")
lacks "3. with the group list failing, no host shell" "SHELL-RAN" "$out"
has "3. ... refused: the group confining its members was left out" \
	"is a member of group $FG, which confines its members, but the list of the user's groups left it out" "$(cat "$LOG")"
unset CELLTEST_FAIL_INITGROUPS
export CELLTEST_FAIL_GID=$fgid
# Break-glass: a user exempt by name still gets in while NSS fails.
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
exempt = root $FBASH
[group $FG]"
out=$(su_as "$FBASH")
has "2. an account exempt by name still gets in while NSS fails" "SHELL-RAN CELL=none" "$out"
has "2. ... and the log says so" "let through unconfined although the account could not be read" "$(cat "$LOG")"
unset NSSWITCH LD_LIBRARY_PATH CELLTEST_FAIL_GID CELLTEST_FAIL_INITGROUPS

# 4. A user who exists only in a directory (an NSS passwd source; not in
# /etc/passwd): known by name inside the cell, whose /etc/passwd holds the
# system accounts and this user, where the source itself is out of reach.
new_group DG
dgid=$(getent group "$DG" | cut -d: -f3)
DU=ct$$dir
duid=61000
while getent passwd "$duid" >/dev/null; do duid=$((duid + 1)); done
dhome=/home/$DU
install -d -o "$duid" -g "$dgid" -m 0700 "$dhome"
CREATED_PATHS+=("$dhome")
printf 'passwd: files celltest\ngroup: files\nshadow: files\n' >"$W/nsswitch-dir.conf"
export NSSWITCH=$W/nsswitch-dir.conf LD_LIBRARY_PATH=$BUILD/tests/nss \
	CELLTEST_USER="$DU:$duid:$dgid:$dhome:$CELLSH"
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[user $DU]
identity = self"
check "4. ($DU is not in /etc/passwd)" sh -c "! grep -q '^$DU:' /etc/passwd"
# (A directory's own PAM module answers for its accounts, as pam_sss does:
# pam_unix's setgid helper cannot load a test NSS module.)
out=$(with_pam su "${PAMTEXT/account required pam_unix.so/account required pam_permit.so}" su "$DU" -c 'echo "CELL=${CELL_ID:-none}"; id -un; getent passwd "$(id -u)" | cut -d: -f1,6; getent passwd | grep -c "^ct"' </dev/null 2>&1)
check "4. a directory-only user is confined" grep -qE '^CELL=[0-9a-f]{32}$' <<<"$out"
eq "4. ... and known by name inside (id -un)" "$DU" "$(sed -n 2p <<<"$out")"
eq "4. ... with the home the directory gives" "$DU:$dhome" "$(sed -n 3p <<<"$out")"
eq "4. ... and no other test user in view" "1" "$(sed -n 4p <<<"$out")"
unset NSSWITCH LD_LIBRARY_PATH CELLTEST_USER
# 5. Subordinate ranges from a directory ("subid: celltest" in nsswitch.conf,
# as sssd's): libsubid is loaded for it (pam_cell does not link it) and its
# ranges are the ones mapped; a source that is down refuses the login.
new_user SN
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[user $SN]"
files_start=$(grep "^$SN:" /etc/subuid | cut -d: -f2)
dir_start=$((files_start + 100000000))
printf 'passwd: files\ngroup: files\nshadow: files\nsubid: celltest\n' >"$W/nsswitch-subid.conf"
out=$(with_pam su "$PAMTEXT" su "$SN" -c 'awk "\$1 == 0 { print \$2 }" /proc/self/uid_map' </dev/null 2>&1)
eq "5. (control: with subid from files, the cell maps /etc/subuid's range)" "$files_start" "$out"
export NSSWITCH=$W/nsswitch-subid.conf LD_LIBRARY_PATH=$BUILD/tests/nss CELLTEST_SUBID="$SN:$dir_start:65536"
out=$(with_pam su "$PAMTEXT" su "$SN" -c 'awk "\$1 == 0 { print \$2 }" /proc/self/uid_map' </dev/null 2>&1)
eq "5. with 'subid: celltest' the cell maps the directory's range, through libsubid" "$dir_start" "$out"
export CELLTEST_SUBID_FAIL=1
: >"$LOG"
out=$(su_as "$SN")
lacks "5. with the subid source down, no shell" "SHELL-RAN" "$out"
has "5. ... refused, naming the subid line" "libsubid failed: check the 'subid:' line of /etc/nsswitch.conf" "$(cat "$LOG")"
unset NSSWITCH LD_LIBRARY_PATH CELLTEST_SUBID CELLTEST_SUBID_FAIL
check "nothing of a cell is left" wait_for 10 sh -c '[ -z "$(ls /run/cell 2>/dev/null | grep -E "^[0-9a-f]{32}$")" ]'
finish
