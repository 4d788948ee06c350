#!/usr/bin/env bats
# --propagation: a mount made on the host after start-up shows in the child only with slave
# or shared propagation (upstream's integration-propagation test). The "host" is a private
# mount namespace of this test whose / is shared; rootlesskit runs as the test user.

load ../helpers

user=${RK_TEST_USER:-rktest}

setup() {
	# bats' own temporary directories are private to root; the test user needs one too
	PROP_DIR=$(mktemp -d /tmp/rk-prop.XXXXXX)
	chmod 0755 "$PROP_DIR"
}

teardown() {
	rm -rf "$PROP_DIR"
}

# Prints "before after": which of the two files the child sees under DIR/a.
probe() { # propagation ("default": no --propagation flag)
	local d="$PROP_DIR/$1" flag="--propagation=$1"
	[ "$1" = default ] && flag=""
	mkdir -p "$d/a"
	touch "$d/a/before_mount"
	chown -R "$user" "$d"
	timeout 60 unshare -m --propagation shared sh -ec "
		mkfifo $d/ready; chmod a+rw $d/ready
		runuser -u $user -- timeout 30 $RK --state-dir=$d/state $flag \
			sh -c 'echo up > $d/ready; exec sleep 30' 3>&- &
		timeout 20 head -n 1 $d/ready >/dev/null
		mount -t tmpfs none $d/a
		touch $d/a/after_mount
		child=\$(cat $d/state/child_pid)
		b=no; a=no
		[ -e /proc/\$child/root$d/a/before_mount ] && b=yes
		[ -e /proc/\$child/root$d/a/after_mount ] && a=yes
		echo \"\$b \$a\"
		kill \$(pgrep -P \$child) 2>/dev/null || true
		wait"
}

@test "private, rprivate and the default: later host mounts stay invisible" {
	for p in private rprivate default; do
		run probe $p
		assert_success
		assert_line "yes no"
	done
}

@test "slave and rslave: later host mounts propagate into the child" {
	for p in slave rslave; do
		run probe $p
		assert_success
		assert_line "no yes"
	done
}
