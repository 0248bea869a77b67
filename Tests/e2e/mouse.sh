#!/usr/bin/env bash
# The mouse in tmux, as a terminal sends it (X10 encoding, which tmux-256color's terminfo names):
# off by default (the pane isn't in mouse mode, so text selection stays the terminal's); with
# `mouse = true` a press selects a row, a double press opens it, the wheel moves the cursor and a
# key-bar entry acts as its key.
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/m.db"
"$BIN" demo --db "$DB" --contacts 300 >/dev/null || { fail "demo"; finish; exit 1; }

# press X Y [BUTTON]: a press (and its release) at 0-based cell X,Y; BUTTON 0 left, 64/65 wheel.
press() {
  local b=${3:-0}
  keys -l "$(printf '\033[M%b%b%b' "\\x$(printf %x $((32 + b)))" "\\x$(printf %x $((33 + $1)))" "\\x$(printf %x $((33 + $2)))")"
  [ "$b" -eq 0 ] && keys -l "$(printf '\033[M#%b%b' "\\x$(printf %x $((33 + $1)))" "\\x$(printf %x $((33 + $2)))")"
  return 0
}
line_of() { screen | grep -nF -- "$1" | head -1 | cut -d: -f1 | awk '{print $1 - 1}'; }
column_of() { screen | tail -n +"$(($2 + 1))" | head -1 | python3 -c "import sys; print(sys.stdin.read().index(sys.argv[1]))" "$1"; }

# Off by default.
dashboard "md-mouse-off-$$" 100 30 --db "'$DB'"
wait_for "Northwind Support"
[ "$(tmux display -p -t "$S" '#{mouse_any_flag}#{mouse_standard_flag}#{mouse_button_flag}')" == "000" ] && ok || fail "mouse mode is on by default"
keys q; wait_for "EXITED 0"
tmux kill-session -t "$S"

mkdir -p "$XDG_CONFIG_HOME/messenger-dash"
echo 'mouse = true' >"$XDG_CONFIG_HOME/messenger-dash/config.toml"
dashboard "md-mouse-$$" 100 30 --db "'$DB'"
wait_for "Northwind Support"
[ "$(tmux display -p -t "$S" '#{mouse_standard_flag}')" == "1" ] && ok || fail "mouse = true didn't turn mouse mode on"

# A press selects: Enter then opens the pressed row.
press 5 "$(line_of "Northwind Support")"
keys Enter; wait_for "Profiles › Northwind Support"
keys Escape; wait_for "NAME"
# A double press opens.
y=$(line_of "Northwind Shop")
press 5 "$y"; press 5 "$y"; wait_for "Profiles › Northwind Shop"
# ...and its data arrives while no key is pressed: ncurses once swallowed the release outside
# the mouse mask and sat in its read past the timeout, so the page stayed on "Loading…".
wait_for "Opt-in field"
# A key-bar entry acts as its key: "Esc back".
bar=$(( $(screen | wc -l) - 1 ))
press "$(column_of "Esc back" "$bar")" "$bar"; wait_for "DELIVERED"
# The wheel: down three rows from the top stops on the last of three profiles.
keys g; press 10 5 65; keys Enter; wait_for "Profiles › Northwind Support"
keys Escape; wait_for "NAME"
# The wheel up and a press on the breadcrumb row do nothing harmful.
press 10 5 64; press 0 0; keys Enter; wait_for "Profiles › Northwind Events"
keys Escape; wait_for "NAME"
keys q; wait_for "EXITED 0"
finish
