# Helpers for the end-to-end scripts: run the real binary, check exit codes and output.
set -uo pipefail
BIN=${1:?usage: $0 PATH-TO-messenger-dash}
WORK=$(mktemp -d)
# Every script stops what it starts, also when it fails: processes it registers with `started`,
# its tmux session, and any copy of the binary still working in $WORK (a background `$BIN` a
# failed step left behind), which also fails the script.
STARTED=()
S=""
started() { STARTED+=("$1"); }
cleanup() {
  local status=$?
  for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null; done
  [ -n "$S" ] && tmux kill-session -t "$S" 2>/dev/null
  local left; left=$(pgrep -f "^$BIN .*$WORK" || true)
  if [ -n "$left" ]; then
    echo "FAIL: left running: $(ps -o pid=,args= -p $(echo $left | tr ' ' ',') | cut -c1-120)" >&2
    kill $left 2>/dev/null; sleep 0.2; kill -9 $left 2>/dev/null
    status=1
  fi
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT
export LANG=C.UTF-8 TZ=UTC MESSENGER_DASH_TZ=UTC XDG_CONFIG_HOME="$WORK/config" XDG_DATA_HOME="$WORK/data"
unset MESSENGER_DASH_DB MESSENGER_DASH_FACEBOOK MESSENGER_DASH_NOW
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

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# The dashboard in tmux: dashboard SESSION WIDTH HEIGHT ARGS... starts the binary with a pinned
# environment (TERM as tmux sets it, UTF-8) and prints "EXITED <status>" when it ends.
dashboard() {
  S=$1; local w=$2 h=$3; shift 3
  tmux kill-session -t "$S" 2>/dev/null
  tmux new-session -d -s "$S" -x "$w" -y "$h" "env TERM=tmux-256color LANG=C.UTF-8 TZ=UTC MESSENGER_DASH_TZ=UTC XDG_CONFIG_HOME='$XDG_CONFIG_HOME' XDG_DATA_HOME='$XDG_DATA_HOME' '$BIN' $*; echo EXITED \$?; stty -a > '$WORK/stty'; sleep 60"
}
screen() { tmux capture-pane -p -t "$S"; }
keys() { tmux send-keys -t "$S" "$@"; }
# wait_for TEXT: until the screen shows TEXT (10 s at most); the screen is printed if it never does.
wait_for() {
  for _ in $(seq 1 100); do screen | grep -qF -- "$1" && { ok; return 0; }; sleep 0.1; done
  fail "the screen never showed '$1'"; screen >&2; return 1
}
