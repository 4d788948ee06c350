#!/usr/bin/env bats
# Cases that need root to set up (another user, a private /etc/subuid); rootlesskit itself
# still runs as the unprivileged test users through runuser.

load ../helpers

user=${RK_TEST_USER:-rktest}

as_user() { # user args...
	local u=$1
	shift
	runuser -u "$u" -- env -i PATH=/usr/bin:/bin HOME=/tmp timeout 20 "$RK" "$@"
}

@test "a user without subordinate ids gets the file and the line to add" {
	run as_user "$user-nosub" true
	assert_failure 1
	assert_output --partial "No subuid ranges found for user $(id -u "$user-nosub") (\"$user-nosub\")"
	assert_output --partial "\"$user-nosub:100000:65536\" to /etc/subuid"
	assert_equal "$(echo "$output" | wc -l)" 1
}

# Runs rootlesskit as the test user with /etc/subuid and /etc/subgid replaced, in a private
# mount namespace, by the given file contents plus the user's real lines.
with_subid_files() { # extra-line args...
	local extra=$1
	shift
	local f="$BATS_TEST_TMPDIR/subid"
	{ echo "$extra"; grep "^$user:" /etc/subuid; } >"$f.u"
	{ echo "$extra"; grep "^$user:" /etc/subgid; } >"$f.g"
	chmod 0644 "$f.u" "$f.g"
	unshare -m sh -c "mount --make-rprivate / && mount --bind $f.u /etc/subuid &&
		mount --bind $f.g /etc/subgid && exec runuser -u $user -- env -i PATH=/usr/bin:/bin \
		HOME=/tmp timeout 20 $RK $*"
}

@test "a malformed line of another user does not break the current user" {
	run with_subid_files "someone-else:not-a-number" --subid-source=static id -u
	assert_success
	assert_output "0"
}

@test "a malformed line of the current user is reported with file and line" {
	run with_subid_files "$user:12345" --subid-source=static id -u
	assert_failure 1
	assert_output --partial "/etc/subuid:1: malformed line for user $user"
}
