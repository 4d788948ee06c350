# bash completion for rootlesskit(1) (rootlesskit-c), for bash-completion 2.
# Completes the flags, the values of those that take a fixed set, directories and files
# where a flag takes one, and from the command on, the command's own completion.

_comp_rootlesskit()
{
	local cur prev words cword split
	_init_completion -s || return

	# the flags that take a value; every other flag is a switch
	local valued=" --print-semver --copy-up --copy-up-mode --propagation --net --mtu --cidr
		--ifname --netstack-sandbox --netstack-seccomp --lxc-user-nic-binary
		--lxc-user-nic-bridge --pasta-binary --slirp4netns-binary --slirp4netns-sandbox
		--slirp4netns-seccomp --vpnkit-binary --port-driver --publish -p
		--source-ip-transparent-backend --reaper --evacuate-cgroup2 --state-dir
		--subid-source "
	local switches=" --debug --help -h --version -v --disable-host-loopback --ipv6
		--detach-netns --pidns --cgroupns --utsns --ipcns --source-ip-transparent "
	valued=${valued//[$'\n\t']/ } switches=${switches//[$'\n\t']/ }

	# the command starts at the first word that is neither a flag nor a flag's value
	local i w
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		[[ $w == -[!-]?* ]] && w=-$w # Go's flags: -net is --net
		case $w in
		--)
			_command_offset $((i + 1))
			return
			;;
		-*=*) ;;
		-*) [[ $valued == *" $w "* ]] && ((i++)) ;;
		*)
			_command_offset $i
			return
			;;
		esac
	done

	local opt=$prev
	[[ $opt == -[!-]?* ]] && opt=-$opt
	if [[ $valued == *" $opt "* ]]; then
		case $opt in
		--net) COMPREPLY=($(compgen -W 'host none builtin pasta slirp4netns vpnkit
			lxc-user-nic gvisor-tap-vsock' -- "$cur")) ;;
		--port-driver) COMPREPLY=($(compgen -W 'none implicit builtin slirp4netns
			gvisor-tap-vsock netstack' -- "$cur")) ;;
		--propagation) COMPREPLY=($(compgen -W 'rprivate private rslave slave rshared
			shared' -- "$cur")) ;;
		--copy-up-mode) COMPREPLY=($(compgen -W 'tmpfs+symlink' -- "$cur")) ;;
		--reaper | --netstack-sandbox | --netstack-seccomp | --slirp4netns-sandbox | \
			--slirp4netns-seccomp)
			COMPREPLY=($(compgen -W 'auto true false' -- "$cur")) ;;
		--source-ip-transparent-backend)
			COMPREPLY=($(compgen -W 'auto nft iptables' -- "$cur")) ;;
		--subid-source) COMPREPLY=($(compgen -W 'auto dynamic static' -- "$cur")) ;;
		--print-semver) COMPREPLY=($(compgen -W 'major minor patch' -- "$cur")) ;;
		--copy-up | --state-dir) _filedir -d ;;
		--*-binary) _filedir ;;
		esac
		return # the others (--mtu, --cidr, --publish...) take what the user types
	fi
	if [[ $split == true ]]; then # --ipv6=...
		COMPREPLY=($(compgen -W 'true false' -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$valued $switches" -- "$cur"))
		return
	fi
	_command_offset $cword
}
complete -F _comp_rootlesskit rootlesskit
