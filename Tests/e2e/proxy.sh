#!/usr/bin/env bash
# Deployment as people do it (#25): contrib/nginx.conf, as shipped (its names, ports and
# certificate paths replaced), in a real nginx from Debian with a self-signed certificate for
# 127.0.0.1, in front of `messenger-dash serve`: over HTTPS the handshake answers, a signed POST is
# applied (the signature still checked behind the proxy, over the bytes Meta signed), a bad one is
# 403, a 2 MB body is refused, several POSTs share kept-alive connections to the receiver. The
# systemd unit passes `systemd-analyze verify`, the Caddyfile `caddy validate`.
source "$(dirname "$0")/lib/common.bash"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DB="$WORK/p.db"
"$BIN" demo --db "$DB" --contacts 500 >/dev/null || { fail "demo"; finish; exit 1; }
printf 'verify-e2e\n' >"$WORK/verify"
printf 'secret-e2e\n' >"$WORK/secret"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null && ok || fail "no self-signed certificate"

"$BIN" --db "$DB" serve --listen 127.0.0.1:0 --verify-token-file "$WORK/verify" --app-secret-file "$WORK/secret" \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE=$!
started $SERVE
listening() { grep -q "^Listening on" "$WORK/serve.out"; }
wait_until "serve listens" listening
UPSTREAM=$(sed -n 's/^Listening on http:\/\/\([0-9.:]*\)\/webhook.*/\1/p' "$WORK/serve.out")

# The shipped server block, in an nginx of its own (no root, no system config, its own pid).
HTTPS=$(free_port)
mkdir -p "$WORK/nginx/logs"
sed -e "s|127.0.0.1:8080|$UPSTREAM|" -e "s|listen 443 ssl;|listen 127.0.0.1:$HTTPS ssl;|" \
  -e "s|/etc/letsencrypt/live/webhook.example.com/fullchain.pem|$WORK/cert.pem|" \
  -e "s|/etc/letsencrypt/live/webhook.example.com/privkey.pem|$WORK/key.pem|" "$ROOT/contrib/nginx.conf" >"$WORK/nginx/site.conf"
cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 256; }
http {
    access_log $WORK/nginx/logs/access.log;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    include $WORK/nginx/site.conf;
}
EOF
nginx -t -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2>"$WORK/nginx/test.txt" && ok || fail "nginx refuses the shipped block: $(cat "$WORK/nginx/test.txt")"
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2>>"$WORK/nginx/logs/error.log" &
NGINX=$!
started $NGINX
BASE="https://127.0.0.1:$HTTPS"
up() { curl -s --cacert "$WORK/cert.pem" -o /dev/null "$BASE/"; }
wait_until "nginx answers over TLS" up

[ "$(curl -s --cacert "$WORK/cert.pem" "$BASE/webhook?hub.mode=subscribe&hub.verify_token=verify-e2e&hub.challenge=77")" = 77 ] && ok || fail "the handshake through nginx"
curl -s --cacert "$WORK/cert.pem" -o /dev/null -w '%{http_code}' "$BASE/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=7" | grep -q 403 && ok || fail "a bad verify token through nginx"

# Signed opt-ins through TLS, one connection from the client (curl reuses it for every URL).
PAGE=$(sqlite3 "$DB" "SELECT page_id FROM profile WHERE name = 'Northwind Shop'")
EMAILS=($(sqlite3 "$DB" "SELECT email FROM contact ORDER BY id LIMIT 20"))
args=()
for i in $(seq 0 19); do
  body="{\"object\":\"page\",\"entry\":[{\"id\":\"$PAGE\",\"time\":4102444800000,\"messaging\":[{\"sender\":{\"id\":\"TLS$i\"},\"recipient\":{\"id\":\"$PAGE\"},\"timestamp\":4102444800000,\"optin\":{\"ref\":\"${EMAILS[$i]}\"}}]}]}"
  printf '%s' "$body" >"$WORK/body$i.json"
  sig=$(python3 -c "import hmac,hashlib,sys; print('sha256=' + hmac.new(b'secret-e2e', open(sys.argv[1],'rb').read(), hashlib.sha256).hexdigest())" "$WORK/body$i.json")
  args+=(--next -s -o /dev/null -w '%{http_code}\n' --cacert "$WORK/cert.pem" -H "X-Hub-Signature-256: $sig" -H "Content-Type: application/json" --data-binary @"$WORK/body$i.json" "$BASE/webhook")
done
codes=$(curl "${args[@]:1}")
[ "$(grep -c '^200$' <<<"$codes")" -eq 20 ] && ok || fail "signed POSTs through nginx: $codes"
applied() { [ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM contact_value WHERE value GLOB 'TLS[0-9]*'")" -eq 20 ]; }
wait_until "the 20 opt-ins are applied behind the proxy" applied
code=$(curl -s --cacert "$WORK/cert.pem" -o /dev/null -w '%{http_code}' -H "X-Hub-Signature-256: sha256=$(printf '0%.0s' $(seq 1 64))" --data-binary @"$WORK/body0.json" "$BASE/webhook")
[ "$code" = 403 ] && ok || fail "a bad signature through nginx got $code"
head -c 2000000 /dev/zero | tr '\0' 'a' >"$WORK/big"
code=$(curl -s --cacert "$WORK/cert.pem" -o /dev/null -w '%{http_code}' --data-binary @"$WORK/big" "$BASE/webhook")
[ "$code" = 413 ] && ok || fail "a 2 MB body through nginx got $code"
[ "$(curl -s --cacert "$WORK/cert.pem" "$BASE/healthz")" = "ok: ingest caught up" ] && ok || fail "/healthz through nginx from 127.0.0.1"
# nginx kept its connections to the receiver alive: fewer upstream connections than requests.
conns=$(ss -tn state established "( dport = :${UPSTREAM##*:} )" 2>/dev/null | tail -n +2 | wc -l)
[ "$conns" -ge 1 ] && [ "$conns" -le 16 ] && ok || fail "kept-alive upstream connections: $conns"
kill $NGINX; wait $NGINX 2>/dev/null

# The unit and the Caddyfile as shipped are what their tools accept.
sed 's|/usr/local/bin/messenger-dash|/bin/true|' "$ROOT/contrib/messenger-dash.service" >"$WORK/messenger-dash.service"
out=$(systemd-analyze verify "$WORK/messenger-dash.service" 2>&1 | grep -v "User=\|Group=\|No such file" || true)
[ -z "$out" ] && ok || fail "systemd-analyze: $out"
caddy validate --adapter caddyfile --config "$ROOT/contrib/Caddyfile" >"$WORK/caddy.txt" 2>&1 && ok || fail "caddy validate: $(tail -3 "$WORK/caddy.txt")"
kill -TERM $SERVE; wait $SERVE 2>/dev/null
finish
