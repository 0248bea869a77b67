#!/usr/bin/env bash
# The Messenger node in tmux: open the demo's program, change the tag, write a message with two
# fields, see the preview and count change, get a promotional flag and confirm it, save, run the
# program and read the summary; the command line confirms what was saved and sent.
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/p.db"
"$BIN" demo --db "$DB" --contacts 400 >/dev/null || { fail "demo"; finish; exit 1; }
dashboard "md-prog-$$" 120 40 --db "'$DB'"
sent_before=$("$BIN" --db "$DB" stats "Northwind Shop" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['days'][0]['sent'])")

wait_for "Northwind Shop"
keys :; keys -l programs; keys Enter; wait_for "Order updates"
keys G Enter; wait_for "Order updates: Messenger node"
keys Tab Tab; keys t; wait_for "Change tag"
keys g Enter; wait_for "Tag: Account_update"
# Clear the message and write a new one with two fields.
keys Tab; keys Tab; sleep 0.2
for _ in $(seq 1 4); do keys Down; done; keys End
for _ in $(seq 1 200); do keys BSpace; done
keys -l "Hello "; keys @; wait_for "Insert a data field"
keys Enter; keys -l ", your account "; keys @; wait_for "Insert a data field"
keys j j Enter
wait_for "Hello @EVENTDATE@, your account @LASTNAME@"
screen | grep -qE "Message · [0-9]+/2000 · preview [0-9]+/2000" && ok || fail "no live counts"
keys -l " was updated. 50% off your next order!"; wait_for "promotional wording"
keys C-s; wait_for "Save anyway"
keys Tab Enter; wait_for "Saved the Messenger node"
keys Escape; wait_for "R run, re-enrol all"
keys R; wait_for "Finished."
screen | grep -qE "sent [0-9]+ · not sent [0-9]+" && ok || fail "no run summary"
keys Enter; sleep 0.3; keys Escape; sleep 0.3; keys q; wait_for "EXITED 0"

expect 0 "programs list" -- "$BIN" --db "$DB" programs list --json
check_json "the saved tag" "[p['tag'] for p in out if p['name']=='Order updates']==['Account_update']"
msg=$(sqlite3 "$DB" "SELECT message FROM node JOIN program ON program.id = node.program_id WHERE program.name = 'Order updates'")
grep -qF "your account" <<<"$msg" && grep -qF "50% off" <<<"$msg" && ok || fail "the saved message is not what was typed: $msg"
sent_after=$("$BIN" --db "$DB" stats "Northwind Shop" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['days'][0]['sent'])")
[ "$sent_after" -gt "$sent_before" ] && ok || fail "the run sent nothing ($sent_before → $sent_after)"
finish
