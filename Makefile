# rootlesskit-c build. Dependencies are found with pkg-config; the list of Debian packages
# is scripts/debian-packages.

CC        ?= cc
PKG_CONFIG ?= pkg-config
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
APPARMORDIR ?= /etc/apparmor.d
# The AppArmor profile: "auto" where /etc/apparmor.d exists (installed when it can be
# written, else make install says how), 1 always (an error when it cannot), 0 never
APPARMOR  ?= $(if $(wildcard /etc/apparmor.d/.),auto,0)
ifeq ($(filter auto 1 0,$(APPARMOR)),)
$(error APPARMOR is "auto", "1" or "0", not "$(APPARMOR)")
endif
BUILD     := build
V         ?= 0
Q         := $(if $(filter 1,$(V)),,@)

# Warnings every build gets (fuzz and sanitized builds too), with -Werror: clang and gcc
# alike; the few flags only one of them knows are added when the compiler takes them.
FUZZ_CC   ?= clang
cc-option = $(shell $(1) -Werror $(2) -E -x c /dev/null >/dev/null 2>&1 && echo $(2))
COMMON_WARNINGS := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes -Wshadow \
             -Wformat=2 -Wpointer-arith -Wundef -Wvla -Wwrite-strings -Wimplicit-fallthrough \
             -Wmissing-declarations -Wold-style-definition -Wcast-align -Wno-format-nonliteral
WARNINGS  := $(COMMON_WARNINGS) $(call cc-option,$(CC),-Wno-format-truncation)
FUZZ_WARNINGS := $(COMMON_WARNINGS) $(call cc-option,$(FUZZ_CC),-Wno-format-truncation)
# _FORTIFY_SOURCE needs an optimising build (glibc warns otherwise, and warnings are errors)
HARDENING  = $(if $(filter -O1 -O2 -O3 -Os -Og -Ofast -O,$(CFLAGS)),-D_FORTIFY_SOURCE=2) \
             -fstack-protector-strong -fstack-clash-protection -fcf-protection -fPIE

PKGS      := libmnl libnftnl jansson libevent_core libevent_extra libseccomp
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) slirp)
# What the code needs to build at all, kept out of the user's CFLAGS and CPPFLAGS (which stay
# theirs: `make CFLAGS=-O0` or `make CC=clang` change only what they say). Includes name
# their folder from the top: #include "netstack/engine.h".
BASE_FLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(PKG_CFLAGS) -MMD -MP
CFLAGS    ?= -O2 -g
ALL_CFLAGS = $(BASE_FLAGS) $(WARNINGS) $(HARDENING) $(CPPFLAGS) $(CFLAGS)
LDFLAGS   += -pie -Wl,-z,relro -Wl,-z,now -Wl,--as-needed

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
SAN_CFLAGS = $(BASE_FLAGS) $(WARNINGS) $(CPPFLAGS) $(SAN_FLAGS)

# libslirp (and GLib with it) is not linked: the engine process loads it (engine.c).
# Debian's libraries are linked shared, as Debian's policy asks, so that their security
# updates reach rootlesskit without a rebuild. LINK=static links the small ones whose
# archives Debian ships (libnftnl, jansson, libevent, libseccomp) into the programs
# instead: an idle instance then uses less memory (README.md, "Linking";
# bench/linking.sh measures both).
LINK          ?= shared
STATIC_PKGS   := libnftnl jansson libevent_extra libevent_core libseccomp
LIBS_shared   := $(shell $(PKG_CONFIG) --libs $(PKGS)) -pthread
LIBS_static   := -Wl,-Bstatic $(shell $(PKG_CONFIG) --libs $(STATIC_PKGS)) -Wl,-Bdynamic \
                 $(shell $(PKG_CONFIG) --libs $(filter-out $(STATIC_PKGS),$(PKGS))) -pthread
CTL_LIBS_shared := $(shell $(PKG_CONFIG) --libs jansson)
CTL_LIBS_static := -Wl,-Bstatic $(CTL_LIBS_shared) -Wl,-Bdynamic
ifeq ($(filter shared static,$(LINK)),)
$(error LINK is "shared" (the default) or "static", not "$(LINK)")
endif
LDLIBS        += $(LIBS_$(LINK))

CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

# src/main.c is the only file of rootlesskit not linked into the unit tests
LIB_SRCS  := $(filter-out src/main.c api/client.c,$(wildcard src/*.c src/lib/*.c src/net/*.c port/*.c api/*.c netstack/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
SAN_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/san/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%) $(BUILD)/unit/test_datapath
SAN_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit-san/%) $(BUILD)/unit-san/test_datapath

# the netstack datapath test: the engine against an lwIP virtual child (vendor/lwip), with
# lwIP from Debian's liblwip-dev (its headers as system headers: our warnings are not theirs)
LWIP_CFLAGS   := $(patsubst -I%,-isystem %,$(shell $(PKG_CONFIG) --cflags lwip 2>/dev/null))
LWIP_LIBS     := $(shell $(PKG_CONFIG) --libs lwip 2>/dev/null)
DATAPATH_SRCS := tests/netstack/test_datapath.c vendor/lwip/vchild.c

.SECONDARY:
.PHONY: all check unit unit-san integration integration-san format format-check analyze bench \
	man install install-apparmor uninstall uninstall-apparmor install-check clean FORCE \
	fuzz fuzz-ci fuzz-long soak

all: rootlesskit rootlessctl rootlesskit-docker-proxy man

# the link mode of the programs: a change of LINK links them again
$(BUILD)/link-mode: FORCE
	@mkdir -p $(@D)
	@[ "$$(cat $@ 2>/dev/null)" = "$(LINK)" ] || echo "$(LINK)" >$@

# rootlessctl links only what it uses
CTL_SRCS  := api/client.c $(wildcard src/ctl/*.c)
CTL_OBJS  := $(CTL_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/port/spec.o \
             $(patsubst %,$(BUILD)/obj/src/lib/%.o,util error log gocompat)
CTL_LIBS  := $(CTL_LIBS_$(LINK))

# rootlesskit-docker-proxy: the API client, and nothing of rootlesskit
PROXY_OBJS := $(BUILD)/obj/src/proxy/main.o $(BUILD)/obj/api/client.o \
              $(patsubst %,$(BUILD)/obj/src/lib/%.o,util error log gocompat)

rootlesskit-docker-proxy: $(PROXY_OBJS) $(BUILD)/link-mode
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(PROXY_OBJS) $(CTL_LIBS)

rootlessctl: $(CTL_OBJS) $(BUILD)/link-mode
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CTL_OBJS) $(CTL_LIBS)

rootlesskit: $(LIB_OBJS) $(BUILD)/obj/src/main.o $(BUILD)/link-mode
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(LIB_OBJS) $(BUILD)/obj/src/main.o $(LDLIBS)

# rootlesskit linked both ways, whatever LINK says (bench/linking.sh)
$(BUILD)/link/rootlesskit-%: $(LIB_OBJS) $(BUILD)/obj/src/main.o
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_$*)

# the man pages, from their scdoc sources, dated by SOURCE_DATE_EPOCH when given, else by
# their last commit (the same pages from the same sources)
MAN_PAGES := $(patsubst docs/man/%.scd,$(BUILD)/man/%,$(wildcard docs/man/*.scd))
MAN_EPOCH := $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct -- docs/man 2>/dev/null))

$(BUILD)/man/%: docs/man/%.scd
	@mkdir -p $(@D)
	@echo "  SCDOC   $@"
	$(Q)$(if $(MAN_EPOCH),SOURCE_DATE_EPOCH=$(MAN_EPOCH)) scdoc <$< >$@.tmp && mv $@.tmp $@

man: $(MAN_PAGES)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/san/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC-SAN  $<"
	$(Q)$(CC) $(SAN_CFLAGS) -c -o $@ $<

$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-write-strings $(CMOCKA_CFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS)

$(BUILD)/unit-san/%: tests/unit/%.c $(SAN_OBJS)
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	$(Q)$(CC) $(SAN_CFLAGS) -Wno-write-strings $(CMOCKA_CFLAGS) -o $@ $^ \
		$(CMOCKA_LIBS) $(LDLIBS)

$(BUILD)/unit/test_datapath: $(DATAPATH_SRCS) $(LIB_OBJS)
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LWIP_CFLAGS) $(CMOCKA_CFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) \
		$(LWIP_LIBS) $(LDLIBS)

$(BUILD)/unit-san/test_datapath: $(DATAPATH_SRCS) $(SAN_OBJS)
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	$(Q)$(CC) $(SAN_CFLAGS) $(LWIP_CFLAGS) \
		$(CMOCKA_CFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LWIP_LIBS) $(LDLIBS)

# rootlesskit itself built with ASan+UBSan, for the integration suite
$(BUILD)/rootlesskit-san: $(SAN_OBJS) $(BUILD)/san/src/main.o
	@echo "  LD-SAN  $@"
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

# The whole suite: unit tests, the same under ASan+UBSan, the format check, the static
# analysis, a short run of each fuzzer, then the integration tests (as an unprivileged user; see
# tests/integration/run), once with the release build and once with the sanitized one,
# and a short soak.
check: unit unit-san format-check analyze install-check fuzz-ci integration integration-san soak

# One instance per port driver worked for SOAK_SECONDS in all (tests/soak/soak.py): ports
# published and removed in a loop under a connection load, descriptors, threads and memory
# back to their baseline after. `make soak SOAK_SECONDS=3600` for a long run.
SOAK_SECONDS ?= 60
soak: rootlesskit rootlessctl
	tests/soak/run $(SOAK_SECONDS)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

unit-san: $(SAN_BINS)
	@set -e; for t in $(SAN_BINS); do echo "== $$t (asan+ubsan)"; \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; done

# the TLS fixture of the integration tests (mbedtls)
$(BUILD)/tlsfix: tests/tools/tlsfix.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< -lmbedtls -lmbedx509 -lmbedcrypto

# a command under a seccomp filter that fails chosen calls (a host that lacks a feature)
$(BUILD)/deny: tests/tools/deny.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(shell $(PKG_CONFIG) --libs libseccomp)

# the hostile command: reaches for the port driver's socket supply, stops the supervisor
$(BUILD)/inject: tests/tools/inject.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $<

integration: rootlesskit rootlessctl rootlesskit-docker-proxy $(BUILD)/tlsfix $(BUILD)/deny $(BUILD)/inject
	tests/integration/run

integration-san: $(BUILD)/rootlesskit-san rootlessctl rootlesskit-docker-proxy $(BUILD)/tlsfix $(BUILD)/deny $(BUILD)/inject
	RK_UNDER_TEST=$(BUILD)/rootlesskit-san ASAN_OPTIONS=detect_leaks=1 tests/integration/run

# libFuzzer harnesses (clang): `make fuzz` builds them, `make fuzz-ci` runs each for
# FUZZ_SECONDS (CI: briefly), `make fuzz FUZZ_SECONDS=3600` for a long run.
FUZZ_SECONDS ?= 20
# the frame path gets longer: it is where the child meets libslirp
FUZZ_NETSTACK_SECONDS ?= 180
FUZZ_NAMES   := cli subid port_spec api_spec netproto netstack peers http
FUZZ_BINS    := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_FLAGS    = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                $(BASE_FLAGS) $(FUZZ_WARNINGS) $(CPPFLAGS)

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c $(LIB_SRCS)
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS)

fuzz: $(FUZZ_BINS)

fuzz-ci: $(FUZZ_BINS)
	@for n in $(FUZZ_NAMES); do \
		t=$(FUZZ_SECONDS); [ $$n != netstack ] || t=$(FUZZ_NETSTACK_SECONDS); \
		mkdir -p $(BUILD)/fuzz/corpus-$$n; \
		echo "== fuzz_$$n for $$t s"; \
		if ! $(BUILD)/fuzz/fuzz_$$n -max_total_time=$$t -max_len=4096 \
			-print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
			$(BUILD)/fuzz/corpus-$$n fuzz/corpus/$$n \
			>$(BUILD)/fuzz/$$n.log 2>&1; then \
			tail -n 40 $(BUILD)/fuzz/$$n.log; exit 1; \
		fi; \
		grep -E "^stat::number_of_executed_units" $(BUILD)/fuzz/$$n.log; \
	done

# The long run of the frame fuzzers (the frame path and the helpers' frame protocols):
# FUZZ_LONG_SECONDS each, one hour by default, with inputs up to a 64 KiB frame behind its
# virtio-net header. Each keeps its corpus in $(BUILD)/fuzz/corpus-NAME between runs.
FUZZ_LONG_SECONDS ?= 3600
FUZZ_LONG_NAMES   ?= netstack netproto

fuzz-long: $(FUZZ_LONG_NAMES:%=$(BUILD)/fuzz/fuzz_%)
	@for n in $(FUZZ_LONG_NAMES); do \
		mkdir -p $(BUILD)/fuzz/corpus-$$n; \
		echo "== fuzz_$$n for $(FUZZ_LONG_SECONDS) s"; \
		if ! $(BUILD)/fuzz/fuzz_$$n -max_total_time=$(FUZZ_LONG_SECONDS) -max_len=65600 \
			-print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
			$(BUILD)/fuzz/corpus-$$n fuzz/corpus/$$n \
			>$(BUILD)/fuzz/$$n-long.log 2>&1; then \
			tail -n 40 $(BUILD)/fuzz/$$n-long.log; exit 1; \
		fi; \
		grep -E "^stat::number_of_executed_units" $(BUILD)/fuzz/$$n-long.log; \
	done

FORMAT_SRCS := src/*.[ch] src/lib/*.[ch] src/net/*.[ch] src/ctl/*.[ch] src/proxy/*.[ch] port/*.[ch] api/*.[ch] netstack/*.[ch] vendor/lwip/*.[ch] \
               tests/unit/*.[ch] tests/netstack/*.[ch] tests/tools/*.c fuzz/*.c

format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRCS) && echo "format: ok"

# Static analysis of the programs' sources, zero findings: no include reaching up a layer
# (scripts/check-layers), cppcheck, then clang's analyzer
# (.clang-tidy), two files at a time (its summary lines on stderr are left out)
ANALYZE_SRCS  := $(LIB_SRCS) src/main.c $(CTL_SRCS) src/proxy/main.c
ANALYZE_FLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(PKG_CFLAGS)

analyze:
	$(Q)scripts/check-layers
	@echo "== cppcheck"
	$(Q)cppcheck -q --enable=warning,portability --std=c11 --error-exitcode=1 --inline-suppr \
		-D_GNU_SOURCE -I. -j2 $(ANALYZE_SRCS)
	@echo "== clang-tidy (clang-analyzer)"
	$(Q)printf '%s\n' $(ANALYZE_SRCS) | xargs -P2 -I{} clang-tidy -quiet {} -- $(ANALYZE_FLAGS) \
		2>/dev/null
	@echo "analyze: ok"

# every figure in one run, then one table against the limits (bench/README.md)
bench: rootlesskit
	bench/report.sh

# make install: the programs, their man pages, bash completion, and where AppArmor is, the
# profile that lets rootlesskit create user namespaces there, named after the installed
# path as AppArmor's tools name profiles (usr.local.bin.rootlesskit). make uninstall
# removes exactly these files (tests/dist/install.bats).
PROGRAMS    := rootlesskit rootlessctl rootlesskit-docker-proxy
COMPLETIONS := rootlesskit rootlessctl
AA_PATH     := $(BINDIR)/rootlesskit
AA_NAME     := $(subst /,.,$(patsubst /%,%,$(AA_PATH)))
AA_DEST      = $(DESTDIR)$(APPARMORDIR)/$(AA_NAME)
INSTALLED   := $(PROGRAMS:%=$(BINDIR)/%) $(MAN_PAGES:$(BUILD)/man/%=$(MANDIR)/man1/%) \
               $(COMPLETIONS:%=$(BASHCOMPDIR)/%)
install_profile = install -d $(DESTDIR)$(APPARMORDIR) && \
	sed -e 's|@PATH@|$(AA_PATH)|g' -e 's|@NAME@|$(AA_NAME)|g' dist/apparmor/rootlesskit.in \
		>$(AA_DEST).tmp && chmod 0644 $(AA_DEST).tmp && mv $(AA_DEST).tmp $(AA_DEST)
load_profile = echo "AppArmor: as root, load the profile with \"apparmor_parser -r \
	$(APPARMORDIR)/$(AA_NAME)\" (AppArmor 4.0 or later; needed where \
	kernel.apparmor_restrict_unprivileged_userns=1)"

install: $(PROGRAMS) $(MAN_PAGES)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/
	$(foreach c,$(COMPLETIONS),install -m 0644 dist/completion/$(c).bash $(DESTDIR)$(BASHCOMPDIR)/$(c) &&) true
ifeq ($(APPARMOR),1)
	$(install_profile)
	@$(load_profile)
else ifeq ($(APPARMOR),auto)
	@if ( $(install_profile) ) 2>/dev/null; then $(load_profile); else \
		rm -f $(AA_DEST).tmp 2>/dev/null; \
		echo "AppArmor: the profile was not installed ($(AA_DEST) cannot be written): as root," \
			"run \"make install-apparmor BINDIR=$(BINDIR)\""; fi
endif

# the AppArmor profile alone (root, after a user's make install into another PREFIX)
install-apparmor:
	$(install_profile)
	@$(load_profile)

# A loaded profile stays loaded (apparmor_parser -R before, or a reboot, unloads it)
uninstall:
	rm -f $(INSTALLED:%=$(DESTDIR)%)
ifeq ($(APPARMOR),1)
	rm -f $(AA_DEST)
else ifeq ($(APPARMOR),auto)
	@if [ -e $(AA_DEST) ] && ! rm -f $(AA_DEST) 2>/dev/null; then \
		echo "AppArmor: the profile was not removed ($(AA_DEST) cannot be written): as root," \
			"run \"make uninstall-apparmor BINDIR=$(BINDIR)\""; fi
endif

uninstall-apparmor:
	rm -f $(AA_DEST)

# the installed files, man pages, completion and AppArmor profile, checked in a temporary
# DESTDIR (tests/dist/)
install-check: all
	bats --tap tests/dist

clean:
	rm -rf $(BUILD) rootlesskit rootlessctl rootlesskit-docker-proxy

-include $(LIB_OBJS:.o=.d) $(SAN_OBJS:.o=.d) $(BUILD)/obj/src/main.d $(CTL_OBJS:.o=.d) \
	$(PROXY_OBJS:.o=.d)
