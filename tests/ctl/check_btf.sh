#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Suite 'unit' (no root): the built BPF object carries BTF for every map
# record, field by field, so that `bpftool map dump` shows named fields, and
# each map is a BTF-typed variable named as pinned.
# Usage: check_btf.sh BPFTOOL OBJECT
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/btf_lib.sh"

btf_load "$1" "$2"
btf_expect kapa_meta abi_version meta_size stats_size rule_size conn_size max_workers max_rules max_conns ctl_size prog_size hist_size
btf_expect kapa_stats_rec heartbeat_ns rx_packets conns_active http_requests rst_idle ka_inserted rst_sent decisions
btf_expect kapa_rule_rec name prefix family prefix_len port spec
btf_expect kapa_spec_rec timeout_s max_requests stall_s opaque_idle_s mode
btf_expect kapa_ctl pub_seq rules_gen rules_count rules_default prog_gen cmd_seq cmd ans_seq ans_status dp_heartbeat_ns dp_rules_gen dp_prog_gen
btf_expect kapa_prog_rec gen n_ins name ins
btf_expect kapa_hist_rec requests idle_ms lifetime_ms
btf_expect kapa_conn_rec seq gen worker slot client_addr server_addr client_port server_port \
	state requests client_ka_timeout server_ka_max last_seen_ns
btf_expect_maps kapa_meta kapa_stats kapa_rules kapa_conns kapa_ctl kapa_prog kapa_hist
btf_done
