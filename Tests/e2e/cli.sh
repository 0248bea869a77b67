#!/usr/bin/env bash
# The command line as SPEC.md specifies it, on a fresh database: pages, profiles, contacts,
# opt-ins, programs, a run, receipts, stats and drill-down, refusals and bad input.
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/m.db"
M() { "$BIN" --db "$DB" "$@"; }
export MESSENGER_DASH_NOW=2026-11-25T10:00:00Z

expect 1 "list on a missing database" -- M profiles list
contains "missing database says so" "no database" "$ERR"

# A PostgreSQL address (#30) whose server is not there: one line, and never made a file.
pushd "$WORK" >/dev/null
expect 1 "a postgresql:// database with no server" -- "$BIN" --db "postgresql://dash@127.0.0.1:1/marketing" profiles list
contains "it says it can't connect" "can't connect to postgresql://dash@127.0.0.1:1/marketing" "$ERR"
[ ! -e postgresql: ] && ok || fail "a folder named postgresql: was made"
popd >/dev/null
expect 1 "a password in the address" -- env MESSENGER_DASH_DB="postgresql://dash:hunter2@db/marketing" "$BIN" profiles list
contains "the password goes in a passfile" "PGPASSFILE" "$ERR"
if grep -q hunter2 <<<"$ERR$OUT"; then fail "the password was repeated"; else ok; fi

cat >"$WORK/accounts.json" <<'JSON'
{"data":[
 {"id":"2001","name":"Shop 店","tasks":["MANAGE","MESSAGING"],"access_token":"EAA-PLANTED-TOKEN-1"},
 {"id":"2002","name":"Ads","tasks":["ADVERTISE","ANALYZE"],"access_token":"EAA-PLANTED-TOKEN-2"},
 {"id":"2003","name":"Events","tasks":["CREATE_CONTENT","MESSAGING"],"access_token":"EAA-PLANTED-TOKEN-3"}
],"paging":{"cursors":{"before":"x","after":"y"}}}
JSON
expect 0 "pages import" -- M pages import "$WORK/accounts.json"
expect 0 "pages list --json" -- M pages list --json
check_json "pages and roles" "sorted((p['id'],p['role']) for p in out)==[('2001','Admin'),('2002','Advertiser'),('2003','Editor')]"
check_json "unlinked pages say so" "all(p['linked_profile'] is None for p in out)"
if grep -q PLANTED <<<"$OUT"; then fail "a token was printed"; else ok; fi
# The sandbox logs in too, at once and the same way each time (#24).
expect 0 "login (sandbox)" -- M login
contains "the address and the sandbox's code" "open https://www.facebook.com/device and enter the code SANDBOX1" "$OUT"
contains "logged in" "Logged in (sandbox)" "$OUT"

before=$(sqlite3 "$DB" .dump)
expect 1 "an Advertiser page can't be linked" -- M profiles create "Ads profile" --page 2002
contains "the refusal says why" "Advertiser" "$ERR"
expect 1 "an unknown page" -- M profiles create "X" --page 9999
expect 1 "an empty name" -- M profiles create "   " --page 2001
expect 1 "a 101-character name" -- M profiles create "$(printf 'a%.0s' {1..101})" --page 2001
expect 1 "an escape sequence in a name" -- M profiles create $'bad\e[31m' --page 2001
same_db "refused creates changed nothing" "$before"

expect 0 "create the shop profile" -- M profiles create "Shop 東京 🛍" --page 2001
expect 0 "create the events profile, disabled" -- M profiles create "Events" --page 2003 --disabled
expect 1 "a name taken ignoring case" -- M profiles create "EVENTS" --page 2001
expect 0 "profiles list --json" -- M profiles list --json
check_json "two profiles" "len(out)==2 and {p['status'] for p in out}=={'enabled','disabled'}"
check_json "opt-in fields" "all(p['optin_field'].startswith('FBOPTIN_') for p in out)"
FIELD=$(OUTPUT="$OUT" python3 -c "import json,os; print([p for p in json.loads(os.environ['OUTPUT']) if p['page_id']=='2001'][0]['optin_field'])")
expect 0 "profiles show --json" -- M profiles show "shop 東京 🛍" --json
check_json "the m.me opt-in link beside the plugin code" "out['optin_link'] == 'https://m.me/2001?ref=@EMAIL@'"
check_json "the page connection in the screen's word" "out['page_connection'] == 'connected'"
check_json "the opt-in code" "'fb-send-to-messenger' in out['optin_code'] and 'page_id=\"2001\"' in out['optin_code'] and 'data-ref' in out['optin_code']"

printf 'EMAIL,FIRSTNAME,ORDERNUMBER,%s\r\nann@example.com,Ann,A-1,psid-ann\r\nbob@example.com,,B-2,psid-b99551\r\ncat@example.com,Cat,C-3,\r\ndan@example.com,Dan,D-4,\r\n' "$FIELD" >"$WORK/contacts.csv"
expect 0 "contacts import" -- M contacts import "$WORK/contacts.csv"
contains "import summary" "2 opt-in values set" "$OUT"
before=$(sqlite3 "$DB" .dump)
printf 'EMAIL,CITY\nx@example.com,"Oslo\n' >"$WORK/bad.csv"
expect 1 "an unclosed quote" -- M contacts import "$WORK/bad.csv"
printf 'EMAIL,CITY\nx@example.com,Oslo\nX@example.com,Rome\n' >"$WORK/dup.csv"
expect 1 "a duplicate email" -- M contacts import "$WORK/dup.csv"
expect 1 "a missing file" -- M contacts import "$WORK/none.csv"
same_db "refused imports changed nothing" "$before"

cat >"$WORK/optins.jsonl" <<JSON
{"object":"page","entry":[{"id":"2001","time":1764064000000,"messaging":[{"sender":{"id":"psid-cat"},"recipient":{"id":"2001"},"timestamp":1764064000000,"optin":{"ref":"cat@example.com"}}]}]}
JSON
expect 0 "optins ingest" -- M optins ingest "$WORK/optins.jsonl"
contains "one opt-in" "Opted in 1 contact" "$OUT"
printf '{"object":"page","entry":[{"id":"2001","time":5,"messaging":[{"sender":{"id":"psid-dan-mme"},"recipient":{"id":"2001"},"timestamp":5,"referral":{"ref":"dan@example.com","source":"SHORTLINK","type":"OPEN_THREAD"}}]}]}\n' >"$WORK/mme.jsonl"
expect 0 "an m.me link's referral opts in" -- M optins ingest "$WORK/mme.jsonl"
contains "dan opted in by m.me" "Opted in 1 contact" "$OUT"
sqlite3 "$DB" "DELETE FROM contact_value WHERE value = 'psid-dan-mme'; DELETE FROM optin_time WHERE contact_id = (SELECT id FROM contact WHERE email = 'dan@example.com')"
expect 0 "optins ingest again" -- M optins ingest "$WORK/optins.jsonl"
contains "changes nothing the second time" "Opted in 0 contacts" "$OUT"
before=$(sqlite3 "$DB" .dump)
{ cat "$WORK/optins.jsonl"; echo '{"object":"page","entry":[{"id":"7777","time":1,"messaging":[{"sender":{"id":"z"},"recipient":{"id":"7777"},"timestamp":1,"optin":{"ref":"dan@example.com"}}]}]}'; } >"$WORK/badpage.jsonl"
expect 1 "an unknown page refuses the file" -- M optins ingest "$WORK/badpage.jsonl"
printf '%s\n{"object":"page",' "$(cat "$WORK/optins.jsonl")" >"$WORK/malformed.jsonl"
expect 1 "a malformed line refuses the file" -- M optins ingest "$WORK/malformed.jsonl"
same_db "refused ingests changed nothing" "$before"

expect 0 "programs create" -- M programs create "Orders"
expect 1 "a disabled profile can't be picked" -- M programs node Orders --profile Events --utility --message "Your order shipped"
expect 1 "a promotional message needs confirmation" -- M programs node Orders --profile "Shop 東京 🛍" --utility --message "Order shipped! 20% off with coupon X"
contains "flag shows its words" "coupon" "$ERR"
contains "and Meta's reason" "TAG_SHOULD_BE_MARKETING" "$ERR"
expect 1 "a parameter may not start the template" -- M programs node Orders --profile "Shop 東京 🛍" --utility --message "@FIRSTNAME@, your order has shipped today."
contains "the fix is named" "put words before @FIRSTNAME@" "$ERR"
expect 1 "an unknown field" -- M programs node Orders --profile "Shop 東京 🛍" --utility --message "Order @NOPE@ shipped"
expect 1 "an unclosed @" -- M programs node Orders --profile "Shop 東京 🛍" --utility --message "Order @ORDERNUMBER shipped"
expect 2 "message and message-file together" -- M programs node Orders --profile "Shop 東京 🛍" --utility --message a --message-file b
expect 2 "--utility and --tag together" -- M programs node Orders --profile "Shop 東京 🛍" --utility --tag Account_update --message a
expect 1 "a retired tag can't be picked (2026)" -- M programs node Orders --profile "Shop 東京 🛍" --tag post_purchase_update --message "Hi @FIRSTNAME@, order @ORDERNUMBER@ has shipped."
contains "names the date" "2026-04-27" "$ERR"
expect 1 "a bad language code" -- M programs node Orders --profile "Shop 東京 🛍" --utility --language english --message "Hi there, your order has shipped."
expect 1 "a draft program doesn't run" -- M programs run Orders
expect 1 "activation needs a node" -- M programs activate Orders
expect 0 "set the node" -- M programs node Orders --profile "Shop 東京 🛍" --utility --message "Hi @FIRSTNAME@, order @ORDERNUMBER@ has shipped."
contains "submitted and approved" "Submitted orders_v1 APPROVED" "$OUT"
expect 0 "activate" -- M programs activate Orders
expect 0 "programs list --json" -- M programs list --json
check_json "program row" "out==[{'name':'Orders','status':'active','profile':'Shop 東京 🛍','tag':None,'enrolled':0,'kind':'utility','template_status':'APPROVED','tag_retired':False,'schedule':None,'next_run':None}]"
expect 0 "programs show --json" -- M programs show orders --json
check_json "the template" "out['kind']=='utility' and out['tag'] is None and out['template']=={'name':'orders_v1','language':'en_US','version':1,'status':'APPROVED','reason':None,'sending_version':1} and out['message'].startswith('Hi @FIRSTNAME@')"
expect 0 "templates refresh (the sandbox decides at once)" -- M programs templates refresh
contains "nothing pending" "Asked about 0 pending templates" "$OUT"

export MESSENGER_DASH_SANDBOX_LOG="$WORK/sandbox.log"
expect 0 "programs run" -- M programs run Orders
contains "run summary" "2 sent, 2 warnings" "$OUT"
expect 0 "programs run again sends nothing" -- M programs run Orders
contains "nothing twice" "0 sent" "$OUT"
if [ "$(wc -l <"$WORK/sandbox.log")" -eq 3 ]; then ok; else fail "the sandbox was asked $(wc -l <"$WORK/sandbox.log") times, wanted 3"; fi
if [ "$(grep -c '"template":"orders_v1"' "$WORK/sandbox.log")" -eq 3 ]; then ok; else fail "every message went as the utility template"; fi
unset MESSENGER_DASH_SANDBOX_LOG

T=$(python3 -c "import datetime as d; print(int(d.datetime(2026,11,25,10,0,1,tzinfo=d.timezone.utc).timestamp()*1000))")
cat >"$WORK/receipts.jsonl" <<JSON
{"object":"page","entry":[{"id":"2001","time":$T,"messaging":[{"sender":{"id":"psid-ann"},"recipient":{"id":"2001"},"timestamp":$T,"delivery":{"mids":[],"watermark":$T}}]}]}
{"object":"page","entry":[{"id":"2001","time":$T,"messaging":[{"sender":{"id":"psid-cat"},"recipient":{"id":"2001"},"timestamp":$T,"read":{"watermark":$T}}]}]}
JSON
expect 0 "receipts ingest" -- M receipts ingest "$WORK/receipts.jsonl"
contains "two delivered, one read" "Marked 2 messages delivered and 1 read" "$OUT"
expect 0 "receipts ingest again" -- M receipts ingest "$WORK/receipts.jsonl"
contains "changes nothing" "Marked 0 messages delivered and 0 read" "$OUT"

expect 0 "stats --json" -- M stats "Shop 東京 🛍" --json
check_json "seven days, newest first" "len(out['days'])==7 and out['days'][0]['date']=='2026-11-25' and out['days'][6]['date']=='2026-11-19'"
check_json "today's numbers" "out['days'][0]['sent']==2 and out['days'][0]['delivered']==2 and out['days'][0]['warnings']==2"
check_json "reasons" "sorted(r['count'] for r in out['days'][0]['reasons'])==[1,1]"
expect 0 "stats one day" -- M stats "Shop 東京 🛍" --from 2026-11-25 --to 2026-11-25 --filter warnings --json
check_json "one day, the filter" "len(out['days'])==1 and out['filter']=='warnings'"
expect 0 "stats --csv" -- M stats "Shop 東京 🛍" --filter sent --csv
contains "csv header" "date,sent" "$OUT"
expect 0 "contacts behind the warnings" -- M stats "Shop 東京 🛍" --contacts warning --date 2026-11-25 --json
check_json "warned contacts" "sorted(c['email'] for c in out)==['bob@example.com','dan@example.com'] and all(c['reason'] for c in out)"
expect 0 "contacts behind delivered" -- M stats "Shop 東京 🛍" --contacts delivered --date 2026-11-25 --csv
contains "csv of contacts" "ann@example.com" "$OUT"
expect 1 "a day outside the 7 days" -- M stats "Shop 東京 🛍" --from 2026-11-01
expect 2 "a malformed day" -- M stats "Shop 東京 🛍" --from 25/11/2026
expect 2 "a bad filter" -- M stats "Shop 東京 🛍" --filter everything
expect 2 "contacts without a date" -- M stats "Shop 東京 🛍" --contacts sent
expect 1 "an unknown profile" -- M stats "Nobody"

before=$(sqlite3 "$DB" .dump)
expect 1 "delete a profile used by an active program" -- M profiles delete "Shop 東京 🛍" --yes
contains "names the program" '"Orders"' "$ERR"
expect 1 "disable it" -- M profiles disable "Shop 東京 🛍"
expect 1 "delete without --yes and no terminal" -- M profiles delete Events </dev/null
same_db "refusals changed nothing" "$before"
expect 0 "pause" -- M programs pause Orders
expect 0 "delete both at once" -- M profiles delete "Shop 東京 🛍" events --yes
contains "says how many records went" "Deleted 2 profiles and 4 usage records" "$OUT"
expect 0 "profiles list after delete" -- M profiles list --json
check_json "none left" "out==[]"

# The seed's tagged flow before Meta retired the tags, and what a user meets after (R12).
DB="$WORK/tags.db"
export MESSENGER_DASH_NOW=2026-03-20T10:00:00Z
expect 0 "pages import (tags)" -- M pages import "$WORK/accounts.json"
expect 0 "a profile (tags)" -- M profiles create Shop --page 2001
expect 0 "a contact (tags)" -- M contacts import "$WORK/contacts.csv"
expect 0 "programs create (tags)" -- M programs create "Order news"
expect 0 "a tag can be picked before 2026-04-27" -- M programs node "Order news" --profile Shop --tag Post_purchase_update --message "Hi @FIRSTNAME@, your order has shipped."
expect 0 "and activated" -- M programs activate "Order news"
expect 0 "and run" -- M programs run "Order news"
export MESSENGER_DASH_NOW=2026-11-25T10:00:00Z
expect 1 "from 2026-04-27 a tagged program doesn't run" -- M programs run "Order news"
contains "the tag, the date and the command" "tag Post_purchase_update was retired 2026-04-27 by Meta; convert it to a utility template with \`messenger-dash programs convert 'Order news'\`" "$ERR"
expect 0 "the list flags it" -- M programs list
contains "flagged" "⚑ Post_purchase_update retired 2026-04-27" "$OUT"
expect 0 "convert" -- M programs convert "Order news"
contains "converted and approved" "Submitted order_news_v1 APPROVED" "$OUT"
expect 0 "show after converting" -- M programs show "Order news" --json
check_json "kept the text" "out['kind']=='utility' and out['message']=='Hi @FIRSTNAME@, your order has shipped.' and out['template']['status']=='APPROVED'"
rolled=$(sqlite3 "$DB" "SELECT SUM(count) FROM daily_stat")
expect 0 "runs again" -- M programs run "Order news"
contains "and compacts what is older than 90 days (March's sends)" "Compacted history before 2026-08-28: 4 send rows, 4 enrolments" "$OUT"
[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM send WHERE day < 20693")" -eq 0 ] && ok || fail "old send rows remain"
[ "$(sqlite3 "$DB" "SELECT SUM(count) FROM daily_stat")" -ge "$rolled" ] && ok || fail "the daily statistics lost rows"
expect 0 "compact finds nothing more" -- M compact
contains "says what it kept" "Kept 90 days (from 2026-08-28): deleted 0 send rows" "$OUT"
MESSENGER_DASH_RETENTION_DAYS=3 expect 1 "a retention under 8 days is refused" -- M compact
expect 1 "converting twice" -- M programs convert "Order news"
expect 0 "a second program" -- M programs create "Second news"
M programs node "Second news" --profile Shop --utility --message "Hi @FIRSTNAME@, a second update has arrived." >/dev/null
M programs activate "Second news" >/dev/null
expect 0 "programs run --all runs every active program at once" -- M programs run --all --reenrol
contains "the first" "Order news: Enrolled" "$OUT"
contains "the second" "Second news: Enrolled" "$OUT"
expect 2 "a name and --all together" -- M programs run "Order news" --all

expect 2 "an unknown command" -- M frobnicate
expect 2 "a missing argument" -- M profiles create
expect 0 "help" -- "$BIN" --help
contains "help lists commands" "profiles" "$OUT"
contains "the demo's programs counted right" "3 programs" "$OUT"
# #27: the rough edges, each with its own line.
expect 2 "help for a command that isn't there" -- "$BIN" help bogus
contains "names the commands" 'no command "bogus" here; the commands are: demo, pages' "$ERR"
expect 2 "help for a subcommand that isn't there" -- "$BIN" help programs bogus
expect 0 "help for one that is" -- "$BIN" help contacts fields delete
expect 2 "a day February doesn't have" -- M stats Shop --from 2026-02-30
contains "says why" '"2026-02-30" is no day: February 2026 has 28 days' "$ERR"
expect 2 "a thirteenth month" -- M stats Shop --from 2026-13-01
contains "says why" "there is no month 13" "$ERR"
printf 'EMAIL,CITY\na@example.com,Oslo\nb@example.com,"Bergen\nc@example.com,Tromsø\n' >"$WORK/open-quote.csv"
expect 1 "a quote opened on line 3 and never closed" -- M contacts import "$WORK/open-quote.csv"
contains "names the line it opened on" "line 3: a quoted field opened here is never closed" "$ERR"
printf 'EMAIL\nsolo@example.com\n' >"$WORK/one.csv"
expect 0 "one contact" -- M contacts import "$WORK/one.csv"
contains "in the singular" "Imported 1 contact: 1 new" "$OUT"
long=$(printf 'x%.0s' {1..80})
printf '{"data":[{"id":"7001","name":"%s","tasks":["MANAGE","MESSAGING"]}]}' "$long" >"$WORK/long-page.json"
M pages import "$WORK/long-page.json" >/dev/null
expect 0 "pages list into a pipe" -- M pages list
grep -qF "$long" <<<"$OUT" && ok || fail "a piped table cut a cell: $OUT"
expect 0 "contacts warnings, as the statistics call them" -- M stats Shop --contacts warnings --date "$(account_day 0)"

finish
