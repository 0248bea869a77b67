#!/usr/bin/env bash
# Suppression (R15) and retries (R16) through the CLI: 551s are suppressed for the page and never
# asked again; a day's 613s are retried and counted once; a retry SIGKILLed mid-batch leaves that
# batch unknown (counted once, retryable) and the next retry finishes the job.
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/m.db"
M() { "$BIN" --db "$DB" "$@"; }
q() { sqlite3 "$DB" "$1"; }
export MESSENGER_DASH_SANDBOX_LOG="$WORK/sandbox.log"
TODAY=$(account_day 0)

echo '{"data":[{"id":"3001","name":"Shop","tasks":["MANAGE","MESSAGING"],"access_token":"T"}]}' >"$WORK/a.json"
M pages import "$WORK/a.json" >/dev/null
FIELD=$(M profiles create Shop --page 3001 | sed -n 's/^Opt-in field: //p')
# 40,000 contacts: every other one hits the rate limit (613) once, one in 50 turned messages off (551).
python3 - "$WORK/c.csv" "$FIELD" <<'PY'
import sys
path, field = sys.argv[1], sys.argv[2]
with open(path, "w") as f:
    f.write(f"EMAIL,FIRSTNAME,{field}\n")
    for i in range(40000):
        psid = f"{i}99613" if i % 2 == 0 else (f"{i}99551" if i % 50 == 1 else str(10**12 + i))
        f.write(f"c{i}@example.com,N{i},{psid}\n")
PY
M contacts import "$WORK/c.csv" >/dev/null
M programs create Orders >/dev/null
M programs node Orders --profile Shop --utility --message "Hi @FIRSTNAME@, your order has shipped." >/dev/null
M programs activate Orders >/dev/null
expect 0 "the first run" -- M programs run Orders
contains "613s are warned" "20000  613 rate limit reached" "$OUT"

# Counted once: the rollups of the day equal a recount of the send rows, reason by reason.
counted_once() {
  local rolled recount
  rolled=$(q "SELECT outcome, reason, SUM(count) FROM daily_stat WHERE outcome IN ('sent', 'warning') AND count > 0 GROUP BY 1, 2 ORDER BY 1, 2")
  recount=$(q "SELECT outcome, COALESCE(reason_code, ''), COUNT(*) FROM send GROUP BY 1, 2 ORDER BY 1, 2")
  [ "$rolled" == "$recount" ] && ok || fail "$1: rollups differ from the send rows: $rolled VS $recount"
  [ "$(q 'SELECT COUNT(*) FROM send')" -eq "$(q 'SELECT COUNT(*) FROM enrolment')" ] && ok || fail "$1: one row per enrolment"
}
counted_once "after the run"

# Bad input: one line, nothing changed.
before=$(sqlite3 "$DB" .dump)
expect 1 "a 551 is not retryable" -- M programs retry Orders --date "$TODAY" --reason 551
contains "says why" "--reason 551 is not retryable" "$ERR"
expect 2 "a bad date" -- M programs retry Orders --date 26/11/2026
expect 1 "an unknown program" -- M programs retry Nope --date "$TODAY"
expect 0 "a day without warnings" -- M programs retry Orders --date 2026-01-01
contains "nothing to retry" "Nothing to retry" "$OUT"
same_db "refusals change nothing" "$before"

# R15: the 551s are suppressed and a new enrolment doesn't ask Facebook for them again.
expect 0 "suppressed list" -- M contacts suppressed --json
check_json "800 suppressed for the page" "len(out) == 800 and out[0]['code'] == '551' and out[0]['since'] == '$TODAY'"
asked551=$(grep -c '99551"' "$WORK/sandbox.log")
expect 0 "a second pass" -- M programs run Orders --reenrol
contains "suppressed, not asked" "800  suppressed for this page after 551" "$OUT"
[ "$(grep -c '99551"' "$WORK/sandbox.log")" -eq "$asked551" ] && ok || fail "a suppressed contact was asked again"
expect 0 "lift one" -- M contacts lift c1@example.com --page 3001
contains "lifted" "Lifted 1 suppression" "$OUT"
expect 1 "lift it twice" -- M contacts lift c1@example.com

# R16: the two passes' 40,000 613s retried; the retry is killed after about 1,500 attempts
# (inside its second batch).
attempts() { grep -c '"attempt"' "$WORK/sandbox.log"; }
"$BIN" --db "$DB" programs retry Orders --date "$TODAY" >/dev/null 2>&1 &
pid=$!
started "$pid"
while kill -0 "$pid" 2>/dev/null && [ "$(attempts)" -lt 1500 ]; do sleep 0.01; done
kill -9 "$pid" 2>/dev/null && ok || fail "the retry ended before the kill"
wait "$pid" 2>/dev/null
unknown=$(q "SELECT COUNT(*) FROM send WHERE status = 'unknown'")
[ "$unknown" -gt 0 ] && [ "$unknown" -le 1000 ] && ok || fail "the batch in flight is unknown: $unknown rows"
counted_once "after the kill"
expect 0 "the next retry" -- M programs retry Orders --date "$TODAY"
contains "says unknown ones may have gone" "had an unknown outcome" "$OUT"
[ "$(q "SELECT COUNT(*) FROM send WHERE status IN ('unknown') OR error_code = 613")" -eq 0 ] && ok || fail "warnings left to retry"
[ "$(q "SELECT COUNT(*) FROM send WHERE outcome = 'sent'")" -eq $((80000 - 1600)) ] && ok || fail "sent: $(q "SELECT COUNT(*) FROM send WHERE outcome = 'sent'")"
[ "$(q 'SELECT COUNT(*) FROM send_attempt')" -eq "$(q 'SELECT SUM(attempts - 1) FROM send')" ] && ok || fail "each earlier attempt is kept once"
[ "$(q 'SELECT COUNT(*) FROM program_run WHERE finished_at IS NULL')" -eq 0 ] && ok || fail "a lease is left open"
counted_once "after the retries"
expect 0 "nothing left" -- M programs retry Orders --date "$TODAY"
contains "nothing left" "Nothing to retry" "$OUT"
finish
