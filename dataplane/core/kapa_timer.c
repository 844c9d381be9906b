/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hashed timer wheel over intrusive nodes.
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
 * Processing a tick first moves its whole slot list onto a "pending" list
 * (one pointer swap) and then handles pending nodes one by one. That is how
 * the wheel stops after max_fire callbacks and picks up exactly there on the
 * next call, and why a callback may arm, cancel or re-arm any node
 * (including ones still pending): all lists are ordinary doubly-linked lists.
 *
 * Node links: next is a node index or KAPA_NIL. prev is a node index, or
 * TMR_HEAD | list number for the first node of a list (so unlinking needs no
 * search and no slot arithmetic), or TMR_OFF when the node is disarmed.
 * Node indices are therefore limited to values below TMR_HEAD.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "kapa_timer.h"

#define TMR_HEAD 0x80000000u	/* prev of a list's first node: | list number */
#define TMR_OFF  KAPA_NIL	/* prev of a disarmed node */

/* Keep every deadline comparison inside the signed 32-bit window. */
#define TMR_MAX_HORIZON_SHIFT 30

struct kapa_timer_wheel {
	uint8_t *base;		/* element 0 */
	uint32_t stride;	/* bytes between elements */
	uint32_t node_off;	/* node offset in an element */
	uint32_t count;		/* elements */
	uint32_t tick_ms;	/* power of two */
	uint32_t shift;		/* log2(tick_ms) */
	uint32_t nslots;	/* power of two */
	uint32_t mask;		/* nslots - 1 */
	uint32_t pending;	/* list number of the pending list (== nslots) */
	uint32_t next_t;	/* ms: start of the oldest unprocessed tick */
	uint32_t armed;		/* nodes armed (in a slot or pending) */
	uint32_t heads[];	/* [nslots] slot lists, then the pending list */
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

struct kapa_timer_wheel *
kapa_timer_create(void *base, uint32_t stride, uint32_t node_off,
		  uint32_t count, uint32_t tick_ms, uint32_t nslots,
		  uint32_t now_ms)
{
	struct kapa_timer_wheel *w;
	uint32_t shift, slot_shift, i;

	if (base == NULL || count == 0 || count >= TMR_HEAD ||
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
	w = malloc(sizeof(*w) + ((size_t)(1u << slot_shift) + 1) * sizeof(w->heads[0]));
	if (w == NULL) {
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
	for (i = 0; i <= w->nslots; i++)
		w->heads[i] = KAPA_NIL;
	return w;
}

void
kapa_timer_free(struct kapa_timer_wheel *w)
{
	free(w);
}

void
kapa_timer_init_node(struct kapa_timer_wheel *w, uint32_t idx)
{
	struct kapa_timer_node *n = tmr_node(w, idx);

	n->prev = TMR_OFF;
	n->next = KAPA_NIL;
	n->deadline = 0;
}

static inline void
tmr_push(struct kapa_timer_wheel *w, uint32_t list, uint32_t idx)
{
	struct kapa_timer_node *n = tmr_node(w, idx);
	uint32_t first = w->heads[list];

	n->next = first;
	n->prev = TMR_HEAD | list;
	if (first != KAPA_NIL)
		tmr_node(w, first)->prev = idx;
	w->heads[list] = idx;
}

static inline void
tmr_unlink(struct kapa_timer_wheel *w, struct kapa_timer_node *n)
{
	if (n->prev & TMR_HEAD)
		w->heads[n->prev & ~TMR_HEAD] = n->next;
	else
		tmr_node(w, n->prev)->next = n->next;
	if (n->next != KAPA_NIL)
		tmr_node(w, n->next)->prev = n->prev;
}

/* Put an unlinked node in the slot its deadline belongs to. */
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
	tmr_push(w, (at >> w->shift) & w->mask, idx);
}

void
kapa_timer_arm(struct kapa_timer_wheel *w, uint32_t idx, uint32_t deadline_ms)
{
	struct kapa_timer_node *n = tmr_node(w, idx);

	if (n->prev != TMR_OFF)
		tmr_unlink(w, n);
	else
		w->armed++;
	n->deadline = deadline_ms;
	tmr_slot(w, idx, deadline_ms);
}

void
kapa_timer_cancel(struct kapa_timer_wheel *w, uint32_t idx)
{
	struct kapa_timer_node *n = tmr_node(w, idx);

	if (n->prev == TMR_OFF)
		return;
	tmr_unlink(w, n);
	n->prev = TMR_OFF;
	n->next = KAPA_NIL;
	w->armed--;
}

int
kapa_timer_armed(const struct kapa_timer_wheel *w, uint32_t idx)
{
	return tmr_node(w, idx)->prev != TMR_OFF;
}

/*
 * Slot lists are linked through the elements, so node i+2's index is only
 * known once node i+1 has been read: a walk can run at most one element
 * ahead of itself. At step i node i+1 was prefetched one step earlier, so
 * reading its next pointer here is usually a hit, and node i+2 gets a whole
 * callback's time to arrive; the hook starts node i+1's own misses.
 */
static inline void
tmr_lookahead(struct kapa_timer_wheel *w, const struct kapa_timer_node *n,
	      uint32_t now_ms, kapa_timer_prefetch_fn pf, void *arg)
{
	uint32_t n1 = n->next, n2;

	if (n1 == KAPA_NIL)
		return;
	if (pf == NULL) {
		__builtin_prefetch(tmr_node(w, n1), 1);
		return;
	}
	n2 = tmr_node(w, n1)->next;
	if (n2 < w->count)
		__builtin_prefetch(tmr_node(w, n2), 1);
	pf(n1, now_ms, arg);
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
	uint32_t calls = 0, work = 0, ticks = 0;
	struct kapa_timer_node *n;
	uint32_t idx, first, list, next;

	for (;;) {
		while ((idx = w->heads[w->pending]) != KAPA_NIL) {
			/* Parked nodes moved back count as work too, so a call
			 * never does more than max_fire node visits. */
			if (work >= max_fire)
				return calls;
			work++;
			n = tmr_node(w, idx);
			/* The next pending nodes are cache misses in a big
			 * table: start them now, under this node's callback. */
			tmr_lookahead(w, n, now_ms, pf, arg);
			tmr_unlink(w, n);
			if ((int32_t)(n->deadline - now_ms) > 0) {
				/* Parked beyond the horizon: not due yet. */
				tmr_slot(w, idx, n->deadline);
				continue;
			}
			n->prev = TMR_OFF;
			n->next = KAPA_NIL;
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
			/* Nothing to fire: jump straight to the current tick. */
			w->next_t = now_ms & ~(w->tick_ms - 1);
			break;
		}
		list = (w->next_t >> w->shift) & w->mask;
		first = w->heads[list];
		w->heads[list] = KAPA_NIL;
		/* The next tick becomes current before any callback runs, so
		 * that a node re-armed in the past lands in a slot still ahead. */
		w->next_t += w->tick_ms;
		if (first != KAPA_NIL) {
			w->heads[w->pending] = first;
			tmr_node(w, first)->prev = TMR_HEAD | w->pending;
		}
	}
	return calls;
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
