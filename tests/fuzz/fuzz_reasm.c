/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of one direction of TCP reassembly (kapa_reasm.c).
 *
 * The input is a configuration (limits, pool size, initial sequence number)
 * and a list of operations: segments (offset, length, FIN, and whether the
 * bytes are the stream's or a conflicting copy) and peer acks. The stream's
 * bytes are a function of their offset, so the harness knows what every
 * delivered byte must be. It checks:
 *  - the output is one contiguous walk of the stream: each data or gap
 *    callback starts where the previous one ended, a FIN only at the end and
 *    nothing after it;
 *  - every delivered byte is a byte some segment carried at that offset, and,
 *    while no limit forced a gap, the copy seen first (the overlap policy);
 *  - bytes (and a FIN) come with the segment that brought them: held ones
 *    with their chunk's packet reference and time (each segment has its own),
 *    the segment in hand's without one; while no limit forced a gap, that is
 *    the first segment that carried each byte, so no data call mixes two;
 *  - gaps happen only when a limit or an ack past a hole says so;
 *  - the held list stays sorted, non-overlapping, past next_off, within the
 *    per-direction limits, and in agreement with the pool's counters;
 *  - once the whole stream has been sent in order, everything up to its end
 *    (or its FIN) has been delivered or skipped, and nothing is held.
 * The pool is malloc'ed here (not rte_malloc) so that ASan sees every chunk
 * boundary and no EAL is needed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapa_reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_reasm: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

#define HDR_LEN		8
#define OP_LEN		5
#define MAX_LEN		2500	/* longer than a chunk's payload */
#define MAX_OFF		8192	/* small enough that segments overlap often */
#define STREAM_MAX	(MAX_OFF + MAX_LEN)
#define MAX_OPS		512

/* Bits of sent[]: which copies of a byte have been sent, and which first. */
#define SENT_TRUE	0x01
#define SENT_CONFLICT	0x02
#define FIRST_CONFLICT	0x04

struct model {
	uint64_t cur;		/* where the next callback must start */
	uint16_t seg_no;	/* the segment in hand (1-based), 0 for an ack */
	uint16_t max_no;	/* the last segment number handed out */
	bool fin_seen;
	bool stopped;		/* the data callback asked to stop */
	uint64_t stop_at;	/* ask to stop once cur passes this (0: never) */
	uint64_t ngaps;
	const struct kapa_tcp_stats *st;
	uint8_t sent[STREAM_MAX];
	uint16_t first_no[STREAM_MAX];	/* the segment that first carried it */
};

/* The packet reference and time the harness gives segment number @p no. */
static void *
ref_of(uint16_t no)
{
	return (void *)(uintptr_t)no;
}

static uint64_t
ns_of(uint16_t no)
{
	return (uint64_t)no * 1000 + 7;
}

/* Which segment bytes (or a FIN) came with; 0 when that is wrong. */
static uint16_t
src_no(const struct model *m, const struct kapa_reasm_src *held)
{
	uintptr_t no;

	if (held == NULL)
		return m->seg_no;	/* an ack (0) carries no bytes */
	no = (uintptr_t)held->pkt_ref;
	if (no == 0 || no > m->max_no || held->ns != ns_of((uint16_t)no))
		return 0;
	return (uint16_t)no;
}

static uint8_t
truth(uint64_t o)
{
	return (uint8_t)(o * 131 + (o >> 8) * 7 + 1);
}

static uint8_t
conflict(uint64_t o)
{
	return truth(o) ^ 0x5a;
}

static int
on_data(void *arg, uint64_t off, const uint8_t *p, uint32_t len,
	const struct kapa_reasm_src *held)
{
	struct model *m = arg;
	bool strict = m->st->gap_limit_conn == 0 && m->st->gap_limit_global == 0;
	uint16_t no = src_no(m, held);
	uint32_t i;
	uint8_t s;

	CHECK(!m->fin_seen && !m->stopped);
	CHECK(off == m->cur && len > 0);
	CHECK(off + len <= STREAM_MAX);
	CHECK(no != 0);
	for (i = 0; i < len; i++) {
		CHECK(!strict || m->first_no[off + i] == no);
		s = m->sent[off + i];
		if (p[i] == truth(off + i) && p[i] != conflict(off + i)) {
			CHECK(s & SENT_TRUE);
			CHECK(!strict || !(s & FIRST_CONFLICT));
		} else {
			CHECK(p[i] == conflict(off + i));
			CHECK(s & SENT_CONFLICT);
			CHECK(!strict || (s & FIRST_CONFLICT));
		}
	}
	m->cur += len;
	if (m->stop_at != 0 && m->cur >= m->stop_at) {
		m->stopped = true;
		return 1;
	}
	return 0;
}

static int
on_gap(void *arg, uint64_t off, uint64_t len)
{
	struct model *m = arg;

	CHECK(!m->fin_seen && !m->stopped);
	CHECK(off == m->cur && len > 0);
	m->cur += len;
	m->ngaps++;
	return 0;
}

static int
on_fin(void *arg, uint64_t off, const struct kapa_reasm_src *held)
{
	struct model *m = arg;

	CHECK(!m->fin_seen && !m->stopped);
	CHECK(src_no(m, held) != 0);
	CHECK(off == m->cur);
	m->fin_seen = true;
	return 0;
}

/* The held list against its invariants and the counters. */
static void
check_held(const struct kapa_reasm_pool *pool, const struct kapa_tcp_half *h,
	   const struct kapa_reasm_limits *lim)
{
	const struct kapa_reasm_chunk *c;
	uint64_t end = h->next_off, bytes = 0;
	uint32_t i, n = 0, nfin = 0;
	bool first = true;

	for (i = h->ooo_head; i != KAPA_NIL; i = c->next) {
		CHECK(i < pool->bump && i < pool->nchunks);
		CHECK(n++ < 256);
		c = (const struct kapa_reasm_chunk *)(pool->mem +
						      (size_t)i * KAPA_REASM_CHUNK_SIZE);
		CHECK(c->len <= KAPA_REASM_CHUNK_DATA);
		/* Sorted, disjoint, and past what was delivered. */
		CHECK(first ? c->off > h->next_off : c->off >= end);
		if (c->flags & KAPA_CHUNK_FIN) {
			CHECK(c->len == 0);
			nfin++;
		}
		end = c->off + c->len;
		bytes += c->len;
		first = false;
	}
	CHECK(nfin <= 1);
	CHECK(n == h->ooo_segs && bytes == h->ooo_bytes);
	CHECK(h->ooo_segs <= lim->max_segs && h->ooo_bytes <= lim->max_bytes);
	CHECK(pool->used == h->ooo_segs && pool->bytes == h->ooo_bytes);
	CHECK(pool->used <= pool->nchunks);
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	static uint8_t seg[MAX_LEN];
	struct kapa_tcp_stats st;
	struct kapa_reasm_limits lim;
	struct kapa_reasm_pool pool;
	struct kapa_tcp_half h;
	struct kapa_reasm_out out = {
		.data = on_data, .gap = on_gap, .fin = on_fin, .arg = &m,
	};
	struct kapa_reasm r = { .pool = &pool, .lim = &lim, .st = &st, .out = &out };
	uint32_t isn, nchunks, off, len, i, nops;
	uint64_t max_end = 0, o;
	const uint8_t *op;
	int rc = 0, fin, bad;

	if (size < HDR_LEN)
		return 0;
	memset(&m, 0, sizeof(m));
	memset(&st, 0, sizeof(st));
	m.st = &st;
	lim.max_segs = data[0];			/* 0..255: 0 holds nothing */
	lim.max_bytes = (uint32_t)rd16(data + 1) * 4;
	nchunks = data[3] % 48;
	isn = (uint32_t)data[4] << 24 | (uint32_t)data[5] << 16 |
	      (uint32_t)data[6] << 8 | data[7];
	/* Rarely, a consumer that gives up part way (e.g. an upgrade). */
	if ((data[3] & 0xc0) == 0xc0)
		m.stop_at = (uint64_t)(data[2] + 1) * 64;

	memset(&pool, 0, sizeof(pool));
	pool.free_head = KAPA_NIL;
	if (nchunks != 0) {
		pool.mem = malloc((size_t)nchunks * KAPA_REASM_CHUNK_SIZE);
		if (pool.mem == NULL)
			return 0;
		pool.nchunks = nchunks;
	}
	memset(&h, 0, sizeof(h));
	h.base_seq = isn;
	h.ooo_head = KAPA_NIL;
	h.state = KAPA_HALF_OPEN;
	h.flags = KAPA_HALF_SEQ_KNOWN;

	nops = (uint32_t)((size - HDR_LEN) / OP_LEN);
	if (nops > MAX_OPS)
		nops = MAX_OPS;
	for (i = 0; i < nops && rc == 0 && h.state != KAPA_HALF_CLOSED; i++) {
		op = data + HDR_LEN + i * OP_LEN;
		off = rd16(op + 1) % MAX_OFF;
		if ((op[0] & 3) == 3) {
			m.seg_no = 0;
			rc = kapa_reasm_ack(&r, &h, isn + off);
		} else {
			len = rd16(op + 3) % (MAX_LEN + 1);
			fin = (op[0] & 4) != 0;
			bad = (op[0] & 8) != 0;
			m.seg_no = ++m.max_no;
			r.seg.pkt_ref = ref_of(m.seg_no);
			r.seg.ns = ns_of(m.seg_no);
			for (o = off; o < (uint64_t)off + len; o++) {
				if (m.first_no[o] == 0)
					m.first_no[o] = m.seg_no;
				seg[o - off] = bad ? conflict(o) : truth(o);
				if (!(m.sent[o] & (SENT_TRUE | SENT_CONFLICT)) && bad)
					m.sent[o] |= FIRST_CONFLICT;
				m.sent[o] |= bad ? SENT_CONFLICT : SENT_TRUE;
			}
			if ((uint64_t)off + len > max_end)
				max_end = (uint64_t)off + len;
			rc = kapa_reasm_segment(&r, &h, isn + off, seg, len, fin);
		}
		CHECK(rc == 0 || rc == 1);
		CHECK(rc == 0 || m.stopped);
		CHECK(m.ngaps == st.gaps);
		CHECK(m.fin_seen == (h.state == KAPA_HALF_CLOSED));
		if (!m.stopped)
			CHECK(h.next_off == m.cur);
		check_held(&pool, &h, &lim);
	}
	if (rc == 1) {
		/* Stopped: the direction holds nothing any more. */
		CHECK(h.ooo_head == KAPA_NIL && pool.used == 0 && pool.bytes == 0);
		goto out;
	}
	/* Now the whole stream, in order, as a retransmitting sender would:
	 * everything ends up delivered or skipped, up to the end or the FIN. */
	for (o = 0; o < max_end && rc == 0 && h.state != KAPA_HALF_CLOSED; o += len) {
		len = (uint32_t)(max_end - o < 1000 ? max_end - o : 1000);
		m.seg_no = ++m.max_no;
		r.seg.pkt_ref = ref_of(m.seg_no);
		r.seg.ns = ns_of(m.seg_no);
		for (i = 0; i < len; i++) {
			if (m.first_no[o + i] == 0)
				m.first_no[o + i] = m.seg_no;
			seg[i] = truth(o + i);
			m.sent[o + i] |= SENT_TRUE;
		}
		rc = kapa_reasm_segment(&r, &h, isn + (uint32_t)o, seg, len, 0);
		CHECK(rc == 0 || m.stopped);
		check_held(&pool, &h, &lim);
	}
	if (rc == 0 && h.state != KAPA_HALF_CLOSED) {
		/* (an ack past a hole may have skipped beyond every segment) */
		CHECK(h.next_off == m.cur && m.cur >= max_end);
		CHECK(h.ooo_head == KAPA_NIL);
	}
	kapa_reasm_flush(&pool, &h);
	CHECK(pool.used == 0 && pool.bytes == 0);
out:
	free(pool.mem);
	return 0;
}
