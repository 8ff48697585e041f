# The two commands of the README: `make run` (the product) and `make test` (every test).
# `make check` is the gate before a commit: formatting, lints, then every test.

CARGO ?= cargo
WEB_DEPS := web/node_modules/.package-lock.json

# `make bench` and `make bench-smoke`: the benchmark suite (docs/benchmarks.md).
include bench/bench.mk

.PHONY: run test check web release openapi lint fmt clean

## Build the web client and run madang (SQLite in ./data) at http://localhost:8080
run: web
	$(CARGO) run --release -p madang -- serve

## A release binary carrying the web client: target/release/madang
release: web
	$(CARGO) build --release -p madang

$(WEB_DEPS): web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

web: $(WEB_DEPS)
	cd web && npm run build

## Every test: Rust suites on SQLite and PostgreSQL, the web client's checks and tests, and
## the API fuzzing against the OpenAPI document.
test: web
	scripts/with-test-services scripts/test-all

check: lint test

lint: $(WEB_DEPS)
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	cd web && npm run typecheck

fmt:
	$(CARGO) fmt --all

## Regenerate docs/openapi.json and the web client's types from the code.
openapi: $(WEB_DEPS)
	MADANG_UPDATE_OPENAPI=1 $(CARGO) test -p madang-server --test openapi
	cd web && npm run gen:api

clean:
	$(CARGO) clean
	rm -rf web/dist web/node_modules
