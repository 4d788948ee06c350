#!/usr/bin/env bats
# What "make install" puts on a machine, checked in a temporary DESTDIR: exactly the listed
# files, which "make uninstall" removes again; man pages that render without warnings and
# name every flag --help lists (and no other); bash completion that offers every flag and
# each value --help lists; an AppArmor profile that Debian's apparmor_parser reads.
# Run by "make install-check" (part of make check) after the build.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup_file() {
	export ROOT=$BATS_FILE_TMPDIR/root
	make -s -C "$TOP" install DESTDIR="$ROOT" PREFIX=/usr APPARMOR=1 >/dev/null
}

# the flags an options listing names: "   --name value, -n value [ ... ]   usage" lines
# (urfave/cli's and Go's flag package's), one per line, sorted
help_flags() {
	sed -nE 's/^ +(-{1,2}[a-z][^ ]*( [^ ]+)*)(  .*)?$/\1/p' |
		grep -oE -- '(^|[ ,[])-{1,2}[a-z][a-z0-9-]*' | sed -E 's/^[ ,[]//' | sort -u
}

rootlesskit_flags() {
	"$ROOT/usr/bin/rootlesskit" --help | sed -n '/^OPTIONS:/,$p' | help_flags
}

# rootlessctl's global flags and each command's
rootlessctl_flags() {
	local c
	{
		"$ROOT/usr/bin/rootlessctl" --help | sed -n '/^GLOBAL OPTIONS:/,$p' | help_flags
		for c in $(ctl_commands); do
			"$ROOT/usr/bin/rootlessctl" "$c" --help | sed -n '/^OPTIONS:/,$p' | help_flags
		done
	} | sort -u
}

ctl_commands() {
	"$ROOT/usr/bin/rootlessctl" --help | sed -n '/^COMMANDS:/,/^$/p' | sed -nE 's/^   ([a-z-]+).*/\1/p' |
		grep -vx help
}

# the page rendered as plain text, wide enough that no line breaks inside a flag
page() {
	MANWIDTH=1000 LC_ALL=C man -l "$ROOT/usr/share/man/man1/$1.1"
}

# every flag of the help in the page, and every flag the page lists as an entry in the help
check_page() { # name, then the help's flags on stdin
	local name=$1 f text
	text=$(page "$name")
	[ -n "$text" ] || fail "$name.1 renders empty"
	while read -r f; do
		grep -qE -- "(^|[^a-zA-Z0-9-])$f([^a-zA-Z0-9-]|\$)" <<<"$text" ||
			fail "$name.1 does not mention $f, which --help lists"
	done
	# entries: the indented lines of the page that start with a flag
	grep -E '^       -' <<<"$text" | grep -oE -- '(^|[ ,[])-{1,2}[a-z][a-z0-9-]*' |
		sed -E 's/^[ ,[]//' | sort -u >"$BATS_TEST_TMPDIR/page-flags"
}

@test "make install puts exactly these files in DESTDIR, make uninstall removes exactly them" {
	local d=$BATS_TEST_TMPDIR/root
	# what was there before stays
	mkdir -p "$d/usr/bin" "$d/etc/apparmor.d/local"
	echo keep >"$d/usr/bin/other"
	echo keep >"$d/etc/apparmor.d/local/usr.bin.rootlesskit"
	run make -s -C "$TOP" install DESTDIR="$d" PREFIX=/usr APPARMOR=1
	assert_success
	assert_output --partial 'as root, load the profile with "apparmor_parser -r /etc/apparmor.d/usr.bin.rootlesskit"'
	run bash -c "cd '$d' && find . -type f -printf '%m %p\n' | sort -k2"
	assert_output "644 ./etc/apparmor.d/local/usr.bin.rootlesskit
644 ./etc/apparmor.d/usr.bin.rootlesskit
644 ./usr/bin/other
755 ./usr/bin/rootlessctl
755 ./usr/bin/rootlesskit
755 ./usr/bin/rootlesskit-docker-proxy
644 ./usr/share/bash-completion/completions/rootlessctl
644 ./usr/share/bash-completion/completions/rootlesskit
644 ./usr/share/man/man1/rootlessctl.1
644 ./usr/share/man/man1/rootlesskit-docker-proxy.1
644 ./usr/share/man/man1/rootlesskit.1"
	run make -s -C "$TOP" uninstall DESTDIR="$d" PREFIX=/usr APPARMOR=1
	assert_success
	run bash -c "cd '$d' && find . -type f | sort"
	assert_output "./etc/apparmor.d/local/usr.bin.rootlesskit
./usr/bin/other"

	# the defaults: /usr/local; APPARMOR=0 installs no profile
	d=$BATS_TEST_TMPDIR/local
	run make -s -C "$TOP" install DESTDIR="$d" APPARMOR=0
	assert_success
	refute_output --partial apparmor
	run bash -c "cd '$d' && find . -type f | sort"
	assert_output "./usr/local/bin/rootlessctl
./usr/local/bin/rootlesskit
./usr/local/bin/rootlesskit-docker-proxy
./usr/local/share/bash-completion/completions/rootlessctl
./usr/local/share/bash-completion/completions/rootlesskit
./usr/local/share/man/man1/rootlessctl.1
./usr/local/share/man/man1/rootlesskit-docker-proxy.1
./usr/local/share/man/man1/rootlesskit.1"
	run make -s -C "$TOP" uninstall DESTDIR="$d" APPARMOR=0
	run bash -c "cd '$d' && find . -type f | wc -l"
	assert_output 0
}

@test "APPARMOR=auto installs and removes the profile where it can, else says how; the profile alone" {
	local d=$BATS_TEST_TMPDIR/auto
	run make -s -C "$TOP" install DESTDIR="$d" PREFIX=/opt/rk APPARMOR=auto
	assert_success
	assert_output --partial '"apparmor_parser -r /etc/apparmor.d/opt.rk.bin.rootlesskit"'
	run grep -x '"/opt/rk/bin/rootlesskit" flags=(unconfined) {' "$d/etc/apparmor.d/opt.rk.bin.rootlesskit"
	assert_success
	# a place that cannot be written (a file where the directory goes, even for root):
	# everything else is installed, and make install says what root has to run
	d=$BATS_TEST_TMPDIR/blocked
	mkdir -p "$d/etc"
	touch "$d/etc/apparmor.d"
	run make -s -C "$TOP" install DESTDIR="$d" PREFIX=/opt/rk APPARMOR=auto
	assert_success
	assert_output "AppArmor: the profile was not installed ($d/etc/apparmor.d/opt.rk.bin.rootlesskit cannot be written): as root, run \"make install-apparmor BINDIR=/opt/rk/bin\""
	[ -x "$d/opt/rk/bin/rootlesskit" ] || fail "rootlesskit was not installed"
	rm "$d/etc/apparmor.d"
	run make -s -C "$TOP" install-apparmor DESTDIR="$d" BINDIR=/opt/rk/bin
	assert_success
	[ -f "$d/etc/apparmor.d/opt.rk.bin.rootlesskit" ] || fail "install-apparmor installed nothing"
	run bash -c "cd '$d' && find etc -type f"
	assert_output "etc/apparmor.d/opt.rk.bin.rootlesskit"
	# uninstall likewise: what cannot be removed (a directory where the profile was, even
	# for root) is left with what root has to run, the rest removed
	d=$BATS_TEST_TMPDIR/auto
	mv "$d/etc/apparmor.d/opt.rk.bin.rootlesskit" "$BATS_TEST_TMPDIR/profile"
	mkdir -p "$d/etc/apparmor.d/opt.rk.bin.rootlesskit/x"
	run make -s -C "$TOP" uninstall DESTDIR="$d" PREFIX=/opt/rk APPARMOR=auto
	assert_success
	assert_output "AppArmor: the profile was not removed ($d/etc/apparmor.d/opt.rk.bin.rootlesskit cannot be written): as root, run \"make uninstall-apparmor BINDIR=/opt/rk/bin\""
	run bash -c "cd '$d' && find . -type f | wc -l"
	assert_output 0
	rm -r "$d/etc/apparmor.d/opt.rk.bin.rootlesskit"
	mv "$BATS_TEST_TMPDIR/profile" "$d/etc/apparmor.d/opt.rk.bin.rootlesskit"
	run make -s -C "$TOP" uninstall-apparmor DESTDIR="$d" BINDIR=/opt/rk/bin
	assert_success
	[ ! -e "$d/etc/apparmor.d/opt.rk.bin.rootlesskit" ] || fail "uninstall-apparmor left the profile"
	run make -s -C "$TOP" install DESTDIR="$d" APPARMOR=maybe
	assert_failure
	assert_output --partial 'APPARMOR is "auto", "1" or "0", not "maybe"'
}

@test "man and bash-completion find what make install put under the prefix" {
	run env MANPATH="$ROOT/usr/share/man" man -w rootlesskit
	assert_output "$ROOT/usr/share/man/man1/rootlesskit.1"
	run env MANPATH="$ROOT/usr/share/man" man -w 1 rootlessctl
	assert_output "$ROOT/usr/share/man/man1/rootlessctl.1"
	[ -r /usr/share/bash-completion/bash_completion ] || skip "bash-completion is not installed"
	# bash-completion loads a command's completion from XDG_DATA_DIRS on first use
	run env XDG_DATA_DIRS="$ROOT/usr/share" BASH_COMPLETION_USER_DIR=/nonexistent bash -c '
		. /usr/share/bash-completion/bash_completion
		for c in rootlesskit rootlessctl; do __load_completion $c && complete -p $c; done'
	assert_output "complete -F _comp_rootlesskit rootlesskit
complete -F _comp_rootlessctl rootlessctl"
}

@test "the man pages render without a warning at 80 columns" {
	local p
	for p in rootlesskit rootlessctl rootlesskit-docker-proxy; do
		run env MANWIDTH=80 man --warnings -l "$ROOT/usr/share/man/man1/$p.1"
		assert_success
		[ -n "$output" ] || fail "$p.1 renders empty"
		run bash -c "MANWIDTH=80 man --warnings -l '$ROOT/usr/share/man/man1/$p.1' 2>&1 >/dev/null"
		assert_output ""
	done
}

@test "rootlesskit(1) names every flag of rootlesskit --help, and no other" {
	rootlesskit_flags >"$BATS_TEST_TMPDIR/help-flags"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/help-flags")" -gt 30 ] || fail "too few flags read from --help"
	check_page rootlesskit <"$BATS_TEST_TMPDIR/help-flags"
	run comm -13 "$BATS_TEST_TMPDIR/help-flags" "$BATS_TEST_TMPDIR/page-flags"
	assert_output ""
}

@test "rootlessctl(1) names every command and flag of rootlessctl's help, and no other" {
	local c text
	rootlessctl_flags >"$BATS_TEST_TMPDIR/help-flags"
	grep -qx -- --json "$BATS_TEST_TMPDIR/help-flags" || fail "no command's --json was read"
	check_page rootlessctl <"$BATS_TEST_TMPDIR/help-flags"
	run comm -13 "$BATS_TEST_TMPDIR/help-flags" "$BATS_TEST_TMPDIR/page-flags"
	assert_output ""
	text=$(page rootlessctl)
	for c in $(ctl_commands); do
		grep -qE "^       $c( |\$)" <<<"$text" || fail "rootlessctl.1 has no entry for $c"
	done
}

@test "rootlesskit-docker-proxy(1) names every flag of its -help, and no other" {
	"$ROOT/usr/bin/rootlesskit-docker-proxy" -help 2>&1 | help_flags >"$BATS_TEST_TMPDIR/help-flags"
	echo -help >>"$BATS_TEST_TMPDIR/help-flags"
	echo -h >>"$BATS_TEST_TMPDIR/help-flags"
	sort -u -o "$BATS_TEST_TMPDIR/help-flags" "$BATS_TEST_TMPDIR/help-flags"
	grep -qx -- -container-port "$BATS_TEST_TMPDIR/help-flags" || fail "no flag read from -help"
	check_page rootlesskit-docker-proxy <"$BATS_TEST_TMPDIR/help-flags"
	run comm -13 "$BATS_TEST_TMPDIR/help-flags" "$BATS_TEST_TMPDIR/page-flags"
	assert_output ""
}

complete_line() {
	"$BATS_TEST_DIRNAME/complete.sh" "$ROOT/usr/share/bash-completion/completions/$1" "$2"
}

@test "completion of rootlesskit: every flag, the values --help lists, then the command's own" {
	[ -r /usr/share/bash-completion/bash_completion ] || skip "bash-completion is not installed"
	# "-" offers exactly the flags of --help, "--" its long ones
	run complete_line rootlesskit "rootlesskit -"
	assert_output "$(rootlesskit_flags)"
	run complete_line rootlesskit "rootlesskit --ip"
	assert_output "--ipcns
--ipv6"
	# every flag --help gives a list of values for offers exactly those values
	local line flag want n=0
	while IFS= read -r line; do
		flag=$(sed -E 's/^ +(--[a-z0-9-]+).*/\1/' <<<"$line")
		want=$(sed -E 's/.*\[([^]]*)\].*/\1/; s/ ?\([^)]*\)//g; s/, /\n/g' <<<"$line" | sort -u)
		run complete_line rootlesskit "rootlesskit --debug $flag "
		assert_output "$want"
		run complete_line rootlesskit "rootlesskit $flag=${want%%$'\n'*}"
		assert_output "${want%%$'\n'*}"
		n=$((n + 1))
	done < <("$ROOT/usr/bin/rootlesskit" --help | grep -E '^ +--[a-z0-9-]+ value .*\[[a-z]')
	[ "$n" -ge 10 ] || fail "only $n flags with values read from --help"
	run complete_line rootlesskit "rootlesskit --net b"
	assert_output "builtin"
	run complete_line rootlesskit "rootlesskit -port-driver net"
	assert_output "netstack"
	run complete_line rootlesskit "rootlesskit --ipv6="
	assert_output "false
true"
	# a value that is the user's to type: nothing offered
	run complete_line rootlesskit "rootlesskit --mtu "
	assert_output ""
	# directories for --state-dir
	mkdir -p "$BATS_TEST_TMPDIR/sd/dir1"
	touch "$BATS_TEST_TMPDIR/sd/file1"
	run complete_line rootlesskit "rootlesskit --state-dir $BATS_TEST_TMPDIR/sd/"
	assert_output "$BATS_TEST_TMPDIR/sd/dir1"
	# from the command on, the command's completion: a command name, then its own flags
	run complete_line rootlesskit "rootlesskit --net builtin --copy-up=/etc rootlessk"
	assert_line rootlesskit
	run complete_line rootlesskit "rootlesskit --pidns -- rootlesskit --uts"
	assert_output "--utsns"
}

@test "completion of rootlessctl: commands, each command's flags, the ids of published ports" {
	[ -r /usr/share/bash-completion/bash_completion ] || skip "bash-completion is not installed"
	run complete_line rootlessctl "rootlessctl "
	assert_output "$( (ctl_commands; echo help; echo h) | sort -u)"
	run complete_line rootlessctl "rootlessctl -"
	assert_output "$("$ROOT/usr/bin/rootlessctl" --help | sed -n '/^GLOBAL OPTIONS:/,$p' | help_flags)"
	local c
	for c in $(ctl_commands); do
		run complete_line rootlessctl "rootlessctl --debug $c -"
		assert_output "$("$ROOT/usr/bin/rootlessctl" "$c" --help | sed -n '/^OPTIONS:/,$p' | help_flags)"
	done
	run complete_line rootlessctl "rootlessctl help "
	assert_output "$(ctl_commands | sort)"
	# remove-ports asks the instance named by --socket for its ports (a stand-in here, which
	# prints list-ports' table when given exactly those arguments)
	cat >"$BATS_TEST_TMPDIR/rootlessctl" <<-'EOS'
		#!/bin/sh
		[ "$*" = "--socket=/run/x/api.sock list-ports" ] || exit 1
		printf 'ID    PROTO    PARENTIP     PARENTPORT    CHILDIP    CHILDPORT    \n'
		printf '1     tcp      127.0.0.1    8080                     80           \n'
		printf '12    udp      0.0.0.0      5353                     53           \n'
		printf '13    tcp6     ::1          8443                     443          \n'
	EOS
	chmod +x "$BATS_TEST_TMPDIR/rootlessctl"
	run complete_line rootlessctl "$BATS_TEST_TMPDIR/rootlessctl --socket /run/x/api.sock remove-ports 1"
	assert_output "1
12
13"
	run complete_line rootlessctl "$BATS_TEST_TMPDIR/rootlessctl --socket=/run/x/api.sock remove-ports 12 1"
	assert_output "1
12
13"
}

@test "the AppArmor profile allows user namespaces for the installed path, and parses" {
	command -v apparmor_parser >/dev/null || skip "apparmor_parser is not installed (Debian's apparmor)"
	local p=$ROOT/etc/apparmor.d/usr.bin.rootlesskit
	run grep -xE '(abi <abi/4.0>,|"/usr/bin/rootlesskit" flags=\(unconfined\) \{|  userns,|  include if exists <local/usr.bin.rootlesskit>)' "$p"
	assert_equal "${#lines[@]}" 4
	# AppArmor before 4.0 (Debian 12 has 3.0.8) knows neither the userns rule nor abi 4.0:
	# the rest of the profile is checked with them taken out
	if apparmor_parser --version | grep -qE 'version [0-3]\.'; then
		sed -e 's|^abi <abi/4.0>,|abi <abi/3.0>,|' -e '/^  userns,$/d' "$p" >"$BATS_TEST_TMPDIR/profile"
		p=$BATS_TEST_TMPDIR/profile
	fi
	run apparmor_parser --skip-kernel-load --skip-cache --names "$p"
	assert_success
	assert_line "/usr/bin/rootlesskit"
	run apparmor_parser -Q -K "$p"
	assert_success
}
