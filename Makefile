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

.PHONY: help run build dev test lint unit dev-loop e2e api-fuzz openapi-client coverage screenshots bench peers deploy-check tools rust-tools node-tools browser clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  make %-12s %s\n", $$1, $$2 }'

# The file target, not `build`: an unchanged tree is not rebuilt (re-embedding the site
# relinks the server, minutes).
run: target/release/spool ## Build in release mode (when a source changed) and serve on $(ADDR) with $(DATABASE_URL)
	target/release/spool serve --addr $(ADDR) --database-url $(DATABASE_URL)

# The release build: the dashboard (split by route, precompressed with brotli and gzip),
# then the server with it compiled in (`embed-site`), so the binary alone serves it.
# `--precompress` is also what makes cargo-leptos finish the site before it compiles the
# server (otherwise it builds both at once).
RELEASE_BUILD := cargo leptos build --release --split --precompress --bin-features ssr,embed-site

build: rust-tools node-tools ## Release build: one server binary with the dashboard (wasm, JS, CSS) inside
	$(RELEASE_BUILD)

dev: rust-tools node-tools ## Rebuild and reload on every change (cargo leptos watch)
	cargo leptos watch

test: lint unit dev-loop e2e api-fuzz openapi-client deploy-check ## Everything CI runs: module circles, formatting, clippy (both builds), docs, Rust tests, the dev loop, browser tests, API fuzzing, a generated API client, the deployment files

lint: rust-tools
	python3 .ci/module-circles.py
	cargo fmt --all -- --check
	cargo clippy --workspace --features ssr,testing --all-targets -- -D warnings
	cargo clippy -p spool --lib --features ssr -- -D warnings
	cargo clippy -p spool --lib --features embed-site -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc -p spool --no-deps --features ssr
	cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

# The PostgreSQL suites run on the machine's server when one answers on 127.0.0.1:5432
# (or on SPOOL_TEST_POSTGRES_URL); the script says loudly when they are skipped.
unit: rust-tools
	end2end/with-postgres.sh cargo test --workspace --features ssr,testing

dev-loop: rust-tools node-tools ## `cargo leptos watch` serves, runs a task and reloads after an edit
	python3 end2end/dev-loop.py

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

# openapi-python-client, from PyPI into its own virtualenv: the client a Python user would
# generate from the served OpenAPI document must come out whole and drive a task.
OPENAPI_CLIENT_VERSION := 0.29.1
OPENAPI_CLIENT := target/openapi-client/bin/openapi-python-client
openapi-client: build $(OPENAPI_CLIENT) ## A Python client generated from the served OpenAPI document drives a task
	end2end/openapi-client.sh target/openapi-client

$(OPENAPI_CLIENT):
	python3 -m venv target/openapi-client
	target/openapi-client/bin/pip install --quiet openapi-python-client==$(OPENAPI_CLIENT_VERSION)

deploy-check: build ## hadolint, kubernetes-validate and systemd-analyze on deploy/ (the tools from PyPI)
	deploy/check.sh

# Line coverage with cargo-tarpaulin's LLVM engine: rustup components (llvm-tools) cannot
# be fetched here, and tarpaulin reads LLVM's profiles itself. It builds in its own target
# directory, instrumented, so the everyday builds are not redone.
TARPAULIN_VERSION := 0.37.5
coverage: rust-tools ## Line coverage of the Rust tests: HTML in target/coverage/, the total printed last
	@cargo tarpaulin --version 2>/dev/null | grep -qF "$(TARPAULIN_VERSION)" \
	  || cargo install cargo-tarpaulin --version $(TARPAULIN_VERSION) --locked
	@mkdir -p target/coverage && rm -f target/coverage/tarpaulin-report.json
	@echo "coverage: building instrumented and running the tests; output in target/coverage/run.log"
	@status=0; end2end/with-postgres.sh cargo tarpaulin --workspace --features ssr,testing --engine llvm \
	  --no-fail-fast --target-dir target/coverage-build --out Html --out Json \
	  --output-dir target/coverage --exclude-files 'bench/*' --exclude-files 'migrations/*' \
	  --exclude-files 'tests/*' --timeout 600 >target/coverage/run.log 2>&1 || status=$$?; \
	grep -E -A1 'NO POSTGRESQL' target/coverage/run.log >&2 || true; \
	python3 end2end/coverage-total.py target/coverage/tarpaulin-report.json || status=1; \
	if [ $$status -ne 0 ]; then grep -E '^test .* FAILED|panicked at|^error' target/coverage/run.log >&2 \
	  || tail -n 30 target/coverage/run.log >&2; \
	  echo "coverage: the run failed (above; the whole output is in target/coverage/run.log)" >&2; fi; \
	exit $$status

# The README's pictures (docs/*.png), from a fresh release server with tasks in every
# status. `make test` skips the spec that takes them.
screenshots: build browser ## Retake the README's pictures of the dashboard (docs/*.png)
	cd end2end && SPOOL_SCREENSHOTS=1 npx playwright test screenshots.spec.ts

# `make bench QUICK=1` runs every measurement small (under 2 minutes once built).
# `make bench BASELINE=path/to/an/earlier/spool` runs only this build's burn-down beside
# that binary's, round by round (build the earlier one with `git worktree add` and
# `cargo build --release --features ssr`).
# The harness builds in its own target directory: cargo-leptos builds with LEPTOS_*
# variables set, and sharing target/release would rebuild Leptos on every switch.
bench: target/release/spool peers ## Measure Spool against its targets and its peers (BENCHMARKS.md)
	cargo build --release -p spool-bench --target-dir target/bench-build
	target/bench-build/release/spool-bench $(if $(QUICK),--quick,) $(if $(BASELINE),--baseline $(BASELINE),)

# The release build, redone for the benchmark only when one of its inputs changed
# (cargo-leptos re-runs wasm-bindgen and wasm-opt, half a minute, even when nothing did).
BUILD_INPUTS := Cargo.toml Cargo.lock $(shell find src style public migrations -type f -not -path '*/target/*')
target/release/spool: $(BUILD_INPUTS) | rust-tools node-tools
	$(RELEASE_BUILD)
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
