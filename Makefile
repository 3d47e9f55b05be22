# needle — top-level entry points. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
.DEFAULT_GOAL := build

BUILD_DIR      ?= build
ASAN_BUILD_DIR ?= build-asan
JOBS           ?= $(shell nproc)

# Debian packages the engine needs to build and test.
DEB_PACKAGES := build-essential cmake ninja-build pkg-config ccache zstd \
  libzstd-dev liblz4-dev libicu-dev libstemmer-dev libxxhash-dev libsimdjson-dev \
  libhwy-dev libgtest-dev libbenchmark-dev

.PHONY: deps build build-asan test test-release test-asan clean format bench-micro bench-core

# Installs missing Debian packages when run as root; otherwise says exactly what to run.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "needle: installing missing packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "needle: missing packages:$$missing"; \
	    echo "needle: run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

$(BUILD_DIR)/build.ninja: | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release

$(ASAN_BUILD_DIR)/build.ninja: | deps
	cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DNEEDLE_SANITIZE=ON

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)
	@echo "needle: CLI at $(BUILD_DIR)/bin/needle"

build-asan: deps $(ASAN_BUILD_DIR)/build.ninja
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)

test-release: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(ASAN_BUILD_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# Every test, in the release build and under ASan+UBSan.
test: test-release test-asan

# Google Benchmark micro-benchmarks of the engine's hot loops (engine/bench/*_bench.cc).
bench-micro: deps
	cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DNEEDLE_BUILD_BENCH=ON -DNEEDLE_BUILD_TESTS=OFF
	cmake --build build-bench -j $(JOBS) --target needle_microbench
	build-bench/bin/needle_microbench

# Engine-core figures on ../shared/data (Wikipedia indexing, query latency through `needle serve`).
bench-core: build
	python3 bench/engine_core.py --needle $(BUILD_DIR)/bin/needle

format:
	find engine -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR)
