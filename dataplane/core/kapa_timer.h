/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Hashed timer wheel for idle expiry; slots hold blocks of node indices.
 *
 * Why not rte_timer: it is a skiplist (O(log n) per arm, 120 bytes a timer).
 * Here a timer is 12 bytes inside the connection record plus its entry in a
 * slot's block of indices (a pool sized from the node count, about 6 bytes
 * per node: kapa_timer_bytes()), and arming, cancelling and firing are O(1)
 * (amortised: see kapa_timer.c for the pool bound). Callers never re-arm per
 * packet: they keep a coarse last-seen time and, when a slot fires, re-check
 * it and re-arm lazily (the callback returns the new deadline). Deadlines
 * past the wheel's horizon are parked in the farthest slot and re-armed when
 * it fires.
 *
 * Times are milliseconds as uint32_t (wrapping after 49 days); comparisons
 * use signed differences, so deadlines must lie within 24 days of now.
 *
 * Single-threaded: the owning worker is the only user.
 */
#ifndef KAPA_TIMER_H
#define KAPA_TIMER_H

#include <stdint.h>

#define KAPA_NIL UINT32_MAX	/**< "no index" in intrusive lists */

/**
 * Embedded in whatever is timed; the wheel finds it by base + idx * stride.
 * Moving or cancelling only rewrites this node: the old slot entry goes
 * stale and is skipped when its slot fires (it no longer matches loc).
 */
struct kapa_timer_node {
	uint32_t loc;		/**< slot entry (block, offset) of the arming, KAPA_NIL = disarmed */
	uint32_t deadline;	/**< ms; meaningful while armed */
	uint32_t spare;		/**< unused (keeps the node 12 bytes) */
};

/**
 * Called for each node whose slot fires with deadline <= now.
 * @return the new deadline (ms) to re-arm the node, or 0 to leave it
 *         disarmed (the callback may then free it).
 */
typedef uint32_t (*kapa_timer_fire_fn)(uint32_t idx, uint32_t now_ms, void *arg);

struct kapa_timer_wheel;

/**
 * Create a wheel over @p count nodes at @p base with @p stride bytes between
 * them (the node may sit at @p node_off inside each element).
 *
 * @param tick_ms  slot width (rounded up to a power of two), e.g. 128
 * @param nslots   number of slots (rounded up to a power of two)
 * @return the wheel, or NULL with errno set (EINVAL, ENOMEM).
 */
struct kapa_timer_wheel *kapa_timer_create(void *base, uint32_t stride,
					   uint32_t node_off, uint32_t count,
					   uint32_t tick_ms, uint32_t nslots,
					   uint32_t now_ms);

/**
 * Bytes kapa_timer_create() allocates for @p count nodes and @p nslots slots
 * (wheel, slot heads and the block pool), for memory accounting.
 * @return the number of bytes.
 */
uint64_t kapa_timer_bytes(uint32_t count, uint32_t nslots);

/**
 * Take @p count nodes from now on (more than before: the elements past the
 * old count must exist at base, and be set up with kapa_timer_init_node()
 * before they are armed). The block pool grows to its bound for @p count;
 * armed nodes and slot lists are untouched. Not from inside a callback of
 * kapa_timer_advance().
 * @return 0, or -EINVAL / -ENOMEM (the wheel is unchanged).
 */
int kapa_timer_grow(struct kapa_timer_wheel *w, uint32_t count);

/** Free the wheel (not the nodes). NULL is ignored. */
void kapa_timer_free(struct kapa_timer_wheel *w);

/** Mark node @p idx disarmed without touching any list (call once at setup). */
void kapa_timer_init_node(struct kapa_timer_wheel *w, uint32_t idx);

/** Arm or move node @p idx to fire at @p deadline_ms. O(1). */
void kapa_timer_arm(struct kapa_timer_wheel *w, uint32_t idx, uint32_t deadline_ms);

/** Disarm node @p idx; a disarmed node is ignored. O(1). */
void kapa_timer_cancel(struct kapa_timer_wheel *w, uint32_t idx);

/** @return non-zero when node @p idx is armed. */
int kapa_timer_armed(const struct kapa_timer_wheel *w, uint32_t idx);

/**
 * Advance the wheel to @p now_ms, firing due nodes, at most @p max_fire of
 * them; the rest fire on later calls (the wheel remembers where it stopped).
 * @return the number of callbacks made.
 */
uint32_t kapa_timer_advance(struct kapa_timer_wheel *w, uint32_t now_ms,
			    uint32_t max_fire, kapa_timer_fire_fn fn, void *arg);

/**
 * Called by kapa_timer_advance_pf() for the node that fires next, one
 * callback ahead, so that the owner can prefetch what that callback will
 * touch. A hint only: the current callback may still move that node.
 */
typedef void (*kapa_timer_prefetch_fn)(uint32_t idx, uint32_t now_ms, void *arg);

/**
 * kapa_timer_advance() with a prefetch hook (@p pf may be NULL). The wheel
 * prefetches the elements of the entries 12 places ahead of the one it
 * handles, and before node i's callback asks @p pf to start the misses of
 * node i+1's callback (i+1's element has arrived by then).
 * @return the number of callbacks made.
 */
uint32_t kapa_timer_advance_pf(struct kapa_timer_wheel *w, uint32_t now_ms,
			       uint32_t max_fire, kapa_timer_fire_fn fn,
			       kapa_timer_prefetch_fn pf, void *arg);

/**
 * When the next firing can happen, for a caller that runs a clock of its own
 * and wants expiries at their due time rather than at its next event
 * (kapa-inspect between two captured packets). Read-only; walks the slots
 * from the wheel's current tick, checking each entry's node, so its cost
 * grows with the ticks and entries it passes: for offline use, not for a
 * packet loop.
 *
 * @param limit_ms  look no further than an advance to this time
 * @param at_ms     filled with the earliest time an advance fires a node:
 *                  the end of the tick holding the earliest deadline (a
 *                  tick is processed once it has passed), or, when nothing
 *                  falls due within the wheel's horizon, the end of the
 *                  horizon (an advance there fires nothing and moves far
 *                  deadlines nearer: ask again after it)
 * @return 0 with @p at_ms set, or -ENOENT when no node is armed or the time
 *         found lies after @p limit_ms.
 */
int kapa_timer_next(const struct kapa_timer_wheel *w, uint32_t limit_ms,
		    uint32_t *at_ms);

/**
 * Set the wheel's clock to @p now_ms when no node is armed (the first use,
 * or after a jump in time such as a new capture file); ignored otherwise.
 */
void kapa_timer_set_now(struct kapa_timer_wheel *w, uint32_t now_ms);

/** @return nodes currently armed. */
uint32_t kapa_timer_count(const struct kapa_timer_wheel *w);

/**
 * @return how often the block pool ran dry and every slot was compacted
 *         (stale entries of moved or cancelled nodes dropped); a bounded,
 *         amortised O(1) event, counted so that it can be watched.
 */
uint64_t kapa_timer_compactions(const struct kapa_timer_wheel *w);

#endif /* KAPA_TIMER_H */
