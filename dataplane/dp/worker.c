/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop: kapa-dp's packet path, top to bottom.
 *
 *   poll      rte_eth_rx_burst() on each queue the worker polls
 *   ingest    count; frames the core cannot take whole (several mbufs, over
 *             the MTU) go straight to the peer port; the rest are parsed
 *             into the mbuf's private area (kapa_pkt)
 *   dispatch  without symmetric RSS only: TCP segments another worker owns
 *             go to its ring (dispatch.h)
 *   own       one bulk table lookup for the burst (records prefetched),
 *             then the engine on each packet at the position found: it
 *             forwards (perhaps edited) or drops; frames it crafted while
 *             at it follow the packet out
 *   timers    kapa_engine_advance(): idle, stall and linger expiries; RSTs
 *             leave at once
 *   tx        buffered per port, flushed when full and at a 100 us deadline
 *   publish   counters every 10 ms, a slice of live connections every ms
 *   idle      nothing arrived: flush, and sleep --idle-sleep-us if given
 *
 * A connection's state lives in its worker only; both of its directions
 * reach that worker (RSS or dispatch), so nothing here is shared or locked
 * but a TX queue that workers must share.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "worker.h"

/** Timer expiries handled per loop turn (the rest wait for the next turn). */
#define ADVANCE_MAX 256

static struct {
	uint64_t base_tsc, base_ns, hz;
} dp_clock;

void
dp_clock_init(void)
{
	struct timespec ts;

	dp_clock.hz = rte_get_tsc_hz();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	dp_clock.base_tsc = rte_get_tsc_cycles();
	dp_clock.base_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t
dp_clock_ns(uint64_t tsc)
{
	uint64_t d = tsc - dp_clock.base_tsc;

	/* Split so that d * 1e9 cannot overflow however long kapa-dp runs. */
	return dp_clock.base_ns + d / dp_clock.hz * 1000000000ull +
	       d % dp_clock.hz * 1000000000ull / dp_clock.hz;
}

/* The parsed packet, kept in the mbuf's private area: a segment another
 * worker owns is parsed once, by its poller. */
static inline struct kapa_pkt *
pkt_of(struct rte_mbuf *m)
{
	return rte_mbuf_to_priv(m);
}

/* ---- the engine's callbacks ------------------------------------------------------ */

/* A crafted frame: out of the port facing its receiver. During input it
 * waits behind the packet in hand; from timers it leaves now. */
static void
dp_emit(const struct kapa_stream_ctx *ctx, enum kapa_dir toward, const uint8_t *frame,
	uint32_t len, void *arg)
{
	struct dp_worker *w = arg;
	struct rte_mbuf *m;
	uint16_t out;
	uint8_t tag;
	int r;

	r = kapa_engine_link_port(ctx, toward, &tag);
	if (r < 0 || tag >= RTE_MAX_ETHPORTS) {
		w->tx.st.craft_no_port++;
		return;
	}
	/* The port @p toward's packets arrive on faces their sender: send
	 * out of its peer. The other direction's port faces the receiver. */
	out = r == 0 ? w->ports[tag].peer : tag;
	if (!w->in_input || w->pending_n == DP_PENDING_MAX) {
		dp_tx_craft(&w->tx, out, frame, len);
		return;
	}
	m = dp_tx_frame(&w->tx, frame, len);
	if (m == NULL)
		return;
	w->pending[w->pending_n].m = m;
	w->pending[w->pending_n].port = out;
	w->pending_n++;
}

static void
dp_event(const struct kapa_stream_ctx *ctx, enum kapa_stream_event ev, uint64_t off,
	 uint64_t len, void *arg)
{
	struct dp_worker *w = arg;

	(void)off;
	(void)len;
	switch (ev) {
	case KAPA_EV_OPEN:
		dp_publish_conn(&w->pub, ctx, 1, w->now_ns);
		break;
	case KAPA_EV_ESTABLISHED:
	case KAPA_EV_FIN:
	case KAPA_EV_RESET:
		dp_publish_conn(&w->pub, ctx, 0, w->now_ns);
		break;
	case KAPA_EV_CLOSE:
		dp_publish_conn_free(&w->pub, ctx, w->now_ns);
		break;
	default:
		break;
	}
}

/* A header block: counted here; the connection is published once the
 * engine has taken its decision on it (after the packet, dp_own()). */
static void
dp_message(const struct kapa_stream_ctx *ctx, const struct kapa_http_msg *m, void *arg)
{
	struct dp_worker *w = arg;
	struct dp_counters *c = &w->ctr;

	if (m->is_request) {
		struct dp_conn *u = kapa_engine_user_state(ctx);

		if (u->last_end_ms != 0)
			dp_publish_idle_gap(&w->pub, kapa_tcp_clock_ms(ctx->tcp) - u->last_end_ms);
		u->last_end_ms = 0;
		c->http10_requests += m->ver_major == 1 && m->ver_minor == 0;
		c->req_conn_keep_alive += (m->conn_flags & KAPA_HTTP_CONN_KEEP_ALIVE) != 0;
		c->req_conn_close += (m->conn_flags & KAPA_HTTP_CONN_CLOSE) != 0;
		c->req_ka_field += m->nka != 0;
	} else {
		c->resp_conn_keep_alive += (m->conn_flags & KAPA_HTTP_CONN_KEEP_ALIVE) != 0;
		c->resp_conn_close += (m->conn_flags & KAPA_HTTP_CONN_CLOSE) != 0;
		c->resp_ka_field += m->nka != 0;
	}
	w->dirty = 1;
	w->dirty_idx = ctx->idx;
}

/* A response ended: a request from here on reuses an idle connection. */
static void
dp_message_end(const struct kapa_stream_ctx *ctx, bool is_request, uint32_t index, void *arg)
{
	(void)index;
	(void)arg;
	if (!is_request)
		((struct dp_conn *)kapa_engine_user_state(ctx))->last_end_ms =
			kapa_tcp_clock_ms(ctx->tcp) | 1;
}

static void
dp_leave(const struct kapa_stream_ctx *ctx, enum kapa_http_leave why, void *arg)
{
	struct dp_worker *w = arg;

	(void)why;
	w->dirty = 1;
	w->dirty_idx = ctx->idx;
}

/*
 * A copy of a rebuilt datagram's frame for the worker that owns its
 * connection, in a chain of mbufs (a datagram is up to 64 KiB), marked
 * DP_CLS_REBUILT, through that worker's dispatch ring.
 * @return 1 (handed over), -1 (no mbuf, or the ring full: not inspected).
 */
static int
dp_hand_over(struct dp_worker *w, const struct kapa_pkt *pkt, const struct rte_mbuf *frag,
	     uint16_t owner)
{
	struct rte_mbuf *head = NULL, *m;
	uint32_t off = 0, n;

	while (off < pkt->len) {
		m = rte_pktmbuf_alloc(w->tx.pool);
		if (m == NULL)
			goto fail;
		n = rte_pktmbuf_tailroom(m);
		if (n > pkt->len - off)
			n = pkt->len - off;
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), pkt->data + off, n);
		off += n;
		if (head == NULL) {
			head = m;
		} else if (rte_pktmbuf_chain(head, m) != 0) {
			rte_pktmbuf_free(m);
			goto fail;
		}
	}
	head->port = frag->port;
	pkt_of(head)->cls = DP_CLS_REBUILT;
	if (rte_ring_enqueue(w->dispatch->ring[owner], head) != 0)
		goto fail;
	w->ctr.frag_handed_over++;
	w->frag_owner = owner + 1;	/* the fragment in hand follows it */
	return 1;
fail:
	rte_pktmbuf_free(head);
	return -1;
}

/*
 * A datagram rebuilt from IP fragments (which all went out as they came).
 * Fragments carry no ports, so they reach the worker that polls their port
 * (software dispatch) or whose queue their addresses hash to (RSS), not
 * necessarily the one that owns their connection. With software dispatch
 * the owner is known: inspected here if it is this worker, else a copy is
 * handed to it. With RSS it is not (the NIC's hash): inspected only if this
 * worker tracks the connection, so that no worker picks up a connection
 * another one owns; else counted (frag_foreign), not inspected.
 */
static int
dp_reassembled(const struct kapa_pkt *pkt, void *pkt_ref, void *arg)
{
	struct dp_worker *w = arg;
	struct kapa_flow_key key;
	uint16_t owner;
	int side;

	if (w->workers == 1 || pkt->cls != KAPA_PKT_TCP)
		return 0;
	if (w->dispatch != NULL) {
		owner = dp_dispatch_owner(pkt, w->workers);
		return owner == w->id ? 0 : dp_hand_over(w, pkt, pkt_ref, owner);
	}
	return kapa_tcp_lookup(kapa_engine_tcp(w->eng), pkt, &key, &side) < 0 ? -1 : 0;
}


static const struct kapa_engine_ops dp_engine_ops = {
	.http = {
		.message = dp_message,
		.message_end = dp_message_end,
		.leave = dp_leave,
		.event = dp_event,
	},
	.emit = dp_emit,
	.reassembled = dp_reassembled,
};

/* ---- the packet path ------------------------------------------------------------- */

/* Publish the connection a packet's messages changed, now that the engine
 * has decided on them. */
static void
publish_dirty(struct dp_worker *w)
{
	struct kapa_tcp *tcp = kapa_engine_tcp(w->eng);
	struct kapa_flow_table *ft = kapa_tcp_table(tcp);
	struct kapa_stream_ctx ctx;

	w->dirty = 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.tcp = tcp;
	ctx.idx = w->dirty_idx;
	ctx.conn = kapa_flow_conn(ft, ctx.idx);
	if (ctx.conn->state == KAPA_CONN_FREE)
		return;		/* closed in the same packet: already freed */
	ctx.app = kapa_flow_app(ft, ctx.idx);
	dp_publish_conn(&w->pub, &ctx, 0, w->now_ns);
}

/*
 * A packet of a connection a killed kapa-dp had shifted (ghost.h), not
 * tracked again yet. @return 1 when it was taken care of here (its client
 * spoke: both ends reset, the packet dropped; its server spoke: forwarded
 * untouched), 0 when it goes through the engine as any other.
 */
static int
dp_ghost(struct dp_worker *w, struct rte_mbuf *m, const struct kapa_pkt *pkt,
	 const struct kapa_engine_slot *s)
{
	uint8_t to_server[128], to_client[128];
	struct dp_ghost *g;
	int ls, lc;

	g = dp_ghost_find(w->ghosts, &s->key, w->now_ns);
	if (g == NULL)
		return 0;
	/* A segment its receiver drops for its checksum says nothing of the
	 * connection: the engine counts it and forwards it, unused. */
	if (pkt->csum == KAPA_CSUM_BAD ||
	    (pkt->csum == KAPA_CSUM_UNKNOWN && w->csum_verify && !kapa_csum_ok(pkt)))
		return 0;
	if (pkt->tcp_flags & (KAPA_TCP_SYN | KAPA_TCP_RST)) {
		g->state = DP_GHOST_GONE;	/* a new connection, or the end */
		return 0;
	}
	if (s->side != g->client_side || !(pkt->tcp_flags & KAPA_TCP_ACK) ||
	    dp_ghost_rsts(pkt, rte_pktmbuf_mtod(m, const uint8_t *), to_server, &ls,
			  to_client, &lc, sizeof(to_server)) != 0) {
		w->ctr.ghost_forwarded++;
		dp_tx_send(&w->tx, w->ports[m->port].peer, m);
		return 1;
	}
	dp_tx_craft(&w->tx, w->ports[m->port].peer, to_server, (uint32_t)ls);
	dp_tx_craft(&w->tx, m->port, to_client, (uint32_t)lc);
	rte_pktmbuf_free(m);
	g->state = DP_GHOST_RESET;
	w->ctr.ghosts_reset++;
	return 1;
}

/*
 * The fragment that completed a datagram handed to its owner goes out from
 * the owner, after the owner has read the datagram: sent from here, it could
 * complete the datagram at the server, and the server's answer reach the
 * owner, before the owner's ring gave it the request. Queued behind the
 * copy, as any segment dispatched to its owner; a full ring sends it from
 * here (never held, never dropped).
 */
static void
dp_frag_follow(struct dp_worker *w, struct rte_mbuf *m)
{
	uint16_t owner = (uint16_t)(w->frag_owner - 1);

	w->frag_owner = 0;
	pkt_of(m)->cls = DP_CLS_FOLLOW;
	if (rte_ring_enqueue(w->dispatch->ring[owner], m) == 0) {
		w->ctr.dispatched++;
		return;
	}
	dp_tx_send(&w->tx, w->ports[m->port].peer, m);
}

/* After a packet went through the engine: what it crafted meanwhile
 * (held so that it leaves after the packet that caused it), then the
 * connection state it changed, published. */
static void
dp_after_input(struct dp_worker *w)
{
	uint16_t k;

	for (k = 0; k < w->pending_n; k++)
		dp_tx_send(&w->tx, w->pending[k].port, w->pending[k].m);
	w->pending_n = 0;
	if (w->dirty)
		publish_dirty(w);
}

/* A datagram another worker rebuilt for this one (dp_hand_over()): made one
 * frame again, through the engine, never forwarded. */
static void
dp_rebuilt(struct dp_worker *w, struct rte_mbuf *m)
{
	const uint8_t *data;
	struct kapa_pkt pkt;
	struct kapa_buf b;

	data = rte_pktmbuf_read(m, 0, m->pkt_len, w->frag_buf);
	if (data != w->frag_buf)
		memcpy(w->frag_buf, data, m->pkt_len);
	b.data = w->frag_buf;
	b.len = m->pkt_len;
	b.tailroom = 0;
	b.edited = 0;
	b.port = (uint8_t)m->port;
	kapa_pkt_parse(b.data, b.len, KAPA_L2_ETHER, &pkt);
	w->in_input = 1;
	kapa_engine_input_reassembled(w->eng, &b, &pkt, w->now_ns, m);
	w->in_input = 0;
	rte_pktmbuf_free(m);
	dp_after_input(w);
}

/* The packets this worker owns: one lookup for all, then each through the
 * engine, forwarded out of the peer of the port it came in on. */
static void
dp_own(struct dp_worker *w, struct rte_mbuf **mbufs, uint16_t n)
{
	struct kapa_engine_slot slot[DP_BURST];
	/* Set below for every packet; initialised because gcc 12 cannot
	 * tell (-Wmaybe-uninitialized on a const argument). */
	struct kapa_pkt *pkts[DP_BURST] = { NULL };
	enum kapa_verdict v;
	struct kapa_buf b;
	uint16_t i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		pkts[i] = pkt_of(mbufs[i]);
	kapa_engine_lookup_burst(w->eng, pkts, n, slot);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = mbufs[i];

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(mbufs[i + 1], void *));
		if (unlikely(pkts[i]->cls == DP_CLS_REBUILT)) {
			dp_rebuilt(w, m);
			continue;
		}
		if (unlikely(pkts[i]->cls == DP_CLS_FOLLOW)) {
			dp_tx_send(&w->tx, w->ports[m->port].peer, m);
			continue;
		}
		if (unlikely(w->ghosts != NULL) && slot[i].idx < 0 &&
		    pkts[i]->cls == KAPA_PKT_TCP && dp_ghost(w, m, pkts[i], &slot[i]))
			continue;
		b.data = rte_pktmbuf_mtod(m, uint8_t *);
		b.len = m->data_len;
		b.tailroom = rte_pktmbuf_tailroom(m);
		b.port = (uint8_t)m->port;
		w->in_input = 1;
		v = kapa_engine_input_at(w->eng, &b, pkts[i], &slot[i], w->now_ns, m);
		w->in_input = 0;
		if (unlikely(w->frag_owner != 0)) {
			dp_frag_follow(w, m);
		} else if (v == KAPA_VERDICT_FORWARD) {
			if (b.edited)
				m->data_len = (uint16_t)b.len, m->pkt_len = b.len;
			dp_tx_send(&w->tx, w->ports[m->port].peer, m);
		} else {
			rte_pktmbuf_free(m);
		}
		dp_after_input(w);
	}
}

/*
 * The port's word on a packet's checksums (docs/kapa-dp.md, "Checksums"):
 * of a TCP segment, its IPv4 header's (if any) and its TCP checksum
 * together; of an IPv4 fragment, its header's. NONE means the checksum
 * field was never filled but the port vouches for the data (a frame from
 * the same host, as virtio gives it): the receiver on that host takes it,
 * so it is good. A tunnelled segment gets no verdict here: a port that does
 * not open the tunnel reports on the outer headers, and the ones that
 * matter are the inner ones.
 */
static inline uint8_t
dp_port_verdict(uint64_t flags, uint64_t good, uint64_t bad, uint64_t none)
{
	if (flags == bad)
		return KAPA_CSUM_BAD;
	return flags == good || flags == none ? KAPA_CSUM_GOOD : KAPA_CSUM_UNKNOWN;
}

static inline uint8_t
dp_csum_verdict(const struct rte_mbuf *m, const struct kapa_pkt *pkt)
{
	uint8_t ip = KAPA_CSUM_GOOD, l4;

	if (pkt->encap & KAPA_ENCAP_TUNNEL)
		return KAPA_CSUM_UNKNOWN;
	if (pkt->family == 4)
		ip = dp_port_verdict(m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK,
				     RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_BAD,
				     RTE_MBUF_F_RX_IP_CKSUM_NONE);
	if (pkt->cls == KAPA_PKT_FRAGMENT)
		return pkt->family == 4 ? ip : KAPA_CSUM_UNKNOWN;
	l4 = dp_port_verdict(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK,
			     RTE_MBUF_F_RX_L4_CKSUM_GOOD, RTE_MBUF_F_RX_L4_CKSUM_BAD,
			     RTE_MBUF_F_RX_L4_CKSUM_NONE);
	if (ip == KAPA_CSUM_BAD || l4 == KAPA_CSUM_BAD)
		return KAPA_CSUM_BAD;
	return ip == KAPA_CSUM_GOOD && l4 == KAPA_CSUM_GOOD ? KAPA_CSUM_GOOD : KAPA_CSUM_UNKNOWN;
}

/*
 * Count a burst; frames the core cannot take whole leave untouched; parse
 * the rest (with the port's checksum verdict). With dispatch, segments of
 * other workers' connections go to their rings. What remains is this
 * worker's, in @p own.
 * @return frames in @p own.
 */
static uint16_t
dp_ingest(struct dp_worker *w, struct rte_mbuf **mbufs, uint16_t n, struct rte_mbuf **own)
{
	struct rte_mbuf *to[KAPA_MAX_WORKERS][DP_BURST];
	uint16_t nto[KAPA_MAX_WORKERS];
	uint16_t i, nown = 0, owner, sent;

	if (w->dispatch != NULL)
		memset(nto, 0, sizeof(nto[0]) * w->workers);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = mbufs[i];
		struct kapa_pkt *pkt = pkt_of(m);

		w->ctr.rx_packets++;
		w->ctr.rx_bytes += m->pkt_len;
		if (unlikely(m->nb_segs > 1)) {
			w->ctr.untouched_multiseg++;
			dp_tx_send(&w->tx, w->ports[m->port].peer, m);
			continue;
		}
		if (unlikely(m->pkt_len > w->ports[m->port].max_frame)) {
			w->ctr.untouched_oversize++;
			dp_tx_send(&w->tx, w->ports[m->port].peer, m);
			continue;
		}
		kapa_pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, KAPA_L2_ETHER, pkt);
		if (pkt->cls == KAPA_PKT_TCP)
			pkt->csum = dp_csum_verdict(m, pkt);
		if (w->dispatch != NULL && pkt->cls == KAPA_PKT_TCP) {
			owner = dp_dispatch_owner(pkt, w->workers);
			if (owner != w->id) {
				to[owner][nto[owner]++] = m;
				continue;
			}
		}
		own[nown++] = m;
	}
	if (w->dispatch == NULL)
		return nown;
	for (owner = 0; owner < w->workers; owner++) {
		if (nto[owner] == 0)
			continue;
		sent = (uint16_t)rte_ring_enqueue_burst(w->dispatch->ring[owner],
							(void **)to[owner], nto[owner], NULL);
		w->ctr.dispatched += sent;
		if (unlikely(sent < nto[owner])) {
			w->ctr.dispatch_full += nto[owner] - sent;
			rte_pktmbuf_free_bulk(&to[owner][sent], nto[owner] - sent);
		}
	}
	return nown;
}

/* --bypass: the forwarding ceiling, through the same PMDs and TX path. */
static void
dp_bypass(struct dp_worker *w, struct rte_mbuf **mbufs, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		w->ctr.rx_packets++;
		w->ctr.rx_bytes += mbufs[i]->pkt_len;
		dp_tx_send(&w->tx, w->ports[mbufs[i]->port].peer, mbufs[i]);
	}
}

/* One turn of the loop over every source. @return frames taken in. */
static uint32_t
dp_poll(struct dp_worker *w)
{
	struct rte_mbuf *mbufs[DP_BURST], *own[DP_BURST];
	uint32_t got = 0;
	uint16_t q, n;

	for (q = 0; q < w->nb_rxq; q++) {
		n = rte_eth_rx_burst(w->rxq[q].port, w->rxq[q].queue, mbufs, DP_BURST);
		if (n == 0)
			continue;
		got += n;
		if (unlikely(w->bypass)) {
			dp_bypass(w, mbufs, n);
			continue;
		}
		dp_own(w, own, dp_ingest(w, mbufs, n, own));
	}
	if (w->ring != NULL) {
		n = (uint16_t)rte_ring_dequeue_burst(w->ring, (void **)mbufs, DP_BURST, NULL);
		got += n;
		dp_own(w, mbufs, n);
	}
	return got;
}

/* A new configuration (rules, program) from the control path. */
static void
dp_take_config(struct dp_worker *w, const struct dp_config *cfg)
{
	if (cfg->policy != w->cfg->policy)
		kapa_engine_set_policy(w->eng, cfg->policy);
	if (cfg->prog != w->cfg->prog)
		kapa_engine_set_prog(w->eng, cfg->prog != NULL ? kapa_prog_fn(cfg->prog) : NULL);
	w->cfg = cfg;
}

/* A command from the main lcore (control.c): carried out, answered. */
static void
dp_take_command(struct dp_worker *w)
{
	struct dp_mailbox *mb = &w->mailbox;
	uint64_t seq = __atomic_load_n(&mb->seq, __ATOMIC_ACQUIRE);

	if (likely(seq == mb->done))
		return;
	mb->status = kapa_engine_close_conn(w->eng, mb->slot, mb->gen, w->now_ns);
	__atomic_store_n(&mb->done, seq, __ATOMIC_RELEASE);
}

int
dp_worker_loop(void *arg)
{
	struct dp_worker *w = arg;
	const struct dp_config *cfg;
	uint32_t got;

	while (!*w->quit) {
		w->now_tsc = rte_get_tsc_cycles();
		w->now_ns = dp_clock_ns(w->now_tsc);
		cfg = dp_control_current(w->control, w->id);
		if (unlikely(cfg != w->cfg))
			dp_take_config(w, cfg);
		dp_take_command(w);
		got = dp_poll(w);
		kapa_engine_advance(w->eng, w->now_ns, ADVANCE_MAX);
		dp_tx_flush(&w->tx, w->now_tsc, 0);
		dp_publish_tick(&w->pub, w->eng, &w->ctr, &w->tx.st, w->now_ns);
		if (got != 0) {
			/* Time of the turns that had work: cycles per frame. */
			w->frames += got;
			w->busy_cycles += rte_get_tsc_cycles() - w->now_tsc;
		}
		if (w->housekeeping != NULL && w->now_ns >= w->next_housekeeping_ns) {
			w->housekeeping(w->housekeeping_arg);
			w->next_housekeeping_ns = w->now_ns + 10 * 1000000ull;
		}
		if (got == 0 && w->idle_sleep_us != 0) {
			dp_tx_flush(&w->tx, w->now_tsc, 1);
			rte_delay_us_sleep(w->idle_sleep_us);
		}
	}

	/* Stop. Segments other pollers handed over are still processed: the
	 * ring is drained until every worker has stopped polling. */
	rte_rcu_qsbr_thread_offline(w->control->qsbr, w->id);
	__atomic_fetch_add(w->stopped, 1, __ATOMIC_ACQ_REL);
	if (w->ring != NULL) {
		struct rte_mbuf *mbufs[DP_BURST];
		uint16_t n;

		do {
			w->now_ns = dp_clock_ns(rte_get_tsc_cycles());
			n = (uint16_t)rte_ring_dequeue_burst(w->ring, (void **)mbufs, DP_BURST, NULL);
			dp_own(w, mbufs, n);
		} while (n != 0 || __atomic_load_n(w->stopped, __ATOMIC_ACQUIRE) < w->workers);
	}
	/* Connections whose sequence numbers kapa shifted cannot go on without
	 * it: reset both ways (the core counts them, KAPA_ACT_WHY_SHUTDOWN). */
	w->now_tsc = rte_get_tsc_cycles();
	w->now_ns = dp_clock_ns(w->now_tsc);
	kapa_engine_close_all(w->eng, 1);
	dp_tx_flush(&w->tx, w->now_tsc, 1);
	{
		struct dp_counter_src s;

		dp_counter_src_fill(&s, w->eng, &w->ctr, &w->tx.st);
		dp_publish_stats(&w->pub, &s, w->now_ns);
	}
	return 0;
}

struct dp_worker *
dp_worker_create(const struct dp_worker_params *p, char *err, size_t errlen)
{
	struct dp_tx_params txp = {
		.ports = p->ports, .nports = p->nports, .worker = p->id,
		.pool = p->pool, .socket = p->socket,
	};
	struct dp_publish_params pubp = {
		.stats = p->stats, .conns = p->conns, .hist = p->hist, .capacity = p->capacity,
		.worker = p->id,
	};
	struct kapa_engine_conf conf;
	struct dp_worker *w;
	char name[32];

	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		snprintf(err, errlen, "worker %u: out of memory", p->id);
		return NULL;
	}
	w->id = p->id;
	w->workers = p->workers;
	w->ports = p->ports;
	memcpy(w->rxq, p->rxq, sizeof(w->rxq[0]) * p->nb_rxq);
	w->nb_rxq = p->nb_rxq;
	w->dispatch = p->dispatch;
	w->ring = p->dispatch != NULL ? p->dispatch->ring[p->id] : NULL;
	w->ghosts = p->ghosts;
	w->control = p->control;
	w->cfg = p->control->cur;
	w->idle_sleep_us = p->idle_sleep_us;
	w->bypass = p->bypass;
	w->csum_verify = p->csum_verify;
	w->quit = p->quit;
	w->stopped = p->stopped;
	w->housekeeping = p->housekeeping;
	w->housekeeping_arg = p->housekeeping_arg;
	if (dp_tx_create(&w->tx, &txp, err, errlen) != 0) {
		free(w);
		return NULL;
	}
	dp_publish_init(&w->pub, &pubp);
	dp_control_attach(p->control, p->id, &w->mailbox);

	/* rte_hash names are unique per process. */
	snprintf(name, sizeof(name), "kapa_w%u", p->id);
	memset(&conf, 0, sizeof(conf));
	conf.tcp.flow.name = name;
	conf.tcp.flow.capacity = p->capacity;
	conf.tcp.flow.socket_id = p->socket;
	conf.http.ports = p->http_ports;
	conf.policy = w->cfg->policy;
	conf.prog = w->cfg->prog != NULL ? kapa_prog_fn(w->cfg->prog) : NULL;
	conf.user_size = sizeof(struct dp_conn);
	conf.mtu = p->mtu;
	conf.csum_verify = p->csum_verify;
	conf.ops = &dp_engine_ops;
	conf.ops_arg = w;
	w->eng = kapa_engine_create(&conf);
	if (w->eng == NULL) {
		snprintf(err, errlen, "worker %u: cannot create the core for %u connections: %s",
			 p->id, p->capacity, rte_strerror(rte_errno));
		dp_tx_free(&w->tx);
		free(w);
		return NULL;
	}
	/* Datagrams other workers rebuilt for this one, made one frame again. */
	if (w->dispatch != NULL) {
		w->frag_buf = malloc(KAPA_FRAG_HEAD_MAX + KAPA_FRAG_DGRAM_MAX);
		if (w->frag_buf == NULL) {
			snprintf(err, errlen, "worker %u: out of memory", p->id);
			dp_worker_free(w);
			return NULL;
		}
	}
	return w;
}

void
dp_worker_free(struct dp_worker *w)
{
	if (w == NULL)
		return;
	kapa_engine_destroy(w->eng);
	dp_tx_free(&w->tx);
	free(w->frag_buf);
	free(w);
}
