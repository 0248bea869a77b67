#!/usr/bin/env bash
# Power loss can't send twice: a run's claim is durable before its messages leave. Under strace,
# between the claim's write to the `-wal` file and the first POST to the Send API the thread that
# committed it runs an fsync or fdatasync of that file (under synchronous=NORMAL there was none: a power cut could roll
# the claim back while its messages had gone, and the next run would send them again).
source "$(dirname "$0")/lib/common.bash"
command -v strace >/dev/null || { fail "strace is not installed (make deps installs it)"; finish; exit 1; }
DB="$WORK/d.db"
M() { "$BIN" --db "$DB" "$@"; }
export MESSENGER_DASH_NOW=2026-11-25T10:00:00Z

cat >"$WORK/fake_send.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        out = json.dumps({"recipient_id": body["recipient"]["id"], "message_id": "m_" + body["recipient"]["id"]}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out))); self.end_headers(); self.wfile.write(out)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$WORK/fake_send.py" >"$WORK/port" &
FAKE=$!
started $FAKE
for _ in $(seq 1 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT=$(cat "$WORK/port")

printf '{"data":[{"id":"3001","name":"Shop","tasks":["MANAGE","MESSAGING"],"access_token":"PAGE-TOKEN-DURABLE"}]}' >"$WORK/accounts.json"
M pages import "$WORK/accounts.json" >/dev/null
FIELD=$(M profiles create Shop --page 3001 | sed -n 's/^Opt-in field: //p')
{ echo "EMAIL,FIRSTNAME,$FIELD"; for i in $(seq 1 40); do echo "c$i@example.com,C$i,P$i"; done; } >"$WORK/c.csv"
M contacts import "$WORK/c.csv" >/dev/null
M programs create Orders >/dev/null
M programs node Orders --profile Shop --utility --message "Hi @FIRSTNAME@, your order has shipped." >/dev/null
M programs activate Orders >/dev/null

export MESSENGER_DASH_GRAPH_URL="http://127.0.0.1:$PORT"
expect 0 "a Graph run under strace" -- strace -f -y -s 80 -e trace=pwrite64,write,fsync,fdatasync,sendto,sendmsg,writev -o "$WORK/trace" \
  "$BIN" --db "$DB" --facebook graph programs run Orders
contains "all sent" "40 sent" "$OUT"
python3 - "$WORK/trace" "$DB-wal" <<'PY' && ok || fail "no sync of the WAL between the claim and the first send"
import re, sys
trace, wal = sys.argv[1], sys.argv[2]
lines = open(trace, errors="replace").read().splitlines()
first_post = next(i for i, l in enumerate(lines) if "POST /" in l and "/messages" in l)
writes = [i for i, l in enumerate(lines[:first_post]) if re.search(r"^\d+\s+(pwrite64|write)\(\d+<" + re.escape(wal) + ">", l)]
assert writes, "the claim was never written to the WAL before the first send"
claim = writes[-1]
# The commit itself must sync: the same thread that wrote the claim (a checkpoint on another
# connection may sync the WAL too, but only by chance of timing).
tid = lines[claim].split()[0]
syncs = [i for i in range(claim, first_post)
         if lines[i].split()[0] == tid and re.search(r"(fsync|fdatasync)\(\d+<" + re.escape(wal) + ">", lines[i])]
print(f"claim written at trace line {claim} by thread {tid}, first POST at {first_post}, its WAL syncs between: {len(syncs)}")
assert syncs
PY
[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM send WHERE outcome = 'sent'")" -eq 40 ] && ok || fail "sends not recorded"
finish
