#!/usr/bin/env bash
# The real Facebook side through the binary: `--facebook graph` against a fake Graph API (Python,
# 127.0.0.1, a free port): pages connect with paging, a utility template submitted, refreshed and
# sent through the Send API, 190 marking the page broken; then the webhook receiver: handshake, a
# signed delivery, a signed template status update, a bad signature. No token
# or secret ever appears in what the tool prints.
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/m.db"
M() { "$BIN" --db "$DB" "$@"; }
G() { "$BIN" --db "$DB" --facebook graph "$@"; }

cat >"$WORK/fake_graph.py" <<'PY'
import http.server, json, sys, threading, urllib.parse
log = open(sys.argv[1], "a")
subscribed = {}  # page id -> the fields its POST /subscribed_apps gave
polls = [0]  # device login polls so far
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def answer(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        log.write(json.dumps({"method": "GET", "path": self.path, "auth": self.headers.get("Authorization")}) + "\n"); log.flush()
        if "/message_templates?" in self.path:
            if self.headers.get("Authorization") != "Bearer PAGE-TOKEN-E2E-5001":
                return self.answer(400, {"error": {"message": "Invalid OAuth access token.", "code": 190}})
            return self.answer(200, {"data": [{"id": "777", "name": "orders_v1", "language": "en_US", "status": "APPROVED"}]})
        if "/subscribed_apps" in self.path:
            page = self.path.split("/")[2]
            return self.answer(200, {"data": [{"id": "100000000000000", "name": "messenger-dash", "subscribed_fields": subscribed.get(page, [])}]})
        if self.headers.get("Authorization") != "Bearer USER-TOKEN-E2E":
            return self.answer(400, {"error": {"message": "Invalid OAuth access token.", "code": 190}})
        if "/debug_token?" in self.path:
            return self.answer(200, {"data": {"is_valid": True, "expires_at": 0, "data_access_expires_at": 1893456000, "scopes": []}})
        if "/me/permissions" in self.path:
            return self.answer(200, {"data": [{"permission": p, "status": "granted"} for p in
                                              ["pages_show_list", "pages_messaging", "pages_manage_metadata", "pages_utility_messaging"]]})
        port = self.server.server_address[1]
        if "after=" not in self.path:
            return self.answer(200, {"data": [{"id": "5001", "name": "Shop", "tasks": ["MANAGE", "MESSAGING"], "access_token": "PAGE-TOKEN-E2E-5001"}],
                                     "paging": {"next": f"http://127.0.0.1:{port}/v25.0/me/accounts?fields=id,name,tasks,access_token&after=X"}})
        return self.answer(200, {"data": [{"id": "5002", "name": "Ads", "tasks": ["ADVERTISE"], "access_token": "PAGE-TOKEN-E2E-5002"}]})
    def do_DELETE(self):
        log.write(json.dumps({"method": "DELETE", "path": self.path, "auth": self.headers.get("Authorization")}) + "\n"); log.flush()
        subscribed.pop(self.path.split("/")[2], None)
        self.answer(200, {"success": True})
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        form = self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
        body = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()} if form else json.loads(raw)
        log.write(json.dumps({"method": "POST", "path": self.path, "auth": self.headers.get("Authorization"), "body": body}) + "\n"); log.flush()
        if self.path.endswith("/device/login"):
            return self.answer(200, {"code": "DEV-CODE", "user_code": "E2E12345", "verification_uri": "https://www.facebook.com/device",
                                     "expires_in": 420, "interval": "1"})
        if self.path.endswith("/device/login_status"):
            polls[0] += 1
            if polls[0] == 1:
                return self.answer(400, {"error": {"message": "pending", "code": 31, "error_subcode": 1349174}})
            return self.answer(200, {"access_token": "USER-TOKEN-E2E", "expires_in": 5183999})
        if self.path.split("?")[0].endswith("/subscribed_apps"):
            subscribed[self.path.split("/")[2]] = body["subscribed_fields"].split(",")
            return self.answer(200, {"success": "true"})
        if self.path.endswith("/message_templates"):
            return self.answer(200, {"id": "777", "status": "PENDING", "category": "UTILITY"})
        psid = body["recipient"]["id"]
        if psid == "P190":
            return self.answer(400, {"error": {"message": "Error validating access token", "code": 190}})
        if psid == "PESC":
            return self.answer(400, {"error": {"message": "bad \u001b[2J\u001b]52;c;QUFB\u0007 \u009b31m thing", "code": 1234}})
        self.answer(200, {"recipient_id": psid, "message_id": "m_" + psid})
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
if len(sys.argv) > 3:  # HTTPS with this certificate and key; HTTP/1.1 only (no ALPN offered)
    import ssl
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(sys.argv[2], sys.argv[3])
    s.socket = tls.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$WORK/fake_graph.py" "$WORK/graph.log" >"$WORK/port" &
FAKE=$!
started $FAKE
for _ in $(seq 1 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
export MESSENGER_DASH_GRAPH_URL="http://127.0.0.1:$(cat "$WORK/port")"

printf 'USER-TOKEN-E2E\n' >"$WORK/user-token"
printf 'WRONG\n' >"$WORK/bad-token"
expect 1 "pages connect needs graph" -- M pages connect --token-file "$WORK/user-token"
expect 1 "a bad --facebook value" -- M --facebook facebook pages list
contains "names the choices" "sandbox or graph" "$ERR"
expect 1 "a refused user token" -- G pages connect --token-file "$WORK/bad-token"
contains "the refusal gives the reason" "190" "$ERR"
expect 0 "pages connect follows the paging" -- G pages connect --token-file "$WORK/user-token"
contains "stored both pages" "Stored 2 pages" "$OUT"
contains "the Advertiser page can't link" "your role is Advertiser" "$OUT"
contains "the page token is masked" "PAGE…(19 characters)" "$OUT"
all="$OUT$ERR"
expect 0 "pages list" -- G pages list --json
all="$all$OUT$ERR"
if grep -q "TOKEN-E2E" <<<"$all"; then fail "a token was printed: $all"; else ok; fi
[ "$(grep -c '"GET", "path": "/v25.0/me/accounts' "$WORK/graph.log")" -eq 3 ] && ok || fail "expected 3 GETs of me/accounts (1 refused + 2 pages): $(cat "$WORK/graph.log")"
# Facebook Login for Devices: the code on stdout, one pending poll, then the pages are stored.
printf 'CLIENT-TOKEN-E2E\n' >"$WORK/client-token"
expect 1 "login without the client token" -- G login
contains "says where Meta shows it" "Advanced › Security › Client token" "$ERR"
MESSENGER_DASH_CLIENT_TOKEN_FILE="$WORK/client-token" expect 0 "login from the terminal" -- G login
contains "the address and the code" "open https://www.facebook.com/device and enter the code E2E12345" "$OUT"
contains "the pages it stored" "Stored 2 pages" "$OUT"
grep -q '"path": "/v25.0/device/login", "auth": "Bearer 100000000000000|CLIENT-TOKEN-E2E"' "$WORK/graph.log" && ok || fail "device login without the app's client token"
[ "$(grep -c '/device/login_status' "$WORK/graph.log")" -eq 2 ] && ok || fail "expected 2 polls (pending, then the token)"
# #24: the token was looked up (no app secret here) and its permissions read before the pages.
grep -q '"path": "/v25.0/debug_token?input_token=USER-TOKEN-E2E"' "$WORK/graph.log" && ok || fail "the token was not looked up"
grep -q '"path": "/v25.0/me/permissions"' "$WORK/graph.log" && ok || fail "the permissions were not read"

FIELD=$(G profiles create Shop --page 5001 | sed -n 's/^Opt-in field: //p')
# Creating the profile subscribed its page to the app's webhooks, with the page's token.
grep -q '"method": "POST", "path": "/v25.0/5001/subscribed_apps", "auth": "Bearer PAGE-TOKEN-E2E-5001"' "$WORK/graph.log" && ok || fail "the page was not subscribed"
expect 0 "profiles show says the page is subscribed" -- G profiles show Shop --json
check_json "subscribed, the 7 fields" "out['webhooks']['subscribed'] and len(out['webhooks']['fields']) == 7 and out['webhooks']['error'] is None"
expect 0 "profiles subscribe subscribes again" -- G profiles subscribe Shop
contains "says which fields" "message_deliveries" "$OUT"
printf 'EMAIL,FIRSTNAME,%s\na@example.com,Ann,P1\nb@example.com,Bob,P2\nc@example.com,Cy,\ne@example.com,Esc,PESC\n' "$FIELD" >"$WORK/c.csv"
G contacts import "$WORK/c.csv" >/dev/null
G programs create Orders >/dev/null
expect 0 "a utility node submits its template" -- G programs node Orders --profile Shop --utility --message "Hi @FIRSTNAME@, your order has shipped."
contains "Meta keeps it pending" "Submitted orders_v1 PENDING" "$OUT"
python3 - "$WORK/graph.log" <<'PY' && ok || fail "the template POST is not as Meta takes it"
import json, sys
t = [json.loads(l) for l in open(sys.argv[1]) if '/message_templates"' in l][0]
assert t["path"] == "/v25.0/5001/message_templates" and t["auth"] == "Bearer PAGE-TOKEN-E2E-5001", t
b = t["body"]
assert b["name"] == "orders_v1" and b["language"] == "en_US" and b["category"] == "UTILITY" and b["parameter_format"] == "NAMED", b
assert b["components"] == [{"type": "BODY", "text": "Hi {{firstname}}, your order has shipped.",
                            "example": {"body_text_named_params": [{"param_name": "firstname", "example": "Ann"}]}}], b
PY
expect 1 "a pending template can't be activated" -- G programs activate Orders
contains "says how to check" "programs templates refresh" "$ERR"
expect 0 "templates refresh asks Graph" -- G programs templates refresh Orders
contains "approved" "orders_v1 PENDING → APPROVED" "$OUT"
G programs activate Orders >/dev/null
expect 0 "a run through the Send API" -- G programs run Orders
contains "two sent" "2 sent" "$OUT"
posts=$(grep -c '/messages"' "$WORK/graph.log")
[ "$posts" -eq 3 ] && ok || fail "expected 3 POSTs, got $posts"
# Facebook's error text with escapes (clear screen, OSC 52 clipboard, C1 CSI) never reaches a terminal raw.
noraw() { if printf '%s' "$2" | LC_ALL=C grep -q $'[\x1b\x07]\|\xc2\x9b'; then fail "$1: raw control characters printed"; else ok; fi; }
noraw "the run summary" "$OUT$ERR"
contains "the reason is still shown" "1234 Graph API error" "$OUT"
expect 0 "stats table" -- G stats Shop
noraw "the stats table" "$OUT"
expect 0 "contacts behind the warnings" -- G stats Shop --contacts warning --date "$(account_day 0)"
contains "lists the contact" "e@example.com" "$OUT"
# Counted under its code (#28); the contact's row keeps Facebook's own words, made safe.
contains "Facebook's words on the row" "1234 Graph API error: bad" "$OUT"
noraw "the contacts table" "$OUT"
expect 0 "profile show" -- G profiles show Shop
noraw "profiles show" "$OUT"
python3 - "$WORK/graph.log" <<'PY' && ok || fail "the Send API requests are not as Facebook takes them"
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1]) if '/messages"' in l]
for p in posts:
    assert p["path"] == "/v25.0/5001/messages", p
    assert p["auth"] == "Bearer PAGE-TOKEN-E2E-5001", p
    assert p["body"]["messaging_type"] == "UTILITY" and "tag" not in p["body"], p
    t = p["body"]["message"]["template"]
    assert t["name"] == "orders_v1" and t["language"] == {"code": "en_US"}, p
assert sorted(p["body"]["message"]["template"]["components"][0]["parameters"][0]["text"] for p in posts) == ["Ann", "Bob", "Esc"]
assert all(p["body"]["message"]["template"]["components"][0]["parameters"][0]["parameter_name"] == "firstname" for p in posts)
PY
[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM send WHERE message_id IN ('m_P1','m_P2')")" -eq 2 ] && ok || fail "message ids not recorded"
if grep -q "TOKEN-E2E" <<<"$OUT$ERR"; then fail "a token was printed by the run"; else ok; fi

# Over HTTPS (#29), to a server with a certificate of its own that offers no HTTP/2: trusted only
# through graph_ca_file; the Send API then goes over HTTP/1.1, told apart in the handshake.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
python3 "$WORK/fake_graph.py" "$WORK/tls.log" "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/tls-port" 2>"$WORK/tls.err" &
started $!
for _ in $(seq 1 50); do [ -s "$WORK/tls-port" ] && break; sleep 0.1; done
TLS_URL="https://127.0.0.1:$(cat "$WORK/tls-port")"
printf 'EMAIL,FIRSTNAME,%s\nf@example.com,Fay,P3\n' "$FIELD" >"$WORK/f.csv"
G contacts import "$WORK/f.csv" >/dev/null
MESSENGER_DASH_GRAPH_URL="$TLS_URL" expect 1 "a run over HTTPS to a server not trusted stops" -- G programs run Orders
contains "the run says what to set" "run stopped: not sent: the server's TLS certificate is not trusted: set graph_ca_file" "$ERR"
contains "so does the contact's row" "graph_ca_file" "$(sqlite3 "$DB" "SELECT reason FROM send WHERE psid = 'P3'")"
[ "$(sqlite3 "$DB" "SELECT connection_error IS NULL FROM page WHERE id = '5001'")" = "1" ] && ok || fail "the page was marked broken for a certificate"
[ ! -s "$WORK/tls.log" ] && ok || fail "a request reached a server whose certificate wasn't trusted: $(cat "$WORK/tls.log")"
printf 'EMAIL,FIRSTNAME,%s\ng@example.com,Gil,P4\n' "$FIELD" >"$WORK/g.csv"
G contacts import "$WORK/g.csv" >/dev/null
MESSENGER_DASH_GRAPH_URL="$TLS_URL" MESSENGER_DASH_GRAPH_CA_FILE="$WORK/cert.pem" expect 0 "the same run trusting its CA file" -- G programs run Orders
contains "sent over HTTPS" "1 sent" "$OUT"
[ "$(grep -c '"path": "/v25.0/5001/messages"' "$WORK/tls.log")" -eq 1 ] && ok || fail "expected one Send API POST over HTTPS: $(cat "$WORK/tls.log")"
[ "$(sqlite3 "$DB" "SELECT message_id FROM send WHERE psid = 'P4'")" = "m_P4" ] && ok || fail "the message id over HTTPS was not recorded"
MESSENGER_DASH_GRAPH_CA_FILE=/etc/hostname expect 1 "a CA file that isn't PEM" -- G programs run Orders
contains "one line naming it" "graph_ca_file \"/etc/hostname\" is not a readable file of PEM certificates" "$ERR"

# 190: the page's connection is marked broken and the run stops with the reason.
printf 'EMAIL,%s\nd@example.com,P190\n' "$FIELD" >"$WORK/d.csv"
G contacts import "$WORK/d.csv" >/dev/null
expect 1 "a run that meets 190 stops with one line" -- G programs run Orders
contains "the run says why it stopped" "190 page access token invalid" "$ERR"
expect 0 "profile show" -- G profiles show Shop
contains "the page connection is broken" "BROKEN" "$OUT"

# The webhook receiver.
printf 'verify-e2e\n' >"$WORK/verify"
printf 'secret-e2e\n' >"$WORK/secret"
expect 2 "webhook needs its options" -- M webhook --listen 127.0.0.1:0
expect 1 "webhook refuses a bad address" -- M webhook --listen localhost --verify-token-file "$WORK/verify" --app-secret-file "$WORK/secret"
# The binary itself in the background (not the function M: killing its subshell would leave it).
"$BIN" --db "$DB" webhook --listen 127.0.0.1:0 --verify-token-file "$WORK/verify" --app-secret-file "$WORK/secret" >"$WORK/hook.out" 2>"$WORK/hook.err" &
HOOK=$!
started $HOOK
for _ in $(seq 1 100); do grep -q Listening "$WORK/hook.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^Listening on \(http[^ ]*\).*/\1/p' "$WORK/hook.out")
[ -n "$URL" ] && ok || fail "the webhook never said where it listens: $(cat "$WORK/hook.err")"
[ "$(curl -s "$URL?hub.mode=subscribe&hub.verify_token=verify-e2e&hub.challenge=42")" = "42" ] && ok || fail "handshake"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=42")" = "403" ] && ok || fail "bad verify token"
AT=$(sqlite3 "$DB" "SELECT MAX(at) FROM send WHERE psid = 'P1'")
printf '{"object":"page","entry":[{"id":"5001","time":%s,"messaging":[{"sender":{"id":"P1"},"recipient":{"id":"5001"},"timestamp":%s,"delivery":{"watermark":%s}}]}]}' \
  $((AT + 9000)) $((AT + 9000)) $((AT + 1000)) >"$WORK/delivery.json"
SIG=$(python3 -c "import hmac,hashlib,sys; print('sha256=' + hmac.new(b'secret-e2e', open(sys.argv[1],'rb').read(), hashlib.sha256).hexdigest())" "$WORK/delivery.json")
before=$(sqlite3 "$DB" .dump)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Hub-Signature-256: sha256=0000000000000000000000000000000000000000000000000000000000000000" --data-binary @"$WORK/delivery.json" "$URL")
[ "$code" = "403" ] && ok || fail "a bad signature got $code"
same_db "a bad signature records nothing" "$before"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Hub-Signature-256: $SIG" --data-binary @"$WORK/delivery.json" "$URL")
[ "$code" = "200" ] && ok || fail "a signed delivery got $code"
# The POST was answered from the spool; the ingester applies it behind (#25): /healthz says when.
caught_up() { curl -s "${URL%/webhook}/healthz" | grep -q "caught up"; }
wait_until "the delivery is ingested" caught_up
[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM send WHERE psid = 'P1' AND delivered_at IS NOT NULL")" -eq 1 ] && ok || fail "delivery not recorded"
# What a replay may not change: every record but the time the page last heard from Facebook,
# which a replay moves, as it is an event received (doctor shows it; #24).
records() { sqlite3 "$DB" .dump | grep -v '^INSERT INTO page VALUES\|^INSERT INTO webhook_spool'; sqlite3 "$DB" "SELECT id, name, tasks, access_token, connection_error, restricted FROM page ORDER BY id"; }
same_records() { if [ "$(records)" == "$2" ]; then ok; else fail "$1: the records changed"; fi; }
[ -n "$(sqlite3 "$DB" "SELECT last_event_at FROM page WHERE id = '5001'")" ] && ok || fail "the page's last event was not kept"
after=$(records)
curl -s -o /dev/null -H "X-Hub-Signature-256: $SIG" --data-binary @"$WORK/delivery.json" "$URL"
wait_until "the replay is ingested" caught_up
same_records "a replay changes nothing" "$after"
# Meta's message_template_status_update: the template is paused, and the program can't send.
NOWMS=$(now_millis 60)
printf '{"object":"page","entry":[{"id":"5001","time":%s,"changes":[{"field":"message_template_status_update","value":{"event":"PAUSED","message_template_id":777,"message_template_name":"orders_v1","message_template_language":"en_US","reason":"LOW_QUALITY"}}]}]}' \
  "$NOWMS" >"$WORK/template.json"
SIG=$(python3 -c "import hmac,hashlib,sys; print('sha256=' + hmac.new(b'secret-e2e', open(sys.argv[1],'rb').read(), hashlib.sha256).hexdigest())" "$WORK/template.json")
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Hub-Signature-256: $SIG" --data-binary @"$WORK/template.json" "$URL")
[ "$code" = "200" ] && ok || fail "a signed template status update got $code"
wait_until "the template status is ingested" caught_up
[ "$(sqlite3 "$DB" "SELECT status || ' ' || reason FROM message_template WHERE name = 'orders_v1'")" = "PAUSED LOW_QUALITY" ] && ok || fail "template status not recorded"
after=$(records)
curl -s -o /dev/null -H "X-Hub-Signature-256: $SIG" --data-binary @"$WORK/template.json" "$URL"
wait_until "the replayed status is ingested" caught_up
same_records "a replayed status update changes nothing" "$after"
expect 1 "a paused template doesn't run" -- G programs run Orders
contains "says it is paused" "orders_v1 PAUSED" "$ERR"
kill $HOOK 2>/dev/null
if grep -q "secret-e2e\|verify-e2e" "$WORK/hook.out" "$WORK/hook.err"; then fail "the webhook logged a secret"; else ok; fi
finish
