#!/usr/bin/env bash
# The real CursesTerminal in tmux: it draws the expected text, survives resizes from 200x60 down
# to 20x5 and back, and gives the terminal back restored, after q and after SIGTERM.
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/t.db"
"$BIN" demo --db "$DB" --contacts 200 >/dev/null || { fail "demo"; finish; exit 1; }
start() { dashboard "md-term-$$" 200 60 --db "'$DB'"; }

start
wait_for "Northwind Shop"
for size in "120 40" "80 24" "20 5" "79 24" "200 60" "20 5" "100 30"; do
  set -- $size
  tmux resize-window -t "$S" -x "$1" -y "$2"
  if [ "$1" -lt 80 ] || [ "$2" -lt 24 ]; then wait_for "needs 80x24"; else wait_for "Northwind Shop"; fi
  widest=$(screen | python3 -c "import sys, unicodedata as u; print(max([sum(2 if u.east_asian_width(c) in 'WF' else 0 if u.combining(c) else 1 for c in l.rstrip('\n')) for l in sys.stdin] or [0]))")
  [ "$widest" -le "$1" ] && ok || fail "a line of $widest columns on a $1-column screen"
done
tmux send-keys -t "$S" q
wait_for "EXITED 0"
grep -qE '(^| )icanon( |$)' "$WORK/stty" && grep -qE '(^| )echo( |$)' "$WORK/stty" && ok || fail "the terminal was not restored after q: $(cat "$WORK/stty")"
[ "$(tmux display -p -t "$S" '#{alternate_on}')" = 0 ] && ok || fail "still on the alternate screen after q"

start
wait_for "Northwind Shop"
pkill -TERM -f "$BIN --db $DB" && ok || fail "no dashboard process to stop"
wait_for "EXITED 143"
grep -qE '(^| )icanon( |$)' "$WORK/stty" && grep -qE '(^| )echo( |$)' "$WORK/stty" && ok || fail "the terminal was not restored after SIGTERM"
finish
