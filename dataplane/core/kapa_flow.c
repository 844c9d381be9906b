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
#include <string.h>

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

/* lru_prev of a free record (never a valid index or KAPA_NIL). */
#define LRU_FREE (KAPA_NIL - 1)

#define LIST_EST 0	/* established (and everything not half-open) */
#define LIST_EMB 1	/* half-open */

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

struct lru_list {
	uint32_t head;		/* oldest */
	uint32_t tail;		/* newest */
	uint32_t count;
};

struct kapa_flow_table {
	struct kapa_conn *conns;	/* [capacity], cache aligned */
	uint8_t *app;			/* [capacity * app_stride] */
	uint32_t app_stride;
	uint32_t capacity;
	uint32_t embryonic_max;
	uint32_t evict_min_idle_ms;
	uint32_t count;
	struct lru_list lru[2];		/* [LIST_EST], [LIST_EMB] */
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

int
kapa_flow_key_make(struct kapa_flow_key *key, uint8_t family,
		   const uint8_t *src, uint16_t sport,
		   const uint8_t *dst, uint16_t dport)
{
	size_t alen = family == 4 ? 4 : 16;
	int c, side;

	memset(key, 0, sizeof(*key));
	c = memcmp(src, dst, alen);
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

/* ---- LRU lists ----------------------------------------------------------- */

static inline void
lru_append(struct kapa_flow_table *t, uint32_t list, uint32_t idx)
{
	struct lru_list *l = &t->lru[list];
	struct kapa_conn *c = &t->conns[idx];

	c->lru_prev = l->tail;
	c->lru_next = KAPA_NIL;
	if (l->tail != KAPA_NIL)
		t->conns[l->tail].lru_next = idx;
	else
		l->head = idx;
	l->tail = idx;
	l->count++;
}

static inline void
lru_unlink(struct kapa_flow_table *t, uint32_t list, uint32_t idx)
{
	struct lru_list *l = &t->lru[list];
	struct kapa_conn *c = &t->conns[idx];

	if (c->lru_prev != KAPA_NIL)
		t->conns[c->lru_prev].lru_next = c->lru_next;
	else
		l->head = c->lru_next;
	if (c->lru_next != KAPA_NIL)
		t->conns[c->lru_next].lru_prev = c->lru_prev;
	else
		l->tail = c->lru_prev;
	l->count--;
}

static inline uint32_t
conn_list(const struct kapa_conn *c)
{
	return (c->flags & KAPA_CONN_EMBRYONIC) ? LIST_EMB : LIST_EST;
}

static inline uint16_t
lru_stamp_of(uint32_t now_ms)
{
	return (uint16_t)((now_ms >> 10) & 0xffff);
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

struct kapa_flow_table *
kapa_flow_create(const struct kapa_flow_conf *conf)
{
	struct rte_hash_parameters hp = {0};
	struct rte_rcu_qsbr_dq_parameters dp = {0};
	char dq_name[RTE_RCU_QSBR_DQ_NAMESIZE];
	struct kapa_flow_table *t = NULL;
	uint32_t i, tick, slots;
	int err = EINVAL;

	if (conf == NULL || conf->name == NULL || conf->name[0] == '\0' ||
	    strlen(conf->name) > NAME_MAX_LEN ||
	    conf->capacity < HASH_BUCKET_ENTRIES ||
	    conf->capacity > RTE_HASH_ENTRIES_MAX || conf->app_size > 1024)
		goto fail;
	err = ENOMEM;
	t = rte_zmalloc_socket("kapa_flow", sizeof(*t), RTE_CACHE_LINE_SIZE,
			       conf->socket_id);
	if (t == NULL)
		goto fail;
	t->capacity = conf->capacity;
	t->embryonic_max = conf->embryonic_max != 0 ? conf->embryonic_max :
			   conf->capacity / 8;
	if (t->embryonic_max == 0)
		t->embryonic_max = 1;
	if (t->embryonic_max > t->capacity)
		t->embryonic_max = t->capacity;
	t->evict_min_idle_ms = conf->evict_min_idle_ms;
	t->on_release = conf->on_release;
	t->on_expire = conf->on_expire;
	t->cb_arg = conf->cb_arg;
	t->lru[LIST_EST].head = t->lru[LIST_EST].tail = KAPA_NIL;
	t->lru[LIST_EMB].head = t->lru[LIST_EMB].tail = KAPA_NIL;

	t->conns = rte_zmalloc_socket("kapa_conns",
				      (size_t)t->capacity * sizeof(struct kapa_conn),
				      RTE_CACHE_LINE_SIZE, conf->socket_id);
	if (t->conns == NULL)
		goto fail;
	t->app_stride = RTE_ALIGN(conf->app_size, 16);
	if (t->app_stride != 0) {
		t->app = rte_zmalloc_socket("kapa_conn_app",
					    (size_t)t->capacity * t->app_stride,
					    RTE_CACHE_LINE_SIZE, conf->socket_id);
		if (t->app == NULL)
			goto fail;
	}

	hp.name = conf->name;
	hp.entries = t->capacity;
	hp.key_len = sizeof(struct kapa_flow_key);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = conf->socket_id;
	/* LF readers; ext table so that an insert never fails on a crowded
	 * bucket pair before the table is really full. */
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	t->h = rte_hash_create(&hp);
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
		rte_hash_free(t->h);
		rte_free(t->app);
		rte_free(t->conns);
		rte_free(t);
	}
	rte_errno = err;
	return NULL;
}

void
kapa_flow_destroy(struct kapa_flow_table *t)
{
	uint32_t list;

	if (t == NULL)
		return;
	for (list = 0; list < 2; list++)
		while (t->lru[list].head != KAPA_NIL)
			kapa_flow_release(t, t->lru[list].head, KAPA_REL_EXPLICIT);
	/* The caller has stopped its readers: anything still deferred goes. */
	if (t->dq != NULL && rte_rcu_qsbr_dq_delete(t->dq) != 0)
		RTE_LOG(WARNING, USER1, "kapa_flow: %u positions still deferred at destroy\n",
			t->dq_pending);
	kapa_timer_free(t->wheel);
	rte_hash_free(t->h);
	rte_free(t->app);
	rte_free(t->conns);
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
	if (t->dq == NULL) {
		rte_hash_free_key_with_position(t->h, (int32_t)idx);
	} else {
		t->dq_pending++;
		/* Cannot fail: the queue holds capacity entries. */
		rte_rcu_qsbr_dq_enqueue(t->dq, &idx);
	}
}

/* The entry a full table gives up: the older of the two list heads, unless
 * it is more recently active than evict_min_idle_ms. */
static uint32_t
lru_victim(const struct kapa_flow_table *t, uint32_t now_ms)
{
	uint32_t e = t->lru[LIST_EST].head, m = t->lru[LIST_EMB].head, v;

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
		kapa_flow_release(t, t->lru[LIST_EMB].head, KAPA_REL_EVICT_EMBRYONIC);
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
	c->lru_stamp = lru_stamp_of(now_ms);
	c->flags = embryonic ? KAPA_CONN_EMBRYONIC : 0;
	kapa_timer_init_node(t->wheel, (uint32_t)pos);
	lru_append(t, embryonic ? LIST_EMB : LIST_EST, (uint32_t)pos);
	kapa_flow_write_end(c);
	if (t->app_stride != 0)
		memset(t->app + (size_t)pos * t->app_stride, 0, t->app_stride);
	t->count++;
	t->stats.inserted++;
	return pos;
}

/* ---- per-packet and per-event updates ------------------------------------ */

void
kapa_flow_touch(struct kapa_flow_table *t, uint32_t idx, uint32_t now_ms)
{
	struct kapa_conn *c = &t->conns[idx];
	uint16_t stamp = lru_stamp_of(now_ms);
	uint32_t list;

	__atomic_store_n(&c->last_seen, now_ms, __ATOMIC_RELAXED);
	if (likely(stamp == c->lru_stamp))
		return;
	/* At most once a (1024 ms) second: keep the list in idle order. */
	if (unlikely(c->lru_prev == LRU_FREE))
		return;	/* a stale index: never link a free record */
	c->lru_stamp = stamp;
	list = conn_list(c);
	if (t->lru[list].tail == idx)
		return;
	lru_unlink(t, list, idx);
	lru_append(t, list, idx);
}

void
kapa_flow_touch_prepare(struct kapa_flow_table *t, uint32_t idx, uint32_t now_ms)
{
	const struct kapa_conn *c = &t->conns[idx];

	if (likely(lru_stamp_of(now_ms) == c->lru_stamp))
		return;
	if (c->lru_prev != KAPA_NIL)
		rte_prefetch0(&t->conns[c->lru_prev]);
	if (c->lru_next != KAPA_NIL)
		rte_prefetch0(&t->conns[c->lru_next]);
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
	c->lru_stamp = lru_stamp_of(c->last_seen);
	lru_append(t, LIST_EST, idx);
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

uint32_t
kapa_flow_expire(struct kapa_flow_table *t, uint32_t now_ms, uint32_t max)
{
	return kapa_timer_advance(t->wheel, now_ms, max, flow_timer_fire, t);
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
 * 8 (QSBR token) + 4 bytes. Ring headers and the wheel's slot heads are
 * added as they are: they are per table, amortised over n.
 */
uint64_t
kapa_flow_bytes_per_entry(const struct kapa_flow_table *t)
{
	uint64_t n = t->capacity;
	uint64_t nb = rte_align32pow2((uint32_t)n) / HASH_BUCKET_ENTRIES;
	uint64_t total;

	total = n * (sizeof(struct kapa_conn) + t->app_stride);
	total += 2 * nb * HASH_BUCKET_BYTES;
	total += (n + 1) * HASH_KEY_SLOT_BYTES;
	total += (uint64_t)rte_align32pow2((uint32_t)n + 1) * 4;
	total += (uint64_t)rte_align32pow2((uint32_t)nb + 1) * 4;
	total += (n + 1) * 4;
	if (t->dq != NULL)
		total += (uint64_t)rte_align32pow2((uint32_t)n + 1) *
			 (__RTE_QSBR_TOKEN_SIZE + sizeof(uint32_t));
	total += ((uint64_t)t->wheel_slots + 1) * sizeof(uint32_t);
	return (total + n - 1) / n;
}
