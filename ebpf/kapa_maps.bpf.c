/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kapa's shared maps, declared with BTF so that `bpftool map dump` shows
 * named fields. This object holds no program: it is the one place the maps
 * are created from (through its generated skeleton, kapa_maps.skel.h), by
 * whichever of kapa-dp and kapad starts first. LIBBPF_PIN_BY_NAME makes
 * libbpf pin each map under the opener's pin_root_path (KAPA_MAP_ROOT) and,
 * when a compatible pinned map is already there, reuse it instead, so that
 * either process can restart without the other losing its state.
 *
 * Dual-licensed so that kernel programs built on these maps may use
 * GPL-only helpers.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "kapa_maps.h"

/*
 * Meta, stats and live connections are BPF_F_MMAPABLE arrays: the data plane
 * writes them through memory, never through a syscall per packet.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, struct kapa_meta);
} kapa_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, KAPA_MAX_WORKERS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, struct kapa_stats_rec);
} kapa_stats SEC(".maps");

/*
 * Rules change on an operator's command, not per packet: the data plane
 * reads them when a new rule generation is published, so a plain array
 * (syscall lookups) is enough.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KAPA_MAX_RULES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, struct kapa_rule_rec);
} kapa_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, KAPA_CONNS_DEFAULT);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, struct kapa_conn_rec);
} kapa_conns SEC(".maps");

/* The control record, the program and the histograms: mmapable, so that
 * kapa-dp's main lcore polls them and workers write histograms through
 * memory. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, struct kapa_ctl);
} kapa_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, struct kapa_prog_rec);
} kapa_prog SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, KAPA_MAX_WORKERS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, struct kapa_hist_rec);
} kapa_hist SEC(".maps");

char LICENSE[] SEC("license") = "Dual BSD/GPL";
