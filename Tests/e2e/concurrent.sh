#!/usr/bin/env bash
# Two processes and more: the dashboard open in tmux on the stats screen while runs and receipt
# ingests write from other processes. No "database is locked" anywhere, the screen follows, and
# the totals match at the end.
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/c.db"
"$BIN" demo --db "$DB" --contacts 1500 >/dev/null || { fail "demo"; finish; exit 1; }
dashboard "md-conc-$$" 120 30 --db "'$DB'"
TODAY=$(account_day 0)
today_sent() { "$BIN" --db "$DB" stats "Northwind Shop" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['days'][0]['sent'])"; }
screen_sent() { screen | awk -v d="$TODAY" '$1 == d { print $2; exit }'; }

wait_for "Northwind Shop"
keys / ; keys -l shop; keys Enter; wait_for "filter: shop"
keys Enter; wait_for "Delivered, 7 days"
keys s; wait_for "Enter on a number lists its contacts"
before=$(today_sent)

# Receipts for messages already sent, as Facebook would post them, in three files.
WM=$(now_millis 3600)
sqlite3 "$DB" "SELECT DISTINCT psid FROM send WHERE outcome = 'sent' AND delivered_at IS NULL LIMIT 900" >"$WORK/psids"
split -n l/3 "$WORK/psids" "$WORK/psids."
for part in "$WORK"/psids.*; do
  while read -r psid; do
    printf '{"object":"page","entry":[{"id":"104000000000001","time":%s,"messaging":[{"sender":{"id":"%s"},"recipient":{"id":"104000000000001"},"timestamp":%s,"delivery":{"mids":[],"watermark":%s}}]}]}\n' "$WM" "$psid" "$WM" "$WM"
  done <"$part" >"$part.jsonl"
done

( for _ in 1 2 3; do "$BIN" --db "$DB" programs run "Order updates" --reenrol; done ) >"$WORK/runs.out" 2>"$WORK/runs.err" &
runs=$!
started $runs
( for part in "$WORK"/psids.*.jsonl; do "$BIN" --db "$DB" receipts ingest "$part"; done ) >"$WORK/ingest.out" 2>"$WORK/ingest.err" &
ingests=$!
started $ingests
wait "$runs"; runs_rc=$?
wait "$ingests"; ingest_rc=$?
[ "$runs_rc" -eq 0 ] && ok || fail "a run failed: $(cat "$WORK/runs.err")"
[ "$ingest_rc" -eq 0 ] && ok || fail "an ingest failed: $(cat "$WORK/ingest.err")"
cat "$WORK"/*.err | grep -qi "locked" && fail "\"database is locked\": $(cat "$WORK"/*.err)" || ok

added=$(sed -n 's/.*processed [0-9]*: \([0-9]*\) sent.*/\1/p' "$WORK/runs.out" | awk '{ s += $1 } END { print s + 0 }')
after=$(today_sent)
[ "$after" -eq $((before + added)) ] && ok || fail "today's sent: $before + $added runs' sent != $after"
# The screen follows within a few seconds, without a key pressed.
for _ in $(seq 1 50); do [ "$(screen_sent)" = "$after" ] && break; sleep 0.1; done
[ "$(screen_sent)" = "$after" ] && ok || fail "the screen shows $(screen_sent) sent today, the database $after"
delivered=$(sed -n 's/Marked \([0-9]*\) messages\{0,1\} delivered.*/\1/p' "$WORK/ingest.out" | awk '{ s += $1 } END { print s + 0 }')
[ "$delivered" -gt 0 ] && ok || fail "no receipts ingested"
recount=$(sqlite3 "$DB" "SELECT COUNT(*) FROM send WHERE delivered_at IS NOT NULL")
rolled=$(sqlite3 "$DB" "SELECT SUM(count) FROM daily_stat WHERE outcome = 'delivered'")
[ "$recount" -eq "$rolled" ] && ok || fail "delivered: rollups $rolled, recount $recount"
# A big import holds the write lock for its one transaction: the dashboard keeps browsing, and
# other commands still open the database and read.
python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
    f.write('EMAIL,CITY\n')
    for i in range(300000): f.write(f'big.{i}@example.com,City{i % 97}\n')
" "$WORK/big.csv"
"$BIN" --db "$DB" contacts import "$WORK/big.csv" >"$WORK/import.out" 2>"$WORK/import.err" &
importer=$!
started $importer
# Until the import's one transaction is well under way (its WAL past 1 MB), 10 s at most.
for _ in $(seq 1 200); do [ "$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)" -gt 1000000 ] && break; sleep 0.05; done
kill -0 $importer 2>/dev/null && ok || fail "the import ended before the check (make it bigger)"
start=$(date +%s%N)
expect 0 "a command reads while the import writes" -- "$BIN" --db "$DB" profiles list --json
[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 2000 ] && ok || fail "reading waited for the import"
# The dashboard answers keys and draws meanwhile: the date picker opens and closes.
keys D; wait_for "All 7 days"
keys Escape; wait_gone "All 7 days"
kill -0 $importer 2>/dev/null && ok || fail "the import ended before the dashboard was tried (make it bigger)"
wait $importer; [ $? -eq 0 ] && ok || fail "the import failed: $(cat "$WORK/import.err")"
contains "imported" "300000 new" "$(cat "$WORK/import.out")"
keys Escape; wait_for "Delivered, 7 days"
keys Escape; wait_for "filter: shop (Esc clears)"
keys q; wait_for "EXITED 0"
echo "concurrent: 3 runs (+$added sent) and 3 ingests (+$delivered delivered) beside the dashboard"
finish
