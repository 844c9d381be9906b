#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Suite 'unit' (no root): kapa_xdp.bpf.o carries BTF for every record of its
# maps, field by field, and each map is a BTF-typed variable named as the
# kernel will name it (DPDK's net_af_xdp finds "xsks_map" by name), so that
# `bpftool map dump name kapa_xdp_stats` shows named counters.
# Usage: xdp_check_btf.sh BPFTOOL OBJECT
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/btf_lib.sh"

btf_load "$1" "$2"
btf_expect kapa_xdp_cfg abi_version flags peer_ifindex ports_count
btf_expect kapa_xdp_ports bits
btf_expect kapa_xdp_stats_rec to_socket to_peer no_peer failopen tcp_frags malformed unparsed
btf_expect_maps xsks_map kapa_xdp_peer kapa_xdp_ports kapa_xdp_cfg kapa_xdp_stats

# One program, in section xdp: DPDK attaches the object's first program.
progs=$(grep -c "FUNC '.*' type_id=.* linkage=global" <<<"$btf" || true)
if [ "$progs" != 1 ] || ! grep -q "FUNC 'kapa_xdp' " <<<"$btf"; then
	echo "FAIL: expected one global function, kapa_xdp, found $progs"
	btf_fail=1
fi

btf_done
