#!/bin/bash
# complete.sh FILE LINE: what bash completion (bash-completion 2, with the completion FILE)
# offers for LINE, the word being completed being its last (an empty one when LINE ends
# in a space), one candidate per line, sorted and unique.
set -u
. /usr/share/bash-completion/bash_completion
# shellcheck disable=SC1090
. "$1"
line=$2
COMP_LINE=$line
COMP_POINT=${#line}
read -ra COMP_WORDS <<<"$line"
[[ $line == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMPREPLY=()
fn=$(complete -p "$(basename "${COMP_WORDS[0]}")" | sed -E 's/.*-F ([^ ]+) .*/\1/')
# compopt complains outside of a real completion; what it would set is not checked here
"$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
if [ "${#COMPREPLY[@]}" -gt 0 ]; then printf '%s\n' "${COMPREPLY[@]}" | sort -u; fi
