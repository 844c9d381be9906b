/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's packet path (kapa_engine.h), top to bottom:
 *
 *   kapa_engine_input()
 *     a checksum the receiver would refuse (IPv4 header, TCP): counted,
 *       forwarded as it is, nothing else                   (engine_csum_bad)
 *     look the connection up once (kapa_tcp_lookup)
 *     client segment of an edited connection: ack and SACK edges back to the
 *       server's space, before the core sees them        (act_client_in)
 *     the TCP core, the tracker, the decisions            (kapa_tcp_input_at
 *       -> kapa_act.c: edits are planned and logged, RSTs crafted)
 *     after the core:
 *       the link header of each direction kept for crafted packets
 *       server segment of an edited connection: the log applied, seq
 *         shifted, split to the client's MSS                (act_server_out)
 *       client segment: bytes past a refused request cut off, the close
 *         that waited for the client's acknowledgement      (client_post)
 *
 * Nothing on this path allocates, logs or blocks; every refusal is counted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_errno.h>

#include "kapa_engine_int.h"
#include "kapa_reasm.h"

/* Connections looked at per advance for a new rule set. */
#define SWEEP_SLICE 256
/* sweep_pos when no sweep is going on. */
#define SWEEP_DONE UINT32_MAX
/* The TCP core's default idle limit of established connections. */
#define DEF_EST_MS 7200000u

struct kapa_tcp *
kapa_engine_tcp(struct kapa_engine *e)
{
	return e->tcp;
}

struct kapa_http *
kapa_engine_http(struct kapa_engine *e)
{
	return e->http;
}

struct kapa_race *
kapa_engine_race(struct kapa_engine *e)
{
	return e->race;
}

struct kapa_frag *
kapa_engine_frag(struct kapa_engine *e)
{
	return e->frag;
}

const struct kapa_engine_stats *
kapa_engine_stats(const struct kapa_engine *e)
{
	return &e->st;
}

/* A callback context for a connection outside the TCP core's callbacks. */
static void
engine_ctx(struct kapa_engine *e, uint32_t idx, uint8_t dir, uint64_t now_ns, void *ref,
	   const struct kapa_pkt *pkt, struct kapa_stream_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->tcp = e->tcp;
	ctx->ops_arg = e->http;
	ctx->idx = idx;
	ctx->conn = &e->conns[idx];
	ctx->app = e->app + (size_t)idx * e->app_stride;
	ctx->dir = (enum kapa_dir)dir;
	ctx->now_ns = now_ns;
	ctx->pkt_ref = ref;
	ctx->pkt = pkt;
}

/* ---- before the TCP core ---------------------------------------------------------- */

static void
client_pre(struct kapa_engine *e, int idx, int side, struct kapa_buf *b, struct kapa_pkt *pkt)
{
	const struct kapa_conn *c = &e->conns[idx];
	struct act_conn *ac = act_at(e, (uint32_t)idx);
	uint8_t dir = side == c->client_side ? KAPA_DIR_C2S : KAPA_DIR_S2C;
	uint32_t ack = pkt->ack;
	uint64_t sack = e->st.sack_edges_translated;

	if (!(ac->flags & ACT_EDITED) || dir == ac->srv_dir)
		return;
	act_client_in(e, ac, pkt);
	if (pkt->ack != ack || e->st.sack_edges_translated != sack) {
		b->edited = 1;
		/* The core reads the acknowledgement in the server's space,
		 * but the fragments reach the server as they came. */
		if (e->cur_frag)
			e->st.act[KAPA_ACT_KIND_REFUSED][KAPA_ACT_WHY_FRAGMENTED]++;
	}
}

/* ---- after the TCP core ------------------------------------------------------------ */

void
keep_l2(struct act_conn *ac, uint8_t dir, const struct kapa_buf *b, const struct kapa_pkt *pkt)
{
	static const uint8_t zero[6];
	uint32_t n = (uint32_t)(pkt->data - b->data) + pkt->l3_off;

	if (n > ACT_L2_MAX)
		return;		/* deeper than a crafted packet may copy: L2_DEEP */
	memcpy(ac->l2[dir], b->data, n);
	ac->l2_len[dir] = (uint8_t)(n + 1);
	ac->l2_port[dir] = b->port;
	if (pkt->data == b->data && pkt->l3_off >= 14 &&
	    (memcmp(pkt->eth_src, zero, 6) != 0 || memcmp(pkt->eth_dst, zero, 6) != 0))
		ac->l2_ether |= (uint8_t)(1u << dir);
}

/* Client segment of a connection that refuses bytes or waits to close. */
static void
client_post(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, struct act_conn *ac,
	    struct kapa_pkt *pkt)
{
	const struct kapa_tcp_half *h = &ctx->conn->half[ctx->dir];
	int64_t o;

	if ((ac->flags & ACT_REFUSING) && pkt->payload_len != 0) {
		o = kapa_reasm_offset(h, pkt->seq + ((pkt->tcp_flags & KAPA_TCP_SYN) ? 1 : 0));
		if (o + pkt->payload_len > (int64_t)ac->refuse_off)
			e->cur_cut = o >= (int64_t)ac->refuse_off ? 0 :
				     (uint32_t)((int64_t)ac->refuse_off - o);
	}
	if (!(ac->flags & ACT_CLOSE_AT) || !(pkt->tcp_flags & KAPA_TCP_ACK) ||
	    (int32_t)(pkt->ack - ac->close_seq) < 0)
		return;
	if (ac->flags & ACT_CLOSE_FIN) {
		ac->flags &= (uint16_t)~(ACT_CLOSE_AT | ACT_CLOSE_FIN);
		/* A client that closes by itself needs no help: the server
		 * closes on its FIN; nor does a server that closes anyway.
		 * Otherwise the ends close on kapa's FINs, through kapa (the
		 * state stays until their own FINs end it). */
		if ((pkt->tcp_flags & (KAPA_TCP_FIN | KAPA_TCP_RST)) || h->state >= KAPA_HALF_FIN ||
		    ctx->conn->half[ac->srv_dir].state >= KAPA_HALF_FIN)
			return;
		if (act_close_announced(e, ctx) == 1)
			kapa_tcp_close(e->tcp, ctx->idx);
		return;
	}
	if (act_reset(e, ctx, KAPA_ACT_WHY_REQUESTS) == 0)
		kapa_tcp_close(e->tcp, ctx->idx);	/* now: not inside a callback */
}

/* Per packet with a policy: cheap unless the connection is one of the few
 * that need work (edited, refusing, waiting to close). */
static void
engine_post(struct kapa_engine *e, const struct kapa_tcp_result *res, struct kapa_buf *b,
	    struct kapa_pkt *pkt, uint64_t now_ns, void *ref)
{
	struct act_conn *ac = (struct act_conn *)((uint8_t *)res->app + e->act_off);
	struct kapa_stream_ctx ctx;

	if (ac->l2_len[res->dir] == 0)
		keep_l2(ac, res->dir, b, pkt);
	if ((ac->flags & (ACT_HOT | ACT_RESET)) == 0 || (ac->flags & ACT_RESET))
		return;
	engine_ctx(e, (uint32_t)res->idx, res->dir, now_ns, ref, pkt, &ctx);
	if (res->dir == ac->srv_dir) {
		if (!(ac->flags & ACT_EDITED))
			return;
		/* Fragments of a shifted connection cannot be shifted: they
		 * go on as they came. */
		if (unlikely(e->cur_frag))
			act_report(e, &ctx, KAPA_ACT_KIND_REFUSED, KAPA_ACT_WHY_FRAGMENTED,
				   ctx.pkt_off, 0);
		else if (act_server_out(e, &ctx, b, pkt) == KAPA_VERDICT_DROP)
			e->cur_verdict = KAPA_VERDICT_DROP;
		return;
	}
	client_post(e, &ctx, ac, pkt);
}

/* Bytes of a refused request in the packet in hand are not forwarded. */
static void
apply_cut(struct kapa_engine *e, struct kapa_buf *b, struct kapa_pkt *pkt)
{
	if (e->cur_cut >= pkt->payload_len)
		return;
	if (unlikely(e->cur_frag)) {
		/* A refused request in fragments reaches the server: the
		 * connection is reset as the request is refused. */
		e->st.act[KAPA_ACT_KIND_REFUSED][KAPA_ACT_WHY_FRAGMENTED]++;
		return;
	}
	if (e->cur_cut == 0) {
		e->cur_verdict = KAPA_VERDICT_DROP;
	} else {
		kapa_edit_trim(b, pkt, e->cur_cut);
		b->edited = 1;
	}
	e->st.pkts_dropped += e->cur_cut == 0;
}

/*
 * Whether the segment in hand carries a checksum its receiver would refuse,
 * the IPv4 header's or the TCP one: such a segment never reaches the
 * server's (or client's) application, so it must not count as a request,
 * create or move any
 * state, or take the place of the good copy that will be sent again (the
 * reassembly keeps the first copy of a byte). The port's verdict is taken
 * as it is; a segment no port checked is verified here when configured to.
 * Each check is counted by who made it.
 */
static inline bool
engine_csum_bad(struct kapa_engine *e, const struct kapa_pkt *pkt)
{
	if (pkt->cls != KAPA_PKT_TCP)
		return false;
	switch (pkt->csum) {
	case KAPA_CSUM_GOOD:
		e->st.csum_port++;
		return false;
	case KAPA_CSUM_BAD:
		e->st.csum_port++;
		break;
	default:
		if (!e->csum_verify)
			return false;
		e->st.csum_sw++;
		if (likely(kapa_csum_ok(pkt)))
			return false;
		break;
	}
	e->st.csum_bad++;
	return true;
}

/* The slot's results for a packet the engine did not use. */
static inline void
slot_unused(struct kapa_engine_slot *s)
{
	s->conn = -1;
	s->dir = 0;
	s->user = NULL;
}

/* The slot's results from the TCP core's. */
static inline void
slot_result(struct kapa_engine *e, struct kapa_engine_slot *s, const struct kapa_tcp_result *res)
{
	s->conn = res->idx;
	s->dir = res->dir;
	s->user = res->idx >= 0 ? (uint8_t *)res->app + KAPA_HTTP_STATE_SIZE +
				  KAPA_RACE_STATE_SIZE : NULL;
	(void)e;
}

/* The packet path with a policy that may act (or edits still in flight).
 * Apart, so that the path without one pays for none of its frame. */
static __attribute__((noinline)) enum kapa_verdict
engine_input_acting(struct kapa_engine *e, struct kapa_buf *b, struct kapa_pkt *pkt,
		    struct kapa_engine_slot *s, uint64_t now_ns, void *pkt_ref)
{
	struct kapa_tcp_result res;

	if (s->idx >= 0 && e->edited_conns != 0)
		client_pre(e, s->idx, s->side, b, pkt);
	e->cur_buf = b;
	e->cur_pkt = pkt;
	e->cur_grow = 0;
	e->cur_cut = UINT32_MAX;
	e->cur_verdict = KAPA_VERDICT_FORWARD;
	e->cur_seen_end = 0;
	if (s->idx >= 0)
		e->cur_seen_end = kapa_tcp_seen_end(
			e->tcp, (uint32_t)s->idx,
			s->side == kapa_flow_conn(e->ft, (uint32_t)s->idx)->client_side ?
			KAPA_DIR_C2S : KAPA_DIR_S2C);
	kapa_tcp_input_at(e->tcp, pkt, &s->key, s->side, s->idx, now_ns, pkt_ref, &res);
	slot_result(e, s, &res);
	if (res.idx >= 0 && e->policy != NULL)
		engine_post(e, &res, b, pkt, now_ns, pkt_ref);
	if (e->cur_cut != UINT32_MAX && e->cur_verdict == KAPA_VERDICT_FORWARD)
		apply_cut(e, b, pkt);
	e->cur_buf = NULL;
	e->cur_pkt = NULL;
	return (enum kapa_verdict)e->cur_verdict;
}

void
kapa_engine_lookup_burst(struct kapa_engine *e, struct kapa_pkt *const *pkts, uint32_t n,
			 struct kapa_engine_slot *slots)
{
	const struct kapa_flow_key *keys[64];
	int32_t idx[64];
	uint32_t i, k = 0, at[64];

	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++) {
		slots[i].idx = -ENOENT;
		slots[i].changes = *e->changes;
		if (pkts[i]->cls != KAPA_PKT_TCP)
			continue;
		slots[i].side = (uint8_t)kapa_flow_key_make(&slots[i].key, pkts[i]->family,
							     pkts[i]->src, pkts[i]->sport,
							     pkts[i]->dst, pkts[i]->dport);
		keys[k] = &slots[i].key;
		at[k++] = i;
	}
	kapa_flow_lookup_bulk(e->ft, keys, k, idx);
	for (i = 0; i < k; i++)
		slots[at[i]].idx = idx[i];
}

/*
 * An IP fragment: into the reassembly table; a datagram it completes goes
 * through kapa_engine_input() first, as any packet, with cur_frag set so
 * that nothing of it is edited and its verdict ignored. The fragment
 * itself then takes the normal path (counted as a fragment, forwarded).
 */
static __attribute__((noinline)) void
engine_fragment(struct kapa_engine *e, const struct kapa_buf *b, const struct kapa_pkt *pkt,
		uint64_t now_ns, void *pkt_ref)
{
	struct kapa_frag_dgram d;
	struct kapa_buf db;

	if (e->cur_frag) {
		/* Its datagram's frame is the table's buffer, in use. */
		kapa_frag_refuse(e->frag, KAPA_FRAG_REF_NESTED);
		return;
	}
	/* A fragment whose IPv4 header checksum is wrong is dropped by its
	 * receiver before reassembly: it must neither complete a datagram
	 * nor, as a first copy, spoil the good one sent again. (Its port's
	 * verdict, where there is one, is on that header.) */
	if (pkt->csum == KAPA_CSUM_BAD ||
	    (pkt->csum == KAPA_CSUM_UNKNOWN && e->csum_verify && !kapa_csum_ip4_ok(pkt))) {
		e->st.csum_bad++;
		return;
	}
	if (kapa_frag_input(e->frag, pkt, now_ns, &d) != KAPA_FRAG_DONE)
		return;
	if (e->ops.reassembled != NULL) {
		switch (e->ops.reassembled(&d.pkt, pkt_ref, e->ops_arg)) {
		case 0:
			break;
		case 1:
			return;		/* the user hands it to its owner */
		default:
			kapa_frag_refuse(e->frag, KAPA_FRAG_REF_FOREIGN);
			return;
		}
	}
	db.data = d.data;
	db.len = d.len;
	db.tailroom = 0;
	db.edited = 0;
	db.port = b->port;
	kapa_engine_input_reassembled(e, &db, &d.pkt, now_ns, pkt_ref);
}

void
kapa_engine_input_reassembled(struct kapa_engine *e, struct kapa_buf *b, struct kapa_pkt *pkt,
			      uint64_t now_ns, void *pkt_ref)
{
	e->cur_frag = 1;
	kapa_engine_input(e, b, pkt, now_ns, pkt_ref);
	e->cur_frag = 0;
}

/* kapa_engine_input_at() once the segment's checksum has been looked at. */
static enum kapa_verdict
engine_input_at(struct kapa_engine *e, struct kapa_buf *b, struct kapa_pkt *pkt,
		struct kapa_engine_slot *s, uint64_t now_ns, void *pkt_ref)
{
	struct kapa_tcp_result res;

	/* An earlier packet of the burst inserted or released: look again. */
	if (pkt->cls == KAPA_PKT_TCP && s->changes != *e->changes)
		s->idx = kapa_flow_lookup(e->ft, &s->key);
	if (e->acting || e->edited_conns != 0)
		return engine_input_acting(e, b, pkt, s, now_ns, pkt_ref);
	/* Nothing can be edited or crafted (no policy, or one that only
	 * observes: decisions are still taken on the tracker's events, and
	 * link headers kept there for a policy that may act later): the TCP
	 * core and the tracker alone. */
	if (e->policy != NULL) {
		e->cur_buf = b;
		e->cur_pkt = pkt;
	}
	kapa_tcp_input_at(e->tcp, pkt, &s->key, s->side, s->idx, now_ns, pkt_ref, &res);
	slot_result(e, s, &res);
	e->cur_buf = NULL;
	e->cur_pkt = NULL;
	return KAPA_VERDICT_FORWARD;
}

void
kapa_engine_lookup(struct kapa_engine *e, const struct kapa_pkt *pkt, struct kapa_engine_slot *s)
{
	int side;

	s->idx = -ENOENT;
	s->side = 0;
	s->changes = *e->changes;
	if (pkt->cls == KAPA_PKT_TCP) {
		s->idx = kapa_tcp_lookup(e->tcp, pkt, &s->key, &side);
		s->side = (uint8_t)side;
	}
}

void *
kapa_engine_user_state_at(struct kapa_engine *e, uint32_t idx)
{
	return (uint8_t *)kapa_flow_app(e->ft, idx) + KAPA_HTTP_STATE_SIZE + KAPA_RACE_STATE_SIZE;
}

enum kapa_verdict
kapa_engine_input_at(struct kapa_engine *e, struct kapa_buf *b, struct kapa_pkt *pkt,
		     struct kapa_engine_slot *s, uint64_t now_ns, void *pkt_ref)
{
	if (unlikely(pkt->cls == KAPA_PKT_FRAGMENT))
		engine_fragment(e, b, pkt, now_ns, pkt_ref);
	b->edited = 0;
	if (unlikely(engine_csum_bad(e, pkt))) {
		slot_unused(s);
		return KAPA_VERDICT_FORWARD;
	}
	return engine_input_at(e, b, pkt, s, now_ns, pkt_ref);
}

enum kapa_verdict
kapa_engine_input(struct kapa_engine *e, struct kapa_buf *b, struct kapa_pkt *pkt,
		  uint64_t now_ns, void *pkt_ref)
{
	struct kapa_engine_slot s;
	struct kapa_tcp_result res;

	if (unlikely(pkt->cls == KAPA_PKT_FRAGMENT))
		engine_fragment(e, b, pkt, now_ns, pkt_ref);
	b->edited = 0;
	if (unlikely(engine_csum_bad(e, pkt)))
		return KAPA_VERDICT_FORWARD;
	if (!e->acting && e->edited_conns == 0 && e->policy == NULL) {
		/* No policy: the TCP core and the tracker alone. */
		kapa_tcp_input(e->tcp, pkt, now_ns, pkt_ref, &res);
		return KAPA_VERDICT_FORWARD;
	}
	kapa_engine_lookup(e, pkt, &s);
	return engine_input_at(e, b, pkt, &s, now_ns, pkt_ref);
}

/* The engine of a connection: its TCP core's consumer is the tracker, whose
 * user is the engine. From ctx->tcp, which every ctx has (kapa-dp builds
 * its own, with ops_arg unset, to publish a connection). */
static struct kapa_engine *
engine_of(const struct kapa_stream_ctx *ctx)
{
	return kapa_http_ops_arg(kapa_tcp_ops_arg(ctx->tcp));
}

void
kapa_engine_view(const struct kapa_stream_ctx *ctx, struct kapa_engine_view *v)
{
	const struct act_conn *ac = act_of(engine_of(ctx), ctx);
	struct kapa_http_conn_info ci;

	kapa_http_conn_info(ctx->app, &ci);
	v->mode = ac->mode;
	v->srv_dir = ac->srv_dir;
	v->opaque = (ac->flags & ACT_OPAQUE) != 0 || ci.left;
	v->shifted = ac->shift != 0 || ac->log != 0;
	v->persistent = (ac->flags & ACT_PERSISTS) != 0;
	v->in_request = ci.outstanding != 0;
	v->rule = ac->rule;
	v->timeout_s = ac->timeout_s;
	v->max = ac->max;
	v->stall_s = ac->stall_s;
	v->opaque_idle_s = ac->opaque_s;
	v->requests = ac->requests;
	v->responses = ac->responses;
	v->srv_ka_timeout = ac->srv_ka_t;
	v->srv_ka_max = ac->srv_ka_m;
	v->cli_ka_timeout = ac->cli_ka_t;
	v->cli_ka_max = ac->cli_ka_m;
}

int
kapa_engine_link_port(const struct kapa_stream_ctx *ctx, enum kapa_dir dir, uint8_t *port)
{
	const struct act_conn *ac = act_of(engine_of(ctx), ctx);

	if (ac->l2_len[dir] != 0) {
		*port = ac->l2_port[dir];
		return 0;
	}
	if (ac->l2_len[dir ^ 1] != 0) {
		*port = ac->l2_port[dir ^ 1];
		return 1;
	}
	return -1;
}

/* ---- timers, rule sets, shutdown ------------------------------------------------- */

/* Decide again, a slice at a time, what was decided under an older set. */
static void
engine_sweep(struct kapa_engine *e, uint64_t now_ns)
{
	uint32_t cap = kapa_flow_capacity(e->ft), end, gen;
	struct kapa_stream_ctx ctx;
	struct act_conn *ac;

	if (e->policy == NULL)
		return;
	gen = kapa_policy_generation(e->policy);
	end = e->sweep_pos + SWEEP_SLICE < cap ? e->sweep_pos + SWEEP_SLICE : cap;
	for (; e->sweep_pos < end; e->sweep_pos++) {
		if (e->conns[e->sweep_pos].state == KAPA_CONN_FREE)
			continue;
		engine_ctx(e, e->sweep_pos, KAPA_DIR_C2S, now_ns, NULL, NULL, &ctx);
		ac = act_of(e, &ctx);
		if ((ac->flags & (ACT_OPENED | ACT_DECIDED)) == (ACT_OPENED | ACT_DECIDED) &&
		    (ac->gen != gen || e->sweep_all))
			act_redecide(e, &ctx);
	}
	if (e->sweep_pos >= cap) {
		e->sweep_pos = SWEEP_DONE;
		e->sweep_all = 0;
	}
}

uint32_t
kapa_engine_advance(struct kapa_engine *e, uint64_t now_ns, uint32_t max)
{
	uint32_t n = kapa_tcp_advance(e->tcp, now_ns, max);

	kapa_frag_expire(e->frag, now_ns);	/* memory of lost fragments back */

	if (unlikely(e->sweep_pos != SWEEP_DONE))
		engine_sweep(e, now_ns);
	return n;
}

int
kapa_engine_next_deadline(struct kapa_engine *e, uint64_t limit_ns, uint64_t *due_ns)
{
	return kapa_tcp_next_deadline(e->tcp, limit_ns, due_ns);
}

/* Whether packets need the acting path: a policy with a mode that acts,
 * or a program of its own (which may choose one). */
static void
engine_set_acting(struct kapa_engine *e)
{
	e->acting = e->policy != NULL &&
		    (kapa_policy_can_act(e->policy) || e->prog != kapa_policy_default_prog);
}

void
kapa_engine_set_policy(struct kapa_engine *e, const struct kapa_policy *p)
{
	if (e->act_off == 0)
		return;	/* no_actions: no state to decide in */
	e->policy = p;
	e->sweep_pos = 0;
	engine_set_acting(e);
}

void
kapa_engine_set_prog(struct kapa_engine *e, kapa_policy_prog_fn prog)
{
	if (e->act_off == 0)
		return;
	e->prog = prog != NULL ? prog : kapa_policy_default_prog;
	/* Every connection decided again, under the rule set it has. */
	e->sweep_pos = 0;
	e->sweep_all = 1;
	engine_set_acting(e);
}

int
kapa_engine_close_conn(struct kapa_engine *e, uint32_t idx, uint32_t gen, uint64_t now_ns)
{
	struct kapa_stream_ctx ctx;

	if (idx >= kapa_flow_capacity(e->ft) || e->conns[idx].state == KAPA_CONN_FREE ||
	    e->conns[idx].gen != gen)
		return -ENOENT;
	engine_ctx(e, idx, KAPA_DIR_C2S, now_ns, NULL, NULL, &ctx);
	if (act_reset(e, &ctx, KAPA_ACT_WHY_COMMAND) != 0)
		return -EPERM;
	kapa_tcp_close(e->tcp, idx);
	return 0;
}

uint32_t
kapa_engine_close_all(struct kapa_engine *e, int reset_shifted)
{
	uint32_t n;

	e->shutting_down = reset_shifted ? ENGINE_SHUTDOWN : ENGINE_LET_GO;
	n = kapa_tcp_close_all(e->tcp);
	e->shutting_down = 0;
	return n;
}

/* ---- life cycle ------------------------------------------------------------------- */

struct kapa_engine *
kapa_engine_create(const struct kapa_engine_conf *conf)
{
	struct kapa_tcp_conf tc;
	struct kapa_http_conf hc;
	struct kapa_race_conf rc;
	struct kapa_engine *e;
	uint32_t i, app;
	int err = ENOMEM;

	if (conf == NULL || conf->tcp.flow.capacity == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	app = KAPA_HTTP_STATE_SIZE + KAPA_RACE_STATE_SIZE + ((conf->user_size + 15) & ~15u);
	if (!conf->no_actions)
		app += KAPA_ACT_STATE_SIZE;
	if (app > 1024 || (conf->no_actions && (conf->policy != NULL || conf->prog != NULL))) {
		rte_errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		goto fail;
	if (conf->ops != NULL)
		e->ops = *conf->ops;
	e->ops_arg = conf->ops_arg;
	e->policy = conf->policy;
	/* The actions' state goes last, so that the others' offsets do not
	 * depend on whether there is one. */
	e->act_off = conf->no_actions ? 0 : app - KAPA_ACT_STATE_SIZE;
	e->prog = conf->prog != NULL ? conf->prog : kapa_policy_default_prog;
	e->mtu = conf->mtu;
	e->csum_verify = conf->csum_verify != 0;
	e->est_ms = conf->tcp.est_timeout_ms != 0 ? conf->tcp.est_timeout_ms : DEF_EST_MS;
	e->nlogs = conf->edit_logs != 0 ? conf->edit_logs : conf->tcp.flow.capacity / 16;
	if (e->nlogs < 64)
		e->nlogs = 64;
	e->logs = calloc(e->nlogs, sizeof(*e->logs));
	e->frame = malloc(ACT_FRAME_MAX);
	if (e->logs == NULL || e->frame == NULL)
		goto fail;
	for (i = 0; i < e->nlogs; i++)
		e->logs[i].next_free = i + 2 <= e->nlogs ? i + 2 : 0;
	e->log_free = 1;
	e->cur_cut = UINT32_MAX;

	rc = conf->race;
	rc.ops = &e->ops.race;
	rc.ops_arg = e->ops_arg;
	e->race = kapa_race_create(&rc);
	if (e->race == NULL) {
		err = rte_errno;
		goto fail;
	}
	hc = conf->http;
	hc.ops = &act_http_ops;
	hc.ops_arg = e;
	e->http = kapa_http_create(&hc);
	if (e->http == NULL) {
		err = errno;
		goto fail;
	}
	tc = conf->tcp;
	tc.ops = kapa_http_stream_ops();
	tc.ops_arg = e->http;
	tc.flow.app_size = app;
	e->tcp = kapa_tcp_create(&tc);
	if (e->tcp == NULL) {
		err = rte_errno;
		goto fail;
	}
	e->ft = kapa_tcp_table(e->tcp);
	kapa_flow_layout(e->ft, &e->conns, &e->app, &e->app_stride);
	e->changes = kapa_flow_changes(e->ft);
	e->sweep_pos = SWEEP_DONE;
	e->frag = kapa_frag_create(&conf->frag);
	if (e->frag == NULL) {
		err = rte_errno;
		goto fail;
	}
	engine_set_acting(e);
	return e;
fail:
	kapa_engine_destroy(e);
	rte_errno = err;
	return NULL;
}

void
kapa_engine_destroy(struct kapa_engine *e)
{
	if (e == NULL)
		return;
	e->shutting_down = ENGINE_SHUTDOWN;
	kapa_tcp_destroy(e->tcp);	/* CLOSE for every connection first */
	kapa_http_destroy(e->http);
	kapa_race_destroy(e->race);
	kapa_frag_destroy(e->frag);
	free(e->logs);
	free(e->frame);
	free(e);
}
