#!/usr/bin/env bats
# The command line: upstream's flags, forms, messages and exit codes.

load ../helpers

@test "--help lists every upstream v3.2 flag in upstream's categories, exit 0" {
	run rk --help
	assert_success
	for f in debug print-semver state-dir net pasta-binary slirp4netns-binary \
		slirp4netns-sandbox slirp4netns-seccomp vpnkit-binary netstack-sandbox netstack-seccomp lxc-user-nic-binary \
		lxc-user-nic-bridge mtu cidr ifname disable-host-loopback ipv6 detach-netns copy-up \
		copy-up-mode port-driver publish source-ip-transparent source-ip-transparent-backend pidns cgroupns utsns ipcns \
		propagation reaper evacuate-cgroup2 subid-source help version; do
		echo "$output" | grep -qw -- "--$f" || fail "--help lacks --$f"
	done
	for c in "Misc" "Mount" "Network" "Network \[builtin\]" "Network \[lxc-user-nic\]" "Network \[pasta\]" \
		"Network \[slirp4netns\]" "Network \[vpnkit\]" "Port" "Process" "State" "SubID"; do
		assert_line --regexp "^  $c:$"
	done
	assert_line --regexp '^    --publish value, -p value \[ --publish value, -p value \] +'
	# what nerdctl's launcher greps for
	echo "$output" | grep -qw -- --detach-netns
	run rk -h
	assert_success
	assert_line --index 0 "NAME:"
}

@test "--version and -v" {
	run rk --version
	assert_success
	assert_output "rootlesskit version 3.2.0"
	run rk -v
	assert_output "rootlesskit version 3.2.0"
}

@test "--print-semver needs no command; a bad part is an error" {
	run rk --print-semver=major
	assert_success
	assert_output "3"
	run rk --print-semver minor
	assert_output "2"
	run rk --print-semver=patch
	assert_output "0"
	run rk --print-semver=x
	assert_failure 1
	assert_output '[rootlesskit:parent] error: expected --print-semver=(major|minor|patch), got "x"'
}

@test "an unknown flag prints Incorrect Usage and the help, then the error, exit 1" {
	bats_require_minimum_version 1.5.0
	run --separate-stderr rk --bogus true
	assert_failure 1
	assert_line --index 0 "Incorrect Usage. flag provided but not defined: -bogus"
	assert_line "NAME:"
	[ "$stderr" = "[rootlesskit:parent] error: flag provided but not defined: -bogus" ] ||
		fail "stderr: $stderr"
}

@test "no command" {
	run rk --debug
	assert_failure 1
	assert_output "[rootlesskit:parent] error: no command specified"
}

@test "flag parsing stops at the first non-flag and after --" {
	run rk echo --debug -x
	assert_success
	assert_output "--debug -x"
	run rk -- echo hi
	assert_output "hi"
	run rk --pidns=false -debug=0 echo ok
	assert_success
	assert_output "ok"
}

@test "-flag == --flag, =value == separate value; --debug prints prefixed debug lines" {
	run rk -debug true
	assert_success
	assert_line --regexp '^time="[^"]+" level=debug msg="\[rootlesskit:parent\] '
	run rk --debug=t true
	assert_line --partial 'level=debug'
	run rk --debug=false true
	assert_output ""
	run rk --state-dir "$BATS_TEST_TMPDIR/s" sh -c 'echo "$ROOTLESSKIT_STATE_DIR"'
	assert_output "$BATS_TEST_TMPDIR/s"
}

@test "bad values give upstream's messages and exit 1" {
	expect_errors <<'CASES'
--mtu=70000|mtu must be <= 65521, got 70000
--mtu=-1|mtu must be <= 65521, got -1
--net=bogus|unknown network mode: bogus
--port-driver=bogus|unknown port driver: bogus
--cidr=10.0.3.0/24|custom cidr is not supported for --net=host
--ifname=eth1|ifname cannot be specified for --net=host
--port-driver=builtin|port driver requires non-host network
--port-driver=slirp4netns|port driver requires slirp4netns network
--net=none --port-driver=slirp4netns|network "none" requires either port driver "none" or "builtin"
-p 127.0.0.1:8080:80/tcp|port driver "none" does not support publishing ports
--net=none --port-driver=builtin -p 8080:80/tcp|unexpected ParentIP in PortSpec string: "8080:80/tcp"
--net=none --port-driver=builtin -p 127.0.0.1:8080:80/TCP|invalid PortSpec string: "127.0.0.1:8080:80/TCP": unknown proto: "TCP"
--net=none --port-driver=builtin -p :8080:0/tcp|invalid ChildPort: '\x00'
--reaper=true|reaper requires --pidns
--reaper=bogus|unknown reaper mode: bogus
--evacuate-cgroup2=evac|evacuate-cgroup2 requires --cgroupns
--evacuate-cgroup2=evac --cgroupns|evacuate-cgroup2 requires --pidns
--copy-up-mode=overlay|unknown copy-up mode: overlay
--subid-source=bogus|failed to setup UID/GID map: failed to compute uid/gid map: unknown subid source "bogus"
CASES
}

@test "syntax errors print the usage on stdout and the error on stderr, exit 1" {
	bats_require_minimum_version 1.5.0
	while IFS='|' read -r args msg; do
		# shellcheck disable=SC2086
		run --separate-stderr rk $args
		[ "$status" = 1 ] || fail "$args: exit $status"
		[ "${lines[0]}" = "Incorrect Usage. $msg" ] || fail "$args: stdout ${lines[0]}"
		[ "$stderr" = "[rootlesskit:parent] error: $msg" ] || fail "$args: stderr $stderr"
	done <<'CASES'
--debug=yes true|invalid boolean value "yes" for -debug: parse error
--mtu=abc true|invalid value "abc" for flag -mtu: parse error
--mtu=0x1_0000000000000000 true|invalid value "0x1_0000000000000000" for flag -mtu: value out of range
--state-dir|flag needs an argument: -state-dir
---debug true|bad flag syntax: ---debug
-bogus=1 true|flag provided but not defined: -bogus
CASES
}

@test "--mtu with --net=host warns in logrus' format and goes on" {
	run rk --mtu=1500 true
	assert_success
	assert_output --regexp '^time="[0-9T:+Z-]+" level=warning msg="\[rootlesskit:parent\] unsupported mtu for --net=host: 1500"$'
}

# what each value does is checked in root/02-propagation.bats, where the host's / is shared
@test "--propagation takes upstream's six values; an unknown one is an error" {
	for p in private rprivate slave rslave shared rshared; do
		run rk --propagation=$p true
		assert_success
	done
	run rk --propagation=bogus true
	assert_failure 1
	assert_output --partial "unknown propagation mode: bogus"
}
