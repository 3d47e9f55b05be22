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
# The Java API (java/) and its JNI bridge (jni/): a JDK (javac -h, jni.h) and Maven.
DEB_PACKAGES += openjdk-17-jdk-headless maven

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

# Every test: the engine in the release build and under ASan+UBSan, the Java API, the Spark module.
test: test-release test-asan test-java test-spark

# --- Java API and JNI bridge (java/, jni/) ------------------------------------------------------
# `make java`: libneedle_jni.so (CMake target needle_jni in $(BUILD_DIR)), then the jar with the
# library packed as native/linux-x86_64/libneedle_jni.so (java/target/needle-java-*.jar).
# `make test-java`: JUnit tests (Surefire), then the loader tests against the packaged jar (Failsafe).
MVN          ?= mvn
MVN_FLAGS    ?= -B -ntp
JNI_LIB_DIR  := $(abspath $(BUILD_DIR))/lib
.PHONY: java test-java
java: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DNEEDLE_BUILD_JNI=ON
	cmake --build $(BUILD_DIR) -j $(JOBS) --target needle_jni
	$(MVN) $(MVN_FLAGS) -q -f java/pom.xml -Dneedle.native.dir=$(JNI_LIB_DIR) -DskipTests package
	@echo "needle: jar in java/target/, native library $(JNI_LIB_DIR)/libneedle_jni.so"

test-java: java
	$(MVN) $(MVN_FLAGS) -f java/pom.xml -Dneedle.native.dir=$(JNI_LIB_DIR) verify
# --- end Java API ----------------------------------------------------------------------------------

# --- Spark connector (spark/) ----------------------------------------------------------------------
# `make spark`: the connector jar (spark/target/needle-spark_2.13-*.jar; Spark itself is provided).
# Both targets build the Java API first (`make java`): the connector compiles against
# java/target/needle-java-*.jar and its tests load libneedle_jni.so from it.
# `make test-spark`: ScalaTest suites (transaction log, configuration, errors, and the connector on
# a local[2] SparkSession).
.PHONY: spark test-spark
spark: java
	$(MVN) $(MVN_FLAGS) -q -f spark/pom.xml -DskipTests package

test-spark: java
	$(MVN) $(MVN_FLAGS) -q -f spark/pom.xml test
# --- end Spark connector ---------------------------------------------------------------------------

# Google Benchmark micro-benchmarks of the engine's hot loops (engine/bench/*_bench.cc).
bench-micro: deps
	cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DNEEDLE_BUILD_BENCH=ON -DNEEDLE_BUILD_TESTS=OFF
	cmake --build build-bench -j $(JOBS) --target needle_microbench
	build-bench/bin/needle_microbench

# Engine-core figures on ../shared/data (Wikipedia indexing, query latency through `needle serve`).
bench-core: build
	python3 bench/engine_core.py --needle $(BUILD_DIR)/bin/needle

# Side-by-side benchmark against Tantivy and Lucene on ../shared/data (bench/game/README.md).
# Builds the three engines, makes the corpus in BENCH_WORK if absent, runs bench/game/driver.py.
# Not part of `make test`. Options: CORPUS=wiki|large THREADS=1 MEMORY_MB=1024 ROUNDS=10
# INDEX_RUNS=1 (best of N) ENGINES=needle,tantivy,lucene BENCH_COMMANDS=COUNT,TOP_10,...
# BENCH_WORK=/tmp/needle-bench-game
.PHONY: bench-engines
bench-engines: CORPUS ?= wiki
bench-engines: THREADS ?= 1
bench-engines: MEMORY_MB ?= 1024
bench-engines: ROUNDS ?= 10
bench-engines: INDEX_RUNS ?= 1
bench-engines: ENGINES ?= needle,tantivy,lucene
bench-engines: BENCH_COMMANDS ?= COUNT,TOP_10,TOP_100,TOP_1000,TOP_100_COUNT
bench-engines: BENCH_WORK ?= /tmp/needle-bench-game
bench-engines: build
	bench/engines/tantivy/build
	bench/engines/lucene/build
	corpus=$$(python3 bench/game/make_corpus.py --work $(BENCH_WORK) --corpus $(CORPUS)) && \
	python3 bench/game/driver.py --corpus "$$corpus" --engines $(ENGINES) --threads $(THREADS) \
	  --memory-mb $(MEMORY_MB) --rounds $(ROUNDS) --index-runs $(INDEX_RUNS) --commands $(BENCH_COMMANDS) --work $(BENCH_WORK) \
	  --command-line "make bench-engines CORPUS=$(CORPUS) THREADS=$(THREADS) MEMORY_MB=$(MEMORY_MB) ROUNDS=$(ROUNDS) INDEX_RUNS=$(INDEX_RUNS) ENGINES=$(ENGINES) BENCH_COMMANDS=$(BENCH_COMMANDS)"

format:
	find engine -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) java/target spark/target
