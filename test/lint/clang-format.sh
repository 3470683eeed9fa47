#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every C source and header of the tree (git's tracked and new files; every file below TOP
# outside a checkout) must be as clang-format makes it with the repo's .clang-format. Prints
# FILE:LINE:COLUMN of each difference and fails; exits 77 (skipped) without clang-format.
# Fix with: clang-format -i FILE. Usage: clang-format.sh TOP
set -u
top=${1:?usage: clang-format.sh TOP}
cd "$top" || exit 1
if ! command -v clang-format >/dev/null; then
	echo "clang-format is not installed (apt-get install clang-format): not checked"
	exit 77
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.c' '*.h' |
		while read -r f; do [[ -f $f ]] && echo "$f"; done)
else
	mapfile -t files < <(find . -name 'build*' -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print)
fi
bad=0
for f in "${files[@]}"; do
	if ! out=$(clang-format --dry-run --Werror "$f" 2>&1); then
		bad=$((bad + 1))
		grep -E '^[^ ]+:[0-9]+:[0-9]+: ' <<<"$out" | sed 's/: error: code should be clang-formatted.*/: not as clang-format makes it/'
	fi
done
echo "clang-format: ${#files[@]} files checked, $bad not formatted (fix with clang-format -i FILE)"
((bad == 0))
