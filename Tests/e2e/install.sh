#!/usr/bin/env bash
# Installing like a CLI people keep: `make install PREFIX=…` into a fresh temporary prefix puts a
# release binary that runs from anywhere, says its version, finds its themes, completes in bash,
# zsh and fish, and has a man page; `make uninstall` takes every file back out.
source "$(dirname "$0")/lib/common.bash"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PREFIX="$WORK/prefix"
expect 0 "make install into a fresh prefix" -- make -s -C "$REPO" install PREFIX="$PREFIX"
INSTALLED="$PREFIX/bin/messenger-dash"
[ -x "$INSTALLED" ] && ok || fail "no binary in $PREFIX/bin"
cd "$WORK" || exit 1
expect 0 "--version" -- "$INSTALLED" --version
[ "$OUT" = "$(git -C "$REPO" describe --tags --always --dirty)" ] && ok || fail "--version said '$OUT'"
expect 0 "it runs from anywhere" -- "$INSTALLED" demo --db "$WORK/i.db" --contacts 20
expect 0 "and reads its database" -- "$INSTALLED" --db "$WORK/i.db" programs list --json
[ -f "$PREFIX/share/messenger-dash/themes/catppuccin-mocha.toml" ] && ok || fail "themes not installed"
# The dashboard finds the installed themes (no repository, no themes/ in the working folder).
S="md-install-$$"
tmux new-session -d -s "$S" -x 100 -y 30 "cd '$WORK' && env TERM=tmux-256color LANG=C.UTF-8 XDG_CONFIG_HOME='$WORK/config' '$INSTALLED' --db '$WORK/i.db' --theme catppuccin-mocha; echo EXITED \$?; sleep 30"
wait_for "Northwind Shop"
screen | grep -q "not found" && fail "the installed themes were not found: $(screen | grep 'not found')" || ok
keys q; wait_for "EXITED 0"
# Completions and the man page.
words=$(bash -c "shopt -s extglob; source '$PREFIX/share/bash-completion/completions/messenger-dash'; COMP_LINE='messenger-dash pro'; COMP_POINT=\${#COMP_LINE}; COMP_WORDS=(messenger-dash pro); COMP_CWORD=1; _messenger-dash; echo \"\${COMPREPLY[*]}\"")
contains "bash completes the commands" "programs" "$words"
grep -q "compdef\|#compdef" "$PREFIX/share/zsh/site-functions/_messenger-dash" && ok || fail "no zsh completion"
grep -q "^complete .*messenger-dash" "$PREFIX/share/fish/vendor_completions.d/messenger-dash.fish" && ok || fail "no fish completion"
grep -q '^\.Dt MESSENGER-DASH 1' "$PREFIX/share/man/man1/messenger-dash.1" && grep -q "programs" "$PREFIX/share/man/man1/messenger-dash.1" && ok || fail "no man page"
expect 0 "make uninstall" -- make -s -C "$REPO" uninstall PREFIX="$PREFIX"
left=$(find "$PREFIX" -type f | wc -l)
[ "$left" -eq 0 ] && ok || fail "uninstall left $left files: $(find "$PREFIX" -type f | head -3)"
finish
