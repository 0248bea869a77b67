#!/usr/bin/env bash
# The data in PostgreSQL (#30), as a team on several hosts keeps it: `--db postgresql://…` for
# every command, the dashboard and `serve`. A password in the address and someone else's tables
# are refused in one line; the demo, doctor, a run, the scheduler, the webhook's spool (in this
# host's state folder) and its ingester, and the dashboard (its refresh on another process's
# commit, its exports in the folder it was started in) work as on a file.
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/postgres.bash"
pg_start || { finish; exit 1; }
pg "CREATE DATABASE md" >/dev/null
pg "CREATE DATABASE theirs" >/dev/null
A="${PG_ADDRESS/\/postgres\?//md?}"
THEIRS="${PG_ADDRESS/\/postgres\?//theirs?}"
M() { "$BIN" --db "$A" "$@"; }
q() { "${PSQL[@]/\/postgres\?//md?}" -c "$1"; }

expect 1 "a password in the address" -- "$BIN" --db "postgresql://messenger:hunter2@127.0.0.1:1/md" profiles list
contains "says where a password goes" "PGPASSFILE" "$ERR"
grep -q hunter2 <<<"$ERR" && fail "the refusal repeats the password" || ok
"${PSQL[@]/\/postgres\?//theirs?}" -c "CREATE TABLE contact (id int PRIMARY KEY)" >/dev/null
expect 1 "a database holding someone else's tables" -- "$BIN" --db "$THEIRS" profiles list
contains "says whose" "not messenger-dash's (contact)" "$ERR"
[ "$("${PSQL[@]/\/postgres\?//theirs?}" -c "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")" = 1 ] \
  && ok || fail "tables were made beside someone else's"

expect 0 "the demo into PostgreSQL" -- M demo --contacts 300
contains "names the database" "Demo ready in postgresql://messenger@127.0.0.1:" "$OUT"
contains "quotes the address to paste" "--db '$A'" "$OUT"
expect 0 "doctor" -- M doctor
contains "names the engine" "database · engine: PostgreSQL " "$OUT"
expect 0 "profiles list" -- M profiles list --json
check_json "the demo's three profiles" "sorted(p['name'] for p in out) == ['Northwind Events', 'Northwind Shop', 'Northwind Support']"
# serve: the scheduler runs what is due, the sandbox's receipts come through the spool, which is
# in this host's state folder (another host has its own).
printf 'verify-e2e\n' >"$WORK/verify"
printf 'secret-e2e\n' >"$WORK/secret"
expect 0 "a schedule" -- M programs schedule "Order updates" --every 15m
q "UPDATE program_schedule SET next_at = 0" >/dev/null
undelivered() { q "SELECT count(*) FROM send WHERE outcome = 'sent' AND delivered_at IS NULL"; }
UNDELIVERED0=$(undelivered)
"$BIN" --db "$A" serve --listen 127.0.0.1:0 --verify-token-file "$WORK/verify" --app-secret-file "$WORK/secret" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE=$!
started $SERVE
ran() { grep -q 'scheduled run of "Order updates": [1-9][0-9]* sent' "$WORK/serve.err"; }
wait_until "the due program runs by itself" ran
caught_up() { [ "$(undelivered)" -eq "$UNDELIVERED0" ] && grep -q "ingest: .* delivered [1-9]" "$WORK/serve.err"; }
for _ in 1 2 3; do caught_up && break; sleep 5; done
wait_until "the sandbox's receipts are applied through the spool and the ingester" caught_up
ls -d "$XDG_STATE_HOME"/messenger-dash/pg-127.0.0.1-*-md.spool >/dev/null 2>&1 && ok || fail "no spool in the state folder: $(find "$XDG_STATE_HOME")"
[ "$(stat -c %a "$XDG_STATE_HOME/messenger-dash")" = 700 ] && ok || fail "the state folder is not private"
# The server goes down under serve: Facebook's POSTs are still answered 200 (spooled) and are
# applied once it is back.
PAGE=104000000000001
PSID=$(q "SELECT psid FROM send WHERE outcome = 'sent' AND read_at IS NULL AND page_id = '$PAGE' LIMIT 1")
unread() { q "SELECT count(*) FROM send WHERE psid = '$PSID' AND outcome = 'sent' AND read_at IS NULL"; }
[ -n "$PSID" ] && [ "$(unread)" -gt 0 ] && ok || fail "no unread message to read"
URL=$(sed -n 's/^Listening on \(http[^ ]*\).*/\1/p' "$WORK/serve.out")
WM=$(now_millis 60)
BODY=$(read_body "$PAGE" "$PSID" "$WM")
SIG=$(signature "$BODY")
pg_halt
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Hub-Signature-256: $SIG" --data-binary "$BODY" "$URL")" = 200 ] \
  && ok || fail "a POST while the database is down is not answered 200"
pg_resume
read_applied() { [ "$(unread)" -eq 0 ]; }
for _ in 1 2; do read_applied && break; sleep 5; done
wait_until "the spooled read is applied once the database is back" read_applied
grep -q "ingest: waiting for the database (.*); the webhook goes on answering" "$WORK/serve.err" && ok \
  || fail "the ingester did not say it waited: $(grep ingest "$WORK/serve.err" | tail -3)"
expect 1 "a second serve on this host" -- M serve --listen 127.0.0.1:0 --verify-token-file "$WORK/verify" --app-secret-file "$WORK/secret"
contains "says why" "another messenger-dash is receiving webhooks" "$ERR"
kill -TERM $SERVE
for _ in $(seq 1 100); do kill -0 $SERVE 2>/dev/null || break; sleep 0.1; done
kill -0 $SERVE 2>/dev/null && fail "serve did not stop on SIGTERM" || ok
# serve started while the server is down: the webhook answers from the spool at once, the
# scheduler waits for the server and says so, and the POST is applied once it is up.
PSID=$(q "SELECT psid FROM send WHERE outcome = 'sent' AND read_at IS NULL AND page_id = '$PAGE' LIMIT 1")
[ -n "$PSID" ] && [ "$(unread)" -gt 0 ] && ok || fail "no unread message to read"
BODY=$(read_body "$PAGE" "$PSID" "$WM")
SIG=$(signature "$BODY")
pg_halt
"$BIN" --db "$A" serve --listen 127.0.0.1:0 --verify-token-file "$WORK/verify" --app-secret-file "$WORK/secret" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE=$!
started $SERVE
listening() { grep -q '^Listening on http' "$WORK/serve.out"; }
wait_until "serve listens while the database is down" listening
URL=$(sed -n 's/^Listening on \(http[^ ]*\).*/\1/p' "$WORK/serve.out")
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Hub-Signature-256: $SIG" --data-binary "$BODY" "$URL")" = 200 ] \
  && ok || fail "a POST to a serve started without its database is not answered 200"
waiting() { grep -q "scheduler: waiting for the database (" "$WORK/serve.err"; }
wait_until "the scheduler says it waits for the database" waiting
contains "serve says the database can't be opened yet" "the database can't be opened yet" "$(cat "$WORK/serve.err")"
pg_resume
for _ in 1 2; do read_applied && break; sleep 5; done
wait_until "the POST spooled before the database was up is applied" read_applied
open_again() { grep -q "scheduler: the database is open" "$WORK/serve.err"; }
wait_until "the scheduler goes on once the database is up" open_again
kill -TERM $SERVE
for _ in $(seq 1 100); do kill -0 $SERVE 2>/dev/null || break; sleep 0.1; done
kill -0 $SERVE 2>/dev/null && fail "serve did not stop on SIGTERM" || ok
# Stopped while it still waits for the database: it stops at once all the same.
pg_halt
"$BIN" --db "$A" serve --listen 127.0.0.1:0 --verify-token-file "$WORK/verify" --app-secret-file "$WORK/secret" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE=$!
started $SERVE
wait_until "serve listens while the database is down" listening
wait_until "the scheduler waits" waiting
kill -TERM $SERVE
for _ in $(seq 1 100); do kill -0 $SERVE 2>/dev/null || break; sleep 0.1; done
kill -0 $SERVE 2>/dev/null && fail "serve waiting for its database did not stop on SIGTERM" || ok
pg_resume

today_sent() { M stats "Northwind Shop" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['days'][0]['sent'])"; }
before=$(today_sent)
expect 0 "a run" -- M programs run "Order updates" --reenrol
added=$(sed -n 's/.*processed [0-9]*: \([0-9]*\) sent.*/\1/p' <<<"$OUT")
[ -n "$added" ] && [ "$added" -gt 0 ] && ok || fail "the run sent nothing: $OUT"
[ "$(today_sent)" -eq $((before + added)) ] && ok || fail "today's sent: $before + $added != $(today_sent)"
[ "$(q "SELECT count(*) FROM program_run WHERE finished_at IS NULL")" = 0 ] && ok || fail "the run's lease is still held"

# The dashboard: another process's commit shows without a key pressed; an export goes to the
# folder it was started in.
mkdir "$WORK/here" && cd "$WORK/here"
dashboard "md-pg-$$" 100 30 --db "'$A'"
wait_for "Northwind Shop"
keys : ; keys "stats Northwind Shop" Enter
wait_for "filter: all"
TODAY=$(account_day 0)
screen_sent() { screen | awk -v d="$TODAY" '$1 == d { print $2; exit }'; }
[ "$(screen_sent)" = "$(today_sent)" ] && ok || fail "the screen shows $(screen_sent) sent today, the database $(today_sent)"
expect 0 "a run from another process" -- M programs run "Order updates" --reenrol
follows() { [ "$(screen_sent)" = "$(today_sent)" ]; }
wait_until "the screen follows the other process's commit" follows
keys x
wait_for "Exported 7 rows to $WORK/here/stats-Northwind-Shop-"
head -1 "$WORK"/here/stats-Northwind-Shop-*.csv | grep -q "^date,sent," && ok || fail "the export: $(head -2 "$WORK"/here/stats-*.csv)"
keys : ; keys q Enter
wait_for "EXITED 0"
finish
