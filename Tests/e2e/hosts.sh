#!/usr/bin/env bash
# Two hosts on one PostgreSQL database (#30), as a team runs them: host A runs `serve` (the
# webhook and the scheduler), host B runs `programs run` and posts a webhook to A across the
# network, and a dashboard on a third machine (this one, which also holds the database) sees what
# both commit. Each host is a network namespace (`ip netns`) on a bridge with this machine, as
# hosts on one LAN, with its own address, its own host name (`unshare --uts`) and its own state
# folder, so the database sees two hosts, not two processes. The namespaces, the bridge and the
# cluster are removed when the script ends, also when it fails.
source "$(dirname "$0")/lib/common.bash"
source "$(dirname "$0")/lib/postgres.bash"
for tool in ip unshare curl; do
  command -v $tool >/dev/null || { fail "$tool is not installed (iproute2, util-linux): run make deps"; finish; exit 1; }
done
TAG=$$
NETS=()
BRIDGE="mdbr$TAG"
hosts_stop() {
  local ns
  for ns in "${NETS[@]}"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  # A veth pair goes with its namespace end; this end is removed in case it never got there.
  ip link del "mda$TAG" 2>/dev/null
  ip link del "mdb$TAG" 2>/dev/null
  ip link del "$BRIDGE" 2>/dev/null
  return 0
}
ON_EXIT+=(hosts_stop)
ip link add "$BRIDGE" type bridge && ip addr add 10.231.0.1/24 dev "$BRIDGE" && ip link set "$BRIDGE" up \
  || { fail "can't make the hosts' bridge (needs root and CAP_NET_ADMIN)"; finish; exit 1; }
# host NAME N: a namespace whose address on the bridge is 10.231.0.N.
host() {
  local ns="md-$1-$TAG" link="md$1$TAG"
  ip netns add "$ns" || return 1
  NETS+=("$ns")
  ip link add "$link" type veth peer name "${link}p" || return 1
  ip link set "${link}p" netns "$ns" && ip link set "$link" master "$BRIDGE" && ip link set "$link" up || return 1
  ip -n "$ns" addr add "10.231.0.$2/24" dev "${link}p" && ip -n "$ns" link set "${link}p" up && ip -n "$ns" link set lo up
}
host a 2 || { fail "can't make host a's network namespace"; finish; exit 1; }
host b 3 || { fail "can't make host b's network namespace"; finish; exit 1; }
# on NAME COMMAND…: COMMAND on host NAME, under its own host name and state folder.
on() {
  local name=$1; shift
  mkdir -p "$WORK/state-$name"
  ip netns exec "md-$name-$TAG" unshare --uts -- env XDG_STATE_HOME="$WORK/state-$name" \
    sh -c 'hostname "$0" && exec "$@"' "host-$name" "$@"
}

PG_LISTEN=10.231.0.1 PG_CLIENTS=10.231.0.0/24 pg_start || { finish; exit 1; }
pg "CREATE DATABASE md" >/dev/null
HERE="${PG_ADDRESS/\/postgres\?//md?}"
LAN="${HERE/@127.0.0.1:/@10.231.0.1:}"
q() { "${PSQL[@]/\/postgres\?//md?}" -c "$1"; }
[ "$(on a hostname)" = host-a ] && [ "$(on b hostname)" = host-b ] && [ "$(hostname)" != host-a ] && ok \
  || fail "the hosts don't have their own names: $(on a hostname) $(on b hostname)"
expect 0 "the demo from this machine" -- "$BIN" --db "$HERE" demo --contacts 300
RUNS0=$(q "SELECT coalesce(max(id), 0) FROM program_run")
hosts_ran() { q "SELECT string_agg(DISTINCT host, ',' ORDER BY host) FROM program_run WHERE id > $RUNS0"; }
expect 0 "a schedule" -- on b "$BIN" --db "$LAN" programs schedule "Order updates" --every 15m
q "UPDATE program_schedule SET next_at = 0" >/dev/null

# Host A: serve on its own address. Its scheduler runs the due program as host-a.
printf 'verify-e2e\n' >"$WORK/verify"
printf 'secret-e2e\n' >"$WORK/secret"
on a "$BIN" --db "$LAN" serve --listen 10.231.0.2:0 --verify-token-file "$WORK/verify" --app-secret-file "$WORK/secret" \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE=$!
started $SERVE
listening() { grep -q '^Listening on http://10.231.0.2:' "$WORK/serve.out"; }
wait_until "host a's serve listens on its address" listening
ran() { grep -q 'scheduled run of "Order updates": [1-9][0-9]* sent' "$WORK/serve.err"; }
for _ in 1 2; do ran && break; sleep 5; done
wait_until "host a's scheduler runs the due program" ran
[ "$(hosts_ran)" = host-a ] && ok || fail "the scheduled run is not host a's: $(hosts_ran)"
ls -d "$WORK"/state-a/messenger-dash/pg-10.231.0.1-*-md.spool >/dev/null 2>&1 && ok || fail "no spool in host a's state folder"

# This machine's dashboard, on the stats of the profile both hosts send for.
dashboard "md-hosts-$$" 100 30 --db "'$HERE'"
wait_for "Northwind Shop"
keys : ; keys "stats Northwind Shop" Enter
wait_for "filter: all"
TODAY=$(account_day 0)
today_sent() { "$BIN" --db "$HERE" stats "Northwind Shop" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['days'][0]['sent'])"; }
screen_sent() { screen | awk -v d="$TODAY" '$1 == d { print $2; exit }'; }
follows() { [ "$(screen_sent)" = "$(today_sent)" ]; }
wait_until "the dashboard shows host a's run" follows
before=$(today_sent)

# Host B: a run of its own, while host A's serve holds the webhook.
expect 0 "a run on host b" -- on b "$BIN" --db "$LAN" programs run "Order updates" --reenrol
added=$(sed -n 's/.*processed [0-9]*: \([0-9]*\) sent.*/\1/p' <<<"$OUT")
[ -n "$added" ] && [ "$added" -gt 0 ] && ok || fail "host b's run sent nothing: $OUT"
[ "$(hosts_ran)" = host-a,host-b ] && ok || fail "the runs' hosts: $(hosts_ran)"
[ "$(today_sent)" -eq $((before + added)) ] && ok || fail "today's sent: $before + $added != $(today_sent)"
wait_until "the dashboard follows host b's commit without a key pressed" follows

# Host B posts a read receipt to host A's webhook across the LAN; A applies it.
PAGE=104000000000001
PSID=$(q "SELECT psid FROM send WHERE outcome = 'sent' AND read_at IS NULL AND page_id = '$PAGE' ORDER BY id DESC LIMIT 1")
unread() { q "SELECT count(*) FROM send WHERE psid = '$PSID' AND outcome = 'sent' AND read_at IS NULL"; }
[ -n "$PSID" ] && [ "$(unread)" -gt 0 ] && ok || fail "no unread message to read"
URL=$(sed -n 's/^Listening on \(http[^ ]*\).*/\1/p' "$WORK/serve.out")
WM=$(now_millis 60)
BODY=$(read_body "$PAGE" "$PSID" "$WM")
SIG=$(signature "$BODY")
[ "$(on b curl -s -m 5 -o /dev/null -w '%{http_code}' -H "X-Hub-Signature-256: $SIG" --data-binary "$BODY" "$URL")" = 200 ] \
  && ok || fail "host b's POST to host a's webhook is not answered 200"
read_applied() { [ "$(unread)" -eq 0 ]; }
for _ in 1 2; do read_applied && break; sleep 5; done
wait_until "host a applies the read host b posted" read_applied

kill -TERM $SERVE
for _ in $(seq 1 100); do kill -0 $SERVE 2>/dev/null || break; sleep 0.1; done
kill -0 $SERVE 2>/dev/null && fail "host a's serve did not stop on SIGTERM" || ok
[ "$(q "SELECT count(*) FROM program_run WHERE finished_at IS NULL")" = 0 ] && ok || fail "a run's lease is still held"
keys : ; keys q Enter
wait_for "EXITED 0"
finish
