#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Suite 'unit' (no root): kapa_xdp.bpf.o carries BTF for every record of its
# maps, field by field, and each map is a BTF-typed variable named as the
# kernel will name it (DPDK's net_af_xdp finds "xsks_map" by name), so that
# `bpftool map dump name kapa_xdp_stats` shows named counters.
# Usage: xdp_check_btf.sh BPFTOOL OBJECT
set -euo pipefail
# Here-strings, not pipes into `grep -q` (see check_btf.sh: SIGPIPE under
# pipefail turns a found name into a failure).

bpftool=$1
obj=$2
btf=$("$bpftool" btf dump file "$obj")
fail=0

# $1 = struct, $2... = fields that must be named in its BTF.
expect() {
	local st=$1 body
	shift
	body=$(sed -n "/STRUCT '$st' /,/^\[/p" <<<"$btf")
	if [ -z "$body" ]; then
		echo "FAIL: no BTF for struct $st in $obj"
		fail=1
		return
	fi
	for f in "$@"; do
		if ! grep -q "^[[:space:]]*'$f' " <<<"$body"; then
			echo "FAIL: struct $st has no BTF field '$f'"
			fail=1
		fi
	done
	echo "struct $st: $# fields checked"
}

expect kapa_xdp_cfg abi_version flags peer_ifindex ports_count
expect kapa_xdp_ports bits
expect kapa_xdp_stats_rec to_socket to_peer no_peer failopen tcp_frags malformed unparsed

for m in xsks_map kapa_xdp_peer kapa_xdp_ports kapa_xdp_cfg kapa_xdp_stats; do
	if [ ${#m} -gt 15 ]; then
		echo "FAIL: map name '$m' is longer than the kernel keeps (15)"
		fail=1
	fi
	if ! grep -q "VAR '$m' " <<<"$btf"; then
		echo "FAIL: no map '$m' in $obj"
		fail=1
	fi
done

# One program, in section xdp: DPDK attaches the object's first program.
progs=$(grep -c "FUNC '.*' type_id=.* linkage=global" <<<"$btf" || true)
if [ "$progs" != 1 ] || ! grep -q "FUNC 'kapa_xdp' " <<<"$btf"; then
	echo "FAIL: expected one global function, kapa_xdp, found $progs"
	fail=1
fi

if [ $fail -ne 0 ]; then
	exit 1
fi
echo "BTF of $obj: all records and maps named"
