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
# PySpark (make demo, the PySpark test, the local-cluster suite's Spark home) in a venv.
DEB_PACKAGES += python3 python3-venv

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

# Every test: the engine in the release build and under ASan+UBSan, the Java API, the Spark module,
# the PySpark test.
test: test-release test-asan test-java test-spark test-pyspark

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
# `make spark`: the connector jar for users, $(SPARK_BUNDLE): the connector, needle-java with the
# native library, and arrow-c-data (Spark, Scala and the Arrow Spark ships are not in it); also the
# plain spark/target/needle-spark_2.13-*.jar. Both targets build the Java API first (`make java`).
# `make test-spark`: ScalaTest suites on a local[2] SparkSession (transaction log, configuration,
# errors, the connector, full-text filters), then the bundle jar and the suite on
# local-cluster[2,1,1024], whose executor JVMs start from the PySpark package of $(PYSPARK_VENV).
# `make test-pyspark`: the PySpark test (python/tests) against the bundle jar.
# `make demo`: examples/needle_demo.py on local[2] (DEMO_ROWS rows; DEMO_ARGS for more options).
PYSPARK_VERSION ?= 4.2.0
PYSPARK_VENV    ?= $(BUILD_DIR)/pyspark-venv
PYSPARK_PYTHON  := $(PYSPARK_VENV)/bin/python
SPARK_BUNDLE    := spark/target/needle-spark-bundle.jar
DEMO_ROWS       ?= 300000
DEMO_ARGS       ?=
.PHONY: spark test-spark pyspark-venv test-pyspark demo print-spark-jar
spark: java
	$(MVN) $(MVN_FLAGS) -q -f spark/pom.xml -DskipTests package
	@echo "needle: connector jar $(SPARK_BUNDLE) (for spark.jars / --jars)"

print-spark-jar:
	@echo $(abspath $(SPARK_BUNDLE))

# PySpark $(PYSPARK_VERSION) (with pytest) in a venv; its package folder is a Spark home.
pyspark-venv: $(PYSPARK_VENV)/.pyspark-$(PYSPARK_VERSION)
$(PYSPARK_VENV)/.pyspark-$(PYSPARK_VERSION): | deps
	python3 -m venv $(PYSPARK_VENV)
	$(PYSPARK_VENV)/bin/pip install -q --disable-pip-version-check pyspark==$(PYSPARK_VERSION) pytest
	touch $@

test-spark: java pyspark-venv
	$(MVN) $(MVN_FLAGS) -q -f spark/pom.xml verify \
	  -Dneedle.spark.home="$$($(PYSPARK_PYTHON) -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"

test-pyspark: spark pyspark-venv
	NEEDLE_SPARK_JAR=$(abspath $(SPARK_BUNDLE)) PYTHONPATH=$(abspath python) \
	  $(PYSPARK_PYTHON) -m pytest -q -p no:cacheprovider python/tests

demo: spark pyspark-venv
	PYTHONPATH=$(abspath python) $(PYSPARK_PYTHON) examples/needle_demo.py \
	  --jars $(abspath $(SPARK_BUNDLE)) --rows $(DEMO_ROWS) $(DEMO_ARGS)
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
	  --memory-mb $(MEMORY_MB) --rounds $(ROUNDS) --index-runs $(INDEX_RUNS) --commands "$(BENCH_COMMANDS)" --work $(BENCH_WORK) \
	  --command-line "make bench-engines CORPUS=$(CORPUS) THREADS=$(THREADS) MEMORY_MB=$(MEMORY_MB) ROUNDS=$(ROUNDS) INDEX_RUNS=$(INDEX_RUNS) ENGINES=$(ENGINES) BENCH_COMMANDS=$(BENCH_COMMANDS)"

format:
	find engine -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) java/target spark/target
