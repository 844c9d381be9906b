/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Stream numbering as tshark's tcp.stream does it: every TCP connection gets
 * the next number at its first packet, whatever the packet (a bare ACK of a
 * connection picked up mid-stream counts too), and a SYN whose sequence
 * number differs from the one first seen from that side starts a new stream
 * on the same 4-tuple (port reuse). The TCP core's table only holds
 * connections it tracks, so kapa-inspect keeps this numbering beside it.
 *
 * Bound: one 64-byte entry per 4-tuple seen in the last STREAMS_FORGET_NS of
 * capture time; older entries are dropped when the table grows.
 */
#ifndef INSPECT_STREAMS_H
#define INSPECT_STREAMS_H

#include <stdint.h>

#include "kapa_pkt.h"

/** Idle time after which a 4-tuple is forgotten (2 h, the TCP idle default). */
#define STREAMS_FORGET_NS (7200ull * 1000000000ull)
/** A caller that keeps a connection's number itself (kapa-inspect, for the
 *  connections the core holds) asks at least this often, so that the entry
 *  of a live connection is never forgotten. */
#define STREAMS_REFRESH_NS (STREAMS_FORGET_NS / 2)

struct streams;

/** @return an empty table, or NULL (ENOMEM). */
struct streams *streams_create(void);

/** Free the table. NULL ok. */
void streams_free(struct streams *s);

/**
 * Number the connection of a TCP packet (pkt->cls == KAPA_PKT_TCP).
 * @return the 0-based stream number, or -1 when out of memory.
 */
int64_t streams_number(struct streams *s, const struct kapa_pkt *pkt, uint64_t now_ns);

/**
 * tshark also dissects the TCP header quoted in an ICMP error and numbers
 * its connection when it has not seen it: do the same, so that later stream
 * numbers agree. Call for every non-TCP packet.
 * @return 1 when the packet quoted a TCP header, 0 when not, -1 out of memory.
 */
int streams_note_icmp(struct streams *s, const struct kapa_pkt *pkt, uint64_t now_ns);

/** @return streams numbered so far. */
uint64_t streams_count(const struct streams *s);

#endif /* INSPECT_STREAMS_H */
