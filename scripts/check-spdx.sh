#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Every source file starts with its SPDX line (in its first 3 lines, after a
# shebang): BSD-3-Clause for user space, and a GPL-compatible dual license,
# (GPL-2.0-only OR BSD-2-Clause), for the eBPF programs that the kernel
# loads, so that GPL-only helpers stay usable.
# Usage: check-spdx.sh [SOURCE_ROOT]   (registered as the 'spdx' unit test)
set -euo pipefail

root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
cd "$root"

# Tracked files when this is a git checkout, else whatever is on disk.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	list() { git ls-files -- "$@"; }
else
	list() {
		local p
		for p in "$@"; do
			find . -path ./build\* -prune -o -path ./.git -prune -o \
				-type f -name "$(basename "$p")" -print | sed 's|^\./||'
		done
	}
fi

mapfile -t files < <(list '*.c' '*.h' '*.sh' '*.py' 'meson.build' '*/meson.build' \
	'meson_options.txt' 'Makefile' '.ci/run' | sort -u)

bad=0
for f in "${files[@]}"; do
	[ -f "$f" ] || continue
	line=$(head -n 3 "$f" | grep -m1 'SPDX-License-Identifier:' || true)
	case "$f" in
	*.bpf.c)
		want='(GPL-2.0-only OR BSD-2-Clause)'
		;;
	*)
		want='BSD-3-Clause'
		;;
	esac
	if [ -z "$line" ]; then
		echo "FAIL: $f: no SPDX-License-Identifier line in its first 3 lines"
		bad=$((bad + 1))
	elif [[ "$f" == *.bpf.c && "$line" != *"$want"* ]]; then
		echo "FAIL: $f: eBPF programs carry SPDX $want, found: $line"
		bad=$((bad + 1))
	elif [[ "$line" != *BSD-3-Clause* && "$line" != *"(GPL-2.0-only OR BSD-2-Clause)"* ]]; then
		echo "FAIL: $f: unexpected license: $line"
		bad=$((bad + 1))
	fi
done

echo "SPDX: ${#files[@]} files checked, $bad without a valid SPDX line"
[ $bad -eq 0 ]
