# messenger-dash: `make run` opens the dashboard on a demo database; `make test` runs every test.
SHELL := /bin/bash
SWIFT ?= swift
BIN := .build/debug/messenger-dash
DEBIAN_PACKAGES := libncurses-dev libsqlite3-dev libqrencode-dev tmux sqlite3 python3 curl strace zbar-tools nginx-light caddy openssl iproute2 systemd postgresql libpq-dev
XDG_DATA_HOME ?= $(HOME)/.local/share
DEFAULT_DB := $(XDG_DATA_HOME)/messenger-dash/messenger.db

.PHONY: run test build deps unit e2e fuzz clean bench bench-quick install uninstall format lint test-dates

# Where `make install` puts things, and the build's version (`messenger-dash --version`).
PREFIX ?= $(HOME)/.local
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)

# Installs what is missing of the Debian packages the build and the tests need.
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build
	@printf '%s\n' "$(VERSION)" > .build/debug/VERSION

run: build
	@if [ ! -f "$(DEFAULT_DB)" ] && [ -z "$$MESSENGER_DASH_DB" ]; then $(BIN) demo; fi
	$(BIN)

# swift-format (in the Swift toolchain) with the checked-in .swift-format: `make format` rewrites,
# `make lint` (the first step of `make test`) fails on any difference or rule warning. Lines over
# 140 columns that are left are string literals, which the formatter never splits. Also fails
# when GRDB is imported outside MessengerCore: the other modules reach the database through its API.
SWIFT_SOURCES := Sources Tests
format:
	$(SWIFT) format format --in-place --recursive --parallel $(SWIFT_SOURCES)

lint:
	$(SWIFT) format lint --strict --recursive --parallel $(SWIFT_SOURCES)
	@if grep -rln '^import GRDB' Sources --include=*.swift | grep -v '^Sources/MessengerCore/'; then \
	  echo "lint: GRDB is imported outside MessengerCore (above); go through MessengerCore's API"; exit 1; fi

unit: build
	$(SWIFT) test --disable-swift-testing

e2e: build
	@for t in Tests/e2e/*.sh; do echo "== $$t"; bash "$$t" "$(CURDIR)/$(BIN)" || exit 1; done

# The UI fuzz at full size needs a release build to take a minute rather than half an hour.
fuzz: deps
	$(SWIFT) build -c release --product messenger-fuzz
	.build/release/messenger-fuzz --events 100000

# The benchmark at 10,000 contacts, so it can't rot: it must run through; its figures are printed.
bench-quick: deps
	$(SWIFT) build -c release --product messenger-bench
	.build/release/messenger-bench --contacts 10000 --quick

test: lint unit e2e fuzz bench-quick

clean:
	rm -rf .build

.PHONY: bench
# Release build; builds the 1,000,000-contact demo through the pipeline beside the sqlite3 floor,
# then the queries (beside naive ones), screens and memory; prints a table and writes
# bench/results/*.json (core count and commit inside). BENCH_CONTACTS=N for another size;
# BENCH_DB=path keeps the database and reuses it next time (pipeline figures only when built).
BENCH_CONTACTS ?= 1000000
bench: deps
	$(SWIFT) build -c release --product messenger-bench
	.build/release/messenger-bench --contacts $(BENCH_CONTACTS) $(if $(BENCH_DB),--db $(BENCH_DB))

.PHONY: soak
# The long forms of the reliability tests: 100 SIGKILLs during a 100,000-contact run, 20 of the
# webhook under load (every POST answered 200 applied), and
# 1,000,000 random keys, pastes and resizes through the screens (release build); then the suite
# on other days (test-dates).
soak: build
	KILLS=100 CONTACTS=100000 bash Tests/e2e/crash.sh "$(CURDIR)/$(BIN)"
	KILLS=20 bash Tests/e2e/spool.sh "$(CURDIR)/$(BIN)"
	$(SWIFT) build -c release --product messenger-fuzz
	.build/release/messenger-fuzz --events 1000000
	$(MAKE) test-dates

# The suite on other days, so no test depends on the day it runs: at each instant (@ZONE: the
# account's zone, else UTC) the XCTest suite runs in that zone (TZ) with MESSENGER_DASH_NOW set
# (the tests that read the machine's clock take it from there; the others pin their own), and the
# e2e scripts that depend on dates run with MESSENGER_DASH_NOW and MESSENGER_DASH_TZ: a new year
# just begun, a leap day, Berlin's spring DST change, the day Meta retired the tags, and a year's
# last minute. (libfaketime was tried for the XCTest run: XCTest's async waits stall in its ppoll
# wrapper, so a run never ends.)
TEST_DATES := 2027-01-01T00:30:00Z 2028-02-29T12:00:00Z 2026-03-29T01:30:00Z@Europe/Berlin 2026-04-27T00:00:00Z 2026-12-31T23:59:00Z
DATE_E2E := stats concurrent retries programs graph starvation dashboard
XCTEST := .build/debug/messenger-dashPackageTests.xctest
DATES_LOG := .build/test-dates.log
test-dates: build
	$(SWIFT) build --build-tests
	@for spec in $(TEST_DATES); do \
	  now=$${spec%%@*}; zone=UTC; case $$spec in *@*) zone=$${spec#*@};; esac; \
	  echo "== $$now ($$zone): XCTest"; \
	  TZ=$$zone MESSENGER_DASH_NOW=$$now MESSENGER_DASH_TZ=$$zone $(XCTEST) >$(DATES_LOG) 2>&1 || { grep -E 'error|failed' $(DATES_LOG) | head -40; exit 1; }; \
	  tail -1 $(DATES_LOG); \
	  for t in $(DATE_E2E); do \
	    echo "== $$now ($$zone): Tests/e2e/$$t.sh"; \
	    MESSENGER_DASH_NOW=$$now MESSENGER_DASH_TZ=$$zone bash Tests/e2e/$$t.sh "$(CURDIR)/$(BIN)" || exit 1; \
	  done; \
	done

# A release binary, its themes, shell completions (bash, zsh, fish, from ArgumentParser) and a
# man page (ArgumentParser's manual generator) under PREFIX; `make uninstall PREFIX=…` removes them.
install: deps
	$(SWIFT) build -c release --product messenger-dash
	$(SWIFT) package plugin generate-manual >/dev/null
	install -d "$(PREFIX)/bin" "$(PREFIX)/share/messenger-dash/themes" "$(PREFIX)/share/man/man1" \
	  "$(PREFIX)/share/bash-completion/completions" "$(PREFIX)/share/zsh/site-functions" "$(PREFIX)/share/fish/vendor_completions.d"
	install -m 755 .build/release/messenger-dash "$(PREFIX)/bin/messenger-dash"
	install -m 644 themes/*.toml "$(PREFIX)/share/messenger-dash/themes/"
	printf '%s\n' "$(VERSION)" > "$(PREFIX)/share/messenger-dash/VERSION"
	install -m 644 .build/plugins/GenerateManual/outputs/messenger-dash/messenger-dash.1 "$(PREFIX)/share/man/man1/messenger-dash.1"
	"$(PREFIX)/bin/messenger-dash" --generate-completion-script bash > "$(PREFIX)/share/bash-completion/completions/messenger-dash"
	"$(PREFIX)/bin/messenger-dash" --generate-completion-script zsh > "$(PREFIX)/share/zsh/site-functions/_messenger-dash"
	"$(PREFIX)/bin/messenger-dash" --generate-completion-script fish > "$(PREFIX)/share/fish/vendor_completions.d/messenger-dash.fish"
	@echo "installed messenger-dash $(VERSION) in $(PREFIX)"

uninstall:
	rm -f "$(PREFIX)/bin/messenger-dash" "$(PREFIX)/share/man/man1/messenger-dash.1" \
	  "$(PREFIX)/share/bash-completion/completions/messenger-dash" "$(PREFIX)/share/zsh/site-functions/_messenger-dash" \
	  "$(PREFIX)/share/fish/vendor_completions.d/messenger-dash.fish"
	rm -rf "$(PREFIX)/share/messenger-dash"
