# Helpers for the end-to-end scripts: run the real binary, check exit codes and output.
set -uo pipefail
BIN=${1:?usage: $0 PATH-TO-messenger-dash}
# Files the scripts write (tokens, secrets, CSVs) are private, as a careful person keeps secrets:
# a secret others can read gets a warning (#26), which hostile.sh checks on a file it opens up.
umask 077
WORK=$(mktemp -d)
# Every script stops what it starts, also when it fails: processes it registers with `started`,
# its tmux session, and any copy of the binary still working in $WORK (a background `$BIN` a
# failed step left behind), which also fails the script.
STARTED=()
S=""
# What a helper library must undo before the rest (a database cluster: lib/postgres.bash).
ON_EXIT=()
started() { STARTED+=("$1"); }
cleanup() {
  local status=$?
  for hook in "${ON_EXIT[@]}"; do "$hook"; done
  for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null; done
  [ -n "$S" ] && tmux kill-session -t "$S" 2>/dev/null
  # What was just stopped may still be exiting (a server closing its sockets): wait up to 5 s for
  # it to be gone, so only a process that is really still running fails the script.
  local left
  for _ in $(seq 1 50); do
    left=$(pgrep -f "^$BIN .*$WORK" || true)
    [ -z "$left" ] && break
    sleep 0.1
  done
  left=$(for pid in $left; do kill -0 "$pid" 2>/dev/null && echo "$pid"; done)
  if [ -n "$left" ]; then
    echo "FAIL: left running: $(ps -o pid=,args= -p $(echo $left | tr ' ' ',') | cut -c1-120)" >&2
    kill $left 2>/dev/null; sleep 0.2; kill -9 $left 2>/dev/null
    status=1
  fi
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT
# "Today" is MESSENGER_DASH_NOW when it is set (`make test-dates` runs the scripts at chosen
# instants; the product and the demo honour it), else the machine's clock; the account's zone is
# MESSENGER_DASH_TZ when set, else UTC. A script that needs another instant pins its own.
export LANG=C.UTF-8 TZ=UTC MESSENGER_DASH_TZ=${MESSENGER_DASH_TZ:-UTC} XDG_CONFIG_HOME="$WORK/config" XDG_DATA_HOME="$WORK/data" XDG_STATE_HOME="$WORK/state"
unset MESSENGER_DASH_DB MESSENGER_DASH_FACEBOOK
[ -n "${MESSENGER_DASH_NOW:-}" ] && export MESSENGER_DASH_NOW || unset MESSENGER_DASH_NOW
# account_day [OFFSET]: the account's date (YYYY-MM-DD) OFFSET days from today; day_number DATE:
# the day as the database stores it (days since 1970-01-01).
account_day() {
  python3 - "${1:-0}" <<'PY'
import datetime as d, os, sys, zoneinfo
now = os.environ.get("MESSENGER_DASH_NOW")
t = d.datetime.fromisoformat(now.replace("Z", "+00:00")) if now else d.datetime.now(d.timezone.utc)
local = t.astimezone(zoneinfo.ZoneInfo(os.environ["MESSENGER_DASH_TZ"])).date()
print((local + d.timedelta(days=int(sys.argv[1]))).isoformat())
PY
}
day_number() { python3 -c "import datetime as d, sys; print((d.date.fromisoformat(sys.argv[1]) - d.date(1970, 1, 1)).days)" "$1"; }
# now_millis [SECONDS]: the clock the product reads, in milliseconds, SECONDS from now.
now_millis() {
  python3 - "${1:-0}" <<'PY'
import datetime as d, os, sys
now = os.environ.get("MESSENGER_DASH_NOW")
t = d.datetime.fromisoformat(now.replace("Z", "+00:00")) if now else d.datetime.now(d.timezone.utc)
print(int((t.timestamp() + float(sys.argv[1])) * 1000))
PY
}
passed=0
failed=0

ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# expect CODE DESCRIPTION -- COMMAND...: runs it, keeps stdout in $OUT and stderr in $ERR.
expect() {
  local code=$1 what=$2; shift 3
  OUT=$("$@" 2>"$WORK/stderr"); local got=$?
  ERR=$(cat "$WORK/stderr")
  if [ "$got" -ne "$code" ]; then fail "$what: exit $got, wanted $code (stderr: $ERR)"; return 1; fi
  if [ "$code" -ne 0 ]; then
    local lines; lines=$(printf '%s' "$ERR" | grep -c '' || true)
    if [ "$code" -eq 1 ] && [ "$lines" -ne 1 ]; then fail "$what: wanted one line on stderr, got $lines: $ERR"; return 1; fi
  fi
  ok
}

# check DESCRIPTION PYTHON-EXPRESSION: evaluates with `out` = stdout parsed as JSON.
check_json() {
  if OUTPUT="$OUT" python3 -c "import json,os,sys; out=json.loads(os.environ['OUTPUT']); sys.exit(0 if ($2) else 1)"; then ok
  else fail "$1: $2 on $OUT"; fi
}

contains() { if grep -qF -- "$2" <<<"$3"; then ok; else fail "$1: '$2' not in: $3"; fi; }

same_db() { # same_db DESCRIPTION BEFORE-DUMP: the database didn't change
  if [ "$(sqlite3 "$DB" .dump)" == "$2" ]; then ok; else fail "$1: the database changed"; fi
}

# read_body PAGE PSID WATERMARK: a webhook POST's body, PSID having read PAGE's messages up to WATERMARK.
read_body() {
  printf '%s' '{"object":"page","entry":[{"id":"'"$1"'","time":'"$3"',"messaging":[{"sender":{"id":"'"$2"'"},"recipient":{"id":"'"$1"'"},"timestamp":'"$3"',"read":{"watermark":'"$3"'}}]}]}'
}
# signature BODY: the X-Hub-Signature-256 Meta sends with BODY, for the app secret "secret-e2e".
signature() {
  python3 -c "import hmac,hashlib,sys; print('sha256=' + hmac.new(b'secret-e2e', sys.argv[1].encode(), hashlib.sha256).hexdigest())" "$1"
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# The dashboard in tmux: dashboard SESSION WIDTH HEIGHT ARGS... starts the binary with a pinned
# environment (TERM as tmux sets it, UTF-8) and prints "EXITED <status>" when it ends.
dashboard() {
  S=$1; local w=$2 h=$3; shift 3
  tmux kill-session -t "$S" 2>/dev/null
  tmux new-session -d -s "$S" -x "$w" -y "$h" "env TERM=tmux-256color LANG=C.UTF-8 TZ=UTC MESSENGER_DASH_TZ='$MESSENGER_DASH_TZ' ${MESSENGER_DASH_NOW:+MESSENGER_DASH_NOW='$MESSENGER_DASH_NOW'} ${MESSENGER_DASH_GRAPH_URL:+MESSENGER_DASH_GRAPH_URL='$MESSENGER_DASH_GRAPH_URL'} XDG_CONFIG_HOME='$XDG_CONFIG_HOME' XDG_DATA_HOME='$XDG_DATA_HOME' XDG_STATE_HOME='$XDG_STATE_HOME' '$BIN' $*; echo EXITED \$?; stty -a > '$WORK/stty'; sleep 60"
}
screen() { tmux capture-pane -p -t "$S"; }
keys() { tmux send-keys -t "$S" "$@"; }
# wait_for TEXT: until the screen shows TEXT (10 s at most); the screen is printed if it never does.
wait_for() {
  for _ in $(seq 1 100); do screen | grep -qF -- "$1" && { ok; return 0; }; sleep 0.1; done
  fail "the screen never showed '$1'"; screen >&2; return 1
}
# wait_gone TEXT: until the screen no longer shows TEXT (10 s at most).
wait_gone() {
  for _ in $(seq 1 100); do screen | grep -qF -- "$1" || { ok; return 0; }; sleep 0.1; done
  fail "the screen still shows '$1'"; screen >&2; return 1
}
# wait_until DESCRIPTION COMMAND...: until COMMAND succeeds (10 s at most). COMMAND runs anew each
# time: give it a function or a test on files, not a "$(…)" that the shell expands once.
wait_until() {
  local what=$1; shift
  for _ in $(seq 1 100); do "$@" && { ok; return 0; }; sleep 0.1; done
  fail "never: $what"; return 1
}
