#!/usr/bin/env bats
# --copy-up: a writable tmpfs of links into a hidden mount of the original.

load ../helpers

@test "copied-up /etc is a tmpfs whose entries are links into .roNNNN" {
	run rk --copy-up=/etc sh -c 'stat -f -c %T /etc; stat -c %a /etc; ls -A /etc | grep -c "^\.ro[0-9]*$"'
	assert_success
	assert_line --index 0 "tmpfs"
	assert_line --index 1 "1777"
	assert_line --index 2 "1"
	# every other entry is a link; plain entries point into .roNNNN, links are copied verbatim
	run rk --copy-up=/etc sh -c 'cd /etc; for e in $(ls -A); do case $e in .ro*) continue;; esac;
		[ -L "$e" ] || echo "not a link: $e"; done; echo checked'
	assert_success
	assert_output "checked"
	run rk --copy-up=/etc sh -c 'readlink /etc/hostname'
	assert_output --regexp '^\.ro[0-9]+/etc/hostname$'
	# /etc/mtab (upstream issue #45) is copied like any other link and keeps working
	if [ -L /etc/mtab ]; then
		run rk --copy-up=/etc sh -c 'readlink /etc/mtab; grep -c " / " /etc/mtab'
		assert_line --index 0 "$(readlink /etc/mtab)"
		assert_line --index 1 --regexp '^[1-9][0-9]*$'
	fi
	if [ -L /etc/os-release ]; then
		run rk --copy-up=/etc readlink /etc/os-release
		assert_output "$(readlink /etc/os-release)"
	fi
}

@test "removing an entry inside leaves the host's file alone" {
	local before
	before=$(cat /etc/resolv.conf)
	run rk --copy-up=/etc sh -c 'rm /etc/resolv.conf && echo nameserver 10.0.2.3 > /etc/resolv.conf && cat /etc/resolv.conf'
	assert_success
	assert_output "nameserver 10.0.2.3"
	assert_equal "$(cat /etc/resolv.conf)" "$before"
}

@test "writing through a link reaches the original, when permitted" {
	local root="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$root/conf"
	echo old >"$root/conf/file"
	run rk --copy-up="$root/conf" sh -c "echo new > $root/conf/file; cat $root/conf/file"
	assert_success
	assert_output "new"
	assert_equal "$(cat "$root/conf/file")" "new"
}

@test "a relative link in a copied sub-directory keeps resolving (upstream issue 225)" {
	local root="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$root/etc/ssl" "$root/var/lib/ca"
	echo bundle >"$root/var/lib/ca/bundle.pem"
	ln -s ../../var/lib/ca/bundle.pem "$root/etc/ssl/ca-bundle.pem"
	ln -s ../../var/lib/ca "$root/etc/ssl/certs"
	run rk --copy-up="$root/etc" sh -c "cat $root/etc/ssl/ca-bundle.pem; ls $root/etc/ssl/certs"
	assert_success
	assert_line --index 0 "bundle"
	assert_line --index 1 "bundle.pem"
	# and deeper: a sub-directory two levels down
	mkdir -p "$root/etc/a/b"
	ln -s ../../../var/lib/ca/bundle.pem "$root/etc/a/b/link"
	run rk --copy-up="$root/etc" cat "$root/etc/a/b/link"
	assert_output "bundle"
}

@test "several directories, repeated and comma-separated flags" {
	run rk --copy-up=/etc,/run --copy-up "$HOME" sh -c "stat -f -c %T /etc /run $HOME"
	assert_success
	assert_output $'tmpfs\ntmpfs\ntmpfs'
}

@test "copy-up works with --propagation=slave and rslave (upstream's propagation test)" {
	for p in private rprivate slave rslave; do
		# (slave on a host whose / is not shared only warns, as upstream)
		run rk --propagation=$p --copy-up=/run echo test
		[ "$status" = 0 ] && [ "${lines[${#lines[@]} - 1]}" = test ] || fail "$p: $status $output"
	done
}

@test "refused: /tmp, /, a relative path, a file, a missing directory, shared propagation" {
	expect_errors <<'CASES'
--copy-up=/tmp|/tmp cannot be copied up
--copy-up=/tmp/|/tmp cannot be copied up
--copy-up=/|/ cannot be copied up
--copy-up=etc|copy-up: etc is not an absolute path
--copy-up=/etc/hostname|copy-up: /etc/hostname is not a directory
--copy-up=/nonexistent-dir|copy-up: /nonexistent-dir: No such file or directory
--copy-up=/etc --propagation=rshared|propagation rshared does not support copy-up driver tmpfs+symlink
--copy-up=/etc --propagation=shared|propagation shared does not support copy-up driver tmpfs+symlink
CASES
}
