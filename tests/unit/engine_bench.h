/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A test bench for the engine (kapa_engine.h), shared by the unit test and
 * the fuzz harness: one TCP connection between a client and a server whose
 * frames are built for real (Ethernet with optional tags, IPv4 or IPv6, TCP
 * with options), parsed by the core's parser and put through the engine.
 * What the engine forwards and crafts is delivered to the other end, which
 * reassembles it (first copy wins) and acknowledges what it received, so
 * the endpoints react to kapa's edits as real ones would: the client acks
 * in the shifted space, the server never sees refused bytes.
 *
 * Every frame leaving the engine is checked: it parses, its IP and TCP
 * checksums verify (bench.bad_csum counts those that do not, and the end
 * drops them, as a TCP stack does). The engine verifies TCP checksums
 * itself (kapa_engine_conf::csum_verify); bench.csum_next sets what the
 * next frame sent looks like to it (a wrong checksum, a port's verdict).
 */
#ifndef KAPA_ENGINE_BENCH_H
#define KAPA_ENGINE_BENCH_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapa_edit.h"
#include "kapa_engine.h"
#include "kapa_pkt.h"
#include "kapa_policy.h"

#define BENCH_STREAM (1u << 16)	/* bytes kept per direction */
#define BENCH_FRAME 4096	/* largest frame built */
#define BENCH_ROOM 2048		/* tailroom given to the engine */
#ifndef BENCH_OUT
#define BENCH_OUT 512		/* frames remembered */
#endif
#define BENCH_ACTS 256		/* actions remembered */
#define BENCH_RACES 32		/* races remembered */

/* One end of the connection as it sees the stream it receives. */
struct bench_rcv {
	uint8_t buf[BENCH_STREAM];	/* by offset from the peer's ISN + 1 */
	uint8_t have[BENCH_STREAM];
	uint32_t nxt;			/* contiguous bytes received */
	uint32_t max;			/* highest offset + 1 received */
	uint32_t rst;			/* RSTs received */
	uint32_t rst_bad;		/* RSTs not at exactly nxt (after a FIN: + 1) */
	uint32_t fin_bad;		/* crafted FINs not at exactly nxt */
	uint32_t conflicts;		/* a byte not yet delivered received twice,
					   different */
	int fin;			/* a FIN received in order */
	uint32_t fin_ooo;		/* a FIN received out of order: its offset
					   + 1 (kept, as a TCP receiver keeps it,
					   until the bytes before it come); 0 none */
};

/* A frame that left the engine. */
struct bench_out {
	uint8_t dir;		/* direction of travel: KAPA_DIR_C2S = to the server */
	uint8_t crafted;	/* from emit(), not the frame in hand */
	uint32_t len;
	uint64_t ns;
	uint8_t data[BENCH_FRAME + BENCH_ROOM];
};

struct bench {
	struct kapa_engine *e;
	struct kapa_policy *pol;
	uint64_t now;
	int family;
	/* link header of each direction's frames [KAPA_DIR_*] */
	uint8_t l2[2][32];
	uint32_t l2_len[2];
	uint8_t cip[16], sip[16];
	uint16_t cport, sport;
	uint32_t cisn, sisn;
	uint64_t coff, soff;	/* next stream offset each sends (own space) */
	uint16_t cmss, smss;	/* MSS announced in the SYNs (0: none) */
	int sack;		/* both SYNs offer SACK */
	int fin_sent[2];	/* [from_srv]: that end sent its FIN */
	int deep;		/* frames carry PPPoE: KAPA_CONN_L2_DEEP */
	struct bench_rcv rcv[2];	/* [KAPA_DIR_C2S]: what the server received */
	struct bench_out out[BENCH_OUT];
	uint32_t nout;
	uint32_t bad_csum, bad_parse, dropped, emitted;
	struct kapa_action acts[BENCH_ACTS];
	uint32_t nacts;
	struct kapa_race_event races[BENCH_RACES];
	uint32_t nraces;
	uint64_t retried_id[BENCH_RACES];
	uint32_t nretried;
	int in_input;
	uint32_t nframe;	/* reference of frames sent */
	uint32_t changed;	/* forwarded frames whose bytes differ from the input */
	/* frames crafted while the frame in hand is processed: delivered
	 * after it, as kapa-dp sends them */
	struct bench_out pend[8];
	uint32_t npend;
	/* kapa_buf::port of each direction's frames, and what
	 * kapa_engine_link_port() said for the last frame crafted to travel
	 * each way [toward] */
	uint8_t port_of[2];
	int emit_port_rc[2];
	uint8_t emit_port[2];
	/* The next frame bench_send() sends (then back to 0): BENCH_CSUM_WRONG
	 * its TCP checksum made wrong (BENCH_CSUM_IP_WRONG: its IPv4 header
	 * checksum), and/or the port's verdict given
	 * (KAPA_CSUM_* << 4; 0: none, the engine verifies it). */
	uint8_t csum_next;
	/* Frames sent with a wrong checksum [KAPA_DIR_*], and of those, the
	 * ones sent before their receiver had any byte of that direction (on
	 * a picked-up connection, kapa then starts after bytes the receiver
	 * still waits for, and cannot know it). */
	uint32_t csum_wrong[2], csum_wrong_first[2];
};

#define BENCH_CSUM_WRONG 0x01
#define BENCH_CSUM_IP_WRONG 0x02	/* its IPv4 header checksum instead
					   (IPv6: its TCP checksum) */
#define BENCH_CSUM_PORT(v) ((uint8_t)((v) << 4))

static inline struct bench *bench_of(void *arg) { return arg; }

/* bench_init() makes engines without action state (kapa_engine_conf::no_actions). */
static int bench_no_actions;

/* Deliver a frame that left the engine to the end it travels to. */
static void
bench_deliver(struct bench *b, uint8_t dir, const uint8_t *data, uint32_t len, int crafted)
{
	struct kapa_pkt p;
	struct bench_rcv *r = &b->rcv[dir];
	uint32_t base = dir == KAPA_DIR_C2S ? b->cisn + 1 : b->sisn + 1, off, i;
	struct bench_out *o;

	if (b->nout < BENCH_OUT && len <= sizeof(o->data)) {
		o = &b->out[b->nout++];
		o->dir = dir;
		o->crafted = (uint8_t)crafted;
		o->len = len;
		o->ns = b->now;
		memcpy(o->data, data, len);
	}
	if (kapa_pkt_parse(data, len, KAPA_L2_ETHER, &p) != KAPA_PKT_TCP) {
		b->bad_parse++;
		return;
	}
	if (!kapa_csum_ok(&p)) {
		b->bad_csum++;
		return;
	}
	if (p.tcp_flags & KAPA_TCP_RST) {
		/* Only the first counts: after it the end has no connection
		 * (the bench's ends go on sending regardless). */
		if (r->rst++ == 0 && p.seq - base != r->nxt + (r->fin ? 1u : 0u))
			r->rst_bad++;
		return;
	}
	if (r->rst != 0)
		return;	/* reset: this end has no connection any more */
	off = p.seq + ((p.tcp_flags & KAPA_TCP_SYN) ? 1 : 0) - base;
	/* (a FIN does not move nxt here: a copy is at nxt too) */
	if (crafted && (p.tcp_flags & KAPA_TCP_FIN) && off != r->nxt)
		r->fin_bad++;
	for (i = 0; i < p.payload_len; i++) {
		uint32_t o2 = off + i;

		/* A TCP receiver drops what it has delivered already, whatever
		 * the bytes: only bytes at or past rcv_nxt can conflict. */
		if (o2 < r->nxt)
			continue;
		/* ... and nothing past a FIN it has had (a FIN kapa made in
		 * the sender's name, with the sender still sending). */
		if (r->fin)
			break;
		if (o2 >= BENCH_STREAM)
			break;
		if (r->have[o2] && r->buf[o2] != p.data[p.payload_off + i])
			r->conflicts++;
		if (!r->have[o2]) {
			r->buf[o2] = p.data[p.payload_off + i];
			r->have[o2] = 1;
		}
		if (o2 + 1 > r->max)
			r->max = o2 + 1;
	}
	while (r->nxt < BENCH_STREAM && r->have[r->nxt])
		r->nxt++;
	if ((p.tcp_flags & KAPA_TCP_FIN) && !r->fin && off + p.payload_len > r->nxt &&
	    r->fin_ooo == 0)
		r->fin_ooo = off + p.payload_len + 1;
	if (((p.tcp_flags & KAPA_TCP_FIN) && off + p.payload_len == r->nxt) ||
	    (r->fin_ooo != 0 && r->nxt + 1 >= r->fin_ooo))
		r->fin = 1;
}

static void
bench_emit(const struct kapa_stream_ctx *ctx, enum kapa_dir toward, const uint8_t *frame,
	   uint32_t len, void *arg)
{
	struct bench *b = bench_of(arg);

	b->emitted++;
	b->emit_port_rc[toward] = kapa_engine_link_port(ctx, toward, &b->emit_port[toward]);
	if (b->in_input && b->npend < 8 && len <= sizeof(b->pend[0].data)) {
		b->pend[b->npend].dir = (uint8_t)toward;
		b->pend[b->npend].len = len;
		memcpy(b->pend[b->npend].data, frame, len);
		b->npend++;
		return;
	}
	bench_deliver(b, (uint8_t)toward, frame, len, 1);
}

static void
bench_action(const struct kapa_stream_ctx *ctx, const struct kapa_action *a, void *arg)
{
	struct bench *b = bench_of(arg);

	(void)ctx;
	if (b->nacts < BENCH_ACTS)
		b->acts[b->nacts++] = *a;
}

static void
bench_race(const struct kapa_stream_ctx *ctx, const struct kapa_race_event *ev, void *arg)
{
	struct bench *b = bench_of(arg);

	(void)ctx;
	if (b->nraces < BENCH_RACES)
		b->races[b->nraces++] = *ev;
}

static void
bench_race_retried(uint64_t id, const struct kapa_stream_ctx *ctx, void *arg)
{
	struct bench *b = bench_of(arg);

	(void)ctx;
	if (b->nretried < BENCH_RACES)
		b->retried_id[b->nretried++] = id;
}

static const struct kapa_engine_ops bench_ops = {
	.action = bench_action,
	.emit = bench_emit,
	.race = {
		.race = bench_race,
		.retried = bench_race_retried,
	},
};

/* Ethernet with @p ntags tags of the TPIDs given (0x8100 when 0). */
static void
bench_set_l2(struct bench *b, int dir, unsigned ntags, const uint16_t *tpid, const uint16_t *tci)
{
	uint8_t *h = b->l2[dir];
	unsigned i;

	memset(h, 0, sizeof(b->l2[dir]));
	h[5] = dir == KAPA_DIR_C2S ? 0x02 : 0x01;	/* dst */
	h[11] = dir == KAPA_DIR_C2S ? 0x01 : 0x02;	/* src */
	h[0] = h[6] = 0x02;
	for (i = 0; i < ntags; i++) {
		uint16_t t = tpid != NULL && tpid[i] != 0 ? tpid[i] : 0x8100;

		h[12 + 4 * i] = (uint8_t)(t >> 8);
		h[13 + 4 * i] = (uint8_t)t;
		h[14 + 4 * i] = (uint8_t)(tci[i] >> 8);
		h[15 + 4 * i] = (uint8_t)tci[i];
	}
	b->l2_len[dir] = 12 + 4 * ntags + 2;
}

/**
 * A bench with its engine. @p policy_spec and @p rule may be NULL (no
 * policy at all); the tick is 1 ms so expiries are exact.
 */
static int
bench_init(struct bench *b, int family, const char *policy_spec, const char *rule,
	   uint32_t capacity)
{
	static unsigned seq;
	struct kapa_engine_conf conf;
	struct kapa_policy_spec def;
	struct kapa_policy_rule r;
	char name[32], err[256];

	memset(b, 0, sizeof(*b));
	b->family = family;
	b->now = 1000000000ull;
	b->cport = 40000;
	b->port_of[KAPA_DIR_C2S] = 1;
	b->port_of[KAPA_DIR_S2C] = 2;
	b->sport = 80;
	b->cisn = 0x10000000u;
	b->sisn = 0xfffff000u;	/* wraps in the middle of the stream */
	if (family == 4) {
		inet_pton(AF_INET, "198.18.0.1", b->cip);
		inet_pton(AF_INET, "198.19.0.2", b->sip);
	} else {
		inet_pton(AF_INET6, "2001:db8::1", b->cip);
		inet_pton(AF_INET6, "2001:db8:1::2", b->sip);
	}
	bench_set_l2(b, KAPA_DIR_C2S, 0, NULL, NULL);
	bench_set_l2(b, KAPA_DIR_S2C, 0, NULL, NULL);
	if (policy_spec != NULL || rule != NULL) {
		if (kapa_policy_parse_spec(policy_spec != NULL ? policy_spec : "", &def, err,
					   sizeof(err)) != 0)
			return -1;
		if (rule != NULL && kapa_policy_parse_rule(rule, &r, err, sizeof(err)) != 0)
			return -1;
		b->pol = kapa_policy_create(&def, &r, rule != NULL ? 1 : 0, 1, err, sizeof(err));
		if (b->pol == NULL)
			return -1;
	}
	memset(&conf, 0, sizeof(conf));
	snprintf(name, sizeof(name), "bench%u", seq++);
	conf.tcp.flow.name = name;
	conf.tcp.flow.capacity = capacity != 0 ? capacity : 64;
	conf.tcp.flow.socket_id = -1;
	conf.tcp.flow.tick_ms = 1;
	conf.tcp.flow.wheel_slots = 4096;
	conf.tcp.ooo_pool_bytes = 1u << 20;
	conf.policy = b->pol;
	conf.no_actions = (uint8_t)bench_no_actions;
	conf.edit_logs = 64;
	conf.csum_verify = 1;
	conf.ops = &bench_ops;
	conf.ops_arg = b;
	b->e = kapa_engine_create(&conf);
	return b->e != NULL ? 0 : -1;
}

static void
bench_fini(struct bench *b)
{
	kapa_engine_destroy(b->e);
	kapa_policy_destroy(b->pol);
	b->e = NULL;
	b->pol = NULL;
}

/* TCP options of a frame being built. */
struct bench_opts {
	uint16_t mss;		/* 0: none */
	int sack_perm;
	uint32_t sack[2];	/* one SACK block when sack[1] != 0 */
};

/**
 * Build a frame from one end (@p from_srv) in @p f (BENCH_FRAME + BENCH_ROOM
 * bytes), checksums filled, and parse it into @p p.
 * @return its length, or 0 when the bench built something the parser refuses.
 */
static uint32_t
bench_build(struct bench *b, int from_srv, uint32_t seq, uint32_t ack, uint8_t flags,
	    const uint8_t *payload, uint32_t len, const struct bench_opts *o, uint8_t *f,
	    struct kapa_pkt *p)
{
	int dir = from_srv ? KAPA_DIR_S2C : KAPA_DIR_C2S;
	uint32_t l2 = b->l2_len[dir], iph = b->family == 4 ? 20 : 40, opt = 0, tcph, n;
	uint8_t *ip, *th, *op;

	memcpy(f, b->l2[dir], l2);
	if (b->deep) {	/* PPPoE session: 0x8864, the PPP protocol before IP */
		f[l2 - 2] = 0x88;
		f[l2 - 1] = 0x64;
		f[l2] = 0x11;
		f[l2 + 1] = 0;
		f[l2 + 2] = 0;
		f[l2 + 3] = 1;
		l2 += 8;
		f[l2 - 2] = 0;
		f[l2 - 1] = b->family == 4 ? 0x21 : 0x57;
	} else {
		f[l2 - 2] = b->family == 4 ? 0x08 : 0x86;
		f[l2 - 1] = b->family == 4 ? 0x00 : 0xdd;
	}
	ip = f + l2;
	op = ip + iph + 20;
	if (o != NULL && o->mss != 0) {
		op[opt] = 2;
		op[opt + 1] = 4;
		op[opt + 2] = (uint8_t)(o->mss >> 8);
		op[opt + 3] = (uint8_t)o->mss;
		opt += 4;
	}
	if (o != NULL && o->sack_perm) {
		op[opt] = 1;
		op[opt + 1] = 1;
		op[opt + 2] = 4;
		op[opt + 3] = 2;
		opt += 4;
	}
	if (o != NULL && o->sack[1] != 0) {
		uint32_t e0 = htonl(o->sack[0]), e1 = htonl(o->sack[1]);

		op[opt] = 1;
		op[opt + 1] = 1;
		op[opt + 2] = 5;
		op[opt + 3] = 10;
		memcpy(op + opt + 4, &e0, 4);
		memcpy(op + opt + 8, &e1, 4);
		opt += 12;
	}
	tcph = 20 + opt;
	n = iph + tcph + len;
	memset(ip, 0, iph);
	if (b->family == 4) {
		ip[0] = 0x45;
		ip[2] = (uint8_t)(n >> 8);
		ip[3] = (uint8_t)n;
		ip[6] = 0x40;
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, from_srv ? b->sip : b->cip, 4);
		memcpy(ip + 16, from_srv ? b->cip : b->sip, 4);
	} else {
		ip[0] = 0x60;
		ip[4] = (uint8_t)((n - 40) >> 8);
		ip[5] = (uint8_t)(n - 40);
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, from_srv ? b->sip : b->cip, 16);
		memcpy(ip + 24, from_srv ? b->cip : b->sip, 16);
	}
	if (b->deep) {
		uint32_t pl = n + 2;

		ip[-4] = (uint8_t)(pl >> 8);
		ip[-3] = (uint8_t)pl;
	}
	th = ip + iph;
	memset(th, 0, 20);
	th[0] = (uint8_t)((from_srv ? b->sport : b->cport) >> 8);
	th[1] = (uint8_t)(from_srv ? b->sport : b->cport);
	th[2] = (uint8_t)((from_srv ? b->cport : b->sport) >> 8);
	th[3] = (uint8_t)(from_srv ? b->cport : b->sport);
	seq = htonl(seq);
	ack = htonl(ack);
	memcpy(th + 4, &seq, 4);
	memcpy(th + 8, &ack, 4);
	th[12] = (uint8_t)((tcph / 4) << 4);
	th[13] = flags;
	th[14] = 0xff;
	th[15] = 0xff;
	if (len != 0)
		memcpy(th + tcph, payload, len);
	if (kapa_pkt_parse(f, l2 + n, KAPA_L2_ETHER, p) != KAPA_PKT_TCP)
		return 0;
	kapa_edit_fill_csum(p);
	return l2 + n;
}

/**
 * Build a frame from one end (@p from_srv) and put it through the engine;
 * deliver what comes out to the other end.
 * @return the verdict.
 */
static enum kapa_verdict
bench_send(struct bench *b, int from_srv, uint32_t seq, uint32_t ack, uint8_t flags,
	   const uint8_t *payload, uint32_t len, const struct bench_opts *o)
{
	static uint8_t f[BENCH_FRAME + BENCH_ROOM], in[BENCH_FRAME];
	int dir = from_srv ? KAPA_DIR_S2C : KAPA_DIR_C2S;
	struct kapa_buf buf;
	struct kapa_pkt p;
	enum kapa_verdict v;
	uint32_t i;

	buf.len = bench_build(b, from_srv, seq, ack, flags, payload, len, o, f, &p);
	if (buf.len == 0)
		return KAPA_VERDICT_DROP;	/* the bench built something wrong */
	buf.data = f;
	buf.tailroom = BENCH_ROOM;
	buf.port = b->port_of[dir];
	buf.edited = 0;
	if (b->csum_next & (BENCH_CSUM_WRONG | BENCH_CSUM_IP_WRONG)) {
		f[(b->csum_next & BENCH_CSUM_WRONG) || p.family != 4 ? p.l4_off + 16 :
		  p.l3_off + 10] ^= 0x5a;
		b->csum_wrong[dir]++;
		b->csum_wrong_first[dir] += b->rcv[dir].max == 0;
	}
	p.csum = (uint8_t)(b->csum_next >> 4);
	b->csum_next = 0;
	memcpy(in, f, buf.len);
	b->now += 1000;
	b->in_input = 1;
	v = kapa_engine_input(b->e, &buf, &p, b->now, (void *)(uintptr_t)++b->nframe);
	b->in_input = 0;
	if (v == KAPA_VERDICT_FORWARD) {
		if (memcmp(in, buf.data, buf.len) != 0)
			b->changed++;
		bench_deliver(b, (uint8_t)dir, buf.data, buf.len, 0);
	} else {
		b->dropped++;
	}
	for (i = 0; i < b->npend; i++)
		bench_deliver(b, b->pend[i].dir, b->pend[i].data, b->pend[i].len, 1);
	b->npend = 0;
	kapa_engine_advance(b->e, b->now, 1000);
	return v;
}

/* What an end acknowledges: everything it received in order. */
static inline uint32_t
bench_ack(const struct bench *b, int from_srv)
{
	const struct bench_rcv *r = &b->rcv[from_srv ? KAPA_DIR_C2S : KAPA_DIR_S2C];

	return (from_srv ? b->cisn : b->sisn) + 1 + r->nxt + (r->fin ? 1u : 0u);
}

static void
bench_handshake(struct bench *b)
{
	struct bench_opts co = { .mss = b->cmss, .sack_perm = b->sack };
	struct bench_opts so = { .mss = b->smss, .sack_perm = b->sack };

	bench_send(b, 0, b->cisn, 0, KAPA_TCP_SYN, NULL, 0, &co);
	bench_send(b, 1, b->sisn, b->cisn + 1, KAPA_TCP_SYN | KAPA_TCP_ACK, NULL, 0, &so);
	bench_send(b, 0, b->cisn + 1, b->sisn + 1, KAPA_TCP_ACK, NULL, 0, NULL);
}

/* Data from one end at its next offset, acknowledging what it has. */
static enum kapa_verdict
bench_data(struct bench *b, int from_srv, const void *p, uint32_t len)
{
	uint64_t *off = from_srv ? &b->soff : &b->coff;
	uint32_t isn = from_srv ? b->sisn : b->cisn;
	enum kapa_verdict v;

	v = bench_send(b, from_srv, isn + 1 + (uint32_t)*off, bench_ack(b, from_srv),
		       KAPA_TCP_ACK | KAPA_TCP_PSH, p, len, NULL);
	*off += len;
	return v;
}

static inline enum kapa_verdict
bench_str(struct bench *b, int from_srv, const char *s)
{
	return bench_data(b, from_srv, s, (uint32_t)strlen(s));
}

/* A pure ACK from one end of everything it received. */
static void
bench_pure_ack(struct bench *b, int from_srv)
{
	uint64_t off = from_srv ? b->soff : b->coff;
	uint32_t isn = from_srv ? b->sisn : b->cisn;

	bench_send(b, from_srv, isn + 1 + (uint32_t)off + (uint32_t)b->fin_sent[from_srv],
		   bench_ack(b, from_srv), KAPA_TCP_ACK, NULL, 0, NULL);
}

/* One end closes its sending side: it sends nothing new after this. */
static inline void
bench_fin(struct bench *b, int from_srv)
{
	uint64_t off = from_srv ? b->soff : b->coff;
	uint32_t isn = from_srv ? b->sisn : b->cisn;

	if (b->fin_sent[from_srv])
		return;
	bench_send(b, from_srv, isn + 1 + (uint32_t)off, bench_ack(b, from_srv),
		   KAPA_TCP_ACK | KAPA_TCP_FIN, NULL, 0, NULL);
	b->fin_sent[from_srv] = 1;
}

/* Let @p ms pass, firing what falls due on the way, each at its time. */
static void
bench_wait(struct bench *b, uint64_t ms)
{
	uint64_t until = b->now + ms * 1000000ull, due;

	while (kapa_engine_next_deadline(b->e, until, &due) == 0 && due <= until) {
		if (due > b->now)
			b->now = due;
		kapa_engine_advance(b->e, b->now, 1000);
	}
	b->now = until;
	kapa_engine_advance(b->e, b->now, 1000);
}

/* Actions of a kind and reason so far. */
static inline uint32_t
bench_count(const struct bench *b, enum kapa_act_kind k, enum kapa_act_why w)
{
	uint32_t i, n = 0;

	for (i = 0; i < b->nacts; i++)
		n += b->acts[i].kind == k && b->acts[i].why == w;
	return n;
}

#endif /* KAPA_ENGINE_BENCH_H */
