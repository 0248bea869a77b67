#!/usr/bin/env bash
# The dashboard as a careful person uses it (#27), in tmux on a demo database: typing "/order" on
# Programs filters and runs nothing; `r` asks with what will go and Cancel (the default) sends
# nothing; Ctrl-C in the node editor with an unsaved edit asks, and during a run asks and stops
# after the batch, recorded; `/` filters Profiles, Programs, Stats and the contacts as you type;
# at 80x24 every key bar keeps "? help". The command line and the database confirm each.
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/c.db"
"$BIN" demo --db "$DB" --contacts 3000 >/dev/null || { fail "demo"; finish; exit 1; }
Q() { sqlite3 "$DB" "$1"; }
enrolled() { Q "SELECT enrolled FROM program WHERE name = 'Order updates'"; }
sends() { Q "SELECT count(*) FROM send"; }
before_enrolled=$(enrolled); before_sends=$(sends)

dashboard "md-careful-$$" 100 30 --db "'$DB'"
wait_for "Northwind Shop"
keys :; keys -l programs; keys Enter; wait_for "Order updates"
# "/order": every key is the filter's; `r` inside it runs nothing.
keys /; keys -l order; wait_for "/order"
screen | grep -qF "Run: " && fail "typing /order started a run" || ok
keys Enter; wait_for "filter: order (Esc clears)"
[ "$(enrolled)" = "$before_enrolled" ] && [ "$(sends)" = "$before_sends" ] && ok || fail "the filter's keys changed the database"
# r asks, naming how many would be messaged; Enter takes Cancel.
keys r; wait_for "opted-in contacts of \"Order updates\" now"
screen | grep -qF "[ Cancel ]" && ok || fail "no Cancel"
keys Enter; wait_gone "opted-in contacts of"
sleep 0.5  # a run started by mistake would have enrolled someone by now
[ "$(enrolled)" = "$before_enrolled" ] && [ "$(sends)" = "$before_sends" ] && ok || fail "Cancel sent something"
keys Escape; wait_for "3 of 3 programs"

# Ctrl-C in the node editor with an unsaved edit asks; Cancel keeps the edit.
keys /; keys -l order; keys Enter Enter; wait_for "Order updates: Messenger node"
for _ in 1 2 3 4; do keys Down; done; keys End; keys -l " Thanks!"; wait_for "(modified)"
keys C-c; wait_for "Quit and discard the unsaved edit"
keys Enter; wait_gone "Quit and discard"
wait_for "(modified)"
keys Escape; wait_for "Leave the node"
keys Tab Enter; wait_for "1 of 3 programs · filter: order"
Q "SELECT message FROM node JOIN program ON program.id = node.program_id WHERE program.name = 'Order updates'" | grep -qF "Thanks!" \
  && fail "the discarded edit was saved" || ok

keys Escape; wait_for "3 of 3 programs"
keys Escape; wait_for "3 of 3 profiles"
keys q; wait_for "EXITED 0"

# Ctrl-C during a run asks, and "Stop and quit" stops after the batch, recorded. A run the person
# can catch: Graph mode against a fake Send API that answers in 50 ms (the sandbox sends 3,000 in
# under a second).
cat >"$WORK/slow_graph.py" <<'PY'
import http.server, json, sys, time, urllib.parse
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def answer(self, obj):
        body = json.dumps(obj).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        if "/subscribed_apps" in self.path:
            return self.answer({"data": [{"id": "100000000000000", "subscribed_fields": ["messages", "message_deliveries",
                "message_reads", "messaging_optins", "messaging_postbacks", "messaging_referrals", "message_template_status_update"]}]})
        self.answer({"data": [{"id": "777", "name": "orders_v1", "language": "en_US", "status": "APPROVED"}]})
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.split("?")[0].endswith("/subscribed_apps"):
            return self.answer({"success": True})
        if self.path.endswith("/message_templates"):
            return self.answer({"id": "777", "status": "APPROVED", "category": "UTILITY"})
        time.sleep(0.05)
        psid = json.loads(raw)["recipient"]["id"]
        self.answer({"recipient_id": psid, "message_id": "m_" + psid})
class S(http.server.ThreadingHTTPServer):
    request_queue_size = 512
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$WORK/slow_graph.py" >"$WORK/port" &
started $!
for _ in $(seq 1 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
export MESSENGER_DASH_GRAPH_URL="http://127.0.0.1:$(cat "$WORK/port")"
GDB="$WORK/g.db"
G() { "$BIN" --db "$GDB" --facebook graph "$@"; }
printf '{"data":[{"id":"5001","name":"Shop","tasks":["MANAGE","MESSAGING"],"access_token":"PAGE-TOKEN-5001"}]}' >"$WORK/pages.json"
G pages import "$WORK/pages.json" >/dev/null
FIELD=$(G profiles create Shop --page 5001 | sed -n 's/^Opt-in field: //p')
python3 -c "
import sys
print('EMAIL,FIRSTNAME,' + sys.argv[1])
for i in range(6000): print('c%d@example.com,C%d,psid-%d' % (i, i, i))" "$FIELD" >"$WORK/g.csv"
G contacts import "$WORK/g.csv" >/dev/null
G programs create Orders >/dev/null
G programs node Orders --profile Shop --utility --message "Your order @FIRSTNAME@ has shipped today." >/dev/null
G programs activate Orders >/dev/null
gsends() { sqlite3 "$GDB" "SELECT count(*) FROM send WHERE outcome = 'sent'"; }
dashboard "md-careful-$$" 100 30 --db "'$GDB'" --facebook graph
wait_for "Shop"
keys :; keys -l programs; keys Enter; wait_for "Orders"
keys r; wait_for "Send to 6,000 opted-in contacts of \"Orders\" now"
keys Tab Enter; wait_for "contacts ·"
keys C-c; wait_for "A run is in progress"
screen | grep -qF "EXITED" && fail "Ctrl-C quit during the run" || ok
keys y; wait_for "Stopping the run after its current batch"
# A Graph batch is 2 s of messages (the journal bounds what a kill leaves unknown): the run
# records the one in flight, then the dashboard quits.
exited() { screen | grep -qF "EXITED 0"; }
for _ in $(seq 1 300); do exited && break; sleep 0.1; done
exited && ok || { fail "the dashboard didn't quit once the batch was recorded"; screen >&2; }
[ "$(sqlite3 "$GDB" "SELECT count(*) FROM send WHERE outcome = 'sending'")" = 0 ] && ok || fail "claims left unrecorded after Stop and quit"
[ "$(sqlite3 "$GDB" "SELECT count(*) FROM program_run WHERE finished_at IS NULL")" = 0 ] && ok || fail "the run's lease was left open"
sent=$(gsends)
[ "$sent" -gt 0 ] && [ "$sent" -lt 6000 ] && ok || fail "sent $sent: the run should have stopped part way"
left=$(sqlite3 "$GDB" "SELECT count(*) FROM enrolment WHERE finished_at IS NULL")
[ $((sent + left)) = 6000 ] && ok || fail "sent $sent and $left left enrolled: not 6,000"

# `/` on Stats and on the contacts, as you type; 80x24 key bars end in "? help".
dashboard "md-careful-$$" 80 24 --db "'$DB'"
wait_for "Northwind Shop"
screen | tail -1 | grep -qF "? help" && ok || fail "the Profiles key bar lost ? help: $(screen | tail -1)"
keys /; keys -l "shop"; keys Enter Enter; wait_for "Page connection"
screen | tail -1 | grep -qF "? help" && ok || fail "the profile page's key bar lost ? help"
keys s; wait_for "Enter on a number"
screen | tail -1 | grep -qF "? help" && ok || fail "the stats key bar lost ? help: $(screen | tail -1)"
TODAY=$(account_day 0)
keys /; keys -l "$TODAY"; wait_for "/$TODAY"
keys Enter; wait_for "1 of 7 days · filter: $TODAY"
keys Enter; wait_for "contacts who were sent on $TODAY"
screen | tail -1 | grep -qF "? help" && ok || fail "the contacts key bar lost ? help: $(screen | tail -1)"
EMAIL=$(Q "SELECT email FROM contact c JOIN send s ON s.contact_id = c.id JOIN profile p ON p.id = s.profile_id WHERE p.name = 'Northwind Shop' AND s.outcome = 'sent' AND s.day = (SELECT max(day) FROM send) ORDER BY s.at DESC, s.id DESC LIMIT 1 OFFSET 3")
keys /; keys -l "${EMAIL%@*}"; wait_for "/${EMAIL%@*}"
wait_for "$EMAIL"
keys C-c; wait_for "EXITED 0"
finish
