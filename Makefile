# The two commands of the README:
#   make run    install what is missing, build, start all four services (Ctrl-C stops them)
#   make test   install what is missing, build, check formatting and protos, run every test
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test run demo lint format format-check buf-lint thread-safety bench clean

all: build

deps:
	@tools/dev/install-deps.sh

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	@ninja -C $(BUILD_DIR) -j $(JOBS) --quiet

test: build format-check buf-lint
	@cd $(BUILD_DIR) && ctest -j $(JOBS) --output-on-failure --timeout 600

run: build
	@tools/dev/run-suite.sh $(BUILD_DIR)

# With `make run` going in another terminal: a handful of jobs of different
# presets, GPU types and pricing, so every screen has data within a minute.
demo:
	@ninja -C $(BUILD_DIR) --quiet yardctl
	@tools/dev/demo.sh $(BUILD_DIR)

bench: build
	@echo "benchmarks: see tools/bench/README.md"

buf-lint: deps
	@node_modules/.bin/buf lint

format-check:
	@tools/dev/format.sh --check

format:
	@tools/dev/format.sh

# clang's -Wthread-safety over the files that lock (GCC ignores the
# ABSL_GUARDED_BY annotations); CI runs it after the tests.
thread-safety: build
	@tools/dev/thread-safety.sh $(BUILD_DIR)

lint: format-check buf-lint thread-safety
	@tools/dev/tidy.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
