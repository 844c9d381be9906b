/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the TCP core: connection tracking and reassembly, driven
 * through kapa_tcp_input() with struct kapa_pkt built by hand, and a
 * recording consumer that rebuilds both byte streams and logs events.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <rte_common.h>

#include "kapa_eal.h"
#include "kapa_reasm.h"
#include "kapa_tcp.h"
#include "unit.h"

#define STREAM_MAX	(1u << 16)
#define MAX_EVENTS	512

/* ---- packets sent, by reference --------------------------------------------- */

/*
 * Every packet goes in with a reference of its own, a frame number as in
 * kapa-inspect, and the last FRAMES_MAX are remembered, so that the consumer
 * can check that a data callback's bytes came with the packet its
 * ctx->pkt_ref names, at the time ctx->now_ns says.
 */
#define FRAMES_MAX	4096

struct sent_frame {
	uintptr_t no;		/* the reference; 0: slot never used */
	uint32_t seq, len;
	uint64_t ns;
	const struct kapa_pkt *pkt;	/* while in kapa_tcp_input() */
};

static struct sent_frame frames[FRAMES_MAX];
static uintptr_t frame_no;	/* the last reference handed out */
static uint32_t ref_errors;	/* data callbacks whose reference is wrong */

static void *
frame_ref(uintptr_t no)
{
	return (void *)no;
}

/*
 * Bytes [seq, seq + len) delivered with @p ctx: with a packet, from the one
 * in hand (its reference, its time, its payload); without, held bytes, from
 * the packet their reference names (its time, inside its payload).
 */
static void
check_ref(const struct kapa_stream_ctx *ctx, uint32_t seq, const uint8_t *p,
	  uint32_t len)
{
	uintptr_t no = (uintptr_t)ctx->pkt_ref;
	const struct sent_frame *f = &frames[no % FRAMES_MAX];
	int bad = 0;

	if (ctx->pkt != NULL && no == 0) {
		return;		/* a packet sent without send_raw(), no reference */
	} else if (ctx->pkt != NULL) {
		bad = no != frame_no || f->pkt != ctx->pkt ||
		      p < ctx->pkt->data + ctx->pkt->payload_off ||
		      p + len > ctx->pkt->data + ctx->pkt->payload_off +
				ctx->pkt->payload_len;
	} else {
		bad = no == 0;	/* held bytes always know their packet */
	}
	/* Within the remembered window: that packet carried these bytes. */
	if (!bad && f->no == no)
		bad = ctx->now_ns != f->ns || (uint32_t)(seq - f->seq) >= f->len ||
		      (uint32_t)(seq - f->seq) + len > f->len;
	if (bad) {
		/* A few failure records are enough; the count says how often. */
		if (ref_errors++ < 8)
			CU_FAIL("data callback names a packet that did not carry its bytes");
	}
}

/* ---- the recording consumer ---------------------------------------------- */

struct rec_dir {
	uint8_t buf[STREAM_MAX];
	uint8_t seen[STREAM_MAX];	/* 1 where a byte was delivered */
	uint64_t next;		/* offset after the last byte or gap */
	uint64_t bytes;
	uint64_t gap_bytes;
	uint32_t ngaps;
	uint32_t order_errors;	/* data or gap not at the expected offset */
	int fin;
	uint64_t fin_off;
	uint32_t data_after_fin;
};

struct rec_event {
	uint8_t ev, dir;
	uint8_t release;	/* ctx->release */
	uint32_t idx;
	uint64_t off, len;
	int had_pkt;
	void *ref;		/* ctx->pkt_ref */
	uint64_t ns;		/* ctx->now_ns */
};

struct rec {
	struct rec_dir d[2];
	struct rec_event ev[MAX_EVENTS];
	uint32_t nev;
	uint32_t count[KAPA_EV_MAX];
	uint32_t data_without_pkt;
	uint32_t data_after_close;	/* data or GAP after this record's CLOSE */
	int closed;		/* CLOSE seen (cleared by OPEN) */
	int log_data;		/* data calls go to ev[] too, as KAPA_EV_MAX */
	uint32_t expire_calls;
	uint32_t expire_answer;	/* what expire() returns */
	uint64_t opaque_at;	/* set opaque once this many bytes arrived, 0 = never */
	uint64_t close_at;	/* kapa_tcp_close once this many bytes arrived */
	int restart_on_open;	/* offsets start over with each OPEN */
	int chaos;		/* data(): now and then opaque or close */
	uint32_t chaos_opaque, chaos_close;
	int close_in_expire;	/* expire() calls kapa_tcp_close() */
	uint64_t last_pkt_off;	/* ctx->pkt_off of the last data call with a packet */
};

static struct rec R;

/* Where the next connection opened records (NULL: R). Kept in the app slot,
 * so that interleaved connections each rebuild their own streams. */
static struct rec *rec_next;

static struct rec *
rec_of(const struct kapa_stream_ctx *ctx)
{
	struct rec **slot = ctx->app;

	return *slot != NULL ? *slot : &R;
}

static void
rec_reset(void)
{
	memset(&R, 0, sizeof(R));
	ref_errors = 0;		/* each scenario gets its failure records */
}

static void
rec_data(const struct kapa_stream_ctx *ctx, uint64_t off, const uint8_t *p,
	 uint32_t len)
{
	struct rec *r = rec_of(ctx);
	struct rec_dir *d = &r->d[ctx->dir];
	uint64_t i;

	if (off != d->next)
		d->order_errors++;
	if (d->fin)
		d->data_after_fin++;
	if (ctx->pkt == NULL)
		r->data_without_pkt++;
	else
		r->last_pkt_off = ctx->pkt_off;
	if (r->closed)
		r->data_after_close++;
	if (ctx->tcp != NULL)
		check_ref(ctx, kapa_tcp_seq_of(ctx->conn, ctx->dir, off), p, len);
	if (r->log_data && r->nev < MAX_EVENTS) {
		r->ev[r->nev].ev = KAPA_EV_MAX;
		r->ev[r->nev].dir = (uint8_t)ctx->dir;
		r->ev[r->nev].idx = ctx->idx;
		r->ev[r->nev].off = off;
		r->ev[r->nev].len = len;
		r->ev[r->nev].had_pkt = ctx->pkt != NULL;
		r->ev[r->nev].ref = ctx->pkt_ref;
		r->ev[r->nev].ns = ctx->now_ns;
		r->nev++;
	}
	for (i = 0; i < len; i++) {
		if (off + i < STREAM_MAX) {
			d->buf[off + i] = p[i];
			d->seen[off + i] = 1;
		}
	}
	d->next = off + len;
	d->bytes += len;
	if (r->opaque_at != 0 && d->bytes >= r->opaque_at)
		kapa_tcp_set_opaque(ctx->tcp, ctx->idx);
	if (r->close_at != 0 && d->bytes >= r->close_at)
		kapa_tcp_close(ctx->tcp, ctx->idx);
	if (r->chaos && (d->bytes * 2654435761u) % 997 == 0) {
		r->chaos_opaque++;
		kapa_tcp_set_opaque(ctx->tcp, ctx->idx);
	} else if (r->chaos && (d->bytes * 2654435761u) % 991 == 0) {
		r->chaos_close++;
		kapa_tcp_close(ctx->tcp, ctx->idx);
	}
}

static void
rec_event(const struct kapa_stream_ctx *ctx, enum kapa_stream_event ev,
	  uint64_t off, uint64_t len)
{
	struct rec *r;
	struct rec_dir *d;

	if (ev == KAPA_EV_OPEN)
		*(struct rec **)ctx->app = rec_next;
	r = rec_of(ctx);
	d = &r->d[ctx->dir];
	if (ev == KAPA_EV_OPEN && r->restart_on_open) {
		/* A new connection on the same 4-tuple: streams start over. */
		r->d[0].next = r->d[1].next = 0;
		r->d[0].fin = r->d[1].fin = 0;
	}
	if (r->nev < MAX_EVENTS) {
		r->ev[r->nev].ev = (uint8_t)ev;
		r->ev[r->nev].release = ctx->release;
		r->ev[r->nev].dir = (uint8_t)ctx->dir;
		r->ev[r->nev].idx = ctx->idx;
		r->ev[r->nev].off = off;
		r->ev[r->nev].len = len;
		r->ev[r->nev].had_pkt = ctx->pkt != NULL;
		r->ev[r->nev].ref = ctx->pkt_ref;
		r->ev[r->nev].ns = ctx->now_ns;
		r->nev++;
	}
	r->count[ev]++;
	if (ev == KAPA_EV_OPEN)
		r->closed = 0;
	else if (ev == KAPA_EV_CLOSE)
		r->closed = 1;
	if (ev == KAPA_EV_GAP) {
		if (r->closed)
			r->data_after_close++;
		if (off != d->next)
			d->order_errors++;
		d->next = off + len;
		d->gap_bytes += len;
		d->ngaps++;
	} else if (ev == KAPA_EV_FIN) {
		d->fin = 1;
		d->fin_off = off;
	}
}

static uint32_t
rec_expire(const struct kapa_stream_ctx *ctx)
{
	R.expire_calls++;
	if (R.close_in_expire)
		kapa_tcp_close(ctx->tcp, ctx->idx);
	return R.expire_answer;
}

static const struct kapa_stream_ops rec_ops = {
	.data = rec_data,
	.event = rec_event,
	.expire = rec_expire,
};

/* Index of the last event @p ev, or -1. */
static int
last_event(enum kapa_stream_event ev)
{
	int i;

	for (i = (int)R.nev - 1; i >= 0; i--)
		if (R.ev[i].ev == ev)
			return i;
	return -1;
}

/* ---- a TCP core and connections to drive it ------------------------------ */

static int tcp_seq_no;

struct tconf {
	uint32_t max_bytes, max_segs, pool_bytes, capacity, hole_ms;
};

static struct kapa_tcp *
make_tcp(const struct tconf *tc)
{
	struct kapa_tcp_conf conf;
	char name[32];

	memset(&conf, 0, sizeof(conf));
	snprintf(name, sizeof(name), "test_tcp_%d", tcp_seq_no++);
	conf.flow.name = name;
	conf.flow.capacity = tc != NULL && tc->capacity ? tc->capacity : 1024;
	conf.flow.app_size = 64;
	conf.flow.socket_id = -1;	/* SOCKET_ID_ANY */
	conf.ooo_max_bytes = tc != NULL ? tc->max_bytes : 0;
	conf.ooo_max_segs = tc != NULL ? tc->max_segs : 0;
	conf.ooo_pool_bytes = tc != NULL && tc->pool_bytes ? tc->pool_bytes : (4u << 20);
	conf.closed_linger_ms = 2000;
	conf.hole_timeout_ms = tc != NULL ? tc->hole_ms : 0;
	conf.ops = &rec_ops;
	return kapa_tcp_create(&conf);
}

struct tconn {
	struct kapa_tcp *tcp;
	uint8_t cip[4], sip[4];
	uint16_t cport, sport;
	uint32_t cisn, sisn;
	uint64_t now_ns;
	uint16_t vlan[2];	/* 802.1Q tag of each sender (0: untagged) */
	uint16_t tpid[2];	/* its TPID (0: 0x8100) */
	uint8_t tags[2];	/* tags in each sender's frames (0: 1 when vlan set) */
	uint8_t encap[2];	/* KAPA_ENCAP_* of each sender's frames */
	struct kapa_tcp_result res;
};

static void
tconn_init(struct tconn *t, struct kapa_tcp *tcp, uint16_t cport,
	   uint16_t sport, uint32_t cisn, uint32_t sisn)
{
	static const uint8_t cip[4] = {198, 18, 0, 1}, sip[4] = {198, 18, 0, 2};

	memset(t, 0, sizeof(*t));
	t->tcp = tcp;
	memcpy(t->cip, cip, 4);
	memcpy(t->sip, sip, 4);
	t->cport = cport;
	t->sport = sport;
	t->cisn = cisn;
	t->sisn = sisn;
	t->now_ns = 1000000000ull;
}

/* TCP options the next send_raw() adds (then cleared). */
static struct kapa_tcp_opts next_opts;

/* Send one segment; from_srv selects the direction. */
static void
send_raw(struct tconn *t, int from_srv, uint32_t seq, uint32_t ack,
	 uint8_t flags, const uint8_t *data, uint32_t len, uint8_t wscale)
{
	struct sent_frame *f;
	struct kapa_pkt p;

	memset(&p, 0, sizeof(p));
	p.cls = KAPA_PKT_TCP;
	p.family = 4;
	p.data = data;
	p.len = len;
	p.payload_off = 0;
	p.payload_len = len;
	p.ip_proto = 6;
	memcpy(p.src, from_srv ? t->sip : t->cip, 4);
	memcpy(p.dst, from_srv ? t->cip : t->sip, 4);
	p.sport = from_srv ? t->sport : t->cport;
	p.dport = from_srv ? t->cport : t->sport;
	p.eth_src[5] = from_srv ? 2 : 1;
	if (t->vlan[from_srv] != 0) {
		p.nvlan = t->tags[from_srv] != 0 ? t->tags[from_srv] : 1;
		p.vlan_tpid[0] = t->tpid[from_srv] != 0 ? t->tpid[from_srv] : 0x8100;
		p.vlan_tci[0] = t->vlan[from_srv];
	}
	p.encap = t->encap[from_srv];
	p.seq = seq;
	p.ack = ack;
	p.tcp_flags = flags;
	p.win = 1000;
	p.opt = next_opts;
	memset(&next_opts, 0, sizeof(next_opts));
	if (wscale != 0xff) {
		p.opt.present |= KAPA_OPT_WSCALE;
		p.opt.wscale = wscale;
	}
	t->now_ns += 1000;
	f = &frames[++frame_no % FRAMES_MAX];
	f->no = frame_no;
	f->seq = seq + ((flags & KAPA_TCP_SYN) ? 1 : 0);
	f->len = len;
	f->ns = t->now_ns;
	f->pkt = &p;
	kapa_tcp_input(t->tcp, &p, t->now_ns, frame_ref(frame_no), &t->res);
	f->pkt = NULL;
}

/* Client data at stream offset @p off (acks the server's first byte). */
static void
c2s(struct tconn *t, uint64_t off, const uint8_t *d, uint32_t len, uint8_t extra)
{
	send_raw(t, 0, t->cisn + 1 + (uint32_t)off, t->sisn + 1,
		 KAPA_TCP_ACK | extra, d, len, 0xff);
}

static void
s2c(struct tconn *t, uint64_t off, const uint8_t *d, uint32_t len, uint8_t extra)
{
	send_raw(t, 1, t->sisn + 1 + (uint32_t)off, t->cisn + 1,
		 KAPA_TCP_ACK | extra, d, len, 0xff);
}

/* Pure ack from one side acknowledging the peer's stream offset @p off. */
static void
ack_to(struct tconn *t, int from_srv, uint64_t my_off, uint64_t peer_off)
{
	if (from_srv)
		send_raw(t, 1, t->sisn + 1 + (uint32_t)my_off,
			 t->cisn + 1 + (uint32_t)peer_off, KAPA_TCP_ACK, NULL, 0, 0xff);
	else
		send_raw(t, 0, t->cisn + 1 + (uint32_t)my_off,
			 t->sisn + 1 + (uint32_t)peer_off, KAPA_TCP_ACK, NULL, 0, 0xff);
}

static void
handshake(struct tconn *t, uint8_t cws, uint8_t sws)
{
	send_raw(t, 0, t->cisn, 0, KAPA_TCP_SYN, NULL, 0, cws);
	send_raw(t, 1, t->sisn, t->cisn + 1, KAPA_TCP_SYN | KAPA_TCP_ACK, NULL, 0, sws);
	send_raw(t, 0, t->cisn + 1, t->sisn + 1, KAPA_TCP_ACK, NULL, 0, 0xff);
}

static struct kapa_conn *
tconn_conn(struct tconn *t)
{
	return kapa_flow_conn(kapa_tcp_table(t->tcp), (uint32_t)t->res.idx);
}

/* Deterministic PRNG (xorshift64*), so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t
rng_below(uint32_t n)
{
	return (uint32_t)(rng() % n);
}

static void
fill_msg(uint8_t *m, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		m[i] = (uint8_t)('a' + rng_below(26));
}

/* ---- tests ----------------------------------------------------------------- */

static void
test_handshake_and_data(void)
{
	static const uint8_t req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint8_t rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct kapa_tcp *tcp = make_tcp(NULL);
	const struct kapa_tcp_stats *st;
	const struct kapa_flow_stats *fs;
	struct kapa_conn *c;
	struct tconn t;
	uint32_t rl = sizeof(req) - 1, sl = sizeof(rsp) - 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40000, 80, 1000, 5000);
	handshake(&t, 7, 9);
	CU_ASSERT_EQUAL(t.res.idx >= 0, 1);
	CU_ASSERT_EQUAL(t.res.dir, KAPA_DIR_C2S);
	c = tconn_conn(&t);
	CU_ASSERT_EQUAL(c->state, KAPA_CONN_ESTABLISHED);
	CU_ASSERT_FALSE(c->flags & (KAPA_CONN_MIDSTREAM | KAPA_CONN_ROLE_GUESSED));
	CU_ASSERT_FALSE(c->flags & KAPA_CONN_EMBRYONIC);
	/* RFC 7323: both SYNs carried the option, so both shifts apply. */
	CU_ASSERT(c->half[KAPA_DIR_C2S].flags & KAPA_HALF_WSCALE);
	CU_ASSERT(c->half[KAPA_DIR_S2C].flags & KAPA_HALF_WSCALE);
	CU_ASSERT_EQUAL(c->half[KAPA_DIR_C2S].wscale, 7);
	CU_ASSERT_EQUAL(c->half[KAPA_DIR_S2C].wscale, 9);
	CU_ASSERT_EQUAL(c->half[KAPA_DIR_C2S].flags & 0x80, 0);	/* private bit cleared */
	CU_ASSERT_EQUAL(c->half[KAPA_DIR_C2S].base_seq, 1001);
	CU_ASSERT_EQUAL(c->half[KAPA_DIR_S2C].base_seq, 5001);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_OPEN], 1);

	c2s(&t, 0, req, rl, KAPA_TCP_PSH);
	CU_ASSERT_EQUAL(t.res.dir, KAPA_DIR_C2S);
	s2c(&t, 0, rsp, sl, KAPA_TCP_PSH);
	CU_ASSERT_EQUAL(t.res.dir, KAPA_DIR_S2C);
	ack_to(&t, 0, rl, sl);
	ack_to(&t, 1, sl, rl);
	CU_ASSERT_EQUAL(R.d[0].bytes, rl);
	CU_ASSERT_EQUAL(R.d[1].bytes, sl);
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf, req, rl), 0);
	CU_ASSERT_EQUAL(memcmp(R.d[1].buf, rsp, sl), 0);
	CU_ASSERT_EQUAL(R.data_without_pkt, 0);
	CU_ASSERT_EQUAL(c->half[KAPA_DIR_C2S].ack, 5001 + sl);
	CU_ASSERT_EQUAL(c->half[KAPA_DIR_S2C].ack, 1001 + rl);
	CU_ASSERT_EQUAL(c->mac[KAPA_DIR_C2S][5], 1);
	CU_ASSERT_EQUAL(c->mac[KAPA_DIR_S2C][5], 2);

	/* FIN each way. */
	c2s(&t, rl, NULL, 0, KAPA_TCP_FIN);
	CU_ASSERT_EQUAL(c->state, KAPA_CONN_CLOSING);
	CU_ASSERT_EQUAL(c->half[KAPA_DIR_C2S].state, KAPA_HALF_CLOSED);
	s2c(&t, sl, NULL, 0, KAPA_TCP_FIN);
	ack_to(&t, 0, rl + 1, sl + 1);
	CU_ASSERT_EQUAL(c->state, KAPA_CONN_CLOSED);
	/* The FIN used a sequence number. */
	CU_ASSERT_EQUAL(kapa_tcp_rst_seq(c, KAPA_DIR_C2S), 1001 + rl + 1);
	CU_ASSERT_EQUAL(kapa_tcp_rst_seq(c, KAPA_DIR_S2C), 5001 + sl + 1);
	CU_ASSERT_EQUAL(R.d[0].fin, 1);
	CU_ASSERT_EQUAL(R.d[0].fin_off, rl);
	CU_ASSERT_EQUAL(R.d[1].fin_off, sl);
	CU_ASSERT_EQUAL(R.d[0].order_errors + R.d[1].order_errors, 0);

	st = kapa_tcp_stats(tcp);
	CU_ASSERT_EQUAL(st->conns_opened, 1);
	CU_ASSERT_EQUAL(st->bytes_delivered, rl + sl);
	CU_ASSERT_EQUAL(st->pkts[KAPA_PKT_TCP], 10);

	/* The closed connection lingers, then leaves through the timer. */
	CU_ASSERT_EQUAL(kapa_flow_count(kapa_tcp_table(tcp)), 1);
	kapa_tcp_advance(tcp, t.now_ns + 5000000000ull, 100);
	CU_ASSERT_EQUAL(kapa_flow_count(kapa_tcp_table(tcp)), 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_CLOSE], 1);
	CU_ASSERT_EQUAL(R.ev[last_event(KAPA_EV_CLOSE)].had_pkt, 0);
	fs = kapa_flow_stats(kapa_tcp_table(tcp));
	CU_ASSERT_EQUAL(fs->released[KAPA_REL_CLOSED], 1);
	CU_ASSERT_EQUAL(R.expire_calls, 0);
	kapa_tcp_destroy(tcp);
}

/* Window scaling only when both SYNs carry the option. */
static void
test_wscale_one_sided(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	struct kapa_conn *c;
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40001, 80, 1, 2);
	handshake(&t, 0xff, 5);	/* client sent no option */
	c = tconn_conn(&t);
	CU_ASSERT_FALSE(c->half[0].flags & KAPA_HALF_WSCALE);
	CU_ASSERT_FALSE(c->half[1].flags & KAPA_HALF_WSCALE);
	CU_ASSERT_EQUAL(c->half[1].wscale, 0);
	kapa_tcp_destroy(tcp);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_CLOSE], 1);
}

/* Every order of five segments (the last with FIN) gives the message. */
static void
test_permutations(void)
{
	static const uint32_t cut[6] = {0, 7, 19, 26, 40, 50};
	struct kapa_tcp *tcp = make_tcp(NULL);
	int perm[5] = {0, 1, 2, 3, 4};
	uint8_t msg[50];
	uint32_t n = 0, good = 0, i, j, k;
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	fill_msg(msg, sizeof(msg));
	for (;;) {
		rec_reset();
		tconn_init(&t, tcp, (uint16_t)(20000 + n), 80, 100 * n, 7);
		handshake(&t, 0xff, 0xff);
		for (i = 0; i < 5; i++) {
			int s = perm[i];

			c2s(&t, cut[s], msg + cut[s], cut[s + 1] - cut[s],
			    s == 4 ? KAPA_TCP_FIN : 0);
		}
		if (R.d[0].bytes == 50 && memcmp(R.d[0].buf, msg, 50) == 0 &&
		    R.d[0].fin && R.d[0].fin_off == 50 && R.d[0].order_errors == 0 &&
		    R.d[0].data_after_fin == 0 && R.count[KAPA_EV_GAP] == 0 &&
		    tconn_conn(&t)->half[0].ooo_bytes == 0)
			good++;
		n++;
		/* next permutation (lexicographic) */
		for (i = 3; i != UINT32_MAX && perm[i] > perm[i + 1]; i--)
			;
		if (i == UINT32_MAX)
			break;
		for (j = 4; perm[j] < perm[i]; j--)
			;
		k = perm[i]; perm[i] = perm[j]; perm[j] = k;
		for (i = i + 1, j = 4; i < j; i++, j--) {
			k = perm[i]; perm[i] = perm[j]; perm[j] = k;
		}
	}
	CU_ASSERT_EQUAL(n, 120);
	CU_ASSERT_EQUAL(good, 120);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 0);
	CU_ASSERT_EQUAL(kapa_tcp_stats(tcp)->bytes_inconsistent, 0);
	kapa_tcp_destroy(tcp);
}

struct seg {
	uint32_t off, len;
};

static void
shuffle(struct seg *s, uint32_t n)
{
	uint32_t i, j;
	struct seg x;

	for (i = n - 1; i > 0 && n > 1; i--) {
		j = rng_below(i + 1);
		x = s[i]; s[i] = s[j]; s[j] = x;
	}
}

/*
 * Random splits, reordered, with duplicates cut at other boundaries: the
 * stream is always the message, with no gap and nothing inconsistent.
 */
static void
test_random_splits(void)
{
	static uint8_t msg[6000];
	struct kapa_tcp *tcp = make_tcp(NULL);
	struct seg segs[128];
	uint32_t it, ok = 0, iters = 400;
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	for (it = 0; it < iters; it++) {
		uint32_t len = 1 + rng_below(sizeof(msg));
		uint32_t nseg = 0, off = 0, ndup, i;

		fill_msg(msg, len);
		while (off < len && nseg < 40) {
			uint32_t l = 1 + rng_below(nseg == 39 ? len - off : RTE_MIN(len - off, 1500u));

			segs[nseg].off = off;
			segs[nseg].len = l;
			nseg++;
			off += l;
		}
		if (off < len) {
			segs[nseg - 1].len += len - off;
		}
		ndup = rng_below(20);
		for (i = 0; i < ndup; i++) {
			uint32_t a = rng_below(len), b = a + 1 + rng_below(RTE_MIN(len - a, 1500u));

			segs[nseg].off = a;
			segs[nseg].len = b - a;
			nseg++;
		}
		shuffle(segs, nseg);
		rec_reset();
		tconn_init(&t, tcp, (uint16_t)(1024 + it), 8080, (uint32_t)rng(), (uint32_t)rng());
		handshake(&t, 0xff, 0xff);
		for (i = 0; i < nseg; i++) {
			s2c(&t, segs[i].off, msg + segs[i].off, segs[i].len, 0);
			if (tconn_conn(&t)->half[1].ooo_bytes > 65536)
				break;
		}
		if (R.d[1].bytes == len && memcmp(R.d[1].buf, msg, len) == 0 &&
		    R.d[1].order_errors == 0 && R.count[KAPA_EV_GAP] == 0 &&
		    tconn_conn(&t)->half[1].ooo_bytes == 0 &&
		    tconn_conn(&t)->half[1].ooo_head == KAPA_NIL)
			ok++;
		/* Free the entry so that the table never fills. */
		kapa_tcp_close(tcp, (uint32_t)t.res.idx);
	}
	CU_ASSERT_EQUAL(ok, iters);
	CU_ASSERT_EQUAL(kapa_tcp_stats(tcp)->bytes_inconsistent, 0);
	CU_ASSERT(kapa_tcp_stats(tcp)->bytes_overlap > 0);
	CU_ASSERT(kapa_tcp_stats(tcp)->segs_ooo > 0);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 0);
	kapa_tcp_destroy(tcp);
}

/*
 * Tight limits and a small pool, random order, many connections at once:
 * held bytes stay under every cap after every segment, every delivered byte
 * is the message's byte at its offset, and each stream ends up complete
 * (delivered or skipped) with offsets contiguous.
 */
static void
test_random_under_caps(void)
{
	static uint8_t msg[8][4000];
	static struct rec recs[8];
	const struct tconf tc = {.max_bytes = 3000, .max_segs = 5, .pool_bytes = 12 * 2048};
	struct kapa_tcp *tcp = make_tcp(&tc);
	struct seg segs[8][64];
	uint32_t nseg[8], pos[8], lens[8];
	struct tconn t[8];
	uint32_t it, wrong = 0, over = 0, incomplete = 0, c, i, o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	for (it = 0; it < 40; it++) {
		/* Eight connections interleaved, each with its own recorder. */
		for (c = 0; c < 8; c++) {
			uint32_t off = 0;

			lens[c] = 1 + rng_below(sizeof(msg[c]));
			fill_msg(msg[c], lens[c]);
			nseg[c] = 0;
			while (off < lens[c]) {
				uint32_t l = 1 + rng_below(RTE_MIN(lens[c] - off, 700u));

				segs[c][nseg[c]].off = off;
				segs[c][nseg[c]].len = l;
				nseg[c]++;
				off += l;
				if (nseg[c] == 63) {
					segs[c][nseg[c] - 1].len += lens[c] - off;
					off = lens[c];
				}
			}
			shuffle(segs[c], nseg[c]);
			pos[c] = 0;
			memset(&recs[c], 0, sizeof(recs[c]));
			rec_next = &recs[c];
			tconn_init(&t[c], tcp, (uint16_t)(30000 + c), 80,
				   (uint32_t)rng(), (uint32_t)rng());
			handshake(&t[c], 0xff, 0xff);
		}
		rec_next = NULL;
		for (;;) {
			int any = 0;

			for (c = 0; c < 8; c++) {
				struct kapa_conn *cn;

				if (pos[c] == nseg[c])
					continue;
				any = 1;
				i = pos[c]++;
				c2s(&t[c], segs[c][i].off, msg[c] + segs[c][i].off,
				    segs[c][i].len, 0);
				cn = tconn_conn(&t[c]);
				if (cn->half[0].ooo_bytes > tc.max_bytes ||
				    cn->half[0].ooo_segs > tc.max_segs ||
				    kapa_tcp_ooo_bytes(tcp) > tc.pool_bytes)
					over++;
			}
			if (!any)
				break;
		}
		for (c = 0; c < 8; c++) {
			struct kapa_conn *cn = tconn_conn(&t[c]);
			struct rec_dir *d = &recs[c].d[0];

			for (o = 0; o < lens[c]; o++)
				if (d->seen[o] && d->buf[o] != msg[c][o])
					wrong++;
			if (cn->half[0].next_off != lens[c] || cn->half[0].ooo_bytes != 0 ||
			    d->next != lens[c] || d->bytes + d->gap_bytes != lens[c] ||
			    d->order_errors != 0)
				incomplete++;
			kapa_tcp_close(tcp, (uint32_t)t[c].res.idx);
		}
	}
	CU_ASSERT_EQUAL(over, 0);
	CU_ASSERT_EQUAL(incomplete, 0);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT(kapa_tcp_stats(tcp)->gap_limit_conn > 0);
	CU_ASSERT(kapa_tcp_stats(tcp)->gap_limit_global > 0);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 0);
	kapa_tcp_destroy(tcp);
}

/* One connection under tight caps: delivered bytes are the message's. */
static void
test_random_gaps_content(void)
{
	static uint8_t msg[20000];
	const struct tconf tc = {.max_bytes = 2500, .max_segs = 3};
	struct kapa_tcp *tcp = make_tcp(&tc);
	struct seg segs[128];
	uint32_t it, wrong = 0, incomplete = 0, i, o;
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	for (it = 0; it < 100; it++) {
		uint32_t len = 1000 + rng_below(sizeof(msg) - 1000), off = 0, n = 0;

		fill_msg(msg, len);
		while (off < len) {
			uint32_t l = 1 + rng_below(RTE_MIN(len - off, 1460u));

			if (n == 127)
				l = len - off;
			segs[n].off = off;
			segs[n].len = l;
			n++;
			off += l;
		}
		shuffle(segs, n);
		rec_reset();
		tconn_init(&t, tcp, 45000, 80, (uint32_t)rng(), 1);
		handshake(&t, 0xff, 0xff);
		for (i = 0; i < n; i++)
			c2s(&t, segs[i].off, msg + segs[i].off, segs[i].len, 0);
		for (o = 0; o < len; o++)
			if (R.d[0].seen[o] && R.d[0].buf[o] != msg[o])
				wrong++;
		if (R.d[0].next != len || R.d[0].bytes + R.d[0].gap_bytes != len ||
		    R.d[0].order_errors != 0)
			incomplete++;
		if (R.d[0].ngaps != 0 && !(tconn_conn(&t)->half[0].flags & KAPA_HALF_GAP))
			incomplete++;
		kapa_tcp_close(tcp, (uint32_t)t.res.idx);
	}
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(incomplete, 0);
	CU_ASSERT(kapa_tcp_stats(tcp)->gaps > 0);
	kapa_tcp_destroy(tcp);
}

/* Overlaps: the bytes seen first win, the differing ones are counted. */
static void
test_conflicting_overlaps(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	uint8_t a[64], b[64], x[64], y[64];
	const struct kapa_tcp_stats *st;
	struct tconn t;
	uint64_t o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	memset(a, 'A', sizeof(a));
	memset(b, 'B', sizeof(b));
	memset(x, 'X', sizeof(x));
	memset(y, 'Y', sizeof(y));
	rec_reset();
	tconn_init(&t, tcp, 40002, 80, 0x12345678, 0x9abcdef0);
	handshake(&t, 0xff, 0xff);
	st = kapa_tcp_stats(tcp);

	/* Held [10,20) 'A', then in-order [0,30) 'B'. */
	c2s(&t, 10, a, 10, 0);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 10);
	CU_ASSERT_EQUAL(R.d[0].bytes, 0);
	c2s(&t, 0, b, 30, 0);
	CU_ASSERT_EQUAL(R.d[0].bytes, 30);
	for (o = 0; o < 30; o++)
		CU_ASSERT_EQUAL(R.d[0].buf[o], (o >= 10 && o < 20) ? 'A' : 'B');
	CU_ASSERT_EQUAL(st->bytes_overlap, 10);
	CU_ASSERT_EQUAL(st->bytes_inconsistent, 10);

	/* Held against held: [40,50) 'X' first, [35,55) 'Y', fill [30,35). */
	c2s(&t, 40, x, 10, 0);
	c2s(&t, 35, y, 20, 0);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 20);
	CU_ASSERT_EQUAL(st->bytes_inconsistent, 20);
	c2s(&t, 30, b, 5, 0);
	CU_ASSERT_EQUAL(R.d[0].bytes, 55);
	for (o = 30; o < 55; o++)
		CU_ASSERT_EQUAL(R.d[0].buf[o], o < 35 ? 'B' : (o >= 40 && o < 50) ? 'X' : 'Y');

	/* Same bytes again: overlap, but nothing inconsistent. */
	c2s(&t, 60, a, 10, 0);
	c2s(&t, 60, a, 10, 0);
	CU_ASSERT_EQUAL(st->bytes_inconsistent, 20);
	CU_ASSERT_EQUAL(st->bytes_overlap, 30);

	/* Already delivered: a retransmission, not compared, not delivered. */
	c2s(&t, 0, x, 30, 0);
	CU_ASSERT_EQUAL(st->segs_retrans, 1);
	CU_ASSERT_EQUAL(R.d[0].bytes, 55);
	CU_ASSERT_EQUAL(R.d[0].order_errors, 0);
	kapa_tcp_destroy(tcp);
}

/* A hole that never fills: GAP when the per-direction byte limit is hit. */
static void
test_gap_on_byte_limit(void)
{
	const struct tconf tc = {.max_bytes = 1000, .max_segs = 64};
	struct kapa_tcp *tcp = make_tcp(&tc);
	uint8_t m[3000];
	struct tconn t;
	int g;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	fill_msg(m, sizeof(m));
	rec_reset();
	tconn_init(&t, tcp, 40003, 80, 77, 88);
	handshake(&t, 0xff, 0xff);
	c2s(&t, 0, m, 100, 0);
	/* [100,200) is lost; hold [200,1100) (900 bytes). */
	c2s(&t, 200, m + 200, 500, 0);
	c2s(&t, 700, m + 700, 400, 0);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 900);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 0);
	/* 200 more would pass 1000: the hole is given up. */
	c2s(&t, 1100, m + 1100, 200, 0);
	g = last_event(KAPA_EV_GAP);
	CU_ASSERT_FATAL(g >= 0);
	CU_ASSERT_EQUAL(R.ev[g].off, 100);
	CU_ASSERT_EQUAL(R.ev[g].len, 100);
	CU_ASSERT_EQUAL(R.d[0].next, 1300);
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf + 200, m + 200, 1100), 0);
	CU_ASSERT(tconn_conn(&t)->half[0].flags & KAPA_HALF_GAP);
	CU_ASSERT_EQUAL(kapa_tcp_stats(tcp)->gap_limit_conn, 1);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 0);
	/* Later bytes continue at their true offsets. */
	c2s(&t, 1300, m + 1300, 50, 0);
	CU_ASSERT_EQUAL(R.d[0].next, 1350);
	CU_ASSERT_EQUAL(R.d[0].order_errors, 0);
	kapa_tcp_destroy(tcp);
}

/* ... and when the per-direction segment limit is hit. */
static void
test_gap_on_seg_limit(void)
{
	const struct tconf tc = {.max_bytes = 65536, .max_segs = 4};
	struct kapa_tcp *tcp = make_tcp(&tc);
	uint8_t m[1000];
	struct tconn t;
	int g, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	fill_msg(m, sizeof(m));
	rec_reset();
	tconn_init(&t, tcp, 40004, 80, 0, 0);
	handshake(&t, 0xff, 0xff);
	/* Four separate held pieces: [20,30) [40,50) [60,70) [80,90). */
	for (i = 1; i <= 4; i++)
		c2s(&t, 20u * i, m + 20 * i, 10, 0);
	CU_ASSERT_EQUAL(tconn_conn(&t)->half[0].ooo_segs, 4);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 0);
	c2s(&t, 100, m + 100, 10, 0);
	g = last_event(KAPA_EV_GAP);
	CU_ASSERT_FATAL(g >= 0);
	CU_ASSERT_EQUAL(R.ev[g].off, 0);
	CU_ASSERT_EQUAL(R.ev[g].len, 20);
	/* [20,30) delivered, then the next hole; the new piece is held. */
	CU_ASSERT_EQUAL(R.d[0].next, 30);
	CU_ASSERT_EQUAL(tconn_conn(&t)->half[0].ooo_segs, 4);
	CU_ASSERT_EQUAL(kapa_tcp_stats(tcp)->gap_limit_conn, 1);
	CU_ASSERT(tconn_conn(&t)->half[0].ooo_segs <= 4);
	kapa_tcp_destroy(tcp);
}

/* ... and when the global pool is empty. */
static void
test_gap_on_global_cap(void)
{
	const struct tconf tc = {.pool_bytes = 2 * KAPA_REASM_CHUNK_SIZE};
	struct kapa_tcp *tcp = make_tcp(&tc);
	struct tconn t1, t2;
	uint8_t m[4000];
	int g;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	fill_msg(m, sizeof(m));
	rec_reset();
	tconn_init(&t1, tcp, 40005, 80, 10, 20);
	tconn_init(&t2, tcp, 40006, 80, 30, 40);
	handshake(&t1, 0xff, 0xff);
	handshake(&t2, 0xff, 0xff);
	/* t1 holds two chunks' worth: the pool is empty. */
	c2s(&t1, 100, m + 100, KAPA_REASM_CHUNK_DATA, 0);
	c2s(&t1, 100 + KAPA_REASM_CHUNK_DATA + 10, m, 10, 0);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), KAPA_REASM_CHUNK_DATA + 10);
	/* t2 cannot hold anything: it skips to its segment at once. */
	rec_reset();
	c2s(&t2, 500, m, 100, 0);
	g = last_event(KAPA_EV_GAP);
	CU_ASSERT_FATAL(g >= 0);
	CU_ASSERT_EQUAL(R.ev[g].idx, (uint32_t)t2.res.idx);
	CU_ASSERT_EQUAL(R.ev[g].off, 0);
	CU_ASSERT_EQUAL(R.ev[g].len, 500);
	CU_ASSERT_EQUAL(R.d[0].next, 600);
	CU_ASSERT_EQUAL(kapa_tcp_stats(tcp)->gap_limit_global, 1);
	CU_ASSERT(kapa_tcp_ooo_bytes(tcp) <= 2 * KAPA_REASM_CHUNK_DATA);
	/* t1 still has its held bytes, and gets them when the hole fills. */
	rec_reset();
	c2s(&t1, 0, m, 100, 0);
	CU_ASSERT_EQUAL(R.d[0].next, 100 + KAPA_REASM_CHUNK_DATA);
	kapa_tcp_destroy(tcp);
}

/* The receiver acks bytes kapa never saw: GAP at once, up to the held data. */
static void
test_gap_on_acked_hole(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	uint8_t m[100];
	struct tconn t;
	int g;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	fill_msg(m, sizeof(m));
	rec_reset();
	tconn_init(&t, tcp, 40007, 80, 0xfffffff0, 1234);
	handshake(&t, 0xff, 0xff);
	c2s(&t, 0, m, 10, 0);
	c2s(&t, 20, m + 20, 10, 0);	/* [10,20) lost before the tap */
	CU_ASSERT_EQUAL(R.d[0].next, 10);
	ack_to(&t, 1, 0, 30);		/* the server got it all */
	g = last_event(KAPA_EV_GAP);
	CU_ASSERT_FATAL(g >= 0);
	CU_ASSERT_EQUAL(R.ev[g].off, 10);
	CU_ASSERT_EQUAL(R.ev[g].len, 10);
	CU_ASSERT_EQUAL(R.d[0].next, 30);
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf + 20, m + 20, 10), 0);
	CU_ASSERT_EQUAL(kapa_tcp_stats(tcp)->gap_acked_hole, 1);
	/* Nothing held, the tail lost: the ack alone skips it. */
	ack_to(&t, 1, 0, 45);
	CU_ASSERT_EQUAL(R.d[0].next, 45);
	CU_ASSERT_EQUAL(R.d[0].gap_bytes, 25);
	/* An ack behind next_off changes nothing. */
	ack_to(&t, 1, 0, 40);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 2);
	/* One past everything with nothing held: a FIN kapa did not see, not
	 * a gap; had it been a byte, the next segment is held and then the
	 * ack past it skips the byte. */
	ack_to(&t, 1, 0, 46);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 2);
	c2s(&t, 46, m, 4, 0);
	CU_ASSERT_EQUAL(R.d[0].next, 45);
	ack_to(&t, 1, 0, 50);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 3);
	CU_ASSERT_EQUAL(R.ev[last_event(KAPA_EV_GAP)].off, 45);
	CU_ASSERT_EQUAL(R.ev[last_event(KAPA_EV_GAP)].len, 1);
	CU_ASSERT_EQUAL(R.d[0].next, 50);
	CU_ASSERT_EQUAL(R.d[0].order_errors, 0);
	kapa_tcp_destroy(tcp);
}

/* Sequence numbers wrap at 2^32 inside a connection. */
static void
test_wraparound(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	static uint8_t m[3000];
	struct tconn t;
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	fill_msg(m, sizeof(m));
	rec_reset();
	tconn_init(&t, tcp, 40008, 80, 0xffffff00, 0xfffffffe);
	handshake(&t, 0xff, 0xff);
	/* Out of order across the wrap, both ways. */
	c2s(&t, 1000, m + 1000, 2000, 0);
	c2s(&t, 200, m + 200, 800, 0);
	c2s(&t, 0, m, 200, 0);
	for (i = 3000; i > 0; i -= 300)
		s2c(&t, i - 300, m + i - 300, 300, 0);
	CU_ASSERT_EQUAL(R.d[0].bytes, 3000);
	CU_ASSERT_EQUAL(R.d[1].bytes, 3000);
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf, m, 3000), 0);
	CU_ASSERT_EQUAL(memcmp(R.d[1].buf, m, 3000), 0);
	CU_ASSERT_EQUAL(kapa_tcp_stats(tcp)->out_of_window, 0);
	kapa_tcp_destroy(tcp);
}

/* More than 4 GiB through one direction: offsets keep growing past 2^32. */
static void
test_long_stream(void)
{
	static uint8_t blk[65000];
	struct kapa_tcp *tcp = make_tcp(NULL);
	const uint64_t total = (5ull << 30) + 12345;
	uint64_t off = 0;
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40009, 80, 0x80000000u, 3);
	handshake(&t, 0xff, 0xff);
	while (off < total) {
		uint32_t l = (uint32_t)RTE_MIN((uint64_t)sizeof(blk), total - off);

		/* Every 1000th segment arrives after the next one. */
		if ((off / sizeof(blk)) % 1000 == 999 && off + 2 * sizeof(blk) < total) {
			s2c(&t, off + sizeof(blk), blk, sizeof(blk), 0);
			s2c(&t, off, blk, sizeof(blk), 0);
			off += 2 * sizeof(blk);
			continue;
		}
		s2c(&t, off, blk, l, 0);
		off += l;
	}
	CU_ASSERT_EQUAL(R.d[1].next, total);
	CU_ASSERT_EQUAL(R.d[1].bytes, total);
	CU_ASSERT_EQUAL(R.d[1].order_errors, 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 0);
	CU_ASSERT_EQUAL(tconn_conn(&t)->half[1].next_off, total);
	kapa_tcp_destroy(tcp);
}

/* Data on the SYN (TFO) is stream offset 0; a copy on a SYN retransmit is
 * a retransmission. */
static void
test_data_on_syn(void)
{
	static const uint8_t d[] = "hello";
	struct kapa_tcp *tcp = make_tcp(NULL);
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40010, 80, 500, 900);
	send_raw(&t, 0, 500, 0, KAPA_TCP_SYN, d, 5, 0xff);
	CU_ASSERT_EQUAL(t.res.is_new, 1);
	CU_ASSERT_EQUAL(R.d[0].bytes, 5);
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf, d, 5), 0);
	send_raw(&t, 0, 500, 0, KAPA_TCP_SYN, d, 5, 0xff);
	CU_ASSERT_EQUAL(t.res.is_new, 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_OPEN], 1);
	CU_ASSERT_EQUAL(R.d[0].bytes, 5);
	send_raw(&t, 1, 900, 506, KAPA_TCP_SYN | KAPA_TCP_ACK, NULL, 0, 0xff);
	c2s(&t, 5, (const uint8_t *)" world", 6, 0);
	CU_ASSERT_EQUAL(R.d[0].bytes, 11);
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf, "hello world", 11), 0);
	CU_ASSERT_EQUAL(tconn_conn(&t)->state, KAPA_CONN_ESTABLISHED);
	kapa_tcp_destroy(tcp);
}

/* Regression (fuzz_tcp, seeds/tcp/bug_synack_rebase): a SYN/ACK with data and
 * a wrong ack starts the server's half; a later SYN/ACK with the right ack
 * must not re-base it, or offset 0 would be handed on a second time. */
static void
test_synack_no_rebase(void)
{
	static const uint8_t d[] = "HTTP";
	struct kapa_tcp *tcp = make_tcp(NULL);
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40011, 80, 500, 900);
	send_raw(&t, 0, 500, 0, KAPA_TCP_SYN, NULL, 0, 0xff);
	send_raw(&t, 1, 900, 777, KAPA_TCP_SYN | KAPA_TCP_ACK, d, 4, 0xff);
	CU_ASSERT_EQUAL(R.d[1].bytes, 4);
	send_raw(&t, 1, 900, 501, KAPA_TCP_SYN | KAPA_TCP_ACK, d, 4, 0xff);
	CU_ASSERT_EQUAL(R.d[1].bytes, 4);
	CU_ASSERT_EQUAL(memcmp(R.d[1].buf, d, 4), 0);
	kapa_tcp_destroy(tcp);
}

/* A FIN that overtakes its data is delivered after the data. */
static void
test_fin_before_data(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	uint8_t m[30];
	struct tconn t;
	int f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	fill_msg(m, sizeof(m));
	rec_reset();
	tconn_init(&t, tcp, 40011, 80, 1, 1);
	handshake(&t, 0xff, 0xff);
	c2s(&t, 0, m, 10, 0);
	c2s(&t, 20, m + 20, 10, KAPA_TCP_FIN);	/* data + FIN, early */
	c2s(&t, 30, NULL, 0, KAPA_TCP_FIN);	/* the FIN again, alone */
	CU_ASSERT_EQUAL(R.d[0].fin, 0);
	CU_ASSERT_EQUAL(tconn_conn(&t)->half[0].state, KAPA_HALF_FIN);
	CU_ASSERT_EQUAL(tconn_conn(&t)->state, KAPA_CONN_CLOSING);
	c2s(&t, 10, m + 10, 10, 0);
	CU_ASSERT_EQUAL(R.d[0].bytes, 30);
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf, m, 30), 0);
	CU_ASSERT_EQUAL(R.d[0].fin, 1);
	CU_ASSERT_EQUAL(R.d[0].fin_off, 30);
	f = last_event(KAPA_EV_FIN);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_FIN], 1);
	CU_ASSERT_EQUAL(R.ev[f].dir, KAPA_DIR_C2S);
	CU_ASSERT_EQUAL(tconn_conn(&t)->half[0].state, KAPA_HALF_CLOSED);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 0);
	/* Bytes past the FIN are never delivered. */
	c2s(&t, 30, m, 10, 0);
	CU_ASSERT_EQUAL(R.d[0].data_after_fin, 0);
	CU_ASSERT_EQUAL(R.d[0].bytes, 30);
	kapa_tcp_destroy(tcp);
}

/* Only an RST at exactly the next sequence number ends the connection. */
static void
test_rst_exact(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	const struct kapa_tcp_stats *st;
	uint8_t m[100];
	struct tconn t;
	uint32_t next;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	st = kapa_tcp_stats(tcp);
	fill_msg(m, sizeof(m));
	rec_reset();
	tconn_init(&t, tcp, 40012, 80, 1000, 2000);
	handshake(&t, 0xff, 0xff);
	c2s(&t, 0, m, 100, 0);
	ack_to(&t, 1, 0, 100);
	next = 1000 + 1 + 100;
	CU_ASSERT_EQUAL(kapa_tcp_rst_seq(tconn_conn(&t), KAPA_DIR_C2S), next);
	CU_ASSERT_EQUAL(kapa_tcp_rst_seq(tconn_conn(&t), KAPA_DIR_S2C), 2001);
	send_raw(&t, 0, next + 1, 0, KAPA_TCP_RST, NULL, 0, 0xff);	/* off by one */
	send_raw(&t, 0, next - 1, 0, KAPA_TCP_RST, NULL, 0, 0xff);
	send_raw(&t, 0, next + 20000, 0, KAPA_TCP_RST, NULL, 0, 0xff);	/* in window */
	send_raw(&t, 0, next + 0x40000000, 0, KAPA_TCP_RST, NULL, 0, 0xff);
	send_raw(&t, 1, 2001 + 1, 0, KAPA_TCP_RST | KAPA_TCP_ACK, NULL, 0, 0xff);
	CU_ASSERT_EQUAL(st->rst_ignored, 5);
	CU_ASSERT_EQUAL(st->rst_accepted, 0);
	CU_ASSERT_EQUAL(tconn_conn(&t)->state, KAPA_CONN_ESTABLISHED);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_RESET], 0);
	/* Tracking goes on after the ignored resets. */
	c2s(&t, 100, m, 10, 0);
	CU_ASSERT_EQUAL(R.d[0].bytes, 110);
	/* What kapa would craft is exactly what it accepts. */
	CU_ASSERT_EQUAL(kapa_tcp_rst_seq(tconn_conn(&t), KAPA_DIR_C2S), next + 10);
	send_raw(&t, 0, next + 10, 0, KAPA_TCP_RST, NULL, 0, 0xff);
	CU_ASSERT_EQUAL(st->rst_accepted, 1);
	CU_ASSERT_EQUAL(tconn_conn(&t)->state, KAPA_CONN_CLOSED);
	CU_ASSERT(tconn_conn(&t)->flags & KAPA_CONN_RESET);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_RESET], 1);
	CU_ASSERT_EQUAL(R.ev[last_event(KAPA_EV_RESET)].dir, KAPA_DIR_C2S);
	/* Late data after the reset is not delivered. */
	c2s(&t, 110, m, 10, 0);
	CU_ASSERT_EQUAL(R.d[0].bytes, 110);
	kapa_tcp_destroy(tcp);

	/* From the server, at exactly its next sequence (what the client acked). */
	tcp = make_tcp(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	st = kapa_tcp_stats(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40013, 80, 1000, 2000);
	handshake(&t, 0xff, 0xff);
	s2c(&t, 0, m, 50, 0);
	send_raw(&t, 1, 2001 + 50, 1001, KAPA_TCP_RST | KAPA_TCP_ACK, NULL, 0, 0xff);
	CU_ASSERT_EQUAL(st->rst_accepted, 1);
	CU_ASSERT_EQUAL(R.ev[last_event(KAPA_EV_RESET)].dir, KAPA_DIR_S2C);
	kapa_tcp_destroy(tcp);

	/* Refused connection: RST+ACK of exactly ISN + 1 in SYN_SENT. */
	tcp = make_tcp(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	st = kapa_tcp_stats(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40014, 80, 7000, 0);
	send_raw(&t, 0, 7000, 0, KAPA_TCP_SYN, NULL, 0, 0xff);
	send_raw(&t, 1, 0, 7002, KAPA_TCP_RST | KAPA_TCP_ACK, NULL, 0, 0xff);
	CU_ASSERT_EQUAL(st->rst_ignored, 1);
	CU_ASSERT_EQUAL(tconn_conn(&t)->state, KAPA_CONN_SYN_SENT);
	send_raw(&t, 1, 0, 7001, KAPA_TCP_RST | KAPA_TCP_ACK, NULL, 0, 0xff);
	CU_ASSERT_EQUAL(st->rst_accepted, 1);
	CU_ASSERT_EQUAL(tconn_conn(&t)->state, KAPA_CONN_CLOSED);
	/* An RST for no connection is only counted. */
	tconn_init(&t, tcp, 40015, 80, 1, 1);
	send_raw(&t, 0, 5, 0, KAPA_TCP_RST, NULL, 0, 0xff);
	CU_ASSERT_EQUAL(t.res.idx, -1);
	CU_ASSERT_EQUAL(st->no_conn, 1);
	kapa_tcp_destroy(tcp);
}

/* A link layer the record cannot rebuild is flagged, from either side. */
static void
test_l2_deep(void)
{
	static const struct {
		uint16_t tpid;
		uint8_t tags, encap, srv_encap;
		bool deep;
	} cases[] = {
		{ 0x8100, 1, 0, 0, false },
		{ 0x88a8, 1, 0, 0, false },		/* 802.1ad outer tag: kept */
		{ 0x9100, 1, 0, 0, true },		/* not rebuilt as such */
		{ 0x8100, 3, 0, 0, true },		/* a third tag */
		{ 0x8100, 1, KAPA_ENCAP_PPPOE, 0, true },
		{ 0x8100, 1, 0, KAPA_ENCAP_MPLS, true },	/* the server's side */
	};
	unsigned i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		struct kapa_tcp *tcp = make_tcp(NULL);
		struct tconn t;

		CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
		rec_reset();
		tconn_init(&t, tcp, (uint16_t)(41000 + i), 80, 100, 200);
		t.vlan[0] = t.vlan[1] = 10;
		t.tpid[0] = t.tpid[1] = cases[i].tpid;
		t.tags[0] = t.tags[1] = cases[i].tags;
		t.encap[0] = cases[i].encap;
		t.encap[1] = cases[i].srv_encap;
		send_raw(&t, 0, 100, 0, KAPA_TCP_SYN, NULL, 0, 6);
		send_raw(&t, 1, 200, 101, KAPA_TCP_SYN | KAPA_TCP_ACK, NULL, 0, 6);
		CU_ASSERT_EQUAL(!!(tconn_conn(&t)->flags & KAPA_CONN_L2_DEEP), cases[i].deep);
		kapa_tcp_destroy(tcp);
	}
}

/* SYN/ACK first: roles known, marked mid-stream, not guessed. */
static void
test_synack_pickup(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	struct kapa_conn *c;
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40016, 9999, 100, 200);
	t.vlan[1] = 300;	/* the server side's tag differs (translation) */
	t.vlan[0] = 200;
	send_raw(&t, 1, 200, 101, KAPA_TCP_SYN | KAPA_TCP_ACK, NULL, 0, 6);
	CU_ASSERT_EQUAL(tconn_conn(&t)->nvlan, 1);
	CU_ASSERT_EQUAL(tconn_conn(&t)->vlan_tci[0], 300);	/* best guess so far */
	CU_ASSERT_EQUAL(t.res.is_new, 1);
	CU_ASSERT_EQUAL(t.res.dir, KAPA_DIR_S2C);
	c = tconn_conn(&t);
	CU_ASSERT(c->flags & KAPA_CONN_MIDSTREAM);
	CU_ASSERT_FALSE(c->flags & KAPA_CONN_ROLE_GUESSED);
	CU_ASSERT_EQUAL(c->state, KAPA_CONN_SYN_RCVD);
	CU_ASSERT_EQUAL(R.ev[0].ev, KAPA_EV_OPEN);
	c2s(&t, 0, (const uint8_t *)"GET", 3, 0);
	CU_ASSERT_EQUAL(t.res.dir, KAPA_DIR_C2S);
	CU_ASSERT_EQUAL(c->vlan_tci[0], 200);	/* the client-to-server tag */
	CU_ASSERT_EQUAL(c->mac[KAPA_DIR_C2S][5], 1);
	CU_ASSERT_EQUAL(c->state, KAPA_CONN_ESTABLISHED);
	CU_ASSERT_EQUAL(R.d[0].bytes, 3);
	CU_ASSERT_EQUAL(kapa_tcp_stats(tcp)->conns_midstream, 1);
	kapa_tcp_destroy(tcp);
}

/* Data first: picked up mid-stream, roles guessed from the ports. */
/*
 * A pickup's first segment cut into pieces that arrive out of order: the
 * stream starts at the earliest byte, whatever piece came first, once the
 * peer's ack decides it; nothing is delivered before.
 */
static void
test_pickup_pieces_out_of_order(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	const struct kapa_tcp_stats *st;
	uint8_t m[40];
	struct tconn t;
	int d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	st = kapa_tcp_stats(tcp);
	fill_msg(m, sizeof(m));
	rec_reset();
	tconn_init(&t, tcp, 40000, 80, 0xfffffff8, 5000);	/* wraps inside */
	c2s(&t, 20, m + 20, 20, KAPA_TCP_PSH);	/* the last piece first */
	d = t.res.dir;
	CU_ASSERT_EQUAL_FATAL(d, KAPA_DIR_C2S);
	c2s(&t, 1, m + 1, 19, 0);
	c2s(&t, 0, m, 1, 0);			/* one byte, the earliest */
	CU_ASSERT_EQUAL(R.d[d].bytes, 0);
	/* The server acknowledges all of it: the start is decided. */
	ack_to(&t, 1, 0, 40);
	CU_ASSERT_EQUAL(R.d[d].bytes, 40);
	CU_ASSERT_EQUAL(R.d[d].order_errors, 0);
	CU_ASSERT_EQUAL(R.d[d].ngaps, 0);
	CU_ASSERT_EQUAL(memcmp(R.d[d].buf, m, 40), 0);
	CU_ASSERT_EQUAL(st->pickup_start_ack, 1);
	CU_ASSERT_EQUAL(st->pickup_early_bytes, 20);
	/* Offset 0 is the earliest byte: its sequence number maps to 0. */
	CU_ASSERT_EQUAL(kapa_tcp_seq_of(tconn_conn(&t), KAPA_DIR_C2S, 0), t.cisn + 1);
	/* A later copy of the earliest byte is a retransmission now. */
	c2s(&t, 0, m, 1, 0);
	CU_ASSERT_EQUAL(R.d[d].bytes, 40);
	c2s(&t, 40, m, 5, 0);
	CU_ASSERT_EQUAL(R.d[d].bytes, 45);
	CU_ASSERT_EQUAL(ref_errors, 0);
	kapa_tcp_destroy(tcp);
}

/*
 * The peer acknowledges less than the first byte seen: the bytes in between
 * are still to come (a hole at the stream's start), and when they come, the
 * stream starts with them.
 */
static void
test_pickup_ack_before_first(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	uint8_t m[60];
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	fill_msg(m, sizeof(m));
	rec_reset();
	tconn_init(&t, tcp, 40000, 80, 1000, 5000);
	c2s(&t, 30, m + 30, 30, 0);
	ack_to(&t, 1, 0, 10);		/* the server has 10 bytes: 10-30 to come */
	CU_ASSERT_EQUAL(R.d[KAPA_DIR_C2S].bytes, 0);
	c2s(&t, 10, m + 10, 20, 0);
	CU_ASSERT_EQUAL(R.d[KAPA_DIR_C2S].bytes, 50);
	CU_ASSERT_EQUAL(R.d[KAPA_DIR_C2S].ngaps, 0);
	CU_ASSERT_EQUAL(memcmp(R.d[KAPA_DIR_C2S].buf, m + 10, 50), 0);
	CU_ASSERT_EQUAL(kapa_tcp_seq_of(tconn_conn(&t), KAPA_DIR_C2S, 0), t.cisn + 11);
	kapa_tcp_destroy(tcp);
}

/*
 * Nobody acknowledges (a one-direction tap, a request never answered): the
 * pickup is decided after the hole timeout by the timer, at the earliest
 * byte held, with each piece's own packet. Bytes further back than the
 * window are retransmissions.
 */
static void
test_pickup_timeout(void)
{
	struct tconf tc = { .hole_ms = 200 };
	struct kapa_tcp *tcp = make_tcp(&tc);
	const struct kapa_tcp_stats *st;
	uint64_t due;
	uint8_t m[40];
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	st = kapa_tcp_stats(tcp);
	fill_msg(m, sizeof(m));
	rec_reset();
	tconn_init(&t, tcp, 40000, 80, 1000, 5000);
	c2s(&t, 10, m + 10, 30, 0);
	c2s(&t, 0, m, 10, 0);
	/* Further back than the window: never the start. */
	send_raw(&t, 0, t.cisn + 1 - KAPA_REASM_PICKUP_BACK, t.sisn + 1, KAPA_TCP_ACK, m, 5, 0xff);
	CU_ASSERT_EQUAL(st->segs_retrans, 1);
	CU_ASSERT_EQUAL(R.d[KAPA_DIR_C2S].bytes, 0);
	/* The timer knows when. */
	CU_ASSERT_EQUAL_FATAL(kapa_tcp_next_deadline(tcp, UINT64_MAX, &due), 0);
	CU_ASSERT(due <= t.now_ns + 200000000ull);
	kapa_tcp_advance(tcp, t.now_ns + 100000000ull, 100);
	CU_ASSERT_EQUAL(R.d[KAPA_DIR_C2S].bytes, 0);
	kapa_tcp_advance(tcp, t.now_ns + 201000000ull, 100);
	CU_ASSERT_EQUAL(R.d[KAPA_DIR_C2S].bytes, 40);
	CU_ASSERT_EQUAL(memcmp(R.d[KAPA_DIR_C2S].buf, m, 40), 0);
	CU_ASSERT_EQUAL(st->pickup_start_timeout, 1);
	CU_ASSERT_EQUAL(R.data_without_pkt, 2);	/* held: each with its own packet */
	CU_ASSERT_EQUAL(ref_errors, 0);
	kapa_tcp_destroy(tcp);
}

/*
 * A pickup holds at most the direction's limits: when it is full, the
 * stream starts at the earliest byte held (no GAP), counted; an RST decides
 * too, after the held bytes.
 */
static void
test_pickup_limit_and_rst(void)
{
	struct tconf tc = { .max_segs = 2 };
	struct kapa_tcp *tcp = make_tcp(&tc);
	const struct kapa_tcp_stats *st;
	uint8_t m[40];
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	st = kapa_tcp_stats(tcp);
	fill_msg(m, sizeof(m));
	rec_reset();
	tconn_init(&t, tcp, 40000, 80, 1000, 5000);
	c2s(&t, 10, m + 10, 10, 0);
	c2s(&t, 0, m, 10, 0);
	c2s(&t, 20, m + 20, 10, 0);	/* a third chunk: no room */
	CU_ASSERT_EQUAL(st->pickup_start_limit, 1);
	CU_ASSERT_EQUAL(st->gaps, 0);
	CU_ASSERT_EQUAL(R.d[KAPA_DIR_C2S].bytes, 30);
	CU_ASSERT_EQUAL(memcmp(R.d[KAPA_DIR_C2S].buf, m, 30), 0);

	/* Another pickup, ended by the sender's RST right after its bytes. */
	rec_reset();
	tconn_init(&t, tcp, 40001, 80, 7000, 5000);
	c2s(&t, 5, m + 5, 5, 0);
	c2s(&t, 0, m, 5, 0);
	send_raw(&t, 0, t.cisn + 11, 0, KAPA_TCP_RST, NULL, 0, 0xff);
	CU_ASSERT_EQUAL(R.d[KAPA_DIR_C2S].bytes, 10);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_RESET], 1);
	CU_ASSERT_EQUAL(st->pickup_start_other, 1);
	kapa_tcp_destroy(tcp);
}

static void
test_midstream_pickup(void)
{
	static const struct {
		uint16_t sender, receiver;
		int sender_is_server;
	} cases[] = {
		{8080, 50000, 1}, {40000, 443, 0}, {3128, 1025, 1},
		{50000, 40000, 0}, {40000, 50000, 1}, {80, 443, 1},
	};
	struct kapa_tcp *tcp = make_tcp(NULL);
	uint8_t m[40];
	struct kapa_conn *c;
	struct tconn t;
	unsigned i, d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	fill_msg(m, sizeof(m));
	for (i = 0; i < RTE_DIM(cases); i++) {
		rec_reset();
		/* tconn "client" = the sender here. */
		tconn_init(&t, tcp, cases[i].sender, cases[i].receiver,
			   0xfffffff0 + i, 77777);
		c2s(&t, 0, m, 20, 0);
		CU_ASSERT_EQUAL_FATAL(t.res.is_new, 1);
		c = tconn_conn(&t);
		d = t.res.dir;
		CU_ASSERT_EQUAL(d, cases[i].sender_is_server ?
				KAPA_DIR_S2C : KAPA_DIR_C2S);
		CU_ASSERT(c->flags & KAPA_CONN_MIDSTREAM);
		CU_ASSERT(c->flags & KAPA_CONN_ROLE_GUESSED);
		CU_ASSERT_EQUAL(c->state, KAPA_CONN_ESTABLISHED);
		/* Held until the peer says what it received: earlier bytes
		 * of the sender may still be on their way. */
		CU_ASSERT_EQUAL(R.d[d].bytes, 0);
		CU_ASSERT(c->half[d].flags & KAPA_HALF_PICKUP);
		/* The peer's stream starts at the ack of the first packet;
		 * its ack decides the sender's start, whose bytes come first. */
		s2c(&t, 0, m + 20, 20, 0);
		CU_ASSERT_EQUAL(R.d[d].bytes, 20);
		CU_ASSERT_FALSE(c->half[d].flags & KAPA_HALF_PICKUP);
		CU_ASSERT_EQUAL(t.res.dir, !d);
		CU_ASSERT_EQUAL(R.d[!d].bytes, 20);
		CU_ASSERT_EQUAL(memcmp(R.d[!d].buf, m + 20, 20), 0);
		c2s(&t, 20, m, 5, 0);
		CU_ASSERT_EQUAL(R.d[d].bytes, 25);
	}
	/* A pure ACK for no connection is ignored. */
	tconn_init(&t, tcp, 1111, 2222, 1, 1);
	ack_to(&t, 0, 0, 0);
	CU_ASSERT_EQUAL(t.res.idx, -1);
	CU_ASSERT_EQUAL(kapa_tcp_stats(tcp)->no_conn, 1);
	CU_ASSERT_EQUAL(kapa_tcp_stats(tcp)->conns_midstream, RTE_DIM(cases));
	kapa_tcp_destroy(tcp);
}

/* Port reuse: a SYN on a closed entry starts a new connection. */
static void
test_port_reuse(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	const struct kapa_flow_stats *fs;
	struct tconn t;
	int32_t first;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	fs = kapa_flow_stats(kapa_tcp_table(tcp));
	rec_reset();
	tconn_init(&t, tcp, 40017, 80, 1000, 2000);
	handshake(&t, 0xff, 0xff);
	first = t.res.idx;
	/* A retransmitted SYN (same ISN) is the same connection. */
	send_raw(&t, 0, 1000, 0, KAPA_TCP_SYN, NULL, 0, 0xff);
	CU_ASSERT_EQUAL(t.res.is_new, 0);
	CU_ASSERT_EQUAL(t.res.idx, first);
	c2s(&t, 0, (const uint8_t *)"abc", 3, KAPA_TCP_FIN);
	s2c(&t, 0, NULL, 0, KAPA_TCP_FIN);
	CU_ASSERT_EQUAL(tconn_conn(&t)->state, KAPA_CONN_CLOSED);
	/* Same 4-tuple, new ISN, within the linger. */
	t.cisn = 90000;
	t.sisn = 80000;
	handshake(&t, 0xff, 0xff);
	CU_ASSERT_EQUAL(fs->released[KAPA_REL_REPLACED], 1);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_CLOSE], 1);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_OPEN], 2);
	CU_ASSERT_EQUAL(kapa_tcp_stats(tcp)->syn_new_on_closed, 1);
	CU_ASSERT_EQUAL(tconn_conn(&t)->state, KAPA_CONN_ESTABLISHED);
	CU_ASSERT_EQUAL(tconn_conn(&t)->half[0].base_seq, 90001);
	CU_ASSERT_EQUAL(kapa_flow_count(kapa_tcp_table(tcp)), 1);
	/* A SYN with another ISN on an established connection: new too. */
	t.cisn = 5;
	send_raw(&t, 0, 5, 0, KAPA_TCP_SYN, NULL, 0, 0xff);
	CU_ASSERT_EQUAL(fs->released[KAPA_REL_REPLACED], 2);
	CU_ASSERT_EQUAL(t.res.is_new, 1);
	CU_ASSERT_EQUAL(kapa_tcp_stats(tcp)->conns_opened, 3);
	kapa_tcp_destroy(tcp);
}

/* The consumer stops the byte stream (opaque) or closes from a callback. */
static void
test_opaque_and_close(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	uint8_t m[300];
	struct tconn t;
	int32_t idx;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	fill_msg(m, sizeof(m));
	rec_reset();
	tconn_init(&t, tcp, 40018, 80, 1, 2);
	handshake(&t, 0xff, 0xff);
	c2s(&t, 200, m + 200, 50, 0);	/* held */
	R.opaque_at = 100;
	c2s(&t, 0, m, 150, 0);
	CU_ASSERT(tconn_conn(&t)->flags & KAPA_CONN_OPAQUE);
	CU_ASSERT_EQUAL(R.d[0].bytes, 150);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 0);
	c2s(&t, 150, m + 150, 50, 0);
	c2s(&t, 250, m + 250, 50, KAPA_TCP_FIN);
	CU_ASSERT_EQUAL(R.d[0].bytes, 150);	/* nothing more delivered */
	CU_ASSERT_EQUAL(tconn_conn(&t)->half[0].next_off, 300);	/* but tracked */
	kapa_tcp_destroy(tcp);

	tcp = make_tcp(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40019, 80, 1, 2);
	handshake(&t, 0xff, 0xff);
	idx = t.res.idx;
	R.close_at = 10;
	c2s(&t, 0, m, 20, 0);
	CU_ASSERT_EQUAL(t.res.idx, -1);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_CLOSE], 1);
	CU_ASSERT_EQUAL(R.ev[last_event(KAPA_EV_CLOSE)].idx, (uint32_t)idx);
	CU_ASSERT_EQUAL(kapa_flow_count(kapa_tcp_table(tcp)), 0);
	kapa_tcp_destroy(tcp);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_CLOSE], 1);
}

/* Idle expiry asks the consumer; 0 frees, non-zero keeps. */
static void
test_idle_expiry(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40020, 80, 1, 2);
	handshake(&t, 0xff, 0xff);
	kapa_tcp_set_idle(tcp, (uint32_t)t.res.idx, 1000);
	R.expire_answer = 5000;
	kapa_tcp_advance(tcp, t.now_ns + 3000000000ull, 100);
	CU_ASSERT_EQUAL(R.expire_calls, 1);
	CU_ASSERT_EQUAL(kapa_flow_count(kapa_tcp_table(tcp)), 1);
	R.expire_answer = 0;
	kapa_tcp_advance(tcp, t.now_ns + 10000000000ull, 100);
	CU_ASSERT_EQUAL(R.expire_calls, 2);
	CU_ASSERT_EQUAL(kapa_flow_count(kapa_tcp_table(tcp)), 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_CLOSE], 1);
	CU_ASSERT_EQUAL(kapa_flow_stats(kapa_tcp_table(tcp))->released[KAPA_REL_IDLE], 1);

	/* Closing from expire() wins over the limit it returns. */
	tconn_init(&t, tcp, 40022, 80, 1, 2);
	t.now_ns += 20000000000ull;	/* after the advance above */
	handshake(&t, 0xff, 0xff);
	kapa_tcp_set_idle(tcp, (uint32_t)t.res.idx, 1000);
	R.expire_answer = 5000;
	R.close_in_expire = 1;
	kapa_tcp_advance(tcp, t.now_ns + 3000000000ull, 100);
	CU_ASSERT_EQUAL(R.expire_calls, 3);
	CU_ASSERT_EQUAL(kapa_flow_count(kapa_tcp_table(tcp)), 0);
	CU_ASSERT_EQUAL(kapa_flow_stats(kapa_tcp_table(tcp))->released[KAPA_REL_EXPLICIT], 1);
	kapa_tcp_destroy(tcp);
}

/*
 * The idle clock moves with new payload (and SYN/FIN/RST) only: pure ACKs,
 * window updates and keepalive probes leave a keep-alive connection idle, so
 * its limit falls due at the last payload byte plus the limit.
 */
static void
test_idle_clock_payload_only(void)
{
	static const uint8_t req[] = "GET / HTTP/1.1\r\n\r\n";
	struct kapa_tcp *tcp = make_tcp(NULL);
	uint32_t rl = sizeof(req) - 1, data_ms;
	struct kapa_conn *c;
	struct tconn t;
	uint64_t t0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40030, 80, 100, 200);
	t0 = t.now_ns + 1000;	/* the SYN's time: the table clock's zero */
	handshake(&t, 0xff, 0xff);
	t.now_ns += 100000000ull;
	c2s(&t, 0, req, rl, 0);
	c = tconn_conn(&t);
	data_ms = c->last_seen;
	CU_ASSERT_EQUAL(data_ms, (uint32_t)((t.now_ns - t0) / 1000000u));
	kapa_tcp_set_idle(tcp, (uint32_t)t.res.idx, 1000);
	/* 400 ms on: the server's pure ACK, a window update, then keepalive
	 * probes from both sides (one old byte; none). */
	t.now_ns += 400000000ull;
	ack_to(&t, 1, 0, rl);
	send_raw(&t, 1, t.sisn + 1, t.cisn + 1 + rl, KAPA_TCP_ACK, NULL, 0, 0xff);
	send_raw(&t, 0, t.cisn + rl, t.sisn + 1, KAPA_TCP_ACK, req + rl - 1, 1, 0xff);
	send_raw(&t, 1, t.sisn, t.cisn + 1 + rl, KAPA_TCP_ACK, NULL, 0, 0xff);
	CU_ASSERT_EQUAL(c->last_seen, data_ms);
	CU_ASSERT_EQUAL(R.d[KAPA_DIR_C2S].bytes, rl);
	/* Due at the last payload byte + 1000 ms, not at the last ACK's. */
	R.expire_answer = 0;
	kapa_tcp_advance(tcp, t0 + (uint64_t)(data_ms + 1000 + 128) * 1000000u, 100);
	CU_ASSERT_EQUAL(R.expire_calls, 1);
	CU_ASSERT_EQUAL(kapa_flow_count(kapa_tcp_table(tcp)), 0);
	kapa_tcp_destroy(tcp);
}

/* What each SYN announces is kept per direction: MSS and SACK-permitted. */
static void
test_syn_options(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	struct kapa_conn *c;
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40031, 80, 100, 200);
	next_opts.present = KAPA_OPT_MSS | KAPA_OPT_SACK_PERM;
	next_opts.mss = 1460;
	send_raw(&t, 0, t.cisn, 0, KAPA_TCP_SYN, NULL, 0, 0xff);
	next_opts.present = KAPA_OPT_MSS;
	next_opts.mss = 1380;
	send_raw(&t, 1, t.sisn, t.cisn + 1, KAPA_TCP_SYN | KAPA_TCP_ACK, NULL, 0, 0xff);
	c = tconn_conn(&t);
	CU_ASSERT_EQUAL(c->mss[KAPA_DIR_C2S], 1460);
	CU_ASSERT_EQUAL(c->mss[KAPA_DIR_S2C], 1380);
	CU_ASSERT(c->syn_opts & KAPA_SYN_SACK_OK(KAPA_DIR_C2S));
	CU_ASSERT(!(c->syn_opts & KAPA_SYN_SACK_OK(KAPA_DIR_S2C)));
	/* A picked-up connection knows none. */
	tconn_init(&t, tcp, 40032, 80, 100, 200);
	c2s(&t, 0, (const uint8_t *)"x", 1, 0);
	c = tconn_conn(&t);
	CU_ASSERT_EQUAL(c->mss[KAPA_DIR_C2S], 0);
	CU_ASSERT_EQUAL(c->syn_opts, 0);
	kapa_tcp_destroy(tcp);
}

/*
 * ctx->pkt_off names where the packet in hand's payload starts in the
 * stream, also when its head was a retransmission; CLOSE says why.
 */
static void
test_pkt_off_and_release(void)
{
	static const uint8_t m[] = "0123456789abcdefghij";
	struct kapa_tcp *tcp = make_tcp(NULL);
	struct tconn t;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40033, 80, 100, 200);
	handshake(&t, 0xff, 0xff);
	c2s(&t, 0, m, 10, 0);
	CU_ASSERT_EQUAL(R.last_pkt_off, 0);
	c2s(&t, 5, m + 5, 10, 0);	/* 5 old bytes, then 5 new ones */
	CU_ASSERT_EQUAL(R.d[KAPA_DIR_C2S].next, 15);
	CU_ASSERT_EQUAL(R.last_pkt_off, 5);
	s2c(&t, 0, m, 4, 0);
	CU_ASSERT_EQUAL(R.last_pkt_off, 0);
	s2c(&t, 4, m + 4, 4, 0);
	CU_ASSERT_EQUAL(R.last_pkt_off, 4);
	kapa_tcp_close(tcp, (uint32_t)t.res.idx);
	i = last_event(KAPA_EV_CLOSE);
	CU_ASSERT_FATAL(i >= 0);
	CU_ASSERT_EQUAL(R.ev[i].release, KAPA_REL_EXPLICIT);
	/* Idle expiry. */
	tconn_init(&t, tcp, 40034, 80, 100, 200);
	handshake(&t, 0xff, 0xff);
	kapa_tcp_set_idle(tcp, (uint32_t)t.res.idx, 500);
	kapa_tcp_advance(tcp, t.now_ns + 2000000000ull, 100);
	i = last_event(KAPA_EV_CLOSE);
	CU_ASSERT_EQUAL(R.ev[i].release, KAPA_REL_IDLE);
	kapa_tcp_destroy(tcp);
}

/*
 * kapa_tcp_next_deadline() tells a caller with its own clock when an advance
 * fires the next expiry: an advance to that time fires it, one just before
 * does not; past every timer, nothing is due.
 */
static void
test_next_deadline(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	uint64_t due, due2, t0;
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	CU_ASSERT_EQUAL(kapa_tcp_next_deadline(tcp, UINT64_MAX, &due), -ENOENT);
	tconn_init(&t, tcp, 40035, 80, 100, 200);
	t0 = t.now_ns + 1000;
	handshake(&t, 0xff, 0xff);
	kapa_tcp_set_idle(tcp, (uint32_t)t.res.idx, 3000);
	tconn_init(&t, tcp, 40036, 80, 100, 200);
	t.now_ns = t0 + 500000000ull;
	handshake(&t, 0xff, 0xff);
	kapa_tcp_set_idle(tcp, (uint32_t)t.res.idx, 1000);
	/* The second connection's timer: 1500 ms after t0, its tick's end. */
	CU_ASSERT_FATAL(kapa_tcp_next_deadline(tcp, t0 + 60000000000ull, &due) == 0);
	CU_ASSERT(due >= t0 + 1500000000ull);
	CU_ASSERT(due <= t0 + 1500000000ull + 128000000ull);
	CU_ASSERT_EQUAL(kapa_tcp_next_deadline(tcp, t0 + 1400000000ull, &due2), -ENOENT);
	R.expire_answer = 0;
	kapa_tcp_advance(tcp, due - 1000000u, 100);
	CU_ASSERT_EQUAL(R.expire_calls, 0);
	kapa_tcp_advance(tcp, due, 100);
	CU_ASSERT_EQUAL(R.expire_calls, 1);
	/* Then the first one's, at 3000 ms. */
	CU_ASSERT_FATAL(kapa_tcp_next_deadline(tcp, t0 + 60000000000ull, &due) == 0);
	CU_ASSERT(due >= t0 + 3000000000ull && due <= t0 + 3128000000ull);
	kapa_tcp_advance(tcp, due, 100);
	CU_ASSERT_EQUAL(R.expire_calls, 2);
	CU_ASSERT_EQUAL(kapa_tcp_next_deadline(tcp, UINT64_MAX, &due), -ENOENT);
	kapa_tcp_destroy(tcp);
}

/* Far-off data is ignored; non-TCP packets are only counted. */
static void
test_out_of_window_and_classes(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	struct kapa_pkt p;
	uint8_t m[10] = {0};
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40021, 80, 1, 2);
	handshake(&t, 0xff, 0xff);
	c2s(&t, 0x80000000u, m, 10, 0);
	CU_ASSERT_EQUAL(kapa_tcp_stats(tcp)->out_of_window, 1);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 0);
	memset(&p, 0, sizeof(p));
	p.cls = KAPA_PKT_NON_TCP;
	kapa_tcp_input(tcp, &p, 1, NULL, &t.res);
	CU_ASSERT_EQUAL(t.res.idx, -1);
	p.cls = KAPA_PKT_MALFORMED;
	p.bad = KAPA_BAD_TCP_DOFF;
	kapa_tcp_input(tcp, &p, 1, NULL, &t.res);
	CU_ASSERT_EQUAL(kapa_tcp_stats(tcp)->pkts[KAPA_PKT_NON_TCP], 1);
	CU_ASSERT_EQUAL(kapa_tcp_stats(tcp)->bad[KAPA_BAD_TCP_DOFF], 1);
	CU_ASSERT_STRING_EQUAL(kapa_stream_event_name(KAPA_EV_GAP), "gap");
	kapa_tcp_destroy(tcp);
}

/* Parts of the handshake missed: the halves start where they are seen. */
static void
test_missed_handshake_parts(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	struct kapa_conn *c;
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	/* SYN seen, SYN/ACK missed: the client's ACK gives the server's base. */
	tconn_init(&t, tcp, 40200, 80, 100, 900);
	send_raw(&t, 0, 100, 0, KAPA_TCP_SYN, NULL, 0, 7);
	c2s(&t, 0, (const uint8_t *)"GET", 3, 0);
	c = tconn_conn(&t);
	CU_ASSERT_EQUAL(c->state, KAPA_CONN_ESTABLISHED);
	CU_ASSERT_FALSE(c->flags & KAPA_CONN_EMBRYONIC);
	CU_ASSERT_EQUAL(c->half[1].base_seq, 901);
	s2c(&t, 0, (const uint8_t *)"HTTP", 4, 0);
	CU_ASSERT_EQUAL(R.d[0].bytes, 3);
	CU_ASSERT_EQUAL(R.d[1].bytes, 4);
	/* Without the SYN/ACK nobody knows whether scaling was agreed. */
	CU_ASSERT_FALSE(c->half[0].flags & KAPA_HALF_WSCALE);

	/* Both FINs, then a SYN/ACK on the closed entry: a new connection
	 * picked up from its SYN/ACK. */
	c2s(&t, 3, NULL, 0, KAPA_TCP_FIN);
	s2c(&t, 4, NULL, 0, KAPA_TCP_FIN);
	CU_ASSERT_EQUAL(c->state, KAPA_CONN_CLOSED);
	/* Late data of a closed connection is not delivered. */
	s2c(&t, 0, (const uint8_t *)"HTTP", 4, 0);
	CU_ASSERT_EQUAL(R.d[1].bytes, 4);
	send_raw(&t, 1, 5000, 7001, KAPA_TCP_SYN | KAPA_TCP_ACK, NULL, 0, 0xff);
	CU_ASSERT_EQUAL(t.res.is_new, 1);
	c = tconn_conn(&t);
	CU_ASSERT_EQUAL(c->state, KAPA_CONN_SYN_RCVD);
	CU_ASSERT(c->flags & KAPA_CONN_MIDSTREAM);
	CU_ASSERT_EQUAL(c->half[0].base_seq, 7001);
	CU_ASSERT_EQUAL(kapa_flow_stats(kapa_tcp_table(tcp))->released[KAPA_REL_REPLACED], 1);
	kapa_tcp_destroy(tcp);
}

/* A half-open connection expires after syn_timeout_ms when asked. */
static void
test_embryonic_expiry(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40201, 80, 1, 2);
	send_raw(&t, 0, 1, 0, KAPA_TCP_SYN, NULL, 0, 0xff);
	CU_ASSERT(tconn_conn(&t)->flags & KAPA_CONN_EMBRYONIC);
	kapa_tcp_advance(tcp, t.now_ns + 20000000000ull, 100);	/* 20 s: not yet */
	CU_ASSERT_EQUAL(R.expire_calls, 0);
	kapa_tcp_advance(tcp, t.now_ns + 31000000000ull, 100);	/* past 30 s */
	CU_ASSERT_EQUAL(R.expire_calls, 1);
	CU_ASSERT_EQUAL(kapa_flow_count(kapa_tcp_table(tcp)), 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_CLOSE], 1);
	kapa_tcp_destroy(tcp);
}

/* IPv6 connections are tracked the same way. */
static void
test_ipv6(void)
{
	static const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	struct kapa_tcp *tcp = make_tcp(NULL);
	struct kapa_tcp_result res;
	struct kapa_pkt p;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	for (i = 0; i < 4; i++) {
		static const uint8_t flags[4] = {
			KAPA_TCP_SYN, KAPA_TCP_SYN | KAPA_TCP_ACK, KAPA_TCP_ACK,
			KAPA_TCP_ACK | KAPA_TCP_PSH,
		};
		int srv = i == 1;

		memset(&p, 0, sizeof(p));
		p.cls = KAPA_PKT_TCP;
		p.family = 6;
		memcpy(p.src, srv ? b : a, 16);
		memcpy(p.dst, srv ? a : b, 16);
		p.sport = srv ? 443 : 50000;
		p.dport = srv ? 50000 : 443;
		p.seq = srv ? 10 : (i == 0 ? 20 : 21);
		p.ack = srv ? 21 : 11;
		p.tcp_flags = flags[i];
		p.data = (const uint8_t *)"v6!";
		p.payload_len = i == 3 ? 3 : 0;
		kapa_tcp_input(tcp, &p, 1000 + (uint64_t)i, NULL, &res);
	}
	CU_ASSERT(res.idx >= 0);
	CU_ASSERT_EQUAL(res.dir, KAPA_DIR_C2S);
	CU_ASSERT_EQUAL(R.d[0].bytes, 3);
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf, "v6!", 3), 0);
	CU_ASSERT_EQUAL(kapa_flow_conn(kapa_tcp_table(tcp), (uint32_t)res.idx)->state,
			KAPA_CONN_ESTABLISHED);
	kapa_tcp_destroy(tcp);
}

/* ---- hole timeout and hand-on at release ------------------------------------ */

static void
wait_ms(struct tconn *t, uint64_t ms)
{
	t->now_ns += ms * 1000000u;
}

/*
 * A hole nobody fills (a segment kapa missed, no ack from the peer seen) is
 * skipped once it is older than the hole timeout, and only when its own
 * sender sends again: not on the peer's packets, not on a timer.
 */
static void
test_hole_timeout(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);	/* default: 1000 ms */
	const struct kapa_tcp_stats *st;
	uint8_t m[100];
	struct tconn t;
	int g;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	st = kapa_tcp_stats(tcp);
	fill_msg(m, sizeof(m));
	rec_reset();
	tconn_init(&t, tcp, 40300, 80, 100, 200);
	handshake(&t, 0xff, 0xff);
	c2s(&t, 0, m, 10, 0);
	c2s(&t, 20, m + 20, 10, 0);		/* [10,20) missed */
	wait_ms(&t, 999);
	c2s(&t, 40, m + 40, 10, 0);		/* [30,40) missed; hole 999 ms old */
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 0);
	CU_ASSERT_EQUAL(R.d[0].next, 10);
	wait_ms(&t, 2);
	/* Older than 1 s now, but the peer's packets, a packet of the peer
	 * direction and the timer do not look at it. */
	ack_to(&t, 1, 0, 10);
	s2c(&t, 0, m, 5, 0);
	kapa_tcp_advance(tcp, t.now_ns, 100);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 0);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 20);
	/* The sender's next packet (a pure ack) skips the old hole, delivers
	 * [20,30), and stops at [30,40): that hole is only 2 ms old. */
	ack_to(&t, 0, 50, 5);
	g = last_event(KAPA_EV_GAP);
	CU_ASSERT_FATAL(g >= 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 1);
	CU_ASSERT_EQUAL(R.ev[g].dir, KAPA_DIR_C2S);
	CU_ASSERT_EQUAL(R.ev[g].off, 10);
	CU_ASSERT_EQUAL(R.ev[g].len, 10);
	CU_ASSERT_EQUAL(R.ev[g].had_pkt, 1);
	CU_ASSERT_EQUAL(R.d[0].next, 30);
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf + 20, m + 20, 10), 0);
	CU_ASSERT_EQUAL(st->gap_hole_timeout, 1);
	CU_ASSERT_EQUAL(st->gaps, 1);
	CU_ASSERT(tconn_conn(&t)->half[0].flags & KAPA_HALF_GAP);
	CU_ASSERT_FALSE(tconn_conn(&t)->half[1].flags & KAPA_HALF_GAP);
	/* A second later a new segment is held behind a new hole: the old
	 * hole goes, the new one (its bytes missing only since now) stays. */
	wait_ms(&t, 1000);
	c2s(&t, 60, m + 60, 10, 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 2);
	CU_ASSERT_EQUAL(R.ev[last_event(KAPA_EV_GAP)].off, 30);
	CU_ASSERT_EQUAL(R.d[0].next, 50);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 10);
	CU_ASSERT_EQUAL(st->gap_hole_timeout, 2);
	/* A late copy of the missed bytes fills a hole before it times out. */
	wait_ms(&t, 999);
	c2s(&t, 50, m + 50, 10, 0);
	CU_ASSERT_EQUAL(R.d[0].next, 70);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 2);
	CU_ASSERT_EQUAL(R.d[0].order_errors + R.d[1].order_errors, 0);
	CU_ASSERT_EQUAL(R.d[1].ngaps, 0);
	kapa_tcp_destroy(tcp);
}

/* Several holes at once, a hole in front of older data, a held FIN, the
 * filling segment itself, and a configured timeout. */
static void
test_hole_timeout_cases(void)
{
	const struct tconf tc = {.hole_ms = 5000};
	struct kapa_tcp *tcp = make_tcp(NULL);
	const struct kapa_tcp_stats *st;
	uint8_t m[100];
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	st = kapa_tcp_stats(tcp);
	fill_msg(m, sizeof(m));

	/* [40,50) held first; [20,30) held 800 ms later in front of it: the
	 * bytes ahead of both have been missing since the first, so both
	 * holes go together. */
	rec_reset();
	tconn_init(&t, tcp, 40301, 80, 1, 2);
	handshake(&t, 0xff, 0xff);
	c2s(&t, 0, m, 10, 0);
	c2s(&t, 40, m + 40, 10, 0);
	wait_ms(&t, 800);
	c2s(&t, 20, m + 20, 10, 0);
	wait_ms(&t, 201);
	ack_to(&t, 0, 50, 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 2);
	CU_ASSERT_EQUAL(R.d[0].next, 50);
	CU_ASSERT_EQUAL(R.d[0].gap_bytes, 20);
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf + 40, m + 40, 10), 0);
	CU_ASSERT_EQUAL(st->gap_hole_timeout, 2);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 0);

	/* A FIN held behind a hole: delivered after the gap, the half ends. */
	rec_reset();
	tconn_init(&t, tcp, 40302, 80, 1, 2);
	t.now_ns += 10000000000ull;	/* the table clock never goes back */
	handshake(&t, 0xff, 0xff);
	s2c(&t, 20, m + 20, 10, KAPA_TCP_FIN);
	wait_ms(&t, 1500);
	s2c(&t, 31, NULL, 0, 0);		/* the server's pure ack */
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 1);
	CU_ASSERT_EQUAL(R.d[1].gap_bytes, 20);
	CU_ASSERT_EQUAL(R.d[1].fin, 1);
	CU_ASSERT_EQUAL(R.d[1].fin_off, 30);
	CU_ASSERT_EQUAL(tconn_conn(&t)->half[1].state, KAPA_HALF_CLOSED);
	CU_ASSERT_EQUAL(st->gap_hole_timeout, 3);

	/* The segment that fills an old hole arrives: no gap. */
	rec_reset();
	tconn_init(&t, tcp, 40303, 80, 1, 2);
	t.now_ns += 20000000000ull;	/* the table clock never goes back */
	handshake(&t, 0xff, 0xff);
	c2s(&t, 10, m + 10, 10, 0);
	wait_ms(&t, 4000);
	c2s(&t, 0, m, 10, 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 0);
	CU_ASSERT_EQUAL(R.d[0].next, 20);
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf, m, 20), 0);
	kapa_tcp_destroy(tcp);

	/* hole_timeout_ms = 5000: not at 4.9 s, at 5 s. */
	tcp = make_tcp(&tc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	st = kapa_tcp_stats(tcp);
	rec_reset();
	tconn_init(&t, tcp, 40304, 80, 1, 2);
	handshake(&t, 0xff, 0xff);
	c2s(&t, 10, m + 10, 10, 0);
	wait_ms(&t, 4900);
	ack_to(&t, 0, 20, 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 0);
	wait_ms(&t, 100);
	ack_to(&t, 0, 20, 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 1);
	CU_ASSERT_EQUAL(R.d[0].next, 20);
	CU_ASSERT_EQUAL(st->gap_hole_timeout, 1);
	kapa_tcp_destroy(tcp);
}

/* The references and times of hold_both_ways()'s held segments. */
static uintptr_t held_ref[3];
static uint64_t held_ns[3];

/* Hold data both ways with holes: c2s [0,10) delivered, [20,30) and
 * [40,45) held; s2c [5,15) held. */
static void
hold_both_ways(struct tconn *t, const uint8_t *m)
{
	handshake(t, 0xff, 0xff);
	c2s(t, 0, m, 10, 0);
	c2s(t, 20, m + 20, 10, 0);
	held_ref[0] = frame_no;
	held_ns[0] = t->now_ns;
	c2s(t, 40, m + 40, 5, 0);
	held_ref[1] = frame_no;
	held_ns[1] = t->now_ns;
	s2c(t, 5, m + 5, 10, 0);
	held_ref[2] = frame_no;
	held_ns[2] = t->now_ns;
	t->now_ns += 7000000;	/* the release comes later than any of them */
}

/* The hand-on of hold_both_ways() at release, exactly, before CLOSE. */
static void
check_hand_on(const uint8_t *m, uint32_t idx)
{
	/* held: which of hold_both_ways()'s segments brought the bytes (its
	 * reference and time come with them), -1 for none. */
	static const struct {
		uint8_t ev, dir;
		uint64_t off, len;
		int held;
	} want[] = {
		{KAPA_EV_GAP, 0, 10, 10, -1}, {KAPA_EV_MAX, 0, 20, 10, 0},
		{KAPA_EV_GAP, 0, 30, 10, -1}, {KAPA_EV_MAX, 0, 40, 5, 1},
		{KAPA_EV_GAP, 1, 0, 5, -1}, {KAPA_EV_MAX, 1, 5, 10, 2},
		{KAPA_EV_CLOSE, 0, 0, 0, -1},
	};
	uint32_t i, first = R.nev - RTE_DIM(want);

	CU_ASSERT_FATAL(R.nev >= RTE_DIM(want));
	for (i = 0; i < RTE_DIM(want); i++) {
		const struct rec_event *e = &R.ev[first + i];

		CU_ASSERT_EQUAL(e->ev, want[i].ev);
		CU_ASSERT_EQUAL(e->dir, want[i].dir);
		CU_ASSERT_EQUAL(e->off, want[i].off);
		CU_ASSERT_EQUAL(e->len, want[i].len);
		CU_ASSERT_EQUAL(e->idx, idx);
		if (want[i].ev != KAPA_EV_CLOSE)
			CU_ASSERT_EQUAL(e->had_pkt, 0);
		if (want[i].held >= 0) {
			CU_ASSERT_PTR_EQUAL(e->ref, frame_ref(held_ref[want[i].held]));
			CU_ASSERT_EQUAL(e->ns, held_ns[want[i].held]);
		} else if (want[i].ev == KAPA_EV_GAP) {
			CU_ASSERT_PTR_NULL(e->ref);	/* a GAP has no packet */
		}
	}
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf, m, 10), 0);
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf + 20, m + 20, 10), 0);
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf + 40, m + 40, 5), 0);
	CU_ASSERT_EQUAL(memcmp(R.d[1].buf + 5, m + 5, 10), 0);
	CU_ASSERT_EQUAL(R.d[0].order_errors + R.d[1].order_errors, 0);
	CU_ASSERT_EQUAL(R.data_after_close, 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_CLOSE], 1);
}

/*
 * Held bytes are handed on at release, for every reason: a GAP for each
 * hole, then the bytes, client to server first, without a packet, then
 * CLOSE.
 */
static void
test_release_hand_on(void)
{
	const struct tconf small = {.capacity = 16};
	struct kapa_tcp *tcp = make_tcp(NULL);
	const struct kapa_tcp_stats *st;
	const struct kapa_flow_stats *fs;
	struct tconn t, u[16];
	uint8_t m[100];
	uint32_t idx, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	st = kapa_tcp_stats(tcp);
	fs = kapa_flow_stats(kapa_tcp_table(tcp));
	fill_msg(m, sizeof(m));

	/* kapa_tcp_close() */
	rec_reset();
	R.log_data = 1;
	tconn_init(&t, tcp, 40400, 80, 1, 2);
	hold_both_ways(&t, m);
	idx = (uint32_t)t.res.idx;
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 0);
	kapa_tcp_close(tcp, idx);
	check_hand_on(m, idx);
	CU_ASSERT_EQUAL(R.data_without_pkt, 3);
	CU_ASSERT_EQUAL(st->gap_release, 3);
	CU_ASSERT_EQUAL(st->bytes_release_flushed, 25);
	CU_ASSERT_EQUAL(st->gaps, 3);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 0);

	/* Idle expiry */
	rec_reset();
	R.log_data = 1;
	tconn_init(&t, tcp, 40401, 80, 1, 2);
	hold_both_ways(&t, m);
	idx = (uint32_t)t.res.idx;
	kapa_tcp_set_idle(tcp, idx, 1000);
	kapa_tcp_advance(tcp, t.now_ns + 3000000000ull, 100);
	CU_ASSERT_EQUAL(R.expire_calls, 1);
	check_hand_on(m, idx);
	CU_ASSERT_EQUAL(fs->released[KAPA_REL_IDLE], 1);

	/* Port reuse: the SYN is in hand, but the old bytes come without it,
	 * before the new connection opens. */
	rec_reset();
	R.log_data = 1;
	tconn_init(&t, tcp, 40402, 80, 1, 2);
	t.now_ns += 10000000000ull;	/* after the advance above */
	hold_both_ways(&t, m);
	idx = (uint32_t)t.res.idx;
	send_raw(&t, 0, 777, 0, KAPA_TCP_SYN, NULL, 0, 0xff);
	CU_ASSERT_EQUAL(t.res.is_new, 1);
	CU_ASSERT_EQUAL(R.ev[R.nev - 1].ev, KAPA_EV_OPEN);
	R.nev--;	/* check what came before the new OPEN */
	check_hand_on(m, idx);
	CU_ASSERT_EQUAL(fs->released[KAPA_REL_REPLACED], 1);

	kapa_tcp_close(tcp, (uint32_t)t.res.idx);	/* the new one: nothing held */

	/* kapa_tcp_destroy() */
	rec_reset();
	R.log_data = 1;
	tconn_init(&t, tcp, 40403, 80, 1, 2);
	t.now_ns += 10000000000ull;
	hold_both_ways(&t, m);
	idx = (uint32_t)t.res.idx;
	kapa_tcp_destroy(tcp);
	check_hand_on(m, idx);

	/* kapa_tcp_close_all(): the same, and the core stays for its counters. */
	tcp = make_tcp(NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	st = kapa_tcp_stats(tcp);
	rec_reset();
	R.log_data = 1;
	tconn_init(&t, tcp, 40405, 80, 1, 2);
	hold_both_ways(&t, m);
	idx = (uint32_t)t.res.idx;
	CU_ASSERT_EQUAL(kapa_tcp_close_all(tcp), 1);
	check_hand_on(m, idx);
	CU_ASSERT_EQUAL(st->gap_release, 3);
	CU_ASSERT_EQUAL(st->bytes_release_flushed, 25);
	CU_ASSERT_EQUAL(kapa_flow_count(kapa_tcp_table(tcp)), 0);
	CU_ASSERT_EQUAL(kapa_tcp_close_all(tcp), 0);
	kapa_tcp_destroy(tcp);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_CLOSE], 1);

	/* Eviction: a full table (16) evicts the longest idle entry. */
	tcp = make_tcp(&small);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	rec_reset();
	R.log_data = 1;
	tconn_init(&t, tcp, 40404, 80, 1, 2);
	hold_both_ways(&t, m);
	idx = (uint32_t)t.res.idx;
	for (i = 0; i < 16; i++) {
		tconn_init(&u[i], tcp, (uint16_t)(41000 + i), 80, 1, 2);
		u[i].now_ns = t.now_ns + 2000000000ull + i * 1000000u;
		handshake(&u[i], 0xff, 0xff);
	}
	CU_ASSERT(kapa_flow_stats(kapa_tcp_table(tcp))->released[KAPA_REL_EVICT_LRU] >= 1);
	{
		int last = last_event(KAPA_EV_CLOSE);

		CU_ASSERT_FATAL(last >= 6);
		CU_ASSERT_EQUAL(R.ev[last].idx, idx);
		R.nev = (uint32_t)last + 1;
		check_hand_on(m, idx);
	}
	kapa_tcp_destroy(tcp);
}

/*
 * The consumer closes the connection, or makes it opaque, from a callback
 * of its own release: the hand-on stops, CLOSE comes once, nothing is left
 * held. An opaque connection hands nothing on.
 */
static void
test_release_hand_on_stops(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	const struct kapa_tcp_stats *st;
	uint8_t m[100];
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	st = kapa_tcp_stats(tcp);
	fill_msg(m, sizeof(m));

	/* Close from the first data call of the hand-on (bytes 10 -> 20). */
	rec_reset();
	tconn_init(&t, tcp, 40500, 80, 1, 2);
	hold_both_ways(&t, m);
	R.close_at = 11;
	kapa_tcp_close(tcp, (uint32_t)t.res.idx);
	CU_ASSERT_EQUAL(R.d[0].next, 30);
	CU_ASSERT_EQUAL(R.d[1].bytes, 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_CLOSE], 1);
	CU_ASSERT_EQUAL(kapa_flow_count(kapa_tcp_table(tcp)), 0);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 0);
	CU_ASSERT_EQUAL(st->bytes_release_flushed, 10);

	/* The same from an idle expiry (the close is not deferred to a later
	 * packet: the entry goes now, once). */
	rec_reset();
	tconn_init(&t, tcp, 40501, 80, 1, 2);
	hold_both_ways(&t, m);
	R.close_at = 11;
	kapa_tcp_set_idle(tcp, (uint32_t)t.res.idx, 1000);
	kapa_tcp_advance(tcp, t.now_ns + 3000000000ull, 100);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_CLOSE], 1);
	CU_ASSERT_EQUAL(kapa_flow_count(kapa_tcp_table(tcp)), 0);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 0);

	/* Opaque from the hand-on: the rest is freed, not delivered. */
	rec_reset();
	tconn_init(&t, tcp, 40502, 80, 1, 2);
	t.now_ns += 10000000000ull;
	hold_both_ways(&t, m);
	R.opaque_at = 11;
	kapa_tcp_close(tcp, (uint32_t)t.res.idx);
	CU_ASSERT_EQUAL(R.d[0].next, 30);
	CU_ASSERT_EQUAL(R.d[1].bytes, 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_CLOSE], 1);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 0);

	/* Opaque before the release: nothing is held, nothing handed on. */
	rec_reset();
	tconn_init(&t, tcp, 40503, 80, 1, 2);
	t.now_ns += 10000000000ull;
	hold_both_ways(&t, m);
	kapa_tcp_set_opaque(tcp, (uint32_t)t.res.idx);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 0);
	kapa_tcp_close(tcp, (uint32_t)t.res.idx);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 0);
	CU_ASSERT_EQUAL(R.d[0].bytes, 10);
	CU_ASSERT_EQUAL(R.d[1].bytes, 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_CLOSE], 1);
	CU_ASSERT_EQUAL(st->gap_release, 3);	/* one in each case above */
	kapa_tcp_destroy(tcp);
}

/* ---- packet references of held bytes ---------------------------------------- */

/* The data callbacks logged since event @p from, as (off, len, ref, had_pkt). */
struct want_data {
	uint64_t off, len;
	uintptr_t ref;
	int had_pkt;
};

static void
check_data_log(uint32_t from, const struct want_data *w, uint32_t n)
{
	uint32_t i, k = 0;

	for (i = from; i < R.nev && k < n; i++) {
		const struct rec_event *e = &R.ev[i];

		if (e->ev != KAPA_EV_MAX)
			continue;
		CU_ASSERT_EQUAL(e->off, w[k].off);
		CU_ASSERT_EQUAL(e->len, w[k].len);
		CU_ASSERT_PTR_EQUAL(e->ref, frame_ref(w[k].ref));
		CU_ASSERT_EQUAL(e->had_pkt, w[k].had_pkt);
		k++;
	}
	CU_ASSERT_EQUAL(k, n);
	for (; i < R.nev; i++)
		CU_ASSERT_NOT_EQUAL(R.ev[i].ev, KAPA_EV_MAX);
}

/*
 * Bytes held out of order and delivered when the hole fills come with the
 * reference and time of the packet that carried them, not of the packet
 * that filled the hole; the idle clock stays with the packet in hand.
 */
static void
test_held_bytes_keep_their_packet(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	uintptr_t r20, r30, r10, rfin, r0;
	uint64_t ns20, ns30, nsfin, t0;
	struct kapa_conn *c;
	uint32_t from;
	uint8_t m[100];
	struct tconn t;
	int f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	fill_msg(m, sizeof(m));
	rec_reset();
	R.log_data = 1;
	tconn_init(&t, tcp, 40600, 80, 1, 2);
	t0 = t.now_ns + 1000;			/* the table clock starts here */
	handshake(&t, 0xff, 0xff);
	c2s(&t, 0, m, 10, 0);
	r0 = frame_no;
	c2s(&t, 20, m + 20, 10, 0);		/* held */
	r20 = frame_no;
	ns20 = t.now_ns;
	wait_ms(&t, 100);
	c2s(&t, 30, m + 30, 10, 0);		/* held, continues the chunk before */
	r30 = frame_no;
	ns30 = t.now_ns;
	/* The server's FIN before its data: held. */
	s2c(&t, 5, m + 5, 0, KAPA_TCP_FIN);
	rfin = frame_no;
	nsfin = t.now_ns;
	wait_ms(&t, 500);
	from = R.nev;
	c2s(&t, 10, m + 10, 10, 0);		/* fills the hole */
	r10 = frame_no;
	{
		const struct want_data w[] = {
			{10, 10, r10, 1}, {20, 10, r20, 0}, {30, 10, r30, 0},
		};

		check_data_log(from, w, RTE_DIM(w));
	}
	/* Times of the held bytes are their own, earlier than the packet's. */
	for (f = (int)from; f < (int)R.nev; f++) {
		if (R.ev[f].ev == KAPA_EV_MAX && R.ev[f].off == 20)
			CU_ASSERT_EQUAL(R.ev[f].ns, ns20);
		if (R.ev[f].ev == KAPA_EV_MAX && R.ev[f].off == 30)
			CU_ASSERT_EQUAL(R.ev[f].ns, ns30);
		if (R.ev[f].ev == KAPA_EV_MAX && R.ev[f].off == 10)
			CU_ASSERT_EQUAL(R.ev[f].ns, t.now_ns);
	}
	CU_ASSERT_EQUAL(R.d[0].next, 40);
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf, m, 40), 0);
	CU_ASSERT_NOT_EQUAL(r0, r10);
	/* The idle clock is the packet in hand's, not the held bytes' time. */
	c = tconn_conn(&t);
	CU_ASSERT_EQUAL(c->last_seen, (uint32_t)((t.now_ns - t0) / 1000000u));
	CU_ASSERT(c->last_seen >= 600);

	/* The server's bytes fill in front of its held FIN: the FIN comes with
	 * the FIN's packet. */
	s2c(&t, 0, m, 5, 0);
	f = last_event(KAPA_EV_FIN);
	CU_ASSERT_FATAL(f >= 0);
	CU_ASSERT_EQUAL(R.ev[f].dir, KAPA_DIR_S2C);
	CU_ASSERT_EQUAL(R.ev[f].off, 5);
	CU_ASSERT_PTR_EQUAL(R.ev[f].ref, frame_ref(rfin));
	CU_ASSERT_EQUAL(R.ev[f].ns, nsfin);
	CU_ASSERT_EQUAL(R.ev[f].had_pkt, 0);
	CU_ASSERT_EQUAL(R.d[0].order_errors + R.d[1].order_errors, 0);
	CU_ASSERT_EQUAL(ref_errors, 0);
	kapa_tcp_destroy(tcp);
}

/*
 * A segment that covers held bytes is delivered in pieces, split where the
 * reference changes: its own bytes with its packet, the held ranges (seen
 * first) with theirs. A held segment longer than a chunk keeps one
 * reference over all its chunks. The hole timeout and an ack past a hole
 * deliver held bytes with their references too.
 */
static void
test_held_bytes_split_by_packet(void)
{
	struct kapa_tcp *tcp = make_tcp(NULL);
	static uint8_t big[3 * 2048];
	uintptr_t ra, rb, rbig, rall, rlate;
	uint32_t from, i;
	uint8_t m[100];
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	fill_msg(m, sizeof(m));
	fill_msg(big, sizeof(big));
	rec_reset();
	R.log_data = 1;
	tconn_init(&t, tcp, 40601, 80, 1, 2);
	handshake(&t, 0xff, 0xff);
	c2s(&t, 20, m + 20, 10, 0);
	ra = frame_no;
	c2s(&t, 50, m + 50, 5, 0);
	rb = frame_no;
	from = R.nev;
	c2s(&t, 0, m, 60, 0);			/* covers both, and more */
	rall = frame_no;
	{
		const struct want_data w[] = {
			{0, 20, rall, 1}, {20, 10, ra, 0}, {30, 20, rall, 1},
			{50, 5, rb, 0}, {55, 5, rall, 1},
		};

		check_data_log(from, w, RTE_DIM(w));
	}
	CU_ASSERT_EQUAL(memcmp(R.d[0].buf, m, 60), 0);

	/* 5000 bytes held at once take three chunks, one reference. */
	s2c(&t, 100, big, 5000, 0);
	rbig = frame_no;
	CU_ASSERT_EQUAL(tconn_conn(&t)->half[1].ooo_segs, 3);
	from = R.nev;
	s2c(&t, 0, big, 100, 0);
	{
		uint32_t n = 0, bytes = 0;

		for (i = from; i < R.nev; i++) {
			if (R.ev[i].ev != KAPA_EV_MAX || R.ev[i].off < 100)
				continue;
			CU_ASSERT_PTR_EQUAL(R.ev[i].ref, frame_ref(rbig));
			CU_ASSERT_EQUAL(R.ev[i].had_pkt, 0);
			n++;
			bytes += (uint32_t)R.ev[i].len;
		}
		CU_ASSERT_EQUAL(n, 3);
		CU_ASSERT_EQUAL(bytes, 5000);
	}

	/* Skipped holes: by the hole timeout, and by an ack past the hole. */
	c2s(&t, 70, m + 70, 10, 0);
	rlate = frame_no;
	wait_ms(&t, 1500);
	from = R.nev;
	ack_to(&t, 0, 80, 5100);		/* the sender again: times the hole out */
	{
		const struct want_data w[] = { {70, 10, rlate, 0} };

		check_data_log(from, w, RTE_DIM(w));
	}
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 1);
	s2c(&t, 5200, big, 10, 0);
	rlate = frame_no;
	from = R.nev;
	ack_to(&t, 0, 80, 5210);		/* the client has [5100, 5210) */
	{
		const struct want_data w[] = { {5200, 10, rlate, 0} };

		check_data_log(from, w, RTE_DIM(w));
	}
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], 2);
	CU_ASSERT_EQUAL(R.d[0].order_errors + R.d[1].order_errors, 0);
	CU_ASSERT_EQUAL(ref_errors, 0);
	kapa_tcp_destroy(tcp);
}

/*
 * Random segments (flags, sequence numbers near and far, lengths, both
 * directions) on one 4-tuple: whatever arrives, offsets stay contiguous per
 * connection, FIN comes last, held bytes stay under the caps and add up,
 * nothing comes after CLOSE, and the gap reasons add up to the gaps. With
 * @p hole_ms, time also jumps now and then (up to 3 s), so that holes time
 * out and idle entries are released with bytes held, and the consumer now
 * and then makes the connection opaque or closes it from data(), hand-on
 * at release included.
 */
static void
random_packets_run(uint32_t hole_ms)
{
	static const uint8_t flag_set[] = {
		KAPA_TCP_SYN, KAPA_TCP_SYN | KAPA_TCP_ACK, KAPA_TCP_ACK,
		KAPA_TCP_ACK | KAPA_TCP_PSH, KAPA_TCP_ACK | KAPA_TCP_FIN,
		KAPA_TCP_RST, KAPA_TCP_RST | KAPA_TCP_ACK, 0, KAPA_TCP_FIN,
		KAPA_TCP_SYN | KAPA_TCP_FIN,
	};
	const struct tconf tc = {.max_bytes = 6000, .max_segs = 6, .pool_bytes = 8 * 2048,
				 .hole_ms = hole_ms};
	struct kapa_tcp *tcp = make_tcp(&tc);
	const struct kapa_tcp_stats *st;
	static uint8_t m[3000];
	uint32_t i, over = 0, sum_bad = 0, n = hole_ms != 0 ? 100000 : 200000;
	struct tconn t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tcp);
	st = kapa_tcp_stats(tcp);
	fill_msg(m, sizeof(m));
	rec_reset();
	R.restart_on_open = 1;
	R.chaos = hole_ms != 0;
	tconn_init(&t, tcp, 40100, 80, 0xfffff000, 0x7ffff000);
	for (i = 0; i < n; i++) {
		int from_srv = (int)rng_below(2);
		uint8_t f = flag_set[rng_below(RTE_DIM(flag_set))];
		uint32_t len = rng_below(4) == 0 ? 0 : rng_below(1500);
		uint32_t base = from_srv ? t.sisn : t.cisn;
		uint32_t peer = from_srv ? t.cisn : t.sisn;
		uint32_t seq = base + 1 + rng_below(20000);
		uint32_t ack = peer + 1 + rng_below(20000);
		struct kapa_conn *c;

		if ((f & KAPA_TCP_SYN) && rng_below(10) != 0)
			seq = base;	/* mostly the known ISN: retransmissions */
		if ((f & KAPA_TCP_RST) && rng_below(3) == 0 && t.res.idx >= 0) {
			/* exactly the next sequence, as kapa would craft it;
			 * the tconn client is key side 0 (the lower address) */
			c = tconn_conn(&t);
			if (c->state != KAPA_CONN_FREE)
				seq = kapa_tcp_rst_seq(c, (from_srv ^ (c->client_side == 0)) ?
						       KAPA_DIR_C2S : KAPA_DIR_S2C);
		}
		if (rng_below(50) == 0)
			seq = (uint32_t)rng();	/* anywhere */
		if (rng_below(2000) == 0) {
			/* now and then a new ISN pair: port reuse */
			t.cisn = (uint32_t)rng();
			t.sisn = (uint32_t)rng();
		}
		if (f & (KAPA_TCP_SYN | KAPA_TCP_RST))
			len = rng_below(8) == 0 ? len : 0;
		if (hole_ms != 0 && rng_below(64) == 0)
			t.now_ns += (uint64_t)rng_below(3000) * 1000000u;
		send_raw(&t, from_srv, seq, ack, f, m + rng_below(1000), len,
			 (f & KAPA_TCP_SYN) ? (uint8_t)rng_below(16) : 0xff);
		if (t.res.idx < 0)
			continue;
		c = tconn_conn(&t);
		if (c->half[0].ooo_bytes > tc.max_bytes || c->half[1].ooo_bytes > tc.max_bytes ||
		    c->half[0].ooo_segs > tc.max_segs || c->half[1].ooo_segs > tc.max_segs ||
		    kapa_tcp_ooo_bytes(tcp) > tc.pool_bytes)
			over++;
		if ((uint64_t)c->half[0].ooo_bytes + c->half[1].ooo_bytes != kapa_tcp_ooo_bytes(tcp))
			sum_bad++;
		if (i % 5000 == 0)
			kapa_tcp_advance(tcp, t.now_ns, 64);
	}
	CU_ASSERT_EQUAL(over, 0);
	CU_ASSERT_EQUAL(sum_bad, 0);
	CU_ASSERT_EQUAL(R.d[0].order_errors, 0);
	CU_ASSERT_EQUAL(R.d[1].order_errors, 0);
	CU_ASSERT_EQUAL(R.d[0].data_after_fin + R.d[1].data_after_fin, 0);
	CU_ASSERT(R.count[KAPA_EV_OPEN] > 1);
	CU_ASSERT(st->bytes_delivered > 0);
	if (hole_ms != 0) {
		CU_ASSERT(st->gap_hole_timeout > 0);
		CU_ASSERT(st->gap_release > 0);
		CU_ASSERT(R.chaos_opaque > 0);
		CU_ASSERT(R.chaos_close > 0);
	} else {
		CU_ASSERT_EQUAL(st->gap_hole_timeout, 0);
	}
	/* Past every idle limit: the last entry is released with whatever it
	 * holds, still in order. */
	R.expire_answer = 0;
	kapa_tcp_advance(tcp, t.now_ns + 3 * 3600 * 1000000000ull, UINT32_MAX);
	CU_ASSERT_EQUAL(kapa_flow_count(kapa_tcp_table(tcp)), 0);
	CU_ASSERT_EQUAL(kapa_tcp_ooo_bytes(tcp), 0);
	CU_ASSERT_EQUAL(R.d[0].order_errors + R.d[1].order_errors, 0);
	CU_ASSERT_EQUAL(R.d[0].data_after_fin + R.d[1].data_after_fin, 0);
	CU_ASSERT_EQUAL(R.data_after_close, 0);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_OPEN], R.count[KAPA_EV_CLOSE]);
	CU_ASSERT_EQUAL(st->gaps, st->gap_limit_conn + st->gap_limit_global +
			st->gap_acked_hole + st->gap_hole_timeout + st->gap_release);
	CU_ASSERT_EQUAL(R.count[KAPA_EV_GAP], st->gaps);
	CU_ASSERT(st->bytes_release_flushed <= st->bytes_delivered);
	kapa_tcp_destroy(tcp);
}

static void
test_random_packets(void)
{
	random_packets_run(0);
}

static void
test_random_packets_hole_timeout(void)
{
	random_packets_run(200);
}

int
kapa_unit_register(void)
{
	CU_pSuite s;
	int rc;

	rc = kapa_eal_init_offline("test_tcp", 256);
	if (rc != 0) {
		fprintf(stderr, "EAL: %d\n", rc);
		return -1;
	}
	s = CU_add_suite("tcp", NULL, NULL);
	if (s == NULL)
		return -1;
	if (CU_add_test(s, "handshake and data", test_handshake_and_data) == NULL ||
	    CU_add_test(s, "wscale one-sided", test_wscale_one_sided) == NULL ||
	    CU_add_test(s, "permutations of 5 segments", test_permutations) == NULL ||
	    CU_add_test(s, "random splits, reorder, duplicates", test_random_splits) == NULL ||
	    CU_add_test(s, "random under caps, many conns", test_random_under_caps) == NULL ||
	    CU_add_test(s, "random gaps keep content", test_random_gaps_content) == NULL ||
	    CU_add_test(s, "conflicting overlaps", test_conflicting_overlaps) == NULL ||
	    CU_add_test(s, "gap on byte limit", test_gap_on_byte_limit) == NULL ||
	    CU_add_test(s, "gap on segment limit", test_gap_on_seg_limit) == NULL ||
	    CU_add_test(s, "gap on global cap", test_gap_on_global_cap) == NULL ||
	    CU_add_test(s, "gap on acked hole", test_gap_on_acked_hole) == NULL ||
	    CU_add_test(s, "sequence wraparound", test_wraparound) == NULL ||
	    CU_add_test(s, "stream past 4 GiB", test_long_stream) == NULL ||
	    CU_add_test(s, "data on SYN", test_data_on_syn) == NULL ||
	    CU_add_test(s, "SYN/ACK does not re-base a started half", test_synack_no_rebase) == NULL ||
	    CU_add_test(s, "FIN before data", test_fin_before_data) == NULL ||
	    CU_add_test(s, "RST exact only", test_rst_exact) == NULL ||
	    CU_add_test(s, "SYN/ACK pickup", test_synack_pickup) == NULL ||
	    CU_add_test(s, "link layer kapa cannot rebuild is flagged", test_l2_deep) == NULL ||
	    CU_add_test(s, "mid-stream pickup, port guess", test_midstream_pickup) == NULL ||
	    CU_add_test(s, "pickup: pieces of the first segment out of order",
			test_pickup_pieces_out_of_order) == NULL ||
	    CU_add_test(s, "pickup: ack before the first byte seen", test_pickup_ack_before_first) == NULL ||
	    CU_add_test(s, "pickup: decided by the timer, window", test_pickup_timeout) == NULL ||
	    CU_add_test(s, "pickup: hold limit, RST", test_pickup_limit_and_rst) == NULL ||
	    CU_add_test(s, "port reuse", test_port_reuse) == NULL ||
	    CU_add_test(s, "opaque and close from callback", test_opaque_and_close) == NULL ||
	    CU_add_test(s, "idle expiry", test_idle_expiry) == NULL ||
	    CU_add_test(s, "idle clock: payload only", test_idle_clock_payload_only) == NULL ||
	    CU_add_test(s, "SYN options kept", test_syn_options) == NULL ||
	    CU_add_test(s, "pkt_off and release reason", test_pkt_off_and_release) == NULL ||
	    CU_add_test(s, "next deadline", test_next_deadline) == NULL ||
	    CU_add_test(s, "out of window, classes", test_out_of_window_and_classes) == NULL ||
	    CU_add_test(s, "missed handshake parts", test_missed_handshake_parts) == NULL ||
	    CU_add_test(s, "embryonic expiry", test_embryonic_expiry) == NULL ||
	    CU_add_test(s, "IPv6", test_ipv6) == NULL ||
	    CU_add_test(s, "hole timeout", test_hole_timeout) == NULL ||
	    CU_add_test(s, "hole timeout cases", test_hole_timeout_cases) == NULL ||
	    CU_add_test(s, "release hands held bytes on", test_release_hand_on) == NULL ||
	    CU_add_test(s, "held bytes keep their packet reference",
			test_held_bytes_keep_their_packet) == NULL ||
	    CU_add_test(s, "deliveries split where the reference changes",
			test_held_bytes_split_by_packet) == NULL ||
	    CU_add_test(s, "release hand-on stopped by the consumer",
			test_release_hand_on_stops) == NULL ||
	    CU_add_test(s, "random packets keep invariants", test_random_packets) == NULL ||
	    CU_add_test(s, "random packets, hole timeout and releases",
			test_random_packets_hole_timeout) == NULL)
		return -1;
	return 0;
}
