/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP tracking of one worker: connection life cycle over the flow table,
 * both halves' sequence space, acks and windows, RST validation, and the
 * stream consumer fed by kapa_reasm. docs/core-tcp.md describes the state
 * machine and the reassembly rules with these names.
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "kapa_reasm.h"
#include "kapa_tcp.h"

/* Private bit of kapa_tcp_half::flags: this sender's SYN carried the window
 * scale option (RFC 7323 scales only when both SYNs did). */
#define HALF_WS_OFFERED	0x80

#define WSCALE_MAX	14	/* RFC 7323 §2.3: larger shifts are clamped */

#define DEF_OOO_MAX_BYTES	65536u
#define DEF_OOO_MAX_SEGS	64u
#define DEF_OOO_POOL_BYTES	(64u << 20)
#define DEF_SYN_TIMEOUT_MS	30000u
#define DEF_EST_TIMEOUT_MS	7200000u
#define DEF_LINGER_MS		2000u
/* RFC 6298's initial RTO: see kapa_tcp_conf::hole_timeout_ms. */
#define DEF_HOLE_TIMEOUT_MS	1000u

/*
 * Data-first pickups whose start is still undecided (KAPA_HALF_PICKUP),
 * oldest first. Most are decided by their peer's first ack; the rest (a
 * one-direction tap, a request never answered) by kapa_tcp_advance() once
 * they have waited hole_timeout_ms, so that held bytes never wait for a
 * packet that may not come. Bounded: when it is full, the oldest is decided
 * at once (counted in pickup_start_limit).
 */
#define PICKUP_WAIT_MAX 1024u

struct pickup_wait {
	uint32_t idx;
	uint32_t gen;		/* the entry's generation: a reused slot is not it */
	uint32_t since_ms;	/* table clock when it was picked up */
};

struct kapa_tcp {
	struct kapa_flow_table *ft;
	struct kapa_reasm_pool pool;
	struct kapa_reasm_limits lim;
	struct kapa_reasm_out out;
	struct kapa_tcp_stats st;
	const struct kapa_stream_ops *ops;
	void *ops_arg;
	uint32_t syn_timeout_ms;
	uint32_t est_timeout_ms;
	uint32_t linger_ms;

	/* Table clock: ms since the first timestamp seen, never backwards. */
	uint64_t t0_ns;
	uint32_t now_ms;
	uint8_t clock_started;

	/* The packet (or timer event) in hand, for consumer contexts and for
	 * calls the consumer makes back into us from a callback. */
	uint8_t cur_close;	/* kapa_tcp_close(cur_idx) asked in a callback */
	uint8_t cur_dir;	/* direction reassembly is delivering */
	uint32_t cur_idx;	/* KAPA_NIL when none */
	struct kapa_conn *cur_conn;
	struct kapa_conn *writing;	/* record in an open write section */
	const struct kapa_pkt *cur_pkt;
	void *cur_ref;
	uint64_t cur_ns;

	/* Pickups waiting for their start to be decided: a ring. */
	uint32_t pickup_head;
	uint32_t pickup_count;
	struct pickup_wait pickup[PICKUP_WAIT_MAX];
};

static const char *const ev_names[KAPA_EV_MAX] = {
	[KAPA_EV_OPEN] = "open",
	[KAPA_EV_GAP] = "gap",
	[KAPA_EV_FIN] = "fin",
	[KAPA_EV_RESET] = "reset",
	[KAPA_EV_CLOSE] = "close",
	[KAPA_EV_ESTABLISHED] = "established",
	[KAPA_EV_LATE_DATA] = "late-data",
};

const char *
kapa_stream_event_name(unsigned ev)
{
	return ev < KAPA_EV_MAX ? ev_names[ev] : "?";
}

static void
make_ctx(struct kapa_tcp *tcp, struct kapa_stream_ctx *ctx, uint32_t idx,
	 struct kapa_conn *c, enum kapa_dir dir)
{
	int in_hand = idx == tcp->cur_idx && tcp->cur_pkt != NULL;

	ctx->tcp = tcp;
	ctx->ops_arg = tcp->ops_arg;
	ctx->idx = idx;
	ctx->conn = c;
	ctx->app = kapa_flow_app(tcp->ft, idx);
	ctx->dir = dir;
	ctx->now_ns = tcp->cur_ns;
	ctx->pkt_ref = in_hand ? tcp->cur_ref : NULL;
	ctx->pkt = in_hand ? tcp->cur_pkt : NULL;
	ctx->pkt_off = 0;
	ctx->release = 0;
}

static void
emit(struct kapa_tcp *tcp, uint32_t idx, struct kapa_conn *c,
     enum kapa_dir dir, enum kapa_stream_event ev, uint64_t off, uint64_t len)
{
	struct kapa_stream_ctx ctx;

	make_ctx(tcp, &ctx, idx, c, dir);
	tcp->ops->event(&ctx, ev, off, len);
}

/* Whether reassembly of the connection in hand must stop delivering. */
static int
cur_stopped(const struct kapa_tcp *tcp)
{
	return tcp->cur_close || (tcp->cur_conn->flags & KAPA_CONN_OPAQUE);
}

/*
 * Bytes or a FIN from a held chunk: they came with an earlier segment, so
 * the context names that one (its reference, possibly stale, and its time)
 * and no packet: they are not in the packet in hand, if any. The idle clock
 * is not moved by this time: it is the table's, driven by kapa_tcp_input().
 */
static void
ctx_held(struct kapa_stream_ctx *ctx, const struct kapa_reasm_src *held)
{
	ctx->pkt = NULL;
	ctx->pkt_ref = held->pkt_ref;
	ctx->now_ns = held->ns;
}

/* kapa_reasm output: the connection and direction in hand. */
static int
out_data(void *arg, uint64_t off, const uint8_t *p, uint32_t len,
	 const struct kapa_reasm_src *held)
{
	struct kapa_tcp *tcp = arg;
	struct kapa_stream_ctx ctx;

	make_ctx(tcp, &ctx, tcp->cur_idx, tcp->cur_conn, tcp->cur_dir);
	if (held != NULL)
		ctx_held(&ctx, held);
	else if (ctx.pkt != NULL)
		/* In-order bytes are the packet's own: p points into its
		 * payload, so the payload's first byte is this far back. */
		ctx.pkt_off = off - (uint64_t)(p - (ctx.pkt->data + ctx.pkt->payload_off));
	tcp->ops->data(&ctx, off, p, len);
	return cur_stopped(tcp);
}

static int
out_gap(void *arg, uint64_t off, uint64_t len)
{
	struct kapa_tcp *tcp = arg;

	emit(tcp, tcp->cur_idx, tcp->cur_conn, tcp->cur_dir, KAPA_EV_GAP, off, len);
	return cur_stopped(tcp);
}

static int
out_fin(void *arg, uint64_t off, const struct kapa_reasm_src *held)
{
	struct kapa_tcp *tcp = arg;
	struct kapa_stream_ctx ctx;

	make_ctx(tcp, &ctx, tcp->cur_idx, tcp->cur_conn, tcp->cur_dir);
	if (held != NULL)
		ctx_held(&ctx, held);
	tcp->ops->event(&ctx, KAPA_EV_FIN, off, 0);
	return cur_stopped(tcp);
}

static void
flush_conn(struct kapa_tcp *tcp, struct kapa_conn *c)
{
	kapa_reasm_flush(&tcp->pool, &c->half[KAPA_DIR_C2S]);
	kapa_reasm_flush(&tcp->pool, &c->half[KAPA_DIR_S2C]);
}

static void
reasm_of(struct kapa_tcp *tcp, struct kapa_reasm *r)
{
	r->pool = &tcp->pool;
	r->lim = &tcp->lim;
	r->st = &tcp->st;
	r->out = &tcp->out;
	r->now_ms = tcp->now_ms;
	/* Held chunks remember the segment in hand (none during a release or
	 * an expiry: nothing is held then). */
	r->seg.pkt_ref = tcp->cur_ref;
	r->seg.ns = tcp->cur_ns;
}

/*
 * The entry is being released with bytes still held out of order: hand them
 * on (GAP for each hole, then the bytes), so that nothing the consumer could
 * have had is lost. The release may come from anywhere (an eviction inside
 * the insert for another packet, an expiry, a port reuse), so the state of
 * whatever is in hand is saved and restored around it. The callbacks get no
 * packet: GAPs come with none at all, held bytes and a held FIN with the
 * reference and time of the segment that brought them (out_data(), out_fin()).
 * A kapa_tcp_close() of this entry from them only stops the hand-on
 * (cur_close), a kapa_tcp_set_opaque() frees the rest (and stops it too).
 * The same walk decides undecided pickups (@p hand_on), outside a release.
 * @return whether the consumer asked to close the entry from a callback.
 */
static int
release_hand_on(struct kapa_tcp *tcp, uint32_t idx, struct kapa_conn *c,
		int (*hand_on)(const struct kapa_reasm *r, struct kapa_tcp_half *h))
{
	uint32_t save_idx = tcp->cur_idx;
	struct kapa_conn *save_conn = tcp->cur_conn;
	struct kapa_conn *save_writing = tcp->writing;
	const struct kapa_pkt *save_pkt = tcp->cur_pkt;
	void *save_ref = tcp->cur_ref;
	uint8_t save_close = tcp->cur_close, save_dir = tcp->cur_dir;
	struct kapa_reasm r;
	int d, closed;

	reasm_of(tcp, &r);
	tcp->cur_idx = idx;
	tcp->cur_conn = c;
	tcp->writing = c;	/* set_opaque from a callback: section is open */
	tcp->cur_pkt = NULL;
	tcp->cur_ref = NULL;
	tcp->cur_close = 0;
	for (d = KAPA_DIR_C2S; d <= KAPA_DIR_S2C && !cur_stopped(tcp); d++) {
		tcp->cur_dir = (uint8_t)d;
		hand_on(&r, &c->half[d]);
	}
	closed = tcp->cur_close;
	tcp->cur_idx = save_idx;
	tcp->cur_conn = save_conn;
	tcp->writing = save_writing;
	tcp->cur_pkt = save_pkt;
	tcp->cur_ref = save_ref;
	tcp->cur_close = save_close;
	tcp->cur_dir = save_dir;
	return closed;
}

static void
tcp_on_release(uint32_t idx, enum kapa_flow_release why, void *arg)
{
	struct kapa_tcp *tcp = arg;
	struct kapa_conn *c = kapa_flow_conn(tcp->ft, idx);
	int own = tcp->writing != c;	/* readers must not see it half-flushed */
	struct kapa_stream_ctx ctx;

	/* Every reason hands held bytes on, REPLACED too: a SYN reusing the
	 * 4-tuple means the old connection is over, and its held bytes would
	 * never come otherwise. (A CLOSED entry holds nothing: the FINs or the
	 * RST freed it.) */
	if (own)
		kapa_flow_write_begin(c);
	if (!(c->flags & KAPA_CONN_OPAQUE) &&
	    (c->half[KAPA_DIR_C2S].ooo_head != KAPA_NIL ||
	     c->half[KAPA_DIR_S2C].ooo_head != KAPA_NIL))
		release_hand_on(tcp, idx, c, kapa_reasm_release);
	flush_conn(tcp, c);
	if (own)
		kapa_flow_write_end(c);
	make_ctx(tcp, &ctx, idx, c, KAPA_DIR_C2S);
	ctx.release = (uint8_t)why;
	tcp->ops->event(&ctx, KAPA_EV_CLOSE, 0, 0);
}

/* Pickup halves decided at a release_hand_on() (by what, counted). */
static int
pickup_hand_on_other(const struct kapa_reasm *r, struct kapa_tcp_half *h)
{
	return kapa_reasm_pickup_start(r, h, -1, &r->st->pickup_start_other);
}

static int
pickup_hand_on_timeout(const struct kapa_reasm *r, struct kapa_tcp_half *h)
{
	return kapa_reasm_pickup_start(r, h, -1, &r->st->pickup_start_timeout);
}

static int
pickup_hand_on_limit(const struct kapa_reasm *r, struct kapa_tcp_half *h)
{
	return kapa_reasm_pickup_start(r, h, -1, &r->st->pickup_start_limit);
}

/* Decide the start of entry @p idx's pickup halves now, if it is still the
 * entry @p gen names and still undecided. */
static void
pickup_decide_now(struct kapa_tcp *tcp, uint32_t idx, uint32_t gen,
		  int (*hand_on)(const struct kapa_reasm *r, struct kapa_tcp_half *h))
{
	struct kapa_conn *c = kapa_flow_conn(tcp->ft, idx);
	int closed;

	if (c->gen != gen || c->state == KAPA_CONN_FREE || (c->flags & KAPA_CONN_OPAQUE) ||
	    !((c->half[KAPA_DIR_C2S].flags | c->half[KAPA_DIR_S2C].flags) & KAPA_HALF_PICKUP))
		return;
	kapa_flow_write_begin(c);
	closed = release_hand_on(tcp, idx, c, hand_on);
	kapa_flow_write_end(c);
	/* Not in use up the stack (not the connection in hand): now. */
	if (closed)
		kapa_flow_release(tcp->ft, idx, KAPA_REL_EXPLICIT);
}

/* Entry @p idx was picked up on data: wait for its start to be decided. */
static void
pickup_wait(struct kapa_tcp *tcp, uint32_t idx, const struct kapa_conn *c)
{
	struct pickup_wait *w;

	if (tcp->pickup_count == PICKUP_WAIT_MAX) {
		w = &tcp->pickup[tcp->pickup_head];
		tcp->pickup_head = (tcp->pickup_head + 1) % PICKUP_WAIT_MAX;
		tcp->pickup_count--;
		if (w->idx != idx)
			pickup_decide_now(tcp, w->idx, w->gen, pickup_hand_on_limit);
	}
	w = &tcp->pickup[(tcp->pickup_head + tcp->pickup_count) % PICKUP_WAIT_MAX];
	w->idx = idx;
	w->gen = c->gen;
	w->since_ms = tcp->now_ms;
	tcp->pickup_count++;
}

/* Decide the pickups that have waited hole_timeout_ms. */
static void
pickup_timeouts(struct kapa_tcp *tcp)
{
	struct pickup_wait w;

	while (tcp->pickup_count != 0) {
		w = tcp->pickup[tcp->pickup_head];
		if (tcp->now_ms - w.since_ms < tcp->lim.hole_timeout_ms)
			break;
		tcp->pickup_head = (tcp->pickup_head + 1) % PICKUP_WAIT_MAX;
		tcp->pickup_count--;
		pickup_decide_now(tcp, w.idx, w.gen, pickup_hand_on_timeout);
	}
}

static uint32_t
tcp_on_expire(uint32_t idx, uint32_t now_ms, void *arg)
{
	struct kapa_tcp *tcp = arg;
	struct kapa_conn *c = kapa_flow_conn(tcp->ft, idx);
	struct kapa_stream_ctx ctx;
	uint32_t keep;
	int closed;

	RTE_SET_USED(now_ms);
	/* A closed connection only lingered to absorb late segments. The
	 * table allows releasing from this callback (it then returns 0). */
	if (c->state == KAPA_CONN_CLOSED) {
		kapa_flow_release(tcp->ft, idx, KAPA_REL_CLOSED);
		return 0;
	}
	/* The consumer judges the connection on its bytes, and an RST made
	 * for it needs the sequence numbers of a decided start. */
	if (!(c->flags & KAPA_CONN_OPAQUE) &&
	    ((c->half[KAPA_DIR_C2S].flags | c->half[KAPA_DIR_S2C].flags) & KAPA_HALF_PICKUP)) {
		kapa_flow_write_begin(c);
		closed = release_hand_on(tcp, idx, c, pickup_hand_on_other);
		kapa_flow_write_end(c);
		if (closed) {
			kapa_flow_release(tcp->ft, idx, KAPA_REL_EXPLICIT);
			return 0;
		}
	}
	tcp->cur_idx = idx;	/* a kapa_tcp_close() from the callback defers */
	tcp->cur_close = 0;
	make_ctx(tcp, &ctx, idx, c, KAPA_DIR_C2S);
	keep = tcp->ops->expire(&ctx);
	tcp->cur_idx = KAPA_NIL;
	if (tcp->cur_close) {
		tcp->cur_close = 0;
		kapa_flow_release(tcp->ft, idx, KAPA_REL_EXPLICIT);
		return 0;
	}
	return keep;
}

struct kapa_tcp *
kapa_tcp_create(const struct kapa_tcp_conf *conf)
{
	struct kapa_flow_conf fc;
	struct kapa_tcp *tcp;
	int rc;

	if (conf == NULL || conf->ops == NULL || conf->ops->data == NULL ||
	    conf->ops->event == NULL || conf->ops->expire == NULL ||
	    conf->ooo_max_segs > UINT8_MAX) {
		rte_errno = EINVAL;
		return NULL;
	}
	tcp = rte_zmalloc_socket("kapa_tcp", sizeof(*tcp), RTE_CACHE_LINE_SIZE,
				 conf->flow.socket_id);
	if (tcp == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	tcp->ops = conf->ops;
	tcp->ops_arg = conf->ops_arg;
	tcp->lim.max_bytes = conf->ooo_max_bytes ? conf->ooo_max_bytes : DEF_OOO_MAX_BYTES;
	tcp->lim.max_segs = conf->ooo_max_segs ? conf->ooo_max_segs : DEF_OOO_MAX_SEGS;
	tcp->syn_timeout_ms = conf->syn_timeout_ms ? conf->syn_timeout_ms : DEF_SYN_TIMEOUT_MS;
	tcp->est_timeout_ms = conf->est_timeout_ms ? conf->est_timeout_ms : DEF_EST_TIMEOUT_MS;
	tcp->linger_ms = conf->closed_linger_ms ? conf->closed_linger_ms : DEF_LINGER_MS;
	tcp->lim.hole_timeout_ms = conf->hole_timeout_ms ? conf->hole_timeout_ms :
				   DEF_HOLE_TIMEOUT_MS;
	tcp->out.data = out_data;
	tcp->out.gap = out_gap;
	tcp->out.fin = out_fin;
	tcp->out.arg = tcp;
	tcp->cur_idx = KAPA_NIL;

	rc = kapa_reasm_pool_init(&tcp->pool, conf->ooo_pool_bytes ?
				  conf->ooo_pool_bytes : DEF_OOO_POOL_BYTES,
				  conf->flow.socket_id);
	if (rc != 0) {
		rte_errno = -rc;
		goto fail_pool;
	}
	fc = conf->flow;
	fc.on_release = tcp_on_release;
	fc.on_expire = tcp_on_expire;
	fc.cb_arg = tcp;
	tcp->ft = kapa_flow_create(&fc);
	if (tcp->ft == NULL)
		goto fail_flow;	/* rte_errno set by kapa_flow_create */
	return tcp;

fail_flow:
	rc = rte_errno;
	kapa_reasm_pool_fini(&tcp->pool);
	rte_errno = rc;
fail_pool:
	rte_free(tcp);
	return NULL;
}

void
kapa_tcp_destroy(struct kapa_tcp *tcp)
{
	if (tcp == NULL)
		return;
	tcp->cur_idx = KAPA_NIL;
	tcp->cur_pkt = NULL;
	kapa_flow_destroy(tcp->ft);	/* CLOSE for every entry */
	kapa_reasm_pool_fini(&tcp->pool);
	rte_free(tcp);
}

static uint32_t
clock_ms(struct kapa_tcp *tcp, uint64_t now_ns)
{
	uint32_t ms;

	if (!tcp->clock_started) {
		tcp->t0_ns = now_ns;
		tcp->clock_started = 1;
	}
	if (now_ns < tcp->t0_ns)
		return tcp->now_ms;
	ms = (uint32_t)((now_ns - tcp->t0_ns) / 1000000u);
	/* Timestamps may step back a little (merged captures): hold still. */
	if ((int32_t)(ms - tcp->now_ms) > 0)
		tcp->now_ms = ms;
	return tcp->now_ms;
}

/* Ports that are usually a server's, for guessing roles mid-stream. */
static int
port_is_service(uint16_t port)
{
	switch (port) {
	case 3128: case 8000: case 8008: case 8080: case 8081:
	case 8443: case 8888:
		return 1;
	default:
		return port < 1024;
	}
}

/* Mid-stream: is the sender of @p pkt the server? */
static int
guess_sender_is_server(const struct kapa_pkt *pkt)
{
	int ss = port_is_service(pkt->sport), ds = port_is_service(pkt->dport);

	if (ss != ds)
		return ss;
	if (pkt->sport != pkt->dport)
		return pkt->sport < pkt->dport;
	return 0;	/* no hint at all: call the first sender the client */
}

static void
half_init(struct kapa_tcp_half *h, uint32_t base, uint8_t state)
{
	h->base_seq = base;
	h->next_off = 0;
	h->state = state;
	h->flags |= KAPA_HALF_SEQ_KNOWN;
}

static void
take_wscale(struct kapa_tcp_half *h, const struct kapa_pkt *pkt)
{
	if (pkt->opt.present & KAPA_OPT_WSCALE) {
		h->wscale = RTE_MIN(pkt->opt.wscale, WSCALE_MAX);
		h->flags |= HALF_WS_OFFERED;
	}
}

/* What a SYN (or SYN/ACK) announces of its sender, for the action layer:
 * the largest segment it takes and whether SACK blocks may reach it. */
static void
take_syn_opts(struct kapa_conn *c, enum kapa_dir dir, const struct kapa_pkt *pkt)
{
	if (pkt->opt.present & KAPA_OPT_MSS)
		c->mss[dir] = pkt->opt.mss;
	if (pkt->opt.present & KAPA_OPT_SACK_PERM)
		c->syn_opts |= (uint8_t)KAPA_SYN_SACK_OK(dir);
	else
		c->syn_opts &= (uint8_t)~KAPA_SYN_SACK_OK(dir);
}

static void
take_vlan(struct kapa_conn *c, const struct kapa_pkt *pkt)
{
	int i;

	c->nvlan = RTE_MIN(pkt->nvlan, KAPA_MAX_VLAN);
	for (i = 0; i < c->nvlan; i++)
		c->vlan_tci[i] = pkt->vlan_tci[i];
	if (c->nvlan != 0 && pkt->vlan_tpid[0] == 0x88a8)
		c->flags |= KAPA_CONN_VLAN_QINQ;
	else
		c->flags &= (uint16_t)~KAPA_CONN_VLAN_QINQ;
}

/*
 * The record keeps what a crafted RST needs of each direction's link layer:
 * MACs and up to two 802.1Q/802.1ad tags. Anything more (a packet's first
 * bytes up to l3_off hold PPPoE, MPLS, a tunnel, more or other tags) cannot
 * be rebuilt from it: say so once, for whoever would craft (kapa-dp).
 */
static void
take_l2_shape(struct kapa_conn *c, const struct kapa_pkt *pkt)
{
	bool deep = pkt->encap != 0 || pkt->nvlan > KAPA_MAX_VLAN;
	uint8_t i;

	for (i = 0; i < pkt->nvlan && i < KAPA_MAX_VLAN && !deep; i++)
		deep = pkt->vlan_tpid[i] != 0x8100 && !(i == 0 && pkt->vlan_tpid[i] == 0x88a8);
	if (deep)
		c->flags |= KAPA_CONN_L2_DEEP;
}

/*
 * No entry for this 4-tuple: create one when the packet can start or
 * continue a connection. @return the index or -1 (counted).
 */
static int
conn_create(struct kapa_tcp *tcp, const struct kapa_flow_key *key, int side,
	    const struct kapa_pkt *pkt, uint32_t now_ms, enum kapa_dir *dirp)
{
	uint8_t f = pkt->tcp_flags;
	struct kapa_tcp_half *hc, *hs;
	struct kapa_conn *c;
	enum kapa_dir dir;
	int embryonic, idx;

	if (f & KAPA_TCP_RST) {
		tcp->st.no_conn++;
		return -1;
	}
	if (f & KAPA_TCP_SYN) {
		embryonic = 1;
		dir = (f & KAPA_TCP_ACK) ? KAPA_DIR_S2C : KAPA_DIR_C2S;
	} else {
		if (pkt->payload_len == 0 && !(f & KAPA_TCP_FIN)) {
			tcp->st.no_conn++;
			return -1;
		}
		embryonic = 0;
		dir = guess_sender_is_server(pkt) ? KAPA_DIR_S2C : KAPA_DIR_C2S;
	}
	idx = kapa_flow_insert(tcp->ft, key, now_ms, embryonic);
	if (idx < 0) {
		tcp->st.conns_refused++;
		return -1;
	}
	c = kapa_flow_conn(tcp->ft, idx);
	kapa_flow_write_begin(c);
	c->client_side = dir == KAPA_DIR_C2S ? side : !side;
	c->half[0].ooo_head = KAPA_NIL;
	c->half[1].ooo_head = KAPA_NIL;
	/* The record keeps the client-to-server tags; until a packet of that
	 * direction is seen, the other direction's are the best guess. */
	take_vlan(c, pkt);
	take_l2_shape(c, pkt);
	if (f & KAPA_TCP_SYN)
		take_syn_opts(c, dir, pkt);
	hc = &c->half[KAPA_DIR_C2S];
	hs = &c->half[KAPA_DIR_S2C];
	if ((f & KAPA_TCP_SYN) && !(f & KAPA_TCP_ACK)) {
		c->state = KAPA_CONN_SYN_SENT;
		half_init(hc, pkt->seq + 1, KAPA_HALF_SYN);
		take_wscale(hc, pkt);
		tcp->st.conns_opened++;
	} else if (f & KAPA_TCP_SYN) {
		/* SYN/ACK first: the roles are certain, the SYN was missed. */
		c->state = KAPA_CONN_SYN_RCVD;
		c->flags |= KAPA_CONN_MIDSTREAM;
		half_init(hs, pkt->seq + 1, KAPA_HALF_SYN);
		half_init(hc, pkt->ack, KAPA_HALF_SYN);
		/* A server only answers the option when the client sent it
		 * (RFC 7323 §1.3), but the client's shift was in the SYN. */
		if (pkt->opt.present & KAPA_OPT_WSCALE) {
			hs->wscale = RTE_MIN(pkt->opt.wscale, WSCALE_MAX);
			hs->flags |= KAPA_HALF_WSCALE;
		}
		tcp->st.conns_midstream++;
	} else {
		c->state = KAPA_CONN_ESTABLISHED;
		c->flags |= KAPA_CONN_MIDSTREAM | KAPA_CONN_ROLE_GUESSED;
		/* Its earliest bytes may still be on their way: the first
		 * byte is decided later (docs/core-tcp.md, "Pickup"). A bare
		 * FIN's sequence number is exact. */
		if (pkt->payload_len != 0) {
			kapa_reasm_pickup_init(&c->half[dir], pkt->seq);
			pickup_wait(tcp, (uint32_t)idx, c);
		} else {
			half_init(&c->half[dir], pkt->seq, KAPA_HALF_OPEN);
		}
		if (f & KAPA_TCP_ACK)
			half_init(&c->half[!dir], pkt->ack, KAPA_HALF_OPEN);
		tcp->st.conns_midstream++;
	}
	kapa_flow_set_idle(tcp->ft, idx, embryonic ? tcp->syn_timeout_ms :
			   tcp->est_timeout_ms);
	kapa_flow_write_end(c);
	*dirp = dir;
	return idx;
}

/*
 * A SYN on an existing entry: is it a new connection on the same 4-tuple
 * (port reuse), or a retransmission belonging to this one?
 */
static int
syn_starts_new(const struct kapa_conn *c, enum kapa_dir dir,
	       const struct kapa_pkt *pkt)
{
	const struct kapa_tcp_half *hc = &c->half[KAPA_DIR_C2S];

	if (c->state == KAPA_CONN_CLOSED || c->state == KAPA_CONN_CLOSING)
		return 1;
	if (pkt->tcp_flags & KAPA_TCP_ACK)
		return 0;	/* a SYN/ACK of this handshake, or a copy of it */
	/* A data-first pickup had its handshake long ago. */
	if (c->flags & KAPA_CONN_ROLE_GUESSED)
		return 1;
	if (dir != KAPA_DIR_C2S || !(hc->flags & KAPA_HALF_SEQ_KNOWN))
		return 1;
	return hc->base_seq != pkt->seq + 1;
}

/*
 * Decide where a picked-up direction of the connection in hand starts, at
 * its earliest held byte, and deliver what it holds (counted in
 * pickup_start_other).
 */
static void
pickup_settle(struct kapa_tcp *tcp, struct kapa_conn *c, enum kapa_dir dir)
{
	struct kapa_reasm r;

	if (!(c->half[dir].flags & KAPA_HALF_PICKUP) || (c->flags & KAPA_CONN_OPAQUE) ||
	    tcp->cur_close)
		return;
	reasm_of(tcp, &r);
	tcp->cur_dir = dir;
	kapa_reasm_pickup_start(&r, &c->half[dir], -1, &tcp->st.pickup_start_other);
}

/* RFC 5961, stricter: only an RST at exactly the next expected sequence. */
static int
rst_is_exact(const struct kapa_conn *c, enum kapa_dir dir,
	     const struct kapa_pkt *pkt)
{
	const struct kapa_tcp_half *h = &c->half[dir], *peer = &c->half[!dir];
	uint32_t next;

	if (h->flags & KAPA_HALF_SEQ_KNOWN) {
		/* A FIN delivered in order used one sequence number. */
		next = h->base_seq + (uint32_t)h->next_off +
		       (h->state == KAPA_HALF_CLOSED ? 1 : 0);
		if (pkt->seq == next)
			return 1;
	}
	if ((peer->flags & KAPA_HALF_ACK_KNOWN) && pkt->seq == peer->ack)
		return 1;
	/* Refused connection: RST+ACK acknowledging exactly the SYN. */
	return c->state == KAPA_CONN_SYN_SENT && dir == KAPA_DIR_S2C &&
	       (pkt->tcp_flags & KAPA_TCP_ACK) &&
	       (c->half[KAPA_DIR_C2S].flags & KAPA_HALF_SEQ_KNOWN) &&
	       pkt->ack == c->half[KAPA_DIR_C2S].base_seq;
}

static void
conn_closed(struct kapa_tcp *tcp, uint32_t idx, struct kapa_conn *c)
{
	c->state = KAPA_CONN_CLOSED;
	flush_conn(tcp, c);
	kapa_flow_set_idle(tcp->ft, idx, tcp->linger_ms);
}

static void
handle_rst(struct kapa_tcp *tcp, uint32_t idx, struct kapa_conn *c,
	   enum kapa_dir dir, const struct kapa_pkt *pkt)
{
	/* What a pickup holds was sent before the RST: hand it on, and judge
	 * the RST against a decided start. */
	pickup_settle(tcp, c, dir);
	pickup_settle(tcp, c, !dir);
	if (!rst_is_exact(c, dir, pkt)) {
		tcp->st.rst_ignored++;
		return;
	}
	tcp->st.rst_accepted++;
	if (c->state == KAPA_CONN_CLOSED)
		return;
	c->flags |= KAPA_CONN_RESET;
	conn_closed(tcp, idx, c);
	emit(tcp, idx, c, dir, KAPA_EV_RESET, 0, 0);
}

/* The handshake (or what we saw of it) is over: the connection is live. */
static void
conn_establish(struct kapa_tcp *tcp, uint32_t idx, struct kapa_conn *c)
{
	int d;

	c->state = KAPA_CONN_ESTABLISHED;
	for (d = 0; d < 2; d++)
		if (c->half[d].state == KAPA_HALF_SYN)
			c->half[d].state = KAPA_HALF_OPEN;
	kapa_flow_set_established(tcp->ft, idx);
	kapa_flow_set_idle(tcp->ft, idx, tcp->est_timeout_ms);
	emit(tcp, idx, c, KAPA_DIR_C2S, KAPA_EV_ESTABLISHED, 0, 0);
}

/* SYN/ACK of the handshake in progress. */
static void
handle_synack(struct kapa_conn *c, enum kapa_dir dir, const struct kapa_pkt *pkt)
{
	struct kapa_tcp_half *hs = &c->half[KAPA_DIR_S2C];
	struct kapa_tcp_half *hc = &c->half[KAPA_DIR_C2S];

	if (dir != KAPA_DIR_S2C || c->state != KAPA_CONN_SYN_SENT ||
	    pkt->ack != hc->base_seq)
		return;	/* a retransmission, or not for this SYN */
	/* An earlier SYN/ACK (with a wrong ack) already started this half:
	 * re-basing it now would hand stream offset 0 on a second time. */
	if (hs->flags & KAPA_HALF_SEQ_KNOWN)
		return;
	half_init(hs, pkt->seq + 1, KAPA_HALF_SYN);
	c->state = KAPA_CONN_SYN_RCVD;
	if ((pkt->opt.present & KAPA_OPT_WSCALE) && (hc->flags & HALF_WS_OFFERED)) {
		hs->wscale = RTE_MIN(pkt->opt.wscale, WSCALE_MAX);
		hs->flags |= KAPA_HALF_WSCALE;
		hc->flags |= KAPA_HALF_WSCALE;
	} else {
		hc->wscale = 0;
	}
	hc->flags &= (uint8_t)~HALF_WS_OFFERED;	/* negotiation is over */
}

/* Payload (and FIN) of the segment into the half's stream. */
static void
half_data(struct kapa_tcp *tcp, struct kapa_conn *c, enum kapa_dir dir,
	  const struct kapa_pkt *pkt)
{
	struct kapa_tcp_half *h = &c->half[dir];
	uint32_t seq = pkt->seq + ((pkt->tcp_flags & KAPA_TCP_SYN) ? 1 : 0);
	int fin = (pkt->tcp_flags & KAPA_TCP_FIN) != 0;
	struct kapa_reasm r;
	int64_t end;

	if (pkt->payload_len == 0 && !fin)
		return;
	if (fin && h->state < KAPA_HALF_FIN)
		h->state = KAPA_HALF_FIN;
	if (fin && c->state < KAPA_CONN_CLOSING)
		c->state = KAPA_CONN_CLOSING;
	if (!(c->flags & KAPA_CONN_OPAQUE)) {
		reasm_of(tcp, &r);
		tcp->cur_dir = dir;
		kapa_reasm_segment(&r, h, seq, pkt->data + pkt->payload_off,
				   pkt->payload_len, fin);
		return;
	}
	/* Opaque: follow the sequence space only. */
	end = kapa_reasm_offset(h, seq) + pkt->payload_len;
	if (end > (int64_t)h->next_off && end - (int64_t)h->next_off < KAPA_REASM_MAX_DIST)
		h->next_off = (uint64_t)end;
	if (fin && h->state != KAPA_HALF_CLOSED && end == (int64_t)h->next_off) {
		h->state = KAPA_HALF_CLOSED;
		emit(tcp, tcp->cur_idx, c, dir, KAPA_EV_FIN, h->next_off, 0);
	}
}

/* Everything a packet does to an entry that exists. */
static void
conn_segment(struct kapa_tcp *tcp, uint32_t idx, struct kapa_conn *c,
	     enum kapa_dir dir, const struct kapa_pkt *pkt, uint32_t now_ms)
{
	struct kapa_tcp_half *h = &c->half[dir], *peer = &c->half[!dir];
	uint8_t f = pkt->tcp_flags;
	/* Activity for the idle clock: new payload, or a SYN, FIN or RST.
	 * Pure ACKs, window updates and keepalive probes (one old byte, or
	 * none) are not: an idle keep-alive connection stays idle under them. */
	int active = (f & (KAPA_TCP_SYN | KAPA_TCP_FIN | KAPA_TCP_RST)) != 0;
	struct kapa_reasm r;
	static const uint8_t zero_mac[6];

	kapa_flow_write_begin(c);
	tcp->writing = c;
	if (memcmp(c->mac[dir], zero_mac, 6) == 0) {
		/* First packet of this direction (or a capture without L2). */
		memcpy(c->mac[dir], pkt->eth_src, 6);
		if (dir == KAPA_DIR_C2S)
			take_vlan(c, pkt);
		take_l2_shape(c, pkt);
	}
	if (f & KAPA_TCP_RST) {
		handle_rst(tcp, idx, c, dir, pkt);
		goto out;
	}
	if ((f & (KAPA_TCP_SYN | KAPA_TCP_ACK)) == (KAPA_TCP_SYN | KAPA_TCP_ACK))
		handle_synack(c, dir, pkt);
	if (f & KAPA_TCP_SYN)
		take_syn_opts(c, dir, pkt);
	if (!(h->flags & KAPA_HALF_SEQ_KNOWN)) {
		/* Its SYN was missed: it starts where we first see it, or
		 * on data, at its earliest bytes (decided later). */
		if (!(f & KAPA_TCP_SYN) && pkt->payload_len != 0) {
			kapa_reasm_pickup_init(h, pkt->seq);
			pickup_wait(tcp, idx, c);
		} else {
			half_init(h, pkt->seq + ((f & KAPA_TCP_SYN) ? 1 : 0), KAPA_HALF_OPEN);
		}
	}
	if (f & KAPA_TCP_ACK) {
		if (!(h->flags & KAPA_HALF_ACK_KNOWN) || (int32_t)(pkt->ack - h->ack) > 0)
			h->ack = pkt->ack;
		h->flags |= KAPA_HALF_ACK_KNOWN;
		if (!(peer->flags & KAPA_HALF_SEQ_KNOWN) && !(f & KAPA_TCP_SYN))
			half_init(peer, pkt->ack, KAPA_HALF_OPEN);
	}
	h->win = pkt->win;
	if (c->state == KAPA_CONN_CLOSED) {
		/* Lingering: late segments change nothing. The first payload
		 * after an accepted RST is told, once: a request sent by a
		 * client that had not seen the server's RST (kapa_race.h). */
		if (pkt->payload_len != 0 &&
		    (c->flags & (KAPA_CONN_RESET | KAPA_CONN_LATE_TOLD)) == KAPA_CONN_RESET) {
			c->flags |= KAPA_CONN_LATE_TOLD;
			emit(tcp, idx, c, dir, KAPA_EV_LATE_DATA, 0, pkt->payload_len);
		}
		goto out;
	}
	if (!(f & KAPA_TCP_SYN) && c->state < KAPA_CONN_ESTABLISHED &&
	    ((f & KAPA_TCP_ACK) || pkt->payload_len != 0))
		conn_establish(tcp, idx, c);
	if (h->state < KAPA_HALF_OPEN && !(f & KAPA_TCP_SYN))
		h->state = KAPA_HALF_OPEN;

	if (pkt->payload_len != 0 &&
	    kapa_reasm_offset(h, pkt->seq + ((f & KAPA_TCP_SYN) ? 1 : 0)) + pkt->payload_len >
	    (int64_t)h->next_off)
		active = 1;
	/* The peer was picked up on its data and this packet says what the
	 * sender received of it: decide where the peer's stream starts, and
	 * hand its bytes on before this packet's, which answer them. */
	if (unlikely(peer->flags & KAPA_HALF_PICKUP) && (f & KAPA_TCP_ACK) &&
	    !(c->flags & KAPA_CONN_OPAQUE)) {
		reasm_of(tcp, &r);
		tcp->cur_dir = !dir;
		kapa_reasm_pickup_start(&r, peer, kapa_reasm_offset(peer, pkt->ack),
					&tcp->st.pickup_start_ack);
	}
	half_data(tcp, c, dir, pkt);
	reasm_of(tcp, &r);
	/* The sender is still sending and its oldest hole has not filled in
	 * a retransmission time: kapa missed those bytes, skip them. Checked
	 * here, after the segment (which may be the one that fills it), and
	 * only for the sender's own direction: no timer per hole. */
	if (h->ooo_head != KAPA_NIL && !(c->flags & KAPA_CONN_OPAQUE) && !tcp->cur_close) {
		tcp->cur_dir = dir;
		kapa_reasm_hole_timeout(&r, h);
	}
	/* The peer holds bytes kapa never saw: skip them now rather than wait
	 * for a limit (this is what makes lossy captures decodable). */
	if ((f & KAPA_TCP_ACK) && !(c->flags & KAPA_CONN_OPAQUE) && !tcp->cur_close) {
		tcp->cur_dir = !dir;
		kapa_reasm_ack(&r, peer, pkt->ack);
	}
	if (c->state != KAPA_CONN_CLOSED &&
	    c->half[0].state == KAPA_HALF_CLOSED && c->half[1].state == KAPA_HALF_CLOSED)
		conn_closed(tcp, idx, c);
out:
	if (active)
		kapa_flow_touch(tcp->ft, idx, now_ms);
	tcp->writing = NULL;
	kapa_flow_write_end(c);
}

int
kapa_tcp_lookup(struct kapa_tcp *tcp, const struct kapa_pkt *pkt,
		struct kapa_flow_key *key, int *side)
{
	*side = kapa_flow_key_make(key, pkt->family, pkt->src, pkt->sport,
				   pkt->dst, pkt->dport);
	return kapa_flow_lookup(tcp->ft, key);
}

void
kapa_tcp_input(struct kapa_tcp *tcp, const struct kapa_pkt *pkt,
	       uint64_t now_ns, void *pkt_ref, struct kapa_tcp_result *res)
{
	struct kapa_flow_key key;
	int side = 0, idx = -ENOENT;

	if (pkt->cls == KAPA_PKT_TCP)
		idx = kapa_tcp_lookup(tcp, pkt, &key, &side);
	kapa_tcp_input_at(tcp, pkt, &key, side, idx, now_ns, pkt_ref, res);
}

void
kapa_tcp_input_at(struct kapa_tcp *tcp, const struct kapa_pkt *pkt,
		  const struct kapa_flow_key *key, int side, int idx,
		  uint64_t now_ns, void *pkt_ref, struct kapa_tcp_result *res)
{
	enum kapa_dir dir = KAPA_DIR_C2S;
	struct kapa_conn *c = NULL;
	uint32_t now_ms;

	res->idx = -1;
	res->dir = 0;
	res->is_new = 0;
	tcp->st.pkts[pkt->cls < KAPA_PKT_CLASS_MAX ? pkt->cls : KAPA_PKT_MALFORMED]++;
	if (pkt->cls == KAPA_PKT_MALFORMED)
		tcp->st.bad[pkt->bad < KAPA_BAD_MAX ? pkt->bad : KAPA_BAD_NONE]++;
	if (pkt->cls != KAPA_PKT_TCP)
		return;
	now_ms = clock_ms(tcp, now_ns);
	tcp->cur_pkt = pkt;
	tcp->cur_ref = pkt_ref;
	tcp->cur_ns = now_ns;
	tcp->cur_close = 0;

	if (idx >= 0) {
		c = kapa_flow_conn(tcp->ft, idx);
		dir = side == c->client_side ? KAPA_DIR_C2S : KAPA_DIR_S2C;
		if ((pkt->tcp_flags & (KAPA_TCP_SYN | KAPA_TCP_RST)) == KAPA_TCP_SYN &&
		    syn_starts_new(c, dir, pkt)) {
			if (c->state >= KAPA_CONN_CLOSING)
				tcp->st.syn_new_on_closed++;
			tcp->cur_idx = idx;
			kapa_flow_release(tcp->ft, idx, KAPA_REL_REPLACED);
			tcp->cur_close = 0;	/* it is gone already */
			idx = -1;
		}
	}
	tcp->cur_idx = KAPA_NIL;
	if (idx < 0) {
		idx = conn_create(tcp, key, side, pkt, now_ms, &dir);
		if (idx < 0)
			goto done;
		res->is_new = 1;
		c = kapa_flow_conn(tcp->ft, idx);
		tcp->cur_idx = idx;
		tcp->cur_conn = c;
		emit(tcp, idx, c, dir, KAPA_EV_OPEN, 0, 0);
	}
	tcp->cur_idx = idx;
	tcp->cur_conn = c;
	res->idx = idx;
	res->dir = dir;
	res->conn = c;
	res->app = kapa_flow_app(tcp->ft, (uint32_t)idx);
	if (!tcp->cur_close)
		conn_segment(tcp, idx, c, dir, pkt, now_ms);
	if (tcp->cur_close) {
		/* kapa_tcp_close() from a callback: release once we are done. */
		tcp->cur_close = 0;
		tcp->cur_idx = KAPA_NIL;
		kapa_flow_release(tcp->ft, idx, KAPA_REL_EXPLICIT);
		res->idx = -1;
	}
done:
	tcp->cur_idx = KAPA_NIL;
	tcp->cur_conn = NULL;
	tcp->cur_pkt = NULL;
	tcp->cur_ref = NULL;
}

int
kapa_tcp_next_deadline(struct kapa_tcp *tcp, uint64_t limit_ns, uint64_t *due_ns)
{
	int pickup_due = 0;
	uint64_t lim;
	uint32_t at;

	if (!tcp->clock_started || limit_ns < tcp->t0_ns)
		return -ENOENT;
	lim = (limit_ns - tcp->t0_ns) / 1000000u;
	if (lim > UINT32_MAX)
		lim = UINT32_MAX;
	/* Never ask for a time behind the clock: the wheel's distances are
	 * from its own tick. */
	if ((uint32_t)lim < tcp->now_ms)
		lim = tcp->now_ms;
	if (tcp->pickup_count != 0) {
		/* The oldest undecided pickup's time may come first (in 64
		 * bits: a hole timeout of UINT32_MAX is never). */
		uint64_t due = (uint64_t)tcp->pickup[tcp->pickup_head].since_ms +
			       tcp->lim.hole_timeout_ms;

		if (due < tcp->now_ms)
			due = tcp->now_ms;
		if (due <= lim) {
			lim = due;
			pickup_due = 1;
		}
	}
	if (kapa_flow_next_deadline(tcp->ft, (uint32_t)lim, &at) != 0) {
		if (!pickup_due)
			return -ENOENT;
		at = (uint32_t)lim;
	}
	if ((int32_t)(at - tcp->now_ms) < 0)
		at = tcp->now_ms;
	*due_ns = tcp->t0_ns + (uint64_t)at * 1000000u;
	return 0;
}

uint32_t
kapa_tcp_advance(struct kapa_tcp *tcp, uint64_t now_ns, uint32_t max)
{
	uint32_t now_ms = clock_ms(tcp, now_ns);

	tcp->cur_ns = now_ns;
	tcp->cur_pkt = NULL;
	tcp->cur_idx = KAPA_NIL;
	if (tcp->pickup_count != 0)
		pickup_timeouts(tcp);
	return kapa_flow_expire(tcp->ft, now_ms, max);
}

void
kapa_tcp_set_opaque(struct kapa_tcp *tcp, uint32_t idx)
{
	struct kapa_conn *c = kapa_flow_conn(tcp->ft, idx);
	int own = tcp->writing != c;	/* not already inside our section */
	struct kapa_reasm r;

	if (own)
		kapa_flow_write_begin(c);
	c->flags |= KAPA_CONN_OPAQUE;
	/* From here on only the sequence space is followed: from a decided
	 * start, so that next_off counts the bytes sent. */
	reasm_of(tcp, &r);
	kapa_reasm_pickup_forget(&r, &c->half[KAPA_DIR_C2S]);
	kapa_reasm_pickup_forget(&r, &c->half[KAPA_DIR_S2C]);
	flush_conn(tcp, c);
	if (own)
		kapa_flow_write_end(c);
}

void
kapa_tcp_set_idle(struct kapa_tcp *tcp, uint32_t idx, uint32_t limit_ms)
{
	kapa_flow_set_idle(tcp->ft, idx, limit_ms);
}

void
kapa_tcp_close(struct kapa_tcp *tcp, uint32_t idx)
{
	if (idx == tcp->cur_idx) {
		/* From a callback on this connection: its record is in use up
		 * the stack, so release it when the packet is done (or, in a
		 * release's hand-on, just stop it: the release goes on). */
		tcp->cur_close = 1;
		return;
	}
	kapa_flow_release(tcp->ft, idx, KAPA_REL_EXPLICIT);
}

uint32_t
kapa_tcp_close_all(struct kapa_tcp *tcp)
{
	uint32_t i, n = 0, cap = kapa_flow_capacity(tcp->ft);

	tcp->cur_idx = KAPA_NIL;
	tcp->cur_pkt = NULL;
	for (i = 0; i < cap; i++) {
		/* A record in use always has a state (set at its insert). */
		if (kapa_flow_conn(tcp->ft, i)->state == KAPA_CONN_FREE)
			continue;
		kapa_flow_release(tcp->ft, i, KAPA_REL_EXPLICIT);
		n++;
	}
	return n;
}

uint64_t
kapa_tcp_oldest_ref(const struct kapa_tcp *tcp)
{
	return kapa_reasm_oldest_ref(&tcp->pool);
}

uint32_t
kapa_tcp_clock_ms(const struct kapa_tcp *tcp)
{
	return tcp->now_ms;
}

struct kapa_flow_table *
kapa_tcp_table(struct kapa_tcp *tcp)
{
	return tcp->ft;
}

const struct kapa_tcp_stats *
kapa_tcp_stats(const struct kapa_tcp *tcp)
{
	return &tcp->st;
}

void *
kapa_tcp_ops_arg(const struct kapa_tcp *tcp)
{
	return tcp->ops_arg;
}

uint64_t
kapa_tcp_seen_end(const struct kapa_tcp *tcp, uint32_t idx, enum kapa_dir dir)
{
	return kapa_reasm_held_end(&tcp->pool, &kapa_flow_conn(tcp->ft, idx)->half[dir]);
}

uint64_t
kapa_tcp_ooo_bytes(const struct kapa_tcp *tcp)
{
	return tcp->pool.bytes;
}
