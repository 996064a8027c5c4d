# skiff — build, test and install.
#
#   make            build build/skiff
#   make demo       install what is missing, then run the example task
#   make check      install what is missing, then run every test
#   make check-v2   the integration suite on pure cgroup v2, in a QEMU VM
#   make asan       the test suites under AddressSanitizer + UBSan
#   make fuzz       libFuzzer on the task-definition parser (FUZZ_SECONDS each)
#   make check-fuzz fuzzing regressions + a short bounded pass (part of check)
#   make bench      benchmarks (tests/bench/, docs/performance.md); bench-quick: smaller
#   make install    PREFIX=/usr/local DESTDIR=
#
# Missing Debian packages are installed by the `deps` step when running as
# root; otherwise it names them and stops.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
BUILD ?= build
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

CC ?= gcc
WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wformat-security -Wpointer-arith \
        -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations -Wvla -Wundef \
        -Wwrite-strings -Wimplicit-fallthrough -Wnull-dereference -Wdouble-promotion \
        -Wno-unused-parameter
OPT ?= -O2 -g
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS_ALL := -std=gnu11 $(WARN) $(OPT) $(HARDEN) -D_GNU_SOURCE -DSKIFF_VERSION=\"$(VERSION)\" \
              -Ispec -Iisolate -Ilauncher $(CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS_ALL := -pie -Wl,-z,relro,-z,now $(LDFLAGS) $(EXTRA_LDFLAGS)
# Linked statically (Debian's -dev packages ship the .a files): each shared
# object costs the loader its lookups and relocations on every start, about
# 0.2 ms of a cold start for these three (docs/performance.md).
LIBS := -Wl,-Bstatic -lcgroup -lseccomp -lyajl_s -Wl,-Bdynamic
# libcurl, libarchive and libcrypto are dlopen()ed when an image operation
# needs them (launcher/imagelibs.h); unit tests that write archives link one.
UNIT_LIBS := -larchive

SPEC_SRC := $(sort $(wildcard spec/*.c))
ISOLATE_SRC := $(sort $(wildcard isolate/*.c))
LAUNCHER_SRC := $(sort $(wildcard launcher/*.c))
SPEC_OBJ := $(SPEC_SRC:%.c=$(BUILD)/obj/%.o)
ISOLATE_OBJ := $(ISOLATE_SRC:%.c=$(BUILD)/obj/%.o)
LAUNCHER_OBJ := $(LAUNCHER_SRC:%.c=$(BUILD)/obj/%.o)
LAUNCHER_LIB_OBJ := $(filter-out $(BUILD)/obj/launcher/main.o,$(LAUNCHER_OBJ))

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

DEBIAN_PACKAGES := gcc make pkg-config libcgroup-dev libseccomp-dev libyajl-dev libcmocka-dev \
                   bats busybox-static valgrind iproute2 python3 clang clang-format libclang-rt-14-dev \
                   libcurl4-openssl-dev libarchive-dev libssl-dev docker-registry skopeo umoci strace

.PHONY: all deps demo check check-unit check-valgrind check-integration asan bench bench-quick install \
        uninstall clean format format-check rootfs check-v2 check-v2-if-able fuzz check-fuzz

all: $(BUILD)/skiff

# ---- dependencies -----------------------------------------------------------
deps: $(BUILD)/.deps-ok
$(BUILD)/.deps-ok: Makefile
	@sh tests/tools/install-deps.sh $(DEBIAN_PACKAGES)
	@mkdir -p $(BUILD) && touch $@

# ---- the binary -------------------------------------------------------------
# `make V=1` shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/libspec.a: $(SPEC_OBJ)
	$(Q)$(AR) rcs $@ $^
$(BUILD)/libisolate.a: $(ISOLATE_OBJ)
	$(Q)$(AR) rcs $@ $^
$(BUILD)/liblauncher.a: $(LAUNCHER_LIB_OBJ)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/skiff: $(BUILD)/obj/launcher/main.o $(BUILD)/liblauncher.a $(BUILD)/libisolate.a $(BUILD)/libspec.a
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- tests ------------------------------------------------------------------
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/liblauncher.a $(BUILD)/libisolate.a $(BUILD)/libspec.a | deps
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CCLD    $@")
	$(Q)$(CC) $(CFLAGS_ALL) -Itests/unit $(LDFLAGS_ALL) -o $@ $< $(BUILD)/liblauncher.a \
	  $(BUILD)/libisolate.a $(BUILD)/libspec.a $(LIBS) $(UNIT_LIBS) -lcmocka

# The payload the integration tests run inside containers: static, no libc
# needed in the image.
PROBE_SRC := $(sort $(wildcard tests/payload/*.c))
$(BUILD)/probe: $(PROBE_SRC) $(wildcard tests/payload/*.h) | deps
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O2 -static -D_GNU_SOURCE -o $@ $(PROBE_SRC)

# A busybox root filesystem built from Debian's busybox-static: the image of
# the demo and of the tests (the probe is added to it).
rootfs: $(BUILD)/rootfs/.ok
$(BUILD)/rootfs/.ok: tests/tools/mkrootfs.sh $(BUILD)/probe | deps
	sh tests/tools/mkrootfs.sh $(BUILD)/rootfs $(BUILD)/probe
	touch $@

check-unit: $(UNIT_BIN)
	@sh tests/tools/run-unit.sh $(UNIT_BIN)

check-valgrind: $(UNIT_BIN)
	@VALGRIND=1 sh tests/tools/run-unit.sh $(UNIT_BIN)

check-integration: $(BUILD)/skiff rootfs
	@sh tests/tools/run-integration.sh $(BUILD)

check: all format-check check-unit check-valgrind check-integration asan check-fuzz check-v2-if-able
	@echo "make check: all suites passed"

asan: | deps
	$(MAKE) BUILD=$(BUILD)/asan OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	  HARDEN="-fPIE" EXTRA_LDFLAGS="-fsanitize=address,undefined" check-unit check-integration-asan

check-integration-asan: $(BUILD)/skiff rootfs
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  sh tests/tools/run-integration.sh $(BUILD)

# ---- fuzzing (tests/fuzz/, docs/testing-fuzz.md) ----------------------------
# libFuzzer harnesses over spec/, built with clang from the sources (not the
# gcc objects) under ASan+UBSan. `fuzz` runs each for FUZZ_SECONDS; `check-fuzz`
# replays the seeds and tests/fuzz/regressions/, then fuzzes each harness for
# FUZZ_CHECK_SECONDS. Any crash, leak, UB or broken round trip fails.
# -Wno-format-nonliteral: clang flags printf-style helpers without a format
# attribute, which gcc accepts.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 300
FUZZ_CHECK_SECONDS ?= 30
FUZZ_OUT := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=gnu11 $(WARN) -Wno-format-nonliteral -g -O1 -fno-omit-frame-pointer \
               -D_GNU_SOURCE -Ispec -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_BIN := $(FUZZ_OUT)/fuzz_spec $(FUZZ_OUT)/fuzz_spec_lenient

$(FUZZ_OUT)/fuzz_spec: tests/fuzz/fuzz_spec.c $(SPEC_SRC) $(wildcard spec/*.h) | deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_spec.c $(SPEC_SRC) -lyajl
$(FUZZ_OUT)/fuzz_spec_lenient: tests/fuzz/fuzz_spec.c $(SPEC_SRC) $(wildcard spec/*.h) | deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DSK_FUZZ_LENIENT=1 -o $@ tests/fuzz/fuzz_spec.c $(SPEC_SRC) -lyajl

fuzz: $(FUZZ_BIN)
	@sh tests/fuzz/run.sh fuzz $(FUZZ_OUT) $(FUZZ_SECONDS) $(FUZZ_BIN)

check-fuzz: $(FUZZ_BIN)
	@sh tests/fuzz/run.sh check $(FUZZ_OUT) $(FUZZ_CHECK_SECONDS) $(FUZZ_BIN)

# The integration suite on a pure cgroup v2 kernel, in a QEMU VM (tests/vm/,
# docs/testing-v2.md). `check` runs it when the host can; guard.sh says why not.
CHECK_V2_DEPS := $(BUILD)/skiff rootfs $(filter %/test_cgroup,$(UNIT_BIN))
check-v2: $(CHECK_V2_DEPS)
	@bash tests/vm/run-v2.sh $(BUILD)

check-v2-if-able: $(CHECK_V2_DEPS)
	@if sh tests/vm/guard.sh; then bash tests/vm/run-v2.sh $(BUILD); fi

demo: $(BUILD)/skiff rootfs
	@sh tests/tools/demo.sh $(BUILD)

bench: $(BUILD)/skiff rootfs
	@bash tests/bench/all.sh $(BUILD)

bench-quick: $(BUILD)/skiff rootfs
	@bash tests/bench/all.sh $(BUILD) quick

# ---- install ----------------------------------------------------------------
install: $(BUILD)/skiff
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/skiff $(DESTDIR)$(BINDIR)/skiff
	if [ -f docs/skiff.1 ]; then install -d $(DESTDIR)$(MANDIR)/man1 && \
	  install -m 0644 docs/skiff.1 $(DESTDIR)$(MANDIR)/man1/skiff.1; fi
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0644 docs/completion/skiff.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/skiff

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/skiff $(DESTDIR)$(MANDIR)/man1/skiff.1

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	@if command -v clang-format >/dev/null && [ -d .git ]; then \
	  clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h') && echo "format: clean"; \
	else echo "format-check: SKIP (no clang-format or not a git checkout)"; fi

clean:
	rm -rf $(BUILD)
