#!/usr/bin/env bats
# --evacuate-cgroup2 (upstream's integration-evacuate-cgroup2 test): in a cgroup delegated
# to the test user, as systemd's Delegate=yes would, the child ends up in /evac of its
# cgroup namespace and /sys/fs/cgroup shows that namespace.

load ../helpers

user=${RK_TEST_USER:-rktest}

setup() {
	CG2=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
	[ -n "$CG2" ] || skip "no cgroup2 hierarchy on this host"
	DELEG="$CG2/rk-test-$$-$BATS_TEST_NUMBER"
	mkdir "$DELEG" || skip "cannot create a cgroup under $CG2 here"
	chown "$user" "$DELEG" "$DELEG/cgroup.procs" "$DELEG/cgroup.subtree_control" \
		"$DELEG/cgroup.threads"
}

teardown() {
	[ -n "${DELEG:-}" ] || return 0
	rmdir "$DELEG/evac" 2>/dev/null || true
	rmdir "$DELEG"
}

@test "--cgroupns --pidns --evacuate-cgroup2=evac: the command is in /evac" {
	run timeout 30 sh -c "echo \$\$ > $DELEG/cgroup.procs && exec runuser -u $user -- \
		env -i PATH=/usr/bin:/bin HOME=/tmp timeout 20 $RK --cgroupns --pidns --evacuate-cgroup2=evac \
		sh -c 'grep ^0:: /proc/self/cgroup; stat -f -c %T /sys/fs/cgroup; test -d /sys/fs/cgroup/evac && echo sees-evac'"
	assert_success
	assert_line "0::/evac"
	assert_line "cgroup2fs"
	assert_line "sees-evac"
	# the processes really moved, as the host sees it
	[ -d "$DELEG/evac" ]
}

@test "without a delegated cgroup the error says so" {
	local group
	group=$(runuser -u "$user" -- grep '^0::' /proc/self/cgroup | cut -d: -f3)
	runuser -u "$user" -- test -w "$CG2$group" && skip "the test user's cgroup is delegated here"
	run runuser -u "$user" -- env -i PATH=/usr/bin:/bin HOME=/tmp timeout 20 "$RK" \
		--cgroupns --pidns --evacuate-cgroup2=evac true
	assert_failure 1
	assert_output --partial "evacuate-cgroup2: mkdir"
	assert_output --partial "must be delegated"
}
