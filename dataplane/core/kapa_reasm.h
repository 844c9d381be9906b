/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Reassembly of one direction of a TCP connection (internal to kapa_tcp).
 *
 * - In-order payload is handed to the output without a copy.
 * - Out-of-order payload is copied into fixed-size chunks of a preallocated
 *   pool and kept on a list sorted by stream offset (struct
 *   kapa_tcp_half::ooo_head). Held chunks never overlap: a new segment is
 *   trimmed against what is held, so the bytes seen first win; a later copy
 *   that differs is counted as inconsistent.
 * - A chunk holds bytes of one segment only, and remembers that segment's
 *   packet reference and time (struct kapa_reasm_src), so that held bytes
 *   are handed on with the packet that brought them, not the one in hand.
 * - A FIN that arrives before the bytes ahead of it is held as a zero-length
 *   chunk flagged FIN; data held or arriving past a FIN is dropped.
 * - Limits: held bytes and held chunks per direction, and the pool. When a
 *   segment cannot be held the direction skips its hole (a GAP) up to the
 *   first held byte, or up to the segment, and goes on from there. An ack
 *   from the peer past a hole (bytes lost before kapa saw them) skips it too,
 *   and so does a hole older than the hole timeout, checked when the sender
 *   sends again (kapa_reasm_hole_timeout(): no timer per hole).
 * - At release, what is still held is handed on (kapa_reasm_release()): a
 *   GAP for each hole, then the held bytes in order.
 *
 * Nothing here allocates per packet, logs or blocks.
 */
#ifndef KAPA_REASM_H
#define KAPA_REASM_H

#include <stdint.h>

#include "kapa_flow.h"
#include "kapa_tcp.h"

/** Bytes of one pool chunk, header included. */
#define KAPA_REASM_CHUNK_SIZE 2048u

/** Segments further than this from the next expected byte are ignored. */
#define KAPA_REASM_MAX_DIST (1ll << 30)

/**
 * How far before the first byte seen of a data-first pickup its earliest
 * bytes may still arrive and be taken (KAPA_HALF_PICKUP): while its start is
 * undecided, that byte is at this offset and offset 0 this far before it, so
 * that every segment of the direction is held out of order until
 * kapa_reasm_pickup_start() decides (and makes the earliest byte offset 0).
 * Bytes further back are older than anything the window can still carry
 * here: taken for retransmissions. The memory held is bounded by the
 * direction's limits, whatever this distance.
 */
#define KAPA_REASM_PICKUP_BACK (1u << 20)

/** Bits of struct kapa_reasm_chunk::flags. */
#define KAPA_CHUNK_FIN 0x01	/**< a FIN at off (len is 0) */
#define KAPA_CHUNK_FREE 0x80	/**< on the free list (kapa_reasm_oldest_ref()) */

/**
 * The segment some bytes came with: the caller's packet reference and the
 * packet's time, as given to kapa_tcp_input(). The reference is an opaque
 * token, never dereferenced here: once its bytes are held, the packet may
 * be long gone (in the data plane an mbuf already forwarded and freed), so
 * a consumer may only compare or copy it.
 */
struct kapa_reasm_src {
	void *pkt_ref;
	uint64_t ns;
};

/** One held piece of stream: [off, off + len), all from one segment. */
struct kapa_reasm_chunk {
	uint64_t off;
	struct kapa_reasm_src src;	/**< the segment its bytes (or FIN) came with */
	uint32_t next;		/**< next chunk index, KAPA_NIL ends */
	uint16_t len;
	uint8_t flags;		/**< KAPA_CHUNK_* */
	uint8_t pad;
	/**
	 * Table clock (ms) by which the hole in front of this chunk was open:
	 * the time the chunk was held, or, for a chunk held in front of the
	 * first one, that chunk's value (the bytes ahead of both were missing
	 * since then). Only the first chunk's value is read: it is the age of
	 * the direction's oldest hole, for the hole timeout.
	 */
	uint32_t since_ms;
	uint32_t pad2;
	uint8_t data[];
};

/** Payload bytes one chunk holds. */
#define KAPA_REASM_CHUNK_DATA \
	(KAPA_REASM_CHUNK_SIZE - (uint32_t)sizeof(struct kapa_reasm_chunk))

/**
 * The chunk pool: one preallocated array, a free list, and a bump index so
 * that memory never used is never touched.
 */
struct kapa_reasm_pool {
	uint8_t *mem;
	uint32_t nchunks;	/**< capacity */
	uint32_t bump;		/**< chunks [bump, nchunks) were never used */
	uint32_t free_head;	/**< free list, KAPA_NIL when empty */
	uint32_t used;		/**< chunks handed out */
	uint64_t bytes;		/**< payload bytes held in all chunks */
};

/** Per-direction limits (from kapa_tcp_conf, defaults applied). */
struct kapa_reasm_limits {
	uint32_t max_bytes;
	uint32_t max_segs;	/**< chunks, at most 255 */
	uint32_t hole_timeout_ms; /**< see kapa_reasm_hole_timeout() */
};

/** Why a segment could not be held. */
enum kapa_reasm_limit {
	KAPA_REASM_HELD = 0,	/**< everything was held */
	KAPA_REASM_LIMIT_CONN,	/**< the direction's bytes or chunks */
	KAPA_REASM_LIMIT_GLOBAL, /**< the pool is empty */
};

/**
 * Where reassembly sends its output. Every callback returns 0 to go on, or
 * non-zero when the consumer no longer wants bytes of this direction (it made
 * the connection opaque or closed it): reassembly then stops delivering,
 * frees what the direction holds and only tracks the sequence space.
 *
 * @p held is NULL for bytes (or a FIN) of the segment in hand, which @p p
 * points into; otherwise they come from a held chunk (@p p points into the
 * chunk) and @p held says which segment brought them. One data call never
 * mixes the two, nor two chunks.
 */
struct kapa_reasm_out {
	/** In-order bytes at stream offset @p off, valid during the call. */
	int (*data)(void *arg, uint64_t off, const uint8_t *p, uint32_t len,
		    const struct kapa_reasm_src *held);
	/** Bytes [off, off + len) were skipped and will never be delivered. */
	int (*gap)(void *arg, uint64_t off, uint64_t len);
	/** The direction ended in order at @p off. */
	int (*fin)(void *arg, uint64_t off, const struct kapa_reasm_src *held);
	void *arg;
};

/** Everything reassembly of one direction needs besides the half. */
struct kapa_reasm {
	struct kapa_reasm_pool *pool;
	const struct kapa_reasm_limits *lim;
	struct kapa_tcp_stats *st;	/**< reassembly counters are bumped here */
	const struct kapa_reasm_out *out;
	uint32_t now_ms;	/**< table clock: stamps held chunks (since_ms) */
	struct kapa_reasm_src seg;	/**< the segment in hand: stamps held chunks */
};

/**
 * Preallocate a pool of @p pool_bytes / KAPA_REASM_CHUNK_SIZE chunks
 * (kapa_mem_alloc(): pages are taken as chunks are first used, on the NUMA
 * node of the thread that first uses them; @p socket_id is kept for the
 * callers and not used).
 * @return 0, -ENOMEM.
 */
int kapa_reasm_pool_init(struct kapa_reasm_pool *pool, uint64_t pool_bytes,
			 int socket_id);

/** Free the pool memory (chunks still held are lost). */
void kapa_reasm_pool_fini(struct kapa_reasm_pool *pool);

/**
 * The smallest packet reference, read as a number, of the bytes held in
 * the pool now: the oldest segment whose bytes may still be delivered. For
 * a user whose references are increasing numbers (kapa-inspect's frame
 * numbers). O(chunks ever used).
 * @return that number, or UINT64_MAX when nothing is held.
 */
uint64_t kapa_reasm_oldest_ref(const struct kapa_reasm_pool *pool);

/**
 * Widen a 32-bit sequence number to the 64-bit stream offset of @p h that is
 * nearest to h->next_off (handles wrap at 2^32).
 * @return the offset; negative when before the start of the stream.
 */
static inline int64_t
kapa_reasm_offset(const struct kapa_tcp_half *h, uint32_t seq)
{
	int32_t d = (int32_t)((seq - h->base_seq) - (uint32_t)h->next_off);

	return (int64_t)h->next_off + d;
}

/**
 * Reassemble one segment of the direction @p h (which must have
 * KAPA_HALF_SEQ_KNOWN): @p len payload bytes at sequence @p seq, followed by
 * a FIN when @p fin is set.
 *
 * @return 0, or 1 when an output callback asked to stop (h->next_off has then
 *         been moved past the segment and nothing is held).
 */
int kapa_reasm_segment(const struct kapa_reasm *r, struct kapa_tcp_half *h,
		       uint32_t seq, const uint8_t *p, uint32_t len, int fin);

/**
 * The peer acknowledged @p ack in the sequence space of @p h: if that is past
 * h->next_off, the receiver has bytes kapa never saw, so skip them (a GAP up
 * to the ack or to the first held byte, whichever comes first) and deliver
 * what becomes contiguous.
 *
 * @return 0, or 1 when an output callback asked to stop.
 */
int kapa_reasm_ack(const struct kapa_reasm *r, struct kapa_tcp_half *h,
		   uint32_t ack);

/**
 * The sender of @p h sent a segment (already processed): if the direction's
 * oldest hole, the one in front of the first held chunk, has been open for
 * r->lim->hole_timeout_ms or longer (since_ms against r->now_ms), skip it
 * (a GAP up to the chunk, counted in gap_hole_timeout), deliver what becomes
 * contiguous, and do the same for the next hole while it is as old.
 *
 * @return 0, or 1 when an output callback asked to stop.
 */
int kapa_reasm_hole_timeout(const struct kapa_reasm *r, struct kapa_tcp_half *h);

/**
 * The connection is being released: hand on everything @p h holds, in
 * order, a GAP for each hole (counted in gap_release) and the held bytes
 * (counted in bytes_delivered and bytes_release_flushed; a held FIN gives
 * the FIN). Nothing is held afterwards.
 *
 * @return 0, or 1 when an output callback asked to stop (the rest was then
 *         freed without being delivered).
 */
int kapa_reasm_release(const struct kapa_reasm *r, struct kapa_tcp_half *h);

/**
 * Start a direction picked up on its data (its first segment at @p seq):
 * its first byte is undecided (KAPA_HALF_PICKUP) and everything it sends is
 * held until kapa_reasm_pickup_start().
 */
static inline void
kapa_reasm_pickup_init(struct kapa_tcp_half *h, uint32_t seq)
{
	h->base_seq = seq - KAPA_REASM_PICKUP_BACK;
	h->next_off = 0;
	h->state = KAPA_HALF_OPEN;
	h->flags |= KAPA_HALF_SEQ_KNOWN | KAPA_HALF_PICKUP;
}

/**
 * Decide where a picked-up direction (KAPA_HALF_PICKUP) starts, and deliver
 * what has become contiguous. The start is offset @p from when it lies at
 * or after the window's start and before the earliest byte held (the peer
 * acknowledged up to there: the bytes in between are still to come, a hole
 * like any other); otherwise the earliest byte held (or the first byte
 * seen, when nothing is held). That byte becomes stream offset 0. Counts
 * the decision in *@p why. Nothing is done for a direction whose start is
 * decided already.
 *
 * @return 0, or 1 when an output callback asked to stop.
 */
int kapa_reasm_pickup_start(const struct kapa_reasm *r, struct kapa_tcp_half *h,
			    int64_t from, uint64_t *why);

/**
 * The same decision (at the earliest byte held, counted in
 * pickup_start_other) without delivering anything: for a direction about
 * to stop delivering (opaque), so that its offsets count from its start.
 */
void kapa_reasm_pickup_forget(const struct kapa_reasm *r, struct kapa_tcp_half *h);

/** @return the offset past the last byte @p h holds, or next_off when that
 *  is further (nothing held). */
uint64_t kapa_reasm_held_end(const struct kapa_reasm_pool *pool,
			     const struct kapa_tcp_half *h);

/** Free every chunk @p h holds. */
void kapa_reasm_flush(struct kapa_reasm_pool *pool, struct kapa_tcp_half *h);

#endif /* KAPA_REASM_H */
