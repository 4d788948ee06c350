#!/usr/bin/env bats
# Set-up failures end fast (each run is bounded by rk's timeout) with one message that says
# what to fix. The subid sources all give the same maps.

load ../helpers

@test "static, dynamic and auto subid sources give the same uid_map" {
	local want
	want=$(rk --subid-source=static cat /proc/self/uid_map /proc/self/gid_map)
	run rk --subid-source=dynamic cat /proc/self/uid_map /proc/self/gid_map
	assert_success
	assert_output "$want"
	run rk --subid-source=auto cat /proc/self/uid_map /proc/self/gid_map
	assert_output "$want"
}

@test "newuidmap missing from PATH: one message naming the package" {
	run env PATH=/nonexistent "$RK" /bin/true
	assert_failure 1
	assert_output --partial "newuidmap not found in \$PATH"
	assert_output --partial '"uidmap" package'
	assert_equal "$(echo "$output" | wc -l)" 1
}

@test "no_new_privs: the setuid helper cannot work, and the message says why" {
	run setpriv --no-new-privs timeout 20 "$RK" true
	assert_failure 1
	assert_output --partial "no_new_privs is set"
	assert_equal "$(echo "$output" | wc -l)" 1
}

@test "clone refused (user.max_user_namespaces=0): the message names the sysctl" {
	run timeout 20 unshare -Ur sh -c "echo 0 > /proc/sys/user/max_user_namespaces && exec $RK true"
	assert_failure 1
	assert_output --partial "failed to start the child: clone"
	assert_output --partial "max_user_namespaces"
	assert_equal "$(echo "$output" | grep -c 'error:')" 1
}

@test "an exported internal marker variable is refused" {
	run env _ROOTLESSKIT_CHILD_UNDOCUMENTED=1,1 "$RK" true
	assert_failure 1
	assert_output --partial "internal variable"
}
