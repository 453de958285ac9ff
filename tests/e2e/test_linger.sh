#!/bin/bash
# linger: a shared cell outlives its last session, so a tmux session (and
# nohup jobs) started in one ssh connection are there at the next; the cell
# still ends at the limit, cellctl list shows the time left, and nothing is
# left after; linger = yes lasts until cellctl stop.
. "$(dirname "$0")/lib.sh"
setup_common
new_user U
new_user Y
new_user M
write_conf "cellsh = $CELLSH
cell_init = $W/bin/cell-init
[user $M]
max_cells = 2
[user $U]
share = user
linger = 8s
[user $Y]
share = user
linger = yes"
start_sshd || exit 1
CTL=("$BUILD/cellctl" --conf "$CONF")

# ---- a tmux session across a disconnect ----
out=$(ssh_to "$U" 'tmux new-session -d -s work && tmux send-keys -t work "export MARK=from-the-first-login" Enter;
	nohup sleep 1000 >/dev/null 2>&1 & echo CELL=$CELL_ID' 2>&1)
first=$(sed -n 's/^CELL=//p' <<<"$out")
check "a shared cell with a tmux session ($first)" test -n "$first"
sleep 1
check "after the last connection closed the cell lives on (lingering)" test -n "$(live_cell "$U")"
json=$("${CTL[@]}" list --json)
eq "cellctl list --json: lingering, with the time left" "True" \
	"$(python3 -c 'import json,sys; c=[c for c in json.load(sys.stdin) if c["id"]==sys.argv[1]]; print(bool(c) and c[0]["lingering"] and 0 < c[0]["linger_left_s"] <= 8)' "$first" <<<"$json" 2>&1)"
has "cellctl list: a LINGER column with the time left" "LINGER" "$("${CTL[@]}" list)"
check "... for this cell ($("${CTL[@]}" list | grep "$first" | awk '{print $NF}'))" \
	sh -c "\"\$@\" list | grep '$first' | awk '{print \$NF}' | grep -qE '^[0-9]+s$'" sh "${CTL[@]}"
out=$(ssh_to "$U" 'echo CELL=$CELL_ID; tmux send-keys -t work "echo again:\$MARK" Enter; sleep 0.5;
	tmux capture-pane -p -t work | grep again: | tail -1; pgrep -c -f "sleep 1000"' 2>&1)
eq "the next login joins the lingering cell" "CELL=$first" "$(sed -n 1p <<<"$out")"
has "tmux attach finds the same shell (its variable set before the disconnect)" "again:from-the-first-login" "$out"
eq "... and the nohup job is still running" "1" "$(tail -1 <<<"$out")"
ssh_to "$U" 'sleep 2' >/dev/null 2>&1 &
back=$!
sleep 1
eq "a session back in time stops the lingering (the cell is listed, not lingering)" "listed lingering=False" \
	"$("${CTL[@]}" list --json | python3 -c 'import json,sys; print(*["listed lingering=%s" % c["lingering"] for c in json.load(sys.stdin) if c["id"]==sys.argv[1]])' "$first" 2>&1)"
wait "$back"

# ---- the limit: the cell ends, nothing is left ----
t0=$(date +%s)
wait_for 20 sh -c "[ -z \"\$(ls /run/cell | grep '^$first')\" ]"
t1=$(date +%s)
check "the lingering cell ends at its limit (8 s; gone after $((t1 - t0)) s)" test $((t1 - t0)) -ge 6 -a $((t1 - t0)) -le 14
check "... nothing of it is left (processes, records, cgroups, linger file)" wait_for 5 cell_gone "$U"
check "... no tmux server is left" sh -c "! pgrep -u $U tmux"

# ---- linger = yes: until cellctl stop ----
ssh_to "$Y" 'tmux new-session -d -s keep' >/dev/null 2>&1
sleep 10
ycell=$(live_cell "$Y")
check "linger = yes: the cell is still there 10 s after the last session ($ycell)" test -n "$ycell"
eq "... cellctl list says until stopped (-1)" "-1" \
	"$("${CTL[@]}" list --json | python3 -c 'import json,sys; print(*[c.get("linger_left_s") for c in json.load(sys.stdin) if c["id"]==sys.argv[1]])' "$ycell" 2>&1)"
"${CTL[@]}" stop "$Y" >/dev/null 2>&1
check "cellctl stop ends it, and nothing is left" wait_for 10 cell_gone "$Y"
check "no linger file is left" sh -c "! ls /run/cell | grep -q '\.linger$'"

# ---- max_cells: a cap on one user's concurrent cells ----
ssh_to "$M" 'sleep 8' >/dev/null 2>&1 &
m1=$!
ssh_to "$M" 'sleep 8' >/dev/null 2>&1 &
m2=$!
STARTED_PIDS+=($m1 $m2)
wait_for 10 sh -c "[ \$(grep -lx 'user=$M' /run/cell/* 2>/dev/null | wc -l) -ge 2 ]"
# The count reads M's index alone: a link per live cell of theirs.
IDX=/run/cell/by-uid/$(id -u "$M")
eq "M's index holds their two cells, and only theirs" \
	"$(grep -lx "user=$M" /run/cell/* 2>/dev/null | xargs -n1 basename | sort | tr '\n' ' ')" \
	"$(ls "$IDX" 2>/dev/null | sort | tr '\n' ' ')"
# A record a SIGKILLed monitor left (its PID 1 long gone): not counted, and
# removed by the count.
stale=0123456789abcdef0123456789abcdef
src=$(ls "$IDX" | head -1)
sed -e "s/^id=.*/id=$stale/" -e "s/^pid=.*/pid=$(sh -c 'echo $$')/" "$IDX/$src" >"$IDX/$stale"
: >"$LOG"
out=$(ssh_to "$M" 'echo THIRD-RAN' 2>&1)
lacks "max_cells = 2: a third concurrent login gets no cell and no shell" "THIRD-RAN" "$out"
has "... it is told why and what to do (2 live: the stale record is not counted)" \
	"already has 2 live cell(s), as many as 'max_cells = 2' allows: end one" "$out"
wait "$m1" "$m2"
eq "once they ended, a login works again" "AGAIN" "$(ssh_to "$M" 'echo AGAIN' 2>&1)"
# (A count stops at max_cells; this one, with none live, read them all.)
check "... and its count removed the stale record from the index" test ! -e "$IDX/$stale"
check "with no cell left, nothing of the index is left" wait_for 10 test ! -e /run/cell/by-uid
finish
