#!/usr/bin/env bash
# Plain mode in tmux at 80x24: --plain, MESSENGER_DASH_PLAIN=1 and plain = true each give an
# ASCII screen without colour, the focus written as ">" with the terminal's cursor on it, and the
# screens still work (profile page, stats, back, quit). A bad MESSENGER_DASH_PLAIN is one line.
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/p.db"
"$BIN" demo --db "$DB" --contacts 300 >/dev/null || { fail "demo"; finish; exit 1; }

ascii_only() { if screen | LC_ALL=C grep -q '[^ -~]'; then fail "$1: non-ASCII on screen: $(screen | LC_ALL=C grep '[^ -~]' | head -2)"; else ok; fi; }
no_colour() {
  if tmux capture-pane -p -e -t "$S" | grep -qE $'\e\\[([0-9]*;)*(3[0-7]|4[0-7]|38|48|9[0-7]|10[0-7])[;m]'; then fail "$1: colour on screen"; else ok; fi
}
# cursor_on_row Y: the terminal's cursor is on row Y (asked again on each call, so wait_until polls it).
cursor_on_row() { [ "$(tmux display -p -t "$S" '#{cursor_y}')" == "$1" ]; }
walk() { # walk NAME: the screens a user goes through, checked on each
  wait_for "Northwind Support"
  ascii_only "$1 profiles"; no_colour "$1 profiles"
  contains "$1: the focus in words" "> Northwind Events" "$(screen)"
  # The terminal's cursor sits on the focused row (tmux reports where it is and whether it shows).
  [ "$(tmux display -p -t "$S" '#{cursor_flag} #{cursor_y}')" == "1 2" ] && ok || fail "$1: cursor at $(tmux display -p -t "$S" '#{cursor_flag} #{cursor_y}')"
  keys j
  wait_until "$1: the cursor follows the focus" cursor_on_row 3
  keys Enter; wait_for "Profiles > Northwind Shop"
  ascii_only "$1 profile page"
  keys s; wait_for "Enter on a number lis"
  ascii_only "$1 stats"; no_colour "$1 stats"
  keys Escape; wait_for "w webhooks"
  keys Escape; wait_for "3 of 3 profiles"
  keys q; wait_for "EXITED 0"
  tmux kill-session -t "$S"
}

dashboard "md-plain-$$" 80 24 --plain --db "'$DB'"
walk "--plain"
# The environment (a wrapper that sets it and execs the binary) and the config file.
REAL=$BIN
printf '#!/bin/sh\nMESSENGER_DASH_PLAIN=1 exec "%s" "$@"\n' "$REAL" >"$WORK/plain-env"
chmod +x "$WORK/plain-env"
BIN="$WORK/plain-env" dashboard "md-plain-env-$$" 80 24 --db "'$DB'"
walk "MESSENGER_DASH_PLAIN=1"
mkdir -p "$XDG_CONFIG_HOME/messenger-dash"
echo 'plain = true' >"$XDG_CONFIG_HOME/messenger-dash/config.toml"
dashboard "md-plain-cfg-$$" 80 24 --db "'$DB'"
walk "plain = true"
rm "$XDG_CONFIG_HOME/messenger-dash/config.toml"

MESSENGER_DASH_PLAIN=yes expect 1 "a bad MESSENGER_DASH_PLAIN" -- "$REAL" --db "$DB" profiles list
contains "says what it takes" "MESSENGER_DASH_PLAIN must be 1 or 0" "$ERR"
finish
