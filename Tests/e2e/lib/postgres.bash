# A private PostgreSQL cluster for an end-to-end script (#30), as Tests/StoreTestSupport's
# PostgresCluster makes one for the unit tests: initdb in a temporary folder, the server on
# 127.0.0.1 on a free port with password logins (scram-sha-256, the password in a passfile), as
# `nobody` when the script runs as root (PostgreSQL refuses root). Stopped when the script ends,
# also when it fails (ON_EXIT); if the script is killed, the server gets SIGKILL with it.
# pg_start sets PG_ADDRESS (postgresql://messenger@127.0.0.1:PORT/postgres?passfile=…) and PSQL.
# For other hosts (hosts.sh): PG_LISTEN, more addresses to listen on (comma-separated; each gets
# a passfile line), and PG_CLIENTS, the network they connect from (a pg_hba.conf line, scram).
pg_start() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$bin" ] || { fail "PostgreSQL is not installed (/usr/lib/postgresql): run make deps"; return 1; }
  PG_DIR=$(mktemp -d /tmp/md-e2e-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown nobody "$PG_DIR"
    as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
  fi
  local password
  password=$(python3 -c "import secrets; print(secrets.token_hex(16))")
  printf '%s\n' "$password" >"$PG_DIR/password"
  [ ${#as[@]} -gt 0 ] && chown nobody "$PG_DIR/password"
  "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U messenger --pwfile="$PG_DIR/password" --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --no-instructions >"$PG_DIR/initdb.log" 2>&1 \
    || { fail "initdb: $(tail -3 "$PG_DIR/initdb.log")"; return 1; }
  rm -f "$PG_DIR/password"
  local listen=127.0.0.1 extra others=${PG_LISTEN:-}
  others=${others//,/ }
  for extra in $others; do listen+=",$extra"; done
  [ -n "${PG_CLIENTS:-}" ] && printf 'host all all %s scram-sha-256\n' "$PG_CLIENTS" >>"$PG_DIR/data/pg_hba.conf"
  local port
  port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  PG_PASSFILE="$WORK/pgpass"
  printf '127.0.0.1:%s:*:messenger:%s\n' "$port" "$password" >"$PG_PASSFILE"
  for extra in $others; do printf '%s:%s:*:messenger:%s\n' "$extra" "$port" "$password" >>"$PG_PASSFILE"; done
  PG_PORT=$port
  chmod 600 "$PG_PASSFILE"
  PG_SERVER=("${as[@]}" setpriv --pdeathsig KILL -- "$bin/postgres" -D "$PG_DIR/data" -p "$port" -k "$PG_DIR" \
    -c listen_addresses="$listen")
  ON_EXIT+=(pg_stop)
  PG_ADDRESS="postgresql://messenger@127.0.0.1:$port/postgres?passfile=$PG_PASSFILE"
  PSQL=("$bin/psql" "$PG_ADDRESS" -X -q -A -t -v ON_ERROR_STOP=1)
  pg_resume
}
# pg_halt: the server stops (a fast shutdown), its data kept; pg_resume starts it again on the
# same port, returning once it takes connections (30 s at most).
pg_halt() {
  kill -INT "$PG_PID" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || return 0; sleep 0.1; done
  fail "the e2e cluster did not stop"
}
pg_resume() {
  "${PG_SERVER[@]}" >>"$PG_DIR/server.log" 2>&1 &
  PG_PID=$!
  for _ in $(seq 1 300); do
    "${PSQL[@]}" -c "SELECT 1" >/dev/null 2>&1 && return 0
    kill -0 "$PG_PID" 2>/dev/null || break
    sleep 0.1
  done
  fail "the e2e cluster didn't start: $(tail -3 "$PG_DIR/server.log")"
  return 1
}
# pg SQL: one statement's rows, |-separated.
pg() { "${PSQL[@]}" -c "$1"; }
# A fast shutdown (SIGINT: open sessions end), then its folder goes.
pg_stop() {
  [ -n "${PG_PID:-}" ] || return 0
  kill -INT "$PG_PID" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$PG_PID" 2>/dev/null
  rm -rf "$PG_DIR"
  PG_PID=""
}
