#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Suite 'unit': the shipped systemd units (ctl/systemd/) pass
# `systemd-analyze verify` (this machine has no systemd as init; verify needs
# none), with their ExecStart pointing at this build's binaries instead of the
# install paths. verify exits 0 on some errors (a unit line it cannot parse is
# only "ignored"), so any message it prints fails the test too. Each page
# a unit's Documentation= names must be one the build installs.
# Usage: check_units.sh KAPAD KAPA_DP UNIT...
set -euo pipefail

kapad=$1
kapa_dp=$2
shift 2
analyze=$(command -v systemd-analyze) || {
	echo "FAIL: systemd-analyze not found (Debian package systemd, scripts/debian-packages.txt)"
	exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for u in "$@"; do
	sed -e "s#^ExecStart=[^ ]*/kapad #ExecStart=$kapad #" \
	    -e "s#^ExecStart=[^ ]*/kapa-dp #ExecStart=$kapa_dp #" "$u" >"$tmp/$(basename "$u")"
done
out=$("$analyze" verify "$tmp"/*.service 2>&1) && rc=0 || rc=$?
if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
	echo "FAIL: systemd-analyze verify (exit $rc):"
	echo "$out"
	exit 1
fi
# Their Documentation= pages are pages the build installs (docs/meson.build,
# to the DOCDIR the units were configured with).
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
for u in "$@"; do
	for d in $(sed -n 's/^Documentation=//p' "$u"); do
		page=$(basename "${d#file://}")
		if [ ! -f "$src/docs/$page" ] || ! grep -q "'$page'" "$src/docs/meson.build"; then
			echo "FAIL: $(basename "$u"): Documentation=$d is not a page docs/meson.build installs"
			exit 1
		fi
	done
done
echo "systemd-analyze verify: $# units clean, their Documentation= pages installed"
