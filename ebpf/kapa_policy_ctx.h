/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/**
 * @file
 * The context of a policy decision: what kapa knows of a connection when it
 * decides the connection's effective limits, and the limits decided. One
 * layout for the data plane's built-in decision (dataplane/core/
 * kapa_policy.c) and for the eBPF policy programs that replace it (run with
 * DPDK's rte_bpf over a pointer to this struct), so the same rules as
 * kapa_maps.h hold: __u8..__u64 only, no pointers, explicit padding, size
 * checked below, KAPA_POLICY_CTX_VERSION bumped on any change.
 *
 * A decision is taken on events, never per packet: when a connection opens
 * (or is picked up), on each request and response header block, when it
 * leaves HTTP/1.x tracking, and when the rule set changes. Before the call
 * the results are filled with the matched rule's values, so a program that
 * writes nothing keeps them; a program reads the inputs and overwrites what
 * it decides otherwise. Addresses are in network byte order, everything
 * else in host order; an IPv4 address sits in the first 4 bytes of its
 * 16-byte field.
 */
#ifndef KAPA_POLICY_CTX_H
#define KAPA_POLICY_CTX_H

#include <linux/types.h>

#include "kapa_maps.h"

/** Bumped on any change to struct kapa_policy_ctx. */
#define KAPA_POLICY_CTX_VERSION 1

/** What the decision is taken on (kapa_policy_ctx::event). */
enum kapa_policy_event {
	KAPA_POLICY_EV_OPEN = 0,	/**< new connection, or picked up */
	KAPA_POLICY_EV_REQUEST,		/**< a request's header block */
	KAPA_POLICY_EV_RESPONSE,	/**< a response's header block */
	KAPA_POLICY_EV_OPAQUE,		/**< the connection left HTTP/1.x tracking */
	KAPA_POLICY_EV_RULES,		/**< the rule set (generation) changed */
	KAPA_POLICY_EV_MAX
};

/** Bits of kapa_policy_ctx::flags. */
#define KAPA_PCTX_MIDSTREAM	0x01	/**< picked up without its handshake:
					     requests counted from the pickup */
#define KAPA_PCTX_OPAQUE	0x02	/**< not (or no longer) HTTP/1.x: only
					     opaque_idle_s applies */
#define KAPA_PCTX_L2_DEEP	0x04	/**< kapa cannot craft packets for it
					     (tunnel, PPPoE, MPLS, deep tags) */
#define KAPA_PCTX_HTTP_SEEN	0x08	/**< at least one HTTP/1.x message */

/** kapa_policy_ctx::rule_id of a connection no rule matches (the default). */
#define KAPA_POLICY_NO_RULE 0xffffffffu

/**
 * Inputs first, results last. The results (timeout_s .. mode) are what the
 * data plane enforces: limits in whole seconds and requests, 0 = no limit.
 */
struct kapa_policy_ctx {
	__u16 version;		/**< KAPA_POLICY_CTX_VERSION */
	__u16 size;		/**< sizeof(struct kapa_policy_ctx) */
	__u8 event;		/**< enum kapa_policy_event */
	__u8 family;		/**< 4 or 6 */
	__u8 flags;		/**< KAPA_PCTX_* */
	__u8 http_minor;	/**< HTTP/1.x minor version of the last message,
				     0xff before any */
	__u8 client_addr[16];
	__u8 server_addr[16];
	__u16 client_port;
	__u16 server_port;
	/** KAPA_HTTP_CONN_* bits (close 1, keep-alive 2, upgrade 4) of the
	 *  last request's / last response's Connection tokens. */
	__u8 client_conn;
	__u8 server_conn;
	__u16 pad0;
	/** Keep-Alive parameters each side last announced, KAPA_KA_UNSET when
	 *  it announced none (or without Connection: keep-alive). */
	__u32 client_ka_timeout;
	__u32 client_ka_max;
	__u32 server_ka_timeout;
	__u32 server_ka_max;
	__u32 requests;		/**< request header blocks so far (since pickup) */
	__u32 responses;	/**< final response header blocks so far */
	__u32 table_conns;	/**< connections in the worker's table now */
	__u32 table_capacity;	/**< the table's capacity */
	/* The rule that matched the server (or the default spec). */
	__u32 rule_id;		/**< its index in the rule set, KAPA_POLICY_NO_RULE */
	__u32 rule_generation;	/**< the rule set's generation */
	__u32 rule_timeout_s;
	__u32 rule_max;
	__u32 rule_stall_s;
	__u32 rule_opaque_idle_s;
	__u8 rule_mode;		/**< enum kapa_mode */
	__u8 pad1[3];
	/* Results: prefilled with the rule's values. */
	__u32 timeout_s;	/**< keep-alive idle limit */
	__u32 max;		/**< requests per connection */
	__u32 stall_s;		/**< silence with a request outstanding or a
				     message in progress */
	__u32 opaque_idle_s;	/**< idle limit of an opaque connection */
	__u8 mode;		/**< enum kapa_mode */
	__u8 pad2[3];
};

_Static_assert(sizeof(struct kapa_policy_ctx) == 128,
	       "kapa_policy_ctx layout changed: bump KAPA_POLICY_CTX_VERSION");

/** ELF section of a policy program: one function in it per object. */
#define KAPA_POLICY_SECTION "kapa_policy"

/**
 * A policy program (ebpf/policy_*.bpf.c), for rte_bpf: built with clang -O2
 * -target bpf -mcpu=v2, one function in KAPA_POLICY_SECTION taking the
 * context, no global or static data (a .rodata table does not load), no
 * calls to other functions, maps or helpers. It returns 0; what it decides
 * is what it leaves in the results.
 */
#define KAPA_POLICY_PROG(name) \
	__attribute__((section(KAPA_POLICY_SECTION), used)) \
	__u64 name(struct kapa_policy_ctx *ctx)

#endif /* KAPA_POLICY_CTX_H */
