# Thin wrapper around CMake. The README's two commands: `make run`, `make check`.
BUILD       ?= build
CHECK_BUILD ?= build-check
JOBS        ?= $(shell nproc)
DEMO_DIR    ?= var

.PHONY: all run check bench clean format deps

all: $(BUILD)/koryod

deps:
	@scripts/deps.sh build

$(BUILD)/Makefile: deps CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

$(BUILD)/koryod: $(BUILD)/Makefile FORCE
	$(MAKE) -s -C $(BUILD) -j$(JOBS)

# A fresh demo store with the Koryolink profile, koryod in the foreground (Ctrl-C stops it).
# KEEP=1 keeps the demo store from the previous run.
run: $(BUILD)/koryod
	@mkdir -p $(DEMO_DIR)
	@if [ -z "$(KEEP)" ]; then rm -f $(DEMO_DIR)/koryo.db $(DEMO_DIR)/koryo.db-wal $(DEMO_DIR)/koryo.db-shm; fi
	exec $(BUILD)/koryod -c etc/koryod-demo.conf --profile profiles/koryolink

check:
	@scripts/deps.sh test
	cmake -S . -B $(CHECK_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKORYO_SANITIZE=ON >/dev/null
	$(MAKE) -s -C $(CHECK_BUILD) -j$(JOBS)
	cd $(CHECK_BUILD) && ctest --output-on-failure -j$(JOBS)

bench:
	@scripts/deps.sh bench
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	$(MAKE) -s -C build-bench -j$(JOBS)
	bench/run_all.sh build-bench

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(CHECK_BUILD) build-bench

FORCE:
