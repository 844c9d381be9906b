/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The connection table of one worker. Design notes: docs/core-flow.md.
 *
 * Index = rte_hash key position. The hash is created with lock-free read
 * concurrency (RW_CONCURRENCY_LF), which implies "no free on delete": a
 * deleted key's position (and an emptied extendable bucket, which DPDK frees
 * together with the position) stays reserved until we hand it back with
 * rte_hash_free_key_with_position(). Without readers we do that at once;
 * with readers (conf->qsbr) we put it on an rte_rcu_qsbr defer queue and
 * free it after their grace period. Record reuse follows position reuse, so
 * a reader inside its grace period still finds the old key in the key store.
 *
 * Records are never freed while the table lives, so a reader can always
 * copy one; the per-record sequence counter makes the copy consistent.
 * lru_prev/lru_next and tmr are the owner's bookkeeping and change without a
 * write section (a neighbour's move rewrites them); readers ignore them.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include "kapa_flow.h"
#include "kapa_mem.h"

/* lru_prev of a free record (never a valid index or KAPA_NIL). */
#define LRU_FREE (KAPA_NIL - 1)

#define LIST_EST 0	/* established (and everything not half-open) */
#define LIST_EMB 1	/* half-open */

/*
 * LRU wheel (docs/core-flow.md): each list is a two-level ring of buckets,
 * LRU_BUCKETS fine buckets of one second (1024 ms, ms >> 10: a 4096 s
 * horizon) and LRU_BUCKETS coarse buckets of 1024 seconds (ms >> 20: the
 * whole 32-bit ms clock). lru_stamp says where an entry sits: the slot in
 * its low bits, LRU_STAMP_COARSE for the coarse level.
 */
#define LRU_SEC_SHIFT 10
#define LRU_SEC_MS (1u << LRU_SEC_SHIFT)
#define LRU_COARSE_SHIFT 20
#define LRU_BUCKETS 4096u
#define LRU_MASK (LRU_BUCKETS - 1)
#define LRU_HORIZON_MS (LRU_BUCKETS << LRU_SEC_SHIFT)
#define LRU_STAMP_COARSE 0x8000u
/* Re-filings one look for the oldest entry may do before it gives up and
 * takes the entry in hand (counted in stats.lru_walk_capped). */
#define LRU_REFILE_MAX 1024u

#define SNAPSHOT_TRIES 64
#define NAME_MAX_LEN 20	/* "HT_EXT_" / "RCU_KDQ_" prefixes must fit ring names */

/*
 * rte_hash internals used only to report memory (bytes_per_entry); they are
 * private to DPDK 22.11's rte_cuckoo_hash.c: 8 entries per bucket, a bucket
 * is 64 bytes (8 x 2-byte signature, 8 x 4-byte key index, 8 flag bytes, a
 * next pointer; cache aligned), a key slot is 8 bytes of data pointer plus
 * the key, rounded up to 16.
 */
#define HASH_BUCKET_ENTRIES 8
#define HASH_BUCKET_BYTES 64
#define HASH_KEY_SLOT_BYTES RTE_ALIGN(8 + sizeof(struct kapa_flow_key), 16)

/* One bucket: a FIFO list through lru_prev/lru_next. */
struct lru_bucket {
	uint32_t head;		/* filed first */
	uint32_t tail;		/* filed last */
};

/*
 * One LRU list. cur_ms (a multiple of 1024) is the cursor: the second of the
 * oldest fine bucket that may hold entries. Fine buckets hold the seconds
 * [cur_ms, cur_ms + horizon); coarse buckets hold entries filed further
 * ahead, by their 1024 s period, always a period after the cursor's. Every
 * entry sits in a bucket that starts no later than its last_seen.
 */
struct lru_ring {
	uint32_t cur_ms;
	uint32_t count;			/* entries, both levels */
	uint32_t nfine;			/* entries in fine buckets */
	struct lru_bucket fine[LRU_BUCKETS];
	struct lru_bucket coarse[LRU_BUCKETS];
};

struct kapa_flow_table {
	struct kapa_conn *conns;	/* [max_capacity], cache aligned */
	uint8_t *app;			/* [max_capacity * app_stride] */
	uint32_t app_stride;
	uint32_t capacity;		/* entries now */
	uint32_t max_capacity;		/* entries it may grow to (== capacity: fixed,
					   or no longer growing) */
	uint32_t mapped;		/* entries the arrays are mapped for */
	uint32_t hash_gen;		/* rebuilds of the hash: picks its name */
	int socket_id;
	int grows;			/* created growing: the hash is in hash_seg */
	struct kapa_mem_seg hash_seg;
	char name[NAME_MAX_LEN + 1];
	uint32_t embryonic_max;
	uint32_t evict_min_idle_ms;
	uint32_t count;
	uint64_t changes;		/* inserts and releases: positions found
					   before are stale once it moved */
	struct lru_ring *lru;		/* [2]: [LIST_EST], [LIST_EMB] */
	struct rte_hash *h;
	struct kapa_timer_wheel *wheel;
	struct rte_rcu_qsbr_dq *dq;	/* NULL without readers */
	uint32_t dq_pending;		/* positions waiting for a grace period */
	uint32_t wheel_slots;
	/* Where rte_hash keeps the key of a position (checked at creation);
	 * key_base NULL: ask rte_hash_get_key_with_position() instead. */
	const uint8_t *key_base;
	size_t key_stride;
	kapa_flow_release_fn on_release;
	kapa_flow_expire_fn on_expire;
	void *cb_arg;
	struct kapa_flow_stats stats;
};

static const char *const release_names[KAPA_REL_MAX] = {
	[KAPA_REL_CLOSED] = "closed",
	[KAPA_REL_IDLE] = "idle",
	[KAPA_REL_EVICT_EMBRYONIC] = "evict-embryonic",
	[KAPA_REL_EVICT_LRU] = "evict-lru",
	[KAPA_REL_REPLACED] = "replaced",
	[KAPA_REL_EXPLICIT] = "explicit",
};

/* memcmp()'s sign over two addresses of @p family, compared as big-endian
 * words: inline, where memcmp() is a call that dispatches on the length (it
 * showed in kapa-inspect's profile). */
static inline int
addr_cmp(uint8_t family, const uint8_t *a, const uint8_t *b)
{
	uint64_t x, y;
	uint32_t p, q;

	if (family == 4) {
		memcpy(&p, a, 4);
		memcpy(&q, b, 4);
		p = rte_be_to_cpu_32(p);
		q = rte_be_to_cpu_32(q);
		return (p > q) - (p < q);
	}
	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	if (x == y) {
		memcpy(&x, a + 8, 8);
		memcpy(&y, b + 8, 8);
	}
	x = rte_be_to_cpu_64(x);
	y = rte_be_to_cpu_64(y);
	return (x > y) - (x < y);
}

int
kapa_flow_key_make(struct kapa_flow_key *key, uint8_t family,
		   const uint8_t *src, uint16_t sport,
		   const uint8_t *dst, uint16_t dport)
{
	size_t alen = family == 4 ? 4 : 16;
	int c, side;

	memset(key, 0, sizeof(*key));
	c = addr_cmp(family, src, dst);
	if (c == 0)
		c = (sport > dport) - (sport < dport);
	side = c > 0;	/* the sender is endpoint 1 when it sorts higher */
	memcpy(key->addr[side], src, alen);
	memcpy(key->addr[!side], dst, alen);
	key->port[side] = sport;
	key->port[!side] = dport;
	key->family = family;
	return side;
}

const char *
kapa_flow_release_name(unsigned int why)
{
	return why < KAPA_REL_MAX ? release_names[why] : "unknown";
}

/* ---- sequence counter ---------------------------------------------------- */

void
kapa_flow_write_begin(struct kapa_conn *c)
{
	__atomic_store_n(&c->seqcnt, c->seqcnt + 1, __ATOMIC_RELAXED);
	/* The odd count must be visible before any store to the record. */
	rte_smp_wmb();
}

void
kapa_flow_write_end(struct kapa_conn *c)
{
	/* Release: every store to the record before the even count. */
	__atomic_store_n(&c->seqcnt, c->seqcnt + 1, __ATOMIC_RELEASE);
}

int
kapa_flow_snapshot(const struct kapa_flow_table *t, uint32_t idx,
		   struct kapa_conn *out)
{
	const struct kapa_conn *c;
	uint32_t s1, s2;
	int tries;

	if (idx >= t->capacity)
		return -ENOENT;
	c = &t->conns[idx];
	for (tries = 0; tries < SNAPSHOT_TRIES; tries++) {
		s1 = __atomic_load_n(&c->seqcnt, __ATOMIC_ACQUIRE);
		if (s1 & 1) {
			rte_pause();
			continue;
		}
		memcpy(out, c, sizeof(*out));
		/* The copy's loads must complete before the second count. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&c->seqcnt, __ATOMIC_RELAXED);
		if (s1 == s2)
			return out->state == KAPA_CONN_FREE ? -ENOENT : 0;
	}
	return -EAGAIN;
}

/* ---- LRU wheel ----------------------------------------------------------- */

static inline uint32_t
conn_list(const struct kapa_conn *c)
{
	return (c->flags & KAPA_CONN_EMBRYONIC) ? LIST_EMB : LIST_EST;
}

static inline struct lru_bucket *
lru_bucket_of(struct lru_ring *r, uint16_t stamp)
{
	return (stamp & LRU_STAMP_COARSE) ? &r->coarse[stamp & LRU_MASK] :
					    &r->fine[stamp & LRU_MASK];
}

/* Append an unlinked entry at the tail of the bucket @p stamp names. */
static inline void
lru_append(struct kapa_flow_table *t, struct lru_ring *r, uint32_t idx,
	   uint16_t stamp)
{
	struct kapa_conn *c = &t->conns[idx];
	struct lru_bucket *bk = lru_bucket_of(r, stamp);

	c->lru_stamp = stamp;
	c->lru_next = KAPA_NIL;
	c->lru_prev = bk->tail;
	if (bk->tail != KAPA_NIL)
		t->conns[bk->tail].lru_next = idx;
	else
		bk->head = idx;
	bk->tail = idx;
	r->count++;
	if (!(stamp & LRU_STAMP_COARSE))
		r->nfine++;
}

/* Put an unlinked entry at the head of the fine bucket of the cursor. */
static inline void
lru_prepend_oldest(struct kapa_flow_table *t, struct lru_ring *r, uint32_t idx)
{
	struct kapa_conn *c = &t->conns[idx];
	uint16_t stamp = (uint16_t)((r->cur_ms >> LRU_SEC_SHIFT) & LRU_MASK);
	struct lru_bucket *bk = &r->fine[stamp];

	c->lru_stamp = stamp;
	c->lru_prev = KAPA_NIL;
	c->lru_next = bk->head;
	if (bk->head != KAPA_NIL)
		t->conns[bk->head].lru_prev = idx;
	else
		bk->tail = idx;
	bk->head = idx;
	r->count++;
	r->nfine++;
}

/*
 * File an unlinked entry in list @p list by its activity time @p ms: the
 * fine bucket of its second when that lies within the horizon, else the
 * coarse bucket of its 1024 s period. An empty list restarts its cursor
 * there (first use, or a jump in time such as a new capture file). A time
 * before the cursor is older than every entry of the list: it goes first,
 * at the head of the cursor's bucket (a half-open entry established after
 * this list's cursor passed its second, or a clock that went back).
 */
static inline void
lru_file(struct kapa_flow_table *t, uint32_t list, uint32_t idx, uint32_t ms)
{
	struct lru_ring *r = &t->lru[list];
	int32_t ahead;
	uint16_t stamp;

	if (r->count == 0)
		r->cur_ms = ms & ~(LRU_SEC_MS - 1);
	ahead = (int32_t)(ms - r->cur_ms);
	if (ahead < 0) {
		lru_prepend_oldest(t, r, idx);
		return;
	}
	if ((uint32_t)ahead < LRU_HORIZON_MS)
		stamp = (uint16_t)((ms >> LRU_SEC_SHIFT) & LRU_MASK);
	else
		stamp = (uint16_t)(LRU_STAMP_COARSE | ((ms >> LRU_COARSE_SHIFT) & LRU_MASK));
	lru_append(t, r, idx, stamp);
}

static inline void
lru_unlink(struct kapa_flow_table *t, uint32_t list, uint32_t idx)
{
	struct lru_ring *r = &t->lru[list];
	struct kapa_conn *c = &t->conns[idx];
	struct lru_bucket *bk = lru_bucket_of(r, c->lru_stamp);

	if (c->lru_prev != KAPA_NIL)
		t->conns[c->lru_prev].lru_next = c->lru_next;
	else
		bk->head = c->lru_next;
	if (c->lru_next != KAPA_NIL)
		t->conns[c->lru_next].lru_prev = c->lru_prev;
	else
		bk->tail = c->lru_prev;
	r->count--;
	if (!(c->lru_stamp & LRU_STAMP_COARSE))
		r->nfine--;
}

/*
 * All fine buckets are empty: move the cursor to the start of the next
 * period whose coarse bucket holds entries (they are cascaded next).
 * @return 0, or -1 if there is none (a broken invariant: give up).
 */
static int
lru_jump(struct lru_ring *r)
{
	uint32_t period = r->cur_ms >> LRU_COARSE_SHIFT, j;

	for (j = 1; j < LRU_BUCKETS; j++) {
		if (r->coarse[(period + j) & LRU_MASK].head != KAPA_NIL) {
			r->cur_ms = (period + j) << LRU_COARSE_SHIFT;
			return 0;
		}
	}
	return -1;
}

/*
 * The entry of @p list with the oldest last-seen second, or KAPA_NIL when
 * the list is empty. It stays in the list. Walks from the cursor:
 *  - when the cursor is in a period whose coarse bucket holds entries, they
 *    are re-filed first (into fine buckets, now within the horizon);
 *  - an entry active after the second of the fine bucket it sits in is
 *    re-filed under its current second (touch() never moves entries: this is
 *    where they move, once per look that reaches them);
 *  - the first entry that is not is the answer.
 * Every entry sits in a bucket that starts no later than its last activity,
 * and every bucket before the cursor is empty, so nothing in the list was
 * active in an earlier second. After LRU_REFILE_MAX re-filings the entry in
 * hand is the answer (counted): one look does bounded work.
 */
static uint32_t
lru_oldest(struct kapa_flow_table *t, uint32_t list)
{
	struct lru_ring *r = &t->lru[list];
	uint32_t idx, next, refiled = 0, steps = 0;
	struct kapa_conn *c;

	if (r->count == 0)
		return KAPA_NIL;
	for (;;) {
		idx = r->coarse[(r->cur_ms >> LRU_COARSE_SHIFT) & LRU_MASK].head;
		if (idx == KAPA_NIL) {
			if (r->nfine == 0) {
				if (lru_jump(r) != 0)
					break;
				continue;
			}
			idx = r->fine[(r->cur_ms >> LRU_SEC_SHIFT) & LRU_MASK].head;
			if (idx == KAPA_NIL) {
				/* A fine entry lies within one horizon of the
				 * cursor (a re-filing restarts the count); the
				 * guard only stops a broken ring. */
				if (unlikely(++steps > LRU_BUCKETS))
					break;
				r->cur_ms += LRU_SEC_MS;
				continue;
			}
			/* Signed: a last_seen behind the cursor (the clock
			 * went back) is the oldest there is. */
			if ((int32_t)(t->conns[idx].last_seen - r->cur_ms) <
			    (int32_t)LRU_SEC_MS)
				break;
		}
		if (refiled == LRU_REFILE_MAX) {
			t->stats.lru_walk_capped++;
			break;
		}
		c = &t->conns[idx];
		next = c->lru_next;
		/* The next entry of this bucket is the next one looked at. */
		if (next != KAPA_NIL)
			rte_prefetch0(&t->conns[next]);
		lru_unlink(t, list, idx);
		lru_file(t, list, idx, c->last_seen);
		refiled++;
		steps = 0;
	}
	t->stats.lru_refiled += refiled;
	return idx;
}

/* ---- keys and positions -------------------------------------------------- */

static inline const struct kapa_flow_key *
key_at(const struct kapa_flow_table *t, uint32_t idx)
{
	void *k;

	if (likely(t->key_base != NULL))
		return (const struct kapa_flow_key *)(t->key_base + idx * t->key_stride);
	if (rte_hash_get_key_with_position(t->h, (int32_t)idx, &k) != 0)
		return NULL;
	return k;
}

const struct kapa_flow_key *
kapa_flow_key(struct kapa_flow_table *t, uint32_t idx)
{
	if (idx >= t->capacity)
		return NULL;
	return key_at(t, idx);
}

/* Defer-queue callback: the grace period of a released position is over. */
static void
dq_free_position(void *p, void *e, unsigned int n)
{
	struct kapa_flow_table *t = p;
	const uint32_t *pos = e;
	unsigned int i;

	for (i = 0; i < n; i++) {
		rte_hash_free_key_with_position(t->h, (int32_t)pos[i]);
		t->dq_pending--;
	}
}

/*
 * rte_hash keeps key slots in one array indexed by position + 1. Find its
 * base and stride with two probe keys, so that kapa_flow_key() is a plain
 * address computation instead of a lookup; if the layout is not what we
 * expect, key_base stays NULL and we ask rte_hash each time.
 */
static void
probe_key_store(struct kapa_flow_table *t)
{
	struct kapa_flow_key k1, k2;
	void *p1, *p2;
	int32_t i1, i2;
	ptrdiff_t d;

	memset(&k1, 0xa5, sizeof(k1));
	memset(&k2, 0x5a, sizeof(k2));
	i1 = rte_hash_add_key(t->h, &k1);
	i2 = rte_hash_add_key(t->h, &k2);
	if (i1 >= 0 && i2 >= 0 && i1 != i2 &&
	    rte_hash_get_key_with_position(t->h, i1, &p1) == 0 &&
	    rte_hash_get_key_with_position(t->h, i2, &p2) == 0 &&
	    memcmp(p1, &k1, sizeof(k1)) == 0 && memcmp(p2, &k2, sizeof(k2)) == 0) {
		d = ((const uint8_t *)p2 - (const uint8_t *)p1) / (i2 - i1);
		if (d >= (ptrdiff_t)sizeof(k1) &&
		    (const uint8_t *)p1 + d * (i2 - i1) == (const uint8_t *)p2) {
			t->key_stride = (size_t)d;
			t->key_base = (const uint8_t *)p1 - (ptrdiff_t)i1 * d;
		}
	}
	if (i1 >= 0) {
		rte_hash_del_key(t->h, &k1);
		rte_hash_free_key_with_position(t->h, i1);
	}
	if (i2 >= 0) {
		rte_hash_del_key(t->h, &k2);
		rte_hash_free_key_with_position(t->h, i2);
	}
}

/* ---- create / destroy ---------------------------------------------------- */

/* The arrays are mapped for max_capacity: a growing table never moves them. */
static size_t
conns_bytes(const struct kapa_flow_table *t)
{
	return (size_t)t->mapped * sizeof(struct kapa_conn);
}

static size_t
app_bytes(const struct kapa_flow_table *t)
{
	return (size_t)t->mapped * t->app_stride;
}

static void *
array_alloc(const struct kapa_flow_table *t, size_t size)
{
	/* A fixed table is all used sooner or later: hugetlb pages if any.
	 * A growing one is address space, written as it grows. */
	return t->max_capacity > t->capacity ? kapa_mem_reserve(size) : kapa_mem_alloc(size);
}

static inline uint64_t
key_word(const void *key, unsigned int i)
{
	uint64_t w;

	memcpy(&w, (const uint8_t *)key + 8 * i, sizeof(w));
	return w;
}

/*
 * Key equality for rte_hash. DPDK 22.11 compares keys of 16, 32, 48... bytes
 * with SSE and any other length with memcmp(); ours is 40 bytes, and
 * memcmp()'s length dispatch showed in kapa-inspect's profile. Five 8-byte
 * words, no branch. @return 0 when equal, as memcmp().
 */
static int
key_cmp(const void *key1, const void *key2, size_t len)
{
	RTE_BUILD_BUG_ON(sizeof(struct kapa_flow_key) != 40);
	RTE_SET_USED(len);
	return ((key_word(key1, 0) ^ key_word(key2, 0)) |
		(key_word(key1, 1) ^ key_word(key2, 1)) |
		(key_word(key1, 2) ^ key_word(key2, 2)) |
		(key_word(key1, 3) ^ key_word(key2, 3)) |
		(key_word(key1, 4) ^ key_word(key2, 4))) != 0;
}

/*
 * A growing table's hash lives in a heap segment of its own, mapped at the
 * hash's size each time the hash is built and unmapped with it (kapa_mem.h),
 * and in a heap of its own (KAPA_FLOW_GROW_HEAP_PREFIX and the hash's name):
 * in a shared heap, the next hash could take memory from the last one's
 * segment, which could then not be removed. In EAL's memory instead, the
 * largest hash the table may grow to would have to be there from the start,
 * and paid for at every start of kapa-inspect (docs/performance.md). A fixed
 * table's hash is in EAL's heap.
 */
/* Beyond kapa_flow_hash_bytes(): the rte_hash itself, malloc's element
 * headers and alignment, the rings' headers. */
#define GROW_HEAP_SLACK (256u * 1024)

/* The rte_hash of @p entries under the table's name of generation @p gen
 * (two alternate, so that the next one exists while the last is copied);
 * for a growing table, in the segment it maps into @p seg. */
static struct rte_hash *
hash_create(struct kapa_flow_table *t, uint32_t entries, uint32_t gen, struct kapa_mem_seg *seg)
{
	struct rte_hash_parameters hp = {0};
	char name[NAME_MAX_LEN + 2];
	struct rte_hash *h;
	int rc;

	snprintf(name, sizeof(name), "%s%s", t->name, (gen & 1) ? "+" : "");
	hp.name = name;
	hp.entries = entries;
	hp.key_len = sizeof(struct kapa_flow_key);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = t->socket_id;
	/* LF readers; ext table so that an insert never fails on a crowded
	 * bucket pair before the table is really full. */
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	if (t->grows) {
		char heap[KAPA_MEM_HEAP_NAME_MAX];

		snprintf(heap, sizeof(heap), KAPA_FLOW_GROW_HEAP_PREFIX "%s", name);
		rc = kapa_mem_seg_add(seg, heap, kapa_flow_hash_bytes(entries) + GROW_HEAP_SLACK);
		if (rc != 0) {
			rte_errno = -rc;
			return NULL;
		}
		hp.socket_id = seg->socket_id;
	}
	h = rte_hash_create(&hp);
	if (h != NULL)
		rte_hash_set_cmp_func(h, key_cmp);
	if (h == NULL && t->grows) {
		rc = rte_errno;
		(void)kapa_mem_seg_remove(seg);
		rte_errno = rc;
	}
	return h;
}

/* rte_hash_free(), and a growing table's segment @p seg with it. */
static void
hash_destroy(struct kapa_flow_table *t, struct rte_hash *h, struct kapa_mem_seg *seg)
{
	rte_hash_free(h);
	if (t->grows && h != NULL && kapa_mem_seg_remove(seg) != 0)
		RTE_LOG(WARNING, USER1, "kapa_flow: %s: hash segment still in use, left mapped\n",
			t->name);
}

struct kapa_flow_table *
kapa_flow_create(const struct kapa_flow_conf *conf)
{
	struct rte_rcu_qsbr_dq_parameters dp = {0};
	char dq_name[RTE_RCU_QSBR_DQ_NAMESIZE];
	struct kapa_flow_table *t = NULL;
	uint32_t i, tick, slots;
	int err = EINVAL;

	if (conf == NULL || conf->name == NULL || conf->name[0] == '\0' ||
	    strlen(conf->name) > NAME_MAX_LEN ||
	    conf->capacity < HASH_BUCKET_ENTRIES ||
	    conf->capacity > RTE_HASH_ENTRIES_MAX || conf->app_size > 1024 ||
	    conf->max_capacity > RTE_HASH_ENTRIES_MAX ||
	    (conf->max_capacity > conf->capacity &&
	     (conf->qsbr != NULL || strlen(conf->name) >= NAME_MAX_LEN)))
		goto fail;
	err = ENOMEM;
	t = rte_zmalloc_socket("kapa_flow", sizeof(*t), RTE_CACHE_LINE_SIZE,
			       conf->socket_id);
	if (t == NULL)
		goto fail;
	t->capacity = conf->capacity;
	t->max_capacity = conf->max_capacity > conf->capacity ? conf->max_capacity :
			  conf->capacity;
	t->mapped = t->max_capacity;
	snprintf(t->name, sizeof(t->name), "%s", conf->name);
	t->embryonic_max = conf->embryonic_max != 0 ? conf->embryonic_max :
			   t->max_capacity / 8;
	if (t->embryonic_max == 0)
		t->embryonic_max = 1;
	if (t->embryonic_max > t->max_capacity)
		t->embryonic_max = t->max_capacity;
	t->evict_min_idle_ms = conf->evict_min_idle_ms;
	t->on_release = conf->on_release;
	t->on_expire = conf->on_expire;
	t->cb_arg = conf->cb_arg;
	t->lru = rte_malloc_socket("kapa_flow_lru", 2 * sizeof(struct lru_ring),
				   RTE_CACHE_LINE_SIZE, conf->socket_id);
	if (t->lru == NULL)
		goto fail;
	for (i = 0; i < 2; i++) {
		t->lru[i].cur_ms = 0;
		t->lru[i].count = 0;
		t->lru[i].nfine = 0;
		/* KAPA_NIL is all ones: every head and tail empty */
		memset(t->lru[i].fine, 0xff, sizeof(t->lru[i].fine));
		memset(t->lru[i].coarse, 0xff, sizeof(t->lru[i].coarse));
	}

	/* The two big arrays come zeroed from kapa_mem (not rte_malloc, whose
	 * free would write every page of them: kapa_mem.h). */
	t->conns = array_alloc(t, conns_bytes(t));
	if (t->conns == NULL)
		goto fail;
	t->app_stride = RTE_ALIGN(conf->app_size, 16);
	if (t->app_stride != 0) {
		t->app = array_alloc(t, app_bytes(t));
		if (t->app == NULL)
			goto fail;
	}

	t->socket_id = conf->socket_id;
	t->grows = t->max_capacity > t->capacity;
	t->h = hash_create(t, t->capacity, 0, &t->hash_seg);
	if (t->h == NULL) {
		err = rte_errno != 0 ? rte_errno : ENOMEM;
		goto fail;
	}
	probe_key_store(t);

	tick = conf->tick_ms != 0 ? conf->tick_ms : 128;
	slots = conf->wheel_slots != 0 ? conf->wheel_slots : 4096;
	/* last_seen sits before the node, so the node offset is its own. */
	t->wheel = kapa_timer_create(t->conns, sizeof(struct kapa_conn),
				     offsetof(struct kapa_conn, tmr), t->capacity,
				     tick, slots, 0);
	if (t->wheel == NULL) {
		err = errno != 0 ? errno : EINVAL;
		goto fail;
	}
	t->wheel_slots = slots;
	for (i = 0; i < t->capacity; i++) {
		t->conns[i].lru_prev = LRU_FREE;
		kapa_timer_init_node(t->wheel, i);
	}

	if (conf->qsbr != NULL) {
		snprintf(dq_name, sizeof(dq_name), "KDQ_%s", conf->name);
		dp.name = dq_name;
		/* Only the owner enqueues and reclaims. */
		dp.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE;
		/* Never full: at most capacity positions can wait. */
		dp.size = t->capacity;
		dp.esize = sizeof(uint32_t);
		dp.trigger_reclaim_limit = 32;
		dp.max_reclaim_size = 32;
		dp.free_fn = dq_free_position;
		dp.p = t;
		dp.v = conf->qsbr;
		t->dq = rte_rcu_qsbr_dq_create(&dp);
		if (t->dq == NULL) {
			err = rte_errno != 0 ? rte_errno : ENOMEM;
			goto fail;
		}
	}
	return t;

fail:
	if (t != NULL) {
		kapa_timer_free(t->wheel);
		hash_destroy(t, t->h, &t->hash_seg);
		kapa_mem_free(t->app, app_bytes(t));
		kapa_mem_free(t->conns, conns_bytes(t));
		rte_free(t->lru);
		rte_free(t);
	}
	rte_errno = err;
	return NULL;
}

void
kapa_flow_destroy(struct kapa_flow_table *t)
{
	uint32_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->capacity && t->count != 0; i++)
		kapa_flow_release(t, i, KAPA_REL_EXPLICIT);
	/* The caller has stopped its readers: anything still deferred goes. */
	if (t->dq != NULL && rte_rcu_qsbr_dq_delete(t->dq) != 0)
		RTE_LOG(WARNING, USER1, "kapa_flow: %u positions still deferred at destroy\n",
			t->dq_pending);
	kapa_timer_free(t->wheel);
	hash_destroy(t, t->h, &t->hash_seg);
	kapa_mem_free(t->app, app_bytes(t));
	kapa_mem_free(t->conns, conns_bytes(t));
	rte_free(t->lru);
	rte_free(t);
}

/* ---- lookup -------------------------------------------------------------- */

int
kapa_flow_lookup(struct kapa_flow_table *t, const struct kapa_flow_key *key)
{
	int32_t pos = rte_hash_lookup(t->h, key);

	t->stats.lookups++;
	if (pos < 0)
		return -ENOENT;
	t->stats.hits++;
	return pos;
}

void
kapa_flow_lookup_bulk(struct kapa_flow_table *t,
		      const struct kapa_flow_key **keys, uint32_t n,
		      int32_t *idx)
{
	uint32_t i, hits = 0;

	if (n == 0)
		return;
	if (n > RTE_HASH_LOOKUP_BULK_MAX)
		n = RTE_HASH_LOOKUP_BULK_MAX;
	rte_hash_lookup_bulk(t->h, (const void **)keys, n, idx);
	for (i = 0; i < n; i++) {
		if (idx[i] >= 0) {
			const struct kapa_conn *c = &t->conns[idx[i]];

			rte_prefetch0(c);
			rte_prefetch0((const uint8_t *)c + RTE_CACHE_LINE_SIZE);
			/* the consumer's state: the tracker's first line */
			if (t->app_stride != 0)
				rte_prefetch0(t->app + (size_t)idx[i] * t->app_stride);
			hits++;
		} else {
			idx[i] = -ENOENT;
		}
	}
	t->stats.lookups += n;
	t->stats.hits += hits;
}

/* ---- insert / release ---------------------------------------------------- */

void
kapa_flow_release(struct kapa_flow_table *t, uint32_t idx,
		  enum kapa_flow_release why)
{
	struct kapa_conn *c;
	const struct kapa_flow_key *key;

	if (idx >= t->capacity)
		return;
	c = &t->conns[idx];
	if (c->lru_prev == LRU_FREE)
		return;
	if (t->on_release != NULL)
		t->on_release(idx, why, t->cb_arg);
	kapa_timer_cancel(t->wheel, idx);
	lru_unlink(t, conn_list(c), idx);
	key = key_at(t, idx);
	if (key != NULL)
		rte_hash_del_key(t->h, key);

	kapa_flow_write_begin(c);
	c->state = KAPA_CONN_FREE;
	c->flags = 0;
	c->lru_prev = LRU_FREE;
	c->lru_next = KAPA_NIL;
	kapa_flow_write_end(c);

	t->count--;
	t->stats.released[why < KAPA_REL_MAX ? why : KAPA_REL_EXPLICIT]++;
	t->changes++;
	if (t->dq == NULL) {
		rte_hash_free_key_with_position(t->h, (int32_t)idx);
	} else {
		t->dq_pending++;
		/* Cannot fail: the queue holds capacity entries. */
		rte_rcu_qsbr_dq_enqueue(t->dq, &idx);
	}
}

/* The entry a full table gives up: the older of the two lists' oldest
 * entries, unless it is more recently active than evict_min_idle_ms. */
static uint32_t
lru_victim(struct kapa_flow_table *t, uint32_t now_ms)
{
	uint32_t e = lru_oldest(t, LIST_EST), m = lru_oldest(t, LIST_EMB), v;

	if (e == KAPA_NIL)
		v = m;
	else if (m == KAPA_NIL)
		v = e;
	else
		v = (int32_t)(t->conns[m].last_seen - t->conns[e].last_seen) < 0 ? m : e;
	if (v != KAPA_NIL && t->evict_min_idle_ms != 0 &&
	    (int32_t)(now_ms - t->conns[v].last_seen) < (int32_t)t->evict_min_idle_ms)
		return KAPA_NIL;
	return v;
}

/*
 * A full growing table doubles (up to max_capacity). The records and slots
 * are already mapped; the idle wheel takes the new nodes; the rte_hash is
 * rebuilt larger. The index of an entry is its hash position, and a full
 * table has every position 0..capacity-1 in use, so adding the keys in
 * index order to a fresh hash gives each entry its own index back (a fresh
 * hash hands out positions in order: its free ring starts as 1..entries):
 * nothing that holds an index (wheel, LRU, consumer) changes. That is
 * checked key by key.
 *
 * The new hash is built beside the old one, from its key store, and the old
 * one is freed (its segment unmapped) after. On any surprise, or no memory,
 * the new one goes and the old one stays: the table stops growing, and the
 * insert evicts as a fixed table does (grow_failed). Both exist together
 * only while the table is at half its new size, so the moment costs less
 * than the table will at its new size, full.
 */
static void
flow_grow(struct kapa_flow_table *t)
{
	struct kapa_mem_seg seg = {0};
	const struct kapa_flow_key *k;
	struct rte_hash *h;
	uint32_t cap, i;
	int32_t pos;

	cap = t->capacity <= t->max_capacity / 2 ? t->capacity * 2 : t->max_capacity;
	if (t->count != t->capacity || t->dq != NULL || kapa_timer_grow(t->wheel, cap) != 0)
		goto fail;
	h = hash_create(t, cap, t->hash_gen + 1, &seg);
	if (h == NULL)
		goto fail;
	for (i = 0; i < t->capacity; i++) {
		k = key_at(t, i);
		pos = k != NULL ? rte_hash_add_key(h, k) : -EINVAL;
		if (pos != (int32_t)i) {
			RTE_LOG(WARNING, USER1, "kapa_flow: %s: rebuilt hash put entry %u at %d\n",
				t->name, i, pos);
			hash_destroy(t, h, &seg);
			goto fail;
		}
	}
	hash_destroy(t, t->h, &t->hash_seg);
	t->h = h;
	t->hash_seg = seg;
	t->hash_gen++;
	t->key_base = NULL;
	probe_key_store(t);
	for (i = t->capacity; i < cap; i++) {
		t->conns[i].lru_prev = LRU_FREE;
		kapa_timer_init_node(t->wheel, i);
	}
	t->capacity = cap;
	t->stats.grown++;
	return;
fail:
	t->stats.grow_failed++;
	t->max_capacity = t->capacity;
}

int
kapa_flow_insert(struct kapa_flow_table *t, const struct kapa_flow_key *key,
		 uint32_t now_ms, int embryonic)
{
	struct kapa_conn *c;
	uint32_t victim, gen;
	int32_t pos;

	if (unlikely(t->count >= t->capacity ||
		     (embryonic && t->lru[LIST_EMB].count >= t->embryonic_max)) &&
	    rte_hash_lookup(t->h, key) >= 0)
		return -EEXIST;	/* never evict for a key that is already in */
	if (embryonic && t->lru[LIST_EMB].count >= t->embryonic_max)
		kapa_flow_release(t, lru_oldest(t, LIST_EMB), KAPA_REL_EVICT_EMBRYONIC);
	if (unlikely(t->count >= t->capacity && t->capacity < t->max_capacity))
		flow_grow(t);
	if (t->count >= t->capacity) {
		victim = lru_victim(t, now_ms);
		if (victim == KAPA_NIL) {
			t->stats.refused++;
			return -ENOSPC;
		}
		kapa_flow_release(t, victim, KAPA_REL_EVICT_LRU);
	}
	/* The wheel's clock follows the table's while nothing is armed. */
	if (unlikely(kapa_timer_count(t->wheel) == 0))
		kapa_timer_set_now(t->wheel, now_ms);
	pos = rte_hash_add_key(t->h, key);
	if (pos == -ENOSPC && t->dq != NULL) {
		/* Every free position may still wait for the readers. */
		rte_rcu_qsbr_dq_reclaim(t->dq, 32, NULL, NULL, NULL);
		pos = rte_hash_add_key(t->h, key);
	}
	if (pos < 0) {
		t->stats.refused++;
		return -ENOSPC;
	}
	c = &t->conns[pos];
	if (c->lru_prev != LRU_FREE)
		return -EEXIST;	/* rte_hash gave back the live entry's position */

	kapa_flow_write_begin(c);
	gen = c->gen + 1;
	memset((uint8_t *)c + offsetof(struct kapa_conn, gen), 0,
	       sizeof(*c) - offsetof(struct kapa_conn, gen));
	c->gen = gen;
	c->last_seen = now_ms;
	c->flags = embryonic ? KAPA_CONN_EMBRYONIC : 0;
	kapa_timer_init_node(t->wheel, (uint32_t)pos);
	lru_file(t, embryonic ? LIST_EMB : LIST_EST, (uint32_t)pos, now_ms);
	kapa_flow_write_end(c);
	if (t->app_stride != 0)
		memset(t->app + (size_t)pos * t->app_stride, 0, t->app_stride);
	t->count++;
	t->stats.inserted++;
	t->changes++;
	return pos;
}

/* ---- per-packet and per-event updates ------------------------------------ */

/*
 * Only last_seen: the LRU wheel re-files an entry lazily when a look for
 * the oldest entry finds it active after its bucket's second, so nothing
 * else of the record, and no other record, is written per packet. A stale
 * index writes a free record's last_seen, which insert overwrites.
 */
void
kapa_flow_touch(struct kapa_flow_table *t, uint32_t idx, uint32_t now_ms)
{
	__atomic_store_n(&t->conns[idx].last_seen, now_ms, __ATOMIC_RELAXED);
}

void
kapa_flow_set_established(struct kapa_flow_table *t, uint32_t idx)
{
	struct kapa_conn *c = &t->conns[idx];

	if (!(c->flags & KAPA_CONN_EMBRYONIC))
		return;
	lru_unlink(t, LIST_EMB, idx);
	__atomic_store_n(&c->flags, (uint16_t)(c->flags & ~KAPA_CONN_EMBRYONIC),
			 __ATOMIC_RELAXED);
	lru_file(t, LIST_EST, idx, c->last_seen);
}

static inline uint32_t
nonzero_deadline(uint32_t d)
{
	/* 0 tells the wheel "disarm"; a deadline of 0 ms fires 1 ms later. */
	return d != 0 ? d : 1;
}

void
kapa_flow_set_idle(struct kapa_flow_table *t, uint32_t idx, uint32_t limit_ms)
{
	struct kapa_conn *c = &t->conns[idx];

	__atomic_store_n(&c->idle_limit, limit_ms, __ATOMIC_RELAXED);
	if (limit_ms == 0)
		kapa_timer_cancel(t->wheel, idx);
	else
		kapa_timer_arm(t->wheel, idx, nonzero_deadline(c->last_seen + limit_ms));
}

/* Wheel callback: the deadline armed earlier has passed; check lazily. */
static uint32_t
flow_timer_fire(uint32_t idx, uint32_t now_ms, void *arg)
{
	struct kapa_flow_table *t = arg;
	struct kapa_conn *c = &t->conns[idx];
	uint32_t due, limit;

	if (c->idle_limit == 0 || c->lru_prev == LRU_FREE)
		return 0;
	due = c->last_seen + c->idle_limit;
	if ((int32_t)(due - now_ms) > 0)
		return nonzero_deadline(due);	/* touched since: re-arm */
	limit = t->on_expire != NULL ? t->on_expire(idx, now_ms, t->cb_arg) : 0;
	if (c->lru_prev == LRU_FREE)
		return 0;	/* the callback released it itself */
	if (limit != 0) {
		__atomic_store_n(&c->idle_limit, limit, __ATOMIC_RELAXED);
		return nonzero_deadline(now_ms + limit);
	}
	kapa_flow_release(t, idx, KAPA_REL_IDLE);
	return 0;
}

/*
 * Wheel prefetch hook, one callback ahead: when the entry looks due (not
 * touched since it was armed), its release will unlink it from its LRU
 * bucket and delete its key, so start its LRU neighbours and key slot now.
 * The rte_hash bucket cannot be prefetched: its address is private to
 * rte_hash (it depends on the key's hash and the table's bucket array).
 */
static void
flow_timer_prefetch(uint32_t idx, uint32_t now_ms, void *arg)
{
	struct kapa_flow_table *t = arg;
	const struct kapa_conn *c = &t->conns[idx];

	if (c->idle_limit == 0 ||
	    (int32_t)(c->last_seen + c->idle_limit - now_ms) > 0)
		return;
	if (c->lru_prev < t->capacity)
		rte_prefetch0(&t->conns[c->lru_prev]);
	if (c->lru_next < t->capacity)
		rte_prefetch0(&t->conns[c->lru_next]);
	if (t->key_base != NULL)
		rte_prefetch0(t->key_base + idx * t->key_stride);
}

uint32_t
kapa_flow_expire(struct kapa_flow_table *t, uint32_t now_ms, uint32_t max)
{
	return kapa_timer_advance_pf(t->wheel, now_ms, max, flow_timer_fire,
				     flow_timer_prefetch, t);
}

int
kapa_flow_next_deadline(const struct kapa_flow_table *t, uint32_t limit_ms,
			uint32_t *at_ms)
{
	return kapa_timer_next(t->wheel, limit_ms, at_ms);
}

void
kapa_flow_reclaim(struct kapa_flow_table *t)
{
	if (t->dq != NULL && t->dq_pending != 0)
		rte_rcu_qsbr_dq_reclaim(t->dq, t->dq_pending, NULL, NULL, NULL);
}

/* ---- accessors ----------------------------------------------------------- */

struct kapa_conn *
kapa_flow_conn(struct kapa_flow_table *t, uint32_t idx)
{
	return &t->conns[idx];
}

const uint64_t *
kapa_flow_changes(const struct kapa_flow_table *t)
{
	return &t->changes;
}

void
kapa_flow_layout(const struct kapa_flow_table *t, struct kapa_conn **conns, uint8_t **app,
		 uint32_t *app_stride)
{
	*conns = t->conns;
	*app = t->app;
	*app_stride = t->app_stride;
}

void *
kapa_flow_app(struct kapa_flow_table *t, uint32_t idx)
{
	if (t->app_stride == 0)
		return NULL;
	return t->app + (size_t)idx * t->app_stride;
}

uint32_t
kapa_flow_count(const struct kapa_flow_table *t)
{
	return t->count;
}

uint32_t
kapa_flow_embryonic(const struct kapa_flow_table *t)
{
	return t->lru[LIST_EMB].count;
}

uint32_t
kapa_flow_capacity(const struct kapa_flow_table *t)
{
	return t->capacity;
}

uint32_t
kapa_flow_max_capacity(const struct kapa_flow_table *t)
{
	return t->max_capacity;
}

const struct kapa_flow_stats *
kapa_flow_stats(const struct kapa_flow_table *t)
{
	return &t->stats;
}

/*
 * Fixed bytes per entry. The rte_hash part follows rte_hash_create() in
 * DPDK 22.11 (lib/hash/rte_cuckoo_hash.c) for our flags, with n = capacity:
 *   buckets          align32pow2(n) / 8 buckets of 64 bytes
 *   ext buckets      the same number again (EXT_TABLE)
 *   key store        (n + 1) slots of HASH_KEY_SLOT_BYTES (8 + 40 -> 48)
 *   free-slot ring   align32pow2(n + 1) x 4 bytes
 *   free-ext ring    align32pow2(buckets + 1) x 4 bytes
 *   ext_bkt_to_free  (n + 1) x 4 bytes (LF + EXT_TABLE)
 * and, with readers, our defer queue: align32pow2(n + 1) elements of
 * 8 (QSBR token) + 4 bytes. The idle wheel (slot heads and its block pool
 * of about n / 10 cache lines) is what kapa_timer_bytes() says. Ring headers
 * are per table, amortised over n.
 */
uint64_t
kapa_flow_hash_bytes(uint32_t entries)
{
	uint64_t n = entries;
	uint64_t nb = rte_align32pow2(entries) / HASH_BUCKET_ENTRIES;
	uint64_t total;

	total = 2 * nb * HASH_BUCKET_BYTES;
	total += (n + 1) * HASH_KEY_SLOT_BYTES;
	total += (uint64_t)rte_align32pow2(entries + 1) * 4;
	total += (uint64_t)rte_align32pow2((uint32_t)nb + 1) * 4;
	total += (n + 1) * 4;
	return total;
}

uint64_t
kapa_flow_bytes_per_entry(const struct kapa_flow_table *t)
{
	uint64_t n = t->capacity;
	uint64_t total;

	total = n * (sizeof(struct kapa_conn) + t->app_stride);
	total += kapa_flow_hash_bytes(t->capacity);
	if (t->dq != NULL)
		total += (uint64_t)rte_align32pow2((uint32_t)n + 1) *
			 (__RTE_QSBR_TOKEN_SIZE + sizeof(uint32_t));
	total += kapa_timer_bytes(t->capacity, t->wheel_slots);
	total += 2 * sizeof(struct lru_ring);
	return (total + n - 1) / n;
}
