/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reassembly of one TCP direction. See kapa_reasm.h for the model and
 * docs/core-tcp.md for the overlap and gap rules.
 *
 * Invariants kept between calls, for a half h:
 *  - held chunks are sorted by offset and never overlap;
 *  - every held chunk starts after h->next_off (a chunk that becomes
 *    contiguous is delivered at once);
 *  - a FIN chunk, if any, is unique and nothing is delivered past it;
 *  - a chunk's since_ms is never later than that of the chunk after it, so
 *    the first chunk's is the age of the oldest hole (see hole_since());
 *  - a chunk's bytes all came with one segment, its src: a later segment
 *    that continues it gets a chunk of its own, so that held bytes are
 *    handed on with the packet reference and time that brought them.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>

#include "kapa_mem.h"
#include "kapa_reasm.h"

_Static_assert(sizeof(struct kapa_reasm_chunk) == 40, "chunk header is 40 bytes");
_Static_assert(KAPA_REASM_CHUNK_DATA <= UINT16_MAX, "chunk length fits its field");
/* Chunks are packed at KAPA_REASM_CHUNK_SIZE strides: each header aligned. */
_Static_assert(KAPA_REASM_CHUNK_SIZE % _Alignof(struct kapa_reasm_chunk) == 0,
	       "chunk headers stay aligned in the pool");
/* One chunk per held Ethernet-sized segment (MSS 1460), so that the
 * per-direction chunk limit (ooo_max_segs) counts segments there. */
_Static_assert(KAPA_REASM_CHUNK_DATA >= 1460, "a 1460-byte segment fits one chunk");

static inline struct kapa_reasm_chunk *
chunk_at(const struct kapa_reasm_pool *pool, uint32_t i)
{
	return (struct kapa_reasm_chunk *)(pool->mem + (size_t)i * KAPA_REASM_CHUNK_SIZE);
}

int
kapa_reasm_pool_init(struct kapa_reasm_pool *pool, uint64_t pool_bytes,
		     int socket_id)
{
	uint64_t n = pool_bytes / KAPA_REASM_CHUNK_SIZE;

	memset(pool, 0, sizeof(*pool));
	pool->free_head = KAPA_NIL;
	if (n >= KAPA_NIL)
		n = KAPA_NIL - 1;
	if (n == 0)
		return 0;	/* every out-of-order segment will gap: allowed */
	/* From kapa_mem, not rte_malloc: a chunk is written before it is
	 * read, so untouched pages of a large pool cost nothing until used,
	 * and rte_free() would write every one of them (kapa_mem.h). Pages
	 * land by first touch, on the owning worker's node. */
	(void)socket_id;
	pool->mem = kapa_mem_alloc(n * KAPA_REASM_CHUNK_SIZE);
	if (pool->mem == NULL)
		return -ENOMEM;
	pool->nchunks = (uint32_t)n;
	return 0;
}

void
kapa_reasm_pool_fini(struct kapa_reasm_pool *pool)
{
	kapa_mem_free(pool->mem, (size_t)pool->nchunks * KAPA_REASM_CHUNK_SIZE);
	memset(pool, 0, sizeof(*pool));
	pool->free_head = KAPA_NIL;
}

static uint32_t
chunk_alloc(struct kapa_reasm_pool *pool)
{
	uint32_t i;

	if (pool->free_head != KAPA_NIL) {
		i = pool->free_head;
		pool->free_head = chunk_at(pool, i)->next;
	} else if (pool->bump < pool->nchunks) {
		i = pool->bump++;
	} else {
		return KAPA_NIL;
	}
	pool->used++;
	chunk_at(pool, i)->flags = 0;
	return i;
}

static void
chunk_free(struct kapa_reasm_pool *pool, uint32_t i)
{
	chunk_at(pool, i)->next = pool->free_head;
	chunk_at(pool, i)->flags = KAPA_CHUNK_FREE;
	pool->free_head = i;
	pool->used--;
}

uint64_t
kapa_reasm_oldest_ref(const struct kapa_reasm_pool *pool)
{
	uint64_t min = UINT64_MAX, ref;
	uint32_t i;

	for (i = 0; i < pool->bump && pool->used != 0; i++) {
		const struct kapa_reasm_chunk *c = chunk_at(pool, i);

		if (c->flags & KAPA_CHUNK_FREE)
			continue;
		ref = (uint64_t)(uintptr_t)c->src.pkt_ref;
		if (ref < min)
			min = ref;
	}
	return min;
}

/* Take the first held chunk off the list; the caller frees it after use, so
 * that a callback that flushes the half cannot free it under our feet. */
static struct kapa_reasm_chunk *
unlink_head(struct kapa_reasm_pool *pool, struct kapa_tcp_half *h, uint32_t i)
{
	struct kapa_reasm_chunk *c = chunk_at(pool, i);

	h->ooo_head = c->next;
	h->ooo_bytes -= c->len;
	h->ooo_segs--;
	pool->bytes -= c->len;
	return c;
}

uint64_t
kapa_reasm_held_end(const struct kapa_reasm_pool *pool, const struct kapa_tcp_half *h)
{
	const struct kapa_reasm_chunk *c;
	uint64_t end = h->next_off;
	uint32_t i;

	for (i = h->ooo_head; i != KAPA_NIL; i = c->next) {
		c = chunk_at(pool, i);
		if (c->off + c->len > end)
			end = c->off + c->len;
	}
	return end;
}

void
kapa_reasm_flush(struct kapa_reasm_pool *pool, struct kapa_tcp_half *h)
{
	uint32_t i;

	while ((i = h->ooo_head) != KAPA_NIL) {
		unlink_head(pool, h, i);
		chunk_free(pool, i);
	}
	h->ooo_bytes = 0;
	h->ooo_segs = 0;
}

/*
 * since_ms of a chunk about to be linked in front of @p next (KAPA_NIL: at
 * the end). The bytes just ahead of a new chunk are missing now, and were
 * already missing when the chunk after it was held (they lie before it and
 * were not held either), so the hole in front of the new chunk is at least
 * as old as the one in front of the next chunk.
 */
static uint32_t
hole_since(const struct kapa_reasm *r, uint32_t next)
{
	uint32_t t;

	if (next == KAPA_NIL)
		return r->now_ms;
	t = chunk_at(r->pool, next)->since_ms;
	return (int32_t)(t - r->now_ms) < 0 ? t : r->now_ms;
}

/* The same stream bytes were seen twice: the held copy wins; count. */
static void
count_overlap(struct kapa_tcp_stats *st, const uint8_t *held,
	      const uint8_t *again, uint32_t n)
{
	uint32_t i, diff = 0;

	st->bytes_overlap += n;
	if (memcmp(held, again, n) == 0)
		return;
	for (i = 0; i < n; i++)
		diff += held[i] != again[i];
	st->bytes_inconsistent += diff;
}

/* @p held: the chunk's src, NULL for bytes of the segment in hand. */
static int
deliver(const struct kapa_reasm *r, struct kapa_tcp_half *h,
	const uint8_t *p, uint32_t len, const struct kapa_reasm_src *held)
{
	uint64_t off = h->next_off;

	if (len == 0)
		return 0;
	h->next_off += len;
	r->st->bytes_delivered += len;
	return r->out->data(r->out->arg, off, p, len, held);
}

static int
emit_fin(const struct kapa_reasm *r, struct kapa_tcp_half *h,
	 const struct kapa_reasm_src *held)
{
	/* Nothing follows a FIN: whatever is held past it is bogus. */
	h->state = KAPA_HALF_CLOSED;
	kapa_reasm_flush(r->pool, h);
	return r->out->fin(r->out->arg, h->next_off, held);
}

static int
skip_to(const struct kapa_reasm *r, struct kapa_tcp_half *h, uint64_t target)
{
	uint64_t off = h->next_off;

	h->next_off = target;
	h->flags |= KAPA_HALF_GAP;
	r->st->gaps++;
	return r->out->gap(r->out->arg, off, target - off);
}

/*
 * Deliver held chunk @p i, which starts at or before next_off (it is unlinked
 * and freed here). @p again / @p again_len: bytes of the segment in hand at
 * the same offset, compared for the inconsistency count.
 */
static int
deliver_chunk(const struct kapa_reasm *r, struct kapa_tcp_half *h, uint32_t i,
	      const uint8_t *again, uint64_t again_len)
{
	struct kapa_reasm_chunk *c = unlink_head(r->pool, h, i);
	uint64_t skip;
	int rc = 0;

	if (c->flags & KAPA_CHUNK_FIN) {
		/* A FIN seen first wins over bytes that came later. */
		if (c->off == h->next_off)
			rc = emit_fin(r, h, &c->src);	/* c is unlinked: flush spares it */
		chunk_free(r->pool, i);
		return rc;
	}
	skip = h->next_off - c->off;	/* 0 unless an invariant broke */
	if (skip < c->len) {
		uint32_t n = c->len - (uint32_t)skip;

		if (again != NULL)
			count_overlap(r->st, c->data + skip, again,
				      (uint32_t)RTE_MIN((uint64_t)n, again_len));
		rc = deliver(r, h, c->data + skip, n, &c->src);
	}
	chunk_free(r->pool, i);
	return rc;
}

static int stop_half(const struct kapa_reasm *r, struct kapa_tcp_half *h, int64_t end);

/* Deliver the held chunks that have become contiguous. */
static int
drain(const struct kapa_reasm *r, struct kapa_tcp_half *h)
{
	uint32_t i;
	int rc;

	while ((i = h->ooo_head) != KAPA_NIL &&
	       chunk_at(r->pool, i)->off <= h->next_off) {
		rc = deliver_chunk(r, h, i, NULL, 0);
		if (rc != 0 || h->state == KAPA_HALF_CLOSED)
			return rc;
	}
	return 0;
}

/*
 * A picked-up direction starts at @p start (an offset at or before its
 * earliest held byte): that becomes offset 0, the held chunks move with it.
 * Delivers nothing; the caller drains.
 */
static void
pickup_decide(const struct kapa_reasm *r, struct kapa_tcp_half *h,
	      uint64_t start, uint64_t *why)
{
	uint64_t first = KAPA_REASM_PICKUP_BACK;
	struct kapa_reasm_chunk *c;
	uint32_t i;

	if (h->ooo_head != KAPA_NIL)
		first = chunk_at(r->pool, h->ooo_head)->off;
	if (first < KAPA_REASM_PICKUP_BACK)
		r->st->pickup_early_bytes += KAPA_REASM_PICKUP_BACK - first;
	(*why)++;
	h->flags &= (uint8_t)~KAPA_HALF_PICKUP;
	h->base_seq += (uint32_t)start;
	for (i = h->ooo_head; i != KAPA_NIL; i = c->next) {
		c = chunk_at(r->pool, i);
		c->off -= start;
	}
}

/* The earliest byte @p h holds, or the first byte seen when it holds none. */
static uint64_t
pickup_first(const struct kapa_reasm *r, const struct kapa_tcp_half *h)
{
	if (h->ooo_head == KAPA_NIL)
		return KAPA_REASM_PICKUP_BACK;
	return chunk_at(r->pool, h->ooo_head)->off;
}

int
kapa_reasm_pickup_start(const struct kapa_reasm *r, struct kapa_tcp_half *h,
			int64_t from, uint64_t *why)
{
	uint64_t first;
	int rc;

	if (!(h->flags & KAPA_HALF_PICKUP))
		return 0;
	first = pickup_first(r, h);
	pickup_decide(r, h, (from >= 0 && (uint64_t)from < first) ? (uint64_t)from : first,
		      why);
	rc = drain(r, h);
	if (rc != 0)
		return stop_half(r, h, (int64_t)h->next_off);
	return 0;
}

void
kapa_reasm_pickup_forget(const struct kapa_reasm *r, struct kapa_tcp_half *h)
{
	if (h->flags & KAPA_HALF_PICKUP)
		pickup_decide(r, h, pickup_first(r, h), &r->st->pickup_start_other);
}

/*
 * Segment [s, e) with s <= next_off < e (or e == next_off with a FIN):
 * deliver [next_off, e) from the packet, except where held chunks (seen
 * first) cover it, then the FIN or what has become contiguous.
 * @p p is the byte at offset s.
 */
static int
deliver_inorder(const struct kapa_reasm *r, struct kapa_tcp_half *h,
		int64_t s, int64_t e, const uint8_t *p, int fin)
{
	struct kapa_reasm_chunk *c;
	uint64_t pos, lim;
	uint32_t i;
	int rc;

	while ((int64_t)h->next_off < e) {
		pos = h->next_off;
		i = h->ooo_head;
		c = i != KAPA_NIL ? chunk_at(r->pool, i) : NULL;
		lim = (c != NULL && (int64_t)c->off < e) ? c->off : (uint64_t)e;
		if (lim > pos) {
			rc = deliver(r, h, p + (pos - s), (uint32_t)(lim - pos), NULL);
			if (rc != 0)
				return rc;
			continue;
		}
		rc = deliver_chunk(r, h, i, p + (pos - s), (uint64_t)e - pos);
		if (rc != 0 || h->state == KAPA_HALF_CLOSED)
			return rc;
	}
	/* A FIN at e counts only if no earlier-seen byte lies past it. */
	if (fin && (int64_t)h->next_off == e)
		return emit_fin(r, h, NULL);
	return drain(r, h);
}

/* Hold a FIN at @p e unless a FIN is already held or held data covers e. */
static enum kapa_reasm_limit
hold_fin(const struct kapa_reasm *r, struct kapa_tcp_half *h, uint64_t e)
{
	uint32_t prev = KAPA_NIL, cur, ni;
	struct kapa_reasm_chunk *c, *nc;

	for (cur = h->ooo_head; cur != KAPA_NIL; cur = c->next) {
		c = chunk_at(r->pool, cur);
		if (c->flags & KAPA_CHUNK_FIN)
			return KAPA_REASM_HELD;	/* the first FIN wins */
		if (c->off < e && c->off + c->len > e)
			return KAPA_REASM_HELD;	/* bytes seen first lie past it */
	}
	for (cur = h->ooo_head; cur != KAPA_NIL; cur = c->next) {
		c = chunk_at(r->pool, cur);
		if (c->off >= e)
			break;
		prev = cur;
	}
	if (h->ooo_segs >= r->lim->max_segs)
		return KAPA_REASM_LIMIT_CONN;
	ni = chunk_alloc(r->pool);
	if (ni == KAPA_NIL)
		return KAPA_REASM_LIMIT_GLOBAL;
	nc = chunk_at(r->pool, ni);
	nc->off = e;
	nc->len = 0;
	nc->flags = KAPA_CHUNK_FIN;
	nc->src = r->seg;
	nc->since_ms = hole_since(r, cur);
	nc->next = cur;
	if (prev == KAPA_NIL)
		h->ooo_head = ni;
	else
		chunk_at(r->pool, prev)->next = ni;
	h->ooo_segs++;
	return KAPA_REASM_HELD;
}

/*
 * Hold [s, e) (s > next_off), trimmed against what is held. Stops at the
 * first limit; *stop is then the first offset not held.
 */
static enum kapa_reasm_limit
hold(const struct kapa_reasm *r, struct kapa_tcp_half *h, uint64_t s,
     uint64_t e, const uint8_t *p, int fin, uint64_t *stop)
{
	struct kapa_reasm_pool *pool = r->pool;
	uint32_t prev = KAPA_NIL, cur = h->ooo_head, ni, n;
	struct kapa_reasm_chunk *c, *nc;
	uint64_t pos = s, piece_end;

	while (pos < e) {
		/* Skip held chunks that end at or before pos. */
		while (cur != KAPA_NIL) {
			c = chunk_at(pool, cur);
			if ((c->flags & KAPA_CHUNK_FIN) || c->off + c->len > pos)
				break;
			prev = cur;
			cur = c->next;
		}
		piece_end = e;
		if (cur != KAPA_NIL) {
			c = chunk_at(pool, cur);
			if (c->off <= pos) {
				if (c->flags & KAPA_CHUNK_FIN) {
					/* Bytes past a FIN seen first. */
					fin = 0;
					break;
				}
				n = (uint32_t)(RTE_MIN(e, c->off + c->len) - pos);
				count_overlap(r->st, c->data + (pos - c->off),
					      p + (pos - s), n);
				pos += n;
				continue;
			}
			piece_end = RTE_MIN(e, c->off);
		}
		/* [pos, piece_end) is new. It gets chunks of its own even
		 * where the previous chunk ends exactly at pos with room to
		 * spare: that chunk's bytes came with another segment, and a
		 * chunk carries one packet reference (struct kapa_reasm_src). */
		n = (uint32_t)RTE_MIN((uint64_t)KAPA_REASM_CHUNK_DATA, piece_end - pos);
		if (h->ooo_segs >= r->lim->max_segs ||
		    h->ooo_bytes + n > r->lim->max_bytes) {
			*stop = pos;
			return KAPA_REASM_LIMIT_CONN;
		}
		ni = chunk_alloc(pool);
		if (ni == KAPA_NIL) {
			*stop = pos;
			return KAPA_REASM_LIMIT_GLOBAL;
		}
		nc = chunk_at(pool, ni);
		nc->off = pos;
		nc->len = (uint16_t)n;
		nc->flags = 0;
		nc->src = r->seg;
		nc->since_ms = hole_since(r, cur);
		memcpy(nc->data, p + (pos - s), n);
		nc->next = cur;
		if (prev == KAPA_NIL)
			h->ooo_head = ni;
		else
			chunk_at(pool, prev)->next = ni;
		prev = ni;
		h->ooo_segs++;
		h->ooo_bytes += n;
		pool->bytes += n;
		pos += n;
	}
	*stop = e;
	return fin ? hold_fin(r, h, e) : KAPA_REASM_HELD;
}

/* The consumer wants no more: track the sequence space only. */
static int
stop_half(const struct kapa_reasm *r, struct kapa_tcp_half *h, int64_t end)
{
	if (end > (int64_t)h->next_off)
		h->next_off = (uint64_t)end;
	kapa_reasm_flush(r->pool, h);
	return 1;
}

int
kapa_reasm_segment(const struct kapa_reasm *r, struct kapa_tcp_half *h,
		   uint32_t seq, const uint8_t *p, uint32_t len, int fin)
{
	int64_t s = kapa_reasm_offset(h, seq);
	int64_t e = s + len;
	int64_t next = (int64_t)h->next_off;
	enum kapa_reasm_limit why;
	uint64_t stop, target;
	int rc = 0;

	if (s - next > KAPA_REASM_MAX_DIST || next - s > KAPA_REASM_MAX_DIST) {
		r->st->out_of_window++;
		return 0;
	}
	if (len == 0 && !fin)
		return 0;
	if (h->state == KAPA_HALF_CLOSED) {
		/* The stream ended: a copy of old bytes, or bytes past the FIN. */
		if (len != 0) {
			if (e <= next)
				r->st->segs_retrans++;
			else
				r->st->out_of_window++;
		}
		return 0;
	}
	if (e <= next) {
		if (len != 0)
			r->st->segs_retrans++;
		if (!fin || e < next)
			return 0;
	} else if (s <= next) {
		r->st->segs_in_order++;
	}
	for (;;) {
		if (s <= (int64_t)h->next_off) {
			/* A pickup's segment that reaches back past its window:
			 * the stream starts at the window's start. */
			if (h->flags & KAPA_HALF_PICKUP)
				pickup_decide(r, h, 0, &r->st->pickup_start_other);
			rc = deliver_inorder(r, h, s, e, p, fin);
			break;
		}
		why = hold(r, h, (uint64_t)s, (uint64_t)e, p, fin, &stop);
		if (why == KAPA_REASM_HELD) {
			r->st->segs_ooo++;
			return 0;
		}
		/* Out of room: give up on the hole in front and go on from the
		 * first byte we have (held, or the rest of this segment). */
		target = stop;
		if (h->ooo_head != KAPA_NIL &&
		    chunk_at(r->pool, h->ooo_head)->off < target)
			target = chunk_at(r->pool, h->ooo_head)->off;
		if (h->flags & KAPA_HALF_PICKUP) {
			/* A pickup held all it may: no hole, the stream starts
			 * at the earliest byte held. */
			p += stop - (uint64_t)s;
			pickup_decide(r, h, target, &r->st->pickup_start_limit);
			s = (int64_t)(stop - target);
			e -= (int64_t)target;
			rc = drain(r, h);
			if (rc != 0 || h->state == KAPA_HALF_CLOSED)
				break;
			continue;
		}
		if (why == KAPA_REASM_LIMIT_CONN)
			r->st->gap_limit_conn++;
		else
			r->st->gap_limit_global++;
		rc = skip_to(r, h, target);
		if (rc == 0)
			rc = drain(r, h);
		if (rc != 0 || h->state == KAPA_HALF_CLOSED)
			break;
		p += stop - (uint64_t)s;
		s = (int64_t)stop;
	}
	if (rc != 0)
		return stop_half(r, h, e);
	return 0;
}

int
kapa_reasm_ack(const struct kapa_reasm *r, struct kapa_tcp_half *h, uint32_t ack)
{
	int64_t a, next = (int64_t)h->next_off;
	uint64_t target;
	int rc;

	if (!(h->flags & KAPA_HALF_SEQ_KNOWN) || h->state == KAPA_HALF_CLOSED)
		return 0;
	/* The receiver tells what it has of a pickup: its start is decided. */
	if (kapa_reasm_pickup_start(r, h, kapa_reasm_offset(h, ack),
				    &r->st->pickup_start_ack) != 0)
		return 1;
	a = kapa_reasm_offset(h, ack);
	if (a <= next || a - next > KAPA_REASM_MAX_DIST)
		return 0;
	/* One past everything, with nothing held, is most likely the ack of a
	 * FIN kapa did not see rather than one lost byte; if it was a byte,
	 * the next segment is held behind it and a later ack skips it then. */
	if (a == next + 1 && h->ooo_head == KAPA_NIL)
		return 0;
	target = (uint64_t)a;
	if (h->ooo_head != KAPA_NIL && chunk_at(r->pool, h->ooo_head)->off < target)
		target = chunk_at(r->pool, h->ooo_head)->off;
	if (target <= h->next_off)
		return 0;
	r->st->gap_acked_hole++;
	rc = skip_to(r, h, target);
	if (rc == 0)
		rc = drain(r, h);
	if (rc != 0)
		return stop_half(r, h, (int64_t)h->next_off);
	return 0;
}

/*
 * Skip the hole in front of the first held chunk and deliver what becomes
 * contiguous, for as long as the first chunk's hole is at least @p age_ms
 * old; each skip is counted in *@p why. Each round frees at least one
 * chunk, so this ends.
 */
static int
skip_old_holes(const struct kapa_reasm *r, struct kapa_tcp_half *h,
	       uint32_t age_ms, uint64_t *why)
{
	struct kapa_reasm_chunk *c;
	int rc = 0;

	while (rc == 0 && h->ooo_head != KAPA_NIL && h->state != KAPA_HALF_CLOSED) {
		c = chunk_at(r->pool, h->ooo_head);
		if (r->now_ms - c->since_ms < age_ms)
			break;
		/* The invariant keeps c->off > next_off; a broken one must
		 * not make a GAP run backwards. */
		if (c->off > h->next_off) {
			(*why)++;
			rc = skip_to(r, h, c->off);
		}
		if (rc == 0)
			rc = drain(r, h);
	}
	if (rc != 0)
		return stop_half(r, h, (int64_t)h->next_off);
	return 0;
}

int
kapa_reasm_hole_timeout(const struct kapa_reasm *r, struct kapa_tcp_half *h)
{
	if (h->ooo_head == KAPA_NIL)
		return 0;
	/* A pickup nobody acknowledged for a retransmission time (a
	 * one-direction tap): what it holds is all that will come before. */
	if ((h->flags & KAPA_HALF_PICKUP) &&
	    r->now_ms - chunk_at(r->pool, h->ooo_head)->since_ms >= r->lim->hole_timeout_ms &&
	    kapa_reasm_pickup_start(r, h, -1, &r->st->pickup_start_timeout) != 0)
		return 1;
	return skip_old_holes(r, h, r->lim->hole_timeout_ms, &r->st->gap_hole_timeout);
}

int
kapa_reasm_release(const struct kapa_reasm *r, struct kapa_tcp_half *h)
{
	uint64_t before = r->st->bytes_delivered;
	int rc;

	if (h->ooo_head == KAPA_NIL)
		return 0;
	if (h->flags & KAPA_HALF_PICKUP)
		pickup_decide(r, h, pickup_first(r, h), &r->st->pickup_start_other);
	rc = skip_old_holes(r, h, 0, &r->st->gap_release);
	r->st->bytes_release_flushed += r->st->bytes_delivered - before;
	/* Data held past a FIN delivered by the loop is freed by emit_fin. */
	kapa_reasm_flush(r->pool, h);
	return rc;
}
