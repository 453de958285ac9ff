# cell - login-session isolator. Plain make; see README.md.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share
SYSCONFDIR ?= /etc
MULTIARCH  := $(shell $(CC) -print-multiarch 2>/dev/null)
PAMDIR     ?= $(if $(MULTIARCH),/lib/$(MULTIARCH)/security,/lib/security)
SYSTEMD_DROPIN ?= $(SYSCONFDIR)/systemd/system/user@.service.d
DESTDIR    ?=

CFLAGS   ?= -O2 -g
CPPFLAGS ?=
LDFLAGS  ?=
WARN     := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wmissing-prototypes \
            -Wstrict-prototypes -Wpointer-arith -Wvla -Wswitch-default \
            -Wmissing-declarations -Wcast-qual -Wwrite-strings
HARDEN   := -fstack-protector-strong -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fPIC \
            -fstack-clash-protection -fcf-protection -ftrivial-auto-var-init=zero
VERSION  := $(shell cat VERSION)
DEFS     := -D_GNU_SOURCE -DCELL_VERSION='"$(VERSION)"' \
            -DCELLSH_PATH='"$(BINDIR)/cellsh"' \
            -DCELL_INIT_PATH='"$(LIBEXECDIR)/cell/cell-init"' \
            -DCELL_CONF_PATH='"$(SYSCONFDIR)/security/cell.conf"' \
            -DCELL_PAMDIR='"$(PAMDIR)"'
ALL_CFLAGS = -std=gnu11 $(CPPFLAGS) $(CFLAGS) $(WARN) $(HARDEN) $(DEFS) -Ilib
LDHARDEN := -Wl,-z,relro,-z,now,-z,noexecstack $(LDFLAGS)

B := build
LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:lib/%.c=$(B)/lib/%.o)

PROGS := $(B)/pam_cell.so $(B)/cellsh $(B)/cell-init $(B)/cell-manager-gate $(B)/cellctl \
         $(B)/cell-procfs $(B)/cell-connect

all: $(PROGS)

$(B)/lib/%.o: lib/%.c $(wildcard lib/*.h) | $(B)/lib
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/%.o: %.c $(wildcard lib/*.h shell/*.h ctl/*.h) | $(B)/lib
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libcell.a: $(LIB_OBJ)
	rm -f $@; ar rcs $@ $^

$(B)/pam_cell.so: $(B)/pam_module/pam_cell.o $(B)/libcell.a pam_module/module.map
	$(CC) -shared $(LDHARDEN) -Wl,--version-script=pam_module/module.map \
	      -Wl,--no-undefined -o $@ $< $(B)/libcell.a -lpam -lseccomp

# Static: no dynamic loader, so LD_PRELOAD/LD_AUDIT/LD_LIBRARY_PATH passed by a
# login program (sshd AcceptEnv, PAM env) cannot run code outside the cell.
$(B)/cellsh: $(B)/shell/cellsh.o $(B)/shell/args.o $(B)/libcell.a
	$(CC) -static-pie $(LDHARDEN) -o $@ $^ -l:libcap.a -l:libseccomp.a

# Static: started for every cell, it then loads nothing (an exec about 1 ms
# cheaper here, and 40 KiB less memory per process of an idle cell). It
# never talks to systemd itself: pam_cell asks for the cell's scope.
$(B)/cell-init: $(B)/init/cell-init.o $(B)/libcell.a
	$(CC) -static-pie $(LDHARDEN) -o $@ $^ -l:libcap.a -l:libseccomp.a

# Run inside cells by users (ssh USER@HOST cell-connect HOST PORT): no lib.
$(B)/cell-connect: $(B)/shell/cell-connect.o
	$(CC) -pie $(LDHARDEN) -o $@ $^

# The proc views' server: no libcap, no libseccomp, no PAM.
$(B)/cell-procfs: $(B)/procfs/cell-procfs.o $(B)/libcell.a
	$(CC) -pie $(LDHARDEN) -o $@ $^ -lm

$(B)/cell-manager-gate: $(B)/systemd/cell-manager-gate.o $(B)/libcell.a
	$(CC) -pie $(LDHARDEN) -o $@ $^ -lcap -lseccomp

CTL_OBJ := $(patsubst ctl/%.c,$(B)/ctl/%.o,$(wildcard ctl/*.c))
$(B)/cellctl: $(CTL_OBJ) $(B)/libcell.a
	$(CC) -pie $(LDHARDEN) -o $@ $^ -lcap -lseccomp

$(B)/lib:
	mkdir -p $@

# ---- tests ----
# Pure unit tests, and the PAM-level one (pam_wrapper, preloaded).
UNIT_PURE := $(B)/tests/test_conf $(B)/tests/test_idmap $(B)/tests/test_registry \
             $(B)/tests/test_initargs $(B)/tests/test_procview $(B)/tests/test_cgroup
UNIT := $(UNIT_PURE) $(B)/tests/test_pam
TEST_TOOLS := $(B)/tests/logsink $(B)/tests/dlopen_check $(B)/tests/attack $(B)/tests/deny_pidns \
              $(B)/tests/nss/libnss_celltest.so.2 $(B)/tests/nss/libsubid_celltest.so

$(B)/tests/test_%: tests/unit/test_%.c $(B)/libcell.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DSRCDIR='"$(CURDIR)"' -Wno-missing-prototypes -Wno-missing-declarations \
	      $(LDHARDEN) -o $@ $< $(B)/libcell.a -lcmocka -lcap -lseccomp -lm

$(B)/tests/%: tests/tools/%.c $(B)/libcell.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) -o $@ $< -ldl

# pam_cell through pam_wrapper and nss_wrapper (preloaded by the test itself).
$(B)/tests/test_pam: tests/unit/test_pam.c $(B)/pam_cell.so
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DBUILDDIR='"$(CURDIR)/$(B)"' -DPAMDIR='"$(PAMDIR)"' -Wno-missing-prototypes \
	      -Wno-missing-declarations $(LDHARDEN) -o $@ $< -lcmocka -lpamtest -lpam

# A failing NSS group source for tests/e2e/test_nss.sh.
$(B)/tests/nss/libnss_celltest.so.2: tests/tools/nss_celltest.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libnss_celltest.so.2 -o $@ $<

# A subid source for libsubid (nsswitch.conf's "subid: celltest"), same test.
$(B)/tests/nss/libsubid_celltest.so: tests/tools/subid_celltest.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -o $@ $<

# Run inside cells by the escape suite, as the attacker.
$(B)/tests/attack: tests/escape/attack.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -static -o $@ $<

# ---- benchmark (root; installs bubblewrap, firejail, gnuplot) ----
$(B)/bench/driver: bench/driver.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $< -lpam

$(B)/bench/minimal: bench/minimal.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<

$(B)/bench/template: bench/template.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<

bench: all $(TEST_TOOLS) $(B)/bench/driver $(B)/bench/minimal $(B)/bench/template
	tools/install-deps.sh --bench
	bench/run.sh

# ---- fuzzing (clang libFuzzer + ASan + UBSan) ----
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
FUZZ_FLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
              -D_GNU_SOURCE -Ilib -Ishell
FUZZERS    := $(B)/fuzz/fuzz_conf $(B)/fuzz/fuzz_idmap $(B)/fuzz/fuzz_cellsh_args \
              $(B)/fuzz/fuzz_initargs

$(B)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) shell/args.c $(wildcard lib/*.h shell/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(LIB_SRC) shell/args.c -lcap -lseccomp

fuzz-build: $(FUZZERS)

# Each target for FUZZ_TIME seconds; any crash, leak or sanitizer report fails.
fuzz: fuzz-build
	@set -e; for f in $(FUZZERS); do \
		mkdir -p $(B)/fuzz/corpus-$$(basename $$f); \
		echo "== $$f ($(FUZZ_TIME) s)"; \
		$$f -max_total_time=$(FUZZ_TIME) -max_len=4096 -print_final_stats=1 \
		    -artifact_prefix=$(B)/fuzz/ $(B)/fuzz/corpus-$$(basename $$f) tests/fuzz/seeds; \
	done

fuzz-smoke:
	$(MAKE) fuzz FUZZ_TIME=10

check-unit: $(UNIT)
	@set -e; for t in $(UNIT); do echo "== $$t"; $$t; done

check-unit-pure: $(UNIT_PURE)
	@set -e; for t in $(UNIT_PURE); do echo "== $$t"; $$t; done

# The pure unit tests again under ASan and UBSan (their own build directory;
# test_pam preloads pam_wrapper, which ASan's runtime must precede).
check-asan:
	$(MAKE) B=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all" \
	        HARDEN="-fPIC" check-unit-pure

# gcc's static analyzer over every product file (findings are warnings).
analyze:
	@set -e; for f in $(LIB_SRC) pam_module/pam_cell.c init/cell-init.c shell/cellsh.c shell/args.c systemd/cell-manager-gate.c procfs/cell-procfs.c ctl/*.c; do \
		$(CC) -std=gnu11 -O1 -fanalyzer -c -o /dev/null $(DEFS) -Ilib -Ishell $$f; \
	done

# Formatting: .clang-format (kernel style); format-check changes nothing.
FORMAT_SRC = $(wildcard lib/*.[ch] pam_module/*.c init/*.c shell/*.[ch] systemd/*.c ctl/*.[ch] procfs/*.c)
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRC) && echo "format-check: $(words $(FORMAT_SRC)) files match .clang-format"

test-build: all $(UNIT) $(TEST_TOOLS) $(B)/bench/driver

# Everything; needs root (real namespaces, sshd, su). See README.md.
check: test-build
	tests/run-all.sh

# ---- install ----
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR)/cell \
	           $(DESTDIR)$(PAMDIR) $(DESTDIR)$(SYSCONFDIR)/security/cell.d \
	           $(DESTDIR)$(SYSCONFDIR)/security $(DESTDIR)$(MANDIR)/man5 \
	           $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(B)/cellsh $(DESTDIR)$(BINDIR)/cellsh
	install -m 0755 $(B)/cell-connect $(DESTDIR)$(BINDIR)/cell-connect
	install -m 0755 $(B)/cellctl $(DESTDIR)$(SBINDIR)/cellctl
	install -m 0755 $(B)/cell-init $(DESTDIR)$(LIBEXECDIR)/cell/cell-init
	install -m 0755 $(B)/cell-manager-gate $(DESTDIR)$(LIBEXECDIR)/cell/cell-manager-gate
	install -m 0755 $(B)/cell-procfs $(DESTDIR)$(LIBEXECDIR)/cell/cell-procfs
	install -d $(DESTDIR)$(SYSTEMD_DROPIN)
	sed -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|' systemd/user@.service.d-cell.conf \
	    > $(DESTDIR)$(SYSTEMD_DROPIN)/cell.conf
	@# On a systemd host, the drop-in counts from the next user manager on.
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	install -m 0644 $(B)/pam_cell.so $(DESTDIR)$(PAMDIR)/pam_cell.so
	@# Never overwrite an admin's config.
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/security/cell.conf ]; then \
	  echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/security/cell.conf"; \
	else \
	  sed -e 's|@CELLSH@|$(BINDIR)/cellsh|' -e 's|@CELL_INIT@|$(LIBEXECDIR)/cell/cell-init|' \
	    conf/cell.conf > $(DESTDIR)$(SYSCONFDIR)/security/cell.conf && \
	  chmod 0644 $(DESTDIR)$(SYSCONFDIR)/security/cell.conf; \
	fi
	install -m 0644 man/cell.conf.5 $(DESTDIR)$(MANDIR)/man5/cell.conf.5
	install -m 0644 man/pam_cell.8 $(DESTDIR)$(MANDIR)/man8/pam_cell.8
	install -m 0644 man/cell-init.8 $(DESTDIR)$(MANDIR)/man8/cell-init.8
	install -m 0644 man/cell-manager-gate.8 $(DESTDIR)$(MANDIR)/man8/cell-manager-gate.8
	install -m 0644 man/cell-procfs.8 $(DESTDIR)$(MANDIR)/man8/cell-procfs.8
	install -m 0644 man/cellctl.8 $(DESTDIR)$(MANDIR)/man8/cellctl.8
	install -D -m 0644 conf/sshd_cell.conf $(DESTDIR)$(DATADIR)/cell/sshd_cell.conf
	install -m 0644 man/cellsh.1 $(DESTDIR)$(MANDIR)/man1/cellsh.1
	install -m 0644 man/cell-connect.1 $(DESTDIR)$(MANDIR)/man1/cell-connect.1

# The config is the admin's: uninstall leaves it (remove it by hand).
# A PAM stack still loading pam_cell.so would fail every login through it
# ("Module is unknown") once the module is gone: name them and stop, unless
# FORCE=1.
uninstall:
	@stacks=$$(grep -lE '^[[:space:]]*-?session[[:space:]].*pam_cell\.so' \
	           $(DESTDIR)/etc/pam.d/* 2>/dev/null); \
	if [ -n "$$stacks" ]; then \
	  echo "make uninstall: these PAM stacks still load pam_cell.so:" >&2; \
	  for f in $$stacks; do echo "  $$f" >&2; done; \
	  echo "without the module, every login through them fails ('Module is unknown')." >&2; \
	  echo "remove their pam_cell.so lines first (pam-auth-update, or edit them)," >&2; \
	  if [ -z "$(FORCE)" ]; then echo "or run make uninstall FORCE=1." >&2; exit 1; fi; \
	fi
	rm -f $(DESTDIR)$(BINDIR)/cellsh $(DESTDIR)$(BINDIR)/cell-connect $(DESTDIR)$(SBINDIR)/cellctl \
	      $(DESTDIR)$(LIBEXECDIR)/cell/cell-init \
	      $(DESTDIR)$(LIBEXECDIR)/cell/cell-manager-gate $(DESTDIR)$(LIBEXECDIR)/cell/cell-procfs \
	      $(DESTDIR)$(SYSTEMD_DROPIN)/cell.conf \
	      $(DESTDIR)$(PAMDIR)/pam_cell.so $(DESTDIR)$(MANDIR)/man5/cell.conf.5 \
	      $(DESTDIR)$(MANDIR)/man8/pam_cell.8 $(DESTDIR)$(MANDIR)/man8/cell-init.8 \
	      $(DESTDIR)$(MANDIR)/man8/cell-manager-gate.8 $(DESTDIR)$(MANDIR)/man8/cellctl.8 \
	      $(DESTDIR)$(MANDIR)/man8/cell-procfs.8 \
	      $(DESTDIR)$(MANDIR)/man1/cellsh.1 $(DESTDIR)$(MANDIR)/man1/cell-connect.1 \
	      $(DESTDIR)$(DATADIR)/cell/sshd_cell.conf
	-rmdir $(DESTDIR)$(LIBEXECDIR)/cell $(DESTDIR)$(SYSTEMD_DROPIN) $(DESTDIR)$(DATADIR)/cell 2>/dev/null
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

clean:
	rm -rf $(B) build-asan

.PHONY: bench fuzz fuzz-build fuzz-smoke all check check-unit check-unit-pure check-asan analyze format \
	format-check test-build install uninstall clean print-pamdir

print-pamdir:
	@echo $(PAMDIR)
