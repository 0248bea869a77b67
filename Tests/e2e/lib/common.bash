# Helpers for the end-to-end scripts: run the real binary, check exit codes and output.
set -uo pipefail
BIN=${1:?usage: $0 PATH-TO-messenger-dash}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
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
