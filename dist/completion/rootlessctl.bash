# bash completion for rootlessctl(1) (rootlesskit-c), for bash-completion 2.
# Completes the global flags, the commands, each command's flags, and the ids of the
# published ports for remove-ports (asked of the instance, as the command line names it).

_comp_rootlessctl()
{
	local cur prev words cword split
	_init_completion -s || return

	local commands='list-ports add-ports remove-ports info help h'
	local i w cmd= global=()
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		[[ $w == -[!-]?* ]] && w=-$w
		case $w in
		--socket)
			global+=("--socket=${words[i + 1]}")
			((i++))
			;;
		--socket=*) global+=("$w") ;;
		-*) ;;
		*)
			cmd=$w
			break
			;;
		esac
	done

	if [[ -z $cmd ]]; then
		case $prev in
		--socket | -socket)
			_filedir
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--debug --socket --help -h --version -v' -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi

	case $cmd in
	list-ports | info | add-ports)
		[[ $cur == -* ]] && COMPREPLY=($(compgen -W '--json --help -h' -- "$cur"))
		;;
	remove-ports)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--help -h' -- "$cur"))
		else
			# the first column of list-ports, under its header
			local ids
			ids=$("${words[0]}" "${global[@]}" list-ports 2>/dev/null | awk 'NR > 1 { print $1 }')
			COMPREPLY=($(compgen -W "$ids" -- "$cur"))
		fi
		;;
	help | h)
		((cword == i + 1)) && COMPREPLY=($(compgen -W "${commands% help h}" -- "$cur"))
		;;
	esac
}
complete -F _comp_rootlessctl rootlessctl
