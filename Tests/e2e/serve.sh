#!/usr/bin/env bash
# `messenger-dash serve` as systemd would run it (#25), in the sandbox: a program whose schedule
# is due runs by itself, a paused one is skipped; the sandbox plays Facebook: what was sent is
# delivered 3 s later and some read 30 s later, through the spool; /healthz and /metrics say so;
# SIGTERM stops it within 10 s.
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/v.db"
M() { "$BIN" --db "$DB" "$@"; }
M demo >/dev/null || { fail "demo"; finish; exit 1; }
printf 'verify-e2e\n' >"$WORK/verify"
printf 'secret-e2e\n' >"$WORK/secret"

expect 0 "a schedule every 15 minutes" -- M programs schedule "Order updates" --every 15m
contains "says when it runs next" "runs every 15m" "$OUT"
expect 0 "a daily one on a paused program" -- M programs schedule "Event reminders" --daily 09:30
contains "warns it is paused" "is not active" "$ERR"
expect 1 "a schedule under a minute" -- M programs schedule "Order updates" --every 30s
expect 1 "a schedule of a program that doesn't exist" -- M programs schedule Nope --every 1h
expect 0 "programs list shows them" -- M programs list --json
check_json "schedules and next runs" "[(p['name'], p['schedule']) for p in out if p['schedule']] == [('Event reminders', 'daily 09:30'), ('Order updates', 'every 15m')] and all(p['next_run'] for p in out if p['schedule'])"
# Both due now (as if their time had come).
sqlite3 "$DB" "UPDATE program_schedule SET next_at = 0"
sent() { sqlite3 "$DB" "SELECT COUNT(*) FROM send WHERE outcome = 'sent'"; }
delivered() { sqlite3 "$DB" "SELECT COUNT(*) FROM send WHERE outcome = 'sent' AND delivered_at IS NOT NULL"; }
read_count() { sqlite3 "$DB" "SELECT COUNT(*) FROM send WHERE outcome = 'sent' AND read_at IS NOT NULL"; }
SENT0=$(sent); DELIVERED0=$(delivered); READ0=$(read_count)

"$BIN" --db "$DB" serve --listen 127.0.0.1:0 --verify-token-file "$WORK/verify" --app-secret-file "$WORK/secret" \
  --metrics-listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE=$!
started $SERVE
listening() { grep -q "^Listening on" "$WORK/serve.out" && grep -q "^Metrics on" "$WORK/serve.out"; }
wait_until "serve says where it listens" listening
URL=$(sed -n 's/^Listening on \(http[^ ]*\).*/\1/p' "$WORK/serve.out")
METRICS=$(sed -n 's/^Metrics on \(http[^ ]*\).*/\1/p' "$WORK/serve.out")
ran() { grep -q 'scheduled run of "Order updates"' "$WORK/serve.err"; }
wait_until "the due program runs by itself" ran
SENT=$(( $(sent) - SENT0 ))
[ "$SENT" -gt 0 ] && ok || fail "the scheduled run sent nothing"
skipped() { grep -q 'scheduled run of "Event reminders": skipped: the program is paused' "$WORK/serve.err"; }
wait_until "the paused program is skipped" skipped
python3 - "$DB" <<'PY' && ok || fail "the schedule did not move on: $(sqlite3 "$DB" 'SELECT * FROM program_schedule')"
import sqlite3, sys, time
rows = dict(sqlite3.connect(sys.argv[1]).execute(
    "SELECT p.name, s.next_at FROM program_schedule s JOIN program p ON p.id = s.program_id").fetchall())
now = time.time() * 1000
assert 14 * 60_000 < rows["Order updates"] - now <= 15 * 60_000, rows
assert rows["Event reminders"] > now, rows
PY
all_delivered() { [ $(( $(delivered) - DELIVERED0 )) -eq "$SENT" ]; }
wait_until "the sandbox delivers what was sent, through the webhook's ingester" all_delivered
grep -q "ingest: .* delivered $SENT," "$WORK/serve.err" && ok || fail "the deliveries did not come through the ingester: $(grep ingest "$WORK/serve.err" | tail -3)"
[ "$(curl -s -o /dev/null -w '%{http_code}' "${URL%/webhook}/healthz")" = 200 ] && ok || fail "/healthz is not 200"
# A signed POST is counted by status.
BODY='{"object":"page","entry":[]}'
SIG=$(python3 -c "import hmac,hashlib,sys; print('sha256=' + hmac.new(b'secret-e2e', sys.argv[1].encode(), hashlib.sha256).hexdigest())" "$BODY")
curl -s -o /dev/null -H "X-Hub-Signature-256: $SIG" --data-binary "$BODY" "$URL"
curl -s -o /dev/null --data-binary "$BODY" "$URL"
# The signed one is applied behind its answer: the metrics are read once the ingester caught up.
caught_up() { curl -s "${URL%/webhook}/healthz" | grep -q "caught up"; }
wait_until "the signed POST is ingested" caught_up
metrics=$(curl -s "$METRICS")
for line in 'messenger_dash_webhook_posts_total{status="200"} 1' 'messenger_dash_webhook_posts_total{status="403"} 1' \
  "messenger_dash_webhook_events_total{kind=\"delivery\"} $SENT" 'messenger_dash_scheduled_runs_total{program="Order updates",result="sent"} 1' \
  'messenger_dash_scheduled_runs_total{program="Event reminders",result="skipped"} 1' 'messenger_dash_ingest_lag_bytes 0.0' \
  'messenger_dash_spool_bytes' 'messenger_dash_page_last_event_timestamp_seconds{page="104000000000001"}'; do
  contains "metrics: $line" "$line" "$metrics"
done
expect 1 "a second serve on the same database" -- "$BIN" --db "$DB" serve --listen 127.0.0.1:0 --verify-token-file "$WORK/verify" --app-secret-file "$WORK/secret"
contains "says why" "another messenger-dash is receiving webhooks" "$ERR"
# Reads come 30 s after the send, for 6 PSIDs in 10 (the same ones every time).
some_read() { [ "$(read_count)" -gt "$READ0" ]; }
for _ in $(seq 1 60); do some_read && break; sleep 1; done
some_read && ok || fail "nothing was read within a minute"
READ=$(( $(read_count) - READ0 ))
[ "$READ" -lt "$SENT" ] && ok || fail "every message was read ($READ of $SENT): some should not be"
kill -TERM $SERVE
stopped() { ! kill -0 $SERVE 2>/dev/null; }
for _ in $(seq 1 100); do stopped && break; sleep 0.1; done
stopped && ok || fail "SIGTERM did not stop serve within 10 s"
grep -q "stopped: the spool is synced" "$WORK/serve.err" && ok || fail "no word on stopping"
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$WORK/serve.err"; then fail "raw control bytes in the log"; else ok; fi
echo "serve: $SENT sent by the schedule, all delivered, $READ read"
finish
