#!/usr/bin/env bash
# The dashboard in tmux on a demo database, as a person would use it: create a profile through
# the page picker (an ineligible page can't be chosen), read its opt-in field, disable it, fail
# to delete a profile the active program uses, delete two marked profiles, quit. The command line
# then confirms the database says what the screens said.
source "$(dirname "$0")/lib/common.bash"
DB="$WORK/d.db"
"$BIN" demo --db "$DB" >/dev/null || { fail "demo"; finish; exit 1; }
dashboard "md-e2e-$$" 100 30 --db "'$DB'"

NAME="Café ☕ 東京"

wait_for "Northwind Shop"
keys n; wait_for "Name of the profile"
keys -l "$NAME"; wait_for "looks good"
keys Enter; wait_for "Log in to Facebook ]"
# Facebook Login for Devices, as the sandbox does it: the address and its code, then the pages (#24).
keys Enter; wait_for "and enter the code"
contains "the sandbox's code" "SANDBOX1" "$(screen)"
contains "the address" "https://www.facebook.com/device" "$(screen)"
wait_for "Choose the page"
screen | grep -F "Northwind Ads" | grep -qF "your role is Advertiser" && ok || fail "the Advertiser page doesn't say why it can't be chosen"
screen | grep -q "SECRET" && fail "a page token shows in the page picker" || ok
keys g Enter; wait_for "can't be chosen"
screen | grep -qF "Enter or Ctrl-S saves" && fail "an ineligible page was chosen" || ok
keys Escape; wait_for "Log in to Facebook ]"
keys Enter; wait_for "Choose the page"
keys Enter; wait_for "Enter or Ctrl-S saves"
keys Enter; wait_for "Opt-in data field: FBOPTIN_"
FIELD=$(screen | sed -n 's/.*Opt-in data field: \(FBOPTIN_[0-9A-Z]*\).*/\1/p')
[ -n "$FIELD" ] && ok || fail "no opt-in field on the screen"
expect 0 "the new profile, from the command line" -- "$BIN" --db "$DB" profiles show "$NAME" --json
check_json "its field and page" "out['optin_field']=='$FIELD' and out['page_name']=='Northwind Café 東京' and out['status']=='enabled'"

keys Enter; wait_for "4 of 4 profiles"
keys / ; keys -l "shop"; keys Enter; keys Enter; wait_for "Page connection"
screen | grep -q "SECRET" && fail "a page token shows on the profile page" || ok
# w subscribes the page to the webhooks again, once confirmed (#24).
keys w; wait_for "Subscribe webhooks"
keys Tab Enter; wait_for "Subscribed the page of"
keys Escape; keys Escape; wait_for "4 of 4 profiles"
keys g e; wait_for "[ Disable ]"
keys Enter; wait_gone "[ Disable ]"   # Cancel has the focus: nothing happens
expect 0 "still enabled after Cancel" -- "$BIN" --db "$DB" profiles show "$NAME" --json
check_json "enabled" "out['status']=='enabled'"
keys e; wait_for "[ Disable ]"
keys Tab Enter; wait_for "Disabled \"$NAME\""
expect 0 "disabled, from the command line" -- "$BIN" --db "$DB" profiles show "$NAME" --json
check_json "disabled" "out['status']=='disabled'"

keys / ; keys -l "shop"; keys Enter; wait_for "filter: shop"
keys d; wait_for "Order updates"
keys Escape; wait_for "4 of 4 profiles"
expect 0 "the shop is still there" -- "$BIN" --db "$DB" profiles show "Northwind Shop" --json

keys g Space Space; wait_for "2 marked"
keys d; wait_for "[ Delete ]"
screen | grep -qF "usage records" && ok || fail "the confirmation doesn't say how many records go"
keys Tab Enter; wait_for "2 of 2 profiles"
keys q; wait_for "EXITED 0"

expect 0 "profiles list after the walk" -- "$BIN" --db "$DB" profiles list --json
check_json "the two marked profiles are gone" "sorted(p['name'] for p in out)==['Northwind Shop','Northwind Support']"
finish
