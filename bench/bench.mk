# `make bench`: the full benchmark suite (see docs/benchmarks.md). Writes
# bench/results/latest.md (the table) and bench/results/latest.json (every measurement).
# `make bench BENCH_REPEATS=5 BENCH_FLAGS=--fanout-10k` runs more.

BENCH_REPEATS ?= 3
BENCH_FLAGS ?=
BENCH_BIN := $(or $(CARGO_TARGET_DIR),target)/release

.PHONY: bench bench-smoke bench-web bench-voice

bench:
	cd bench/peers/socketio && npm ci --no-audit --no-fund
	$(CARGO) build --release -p madang -p madang-bench -p raw-broadcast
	$(BENCH_BIN)/madang-bench suite --profile full --repeats $(BENCH_REPEATS) --out bench/results \
		--madang-bin $(BENCH_BIN)/madang --raw-bin $(BENCH_BIN)/raw-broadcast $(BENCH_FLAGS)

## The web client in Chromium: first-load JavaScript, and scrolling 10,000 messages with the
## long-task observer on. Writes bench/results/web-client.json.
bench-web: web
	$(CARGO) build --release -p madang
	cd web && MADANG_BIN=$(abspath $(BENCH_BIN))/madang npm run bench

## The seconds-long run that checks every scenario still runs.
bench-smoke:
	scripts/bench-smoke

## Voice: N publishers × M listeners through madang's SFU and Janus's videoroom, side by side
## (Janus: `apt-get install janus`). Writes bench/results/voice-<N>x<M>[-video<kbps>].md and .json.
VOICE_FLAGS ?= --publishers 4 --listeners 16 --seconds 10
bench-voice:
	$(CARGO) build --release -p madang -p madang-bench
	$(BENCH_BIN)/madang-bench voice --targets madang,janus --repeats $(BENCH_REPEATS) \
		--out bench/results --madang-bin $(BENCH_BIN)/madang $(VOICE_FLAGS)
