#!/usr/bin/env bats
# --net=none: a new network namespace with only lo, which is up.

load ../helpers

@test "--net=none: a new network namespace whose only interface is lo, up" {
	run rk --net=none sh -c 'readlink /proc/self/ns/net; ls /sys/class/net | tr "\n" " "; echo; cat /sys/class/net/lo/flags'
	assert_success
	refute_line --index 0 "$(readlink /proc/self/ns/net)"
	assert_line --index 1 "lo "
	# IFF_UP | IFF_LOOPBACK
	assert_line --index 2 "0x9"
}

@test "--net=none: loopback answers (refused, not unreachable), and only loopback" {
	run rk --net=none bash -c 'exec 3<>/dev/tcp/127.0.0.1/1'
	assert_failure
	assert_output --partial "Connection refused"
	run rk --net=none bash -c 'exec 3<>/dev/tcp/10.0.2.2/1'
	assert_failure
	assert_output --partial "Network is unreachable"
}

@test "--net=none keeps /sys/fs/cgroup and the fresh sysfs shows the new namespace" {
	run rk --net=none sh -c 'ls /sys/fs/cgroup | head -n 1; test -e /sys/class/net/lo && echo lo-ok'
	assert_success
	assert_line --index 0 "$(ls /sys/fs/cgroup | head -n 1)"
	assert_line "lo-ok"
}

@test "--net=none with --mtu warns as upstream and goes on; -p needs a port driver" {
	run rk --net=none --mtu=1500 true
	assert_success
	assert_output --partial 'unsupported mtu for --net=none: 1500'
	expect_errors <<'CASES'
--net=none -p 127.0.0.1:8080:80/tcp|port driver "none" does not support publishing ports
--net=none --ifname=eth0|ifname cannot be specified for --net=none
--net=none --port-driver=implicit|network "none" requires either port driver "none" or "builtin"
CASES
}

@test "--net=none --detach-netns: lo is up in \$STATE/netns, the command keeps the host's namespace" {
	run rk --net=none --detach-netns sh -c '
		readlink /proc/self/ns/net
		test -f $ROOTLESSKIT_STATE_DIR/netns && echo file
		nsenter -n$ROOTLESSKIT_STATE_DIR/netns ip -o link show | cut -d" " -f2,3
		nsenter -n$ROOTLESSKIT_STATE_DIR/netns readlink /proc/self/ns/net'
	assert_success
	assert_line --index 0 "$(readlink /proc/self/ns/net)"
	assert_line --index 1 "file"
	assert_line --index 2 "lo: <LOOPBACK,UP,LOWER_UP>"
	refute_line --index 3 "$(readlink /proc/self/ns/net)"
}
