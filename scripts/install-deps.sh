#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Install the Debian packages kapa needs (listed in scripts/debian-packages.txt).
# Idempotent: installs only what is missing, and runs `apt-get update` only
# when something is. Prints what it installs.
#
# Usage: scripts/install-deps.sh [--check]
#   --check  only report what is missing; exit 1 if anything is (no root needed)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
list="$here/debian-packages.txt"
check_only=0

case "${1:-}" in
"") ;;
--check) check_only=1 ;;
-h|--help)
	# The comment block under the SPDX line is the help text.
	sed -n '3,/^[^#]/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "install-deps: unknown argument '$1' (try --help)" >&2
	exit 2
	;;
esac

if [ ! -r "$list" ]; then
	echo "install-deps: package list $list not found" >&2
	exit 1
fi
if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "install-deps: dpkg-query not found: this script is for Debian 12 (bookworm)" >&2
	exit 1
fi

# Strip comments and blank lines.
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | grep -v '^$')

missing=()
for pkg in "${wanted[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	if [ "$status" != "install ok installed" ]; then
		missing+=("$pkg")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#wanted[@]} packages are installed"
	exit 0
fi

if [ $check_only -eq 1 ]; then
	echo "install-deps: missing ${#missing[@]} of ${#wanted[@]} packages: ${missing[*]}"
	exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: installing them needs root; run: sudo $0" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# tshark's postinst asks whether non-root users may capture; answer no rather
# than block on a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections

echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
echo "install-deps: apt-get update"
apt-get update -q
apt-get install -y -q "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
