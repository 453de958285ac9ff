#!/bin/bash
# Scheduled jobs: the real cron daemon (Debian's), with pam_cell in its
# PAM stack, runs a job of an unconfined user and refuses a confined user's
# (cron runs jobs with /bin/sh on the host, never the login shell, so the
# job would run outside any cell): the job never runs, anywhere, and the
# log says why. cron runs in a mount namespace of the test's own, where
# /etc/pam.d/cron, /etc/crontab, /etc/cron.d and the crontab spool are the
# test's: the machine's files and daemons are untouched.
. "$(dirname "$0")/lib.sh"
setup_common
command -v cron >/dev/null || { say "skip - scheduled jobs # cron is not installed (tools/install-deps.sh --test installs it)"; finish; exit 0; }
new_user U
new_user C /bin/bash
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[user $U]"
mark() { echo "/tmp/celltest-cron-$$-$1"; }
CREATED_PATHS+=("$(mark "$U")" "$(mark "$C")")
install -d -m 0755 "$W/cron.d" "$W/spool"
: >"$W/crontab"
for u in "$U" "$C"; do
	printf '* * * * * id -un >%s\n' "$(mark "$u")" >"$W/spool/$u"
	chown "$u:crontab" "$W/spool/$u"
	chmod 0600 "$W/spool/$u"
done
printf 'account required pam_unix.so\nsession required pam_unix.so\nsession required %s conf=%s\n' \
	"$W/pam_cell.so" "$CONF" >"$W/pam-cron"
unshare -m --propagation private sh -c '
	W=$1
	mount -t tmpfs -o mode=1730 tmpfs /var/spool/cron/crontabs &&
	chgrp crontab /var/spool/cron/crontabs &&
	cp -p "$W"/spool/* /var/spool/cron/crontabs/ &&
	mount --bind "$W/crontab" /etc/crontab &&
	mount --bind "$W/cron.d" /etc/cron.d &&
	mount --bind "$W/pam-cron" /etc/pam.d/cron &&
	{ [ -z "$2" ] || mount --bind "$2" /dev/log; } &&
	exec cron -f -L 15' sh "$W" "$([ -n "$MADE_DEVLOG" ] || echo "$SINK_SOCK")" >"$W/cron.out" 2>&1 &
STARTED_PIDS+=($!)
say "# waiting for cron's next minute (up to 70 s)"
if wait_for 70 test -s "$(mark "$C")"; then
	ok "cron runs an unconfined user's job (so the refusal below is pam_cell's)"
else
	not_ok "cron runs an unconfined user's job" "$(cat "$W/cron.out")"
fi
wait_for 5 grep -q "refused user=$U service=cron" "$LOG"
check "a confined user's job never runs on the host" test ! -e "$(mark "$U")"
check "... nor anywhere: no cell was made for it" test -z "$(registry_ids)"
has "... and the log says why" "refused user=$U service=cron: scheduled jobs of confined users are refused: cron runs a job with /bin/sh on the host, outside any cell" "$(cat "$LOG")"
finish
