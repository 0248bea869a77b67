#!/usr/bin/env bash
# The stats screens in tmux on a demo database: Profiles → profile page → details → filter
# warnings → a date → the warned contacts → one contact → export. The exported CSV equals
# `stats --csv` byte for byte.
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/s.db"
"$BIN" demo --db "$DB" --contacts 500 >/dev/null || { fail "demo"; finish; exit 1; }
dashboard "md-stats-$$" 120 40 --db "'$DB'"
YESTERDAY=$(python3 -c "import datetime as d; print((d.datetime.now(d.timezone.utc).date() - d.timedelta(days=1)).isoformat())")

wait_for "Northwind Shop"
keys / ; keys -l "shop"; keys Enter; wait_for "filter: shop"
keys Enter; wait_for "Delivered, 7 days"
keys s; wait_for "Enter on a number lists its contacts"
keys f; wait_for "Stats (warnings)"
keys D; wait_for "All 7 days"
keys j j Enter; wait_for "$YESTERDAY to $YESTERDAY"
keys Enter; wait_for "contacts who were not sent (warnings) on $YESTERDAY"
keys x; wait_for "Exported"
CSV=$(ls "$WORK"/contacts-*-warning-"$YESTERDAY".csv 2>/dev/null | head -1)
[ -n "$CSV" ] && ok || fail "no exported contacts file"
"$BIN" --db "$DB" stats "Northwind Shop" --contacts warning --date "$YESTERDAY" --csv >"$WORK/cli.csv"
cmp -s "$CSV" "$WORK/cli.csv" && ok || fail "the contacts export differs from stats --csv"
keys Enter; wait_for "Data fields"
screen | grep -qE "Error|Reason" && ok || fail "the contact shows no error or reason"
keys Escape; wait_for "contacts who were not sent"
keys Escape; wait_for "Enter on a number lists its contacts"
keys x; wait_for "Exported 1 row"
"$BIN" --db "$DB" stats "Northwind Shop" --from "$YESTERDAY" --to "$YESTERDAY" --filter warnings --csv >"$WORK/cli-stats.csv"
cmp -s "$WORK"/stats-Northwind-Shop-"$YESTERDAY"-"$YESTERDAY"-warnings.csv "$WORK/cli-stats.csv" && ok || fail "the stats export differs from stats --csv"
keys Escape Escape Escape; sleep 0.3; keys q; wait_for "EXITED 0"
finish
