/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the hashed timer wheel (kapa_timer.c): exactly-once firing
 * of 1M timers with cancels and re-arms, never early and at most one tick
 * late, horizon parking, max_fire continuation, callbacks that touch other
 * nodes, the 32-bit clock wrapping, lazy moves and the block pool's bound.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kapa_timer.h"
#include "unit.h"

/* An element as a user embeds the node: not at offset 0, odd stride. */
struct elem {
	uint32_t fires;		/* callbacks seen */
	uint32_t want;		/* deadline it must fire for; 0 = must not fire */
	struct kapa_timer_node node;
	uint32_t rearm;		/* ms to re-arm by from the callback, once */
	uint32_t cancel_other;	/* index + 1 of a node to cancel, 0 = none */
	uint32_t pf_seq;	/* the prefetch hook's call number for it */
	uint32_t fired_at;	/* now of its last firing */
};

struct run {
	struct elem *e;
	struct kapa_timer_wheel *w;
	uint32_t shift;
	uint32_t prev_now;	/* now of the previous advance call */
	uint64_t early, late, unwanted, calls;
	int use_pf;		/* advance through kapa_timer_advance_pf() */
	uint32_t storm;		/* each callback re-arms this many other nodes */
	uint32_t n;		/* nodes */
	uint32_t pf_calls, pf_hits, pf_bad;
};

static uint32_t
on_fire(uint32_t idx, uint32_t now, void *arg)
{
	struct run *r = arg;
	struct elem *e = &r->e[idx];
	uint32_t tick_end;

	r->calls++;
	e->fires++;
	e->fired_at = now;
	/* the hook named the node that fires now, one callback ahead: the
	 * node of the n-th callback was the (n-1)-th the hook was told */
	if (r->use_pf && e->pf_seq != 0 && e->pf_seq + 1 == r->calls)
		r->pf_hits++;
	if (e->want == 0) {
		r->unwanted++;
		return 0;
	}
	if ((int32_t)(now - e->want) < 0)
		r->early++;
	/* Due at the first call whose now has left the deadline's tick: the
	 * previous call must not have been past that tick already. */
	tick_end = ((e->want >> r->shift) + 1) << r->shift;
	if ((int32_t)(r->prev_now - tick_end) >= 0)
		r->late++;
	for (uint32_t k = 0; k < r->storm; k++) {
		/* Re-arm another node still waiting, well ahead, at the same
		 * deadline: only stale entries (and block allocations) result. */
		uint32_t j = (uint32_t)((idx * 2654435761ull + k * 40503u + now) % r->n);

		if (kapa_timer_armed(r->w, j) && r->e[j].want != 0 &&
		    (int32_t)(r->e[j].want - now) > (int32_t)(4u << r->shift))
			kapa_timer_arm(r->w, j, r->e[j].want);
	}
	if (e->cancel_other != 0) {
		kapa_timer_cancel(r->w, e->cancel_other - 1);
		r->e[e->cancel_other - 1].want = 0;
	}
	if (e->rearm != 0) {
		uint32_t d = now + e->rearm;

		e->rearm = 0;
		e->want = d;
		e->fires--;	/* the re-armed firing is the one counted */
		return d;
	}
	e->want = 0;	/* a second firing would be unwanted */
	return 0;
}

static struct run *
run_new(uint32_t n, uint32_t tick, uint32_t slots, uint32_t now)
{
	struct run *r = calloc(1, sizeof(*r));

	CU_ASSERT_FATAL(r != NULL);
	r->e = calloc(n, sizeof(struct elem));
	CU_ASSERT_FATAL(r->e != NULL);
	r->w = kapa_timer_create(r->e, sizeof(struct elem),
				 offsetof(struct elem, node), n, tick, slots, now);
	CU_ASSERT_FATAL(r->w != NULL);
	for (uint32_t i = 0; i < n; i++)
		kapa_timer_init_node(r->w, i);
	r->shift = 0;
	while ((1u << r->shift) < tick)
		r->shift++;
	r->prev_now = now;
	r->n = n;
	return r;
}

static void
run_free(struct run *r)
{
	kapa_timer_free(r->w);
	free(r->e);
	free(r);
}

static void
on_prefetch(uint32_t idx, uint32_t now, void *arg)
{
	struct run *r = arg;

	(void)now;
	r->e[idx].pf_seq = ++r->pf_calls;
	if (!kapa_timer_armed(r->w, idx))
		r->pf_bad++;	/* a pending node is armed */
}

static uint32_t
run_advance(struct run *r, uint32_t now, uint32_t max)
{
	uint32_t n = r->use_pf ?
		     kapa_timer_advance_pf(r->w, now, max, on_fire, on_prefetch, r) :
		     kapa_timer_advance(r->w, now, max, on_fire, r);

	r->prev_now = now;
	return n;
}

static void
arm(struct run *r, uint32_t idx, uint32_t deadline)
{
	r->e[idx].want = deadline;
	kapa_timer_arm(r->w, idx, deadline);
}

static void
test_create_invalid(void)
{
	struct elem e[4];

	CU_ASSERT(kapa_timer_create(NULL, sizeof(e[0]), 0, 4, 128, 64, 0) == NULL);
	CU_ASSERT(kapa_timer_create(e, sizeof(e[0]), 0, 0, 128, 64, 0) == NULL);
	/* node past the element */
	CU_ASSERT(kapa_timer_create(e, sizeof(e[0]), sizeof(e[0]) - 4, 4, 128, 64, 0) == NULL);
	/* horizon beyond the signed window */
	CU_ASSERT(kapa_timer_create(e, sizeof(e[0]), 0, 4, 1u << 20, 1u << 20, 0) == NULL);
	kapa_timer_free(NULL);
}

/*
 * kapa_timer_next(): a caller that advances exactly to the times it returns
 * fires every node by the end of its deadline's tick and never before the
 * deadline, with moves, cancels and deadlines past the horizon mixed in;
 * a limit before the next firing gives -ENOENT.
 */
static void
test_next(void)
{
	const uint32_t n = 3000, tick = 8;
	struct run *r = run_new(n, tick, 64, 100);	/* horizon 512 ms */
	uint32_t i, now = 100, at, steps = 0, mismatch = 0, want_fires = 0;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint32_t want_at[3000], want_d[3000];

	CU_ASSERT(kapa_timer_next(r->w, UINT32_MAX / 2, &at) == -ENOENT);
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		arm(r, i, now + 1 + (uint32_t)(x % 3000));
		if (x % 5 == 0)	/* moved: the first entry goes stale */
			arm(r, i, now + 1 + (uint32_t)((x >> 8) % 3000));
		if (x % 7 == 0) {
			kapa_timer_cancel(r->w, i);
			r->e[i].want = 0;
		}
		want_d[i] = r->e[i].want;
		want_at[i] = r->e[i].want == 0 ? 0 :
			     ((r->e[i].want / tick) + 1) * tick;
		want_fires += r->e[i].want != 0;
	}
	/* Nothing before the first deadline's tick has passed. */
	CU_ASSERT(kapa_timer_next(r->w, now + 1, &at) == -ENOENT);
	while (kapa_timer_next(r->w, now + 10000, &at) == 0 && steps < 100000) {
		CU_ASSERT_FATAL((int32_t)(at - now) >= 0);
		now = at;
		run_advance(r, now, UINT32_MAX);
		steps++;
	}
	/* Never before the deadline, never after its tick's end (a node
	 * parked past the horizon may fire at the parking tick's end when
	 * that is its deadline). */
	for (i = 0; i < n; i++)
		if (want_at[i] != 0 &&
		    (r->e[i].fires != 1 || (int32_t)(r->e[i].fired_at - want_d[i]) < 0 ||
		     (int32_t)(r->e[i].fired_at - want_at[i]) > 0))
			mismatch++;
	CU_ASSERT_EQUAL(mismatch, 0);
	CU_ASSERT_EQUAL(r->calls, want_fires);
	CU_ASSERT(r->unwanted == 0 && r->early == 0);
	CU_ASSERT(kapa_timer_count(r->w) == 0);
	run_free(r);
}

static void
test_basic(void)
{
	struct run *r = run_new(8, 100 /* -> 128 */, 16, 1000);

	arm(r, 0, 1300);
	arm(r, 1, 1500);
	CU_ASSERT(kapa_timer_count(r->w) == 2);
	CU_ASSERT(kapa_timer_armed(r->w, 0));
	CU_ASSERT(!kapa_timer_armed(r->w, 2));
	/* 1300 lies in the tick [1280, 1408): nothing before 1408. */
	CU_ASSERT(run_advance(r, 1300, UINT32_MAX) == 0);
	CU_ASSERT(run_advance(r, 1407, UINT32_MAX) == 0);
	CU_ASSERT(run_advance(r, 1408, UINT32_MAX) == 1);
	CU_ASSERT(r->e[0].fires == 1 && r->e[1].fires == 0);
	CU_ASSERT(!kapa_timer_armed(r->w, 0));
	/* move 1 earlier, then cancel it: it never fires */
	kapa_timer_arm(r->w, 1, 1450);
	CU_ASSERT(kapa_timer_count(r->w) == 1);
	kapa_timer_cancel(r->w, 1);
	r->e[1].want = 0;
	kapa_timer_cancel(r->w, 1);	/* cancelling twice is harmless */
	CU_ASSERT(kapa_timer_count(r->w) == 0);
	CU_ASSERT(run_advance(r, 5000, UINT32_MAX) == 0);
	/* a deadline already past fires at the next tick boundary */
	arm(r, 3, 10);
	CU_ASSERT(run_advance(r, 5000, UINT32_MAX) == 0);
	CU_ASSERT(run_advance(r, 5120, UINT32_MAX) == 1);
	CU_ASSERT(r->early == 0 && r->unwanted == 0);
	run_free(r);
}

static void
test_parking(void)
{
	/* horizon = 16 slots x 128 ms = 2048 ms; deadline 10 horizons away */
	struct run *r = run_new(4, 128, 16, 0);
	uint32_t now, fired_at = 0;

	arm(r, 0, 20000);
	arm(r, 1, 2047 + 128);	/* just past the horizon */
	for (now = 0; now <= 21000; now += 64) {
		if (run_advance(r, now, UINT32_MAX) != 0 && r->e[0].fires == 1 && fired_at == 0)
			fired_at = now;
	}
	CU_ASSERT(r->e[0].fires == 1);
	CU_ASSERT(r->e[1].fires == 1);
	CU_ASSERT(fired_at >= 20000 && fired_at <= 20000 + 128 + 64);
	CU_ASSERT(r->early == 0 && r->late == 0 && r->unwanted == 0);
	run_free(r);
}

static void
test_max_fire(void)
{
	struct run *r = run_new(1000, 128, 64, 0);
	uint32_t i, n, total = 0, rounds = 0;

	for (i = 0; i < 1000; i++)
		arm(r, i, 500 + (i % 3));
	/* one call past the tick: 100 at a time, and the rest on later calls
	 * even though time does not move */
	while ((n = run_advance(r, 700, 100)) != 0) {
		CU_ASSERT(n <= 100);
		total += n;
		rounds++;
	}
	CU_ASSERT(total == 1000);
	CU_ASSERT(rounds == 10);
	for (i = 0; i < 1000; i++)
		CU_ASSERT_EQUAL_FATAL(r->e[i].fires, 1);
	CU_ASSERT(kapa_timer_count(r->w) == 0);
	CU_ASSERT(run_advance(r, 0, 0) == 0);
	run_free(r);
}

static void
test_callback_edits(void)
{
	struct run *r = run_new(4, 128, 64, 0);

	/* 0 re-arms itself once; 1 and 2 are pending in the same tick and
	 * each cancels the other: whichever fires first must stop the other */
	arm(r, 0, 100);
	r->e[0].rearm = 1000;
	arm(r, 1, 100);
	arm(r, 2, 100);
	r->e[1].cancel_other = 3;
	r->e[2].cancel_other = 2;
	run_advance(r, 128, UINT32_MAX);
	/* exactly one of 1 and 2 fired; the other was cancelled by it */
	CU_ASSERT(r->e[1].fires + r->e[2].fires == 1);
	CU_ASSERT(kapa_timer_armed(r->w, 0));
	CU_ASSERT(r->e[0].fires == 0);
	run_advance(r, 1300, UINT32_MAX);
	CU_ASSERT(r->e[0].fires == 1);
	CU_ASSERT(r->early == 0 && r->late == 0 && r->unwanted == 0);
	CU_ASSERT(kapa_timer_count(r->w) == 0);
	run_free(r);
}

/* The prefetch hook names the next node to fire, one callback ahead, and
 * changes nothing: same firings as without it, with callbacks that edit the
 * pending list. */
static void
test_prefetch_hook(void)
{
	struct run *r = run_new(1000, 128, 64, 0);
	uint32_t i, fired;

	r->use_pf = 1;
	for (i = 0; i < 1000; i++)
		arm(r, i, 10 + i % 100);
	fired = run_advance(r, 128, UINT32_MAX);
	CU_ASSERT_EQUAL(fired, 1000);
	CU_ASSERT_EQUAL(r->pf_calls, 999);	/* every node but the last */
	CU_ASSERT_EQUAL(r->pf_hits, 999);
	CU_ASSERT_EQUAL(r->pf_bad, 0);
	CU_ASSERT(r->early == 0 && r->late == 0 && r->unwanted == 0);
	for (i = 0; i < 1000; i++)
		CU_ASSERT_EQUAL(r->e[i].fires, 1);
	/* max_fire stops mid-list; the next call picks up where it stopped */
	for (i = 0; i < 1000; i++)
		arm(r, i, 200 + i % 50);
	fired = run_advance(r, 256, 300);
	fired += run_advance(r, 256, UINT32_MAX);
	CU_ASSERT_EQUAL(fired, 1000);
	run_free(r);

	/* pending nodes cancelled by a callback: still exactly right */
	r = run_new(4, 128, 64, 0);
	r->use_pf = 1;
	arm(r, 0, 100);
	r->e[0].rearm = 1000;
	arm(r, 1, 100);
	arm(r, 2, 100);
	r->e[1].cancel_other = 3;
	r->e[2].cancel_other = 2;
	run_advance(r, 128, UINT32_MAX);
	CU_ASSERT(r->e[1].fires + r->e[2].fires == 1);
	run_advance(r, 1300, UINT32_MAX);
	CU_ASSERT(r->e[0].fires == 1);
	CU_ASSERT(r->early == 0 && r->late == 0 && r->unwanted == 0);
	CU_ASSERT(kapa_timer_count(r->w) == 0);
	run_free(r);
}

static void
test_wrap(void)
{
	uint32_t start = UINT32_MAX - 5000, now;
	struct run *r = run_new(64, 128, 64, start);
	uint32_t i;

	for (i = 0; i < 64; i++)
		arm(r, i, start + 100 + i * 200);	/* crosses 2^32 */
	for (now = start; now != start + 20000; now += 50)
		run_advance(r, now, UINT32_MAX);
	for (i = 0; i < 64; i++)
		CU_ASSERT_EQUAL(r->e[i].fires, 1);
	CU_ASSERT(r->early == 0 && r->late == 0 && r->unwanted == 0);
	run_free(r);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* 1M timers; 1/8 cancelled, 1/8 moved, 1/16 re-armed by their callback;
 * deadlines up to 3 horizons ahead, advanced in uneven steps. */
static void
test_million(void)
{
	const uint32_t n = 1000000, tick = 16, slots = 1024;	/* horizon 16.4 s */
	uint32_t start = 123456789, now = start, i, limit = start + 3 * tick * slots;
	struct run *r = run_new(n, tick, slots, start);
	uint64_t want_fires = 0, fires = 0;

	for (i = 0; i < n; i++) {
		arm(r, i, start + 1 + rnd() % (3 * tick * slots));
		if (i % 16 == 5)
			r->e[i].rearm = 1 + rnd() % 5000;
	}
	CU_ASSERT(kapa_timer_count(r->w) == n);
	for (i = 0; i < n; i += 8) {
		kapa_timer_cancel(r->w, i);
		r->e[i].want = 0;
	}
	for (i = 3; i < n; i += 8)
		arm(r, i, start + 1 + rnd() % (3 * tick * slots));
	while ((int32_t)(now - limit) < 6000) {
		now += 1 + rnd() % 40;
		run_advance(r, now, UINT32_MAX);
	}
	for (i = 0; i < n; i++) {
		want_fires += (i % 8) != 0;
		fires += r->e[i].fires;
		if ((i % 8) != 0 && r->e[i].fires != 1)
			break;
	}
	CU_ASSERT_EQUAL(i, n);
	CU_ASSERT_EQUAL(fires, want_fires);
	CU_ASSERT_EQUAL(r->early, 0);
	CU_ASSERT_EQUAL(r->late, 0);
	CU_ASSERT_EQUAL(r->unwanted, 0);
	CU_ASSERT_EQUAL(kapa_timer_count(r->w), 0);
	run_free(r);
}

/* Lazy moves are exact: a node moved away and back to the same slot, or
 * cancelled and re-armed there, has two entries in that slot and still
 * fires once. */
static void
test_move_back(void)
{
	struct run *r = run_new(8, 128, 16, 0);

	arm(r, 0, 300);
	arm(r, 0, 1000);
	arm(r, 0, 310);		/* back to the tick of 300 */
	arm(r, 1, 300);
	kapa_timer_cancel(r->w, 1);
	arm(r, 1, 300);
	arm(r, 2, 300);
	kapa_timer_cancel(r->w, 2);
	r->e[2].want = 0;
	arm(r, 3, 100 + 16 * 128);	/* a rotation later: same slot as 100 */
	arm(r, 3, 100);
	arm(r, 3, 100 + 16 * 128);
	CU_ASSERT_EQUAL(kapa_timer_count(r->w), 3);
	for (uint32_t now = 0; now < 6000; now += 32)
		run_advance(r, now, UINT32_MAX);
	CU_ASSERT(r->e[0].fires == 1 && r->e[1].fires == 1);
	CU_ASSERT(r->e[2].fires == 0 && r->e[3].fires == 1);
	CU_ASSERT(r->early == 0 && r->late == 0 && r->unwanted == 0);
	CU_ASSERT_EQUAL(kapa_timer_count(r->w), 0);
	run_free(r);
}

/* The block pool's bound: every node re-armed 40 times within one horizon
 * (40x more entries than the pool holds without compaction), then callbacks
 * that re-arm other waiting nodes, so that the pool also runs dry in the
 * middle of a slot's walk. Every node still fires exactly once, on time. */
static void
test_pool_bound(void)
{
	const uint32_t n = 20000, tick = 16, slots = 256;	/* horizon 4 s */
	uint32_t start = 5000, now = start, i, k;
	struct run *r = run_new(n, tick, slots, start);
	uint64_t before, bytes;

	for (k = 0; k < 40; k++)
		for (i = 0; i < n; i++)
			arm(r, i, start + 1 + rnd() % (tick * slots - 2 * tick));
	CU_ASSERT_EQUAL(kapa_timer_count(r->w), n);
	before = kapa_timer_compactions(r->w);
	CU_ASSERT(before >= 20);
	/* fixed memory: the pool is about n / 10 cache lines */
	bytes = kapa_timer_bytes(n, slots);
	CU_ASSERT(bytes < (uint64_t)n * 8 + 64 * (slots + 8) + 1024);
	r->storm = 8;
	r->use_pf = 1;
	while ((int32_t)(now - start) < (int32_t)(2 * tick * slots)) {
		now += 1 + rnd() % 24;
		run_advance(r, now, 1000);
	}
	while (run_advance(r, now, UINT32_MAX) != 0)
		;
	CU_ASSERT(kapa_timer_compactions(r->w) > before);
	for (i = 0; i < n; i++)
		if (r->e[i].fires != 1)
			break;
	CU_ASSERT_EQUAL(i, n);
	CU_ASSERT_EQUAL(r->early, 0);
	CU_ASSERT_EQUAL(r->late, 0);
	CU_ASSERT_EQUAL(r->unwanted, 0);
	CU_ASSERT_EQUAL(r->pf_bad, 0);
	CU_ASSERT_EQUAL(kapa_timer_count(r->w), 0);
	run_free(r);
}

int
kapa_unit_register(void)
{
	CU_pSuite s = CU_add_suite("timer", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "create rejects bad parameters", test_create_invalid) == NULL ||
	    CU_add_test(s, "arm, fire at tick end, move, cancel", test_basic) == NULL ||
	    CU_add_test(s, "next firing time for a caller's own clock", test_next) == NULL ||
	    CU_add_test(s, "deadlines past the horizon are parked", test_parking) == NULL ||
	    CU_add_test(s, "max_fire stops and continues", test_max_fire) == NULL ||
	    CU_add_test(s, "callbacks re-arm and cancel pending nodes", test_callback_edits) == NULL ||
	    CU_add_test(s, "prefetch hook: one ahead, changes nothing", test_prefetch_hook) == NULL ||
	    CU_add_test(s, "clock wraps at 2^32 ms", test_wrap) == NULL ||
	    CU_add_test(s, "1M timers fire exactly once, on time", test_million) == NULL ||
	    CU_add_test(s, "lazy moves back to the same slot fire once", test_move_back) == NULL ||
	    CU_add_test(s, "block pool bound: re-arms within a horizon", test_pool_bound) == NULL)
		return 1;
	return 0;
}
