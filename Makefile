# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# portwarden: one entry point. `make run` builds and runs the daemon on its
# embedded defaults; `make test` builds and runs every test. Both install the
# Debian packages below first when they are missing.

O ?= build
V ?= 0
Q := $(if $(filter 1,$(V)),,@)
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
VMLINUX_H ?=
PREFIX ?= /usr/local
DESTDIR ?=
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)

# Every Debian package the build, the daemon and the tests use.
DEB_DEPS := make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config \
	libmicrohttpd-dev libsqlite3-dev libjansson-dev libcmocka-dev uthash-dev \
	iproute2 procps curl sqlite3 prometheus nginx-light python3 python3-yaml systemd \
	qemu-system-x86 busybox-static libclang-rt-14-dev valgrind linux-perf

ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(O)/%.skel.h,$(BPF_SRCS))
USER_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
USER_OBJS := $(patsubst user/%.c,$(O)/user/%.o,$(USER_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/unit/%,$(UNIT_SRCS))
SYS_SRCS := $(wildcard tests/system/test_*.c)
SYS_BINS := $(patsubst tests/system/%.c,$(O)/tests/system/%,$(SYS_SRCS))
SYS_LIB := $(filter-out $(SYS_SRCS),$(wildcard tests/system/*.c))

PKGS := libbpf libmicrohttpd sqlite3 jansson
EXTRA_CFLAGS ?=
EXTRA_LDFLAGS ?=
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
	-std=gnu11 -D_GNU_SOURCE -DPW_VERSION='"$(VERSION)"' -Iinclude -Iuser -I$(O) \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(EXTRA_CFLAGS)
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz -lpthread -lm
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -D__BPF__ -Iinclude -I$(O) -Wall -Werror \
	-Wno-unused-function

.SECONDARY:
.PHONY: all deps run test test-unit test-system test-vm bench fuzz fuzz-build install clean format check-format
all: $(O)/portwarden

deps:
	@scripts/install-deps.sh $(DEB_DEPS)

$(O)/vmlinux.h:
	@mkdir -p $(O)
ifneq ($(VMLINUX_H),)
	cp $(VMLINUX_H) $@
else
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@
endif

$(O)/bpf/%.bpf.o: bpf/%.bpf.c bpf/*.bpf.h include/*.h $(O)/vmlinux.h
	@mkdir -p $(@D)
	@echo '  BPF     $@'
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o

$(O)/%.skel.h: $(O)/bpf/%.bpf.o
	@echo '  SKEL    $@'
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(O)/user/%.o: user/%.c user/*.h include/*.h $(SKELS)
	@mkdir -p $(@D)
	@echo '  CC      $@'
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(O)/libpw.a: $(USER_OBJS)
	rm -f $@ && ar rcs $@ $^

$(O)/portwarden: $(O)/user/main.o $(O)/libpw.a
	@echo '  CC      $@'
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(EXTRA_LDFLAGS)

$(O)/tests/unit/%: tests/unit/%.c $(O)/libpw.a $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	@echo '  CC      $@'
	$(Q)$(CC) $(CFLAGS) -Itests/unit $< $(O)/libpw.a -o $@ $(LDLIBS) -lcmocka $(EXTRA_LDFLAGS)

$(O)/tests/system/%: tests/system/%.c $(SYS_LIB) $(wildcard tests/system/*.h) $(O)/libpw.a
	@mkdir -p $(@D)
	@echo '  CC      $@'
	$(Q)$(CC) $(CFLAGS) -Itests/system $< $(SYS_LIB) $(O)/libpw.a -o $@ $(LDLIBS) $(EXTRA_LDFLAGS)

# Runs the daemon on its embedded defaults (loopback metrics on :9742).
run: deps
	$(MAKE) all
	$(O)/portwarden run

test: deps
	$(MAKE) all tests-build
	tests/run-all.sh $(O)

tests-build: $(O)/portwarden $(UNIT_BINS) $(SYS_BINS)

# Every executable bench/*.sh, each given the build directory (root; see README
# "Benchmarks"); everything they print also goes to $(O)/bench-results.txt.
bench: deps
	$(MAKE) $(O)/portwarden $(O)/bench/floor.bpf.o $(O)/bench/floor_load
	@: > $(O)/bench-results.txt; \
	for b in bench/*.sh; do [ -x "$$b" ] || continue; echo "=== $$b" | tee -a $(O)/bench-results.txt; \
		bash -o pipefail -c '"$$0" "$$1" 2>&1 | tee -a "$$1/bench-results.txt"' $$b $(O) || exit 1; \
	done

# bench/run.sh's floor arm: minimal programs on the same hooks (bench/floor.bpf.c).
$(O)/bench/floor.bpf.o: bench/floor.bpf.c $(O)/vmlinux.h
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/bench/floor_load: bench/floor_load.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

# libFuzzer targets (tests/fuzz/fuzz_*.c), built by tests/fuzz/suite.sh into a
# separate O (clang, -fsanitize=fuzzer-no-link on the library). `make fuzz`
# runs each one longer than `make test` does (FUZZ_SECS each).
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(O)/tests/fuzz/%,$(FUZZ_SRCS))
FUZZ_LDFLAGS ?= -fsanitize=fuzzer,address,undefined
FUZZ_SECS ?= 300
$(O)/tests/fuzz/%: tests/fuzz/%.c $(O)/libpw.a
	@mkdir -p $(@D)
	@echo '  FUZZ    $@'
	$(Q)$(CLANG) $(CFLAGS) $(FUZZ_LDFLAGS) $< $(O)/libpw.a -o $@ $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: deps
	PW_FUZZ_SECS=$(FUZZ_SECS) tests/fuzz/suite.sh $(O)

test-unit: $(UNIT_BINS)
	tests/run-unit.sh $(O)

test-system: $(O)/portwarden $(SYS_BINS)
	tests/run-system.sh $(O)

# The system suites in Debian's 6.1 kernel under qemu, bind tiers A, B and C
# (tests/vm/README.md; knobs PW_VM_TIERS, PW_VM_SUITES, PW_VM_SKIP_SUITES).
test-vm: $(O)/portwarden $(SYS_BINS)
	tests/vm/suite.sh $(O)

clean:
	rm -rf $(O)

format:
	clang-format -i $(wildcard user/*.c user/*.h include/*.h bpf/*.c bpf/*.h tests/*/*.c tests/*/*.h)

# --- install (deploy) ---
# `make install [PREFIX=/usr/local] [DESTDIR=]`: the daemon, its man page, the
# systemd unit (in $(PREFIX)/lib/systemd/system, which systemd searches for
# /usr/local; distro packages set SYSTEMDUNITDIR=/lib/systemd/system), a config
# example, the Prometheus rules and the Grafana dashboard. /etc is not under
# PREFIX. The unit's /usr/local paths are rewritten to $(PREFIX).
# `install-data` installs everything but the binary (no build needed).
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/portwarden
INSTALL ?= install

.PHONY: install-data
install: all install-data
	$(INSTALL) -D -m 0755 $(O)/portwarden $(DESTDIR)$(PREFIX)/bin/portwarden

install-data:
	$(INSTALL) -d -m 0755 $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|/usr/local/|$(PREFIX)/|g' deploy/systemd/portwarden.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/portwarden.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/portwarden.service
	$(INSTALL) -D -m 0644 deploy/portwarden.conf.example \
		$(DESTDIR)$(SYSCONFDIR)/portwarden/portwarden.conf.example
	$(INSTALL) -D -m 0644 deploy/portwarden.8 $(DESTDIR)$(MANDIR)/man8/portwarden.8
	$(INSTALL) -D -m 0644 deploy/prometheus/portwarden-rules.yml \
		$(DESTDIR)$(DATADIR)/prometheus/portwarden-rules.yml
	$(INSTALL) -D -m 0644 deploy/grafana/portwarden-dashboard.json \
		$(DESTDIR)$(DATADIR)/grafana/portwarden-dashboard.json
	$(INSTALL) -D -m 0644 deploy/RUNBOOK.md $(DESTDIR)$(DATADIR)/RUNBOOK.md
# --- end install ---
