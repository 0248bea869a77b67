#!/usr/bin/env bash
# Crash safety: a run over CONTACTS contacts (100,000) is SIGKILLed KILLS times (10 here, 100 in
# `make soak`) in the middle of real work: each kill comes after a random number of messages (1 to
# 20,000) has gone to the sandbox, and when everything is done the next run re-enrols everyone, so
# no kill hits a finished run. Each run resumes where the last one died. Afterwards every
# enrolment has exactly one outcome for the node, the sandbox was never asked twice for the same
# send, the rollups equal a recount of the events, and the unknown outcomes are only the messages
# whose answers the journal still held (#29: it writes the sandbox's answers 64 at a time, so at
# most one group and the one in flight per kill; before the journal, a whole batch of 1,000).
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/m.db"
KILLS=${KILLS:-10}
CONTACTS=${CONTACTS:-100000}
M() { "$BIN" --db "$DB" "$@"; }
export MESSENGER_DASH_SANDBOX_LOG="$WORK/sandbox.log"

echo '{"data":[{"id":"3001","name":"Shop","tasks":["MANAGE","MESSAGING"],"access_token":"T"}]}' >"$WORK/a.json"
M pages import "$WORK/a.json" >/dev/null
FIELD=$(M profiles create Shop --page 3001 | sed -n 's/^Opt-in field: //p')
python3 - "$WORK/c.csv" "$FIELD" "$CONTACTS" <<'PY'
import sys
path, field, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path, "w") as f:
    f.write(f"EMAIL,FIRSTNAME,{field}\n")
    for i in range(n):
        psid = "" if i % 7 == 0 else (f"{i}99551" if i % 31 == 0 else str(10**12 + i))
        f.write(f"c{i}@example.com,N{i},{psid}\n")
PY
M contacts import "$WORK/c.csv" >/dev/null
M programs create Orders >/dev/null
M programs node Orders --profile Shop --utility --message "Hi @FIRSTNAME@, your order has shipped." >/dev/null
M programs activate Orders >/dev/null

q() { sqlite3 "$DB" "$1"; }
asks() { [ -f "$WORK/sandbox.log" ] && wc -l <"$WORK/sandbox.log" || echo 0; }
kills=0
landed=0
passes=0
for i in $(seq 1 "$KILLS"); do
  flag=""
  # Enough work left for the kill to land in: else everyone is enrolled again as well.
  if [ "$(q 'SELECT COUNT(*) FROM enrolment WHERE finished_at IS NULL')" -lt 30000 ]; then flag="--reenrol"; passes=$((passes + 1)); fi
  target=$(( $(asks) + RANDOM % 20000 + 1 ))
  "$BIN" --db "$DB" programs run Orders $flag >/dev/null 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null && [ "$(asks)" -lt "$target" ]; do sleep 0.01; done
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null
  # It landed inside real work when the run's lease is still open (it never finished).
  [ "$(q 'SELECT COUNT(*) FROM program_run WHERE finished_at IS NULL')" -gt 0 ] && landed=$((landed + 1))
done
expect 0 "the run after the kills finishes" -- M programs run Orders
echo "kills: $kills sent, $landed landed inside a run ($passes passes over the contacts); last run: $OUT"
[ "$landed" -eq "$KILLS" ] && ok || fail "only $landed of $KILLS kills landed inside a run"

enrolments=$(q 'SELECT COUNT(*) FROM enrolment')
[ $((enrolments % CONTACTS)) -eq 0 ] && [ "$enrolments" -ge "$CONTACTS" ] && ok || fail "enrolments: $enrolments, wanted a multiple of $CONTACTS"
[ "$(q 'SELECT COUNT(*) FROM enrolment WHERE finished_at IS NULL')" -eq 0 ] && ok || fail "unfinished enrolments remain"
[ "$(q 'SELECT COUNT(*) FROM send')" -eq "$enrolments" ] && ok || fail "sends: $(q 'SELECT COUNT(*) FROM send'), wanted one per enrolment ($enrolments)"
[ "$(q 'SELECT COUNT(*) FROM (SELECT enrolment_id FROM send GROUP BY enrolment_id, node_id HAVING COUNT(*) > 1)')" -eq 0 ] && ok || fail "an enrolment has two outcomes"
[ "$(q "SELECT COUNT(*) FROM send WHERE outcome = 'sending'")" -eq 0 ] && ok || fail "rows left in sending"
# A SIGKILL can cut the sandbox's log write short (a write that spans two pages may stop between
# them), so a killed run can leave one torn record that the next run's record follows on the same
# line. Records are split where each one starts; a torn one counts as asked, with no known id, and
# there can be at most one per kill.
read -r complete distinct torn < <(python3 - "$WORK/sandbox.log" <<'PY'
import json, re, sys
complete, torn = [], 0
for chunk in re.split(r'\n|(?=\{"enrolment_id")', open(sys.argv[1]).read()):
    if not chunk.strip():
        continue
    try:
        record = json.loads(chunk)
        complete.append((record["enrolment_id"], record["node_id"]))
    except ValueError:
        torn += 1
print(len(complete), len(set(complete)), torn)
PY
)
asked=$((complete + torn))
[ "$complete" -eq "$distinct" ] && ok || fail "the sandbox was asked $complete times for $distinct sends: something went out twice"
[ "$torn" -le "$kills" ] && ok || fail "$torn torn sandbox records from $kills kills"
for outcome in sent warning; do
  events=$(q "SELECT COUNT(*) FROM send WHERE outcome = '$outcome'")
  rolled=$(q "SELECT COALESCE(SUM(count), 0) FROM daily_stat WHERE outcome = '$outcome'")
  [ "$events" -eq "$rolled" ] && ok || fail "$outcome: rollup $rolled, recount $events"
done
reasons=$(q "SELECT COUNT(*) FROM (SELECT s.reason_code, COUNT(*) n FROM send s WHERE outcome = 'warning' GROUP BY s.reason_code
             EXCEPT SELECT reason, SUM(count) FROM daily_stat WHERE outcome = 'warning' GROUP BY reason)")
[ "$reasons" -eq 0 ] && ok || fail "warning reasons differ between rollups and events"
sent=$(q "SELECT COUNT(*) FROM send WHERE outcome = 'sent'")
[ "$sent" -le "$asked" ] && ok || fail "more sent ($sent) than the sandbox was asked ($asked)"
unknown=$(q "SELECT COUNT(*) FROM send WHERE status = 'unknown'")
GROUP=64  # AnswerJournal.answersPerRecord and Transport.askingGroup
[ "$unknown" -le $(((GROUP + 1) * landed)) ] && ok || fail "$unknown unknown outcomes from $landed kills: more than the answers held and in flight"
echo "kills landed: $landed; sends: $(q 'SELECT COUNT(*) FROM send'); unknown outcomes: $unknown"
finish
