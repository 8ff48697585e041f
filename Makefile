CARGO ?= cargo

include bench/bench.mk
