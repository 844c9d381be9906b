/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Software dispatch, for ports without symmetric RSS (every virtual device,
 * and NICs with one queue): the worker that polls a queue hashes each TCP
 * segment by its connection, both directions alike, and hands it to the
 * owning worker through that worker's ring (many producers, one consumer).
 * Tunnelled segments hash on their inner tuple, which is what the core
 * tracks. Segments the polling worker owns never touch a ring.
 *
 * What needs no owner stays with the polling worker: frames that are not
 * TCP (ARP, UDP, ICMP) and IP fragments, which the core forwards untouched;
 * all fragments of a datagram arrive on one port and so reach one worker.
 *
 * A full ring drops the segment (counted): the owner is behind, and holding
 * the segment would stall the poller and every connection it serves.
 */
#ifndef DP_DISPATCH_H
#define DP_DISPATCH_H

#include <stdint.h>

#include <rte_hash_crc.h>
#include <rte_ring.h>

#include "kapa_maps.h"
#include "kapa_pkt.h"

struct dp_dispatch_params {
	uint16_t workers;
	uint32_t ring_size;	/**< per worker, a power of two; 0 = 4096 */
	int socket;
};

struct dp_dispatch {
	uint16_t workers;
	struct rte_ring *ring[KAPA_MAX_WORKERS];
};

/** @return the stage, or NULL with @p err filled. */
struct dp_dispatch *dp_dispatch_create(const struct dp_dispatch_params *p,
				       char *err, size_t errlen);

void dp_dispatch_free(struct dp_dispatch *d);

/** @return the ring size dp_dispatch_create() uses for @p p. */
uint32_t dp_dispatch_ring_size(const struct dp_dispatch_params *p);

/**
 * The worker that owns a TCP segment's connection: a hash that is the same
 * for both directions (XOR of the two addresses and of the two ports, then
 * CRC32-C), spread over the workers by multiplication.
 */
static inline uint16_t
dp_dispatch_owner(const struct kapa_pkt *pkt, uint16_t workers)
{
	uint32_t a[4], b[4], h;
	unsigned i, n = pkt->family == 6 ? 4 : 1;

	memcpy(a, pkt->src, sizeof(a));
	memcpy(b, pkt->dst, sizeof(b));
	h = (uint32_t)(pkt->sport ^ pkt->dport);
	for (i = 0; i < n; i++)
		h = rte_hash_crc_4byte(a[i] ^ b[i], h);
	return (uint16_t)(((uint64_t)h * workers) >> 32);
}

#endif /* DP_DISPATCH_H */
