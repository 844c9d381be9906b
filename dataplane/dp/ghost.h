/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Ghosts: connections whose sequence numbers a kapa-dp shifted (it inserted
 * bytes into them) when it was killed (kill -9, a crash), so that it could
 * not reset them as a clean stop does. Their endpoints disagree by the shift
 * on every sequence number and acknowledgement from then on; without the
 * shift, no later kapa-dp can translate them.
 *
 * What kapa-dp does: at start, before its workers take their slices of
 * kapa_conns, it reads the records the killed one left there (the map is
 * pinned, so they survive it) and keeps the 4-tuples flagged
 * KAPA_REC_SEQ_SHIFTED. When a packet of such a tuple arrives before the
 * connection is tracked again:
 *   - from the client: both ends are reset, each RST with exactly the
 *     sequence number its receiver expects (to the server the client's own
 *     sequence number, to the client its acknowledgement, both in the space
 *     each end lives in), and the packet is dropped; counted as
 *     ghosts_reset;
 *   - from the server: forwarded untouched (its sequence numbers cannot be
 *     put into the client's space) until the client speaks;
 *   - a SYN: the tuple is a new connection; the ghost is gone.
 * The alternative, keeping each shift in a pinned map and picking it up
 * again, would have made every insertion write the map and kept the
 * connection on an edit log kapa-dp no longer has; a reset is what a clean
 * stop does to these connections too, and clients reconnect.
 *
 * Ghosts last DP_GHOST_TTL_S after the start; the table is read-only after
 * collection (lookups from every worker), each ghost's state byte written
 * only by the worker that owns its connection.
 */
#ifndef DP_GHOST_H
#define DP_GHOST_H

#include <stdint.h>

#include "kapa_flow.h"
#include "kapa_maps.h"
#include "kapa_pkt.h"

/** Seconds after the start a ghost is still looked for. */
#define DP_GHOST_TTL_S 600

enum dp_ghost_state {
	DP_GHOST_WAITING = 0,	/**< not seen yet */
	DP_GHOST_RESET,		/**< reset both ways */
	DP_GHOST_GONE,		/**< its tuple opened anew (SYN) */
};

struct dp_ghost {
	struct kapa_flow_key key;
	uint8_t client_side;	/**< key side of the client */
	uint8_t state;		/**< enum dp_ghost_state */
};

struct dp_ghosts;

/**
 * Collect the ghosts from @p n records left in kapa_conns.
 * @return the table, or NULL when there are none (or no memory: then
 *         @p err says so and they will be picked up as live connections).
 */
struct dp_ghosts *dp_ghosts_collect(const struct kapa_conn_rec *recs, uint64_t n,
				    uint64_t now_ns, char *err, size_t errlen);

void dp_ghosts_free(struct dp_ghosts *g);

/** @return how many were collected. */
uint32_t dp_ghosts_count(const struct dp_ghosts *g);

/**
 * The ghost of a packet's connection (@p key its canonical key), still
 * waiting and within its time, or NULL.
 */
struct dp_ghost *dp_ghost_find(struct dp_ghosts *g, const struct kapa_flow_key *key,
			       uint64_t now_ns);

/**
 * Craft the two RSTs for a client's packet of a ghost: @p to_server (the
 * packet's own link header) and @p to_client (its MACs swapped).
 * @return 0, or -1 (a link header too deep to copy).
 */
int dp_ghost_rsts(const struct kapa_pkt *pkt, const uint8_t *frame,
		  uint8_t *to_server, int *len_server, uint8_t *to_client, int *len_client,
		  uint32_t cap);

#endif /* DP_GHOST_H */
