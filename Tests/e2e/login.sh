#!/usr/bin/env bash
# Facebook Login for Devices as a person meets it (#24), against a fake Graph (Python, 127.0.0.1)
# that refuses any user call without the right appsecret_proof and whose device login waits until
# the test says what the person did: `login` on a terminal (tmux) shows a QR code that decodes to
# the code's link and Esc cancels it, leaving the terminal as it was and no database behind;
# Ctrl-C cancels it off a terminal; a declined login says so; the dashboard's login step shows the
# code and its QR code at 100x30 and 80x24, Esc goes back, and the next code logs in and shows the
# pages, with a long-lived token.
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/m.db"

cat >"$WORK/fake_graph.py" <<'PY'
import hashlib, hmac, http.server, json, os, sys, urllib.parse
log = open(sys.argv[1], "a")
person = sys.argv[2]  # a file: what the person did with the newest code (empty: nothing yet)
starts = [0]
SECRET = b"secret-e2e"
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def answer(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def refuse_without_proof(self):
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        want = hmac.new(SECRET, token.encode(), hashlib.sha256).hexdigest()
        if query.get("appsecret_proof") != [want]:
            self.answer(400, {"error": {"message": "Invalid appsecret_proof provided in the API argument", "code": 100}})
            return True
        return False
    def do_GET(self):
        log.write(json.dumps({"method": "GET", "path": self.path, "auth": self.headers.get("Authorization")}) + "\n"); log.flush()
        if self.refuse_without_proof(): return
        if self.headers.get("Authorization") != "Bearer LONG-LIVED-E2E":
            return self.answer(400, {"error": {"message": "Invalid OAuth access token.", "code": 190}})
        if "/debug_token?" in self.path:
            return self.answer(200, {"data": {"is_valid": True, "expires_at": 0, "data_access_expires_at": 1893456000, "scopes": []}})
        if "/me/permissions" in self.path:
            return self.answer(200, {"data": [{"permission": p, "status": "granted"} for p in
                                              ["pages_show_list", "pages_messaging", "pages_manage_metadata", "pages_utility_messaging"]]})
        return self.answer(200, {"data": [{"id": "5001", "name": "Shop", "tasks": ["MANAGE", "MESSAGING"], "access_token": "PAGE-TOKEN-E2E"}]})
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        log.write(json.dumps({"method": "POST", "path": self.path, "body": {k: v for k, v in body.items() if k != "client_secret"}}) + "\n"); log.flush()
        if self.path.endswith("/device/login"):
            starts[0] += 1
            return self.answer(200, {"code": f"DEV-CODE-{starts[0]}", "user_code": f"E2E0000{starts[0]}",
                                     "verification_uri": "https://www.facebook.com/device", "expires_in": "420", "interval": 1})
        if self.path.endswith("/device/login_status"):
            did = open(person).read().strip()
            if body.get("code") != f"DEV-CODE-{starts[0]}" or did == "":
                return self.answer(400, {"error": {"message": "pending", "code": 31, "error_subcode": 1349174}})
            if did == "decline":
                return self.answer(400, {"error": {"message": "declined", "code": 31, "error_subcode": 1349173}})
            return self.answer(200, {"access_token": "SHORT-LIVED-E2E", "expires_in": 3600})
        if self.path.split("?")[0].endswith("/oauth/access_token"):
            if self.refuse_without_proof(): return
            if body.get("fb_exchange_token") != "SHORT-LIVED-E2E" or body.get("grant_type") != "fb_exchange_token":
                return self.answer(400, {"error": {"message": "bad exchange", "code": 100}})
            return self.answer(200, {"access_token": "LONG-LIVED-E2E", "token_type": "bearer"})
        self.answer(404, {"error": {"message": "unknown", "code": 100}})
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
: >"$WORK/person"
python3 "$WORK/fake_graph.py" "$WORK/graph.log" "$WORK/person" >"$WORK/port" &
started $!
for _ in $(seq 1 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
printf 'CLIENT-TOKEN-E2E\n' >"$WORK/client-token"
printf 'secret-e2e\n' >"$WORK/secret"
# The settings as a person writes them; the tmux sessions read them too (XDG_CONFIG_HOME).
mkdir -p "$XDG_CONFIG_HOME/messenger-dash"
cat >"$XDG_CONFIG_HOME/messenger-dash/config.toml" <<EOF
facebook = "graph"
graph_base_url = "http://127.0.0.1:$(cat "$WORK/port")"
client_token_file = "$WORK/client-token"
app_secret_file = "$WORK/secret"
EOF
qr_link() { screen | python3 "$(dirname "$0")/lib/qr_decode.py"; }
polled() { [ "$(grep -c "\"code\": \"DEV-CODE-$1\"" "$WORK/graph.log")" -ge "$2" ]; }

# 1. `login` on a terminal: the QR code a phone scans, then Esc cancels.
dashboard "md-login-$$" 100 40 --db "'$DB'" login
wait_for "enter the code E2E00001"
contains "Esc is offered" "Esc or Ctrl-C cancels" "$(screen)"
[ "$(qr_link)" = "https://www.facebook.com/device?user_code=E2E00001" ] && ok || fail "the QR code doesn't decode to the code's link: '$(qr_link)'"
wait_until "the login polls while it waits" polled 1 1
keys Left  # an arrow key's Esc starts a sequence: not a cancel
wait_until "it keeps polling after an arrow key" polled 1 2
contains "still waiting" "Waiting" "$(screen)"
keys Escape
wait_for "EXITED 1"
contains "says it was cancelled" "cancelled: nothing was connected" "$(screen)"
grep -q "icanon" "$WORK/stty" && grep -q " echo " "$WORK/stty" && ok || fail "the terminal was left without echo or line editing: $(cat "$WORK/stty")"
[ ! -e "$DB" ] && ok || fail "a cancelled login made a database"
tmux kill-session -t "$S"

# 2. Off a terminal: the address and code on stdout (no QR code), Ctrl-C cancels.
"$BIN" --db "$DB" login </dev/null >"$WORK/login.out" 2>"$WORK/login.err" &
LOGIN=$!
started $LOGIN
codes_shown() { grep -q "enter the code E2E00002" "$WORK/login.out"; }
wait_until "the code is printed at once" codes_shown
grep -q "▀\|█" "$WORK/login.out" && fail "a QR code went to a pipe" || ok
contains "Ctrl-C is offered" "Ctrl-C cancels" "$(cat "$WORK/login.out")"
kill -INT $LOGIN
wait $LOGIN
[ $? -eq 1 ] && ok || fail "Ctrl-C: wanted exit 1"
contains "Ctrl-C says it was cancelled" "cancelled: nothing was connected" "$(cat "$WORK/login.err")"
[ ! -e "$DB" ] && ok || fail "an interrupted login made a database"

# 3. Declined on Facebook: one line, nothing stored.
echo decline >"$WORK/person"
expect 1 "a declined login" -- "$BIN" --db "$DB" login
contains "says it was declined" "declined" "$ERR"
[ ! -e "$DB" ] && ok || fail "a declined login made a database"
: >"$WORK/person"

# 4. The dashboard's login step, against the fake Graph: the code and its QR code, Esc, a new
# code, then the person logs in and the pages show.
"$BIN" demo --db "$DB" >/dev/null
for size in "100 30" "80 24"; do
  set -- $size
  dashboard "md-login-$$" "$1" "$2" --db "'$DB'"
  wait_for "Northwind Shop"
  keys n; wait_for "Name of the profile"
  keys -l "Login $1"; keys Enter; wait_for "Log in to Facebook ]"
  keys Enter; wait_for "and enter the code"
  code=$(screen | grep -o 'E2E0000[0-9]' | head -1)
  [ -n "$code" ] && ok || fail "no code on the login step"
  link=$(qr_link)
  [ "$link" = "https://www.facebook.com/device?user_code=$code" ] && ok || fail "$1x$2: the QR code doesn't decode to the link: '$link'"
  # The text left of the code, wrapped: the link is there too.
  contains "$1x$2: the direct link is there too" "user_code=$code" "$(screen | cut -c1-$(($1 - 35)) | tr -d '\n ')"
  keys Escape; wait_for "Log in to Facebook ]"
  keys Enter; wait_for "and enter the code"
  wait_gone "$code"  # a new code for a new login
  echo grant >"$WORK/person"
  wait_for "Choose the page"
  contains "$1x$2: the page from the long-lived token" "Shop" "$(screen)"
  : >"$WORK/person"
  keys C-c; wait_for "EXITED"
  tmux kill-session -t "$S"
done
[ "$(sqlite3 "$DB" "SELECT token_lifetime FROM page WHERE id = '5001'")" = "long-lived" ] && ok || fail "the page token is not marked long-lived"
grep -q '"path": "/v25.0/oauth/access_token' "$WORK/graph.log" && ok || fail "the token was not exchanged"
if grep -q "client_secret\|secret-e2e" "$WORK/graph.log"; then fail "the app secret went somewhere it shows"; else ok; fi
finish
