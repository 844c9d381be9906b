/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the connection table (kapa_flow.c): canonical keys, fill to
 * capacity, eviction order and LRU granularity, SYN-flood admission,
 * counters per reason, generations, bulk lookup, lazy idle expiry, and a
 * reader thread that must never see a torn record while the owner writes.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "kapa_eal.h"
#include "kapa_flow.h"
#include "unit.h"

/* What the callbacks saw. */
struct seen {
	uint32_t order[64];	/* released indices, in order */
	uint32_t why[64];
	uint32_t n;
	uint32_t expire_calls;
	uint32_t expire_answer;	/* what on_expire returns */
};

static struct seen seen;

static void
on_release(uint32_t idx, enum kapa_flow_release why, void *arg)
{
	struct seen *s = arg;

	if (s->n < 64) {
		s->order[s->n] = idx;
		s->why[s->n] = why;
	}
	s->n++;
}

static uint32_t
on_expire(uint32_t idx, uint32_t now_ms, void *arg)
{
	struct seen *s = arg;

	(void)idx;
	(void)now_ms;
	s->expire_calls++;
	return s->expire_answer;
}

static int table_no;

static struct kapa_flow_table *
table(uint32_t capacity, uint32_t embryonic_max, uint32_t min_idle)
{
	struct kapa_flow_conf conf = {0};
	char name[16];
	struct kapa_flow_table *t;

	snprintf(name, sizeof(name), "tflow%d", table_no++);
	memset(&seen, 0, sizeof(seen));
	conf.name = name;
	conf.capacity = capacity;
	conf.embryonic_max = embryonic_max;
	conf.app_size = 40;
	conf.socket_id = SOCKET_ID_ANY;
	conf.on_release = on_release;
	conf.on_expire = on_expire;
	conf.cb_arg = &seen;
	conf.evict_min_idle_ms = min_idle;
	t = kapa_flow_create(&conf);
	CU_ASSERT_FATAL(t != NULL);
	return t;
}

/* Key of connection i: 198.18.x.y:port > 198.18.0.1:80, or IPv6. */
static void
key_of(struct kapa_flow_key *k, uint32_t i, int v6)
{
	uint8_t a[16] = {0}, b[16] = {0};

	if (v6) {
		a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8;
		memcpy(b, a, 4);
		a[12] = (uint8_t)(i >> 24);
		a[13] = (uint8_t)(i >> 16);
		a[14] = (uint8_t)(i >> 8);
		a[15] = (uint8_t)i;
		b[15] = 1;
	} else {
		a[0] = 198; a[1] = 18; a[2] = (uint8_t)(i >> 8); a[3] = (uint8_t)i;
		b[0] = 198; b[1] = 18; b[2] = 0; b[3] = 1;
	}
	kapa_flow_key_make(k, v6 ? 6 : 4, a, (uint16_t)(10000 + (i >> 16)), b, 80);
}

static int
insert(struct kapa_flow_table *t, uint32_t i, uint32_t now, int emb)
{
	struct kapa_flow_key k;

	key_of(&k, i, 0);
	return kapa_flow_insert(t, &k, now, emb);
}

static int
present(struct kapa_flow_table *t, uint32_t i)
{
	struct kapa_flow_key k;

	key_of(&k, i, 0);
	return kapa_flow_lookup(t, &k) >= 0;
}

static void
test_key_make(void)
{
	uint8_t a4[16] = {10, 0, 0, 2}, b4[16] = {10, 0, 0, 1};
	uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8}, b6[16] = {0x20, 0x01, 0x0d, 0xb8};
	struct kapa_flow_key k1, k2, k3;
	int s1, s2;

	s1 = kapa_flow_key_make(&k1, 4, a4, 40000, b4, 80);
	s2 = kapa_flow_key_make(&k2, 4, b4, 80, a4, 40000);
	CU_ASSERT(memcmp(&k1, &k2, sizeof(k1)) == 0);
	CU_ASSERT(s1 == 1 && s2 == 0);	/* 10.0.0.1 sorts first */
	CU_ASSERT(k1.port[0] == 80 && k1.port[1] == 40000 && k1.family == 4);
	CU_ASSERT(k1.addr[0][3] == 1 && k1.addr[0][4] == 0 && k1.addr[1][15] == 0);
	/* same address both ways: the port decides */
	s1 = kapa_flow_key_make(&k1, 4, b4, 5000, b4, 4000);
	s2 = kapa_flow_key_make(&k2, 4, b4, 4000, b4, 5000);
	CU_ASSERT(memcmp(&k1, &k2, sizeof(k1)) == 0 && s1 == 1 && s2 == 0);
	/* IPv6, and an IPv4 key never equals an IPv6 one with the same bytes */
	a6[15] = 2;
	b6[15] = 1;
	s1 = kapa_flow_key_make(&k1, 6, a6, 40000, b6, 443);
	s2 = kapa_flow_key_make(&k2, 6, b6, 443, a6, 40000);
	CU_ASSERT(memcmp(&k1, &k2, sizeof(k1)) == 0 && s1 == 1 && s2 == 0);
	kapa_flow_key_make(&k3, 4, a6, 40000, b6, 443);
	CU_ASSERT(memcmp(&k1, &k3, sizeof(k1)) != 0);
}

/* The sender's side is the byte order of the addresses (memcmp()'s), at
 * whichever byte they first differ, whichever way that byte differs. */
static void
test_key_make_order(void)
{
	static const uint8_t family[2] = {4, 6};
	uint8_t a[16], b[16];
	struct kapa_flow_key k;
	unsigned int f, at, ok = 0, n = 0;
	int lo, hi, side;

	for (f = 0; f < 2; f++) {
		for (at = 0; at < (family[f] == 4 ? 4u : 16u); at++) {
			for (lo = 0; lo < 256; lo += 51) {
				for (hi = lo + 1; hi < 256; hi += 37) {
					memset(a, 0x80, sizeof(a));
					memset(b, 0x80, sizeof(b));
					a[at] = (uint8_t)hi;	/* a sorts after b */
					b[at] = (uint8_t)lo;
					/* later bytes say the opposite */
					if (at + 1 < sizeof(a))
						b[at + 1] = 0xff;
					side = kapa_flow_key_make(&k, family[f], a, 80, b, 80);
					ok += side == 1 && k.addr[1][at] == hi;
					side = kapa_flow_key_make(&k, family[f], b, 80, a, 80);
					ok += side == 0 && k.addr[1][at] == hi;
					n += 2;
				}
			}
		}
	}
	CU_ASSERT_EQUAL(ok, n);
}

static void
test_fill_capacity(void)
{
	struct kapa_flow_table *t = table(1024, 0, 0);
	const struct kapa_flow_stats *st = kapa_flow_stats(t);
	uint32_t i, ok = 0;
	int idx;

	for (i = 0; i < 1024; i++)
		ok += insert(t, i, 1000 + i * 2, 0) >= 0;
	CU_ASSERT_EQUAL(ok, 1024);
	CU_ASSERT_EQUAL(kapa_flow_count(t), 1024);
	CU_ASSERT_EQUAL(kapa_flow_capacity(t), 1024);
	for (i = 0, ok = 0; i < 1024; i++)
		ok += present(t, i);
	CU_ASSERT_EQUAL(ok, 1024);
	/* every index lies in [0, capacity) */
	CU_ASSERT(insert(t, 5, 5000, 0) == -EEXIST);
	/* capacity + 1: the longest idle (entry 0) goes */
	idx = insert(t, 2000, 5000, 0);
	CU_ASSERT(idx >= 0 && idx < 1024);
	CU_ASSERT(!present(t, 0) && present(t, 2000) && present(t, 1));
	CU_ASSERT_EQUAL(st->released[KAPA_REL_EVICT_LRU], 1);
	CU_ASSERT_EQUAL(seen.n, 1);
	CU_ASSERT_EQUAL(seen.why[0], KAPA_REL_EVICT_LRU);
	CU_ASSERT_EQUAL(kapa_flow_count(t), 1024);
	CU_ASSERT_EQUAL(st->refused, 0);
	/* record 128 + slot 48 + hash ~77 + LRU wheel heads (128 KiB per
	 * table: 128 B per entry at 1024 entries) + the idle wheel's heads
	 * and block pool (per table too: about 134 B per entry here) */
	CU_ASSERT(kapa_flow_bytes_per_entry(t) > 128 + 48 + 48 + 128 +
		  kapa_timer_bytes(1024, 4096) / 1024);
	CU_ASSERT(kapa_flow_bytes_per_entry(t) < 300 + 128 +
		  kapa_timer_bytes(1024, 4096) / 1024 + 1);
	kapa_flow_destroy(t);
	CU_ASSERT_EQUAL(seen.n, 1 + 1024);	/* destroy releases the rest */
	CU_ASSERT_EQUAL(seen.why[1], KAPA_REL_EXPLICIT);
}

static void
test_full_not_evictable(void)
{
	/* nothing idle for 10 s: a full table refuses rather than evicts */
	struct kapa_flow_table *t = table(64, 0, 10000);
	const struct kapa_flow_stats *st = kapa_flow_stats(t);
	uint32_t i;

	for (i = 0; i < 64; i++)
		CU_ASSERT_FATAL(insert(t, i, 100000 + i, 0) >= 0);
	CU_ASSERT(insert(t, 500, 105000, 0) == -ENOSPC);
	CU_ASSERT(insert(t, 501, 105000, 1) == -ENOSPC);
	CU_ASSERT_EQUAL(st->refused, 2);
	CU_ASSERT_EQUAL(st->released[KAPA_REL_EVICT_LRU], 0);
	CU_ASSERT_EQUAL(kapa_flow_count(t), 64);
	for (i = 0; i < 64; i++)
		CU_ASSERT(present(t, i));
	/* once entry 0 has been idle long enough it is given up */
	CU_ASSERT(insert(t, 502, 110000, 0) >= 0);
	CU_ASSERT(!present(t, 0) && present(t, 502));
	CU_ASSERT_EQUAL(st->released[KAPA_REL_EVICT_LRU], 1);
	kapa_flow_destroy(t);
}

static void
test_eviction_order(void)
{
	struct kapa_flow_table *t = table(16, 0, 0);
	uint32_t i, now = 0;
	int idx3 = -1, idx0 = -1;

	/* entries 0..15 inserted 2 s apart */
	for (i = 0; i < 16; i++) {
		int idx = insert(t, i, now, 0);

		CU_ASSERT_FATAL(idx >= 0);
		if (i == 0)
			idx0 = idx;
		if (i == 3)
			idx3 = idx;
		now += 2000;
	}
	/* 0 and 3 are active again: they move behind everyone else */
	kapa_flow_touch(t, (uint32_t)idx0, now);
	kapa_flow_touch(t, (uint32_t)idx3, now + 10);
	now += 2000;
	for (i = 100; i < 114; i++)
		CU_ASSERT(insert(t, i, now, 0) >= 0);
	/* evicted: 1, 2, 4, 5, ..., 15 in that order, then 0 and 3 survive */
	CU_ASSERT_EQUAL_FATAL(seen.n, 14);
	CU_ASSERT(present(t, 0) && present(t, 3));
	{
		uint32_t expect = 1, k;

		for (k = 0; k < 14; k++, expect++) {
			if (expect == 3)
				expect++;
			CU_ASSERT(!present(t, expect));
			CU_ASSERT_EQUAL(seen.why[k], KAPA_REL_EVICT_LRU);
		}
	}
	/* the next two go in idle order: 0 (touched first), then 3 */
	CU_ASSERT(insert(t, 200, now, 0) >= 0);
	CU_ASSERT_EQUAL(seen.order[14], (uint32_t)idx0);
	CU_ASSERT(insert(t, 201, now, 0) >= 0);
	CU_ASSERT_EQUAL(seen.order[15], (uint32_t)idx3);
	kapa_flow_destroy(t);
}

static void
test_lru_granularity(void)
{
	struct kapa_flow_table *t = table(8, 0, 0);
	int a, b;
	uint32_t i;

	/* A at 0 ms, B at 100 ms: both in LRU second 0 */
	a = insert(t, 1, 0, 0);
	b = insert(t, 2, 100, 0);
	CU_ASSERT_FATAL(a >= 0 && b >= 0);
	for (i = 3; i < 9; i++)
		CU_ASSERT(insert(t, i, 3000, 0) >= 0);
	/* A touched at 500 ms: same LRU second, so it keeps its place and is
	 * evicted first although B is idle longer (error < 1024 ms) */
	kapa_flow_touch(t, (uint32_t)a, 500);
	CU_ASSERT(kapa_flow_conn(t, (uint32_t)a)->last_seen == 500);
	CU_ASSERT(insert(t, 20, 4000, 0) >= 0);
	CU_ASSERT_EQUAL(seen.order[0], (uint32_t)a);
	kapa_flow_destroy(t);

	t = table(8, 0, 0);
	a = insert(t, 1, 0, 0);
	b = insert(t, 2, 100, 0);
	for (i = 3; i < 9; i++)
		CU_ASSERT(insert(t, i, 3000, 0) >= 0);
	/* touched at 1500 ms: a new LRU second, so A moves and B goes first */
	CU_ASSERT(kapa_flow_conn(t, (uint32_t)a)->last_seen == 0);
	kapa_flow_touch(t, (uint32_t)a, 1500);
	CU_ASSERT(insert(t, 20, 4000, 0) >= 0);
	CU_ASSERT_EQUAL(seen.order[0], (uint32_t)b);
	kapa_flow_destroy(t);
}

/* ---- the LRU wheel: lazy re-filing ---------------------------------------- */

/* The table whose releases record_victim() records (set after creation). */
static struct kapa_flow_table *victim_table;
static uint32_t victim_idx[4096];
static uint32_t victim_last_seen[4096];

static void
record_victim(uint32_t idx, enum kapa_flow_release why, void *arg)
{
	(void)why;
	(void)arg;
	if (seen.n < RTE_DIM(victim_idx)) {
		victim_idx[seen.n] = idx;
		victim_last_seen[seen.n] = kapa_flow_conn(victim_table, idx)->last_seen;
	}
	seen.n++;
}

static struct kapa_flow_table *
table_victims(uint32_t capacity)
{
	struct kapa_flow_conf conf = {0};
	char name[16];

	snprintf(name, sizeof(name), "tflow%d", table_no++);
	memset(&seen, 0, sizeof(seen));
	conf.name = name;
	conf.capacity = capacity;
	conf.socket_id = SOCKET_ID_ANY;
	conf.on_release = record_victim;
	victim_table = kapa_flow_create(&conf);
	CU_ASSERT_FATAL(victim_table != NULL);
	return victim_table;
}

/* last-seen second of a time, as the table counts seconds */
static inline uint32_t
sec_of(uint32_t ms)
{
	return ms >> 10;
}

/*
 * Model check: random activity (a clock that moves forward by random steps,
 * mostly within seconds, sometimes by minutes or past the ring's 4096 s
 * horizon), then new connections push entries out one by one. Every evicted
 * entry must have the oldest last-seen second of all entries still in the
 * table: a touched entry is never evicted before a less recently active one.
 */
static void
test_lru_refile_exact(void)
{
	const uint32_t cap = 256;
	struct kapa_flow_table *t;
	uint32_t live[256], last[256];	/* by slot of the model */
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint32_t i, k, round, now, base, bad = 0, evictions = 0, next_key = 0;
	uint64_t refiled = 0, capped = 0;

	for (round = 0; round < 8; round++) {
		t = table_victims(cap);
		/* the last round crosses the 2^32 ms wrap of the clock */
		base = round < 7 ? round * 0x1f000000u : 0xffc00000u;
		now = base;
		for (i = 0; i < cap; i++) {
			int idx = insert(t, next_key++, now, 0);

			CU_ASSERT_FATAL(idx >= 0);
			live[i] = (uint32_t)idx;
			last[i] = now;
			now += (uint32_t)(x % 300);
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		for (k = 0; k < 20000; k++) {
			uint32_t step;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			step = (x >> 32) % 1000;
			if (step == 0)
				step = 4200u * 1024;	/* past the horizon */
			else if (step < 5)
				step = (uint32_t)((x >> 8) % 600000);	/* minutes */
			else
				step = (uint32_t)((x >> 8) % 300);
			now += step;
			i = (uint32_t)(x % cap);
			/* a skewed choice: some entries stay idle for long */
			if ((x >> 40) % 4 == 0)
				i %= 16;
			kapa_flow_touch(t, live[i], now);
			last[i] = now;
			if ((k % 1000) == 999) {
				/* an eviction in the middle of the traffic */
				uint32_t n0 = seen.n, vs, j, oldest = UINT32_MAX;
				int idx;

				for (j = 0; j < cap; j++)
					oldest = RTE_MIN(oldest, sec_of(last[j] - base));
				idx = insert(t, next_key++, now, 0);
				CU_ASSERT_FATAL(idx >= 0 && seen.n == n0 + 1);
				vs = sec_of(victim_last_seen[n0] - base);
				evictions++;
				bad += vs != oldest;
				/* the model: the victim's slot now holds the newcomer */
				for (j = 0; j < cap; j++)
					if (live[j] == victim_idx[n0])
						break;
				CU_ASSERT_FATAL(j < cap);
				live[j] = (uint32_t)idx;
				last[j] = now;
			}
		}
		refiled += kapa_flow_stats(t)->lru_refiled;
		capped += kapa_flow_stats(t)->lru_walk_capped;
		kapa_flow_destroy(t);
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(evictions, 8 * 20);
	CU_ASSERT(refiled > 0);		/* the lazy path did run */
	CU_ASSERT_EQUAL(capped, 0);
}

/* Drain a full table by inserting new keys at @p now: return victims' keys. */
static void
evict_n(struct kapa_flow_table *t, uint32_t n, uint32_t first_key, uint32_t now)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		CU_ASSERT_FATAL(insert(t, first_key + i, now, 0) >= 0);
}

static void
test_lru_horizon(void)
{
	struct kapa_flow_table *t = table_victims(8);
	int a, b, c, d, e;
	uint32_t s = 1024;	/* one LRU second */
	uint32_t i;

	/* A at second 0 holds the cursor there. C and D arrive past the ring's
	 * 4096 s horizon, C (second 5000) before D (second 4500): both are
	 * parked in the newest bucket, C first, but D is the older one. */
	a = insert(t, 1, 0, 0);
	c = insert(t, 3, 5000 * s, 0);
	d = insert(t, 4, 5000 * s + 10, 0);
	kapa_flow_touch(t, (uint32_t)d, 4500 * s);	/* the clock went back for D */
	/* B is in the ring at second 100 but active at second 9000 */
	b = insert(t, 2, 100 * s, 0);
	kapa_flow_touch(t, (uint32_t)b, 9000 * s);
	/* E: second 20000, far beyond the horizon of any cursor so far */
	e = insert(t, 5, 20000 * s, 0);
	for (i = 0; i < 3; i++)
		CU_ASSERT_FATAL(insert(t, 10 + i, 30000 * s, 0) >= 0);
	CU_ASSERT_EQUAL(kapa_flow_count(t), 8);
	evict_n(t, 5, 100, 40000 * s);
	CU_ASSERT_EQUAL_FATAL(seen.n, 5);
	CU_ASSERT_EQUAL(victim_idx[0], (uint32_t)a);
	CU_ASSERT_EQUAL(victim_idx[1], (uint32_t)d);
	CU_ASSERT_EQUAL(victim_idx[2], (uint32_t)c);
	CU_ASSERT_EQUAL(victim_idx[3], (uint32_t)b);
	CU_ASSERT_EQUAL(victim_idx[4], (uint32_t)e);
	/* the ones of second 30000 and the newcomers are left */
	for (i = 0; i < 3; i++)
		CU_ASSERT(present(t, 10 + i));
	CU_ASSERT(kapa_flow_stats(t)->lru_refiled >= 3);
	CU_ASSERT_EQUAL(kapa_flow_stats(t)->lru_walk_capped, 0);
	kapa_flow_destroy(t);
}

static void
test_lru_cursor(void)
{
	struct kapa_flow_table *t = table_victims(16);
	uint32_t s = 1024, i, refiled;
	int idx[16];

	/* 16 entries at seconds 0..15, all touched at second 100 except 7 */
	for (i = 0; i < 16; i++) {
		idx[i] = insert(t, i, i * s, 0);
		CU_ASSERT_FATAL(idx[i] >= 0);
	}
	for (i = 0; i < 16; i++)
		if (i != 7)
			kapa_flow_touch(t, (uint32_t)idx[i], 100 * s + i);
	/* the first eviction walks seconds 0..7: 0..6 are re-filed under
	 * second 100, 7 goes */
	evict_n(t, 1, 100, 200 * s);
	CU_ASSERT_EQUAL(victim_idx[0], (uint32_t)idx[7]);
	refiled = (uint32_t)kapa_flow_stats(t)->lru_refiled;
	CU_ASSERT_EQUAL(refiled, 7);
	/* the next one goes on from second 8 (the cursor only moves forward):
	 * 8..15 are re-filed, and the first entry of second 100 — 0, which was
	 * re-filed first — goes */
	evict_n(t, 1, 101, 200 * s);
	CU_ASSERT_EQUAL(victim_idx[1], (uint32_t)idx[0]);
	CU_ASSERT_EQUAL(kapa_flow_stats(t)->lru_refiled, 15);
	/* then 1, 2, ... in the order they were re-filed, no more re-filing */
	evict_n(t, 3, 102, 200 * s);
	CU_ASSERT_EQUAL(victim_idx[2], (uint32_t)idx[1]);
	CU_ASSERT_EQUAL(victim_idx[4], (uint32_t)idx[3]);
	CU_ASSERT_EQUAL(kapa_flow_stats(t)->lru_refiled, 15);
	/* an entry released from the middle of a bucket leaves it intact */
	kapa_flow_release(t, (uint32_t)idx[5], KAPA_REL_CLOSED);
	evict_n(t, 2, 110, 200 * s);	/* one free position, then evict one */
	CU_ASSERT_EQUAL(victim_idx[6], (uint32_t)idx[4]);
	evict_n(t, 1, 120, 200 * s);
	CU_ASSERT_EQUAL(victim_idx[7], (uint32_t)idx[6]);
	kapa_flow_destroy(t);

	/* A half-open entry last active before the established list's cursor
	 * is older than all of that list when it becomes established: it goes
	 * first, ahead of the entries of the cursor's own second. */
	t = table_victims(8);
	{
		int emb, est[7];

		emb = insert(t, 50, 50 * s, 1);
		CU_ASSERT_FATAL(emb >= 0);
		for (i = 0; i < 7; i++) {
			est[i] = insert(t, 60 + i, 100 * s + i, 0);
			CU_ASSERT_FATAL(est[i] >= 0);
		}
		/* a closed connection frees a position (victim_idx[0]) that a
		 * new one takes; the established cursor sits at second 100 */
		kapa_flow_release(t, (uint32_t)est[0], KAPA_REL_CLOSED);
		CU_ASSERT_FATAL(insert(t, 70, 100 * s + 50, 0) >= 0);
		/* between the lists, the half-open one (second 50) is older */
		evict_n(t, 1, 80, 200 * s);
		CU_ASSERT_EQUAL(victim_idx[1], (uint32_t)emb);
		/* again, but now it becomes established first */
		emb = insert(t, 51, 200 * s, 1);	/* evicts est[1] (second 100) */
		CU_ASSERT_FATAL(emb >= 0);
		CU_ASSERT_EQUAL(victim_idx[2], (uint32_t)est[1]);
		kapa_flow_touch(t, (uint32_t)emb, 90 * s);	/* clock went back */
		kapa_flow_set_established(t, (uint32_t)emb);
		evict_n(t, 1, 81, 200 * s);
		CU_ASSERT_EQUAL(victim_idx[3], (uint32_t)emb);
	}
	kapa_flow_destroy(t);

	/* an emptied list restarts its cursor at the next insert, wherever
	 * the clock is (a new capture file): here 3 hours back */
	t = table_victims(8);
	for (i = 0; i < 8; i++)
		CU_ASSERT_FATAL(insert(t, i, 20000 * s + i, 0) >= 0);
	for (i = 0; i < 8; i++) {
		struct kapa_flow_key k;

		key_of(&k, i, 0);
		kapa_flow_release(t, (uint32_t)kapa_flow_lookup(t, &k), KAPA_REL_CLOSED);
	}
	for (i = 0; i < 8; i++)
		CU_ASSERT_FATAL(insert(t, 10 + i, 10000 * s + i * s, 0) >= 0);
	evict_n(t, 2, 20, 10010 * s);
	CU_ASSERT(!present(t, 10) && !present(t, 11) && present(t, 12) && present(t, 13));
	kapa_flow_destroy(t);
}

/* Looks that cross several horizons: entries active 4000 s apart. The first
 * look re-files entries 1..7 past the horizon (coarse buckets) and walks
 * ~4000 empty seconds to entry 0; the next jumps to entry 1's period and
 * cascades it. Nothing is refused, the order holds. */
static void
test_lru_long_walk(void)
{
	struct kapa_flow_table *t = table_victims(8);
	uint32_t s = 1024, i;
	int idx[8];

	for (i = 0; i < 8; i++) {
		idx[i] = insert(t, i, i * s, 0);
		CU_ASSERT_FATAL(idx[i] >= 0);
	}
	/* entry i was active at second i + 4000 * (i + 1) */
	for (i = 0; i < 7; i++)
		kapa_flow_touch(t, (uint32_t)idx[i], (i + 4000 * (i + 1)) * s);
	kapa_flow_touch(t, (uint32_t)idx[7], 40000 * s);
	evict_n(t, 1, 100, 41000 * s);
	CU_ASSERT_EQUAL(seen.n, 1);
	CU_ASSERT_EQUAL(victim_idx[0], (uint32_t)idx[0]);
	evict_n(t, 1, 101, 41000 * s);
	CU_ASSERT_EQUAL(victim_idx[1], (uint32_t)idx[1]);
	CU_ASSERT_EQUAL(kapa_flow_stats(t)->refused, 0);
	kapa_flow_destroy(t);
}

static void
test_lru_walk_cap(void)
{
	const uint32_t n = 1500;	/* more than one look's re-filing cap */
	struct kapa_flow_table *t = table_victims(n);
	const struct kapa_flow_stats *st = kapa_flow_stats(t);
	uint32_t s = 1024, i;
	int last = -1;

	/* all in second 0; all but the last inserted active at second 1 */
	for (i = 0; i < n; i++) {
		int idx = insert(t, i, 0, 0);

		CU_ASSERT_FATAL(idx >= 0);
		if (i + 1 < n)
			kapa_flow_touch(t, (uint32_t)idx, s + 5);
		else
			last = idx;
	}
	/* The exact victim is the last one, behind 1499 entries to re-file.
	 * One look re-files 1024 and takes the entry in hand: counted. */
	evict_n(t, 1, 10000, 2 * s);
	CU_ASSERT_EQUAL(st->lru_walk_capped, 1);
	CU_ASSERT_EQUAL(st->lru_refiled, 1024);
	CU_ASSERT(victim_last_seen[0] == s + 5);
	/* the next look finishes the bucket and finds it */
	evict_n(t, 1, 10001, 2 * s);
	CU_ASSERT_EQUAL(victim_idx[1], (uint32_t)last);
	CU_ASSERT_EQUAL(st->lru_walk_capped, 1);
	CU_ASSERT_EQUAL(st->lru_refiled, 1024 + 474);
	kapa_flow_destroy(t);
}

static void
test_syn_flood(void)
{
	const uint32_t cap = 1024, emax = 128;
	struct kapa_flow_table *t = table(cap, emax, 0);
	const struct kapa_flow_stats *st = kapa_flow_stats(t);
	uint32_t i, survivors = 0, oldest_gone = 0;
	uint32_t now = 1000;

	/* a full table of established connections, older ones less active */
	for (i = 0; i < cap; i++)
		CU_ASSERT_FATAL(insert(t, i, now + i, 0) >= 0);
	now += 60000;
	/* 10x capacity of SYNs */
	for (i = 0; i < 10 * cap; i++) {
		if (insert(t, 100000 + i, now + i / 100, 1) < 0)
			break;
	}
	CU_ASSERT_EQUAL(i, 10 * cap);
	for (i = 0; i < cap; i++)
		survivors += present(t, i);
	for (i = 0; i < emax; i++)
		oldest_gone += !present(t, i);
	/* at most embryonic_max established entries gave way: the most idle */
	CU_ASSERT_EQUAL(survivors, cap - emax);
	CU_ASSERT_EQUAL(oldest_gone, emax);
	CU_ASSERT_EQUAL(kapa_flow_embryonic(t), emax);
	CU_ASSERT_EQUAL(kapa_flow_count(t), cap);
	CU_ASSERT_EQUAL(st->released[KAPA_REL_EVICT_LRU], emax);
	CU_ASSERT_EQUAL(st->released[KAPA_REL_EVICT_EMBRYONIC], 10 * cap - emax);
	CU_ASSERT_EQUAL(st->inserted, cap + 10 * cap);
	/* the newest SYNs are the ones kept */
	CU_ASSERT(present(t, 100000 + 10 * cap - 1));
	CU_ASSERT(!present(t, 100000));
	kapa_flow_destroy(t);
}

static void
test_established_leaves_budget(void)
{
	struct kapa_flow_table *t = table(64, 4, 0);
	int idx[4];
	uint32_t i;

	for (i = 0; i < 4; i++)
		idx[i] = insert(t, i, 10 + i, 1);
	CU_ASSERT_EQUAL(kapa_flow_embryonic(t), 4);
	CU_ASSERT(kapa_flow_conn(t, (uint32_t)idx[0])->flags & KAPA_CONN_EMBRYONIC);
	/* the handshake completes for 0 and 1: they leave the half-open list */
	kapa_flow_set_established(t, (uint32_t)idx[0]);
	kapa_flow_set_established(t, (uint32_t)idx[1]);
	CU_ASSERT(!(kapa_flow_conn(t, (uint32_t)idx[0])->flags & KAPA_CONN_EMBRYONIC));
	CU_ASSERT_EQUAL(kapa_flow_embryonic(t), 2);
	/* three more SYNs: one recycles the oldest half-open entry (2) */
	for (i = 10; i < 13; i++)
		CU_ASSERT(insert(t, i, 100, 1) >= 0);
	CU_ASSERT(present(t, 0) && present(t, 1) && !present(t, 2) && present(t, 3));
	CU_ASSERT_EQUAL(kapa_flow_stats(t)->released[KAPA_REL_EVICT_EMBRYONIC], 1);
	kapa_flow_destroy(t);
}

static void
test_counters_gen_app(void)
{
	struct kapa_flow_table *t = table(8, 0, 0);
	const struct kapa_flow_stats *st = kapa_flow_stats(t);
	struct kapa_flow_key k;
	uint32_t i, gen;
	uint8_t *app;
	int idx, idx2;

	for (i = 0; i < 8; i++)
		CU_ASSERT_FATAL(insert(t, i, 10, 0) >= 0);
	idx = insert(t, 8, 20, 0);	/* evicts entry 0 */
	CU_ASSERT_FATAL(idx >= 0);
	gen = kapa_flow_conn(t, (uint32_t)idx)->gen;
	app = kapa_flow_app(t, (uint32_t)idx);
	CU_ASSERT(app != NULL && ((uintptr_t)app & 15) == 0);
	CU_ASSERT((uint8_t *)kapa_flow_app(t, 1) - (uint8_t *)kapa_flow_app(t, 0) == 48);
	memset(app, 0xee, 40);
	kapa_flow_conn(t, (uint32_t)idx)->half[0].ack = 77;
	key_of(&k, 8, 0);
	CU_ASSERT(memcmp(kapa_flow_key(t, (uint32_t)idx), &k, sizeof(k)) == 0);

	kapa_flow_release(t, (uint32_t)idx, KAPA_REL_CLOSED);
	kapa_flow_release(t, (uint32_t)idx, KAPA_REL_CLOSED);	/* ignored */
	CU_ASSERT_EQUAL(st->released[KAPA_REL_CLOSED], 1);
	/* the only free position is reused: gen bumped, record and slot zeroed */
	idx2 = insert(t, 9, 30, 0);
	CU_ASSERT_EQUAL(idx2, idx);
	CU_ASSERT_EQUAL(kapa_flow_conn(t, (uint32_t)idx2)->gen, gen + 1);
	CU_ASSERT_EQUAL(kapa_flow_conn(t, (uint32_t)idx2)->half[0].ack, 0);
	CU_ASSERT_EQUAL(kapa_flow_conn(t, (uint32_t)idx2)->last_seen, 30);
	CU_ASSERT(app[0] == 0 && app[39] == 0);

	kapa_flow_release(t, 1, KAPA_REL_REPLACED);
	kapa_flow_release(t, 2, KAPA_REL_EXPLICIT);
	CU_ASSERT_EQUAL(st->released[KAPA_REL_REPLACED], 1);
	CU_ASSERT_EQUAL(st->released[KAPA_REL_EXPLICIT], 1);
	CU_ASSERT_EQUAL(st->released[KAPA_REL_EVICT_LRU], 1);
	CU_ASSERT_EQUAL(st->inserted, 10);
	CU_ASSERT_EQUAL(kapa_flow_count(t), 6);
	CU_ASSERT_STRING_EQUAL(kapa_flow_release_name(KAPA_REL_IDLE), "idle");
	CU_ASSERT_STRING_EQUAL(kapa_flow_release_name(KAPA_REL_EVICT_LRU), "evict-lru");
	CU_ASSERT_STRING_EQUAL(kapa_flow_release_name(99), "unknown");
	/* 128-byte record + 48-byte slot + the hash's share */
	CU_ASSERT(kapa_flow_bytes_per_entry(t) > 128 + 48 + 48);

	kapa_flow_destroy(t);
}

static void
test_v4_v6_and_bulk(void)
{
	struct kapa_flow_table *t = table(256, 0, 0);
	struct kapa_flow_key keys[64];
	const struct kapa_flow_key *kp[64];
	int32_t idx[64], want[64];
	uint32_t i;

	for (i = 0; i < 64; i++) {
		key_of(&keys[i], i, (int)(i & 1));
		kp[i] = &keys[i];
		/* insert the even ones, and odd ones below 32 */
		want[i] = -ENOENT;
		if ((i & 1) == 0 || i < 32)
			want[i] = kapa_flow_insert(t, &keys[i], 5, 0);
		CU_ASSERT(want[i] != -ENOSPC);
	}
	/* v4 key i and v6 key i are different connections */
	{
		struct kapa_flow_key k4, k6;

		key_of(&k4, 7, 0);
		key_of(&k6, 7, 1);
		CU_ASSERT(kapa_flow_lookup(t, &k4) == -ENOENT);
		CU_ASSERT(kapa_flow_lookup(t, &k6) == want[7]);
	}
	kapa_flow_lookup_bulk(t, kp, 64, idx);
	for (i = 0; i < 64; i++)
		CU_ASSERT_EQUAL(idx[i], want[i]);
	kapa_flow_lookup_bulk(t, kp + 1, 1, idx);
	CU_ASSERT_EQUAL(idx[0], want[1]);
	CU_ASSERT(kapa_flow_stats(t)->hits == 1 + 48 + 1);
	kapa_flow_destroy(t);
}

static void
test_snapshot(void)
{
	struct kapa_flow_table *t = table(16, 0, 0);
	struct kapa_conn c, *live;
	int idx = insert(t, 1, 5, 0);

	CU_ASSERT(kapa_flow_snapshot(t, 3, &c) == -ENOENT);
	CU_ASSERT(kapa_flow_snapshot(t, 1000, &c) == -ENOENT);
	live = kapa_flow_conn(t, (uint32_t)idx);
	kapa_flow_write_begin(live);
	CU_ASSERT(live->seqcnt & 1);
	live->state = KAPA_CONN_ESTABLISHED;
	live->half[1].ack = 1234;
	/* the owner is "in the middle of writing": readers give up */
	CU_ASSERT(kapa_flow_snapshot(t, (uint32_t)idx, &c) == -EAGAIN);
	kapa_flow_write_end(live);
	CU_ASSERT(kapa_flow_snapshot(t, (uint32_t)idx, &c) == 0);
	CU_ASSERT(memcmp(&c, live, sizeof(c)) == 0);
	kapa_flow_release(t, (uint32_t)idx, KAPA_REL_CLOSED);
	CU_ASSERT(kapa_flow_snapshot(t, (uint32_t)idx, &c) == -ENOENT);
	kapa_flow_destroy(t);
}

static void
test_idle_expiry(void)
{
	struct kapa_flow_table *t = table(16, 0, 0);
	const struct kapa_flow_stats *st = kapa_flow_stats(t);
	int a, b, c;
	uint32_t now;

	a = insert(t, 1, 0, 0);
	b = insert(t, 2, 0, 0);
	c = insert(t, 3, 0, 0);
	kapa_flow_set_idle(t, (uint32_t)a, 1000);
	kapa_flow_set_idle(t, (uint32_t)b, 1000);
	/* c has no idle limit: never expires */
	seen.expire_answer = 0;
	/* a is active at 800 ms: its timer fires (tick after 1000) and is
	 * re-armed lazily to 1800 without asking the policy */
	kapa_flow_touch(t, (uint32_t)a, 800);
	now = 1200;
	CU_ASSERT(kapa_flow_expire(t, now, 100) == 2);
	CU_ASSERT_EQUAL(seen.expire_calls, 1);	/* b only */
	CU_ASSERT(!present(t, 2) && present(t, 1) && present(t, 3));
	CU_ASSERT_EQUAL(st->released[KAPA_REL_IDLE], 1);
	/* the policy keeps a for another 5 s when asked */
	seen.expire_answer = 5000;
	CU_ASSERT(kapa_flow_expire(t, 1700, 100) == 0);
	CU_ASSERT(kapa_flow_expire(t, 2000, 100) == 1);
	CU_ASSERT_EQUAL(seen.expire_calls, 2);
	CU_ASSERT(present(t, 1));
	CU_ASSERT_EQUAL(kapa_flow_conn(t, (uint32_t)a)->idle_limit, 5000);
	seen.expire_answer = 0;
	CU_ASSERT(kapa_flow_expire(t, 6900, 100) == 0);
	CU_ASSERT(kapa_flow_expire(t, 7200, 100) == 1);
	CU_ASSERT(!present(t, 1) && present(t, 3));
	CU_ASSERT_EQUAL(st->released[KAPA_REL_IDLE], 2);
	/* a limit of 0 disarms */
	kapa_flow_set_idle(t, (uint32_t)c, 500);
	kapa_flow_set_idle(t, (uint32_t)c, 0);
	CU_ASSERT(kapa_flow_expire(t, 60000, 100) == 0);
	CU_ASSERT(present(t, 3));
	kapa_flow_destroy(t);
}

/* Bytes in the heaps of growing table @p name's two hash generations (their
 * segments, used or not); 0 when neither heap exists. */
static size_t
grow_heap_bytes(const char *name)
{
	struct rte_malloc_socket_stats ms;
	char heap[64];
	size_t total = 0;
	int gen, socket;

	for (gen = 0; gen < 2; gen++) {
		snprintf(heap, sizeof(heap), KAPA_FLOW_GROW_HEAP_PREFIX "%s%s", name,
			 gen ? "+" : "");
		socket = rte_malloc_heap_get_socket(heap);
		if (socket < 0)
			continue;
		if (rte_malloc_get_socket_stats(socket, &ms) != 0)
			return SIZE_MAX;
		total += ms.heap_totalsz_bytes;
	}
	return total;
}

/* A table of 16 entries that may grow to 256, 40 bytes of slot each,
 * reporting to seen (cleared). */
static struct kapa_flow_table *
growing_table(const char *name)
{
	struct kapa_flow_conf conf = {0};

	memset(&seen, 0, sizeof(seen));
	conf.name = name;
	conf.capacity = 16;
	conf.max_capacity = 256;
	conf.app_size = 40;
	conf.socket_id = SOCKET_ID_ANY;
	conf.on_release = on_release;
	conf.on_expire = on_expire;
	conf.cb_arg = &seen;
	return kapa_flow_create(&conf);
}

/*
 * A growing table (max_capacity): it doubles instead of evicting, every
 * entry keeps its index, key, record, consumer slot and timer across the
 * rebuilds, and at its limit it evicts as a fixed table does.
 */
static void
test_grow(void)
{
	const struct kapa_flow_stats *st;
	struct kapa_flow_table *t;
	struct kapa_flow_key k;
	int32_t idx[256];
	uint32_t i, ok = 0;
	uint8_t *app;

	t = growing_table("tgrow");
	CU_ASSERT_FATAL(t != NULL);
	st = kapa_flow_stats(t);
	CU_ASSERT_EQUAL(kapa_flow_capacity(t), 16);
	CU_ASSERT_EQUAL(kapa_flow_max_capacity(t), 256);
	for (i = 0; i < 256; i++) {
		idx[i] = insert(t, i, i, 0);
		CU_ASSERT_FATAL(idx[i] >= 0);
		app = kapa_flow_app(t, (uint32_t)idx[i]);
		memset(app, (int)(i & 0xff), 40);
		/* every 4th entry has an idle limit, expiring at 10 s + i */
		if (i % 4 == 0)
			kapa_flow_set_idle(t, (uint32_t)idx[i], 10000);
	}
	CU_ASSERT_EQUAL(kapa_flow_capacity(t), 256);
	CU_ASSERT_EQUAL(kapa_flow_count(t), 256);
	CU_ASSERT_EQUAL(st->grown, 4);	/* 16 -> 32 -> 64 -> 128 -> 256 */
	CU_ASSERT_EQUAL(st->grow_failed, 0);
	/* Each hash was built in a heap segment of its own, and the old
	 * ones are gone: one 2 MiB segment is all the heap holds. */
	CU_ASSERT_EQUAL(grow_heap_bytes("tgrow"), 2u << 20);
	CU_ASSERT_EQUAL(seen.n, 0);	/* nothing evicted on the way */
	for (i = 0; i < 256; i++) {
		key_of(&k, i, 0);
		app = kapa_flow_app(t, (uint32_t)idx[i]);
		if (kapa_flow_lookup(t, &k) == idx[i] &&
		    memcmp(kapa_flow_key(t, (uint32_t)idx[i]), &k, sizeof(k)) == 0 &&
		    kapa_flow_conn(t, (uint32_t)idx[i])->last_seen == i &&
		    app[0] == (uint8_t)i && app[39] == (uint8_t)i)
			ok++;
	}
	CU_ASSERT_EQUAL(ok, 256);
	/* The timers armed before the rebuilds fire: 64 of them. */
	seen.expire_answer = 0;
	CU_ASSERT_EQUAL(kapa_flow_expire(t, 20000, 1000), 64);
	CU_ASSERT_EQUAL(st->released[KAPA_REL_IDLE], 64);
	CU_ASSERT_EQUAL(kapa_flow_count(t), 192);
	/* Refill, then past the limit: the longest idle entry is evicted. */
	for (i = 256; i < 256 + 64 + 20; i++)
		CU_ASSERT(insert(t, i, 30000 + i, 0) >= 0);
	CU_ASSERT_EQUAL(kapa_flow_capacity(t), 256);
	CU_ASSERT_EQUAL(kapa_flow_count(t), 256);
	CU_ASSERT_EQUAL(st->released[KAPA_REL_EVICT_LRU], 20);
	CU_ASSERT(!present(t, 1) && present(t, 255) && present(t, 339));
	kapa_flow_destroy(t);
	CU_ASSERT_EQUAL(grow_heap_bytes("tgrow"), 0);

	/* Growing needs a name one shorter and no readers. */
	CU_ASSERT(growing_table("twenty-chars-name-xx") == NULL);
}

/* The process's address space now, in bytes (VmSize), or 0. */
static uint64_t
address_space_bytes(void)
{
	char line[128];
	uint64_t kib = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmSize: %" SCNu64 " kB", &kib) == 1)
			break;
	fclose(f);
	return kib * 1024;
}

/*
 * A growing table that cannot map its next hash keeps the one it has: it
 * stops growing and evicts as a fixed table does, every entry still found.
 * The address space is capped just above what the process holds, so the new
 * hash's segment (4 MiB of mapping at least) cannot be had.
 */
static void
test_grow_no_memory(void)
{
	const struct kapa_flow_stats *st;
	struct kapa_flow_table *t;
	struct rlimit old, capped;
	uint32_t i, found = 0;
	uint64_t now;
	int idx;

	t = growing_table("tgrow_nomem");
	CU_ASSERT_FATAL(t != NULL);
	st = kapa_flow_stats(t);
	for (i = 0; i < 16; i++)
		CU_ASSERT_FATAL(insert(t, i, 1000 + i, 0) >= 0);
	now = address_space_bytes();
	CU_ASSERT_FATAL(now != 0);
	CU_ASSERT_FATAL(getrlimit(RLIMIT_AS, &old) == 0);
	capped = old;
	capped.rlim_cur = now + (1u << 20);
	CU_ASSERT_FATAL(setrlimit(RLIMIT_AS, &capped) == 0);
	idx = insert(t, 16, 5000, 0);
	CU_ASSERT(setrlimit(RLIMIT_AS, &old) == 0);
	CU_ASSERT(idx >= 0);
	CU_ASSERT_EQUAL(st->grow_failed, 1);
	CU_ASSERT_EQUAL(st->grown, 0);
	CU_ASSERT_EQUAL(kapa_flow_capacity(t), 16);
	CU_ASSERT_EQUAL(kapa_flow_max_capacity(t), 16);
	CU_ASSERT_EQUAL(st->released[KAPA_REL_EVICT_LRU], 1);
	CU_ASSERT(!present(t, 0));	/* the longest idle went */
	for (i = 1; i <= 16; i++)
		found += present(t, i);
	CU_ASSERT_EQUAL(found, 16);
	CU_ASSERT_EQUAL(grow_heap_bytes("tgrow_nomem"), 2u << 20);	/* the old hash's */
	kapa_flow_destroy(t);
	CU_ASSERT_EQUAL(grow_heap_bytes("tgrow_nomem"), 0);
}

/* A released position is reused only after the readers' grace period. */
static void
test_qsbr_deferred_reuse(void)
{
	struct kapa_flow_conf conf = {0};
	struct kapa_flow_key old_key, k;
	struct kapa_flow_table *t;
	struct rte_rcu_qsbr *v;
	uint32_t i, gen;
	int idx, r;

	v = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(2), RTE_CACHE_LINE_SIZE);
	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_FATAL(rte_rcu_qsbr_init(v, 2) == 0);
	conf.name = "tflow_qsbr";
	conf.capacity = 8;
	conf.socket_id = SOCKET_ID_ANY;
	conf.qsbr = v;
	t = kapa_flow_create(&conf);
	CU_ASSERT_FATAL(t != NULL);
	for (i = 0; i < 8; i++)
		CU_ASSERT_FATAL(insert(t, i, 10, 0) >= 0);
	/* a reader is online and has not reported since */
	CU_ASSERT_FATAL(rte_rcu_qsbr_thread_register(v, 1) == 0);
	rte_rcu_qsbr_thread_online(v, 1);
	key_of(&k, 3, 0);
	r = kapa_flow_lookup(t, &k);
	CU_ASSERT_FATAL(r >= 0);
	gen = kapa_flow_conn(t, (uint32_t)r)->gen;
	kapa_flow_release(t, (uint32_t)r, KAPA_REL_CLOSED);
	CU_ASSERT_EQUAL(kapa_flow_count(t), 7);
	/* the position waits: no insert can take it, and a reader that
	 * found it before still reads the old key there */
	kapa_flow_reclaim(t);
	CU_ASSERT(insert(t, 100, 20, 0) == -ENOSPC);
	CU_ASSERT_EQUAL(kapa_flow_stats(t)->refused, 1);
	CU_ASSERT_EQUAL(kapa_flow_stats(t)->released[KAPA_REL_EVICT_LRU], 0);
	memcpy(&old_key, kapa_flow_key(t, (uint32_t)r), sizeof(old_key));
	CU_ASSERT(memcmp(&old_key, &k, sizeof(k)) == 0);
	/* the reader reports a quiescent state: the position comes back */
	rte_rcu_qsbr_quiescent(v, 1);
	kapa_flow_reclaim(t);
	idx = insert(t, 100, 30, 0);
	CU_ASSERT_EQUAL(idx, r);
	CU_ASSERT_EQUAL(kapa_flow_conn(t, (uint32_t)r)->gen, gen + 1);
	rte_rcu_qsbr_thread_offline(v, 1);
	rte_rcu_qsbr_thread_unregister(v, 1);
	kapa_flow_destroy(t);
	rte_free(v);
}

/* ---- a reader thread against the owner ----------------------------------- */

struct mt {
	struct kapa_flow_table *t;
	struct rte_rcu_qsbr *v;
	uint32_t capacity;
	volatile int stop;
	uint64_t ok, torn, noent, again;
};

static void *
reader(void *arg)
{
	struct mt *m = arg;
	struct kapa_conn c;
	uint64_t x = 88172645463325252ull, n = 0;
	uint32_t v;
	int rc;

	rte_rcu_qsbr_thread_register(m->v, 1);
	rte_rcu_qsbr_thread_online(m->v, 1);
	while (!m->stop) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		rc = kapa_flow_snapshot(m->t, (uint32_t)(x % m->capacity), &c);
		if (rc == 0) {
			/* the owner writes one value into four fields on both
			 * cache lines, tagged with the generation */
			memcpy(&v, c.mss, sizeof(v));
			if (c.half[0].ack != v || c.half[1].ack != v ||
			    c.half[1].base_seq != v || (v >> 16) != (c.gen & 0xffff))
				m->torn++;
			else
				m->ok++;
		} else if (rc == -ENOENT) {
			m->noent++;
		} else {
			m->again++;
		}
		if ((++n & 63) == 0)
			rte_rcu_qsbr_quiescent(m->v, 1);
	}
	rte_rcu_qsbr_thread_offline(m->v, 1);
	rte_rcu_qsbr_thread_unregister(m->v, 1);
	return NULL;
}

static void
owner_write(struct kapa_flow_table *t, uint32_t idx, uint32_t count)
{
	struct kapa_conn *c = kapa_flow_conn(t, idx);
	uint32_t v = ((c->gen & 0xffff) << 16) | (count & 0xffff);

	kapa_flow_write_begin(c);
	c->state = KAPA_CONN_ESTABLISHED;
	memcpy(c->mss, &v, sizeof(v));	/* both mss fields: the first line */
	c->half[0].ack = v;
	c->half[1].base_seq = v;
	c->half[1].ack = v;
	kapa_flow_write_end(c);
}

static void
test_reader_thread(void)
{
	const uint32_t cap = 256;
	struct kapa_flow_conf conf = {0};
	struct mt m = {0};
	pthread_t th;
	uint32_t i, live[256], nlive = 0, next_key = 0, now = 0;
	uint64_t x = 0x1234567;
	int idx;

	m.v = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(2), RTE_CACHE_LINE_SIZE);
	CU_ASSERT_FATAL(m.v != NULL);
	CU_ASSERT_FATAL(rte_rcu_qsbr_init(m.v, 2) == 0);
	conf.name = "tflow_mt";
	conf.capacity = cap;
	conf.socket_id = SOCKET_ID_ANY;
	conf.qsbr = m.v;
	m.t = kapa_flow_create(&conf);
	CU_ASSERT_FATAL(m.t != NULL);
	m.capacity = cap;
	for (i = 0; i < 192; i++) {
		idx = insert(m.t, next_key++, now, 0);
		CU_ASSERT_FATAL(idx >= 0);
		owner_write(m.t, (uint32_t)idx, 0);
		live[nlive++] = (uint32_t)idx;
	}
	CU_ASSERT_FATAL(pthread_create(&th, NULL, reader, &m) == 0);
	for (i = 0; i < 2000000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if ((i & 255) == 0) {
			/* churn: close one connection, open another */
			uint32_t k = (uint32_t)(x % nlive);

			if (nlive > 128) {
				kapa_flow_release(m.t, live[k], KAPA_REL_CLOSED);
				live[k] = live[--nlive];
			}
			kapa_flow_reclaim(m.t);
			idx = insert(m.t, next_key, ++now, 0);
			/* Every free position may wait for the reader's next
			 * quiescent report (it may be descheduled): yield. */
			for (k = 0; idx == -ENOSPC && k < 1000000; k++) {
				sched_yield();
				kapa_flow_reclaim(m.t);
				idx = insert(m.t, next_key, now, 0);
			}
			next_key++;
			CU_ASSERT(idx >= 0);
			if (idx >= 0) {
				owner_write(m.t, (uint32_t)idx, i);
				live[nlive++] = (uint32_t)idx;
			}
			continue;
		}
		owner_write(m.t, live[x % nlive], i);
	}
	m.stop = 1;
	pthread_join(th, NULL);
	printf("\n    reader: %" PRIu64 " consistent, %" PRIu64 " torn, %" PRIu64
	       " free, %" PRIu64 " busy; inserts refused %" PRIu64 " ",
	       m.ok, m.torn, m.noent, m.again, kapa_flow_stats(m.t)->refused);
	CU_ASSERT_EQUAL(m.torn, 0);
	CU_ASSERT(m.ok > 1000);
	CU_ASSERT(kapa_flow_stats(m.t)->released[KAPA_REL_CLOSED] > 7000);
	kapa_flow_destroy(m.t);
	rte_free(m.v);
}

int
kapa_unit_register(void)
{
	CU_pSuite s;
	int rc = kapa_eal_init_offline("test_flow", 512);

	if (rc != 0) {
		fprintf(stderr, "EAL: %s\n", strerror(-rc));
		return 1;
	}
	s = CU_add_suite("flow", NULL, NULL);
	if (s == NULL ||
	    CU_add_test(s, "canonical keys, IPv4 and IPv6", test_key_make) == NULL ||
	    CU_add_test(s, "the sender's side follows the addresses' byte order", test_key_make_order) == NULL ||
	    CU_add_test(s, "fill to capacity, capacity + 1 evicts", test_fill_capacity) == NULL ||
	    CU_add_test(s, "full with nothing evictable refuses", test_full_not_evictable) == NULL ||
	    CU_add_test(s, "eviction order: longest idle first", test_eviction_order) == NULL ||
	    CU_add_test(s, "LRU position moves once a second", test_lru_granularity) == NULL ||
	    CU_add_test(s, "LRU wheel: eviction takes the oldest second (model)",
			test_lru_refile_exact) == NULL ||
	    CU_add_test(s, "LRU wheel: entries past the 4096 s horizon", test_lru_horizon) == NULL ||
	    CU_add_test(s, "LRU wheel: cursor, re-filing order, restart", test_lru_cursor) == NULL ||
	    CU_add_test(s, "LRU wheel: a look that walks several horizons", test_lru_long_walk) == NULL ||
	    CU_add_test(s, "LRU wheel: a look re-files at most 1024 (counted)",
			test_lru_walk_cap) == NULL ||
	    CU_add_test(s, "SYN flood of 10x capacity", test_syn_flood) == NULL ||
	    CU_add_test(s, "established entries leave the half-open budget",
			test_established_leaves_budget) == NULL ||
	    CU_add_test(s, "counters, generation, consumer slot", test_counters_gen_app) == NULL ||
	    CU_add_test(s, "IPv4/IPv6 keys and lookup_bulk", test_v4_v6_and_bulk) == NULL ||
	    CU_add_test(s, "snapshot: free, busy, consistent", test_snapshot) == NULL ||
	    CU_add_test(s, "idle expiry is lazy and asks the policy", test_idle_expiry) == NULL ||
	    CU_add_test(s, "a growing table keeps every index", test_grow) == NULL ||
	    CU_add_test(s, "a growing table without memory for its next hash keeps its own",
			test_grow_no_memory) == NULL ||
	    CU_add_test(s, "positions wait for the readers' grace period",
			test_qsbr_deferred_reuse) == NULL ||
	    CU_add_test(s, "reader thread never sees a torn record", test_reader_thread) == NULL)
		return 1;
	return 0;
}
