# SPDX-License-Identifier: BSD-3-Clause
#
# The two commands of the README, and the steps they are made of:
#   make run   install what is missing, build, and (root) run kapa-dp live
#              between a client and a server namespace with nginx, wrk and
#              curl in each mode (scripts/demo.sh); without root, kapa-inspect
#              over the captures in ../shared/corpus/pcaps (make inspect)
#   make test  install what is missing, prepare the host, build with gcc and
#              with clang, run every meson test suite (fuzz in its own
#              clang + sanitizer build)
# The build itself is meson's; nothing here is more than a sequence of it.

BUILD ?= build
BUILD_CLANG ?= build-clang
BUILD_FUZZ ?= build-fuzz
CORPUS ?= ../shared/corpus/pcaps
INSPECT := $(BUILD)/dataplane/inspect/kapa-inspect
KAPA_DP := $(BUILD)/dataplane/dp/kapa-dp
MESON ?= meson

.PHONY: all run inspect test deps host-prep setup build setup-clang build-clang \
	setup-fuzz build-fuzz bench clean

all: build

deps:
	@scripts/install-deps.sh

host-prep:
	@scripts/host-prep.sh

# An existing build directory is reconfigured, so that options and
# dependencies found since the last setup take effect.
setup:
	@if [ -f $(BUILD)/build.ninja ]; then \
		$(MESON) setup --reconfigure $(BUILD) >/dev/null; \
	else \
		$(MESON) setup $(BUILD); \
	fi

build: deps setup
	$(MESON) compile -C $(BUILD)

# A second build with clang keeps the code warning-free for both compilers
# (werror is on by default).
setup-clang:
	@if [ -f $(BUILD_CLANG)/build.ninja ]; then \
		$(MESON) setup --reconfigure $(BUILD_CLANG) >/dev/null; \
	else \
		CC=clang $(MESON) setup $(BUILD_CLANG); \
	fi

build-clang: deps setup-clang
	$(MESON) compile -C $(BUILD_CLANG)

# The fuzz suite needs clang (libFuzzer ships with it) and is worth running
# only under AddressSanitizer and UBSan: a build of its own.
FUZZ_OPTS := -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
setup-fuzz:
	@if [ -f $(BUILD_FUZZ)/build.ninja ]; then \
		$(MESON) setup --reconfigure $(BUILD_FUZZ) $(FUZZ_OPTS) >/dev/null; \
	else \
		CC=clang $(MESON) setup $(BUILD_FUZZ) $(FUZZ_OPTS); \
	fi

build-fuzz: deps setup-fuzz
	$(MESON) compile -C $(BUILD_FUZZ)

# make run: kapa-dp live between a client and a server namespace (root), or,
# without root, kapa-inspect over the corpus (make inspect).
run: build
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make run: not root: kapa-dp needs root (namespaces, veths, hugepages, bpffs)."; \
		echo "make run: running kapa-inspect over the corpus instead (make inspect); for the"; \
		echo "make run: live demonstration: sudo make run"; \
		$(MAKE) --no-print-directory inspect; \
	else \
		scripts/host-prep.sh && scripts/demo.sh $(KAPA_DP); \
	fi

inspect: build
	@if [ ! -x $(INSPECT) ]; then \
		echo "make inspect: $(INSPECT) was not built" >&2; \
		exit 1; \
	fi
	@set -- $(CORPUS)/*.pcap; \
	if [ ! -e "$$1" ]; then \
		echo "make inspect: no captures in $(CORPUS) (set CORPUS=DIR)" >&2; \
		exit 1; \
	fi; \
	echo "make inspect: $(INSPECT) over $$# captures in $(CORPUS)"; \
	$(INSPECT) "$$@"

# Every suite: unit, replay, ctl, e2e from the gcc build; then unit and replay
# again and fuzz (each harness bounded by KAPA_FUZZ_SECONDS) from the clang +
# ASan/UBSan build. Both run even when the first fails, so that one run
# reports everything. Root suites need host-prep.
# The summary fails the run on a skipped test too (meson counts a skip as
# success). Benchmarks are not tests: see `make bench`.
SANITIZED_SUITES := --suite unit --suite replay --suite fuzz
test: deps host-prep build build-clang build-fuzz
	@rc=0; \
	rm -f $(BUILD)/meson-logs/testlog.json $(BUILD_FUZZ)/meson-logs/testlog.json; \
	echo "$(MESON) test -C $(BUILD) --print-errorlogs"; \
	$(MESON) test -C $(BUILD) --print-errorlogs || rc=1; \
	echo "$(MESON) test -C $(BUILD_FUZZ) $(SANITIZED_SUITES) --print-errorlogs"; \
	$(MESON) test -C $(BUILD_FUZZ) $(SANITIZED_SUITES) --print-errorlogs || rc=1; \
	python3 scripts/test-summary.py --rc $$rc $(BUILD) $(BUILD_FUZZ):unit,replay,fuzz

bench: build
	$(MESON) test -C $(BUILD) --benchmark

clean:
	rm -rf $(BUILD) $(BUILD_CLANG) $(BUILD_FUZZ)
