# Spool's developer commands. Every target installs what it needs, idempotently, so a
# fresh machine needs only `make run` or `make test`.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO_LEPTOS_VERSION := 0.3.11
# wasm-bindgen's CLI must match the library version locked in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/"/, "", $$3); print $$3 }' Cargo.lock)
ADDR ?= 127.0.0.1:3000
DATABASE_URL ?= sqlite://spool.db
# Release builds run wasm-opt from the npm package binaryen (Debian's is too old).
NODE_BIN := $(CURDIR)/end2end/node_modules/.bin
export PATH := $(NODE_BIN):$(HOME)/.cargo/bin:$(PATH)

.PHONY: help run build dev test lint unit e2e api-fuzz bench peers tools rust-tools node-tools browser clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  make %-8s %s\n", $$1, $$2 }'

run: build ## Build in release mode and serve on $(ADDR) with $(DATABASE_URL)
	target/release/spool serve --addr $(ADDR) --database-url $(DATABASE_URL)

build: rust-tools node-tools ## Release build: server binary and dashboard (wasm, JS, CSS)
	cargo leptos build --release

dev: rust-tools node-tools ## Rebuild and reload on every change (cargo leptos watch)
	cargo leptos watch

test: lint unit e2e api-fuzz ## Everything CI runs: formatting, clippy (both builds), Rust tests, browser tests, API fuzzing

lint: rust-tools
	cargo fmt --all -- --check
	cargo clippy --workspace --features ssr --all-targets -- -D warnings
	cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

unit: rust-tools
	cargo test --workspace --features ssr

e2e: build browser ## Playwright against a freshly built release server (fresh database, free port)
	cd end2end && npx playwright test

# Schemathesis, from PyPI into its own virtualenv, against the release server's OpenAPI.
SCHEMATHESIS_VERSION := 4.32.5
SCHEMATHESIS := target/schemathesis/bin/schemathesis
api-fuzz: build $(SCHEMATHESIS) ## Schemathesis against the release server's own OpenAPI document
	end2end/api-fuzz.sh $(SCHEMATHESIS)

$(SCHEMATHESIS):
	python3 -m venv target/schemathesis
	target/schemathesis/bin/pip install --quiet schemathesis==$(SCHEMATHESIS_VERSION)

# `make bench QUICK=1` runs every measurement small (under 2 minutes once built).
# The harness builds in its own target directory: cargo-leptos builds with LEPTOS_*
# variables set, and sharing target/release would rebuild Leptos on every switch.
bench: target/release/spool peers ## Measure Spool against its targets and its peers (BENCHMARKS.md)
	cargo build --release -p spool-bench --target-dir target/bench-build
	target/bench-build/release/spool-bench $(if $(QUICK),--quick,)

# The release build, redone for the benchmark only when one of its inputs changed
# (cargo-leptos re-runs wasm-bindgen and wasm-opt, half a minute, even when nothing did).
BUILD_INPUTS := Cargo.toml Cargo.lock $(shell find src style public migrations -type f -not -path '*/target/*')
target/release/spool: $(BUILD_INPUTS) | rust-tools node-tools
	cargo leptos build --release
	@touch $@

# The peer queues' benchmarks build outside the workspace, so `make test` never compiles them.
PEERS := effectum apalis
peers:
	@for peer in $(PEERS); do \
	  cargo build --release --manifest-path bench/peers/$$peer/Cargo.toml --target-dir target/peers || exit 1; \
	done

tools: rust-tools node-tools browser ## Install every tool the targets use

rust-tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@cargo leptos --version 2>/dev/null | grep -qF "$(CARGO_LEPTOS_VERSION)" \
	  || cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked --ignore-rust-version
	@wasm-bindgen --version 2>/dev/null | grep -qF "$(WASM_BINDGEN_VERSION)" \
	  || cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)

node-tools: end2end/node_modules/.package-lock.json

end2end/node_modules/.package-lock.json: end2end/package-lock.json end2end/package.json
	cd end2end && npm ci --no-audit --no-fund
	@touch $@

browser:
	@command -v chromium >/dev/null || { apt-get update && apt-get install -y chromium; }

clean: ## Remove build outputs and local databases
	cargo clean
	rm -rf end2end/node_modules end2end/test-results end2end/playwright-report spool.db spool.db-*
