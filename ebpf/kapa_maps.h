/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/**
 * @file
 * The one definition of the records kapa keeps in its pinned eBPF maps,
 * shared by the BPF objects (clang -target bpf), kapa-dp and kapad.
 *
 * Rules for everything in this file, so that one layout holds in the kernel
 * and in every process:
 *  - fixed-width kernel types (__u8 .. __u64) only: <stdint.h> cannot be
 *    included under -target bpf (glibc's gnu/stubs-32.h is missing there),
 *    while <linux/types.h> works on both sides;
 *  - no pointers, no bitfields, explicit padding, sizes checked below;
 *  - any change to a record bumps KAPA_MAPS_ABI_VERSION. A process that finds
 *    pinned maps whose struct kapa_meta differs from its own refuses them
 *    (kapa_meta_mismatch() names the field) instead of misreading them.
 *
 * Addresses are in network byte order; ports and all counters in host order.
 * An IPv4 address sits in the first 4 bytes of a 16-byte field, the rest zero.
 */
#ifndef KAPA_MAPS_H
#define KAPA_MAPS_H

#include <stddef.h>

#include <linux/types.h>

#include "kapa_counters.h"

/** Bumped on any change to a record below (2: the stats record from the
 *  counter table, kapa_counters.h; 3: closed_max, fin_sent; 4: named rules
 *  with opaque_idle_s, the control record, the program and the
 *  histograms; 5: http_resync, replay_no_room, sack_edges_translated,
 *  prog_out_of_range, rules_redecided in the stats record, and its counters
 *  and the histograms carried across a kapa-dp restart; 6: the HTTP
 *  tolerances tol_*, refused_tolerated; 7: the race and hint-compliance
 *  counters, races_fin .. race_tables_full, and a stats record of 128 words;
 *  8: the TCP checksum counters csum_bad, csum_port, csum_sw;
 *  9: the IP fragment counters frag_*, refused_fragmented; 10: the pickup
 *  counters pickup_*, resync_line_dropped, gap_release, and a stats record
 *  of 192 words; 11: stale_cut). */
#define KAPA_MAPS_ABI_VERSION 11

/** Default directory of the pinned maps (kapa-dp and kapad --map-root). */
#define KAPA_MAP_ROOT "/sys/fs/bpf/kapa"

/* Pinned map names: the kernel keeps at most 15 characters of a map name. */
#define KAPA_MAP_META  "kapa_meta"	/**< 1 x struct kapa_meta, mmapable */
#define KAPA_MAP_STATS "kapa_stats"	/**< KAPA_MAX_WORKERS x struct kapa_stats_rec, mmapable */
#define KAPA_MAP_RULES "kapa_rules"	/**< KAPA_MAX_RULES x struct kapa_rule_rec */
#define KAPA_MAP_CONNS "kapa_conns"	/**< capacity x struct kapa_conn_rec, mmapable */
#define KAPA_MAP_CTL   "kapa_ctl"	/**< 1 x struct kapa_ctl, mmapable */
#define KAPA_MAP_PROG  "kapa_prog"	/**< 1 x struct kapa_prog_rec, mmapable */
#define KAPA_MAP_HIST  "kapa_hist"	/**< KAPA_MAX_WORKERS x struct kapa_hist_rec, mmapable */

#define KAPA_MAX_WORKERS 64	/**< stats slots: one per worker lcore */
#define KAPA_MAX_RULES 1024	/**< policy rule slots */
#define KAPA_RULE_NAME_MAX 64	/**< bytes of a rule's name, its NUL included */
#define KAPA_PROG_MAX_INS 4096	/**< instructions of a policy program */
#define KAPA_HIST_BUCKETS 32	/**< log2 buckets of a histogram */
/**
 * Live-connection slots the BPF object declares. The live map's capacity is
 * kapa-dp's table capacity: the process that creates the maps sets it with
 * bpf_map__set_max_entries() before loading.
 */
#define KAPA_CONNS_DEFAULT 65536

/**
 * Layout description, the single element of KAPA_MAP_META. Written once by
 * the process that creates the maps (kapa_meta_init()), checked by every
 * process that reuses them (kapa_meta_mismatch()).
 */
struct kapa_meta {
	__u32 abi_version;	/**< KAPA_MAPS_ABI_VERSION of the creator */
	__u32 meta_size;	/**< sizeof(struct kapa_meta) */
	__u32 stats_size;	/**< sizeof(struct kapa_stats_rec) */
	__u32 rule_size;	/**< sizeof(struct kapa_rule_rec) */
	__u32 conn_size;	/**< sizeof(struct kapa_conn_rec) */
	__u32 max_workers;	/**< entries of KAPA_MAP_STATS */
	__u32 max_rules;	/**< entries of KAPA_MAP_RULES */
	__u32 max_conns;	/**< entries of KAPA_MAP_CONNS */
	__u32 ctl_size;		/**< sizeof(struct kapa_ctl) */
	__u32 prog_size;	/**< sizeof(struct kapa_prog_rec) */
	__u32 hist_size;	/**< sizeof(struct kapa_hist_rec) */
	__u32 spare;
};

/** 64-bit words of a stats record: room for the counter table to grow
 *  without another layout, since readers add the record up word by word. */
#define KAPA_STATS_WORDS 192

/**
 * Counters of one worker: slot w of KAPA_MAP_STATS belongs to worker w,
 * which is its only writer. After the heartbeat come the counter table's
 * fields (kapa_counters.h), in its order, every one a __u64, so that a reader
 * may also walk the record as KAPA_STATS_WORDS words. Readers add the slots
 * up and accept a value torn by at most one update. The record is a whole
 * number of cache lines, so workers never share a line.
 */
struct kapa_stats_rec {
	__u64 heartbeat_ns;	/**< worker clock (CLOCK_MONOTONIC) at its last
				     publish; 0 = slot unused */
#define KAPA_STATS_FIELD(field, kind, name, help, src) __u64 field;
	KAPA_COUNTERS(KAPA_STATS_FIELD)
#undef KAPA_STATS_FIELD
	__u64 spare[KAPA_STATS_WORDS - 1 - KAPA_COUNTER_COUNT];
};

/** enum kapa_rule_rec::mode and kapa_conn_rec::mode. */
enum kapa_mode {
	KAPA_MODE_OBSERVE = 0,	/**< track and report only */
	KAPA_MODE_ENFORCE = 1,	/**< close past the limits */
	KAPA_MODE_ADVERTISE = 2,	/**< enforce and rewrite the server's Keep-Alive */
};

/** A policy spec (the limits a rule or the default sets); 0 = no limit. */
struct kapa_spec_rec {
	__u32 timeout_s;	/**< keep-alive idle limit */
	__u32 max_requests;	/**< requests per connection */
	__u32 stall_s;		/**< a request unanswered, a message unfinished */
	__u32 opaque_idle_s;	/**< idle limit of a connection not HTTP/1.x */
	__u8 mode;		/**< enum kapa_mode */
	__u8 spare[3];
};

/**
 * One policy rule, by name: matches the server side of a connection by
 * prefix and (optionally) port. Slots [0, kapa_ctl::rules_count) of
 * KAPA_MAP_RULES hold the published set; family 0 marks an empty slot.
 */
struct kapa_rule_rec {
	char name[KAPA_RULE_NAME_MAX];	/**< NUL-terminated */
	__u8 prefix[16];	/**< network order, host bits zero */
	__u8 family;		/**< 4 or 6; 0 = empty slot */
	__u8 prefix_len;	/**< 0..32 or 0..128 */
	__u16 port;		/**< server port, host order; 0 = any port */
	struct kapa_spec_rec spec;
	__u32 spare;
};

/** What kapad asks of the data plane (kapa_ctl::cmd). */
enum kapa_ctl_cmd {
	KAPA_CMD_NONE = 0,
	KAPA_CMD_CLOSE = 1,	/**< reset connection (cmd_worker, cmd_slot, cmd_gen) */
};

/**
 * The control record, the single element of KAPA_MAP_CTL: what kapad
 * publishes, one command at a time and its answer, and the data plane's
 * state. Two writers, each of its own part:
 *  - kapad writes the published part (rules_*, prog_*) under pub_seq, odd
 *    while it writes (the rules in KAPA_MAP_RULES and the program in
 *    KAPA_MAP_PROG too), so that a reader that saw the same even pub_seq
 *    before and after reading has a consistent set; and a command, whose
 *    fields it fills before it bumps cmd_seq;
 *  - the data plane's main lcore writes the dp_* part, and answers a
 *    command by filling ans_* and then setting ans_seq to cmd_seq.
 * Generations start at 1; 0 means "nothing published": kapa-dp's command
 * line rules and the built-in decision hold.
 */
struct kapa_ctl {
	/* published by kapad */
	__u64 pub_seq;
	__u64 rules_gen;	/**< the rule set's generation; 0 = none */
	__u32 rules_count;	/**< rules in slots [0, rules_count) */
	__u32 spare0;
	struct kapa_spec_rec rules_default;	/**< spec of servers no rule matches */
	__u32 spare1;
	__u64 prog_gen;		/**< the program's generation; 0 = built-in */
	/* one command at a time */
	__u64 cmd_seq;		/**< bumped by kapad once the command is written */
	__u32 cmd;		/**< enum kapa_ctl_cmd */
	__u32 cmd_worker;
	__u32 cmd_slot;
	__u32 cmd_gen;
	__u64 ans_seq;		/**< = cmd_seq once answered */
	__s32 ans_status;	/**< 0, or -errno */
	__u32 spare2;
	char ans_msg[256];	/**< what happened, for the operator */
	/* the data plane */
	__u64 dp_heartbeat_ns;	/**< main lcore, every 10 ms (housekeeping); 0 = none attached */
	__u64 dp_started_ns;
	__u64 dp_rules_gen;	/**< generation in force; 0 = the command line */
	__u64 dp_prog_gen;	/**< program in force; 0 = built-in */
	__u64 dp_rules_applied_ns;	/**< when the set in force took effect */
	__u64 dp_prog_applied_ns;	/**< when the program in force took effect */
	__u32 dp_pid;
	__u32 dp_workers;
	__u32 dp_conns_per_worker;
	__s32 dp_prog_status;	/**< -errno: program dp_prog_failed_gen failed to
				     load or check (dp_prog_msg); the old one runs on */
	__u64 dp_prog_failed_gen;	/**< the last program refused; 0 = none */
	char dp_prog_msg[256];
	char dp_version[32];
};

/**
 * A policy program's bytecode, the single element of KAPA_MAP_PROG: eBPF
 * instructions for rte_bpf over struct kapa_policy_ctx
 * (kapa_policy_ctx.h), written by kapad under kapa_ctl::pub_seq.
 */
struct kapa_prog_rec {
	__u64 gen;		/**< = kapa_ctl::prog_gen when complete */
	__u32 n_ins;		/**< instructions in ins[] */
	__u32 spare;
	char name[64];		/**< as loaded (the object's file name) */
	__u64 ins[KAPA_PROG_MAX_INS];	/**< struct ebpf_insn, 8 bytes each */
};

/**
 * Histograms of one worker (slot w of KAPA_MAP_HIST, written by worker w
 * only): bucket 0 counts zeros, bucket b >= 1 counts values in
 * [2^(b-1), 2^b), the last bucket everything above.
 */
struct kapa_hist_rec {
	__u64 requests[KAPA_HIST_BUCKETS];	/**< requests per connection, at its end */
	__u64 idle_ms[KAPA_HIST_BUCKETS];	/**< idle gap before each reuse (ms) */
	__u64 lifetime_ms[KAPA_HIST_BUCKETS];	/**< connection lifetimes (ms) */
	/* The sums of what was counted (Prometheus' _sum). */
	__u64 requests_sum;
	__u64 idle_ms_sum;
	__u64 lifetime_ms_sum;
	__u64 spare[5];		/**< pads to whole cache lines */
};

/** The log2 bucket of @p v in a kapa_hist_rec histogram. */
static inline __u32
kapa_hist_bucket(__u64 v)
{
	__u32 b = 0;

	while (v != 0 && b < KAPA_HIST_BUCKETS - 1) {
		v >>= 1;
		b++;
	}
	return b;
}

/** kapa_conn_rec::state; the values of enum kapa_conn_state (core). */
enum kapa_rec_state {
	KAPA_REC_FREE = 0,	/**< slot unused */
	KAPA_REC_SYN_SENT,
	KAPA_REC_SYN_RCVD,
	KAPA_REC_ESTABLISHED,
	KAPA_REC_CLOSING,
	KAPA_REC_CLOSED,
};

/** Bits of kapa_conn_rec::flags. */
#define KAPA_REC_MIDSTREAM	0x01	/**< picked up without its handshake */
#define KAPA_REC_OPAQUE		0x02	/**< left HTTP/1.x tracking */
#define KAPA_REC_PERSISTENT	0x04	/**< persists after the last message */
#define KAPA_REC_IN_REQUEST	0x08	/**< a request is outstanding */
#define KAPA_REC_SEQ_SHIFTED	0x10	/**< kapa shifted its sequence numbers */

/** A keep-alive parameter nobody announced. */
#define KAPA_KA_UNSET 0xffffffffu

/**
 * One live connection, as its worker publishes it. Its ID is
 * (worker, slot, gen): a command naming a stale generation closes nothing.
 * The worker is the only writer; seq is odd while it writes, so a reader
 * copies the record and retries when seq was odd or changed.
 */
struct kapa_conn_rec {
	__u32 seq;		/**< write sequence counter */
	__u32 gen;		/**< generation of the worker's slot */
	__u16 worker;		/**< owning worker */
	__u8 family;		/**< 4 or 6 */
	__u8 state;		/**< enum kapa_rec_state; KAPA_REC_FREE = unused */
	__u8 mode;		/**< enum kapa_mode in force */
	__u8 flags;		/**< KAPA_REC_* */
	__u16 rule;		/**< matching rule slot; 0xffff = defaults */
	__u32 slot;		/**< slot in the worker's connection table */
	__u8 client_addr[16];
	__u8 server_addr[16];
	__u16 client_port;
	__u16 server_port;
	__u32 requests;		/**< requests seen on the connection */
	__u32 responses;	/**< final (non-1xx) responses seen */
	__u32 client_ka_timeout;	/**< Keep-Alive timeout= the client sent, KAPA_KA_UNSET */
	__u32 client_ka_max;	/**< Keep-Alive max= the client sent, KAPA_KA_UNSET */
	__u32 server_ka_timeout;	/**< Keep-Alive timeout= the server sent, KAPA_KA_UNSET */
	__u32 server_ka_max;	/**< Keep-Alive max= the server sent, KAPA_KA_UNSET */
	__u32 eff_timeout_s;	/**< effective idle limit (policy), 0 = none */
	__u32 eff_max;		/**< effective max requests (policy), 0 = none */
	__u64 first_seen_ns;
	__u64 last_seen_ns;	/**< last byte either way */
	__u64 bytes[2];		/**< payload bytes client->server, server->client */
	__u32 spare[2];		/**< pads to 128 bytes */
};

_Static_assert(sizeof(struct kapa_meta) == 48, "kapa_meta layout changed: bump the ABI version");
_Static_assert(sizeof(struct kapa_stats_rec) % 64 == 0, "kapa_stats_rec must fill whole cache lines");
_Static_assert(sizeof(struct kapa_stats_rec) == KAPA_STATS_WORDS * 8, "kapa_stats_rec: one word per counter, within KAPA_STATS_WORDS");
_Static_assert(sizeof(struct kapa_spec_rec) == 20, "kapa_spec_rec layout changed: bump the ABI version");
_Static_assert(sizeof(struct kapa_rule_rec) == 108, "kapa_rule_rec layout changed: bump the ABI version");
_Static_assert(sizeof(struct kapa_ctl) % 8 == 0, "kapa_ctl must be a whole number of words");
_Static_assert(sizeof(struct kapa_hist_rec) % 64 == 0, "kapa_hist_rec must fill whole cache lines");
_Static_assert(sizeof(struct kapa_conn_rec) == 128, "kapa_conn_rec layout changed: bump the ABI version");

/**
 * Fill @p m with this build's layout.
 *
 * @param m          the record to fill
 * @param max_conns  entries of the live-connection map
 */
static inline void
kapa_meta_init(struct kapa_meta *m, __u32 max_conns)
{
	m->abi_version = KAPA_MAPS_ABI_VERSION;
	m->meta_size = sizeof(struct kapa_meta);
	m->stats_size = sizeof(struct kapa_stats_rec);
	m->rule_size = sizeof(struct kapa_rule_rec);
	m->conn_size = sizeof(struct kapa_conn_rec);
	m->max_workers = KAPA_MAX_WORKERS;
	m->max_rules = KAPA_MAX_RULES;
	m->max_conns = max_conns;
	m->ctl_size = sizeof(struct kapa_ctl);
	m->prog_size = sizeof(struct kapa_prog_rec);
	m->hist_size = sizeof(struct kapa_hist_rec);
	m->spare = 0;
}

/**
 * Compare pinned maps' meta record with this build's layout.
 *
 * @param m  the meta record found in the pinned KAPA_MAP_META
 * @return NULL when compatible, else the name of the first field that
 *         differs ("abi_version", "conn_size", ...), for the refusal message.
 *         max_conns is not compared: the live map's capacity is the
 *         creator's choice.
 */
static inline const char *
kapa_meta_mismatch(const struct kapa_meta *m)
{
	if (m->abi_version != KAPA_MAPS_ABI_VERSION)
		return "abi_version";
	if (m->meta_size != sizeof(struct kapa_meta))
		return "meta_size";
	if (m->stats_size != sizeof(struct kapa_stats_rec))
		return "stats_size";
	if (m->rule_size != sizeof(struct kapa_rule_rec))
		return "rule_size";
	if (m->conn_size != sizeof(struct kapa_conn_rec))
		return "conn_size";
	if (m->max_workers != KAPA_MAX_WORKERS)
		return "max_workers";
	if (m->max_rules != KAPA_MAX_RULES)
		return "max_rules";
	if (m->ctl_size != sizeof(struct kapa_ctl))
		return "ctl_size";
	if (m->prog_size != sizeof(struct kapa_prog_rec))
		return "prog_size";
	if (m->hist_size != sizeof(struct kapa_hist_rec))
		return "hist_size";
	return NULL;
}

#endif /* KAPA_MAPS_H */
