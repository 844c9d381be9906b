# SPDX-License-Identifier: BSD-3-Clause
#
# The two commands of the README, and the steps they are made of:
#   make run   install what is missing, build, run kapa's most complete real
#              path on this machine's embedded default (today: kapa-inspect
#              over the captures in ../shared/corpus/pcaps)
#   make test  install what is missing, prepare the host, build with gcc and
#              with clang, run every meson test suite
# The build itself is meson's; nothing here is more than a sequence of it.

BUILD ?= build
BUILD_CLANG ?= build-clang
CORPUS ?= ../shared/corpus/pcaps
INSPECT := $(BUILD)/dataplane/inspect/kapa-inspect
MESON ?= meson

.PHONY: all run test deps host-prep setup build setup-clang build-clang bench clean

all: build

deps:
	@scripts/install-deps.sh

host-prep:
	@scripts/host-prep.sh

# Reconfigure every time: tests/unit/meson.build picks up test files that
# appeared since the last setup.
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

run: build
	@if [ ! -x $(INSPECT) ]; then \
		echo "make run: $(INSPECT) was not built: kapa-inspect (dataplane/inspect/) is not in this tree yet" >&2; \
		exit 1; \
	fi
	@set -- $(CORPUS)/*.pcap; \
	if [ ! -e "$$1" ]; then \
		echo "make run: no captures in $(CORPUS) (set CORPUS=DIR)" >&2; \
		exit 1; \
	fi; \
	echo "make run: $(INSPECT) over $$# captures in $(CORPUS)"; \
	$(INSPECT) "$$@"

# Every suite: unit, replay, ctl, e2e (and fuzz when configured). Root
# suites need host-prep. Benchmarks are not tests: see `make bench`.
test: deps host-prep build build-clang
	$(MESON) test -C $(BUILD) --print-errorlogs

bench: build
	$(MESON) test -C $(BUILD) --benchmark

clean:
	rm -rf $(BUILD) $(BUILD_CLANG)
