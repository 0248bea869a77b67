#!/usr/bin/env bash
# The stats screens in tmux on a demo database: Profiles → profile page → details → filter
# warnings → a date → the warned contacts → one contact → export. The exported CSV equals
# `stats --csv` byte for byte.
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/s.db"
"$BIN" demo --db "$DB" --contacts 500 >/dev/null || { fail "demo"; finish; exit 1; }
dashboard "md-stats-$$" 120 40 --db "'$DB'"
YESTERDAY=$(account_day -1)

wait_for "Northwind Shop"
keys / ; keys -l "shop"; keys Enter; wait_for "filter: shop"
keys Enter; wait_for "Delivered, 7 days"
keys s; wait_for "Enter on a number lists its contacts"
keys f; wait_for "Stats (warnings)"
keys D; wait_for "All 7 days"
keys j j Enter; wait_for "$YESTERDAY to $YESTERDAY"
keys Enter; wait_for "contacts who were warned (not sent) on $YESTERDAY"
keys x; wait_for "Exported"
CSV=$(ls "$WORK"/contacts-*-warning-"$YESTERDAY".csv 2>/dev/null | head -1)
[ -n "$CSV" ] && ok || fail "no exported contacts file"
"$BIN" --db "$DB" stats "Northwind Shop" --contacts warning --date "$YESTERDAY" --csv >"$WORK/cli.csv"
cmp -s "$CSV" "$WORK/cli.csv" && ok || fail "the contacts export differs from stats --csv"
keys Enter; wait_for "Data fields"
screen | grep -qE "Error|Reason" && ok || fail "the contact shows no error or reason"
keys Escape; wait_for "contacts who were warned"
keys Escape; wait_for "Enter on a number lists its contacts"
keys x; wait_for "Exported 1 row"
"$BIN" --db "$DB" stats "Northwind Shop" --from "$YESTERDAY" --to "$YESTERDAY" --filter warnings --csv >"$WORK/cli-stats.csv"
cmp -s "$WORK"/stats-Northwind-Shop-"$YESTERDAY"-"$YESTERDAY"-warnings.csv "$WORK/cli-stats.csv" && ok || fail "the stats export differs from stats --csv"
# R16: R retries the day's rate limits and unknown outcomes, after a confirmation; the day's
# warnings go down by what was sent, the sent column up by as much.
SHOP="(SELECT id FROM profile WHERE name = 'Northwind Shop')"
DAYN=$(day_number "$YESTERDAY")
retryable=$(sqlite3 "$DB" "SELECT COUNT(*) FROM send WHERE profile_id = $SHOP AND day = $DAYN AND (error_code = 613 OR status = 'unknown')")
warned=$(sqlite3 "$DB" "SELECT SUM(count) FROM daily_stat WHERE profile_id = $SHOP AND day = $DAYN AND outcome = 'warning'")
[ "$retryable" -gt 0 ] && ok || fail "the demo has no 613 on $YESTERDAY"
keys R; wait_for "Send $retryable warning"
keys y; wait_for "Retried $retryable: $retryable sent, 0 warnings"
[ "$(sqlite3 "$DB" "SELECT SUM(count) FROM daily_stat WHERE profile_id = $SHOP AND day = $DAYN AND outcome = 'warning'")" -eq $((warned - retryable)) ] \
  && ok || fail "the day's warnings did not go down by the retried"
keys R; wait_for "Nothing to retry on $YESTERDAY"
# R15: a contact whose 551 suppressed them shows it on their page, and L lifts it.
EMAIL=$(sqlite3 "$DB" "SELECT c.email FROM send s JOIN contact c ON c.id = s.contact_id JOIN suppression sp ON sp.contact_id = c.id
  WHERE s.profile_id = $SHOP AND s.day = $DAYN AND s.outcome = 'warning' ORDER BY s.at DESC, s.id DESC LIMIT 1")
[ -n "$EMAIL" ] && ok || fail "no suppressed contact among $YESTERDAY's warnings"
keys Enter; wait_for "contacts who were warned"
# Typed as fast as tmux can: the Enter that opens the row waits for the search's answer (#23).
keys /; keys -l "$EMAIL"; keys Enter Enter; wait_for "Suppressed"
contains "the contact the search found" "$EMAIL" "$(screen | head -1)"
contains "the suppression's page and code" "for Northwind Shop since" "$(screen)"
keys L; wait_for "Lifted the suppression of $EMAIL"
[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM suppression sp JOIN contact c ON c.id = sp.contact_id WHERE c.email = '$EMAIL'")" -eq 0 ] \
  && ok || fail "the suppression is still there"
keys Escape; wait_for "filter: $EMAIL (Esc clears)"
keys Escape; wait_for "page 1 · PgDn older"
keys Escape; wait_for "Enter on a number lists its contacts"
keys Escape; wait_for "Delivered, 7 days"
keys Escape; wait_for "of 3 profiles · filter: shop"
keys Escape; wait_for "3 of 3 profiles"
keys q; wait_for "EXITED 0"
finish
