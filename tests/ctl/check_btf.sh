#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Suite 'unit' (no root): the built BPF object carries BTF for every map
# record, field by field, so that `bpftool map dump` shows named fields.
# Usage: check_btf.sh BPFTOOL OBJECT
set -euo pipefail
# No pipes into `grep -q` here: grep exits at the first match, the writer
# then dies of SIGPIPE and pipefail turns a found name into a failure
# (seen in CI: "no map 'kapa_rules'"). Here-strings have no writer process.

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

expect kapa_meta abi_version meta_size stats_size rule_size conn_size max_workers max_rules max_conns ctl_size prog_size hist_size
expect kapa_stats_rec heartbeat_ns rx_packets conns_active http_requests rst_idle ka_inserted rst_sent decisions
expect kapa_rule_rec name prefix family prefix_len port spec
expect kapa_spec_rec timeout_s max_requests stall_s opaque_idle_s mode
expect kapa_ctl pub_seq rules_gen rules_count rules_default prog_gen cmd_seq cmd ans_seq ans_status dp_heartbeat_ns dp_rules_gen dp_prog_gen
expect kapa_prog_rec gen n_ins name ins
expect kapa_hist_rec requests idle_ms lifetime_ms
expect kapa_conn_rec seq gen worker slot client_addr server_addr client_port server_port \
	state requests client_ka_timeout server_ka_max last_seen_ns

# Each map is a BTF-typed variable of the .maps section, named as pinned.
for m in kapa_meta kapa_stats kapa_rules kapa_conns kapa_ctl kapa_prog kapa_hist; do
	if ! grep -q "VAR '$m' " <<<"$btf"; then
		echo "FAIL: no map '$m' in $obj"
		fail=1
	fi
done

if [ $fail -ne 0 ]; then
	exit 1
fi
echo "BTF of $obj: all records and maps named"
