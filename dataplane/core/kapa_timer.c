/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hashed timer wheel whose slots hold blocks of node indices.
 *
 * Time is cut into ticks of tick_ms (a power of two). Slot s holds the
 * nodes whose deadline falls in a tick t with t mod nslots == s; the wheel
 * keeps next_t, the start (ms) of the oldest tick not yet processed. A tick
 * is processed once it has fully passed (now >= its end), so a node fires at
 * the first kapa_timer_advance() whose now has left the deadline's tick:
 * never early, at most one tick late. Deadlines more than nslots ticks ahead
 * are parked in the slot processed last in the current rotation and put
 * back in their own slot when it comes round.
 *
 * Why blocks of indices and not lists through the nodes: walking a linked
 * slot is a chain of dependent cache misses (node i+2's index is in node
 * i+1), so with records in random order a 10M-entry table pays a full
 * memory latency per timer. A slot here is a chain of 64-byte blocks of 15
 * indices, so the walk knows the indices many entries ahead and prefetches
 * their records (TMR_PF_DIST) while earlier ones are handled: the misses
 * overlap. Arming appends to the slot's tail block (hot for the near
 * slots); no record other than the node's own is written.
 *
 * Lazy cancel and move. A node stores the location (block, offset) of its
 * one valid entry in loc, or TMR_OFF when disarmed. Moving appends a new
 * entry and points loc at it; cancelling sets loc to TMR_OFF. The old entry
 * stays in its block and is recognised as stale when its slot is walked:
 * an entry at location L for node i is valid exactly when node i's loc is
 * L. That is exact: a location names one entry, a valid node's location
 * is never in a freed block (its slot has not been walked past it yet: the
 * walk disarms or re-files a node before moving on), and a block is only
 * reused after the walk has freed it. So a node fires once per arming and
 * is never missed.
 *
 * The bound. Let P be the pool (blocks), n the nodes and S = nslots + 1
 * lists (the slots and the pending list). Stale entries only live until
 * their slot is walked, but a node re-armed k times within one horizon
 * leaves k - 1 of them, so arming alone could use any number of blocks.
 * When the pool is empty, tmr_compact() rewrites every list in place,
 * keeping only valid entries (in the pending list from the walk's cursor
 * on). After it a list with v valid entries uses no block when v = 0 and at
 * most v / 15 + 1 blocks otherwise (its partly used tail block); the pending
 * list may keep one more, the cursor's partly consumed block. sum(v) <= n
 * because each armed node has exactly one valid entry, and at most
 * min(S, n) lists are non-empty. So at most n / 15 + min(S, n) + 1 blocks
 * are in use after a compaction, and a pool of that plus n / 30 + 1 leaves
 * at least n / 30 + 1 free: the allocation that triggered it succeeds, and
 * the next compaction comes at least 15 * (n / 30 + 1) > n / 2 appends
 * later. A compaction reads O(P) blocks and O(n) nodes, so it is O(1)
 * amortised per arm (a burst of work at that one arm, never a lost timer).
 * Compactions are counted (kapa_timer_compactions()).
 *
 * Processing a tick moves its whole block chain onto the pending list (one
 * swap) and then handles entries one by one from a cursor kept in the
 * wheel, at most max_fire per call; the next call starts where the last one
 * stopped. A callback may arm, cancel or re-arm any node, including
 * pending ones (those become stale entries of the pending list).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "kapa_timer.h"

#define TMR_OFF		KAPA_NIL	/* loc of a disarmed node */
#define TMR_BLK_N	15u		/* indices per block */
#define TMR_LOC_SHIFT	4u		/* loc = block << 4 | offset */
#define TMR_MAX_BLOCKS	(1u << (32 - TMR_LOC_SHIFT))

/* Records prefetched this many entries ahead of the walk (< 2 * TMR_BLK_N:
 * the entry is at most two blocks on, and two blocks are kept in flight). */
#ifndef TMR_PF_DIST
#define TMR_PF_DIST	24u
#endif

/* Keep every deadline comparison inside the signed 32-bit window. */
#define TMR_MAX_HORIZON_SHIFT 30

/* One cache line: indices (KAPA_NIL past the last one) and the next block. */
struct tmr_block {
	uint32_t e[TMR_BLK_N];
	uint32_t next;		/* block index, KAPA_NIL at the tail */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct tmr_block) == 64, "a block is one cache line");

struct tmr_list {
	uint32_t head;		/* first block, KAPA_NIL when empty */
	uint32_t tail;		/* last block */
	uint32_t fill;		/* entries used in the tail block */
	uint32_t pos;		/* pending list only: next entry of head */
};

struct kapa_timer_wheel {
	uint8_t *base;		/* element 0 */
	uint32_t stride;	/* bytes between elements */
	uint32_t node_off;	/* node offset in an element */
	uint32_t count;		/* elements */
	uint32_t shift;		/* log2(tick_ms) */
	uint32_t tick_ms;	/* power of two */
	uint32_t nslots;	/* power of two */
	uint32_t mask;		/* nslots - 1 */
	uint32_t pending;	/* list number of the pending list (== nslots) */
	uint32_t next_t;	/* ms: start of the oldest unprocessed tick */
	uint32_t armed;		/* nodes armed (in a slot or pending) */
	uint32_t free_blk;	/* free block list through next */
	uint32_t nblocks;	/* pool size */
	uint64_t compactions;	/* pool ran dry and was compacted */
	struct tmr_block *blk;	/* [nblocks] */
	struct tmr_list lists[];	/* [nslots] slots, then the pending list */
};

static inline struct kapa_timer_node *
tmr_node(const struct kapa_timer_wheel *w, uint32_t idx)
{
	return (struct kapa_timer_node *)(w->base + (size_t)idx * w->stride +
					  w->node_off);
}

static uint32_t
log2_ceil(uint32_t v)
{
	uint32_t s = 0;

	while (s < 31 && (1u << s) < v)
		s++;
	return s;
}

/* The pool size of the bound proved at the top of this file. */
static uint64_t
tmr_pool_blocks(uint32_t count, uint32_t nslots)
{
	uint64_t lists = (uint64_t)nslots + 1;

	if (lists > count)
		lists = count;
	return (uint64_t)count / TMR_BLK_N + lists + 1 +
	       count / (2 * TMR_BLK_N) + 1;
}

uint64_t
kapa_timer_bytes(uint32_t count, uint32_t nslots)
{
	uint32_t n = 1u << log2_ceil(nslots < 2 ? 2 : nslots);

	return sizeof(struct kapa_timer_wheel) +
	       ((uint64_t)n + 1) * sizeof(struct tmr_list) +
	       tmr_pool_blocks(count, n) * sizeof(struct tmr_block);
}

struct kapa_timer_wheel *
kapa_timer_create(void *base, uint32_t stride, uint32_t node_off,
		  uint32_t count, uint32_t tick_ms, uint32_t nslots,
		  uint32_t now_ms)
{
	struct kapa_timer_wheel *w;
	uint32_t shift, slot_shift, i;
	uint64_t nblocks;

	if (base == NULL || count == 0 || count == KAPA_NIL ||
	    (uint64_t)node_off + sizeof(struct kapa_timer_node) > stride ||
	    tick_ms == 0 || nslots < 2) {
		errno = EINVAL;
		return NULL;
	}
	shift = log2_ceil(tick_ms);
	slot_shift = log2_ceil(nslots);
	/* The horizon (tick * slots) must stay well inside the signed window. */
	if (shift + slot_shift > TMR_MAX_HORIZON_SHIFT) {
		errno = EINVAL;
		return NULL;
	}
	nblocks = tmr_pool_blocks(count, 1u << slot_shift);
	if (nblocks >= TMR_MAX_BLOCKS) {
		errno = EINVAL;
		return NULL;
	}
	w = malloc(sizeof(*w) + ((size_t)(1u << slot_shift) + 1) * sizeof(w->lists[0]));
	if (w == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	w->blk = aligned_alloc(64, (size_t)nblocks * sizeof(struct tmr_block));
	if (w->blk == NULL) {
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	w->base = base;
	w->stride = stride;
	w->node_off = node_off;
	w->count = count;
	w->shift = shift;
	w->tick_ms = 1u << shift;
	w->nslots = 1u << slot_shift;
	w->mask = w->nslots - 1;
	w->pending = w->nslots;
	w->next_t = now_ms & ~(w->tick_ms - 1);
	w->armed = 0;
	w->nblocks = (uint32_t)nblocks;
	w->compactions = 0;
	for (i = 0; i < w->nblocks; i++)
		w->blk[i].next = i + 1 < w->nblocks ? i + 1 : KAPA_NIL;
	w->free_blk = 0;
	for (i = 0; i <= w->nslots; i++) {
		w->lists[i].head = KAPA_NIL;
		w->lists[i].tail = KAPA_NIL;
		w->lists[i].fill = TMR_BLK_N;
		w->lists[i].pos = 0;
	}
	return w;
}

int
kapa_timer_grow(struct kapa_timer_wheel *w, uint32_t count)
{
	struct tmr_block *blk;
	uint64_t nblocks;
	uint32_t i;

	if (count < w->count || count == KAPA_NIL) {
		errno = EINVAL;
		return -EINVAL;
	}
	nblocks = tmr_pool_blocks(count, w->nslots);
	if (nblocks >= TMR_MAX_BLOCKS) {
		errno = EINVAL;
		return -EINVAL;
	}
	if (nblocks > w->nblocks) {
		/* Block indices stay valid: the pool is copied, not rebuilt,
		 * and the new blocks go to the front of the free list. */
		blk = aligned_alloc(64, (size_t)nblocks * sizeof(struct tmr_block));
		if (blk == NULL) {
			errno = ENOMEM;
			return -ENOMEM;
		}
		memcpy(blk, w->blk, (size_t)w->nblocks * sizeof(struct tmr_block));
		for (i = w->nblocks; i < nblocks; i++)
			blk[i].next = i + 1 < nblocks ? i + 1 : w->free_blk;
		w->free_blk = w->nblocks;
		free(w->blk);
		w->blk = blk;
		w->nblocks = (uint32_t)nblocks;
	}
	w->count = count;
	return 0;
}

void
kapa_timer_free(struct kapa_timer_wheel *w)
{
	if (w == NULL)
		return;
	free(w->blk);
	free(w);
}

void
kapa_timer_init_node(struct kapa_timer_wheel *w, uint32_t idx)
{
	struct kapa_timer_node *n = tmr_node(w, idx);

	n->loc = TMR_OFF;
	n->deadline = 0;
	n->spare = 0;
}

static inline void
tmr_blk_free(struct kapa_timer_wheel *w, uint32_t b)
{
	w->blk[b].next = w->free_blk;
	w->free_blk = b;
}

/*
 * Rewrite list @p l in place, keeping its valid entries in order: from the
 * walk's cursor on for the pending list, from the head for a slot. Blocks
 * past the last one written go back to the pool. Never allocates.
 */
static void
tmr_compact_list(struct kapa_timer_wheel *w, struct tmr_list *l)
{
	uint32_t rb = l->head, ro = l->pos, wb = l->head, wo = l->pos;
	uint32_t idx, nb;
	struct kapa_timer_node *n;

	if (rb == KAPA_NIL)
		return;
	while (rb != KAPA_NIL) {
		for (; ro < TMR_BLK_N; ro++) {
			idx = w->blk[rb].e[ro];
			if (idx == KAPA_NIL)
				break;
			n = tmr_node(w, idx);
			if (n->loc != (rb << TMR_LOC_SHIFT | ro))
				continue;	/* stale */
			if (wo == TMR_BLK_N) {
				wb = w->blk[wb].next;
				wo = 0;
			}
			w->blk[wb].e[wo] = idx;
			n->loc = wb << TMR_LOC_SHIFT | wo;
			wo++;
		}
		rb = w->blk[rb].next;
		ro = 0;
	}
	/* wb is the new tail; clear the rest of it and free what follows. */
	for (uint32_t o = wo; o < TMR_BLK_N; o++)
		w->blk[wb].e[o] = KAPA_NIL;
	nb = w->blk[wb].next;
	w->blk[wb].next = KAPA_NIL;
	while (nb != KAPA_NIL) {
		uint32_t after = w->blk[nb].next;

		tmr_blk_free(w, nb);
		nb = after;
	}
	l->tail = wb;
	l->fill = wo;
	if (wb == l->head && wo == l->pos) {
		/* nothing valid left: give the head block back too */
		tmr_blk_free(w, wb);
		l->head = KAPA_NIL;
		l->tail = KAPA_NIL;
		l->fill = TMR_BLK_N;
		l->pos = 0;
	}
}

static void
tmr_compact(struct kapa_timer_wheel *w)
{
	uint32_t i;

	w->compactions++;
	for (i = 0; i <= w->nslots; i++)
		tmr_compact_list(w, &w->lists[i]);
}

static inline uint32_t
tmr_blk_alloc(struct kapa_timer_wheel *w)
{
	uint32_t b = w->free_blk;

	if (b == KAPA_NIL) {
		/* Cannot fail afterwards: see the bound at the top. */
		tmr_compact(w);
		b = w->free_blk;
	}
	w->free_blk = w->blk[b].next;
	memset(w->blk[b].e, 0xff, sizeof(w->blk[b].e));
	w->blk[b].next = KAPA_NIL;
	return b;
}

/* Append node @p idx to list @p li and point its loc at the new entry. */
static inline void
tmr_append(struct kapa_timer_wheel *w, uint32_t li, uint32_t idx)
{
	struct tmr_list *l = &w->lists[li];
	uint32_t b;

	if (l->fill == TMR_BLK_N) {
		/* An allocation may compact every list, this one too. */
		b = tmr_blk_alloc(w);
		if (l->head == KAPA_NIL) {
			l->head = b;
			l->pos = 0;
		} else {
			w->blk[l->tail].next = b;
		}
		l->tail = b;
		l->fill = 0;
	}
	b = l->tail;
	w->blk[b].e[l->fill] = idx;
	tmr_node(w, idx)->loc = b << TMR_LOC_SHIFT | l->fill;
	l->fill++;
}

/* Put node @p idx in the slot its deadline belongs to. */
static inline void
tmr_slot(struct kapa_timer_wheel *w, uint32_t idx, uint32_t deadline)
{
	int32_t ahead = (int32_t)(deadline - w->next_t);
	uint32_t at;

	if (ahead < 0)
		at = w->next_t;		/* already due: the next tick processed */
	else if (((uint32_t)ahead >> w->shift) >= w->nslots)
		at = w->next_t + ((w->nslots - 1) << w->shift);	/* park */
	else
		at = deadline;
	tmr_append(w, (at >> w->shift) & w->mask, idx);
}

void
kapa_timer_arm(struct kapa_timer_wheel *w, uint32_t idx, uint32_t deadline_ms)
{
	struct kapa_timer_node *n = tmr_node(w, idx);

	/* An armed node's old entry goes stale: its loc moves on. */
	if (n->loc == TMR_OFF)
		w->armed++;
	n->deadline = deadline_ms;
	tmr_slot(w, idx, deadline_ms);
}

void
kapa_timer_cancel(struct kapa_timer_wheel *w, uint32_t idx)
{
	struct kapa_timer_node *n = tmr_node(w, idx);

	if (n->loc == TMR_OFF)
		return;
	n->loc = TMR_OFF;
	w->armed--;
}

int
kapa_timer_armed(const struct kapa_timer_wheel *w, uint32_t idx)
{
	return tmr_node(w, idx)->loc != TMR_OFF;
}

uint64_t
kapa_timer_compactions(const struct kapa_timer_wheel *w)
{
	return w->compactions;
}

/* Index of the entry @p d places after (b, o), or KAPA_NIL. */
static inline uint32_t
tmr_peek(const struct kapa_timer_wheel *w, uint32_t b, uint32_t o, uint32_t d)
{
	o += d;
	while (o >= TMR_BLK_N) {
		b = w->blk[b].next;
		if (b == KAPA_NIL)
			return KAPA_NIL;
		o -= TMR_BLK_N;
	}
	return w->blk[b].e[o];
}

/* Start the misses of the first records of a list the walk begins, and
 * of the blocks after its first. */
static inline void
tmr_prime(const struct kapa_timer_wheel *w, uint32_t b)
{
	uint32_t d, idx, nb = w->blk[b].next;

	if (nb != KAPA_NIL) {
		__builtin_prefetch(&w->blk[nb]);
		if (w->blk[nb].next != KAPA_NIL)
			__builtin_prefetch(&w->blk[w->blk[nb].next]);
	}
	for (d = 0; d < TMR_PF_DIST; d++) {
		idx = tmr_peek(w, b, 0, d);
		if (idx >= w->count)
			break;
		__builtin_prefetch(tmr_node(w, idx), 1);
	}
}

uint32_t
kapa_timer_advance(struct kapa_timer_wheel *w, uint32_t now_ms,
		   uint32_t max_fire, kapa_timer_fire_fn fn, void *arg)
{
	return kapa_timer_advance_pf(w, now_ms, max_fire, fn, NULL, arg);
}

uint32_t
kapa_timer_advance_pf(struct kapa_timer_wheel *w, uint32_t now_ms,
		      uint32_t max_fire, kapa_timer_fire_fn fn,
		      kapa_timer_prefetch_fn pf, void *arg)
{
	struct tmr_list *p = &w->lists[w->pending];
	uint32_t calls = 0, work = 0, ticks = 0;
	struct kapa_timer_node *n;
	uint32_t idx, b, o, ahead, next;
	struct tmr_list *s;

	for (;;) {
		while ((b = p->head) != KAPA_NIL) {
			o = p->pos;
			idx = o < TMR_BLK_N ? w->blk[b].e[o] : KAPA_NIL;
			if (idx == KAPA_NIL) {
				/* End of this block: the next one, or done. */
				p->head = w->blk[b].next;
				p->pos = 0;
				tmr_blk_free(w, b);
				if (p->head == KAPA_NIL) {
					p->tail = KAPA_NIL;
					p->fill = TMR_BLK_N;
				} else {
					/* Blocks are read TMR_PF_DIST entries
					 * ahead: keep two blocks in flight. */
					uint32_t nb = w->blk[p->head].next;

					if (nb != KAPA_NIL && w->blk[nb].next != KAPA_NIL)
						__builtin_prefetch(&w->blk[w->blk[nb].next]);
				}
				continue;
			}
			/* The records TMR_PF_DIST entries on are misses in a
			 * big table: start them under this entry's work. */
			ahead = tmr_peek(w, b, o, TMR_PF_DIST);
			if (ahead < w->count)
				__builtin_prefetch(tmr_node(w, ahead), 1);
			n = tmr_node(w, idx);
			if (n->loc != (b << TMR_LOC_SHIFT | o)) {
				p->pos = o + 1;		/* stale: moved or cancelled */
				continue;
			}
			/* Parked nodes moved back count as work too, so a call
			 * never does more than max_fire node visits. */
			if (work >= max_fire)
				return calls;
			work++;
			p->pos = o + 1;
			if ((int32_t)(n->deadline - now_ms) > 0) {
				/* Parked beyond the horizon: not due yet. */
				tmr_slot(w, idx, n->deadline);
				continue;
			}
			if (pf != NULL) {
				/* One callback ahead: the next entry, when it is
				 * valid (its record was prefetched earlier). */
				next = tmr_peek(w, b, o, 1);
				if (next < w->count) {
					uint32_t nb = o + 1 < TMR_BLK_N ? b : w->blk[b].next;
					uint32_t no = o + 1 < TMR_BLK_N ? o + 1 : 0;

					if (tmr_node(w, next)->loc == (nb << TMR_LOC_SHIFT | no))
						pf(next, now_ms, arg);
				}
			}
			n->loc = TMR_OFF;
			w->armed--;
			next = fn(idx, now_ms, arg);
			calls++;
			if (next != 0)
				kapa_timer_arm(w, idx, next);
		}
		/* Only a tick that has fully passed is processed. */
		if ((int32_t)(now_ms - w->next_t) < (int32_t)w->tick_ms)
			break;
		/* After a long stall, step at most one rotation per call. */
		if (ticks++ == w->nslots)
			break;
		if (w->armed == 0) {
			/* Nothing to fire: jump straight to the current tick.
			 * Stale entries left in slots are skipped when
			 * their slots come round (or dropped by a compaction). */
			w->next_t = now_ms & ~(w->tick_ms - 1);
			break;
		}
		s = &w->lists[(w->next_t >> w->shift) & w->mask];
		/* The next tick becomes current before any callback runs, so
		 * that a node re-armed in the past lands in a slot still ahead. */
		w->next_t += w->tick_ms;
		if (s->head != KAPA_NIL) {
			*p = *s;
			p->pos = 0;
			s->head = KAPA_NIL;
			s->tail = KAPA_NIL;
			s->fill = TMR_BLK_N;
			tmr_prime(w, p->head);
		}
	}
	return calls;
}

/*
 * Earliest deadline among the valid entries of list @p li from (b, o) on,
 * UINT32_MAX relative to @p base when none: deadlines are compared as
 * signed distances from @p base, as everywhere in the wheel.
 */
static int64_t
tmr_list_min(const struct kapa_timer_wheel *w, const struct tmr_list *l,
	     uint32_t base)
{
	int64_t best = INT64_MAX;
	uint32_t b = l->head, o = l->pos, idx;
	const struct kapa_timer_node *n;

	for (; b != KAPA_NIL; b = w->blk[b].next, o = 0) {
		for (; o < TMR_BLK_N; o++) {
			idx = w->blk[b].e[o];
			if (idx == KAPA_NIL)
				break;
			n = tmr_node(w, idx);
			if (n->loc != (b << TMR_LOC_SHIFT | o))
				continue;	/* stale */
			if ((int32_t)(n->deadline - base) < best)
				best = (int32_t)(n->deadline - base);
		}
	}
	return best;
}

int
kapa_timer_next(const struct kapa_timer_wheel *w, uint32_t limit_ms, uint32_t *at_ms)
{
	uint32_t t = w->next_t, k;
	int64_t d;

	if (w->armed == 0)
		return -ENOENT;
	/* Entries of processed ticks not yet handled (a max_fire cut): due
	 * as soon as now reaches their deadline. Parked ones among them are
	 * far off and re-filed by the advance that reaches them. */
	d = tmr_list_min(w, &w->lists[w->pending], t);
	if (d < 0) {
		*at_ms = t;
		return 0;
	}
	if (d < (int64_t)w->tick_ms) {
		*at_ms = t + (uint32_t)d;
		goto found;
	}
	/* Slot by slot, one rotation: tick t fires the entries whose deadline
	 * lies before its end (the already-due ones filed at the current
	 * tick too); entries parked in the last slot of the rotation are
	 * further off and are skipped. */
	for (k = 0; k < w->nslots; k++, t += w->tick_ms) {
		if ((int32_t)(t + w->tick_ms - limit_ms) > 0)
			return -ENOENT;
		d = tmr_list_min(w, &w->lists[(t >> w->shift) & w->mask], t);
		if (d < (int64_t)w->tick_ms) {
			*at_ms = t + w->tick_ms;
			goto found;
		}
	}
	*at_ms = t;	/* nothing within the horizon: advance there, ask again */
found:
	return (int32_t)(*at_ms - limit_ms) > 0 ? -ENOENT : 0;
}

void
kapa_timer_set_now(struct kapa_timer_wheel *w, uint32_t now_ms)
{
	if (w->armed == 0)
		w->next_t = now_ms & ~(w->tick_ms - 1);
}

uint32_t
kapa_timer_count(const struct kapa_timer_wheel *w)
{
	return w->armed;
}
