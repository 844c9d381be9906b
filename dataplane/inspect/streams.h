/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Stream numbering as tshark's tcp.stream does it: every TCP connection gets
 * the next number at its first packet, whatever the packet (a bare ACK of a
 * connection picked up mid-stream counts too), and a SYN whose sequence
 * number differs from the one first seen from that side starts a new stream
 * on the same 4-tuple (port reuse).
 *
 * What a 4-tuple's numbering needs (struct stream_state) lives in one place
 * at a time: in the caller's per-connection state while the TCP core holds
 * the connection (kapa-inspect's slot: streams_number_held()), and in this
 * table for the 4-tuples the core does not hold (not tracked, or released).
 * The caller moves it: streams_take() when the core opens a connection,
 * streams_put() when it releases one. So the table costs nothing for the
 * connections the core tracks.
 *
 * Bound: one entry per 4-tuple not held by the core and seen in the last
 * STREAMS_FORGET_NS of capture time (32 bytes for IPv4, 56 for IPv6), each
 * family's table at most 3/4 full; older entries are dropped when a table
 * grows.
 */
#ifndef INSPECT_STREAMS_H
#define INSPECT_STREAMS_H

#include <stdint.h>

#include "kapa_flow.h"
#include "kapa_pkt.h"

/** Idle time after which a 4-tuple is forgotten (2 h, the TCP idle default). */
#define STREAMS_FORGET_NS (7200ull * 1000000000ull)

/** The numbering of one 4-tuple (sides of the canonical kapa_flow_key). */
struct stream_state {
	uint32_t stream;	/**< its current tcp.stream */
	uint32_t base_seq[2];	/**< first sequence number seen from each key side */
	uint8_t sides;		/**< bit per key side whose base_seq is set */
	uint8_t in_table;	/**< streams.c's own mark: 0 in the caller's hands */
	uint8_t pad[2];
};

struct streams;

/** @return an empty table, or NULL (ENOMEM). */
struct streams *streams_create(void);

/** Free the table. NULL ok. */
void streams_free(struct streams *s);

/**
 * Number the connection of a TCP packet (pkt->cls == KAPA_PKT_TCP) whose
 * 4-tuple the caller does not hold (its state is in the table, created here
 * when new).
 * @return the 0-based stream number, or -1 when out of memory.
 */
int64_t streams_number(struct streams *s, const struct kapa_pkt *pkt, uint64_t now_ns);

/**
 * Number a TCP packet of a 4-tuple whose state @p st the caller holds;
 * @p side is the packet sender's key side (kapa_flow_key_make()).
 * @return the stream number (a new one on a SYN with another sequence number).
 */
uint32_t streams_number_held(struct streams *s, struct stream_state *st,
			     const struct kapa_pkt *pkt, int side);

/**
 * Take the state of @p k out of the table (the caller holds it from now on).
 * @return 1 when it was there, 0 when not (@p st untouched).
 */
int streams_take(struct streams *s, const struct kapa_flow_key *k, struct stream_state *st);

/**
 * Give the state of @p k back to the table (the caller no longer holds it).
 * @return 0, or -1 when out of memory.
 */
int streams_put(struct streams *s, const struct kapa_flow_key *k,
		const struct stream_state *st, uint64_t now_ns);

/**
 * tshark also dissects the TCP header quoted in an ICMP error and numbers
 * its connection when it has not seen it; so must the caller, for later
 * stream numbers to agree: when the 4-tuple is not held, streams_note().
 * Call for every non-TCP packet.
 * @return 1 with the quoted segment's addresses and ports in @p inner (cls
 *         KAPA_PKT_TCP), 0 when the packet quotes no TCP header.
 */
int streams_icmp_quoted(const struct kapa_pkt *pkt, struct kapa_pkt *inner);

/**
 * Number the connection of @p pkt if the table does not know it.
 * @return 0, or -1 when out of memory.
 */
int streams_note(struct streams *s, const struct kapa_pkt *pkt, uint64_t now_ns);

/** @return streams numbered so far. */
uint64_t streams_count(const struct streams *s);

#endif /* INSPECT_STREAMS_H */
