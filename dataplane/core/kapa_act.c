/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Decisions and actions: the engine's callbacks from the HTTP tracker.
 *
 * Each event that can change what applies to a connection (open, the
 * handshake's end, a request or response header block, a message's end,
 * leaving HTTP/1.x) takes the policy decision again and gives the TCP core
 * the idle limit that applies now; expiry checks which limit applies (keep-
 * alive idle, stall, opaque idle) and closes. A response header block is
 * where edits are planned: they are logged here, with their positions as
 * the server's sequence numbers, and applied to the packet in hand (and any
 * retransmission) by act_server_out() once the TCP core is done with it.
 * Nothing here changes a byte of a packet.
 */
#include <string.h>

#include "kapa_engine_int.h"

static const char *const kind_names[KAPA_ACT_KIND_MAX] = {
	[KAPA_ACT_KIND_RST] = "rst",
	[KAPA_ACT_KIND_REWRITE] = "rewrite",
	[KAPA_ACT_KIND_INSERT] = "insert",
	[KAPA_ACT_KIND_CLOSE_AFTER] = "close_after_response",
	[KAPA_ACT_KIND_CLOSE] = "close",
	[KAPA_ACT_KIND_REFUSED] = "refused",
};

static const char *const why_names[KAPA_ACT_WHY_MAX] = {
	[KAPA_ACT_WHY_IDLE] = "idle",
	[KAPA_ACT_WHY_STALL] = "stall",
	[KAPA_ACT_WHY_OPAQUE_IDLE] = "opaque-idle",
	[KAPA_ACT_WHY_REQUESTS] = "max",
	[KAPA_ACT_WHY_ADVERTISE] = "advertise",
	[KAPA_ACT_WHY_EVICTED] = "evicted",
	[KAPA_ACT_WHY_SHUTDOWN] = "shutdown",
	[KAPA_ACT_WHY_COMMAND] = "command",
	[KAPA_ACT_WHY_L2_DEEP] = "l2-deep",
	[KAPA_ACT_WHY_FORWARDED] = "forwarded",
	[KAPA_ACT_WHY_LOG_FULL] = "log-full",
	[KAPA_ACT_WHY_NO_ROOM] = "no-room",
	[KAPA_ACT_WHY_FIELDS] = "fields",
	[KAPA_ACT_WHY_NO_SEQ] = "no-seq",
	[KAPA_ACT_WHY_NO_LINK] = "no-link",
	[KAPA_ACT_WHY_TOLERATED] = "tolerated",
	[KAPA_ACT_WHY_FRAGMENTED] = "fragmented",
};

const char *
kapa_act_kind_name(unsigned kind)
{
	return kind < KAPA_ACT_KIND_MAX ? kind_names[kind] : "?";
}

const char *
kapa_act_why_name(unsigned why)
{
	return why < KAPA_ACT_WHY_MAX ? why_names[why] : "?";
}

void
act_report(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, enum kapa_act_kind kind,
	   enum kapa_act_why why, uint64_t off, uint32_t len)
{
	struct kapa_action a = {
		.kind = (uint8_t)kind, .why = (uint8_t)why, .dir = (uint8_t)ctx->dir,
		.srv_dir = act_of(e, ctx)->srv_dir, .len = len, .off = off,
	};

	e->st.act[kind][why]++;
	if (e->ops.action != NULL)
		e->ops.action(ctx, &a, e->ops_arg);
}

/* ---- the decision -------------------------------------------------------------- */

static inline int
srv_side(const struct kapa_stream_ctx *ctx, const struct act_conn *ac)
{
	/* client_side is the key side of the TCP initiator, whose packets
	 * travel C2S; the server sends in srv_dir. */
	return ac->srv_dir == KAPA_DIR_S2C ? !ctx->conn->client_side : ctx->conn->client_side;
}

static uint32_t
clamp_s(struct kapa_engine *e, uint32_t v)
{
	if (v <= KAPA_POLICY_MAX_SECONDS)
		return v;
	e->st.prog_out_of_range++;
	return KAPA_POLICY_MAX_SECONDS;
}

/* Fill the decision's context from what the connection has shown. */
static void
decide_ctx(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, const struct act_conn *ac,
	   enum kapa_policy_event ev, struct kapa_policy_ctx *pc)
{
	const struct kapa_flow_key *k = kapa_flow_key(e->ft, ctx->idx);
	int srv = srv_side(ctx, ac);

	memset(pc, 0, sizeof(*pc));
	pc->version = KAPA_POLICY_CTX_VERSION;
	pc->size = sizeof(*pc);
	pc->event = (uint8_t)ev;
	pc->family = k->family;
	pc->flags = (uint8_t)(((ctx->conn->flags & KAPA_CONN_MIDSTREAM) ? KAPA_PCTX_MIDSTREAM : 0) |
			      ((ac->flags & ACT_OPAQUE) ? KAPA_PCTX_OPAQUE : 0) |
			      ((ctx->conn->flags & KAPA_CONN_L2_DEEP) ? KAPA_PCTX_L2_DEEP : 0) |
			      (ac->http_minor != 0xff ? KAPA_PCTX_HTTP_SEEN : 0));
	pc->http_minor = ac->http_minor;
	memcpy(pc->client_addr, k->addr[!srv], 16);
	memcpy(pc->server_addr, k->addr[srv], 16);
	pc->client_port = k->port[!srv];
	pc->server_port = k->port[srv];
	pc->client_conn = ac->cli_conn;
	pc->server_conn = ac->srv_conn;
	pc->client_ka_timeout = ac->cli_ka_t;
	pc->client_ka_max = ac->cli_ka_m;
	pc->server_ka_timeout = ac->srv_ka_t;
	pc->server_ka_max = ac->srv_ka_m;
	pc->requests = ac->requests;
	pc->responses = ac->responses;
	pc->table_conns = kapa_flow_count(e->ft);
	pc->table_capacity = kapa_flow_max_capacity(e->ft);
}

/* Take the decision: match the rule when the rule set (or the server's
 * side) changed, run the program, keep its results. */
static void
decide(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, struct act_conn *ac,
       enum kapa_policy_event ev)
{
	const struct kapa_policy *p = e->policy;
	const struct kapa_policy_spec *spec;
	const struct kapa_flow_key *k;
	struct kapa_policy_ctx pc;
	uint32_t gen;
	int srv;

	if (p == NULL)
		return;
	gen = kapa_policy_generation(p);
	if (!(ac->flags & ACT_DECIDED) || ac->gen != gen) {
		k = kapa_flow_key(e->ft, ctx->idx);
		srv = srv_side(ctx, ac);
		if ((ac->flags & ACT_DECIDED) && ev != KAPA_POLICY_EV_OPEN)
			e->st.rules_redecided++;
		ac->rule = kapa_policy_match(p, k->family, k->addr[srv], k->port[srv]);
		ac->gen = gen;
		ac->flags |= ACT_DECIDED;
	}
	e->st.decisions++;
	spec = kapa_policy_spec_of(p, ac->rule);
	if (e->prog == kapa_policy_default_prog) {
		/* The built-in decision is the rule's values (its results are
		 * prefilled with them and kept): no context to build. */
		ac->mode = spec->mode;
		ac->timeout_s = spec->timeout_s;
		ac->max = spec->max;
		ac->stall_s = spec->stall_s;
		ac->opaque_s = spec->opaque_idle_s;
		return;
	}
	decide_ctx(e, ctx, ac, ev, &pc);
	kapa_policy_ctx_set_rule(&pc, spec, ac->rule < 0 ? KAPA_POLICY_NO_RULE : (uint32_t)ac->rule,
				 gen);
	e->prog(&pc);
	if (pc.mode > KAPA_MODE_ADVERTISE) {
		e->st.prog_out_of_range++;
		pc.mode = KAPA_MODE_OBSERVE;
	}
	ac->mode = pc.mode;
	ac->timeout_s = clamp_s(e, pc.timeout_s);
	ac->max = pc.max;
	ac->stall_s = clamp_s(e, pc.stall_s);
	ac->opaque_s = clamp_s(e, pc.opaque_idle_s);
}

/* The limit (ms) that applies now, by the connection's state: 0 = none. */
static uint32_t
limit_now(const struct kapa_stream_ctx *ctx, const struct act_conn *ac, enum kapa_act_why *why)
{
	struct kapa_http_conn_info ci;

	if (ac->mode == KAPA_MODE_OBSERVE)
		return 0;
	if (ac->flags & ACT_OPAQUE) {
		*why = KAPA_ACT_WHY_OPAQUE_IDLE;
		return ac->opaque_s * 1000u;
	}
	kapa_http_conn_info(ctx->app, &ci);
	if (ci.outstanding == 0 && ci.mid_message == 0) {
		*why = KAPA_ACT_WHY_IDLE;
		return ac->timeout_s * 1000u;
	}
	*why = KAPA_ACT_WHY_STALL;
	return ac->stall_s * 1000u;
}

/* Established, or closing one way only (a client that shut down its
 * sending side still waits for its response): the policy's limits apply.
 * A half-open connection keeps the core's own limit, a closed one lingers. */
static inline bool
limits_apply(const struct kapa_conn *c)
{
	return c->state == KAPA_CONN_ESTABLISHED || c->state == KAPA_CONN_CLOSING;
}

/* Give the TCP core the idle limit that applies now. The limit counts from
 * the last payload byte, which the table clock keeps in whole milliseconds:
 * one more keeps an expiry from firing before it is due. */
static void
arm(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, struct act_conn *ac)
{
	enum kapa_act_why why;
	uint32_t lim, want;

	if ((ac->mode == KAPA_MODE_OBSERVE && ac->armed_ms == 0) ||
	    !limits_apply(ctx->conn) || (ac->flags & ACT_RESET))
		return;
	lim = limit_now(ctx, ac, &why);
	if (lim == 0 && ac->armed_ms == 0)
		return;		/* never armed: the core's own limit stays */
	want = lim != 0 ? lim + 1 : e->est_ms;
	/* Only ever tightened here: a timer that falls due under a looser
	 * limit finds, at expiry, what applies then and takes the time left
	 * (act_expire()). So steady keep-alive traffic, which moves between
	 * idle and in-exchange with every message, re-arms nothing. */
	if (ac->armed_ms == 0 || want < ac->armed_ms) {
		kapa_tcp_set_idle(e->tcp, ctx->idx, want);
		ac->armed_ms = want;
	}
}

void
act_redecide(struct kapa_engine *e, const struct kapa_stream_ctx *ctx)
{
	struct act_conn *ac = act_of(e, ctx);

	if (ac->flags & ACT_RESET)
		return;
	decide(e, ctx, ac, KAPA_POLICY_EV_RULES);
	arm(e, ctx, ac);
}

/* ---- closing ------------------------------------------------------------------ */

/* The link header for a packet travelling @p dir: its own, or the other
 * direction's with the MACs swapped (one direction not seen yet). */
static uint32_t
l2_for(const struct act_conn *ac, int dir, uint8_t *out)
{
	uint8_t mac[6];
	uint32_t n;

	if (ac->l2_len[dir] != 0) {
		n = ac->l2_len[dir] - 1u;
		memcpy(out, ac->l2[dir], n);
		return n;
	}
	n = ac->l2_len[!dir] != 0 ? ac->l2_len[!dir] - 1u : 0;
	memcpy(out, ac->l2[!dir], n);
	if ((ac->l2_ether >> !dir) & 1) {
		memcpy(mac, out, 6);
		memcpy(out, out + 6, 6);
		memcpy(out + 6, mac, 6);
	}
	return n;
}

/* The sequence number the receiver of @p dir expects next: kapa's view of
 * what it forwarded (the refused bytes of a client were not), in the
 * receiver's space. */
static uint32_t
rst_seq(const struct kapa_engine *e, const struct kapa_stream_ctx *ctx,
	const struct act_conn *ac, int dir)
{
	const struct kapa_conn *c = ctx->conn;
	const struct kapa_tcp_half *h = &c->half[dir], *peer = &c->half[dir ^ 1];
	uint32_t seq;
	bool fin;

	/* A sender never seen (a pickup where one end stayed silent): its
	 * receiver's own acknowledgement is what it expects. Nothing of that
	 * direction was edited, so there is no shift to apply. */
	if (!(h->flags & KAPA_HALF_SEQ_KNOWN))
		return peer->ack;
	/* After the FINs kapa made in both ends' names (act_close_announced),
	 * each receiver expects the byte after kapa's FIN: the server's at
	 * close_seq, the client's at refuse_off (nothing of the client's past
	 * it is forwarded). A sender's own FIN later is at that place or
	 * past it, where its receiver no longer takes anything. */
	fin = (ac->flags & ACT_FIN_MADE) != 0;
	if (dir == ac->srv_dir)
		return act_shift_seq(e, ac, fin ? ac->close_seq + 1 :
					    kapa_tcp_rst_seq(c, (enum kapa_dir)dir));
	if (!(ac->flags & ACT_REFUSING) || (h->next_off <= ac->refuse_off && !fin))
		return kapa_tcp_rst_seq(c, (enum kapa_dir)dir);
	seq = kapa_tcp_seq_of(c, (enum kapa_dir)dir, ac->refuse_off);
	if (fin)
		return seq + 1;
	if ((peer->flags & KAPA_HALF_ACK_KNOWN) && (int32_t)(peer->ack - seq) > 0)
		seq = peer->ack;
	return seq;
}

/* An RST (or, with @p fin, a FIN) travelling @p dir, in the name of that
 * direction's sender. */
static int
send_rst(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, const struct act_conn *ac,
	 int dir, int fin)
{
	const struct kapa_conn *c = ctx->conn;
	const struct kapa_flow_key *k = kapa_flow_key(e->ft, ctx->idx);
	int from = dir == KAPA_DIR_C2S ? c->client_side : !c->client_side;
	uint8_t l2[ACT_L2_MAX];
	struct kapa_rst r;
	int len;

	if (!(c->half[dir].flags & KAPA_HALF_SEQ_KNOWN) &&
	    !(c->half[dir ^ 1].flags & KAPA_HALF_ACK_KNOWN))
		return -1;
	r.l2 = l2;
	r.l2_len = l2_for(ac, dir, l2);
	r.family = k->family;
	r.src = k->addr[from];
	r.dst = k->addr[!from];
	r.sport = k->port[from];
	r.dport = k->port[!from];
	r.seq = rst_seq(e, ctx, ac, dir);
	r.with_ack = (c->half[dir].flags & KAPA_HALF_ACK_KNOWN) != 0;
	/* Its sender's last acknowledgement, in the receiver's space: the
	 * client's acks are kept translated back already. */
	r.ack = c->half[dir].ack;
	r.fin = fin;
	if (fin && !r.with_ack)
		return -1;
	len = kapa_edit_craft_rst(&r, e->frame, ACT_FRAME_MAX);
	if (len < 0)
		return -1;
	if (fin)
		e->st.fin_sent++;
	else
		e->st.rst_sent++;
	if (e->ops.emit != NULL)
		e->ops.emit(ctx, (enum kapa_dir)dir, e->frame, (uint32_t)len, e->ops_arg);
	return 0;
}

/* RSTs to both ends (the client first), reported once. */
static int
send_rsts(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, struct act_conn *ac,
	  enum kapa_act_why why)
{
	int srv = ac->srv_dir, sent = 0;

	if (ctx->conn->flags & KAPA_CONN_L2_DEEP) {
		act_report(e, ctx, KAPA_ACT_KIND_REFUSED, KAPA_ACT_WHY_L2_DEEP, 0, 0);
		return -1;
	}
	if (ac->l2_len[0] == 0 && ac->l2_len[1] == 0) {
		act_report(e, ctx, KAPA_ACT_KIND_REFUSED, KAPA_ACT_WHY_NO_LINK, 0, 0);
		return -1;
	}
	sent += send_rst(e, ctx, ac, srv, 0) == 0;
	sent += send_rst(e, ctx, ac, srv ^ 1, 0) == 0;
	if (sent < 2)
		act_report(e, ctx, KAPA_ACT_KIND_REFUSED, KAPA_ACT_WHY_NO_SEQ, 0, 0);
	if (sent == 0)
		return -1;
	ac->flags |= ACT_RESET;
	act_report(e, ctx, KAPA_ACT_KIND_RST, why, 0, 0);
	return 0;
}

int
act_close_announced(struct kapa_engine *e, const struct kapa_stream_ctx *ctx)
{
	struct act_conn *ac = act_of(e, ctx);
	int srv = ac->srv_dir;

	if (ac->flags & ACT_RESET)
		return 0;
	if ((ctx->conn->flags & KAPA_CONN_L2_DEEP) || ac->l2_len[srv] == 0 ||
	    ac->l2_len[srv ^ 1] == 0 || send_rst(e, ctx, ac, srv, 1) != 0)
		return send_rsts(e, ctx, ac, KAPA_ACT_WHY_REQUESTS) == 0 ? 1 : -1;
	/* Where the FINs sit, for RSTs after them (rst_seq()): the server's
	 * next byte, in its own space; the client's, from which nothing
	 * more goes to the server (it closed in the client's name). */
	ac->close_seq = kapa_tcp_rst_seq(ctx->conn, (enum kapa_dir)srv);
	if (send_rst(e, ctx, ac, srv ^ 1, 1) != 0) {
		/* The client has its FIN; the server cannot get one (no
		 * acknowledgement of the client's seen): reset it. */
		send_rst(e, ctx, ac, srv ^ 1, 0);
		ac->flags |= ACT_RESET;
		act_report(e, ctx, KAPA_ACT_KIND_CLOSE, KAPA_ACT_WHY_REQUESTS, 0, 0);
		return 1;
	}
	if (!(ac->flags & ACT_REFUSING)) {
		ac->flags |= ACT_REFUSING;
		/* past what went out already, held bytes included */
		ac->refuse_off = kapa_tcp_seen_end(ctx->tcp, ctx->idx, (enum kapa_dir)(srv ^ 1));
	}
	ac->flags |= ACT_FIN_MADE;
	act_report(e, ctx, KAPA_ACT_KIND_CLOSE, KAPA_ACT_WHY_REQUESTS, 0, 0);
	return 0;
}

int
act_reset(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, enum kapa_act_why why)
{
	struct act_conn *ac = act_of(e, ctx);

	if (ac->flags & ACT_RESET)
		return 0;
	return send_rsts(e, ctx, ac, why);
}

/* ---- planning edits of a response --------------------------------------------- */

/*
 * Whether stream bytes [lo, hi) of the packet in hand's direction are in it,
 * and first there: bytes its connection had seen before, held out of order,
 * were forwarded as they came, and the copy in hand of a retransmission is
 * not what the receiver keeps.
 */
static bool
in_hand(const struct kapa_engine *e, const struct kapa_stream_ctx *ctx, uint64_t lo, uint64_t hi)
{
	return ctx->pkt != NULL && ctx->pkt == e->cur_pkt && lo >= ctx->pkt_off &&
	       lo >= e->cur_seen_end &&
	       hi <= ctx->pkt_off + ctx->pkt->payload_len;
}

/* Edits of one response, checked as a whole before any is logged. */
struct plan {
	struct act_edit ed[ACT_LOG_MAX];
	uint32_t n;
	uint32_t grow;		/* bytes inserted */
	uint32_t rewritten;	/* bytes rewritten */
	uint64_t rw_off;	/* stream offset of the first rewrite */
	uint64_t ins_off;	/* ... of the insertion */
	enum kapa_act_why refused;	/* KAPA_ACT_WHY_MAX while it may go */
};

static void
plan_add(struct plan *p, const struct kapa_stream_ctx *ctx, uint64_t off,
	 uint32_t old_len, struct act_edit ed)
{
	if (p->n == ACT_LOG_MAX) {
		p->refused = KAPA_ACT_WHY_LOG_FULL;
		return;
	}
	ed.seq = kapa_tcp_seq_of(ctx->conn, ctx->dir, off);
	ed.old_len = (uint16_t)old_len;
	ed.new_len = (uint16_t)(old_len != 0 ? old_len : act_edit_len(&ed));
	if (old_len == 0) {
		p->ins_off = off;
		p->grow += ed.new_len;
	} else {
		if (p->rewritten == 0)
			p->rw_off = off;
		p->rewritten += ed.new_len;
	}
	p->ed[p->n++] = ed;
}

/* The empty line's offset, where lines are inserted. */
static inline uint64_t
insert_point(const struct kapa_http_msg *m)
{
	return m->hdr_end - (m->hdr_crlf ? 2 : 1);
}

static void
plan_insert(struct plan *p, const struct kapa_engine *e, const struct kapa_stream_ctx *ctx,
	    const struct kapa_http_msg *m, struct act_edit ed)
{
	uint64_t x = insert_point(m);

	/* The bytes after the insertion point move up: every one of them must
	 * be in the packet in hand. Bytes held out of order were forwarded
	 * when they came, at the places they had then. */
	if (!in_hand(e, ctx, x, x + 1) || ctx->conn->half[ctx->dir].ooo_head != KAPA_NIL) {
		p->refused = KAPA_ACT_WHY_FORWARDED;
		return;
	}
	ed.flags |= m->hdr_crlf ? ACT_TEXT_CRLF : 0;
	plan_add(p, ctx, x, 0, ed);
}

/* Log a plan whole, or refuse it whole. @return 0, or the reason. */
static enum kapa_act_why
plan_commit(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, struct act_conn *ac,
	    struct plan *p, enum kapa_act_why why)
{
	uint32_t i, logged = ac->log != 0 ? e->logs[ac->log - 1].n : 0;
	uint32_t room;

	if (p->refused != KAPA_ACT_WHY_MAX)
		return p->refused;
	/* The bytes are in a datagram rebuilt from fragments, which go on as
	 * they came: an edit would change nothing the ends see. */
	if (e->cur_frag && p->n != 0)
		return KAPA_ACT_WHY_FRAGMENTED;
	if (ctx->conn->flags & KAPA_CONN_L2_DEEP)
		return KAPA_ACT_WHY_L2_DEEP;
	if (p->n == 0)
		return KAPA_ACT_WHY_MAX;
	if (logged + p->n > ACT_LOG_MAX || (ac->log == 0 && e->log_free == 0))
		return KAPA_ACT_WHY_LOG_FULL;
	room = kapa_edit_room(e->cur_buf, e->cur_pkt);
	if (p->grow != 0 && (room < e->cur_grow + p->grow ||
			     (uint64_t)e->cur_pkt->payload_off - e->cur_pkt->l3_off +
			     e->cur_pkt->payload_len + e->cur_grow + p->grow > 65535))
		return KAPA_ACT_WHY_NO_ROOM;
	if ((ac->flags & ACT_EDITED) == 0)
		ac->cli_ack_raw = ctx->conn->half[ctx->dir ^ 1].ack;
	for (i = 0; i < p->n; i++)
		act_log_add(e, ac, &p->ed[i]);	/* cannot fail: checked */
	e->cur_grow += p->grow;
	if (p->rewritten != 0)
		act_report(e, ctx, KAPA_ACT_KIND_REWRITE, why, p->rw_off, p->rewritten);
	if (p->grow != 0)
		act_report(e, ctx, KAPA_ACT_KIND_INSERT, why, p->ins_off, p->grow);
	return KAPA_ACT_WHY_MAX;
}

/* Bytes a value may take in place: from its first byte to the line end
 * (trailing OWS included). */
static inline uint32_t
value_room(const struct kapa_http_field_pos *f)
{
	return (uint32_t)(f->line_end - f->value);
}

/*
 * Whether a message may be edited at all: every position of its Connection
 * and Keep-Alive lines is known, and it was read without a tolerance -- a
 * message only lenient parsers read may be read otherwise by the next hop,
 * and bytes kapa writes into it must not be what tips it. A bare LF is the
 * exception: an edit writes its lines with the block's own line ending
 * (kapa_http_msg::hdr_crlf), so whoever reads the message reads the edit
 * alike, and RFC 9112 §2.2 lets every recipient accept it.
 * @return KAPA_ACT_WHY_MAX (editable) or the refusal.
 */
static enum kapa_act_why
edit_refusal(const struct kapa_http_msg *m)
{
	if (m->fields_truncated)
		return KAPA_ACT_WHY_FIELDS;
	if ((m->tolerated & ~(1u << KAPA_HTTP_TOL_BARE_LF)) != 0)
		return KAPA_ACT_WHY_TOLERATED;
	return KAPA_ACT_WHY_MAX;
}

/*
 * The response to request number max: it must say Connection: close. Every
 * Connection line that can hold "close" gets it (a keep-alive token must
 * not survive beside it: some clients let it win in HTTP/1.0); with none,
 * a Connection: close line is inserted. All or nothing, in the packet in
 * hand; otherwise the connection is closed once the client has
 * acknowledged the response.
 */
static void
plan_close(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, struct act_conn *ac,
	   const struct kapa_http_msg *m)
{
	struct plan p = { .refused = KAPA_ACT_WHY_MAX };
	struct act_edit ed = { .kind = ACT_EDIT_CONN_CLOSE };
	enum kapa_act_why why;
	uint32_t i;

	p.refused = edit_refusal(m);
	for (i = 0; i < m->nconn_pos && p.refused == KAPA_ACT_WHY_MAX; i++) {
		const struct kapa_http_field_pos *f = &m->conn_pos[i];

		if (!in_hand(e, ctx, f->line, f->line_end))
			p.refused = KAPA_ACT_WHY_FORWARDED;
		else if (value_room(f) >= 5)
			plan_add(&p, ctx, f->value, value_room(f), ed);
	}
	if (p.refused == KAPA_ACT_WHY_MAX && p.n == 0) {
		ed.kind = ACT_EDIT_INS_CLOSE;
		plan_insert(&p, e, ctx, m, ed);
	}
	why = plan_commit(e, ctx, ac, &p, KAPA_ACT_WHY_REQUESTS);
	if (why == KAPA_ACT_WHY_MAX) {
		/* The server that says close closes (RFC 9112 §9.6), and this
		 * one does not know it said so: kapa closes once the client
		 * has the response, for clients that wait for it (HTTP/1.0
		 * ones, ab -k). */
		ac->flags |= ACT_CLOSE_WAIT | ACT_CLOSE_FIN;
		return;
	}
	/* Fall back: close once the client has this response. */
	ac->flags |= ACT_CLOSE_WAIT;
	act_report(e, ctx, KAPA_ACT_KIND_CLOSE_AFTER, why, m->off, 0);
}

/* a <= b where KAPA_KA_UNSET is "none": the smaller set value. */
static inline uint32_t
ka_min(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/*
 * Advertise: the limits enforced, on a response that leaves the connection
 * persistent: timeout T-1 (T >= 2), max counting down, never above what the
 * server itself announced. The server's own Keep-Alive is rewritten in
 * place when the new value fits and Connection: keep-alive is there;
 * otherwise its Keep-Alive lines are renamed out of the way and new lines
 * inserted. Bytes gone, no room: this response is skipped (counted); an
 * advertisement never closes anything.
 */
static void
plan_advertise(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, struct act_conn *ac,
	       const struct kapa_http_msg *m)
{
	struct plan p = { .refused = KAPA_ACT_WHY_MAX };
	struct act_edit ed = { .kind = ACT_EDIT_KA_VALUE };
	enum kapa_act_why why;
	uint32_t t = KAPA_KA_UNSET, r = KAPA_KA_UNSET, i;

	if (ac->timeout_s != 0)
		t = ac->timeout_s >= 2 ? ac->timeout_s - 1 : ac->timeout_s;
	if (ac->max != 0)
		r = ac->max - ac->responses;
	/* What the server announced bounds what is told, with or without
	 * Connection: keep-alive beside it (it is the server's real limit). */
	if (m->has_ka_timeout)
		t = ka_min(t, m->ka_timeout);
	if (m->has_ka_max)
		r = ka_min(r, m->ka_max);
	if (t == KAPA_KA_UNSET && r == KAPA_KA_UNSET)
		return;
	ed.t = t;
	ed.m = r;
	p.refused = edit_refusal(m);
	ed.new_len = (uint16_t)act_edit_len(&ed);	/* the value, unpadded */
	if (m->nka_pos == 1 && (m->conn_flags & KAPA_HTTP_CONN_KEEP_ALIVE) &&
	    value_room(&m->ka_pos[0]) >= ed.new_len) {
		if (!in_hand(e, ctx, m->ka_pos[0].value, m->ka_pos[0].line_end))
			p.refused = KAPA_ACT_WHY_FORWARDED;
		else
			plan_add(&p, ctx, m->ka_pos[0].value, value_room(&m->ka_pos[0]), ed);
	} else {
		ed.kind = ACT_EDIT_KA_RENAME;
		for (i = 0; i < m->nka_pos && p.refused == KAPA_ACT_WHY_MAX; i++) {
			if (!in_hand(e, ctx, m->ka_pos[i].line, m->ka_pos[i].line + 10))
				p.refused = KAPA_ACT_WHY_FORWARDED;
			else
				plan_add(&p, ctx, m->ka_pos[i].line, 10, ed);
		}
		ed.kind = ACT_EDIT_INS_KA;
		ed.flags = (m->conn_flags & KAPA_HTTP_CONN_KEEP_ALIVE) ? 0 : ACT_TEXT_CONN;
		if (p.refused == KAPA_ACT_WHY_MAX)
			plan_insert(&p, e, ctx, m, ed);
	}
	why = plan_commit(e, ctx, ac, &p, KAPA_ACT_WHY_ADVERTISE);
	if (why != KAPA_ACT_WHY_MAX)
		act_report(e, ctx, KAPA_ACT_KIND_REFUSED, why, m->off, 0);
	else
		kapa_race_hint(e->race, race_of(ctx), t, r);
}

/* ---- the tracker's events -------------------------------------------------------- */

static void
on_request(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, struct act_conn *ac,
	   const struct kapa_http_msg *m)
{
	struct kapa_http_conn_info ci;

	ac->requests++;
	ac->cli_conn = m->conn_flags;
	ac->cli_ka_t = m->ka_effective && m->has_ka_timeout ? m->ka_timeout : KAPA_KA_UNSET;
	ac->cli_ka_m = m->ka_effective && m->has_ka_max ? m->ka_max : KAPA_KA_UNSET;
	decide(e, ctx, ac, KAPA_POLICY_EV_REQUEST);
	if (ac->mode == KAPA_MODE_OBSERVE || ac->max == 0 || ac->requests <= ac->max ||
	    (ac->flags & ACT_REFUSING))
		return;
	/* A request past the max: the server must not run it. Its bytes are
	 * not forwarded from its first one on (here for the packet in hand,
	 * client_post() in kapa_engine.c for later ones); the
	 * connection is reset once the response to request max is through:
	 * now if it is, else when the client has acknowledged it. */
	/* refuse_off: where the bytes the server gets end. The request's
	 * first bytes may have gone already, in earlier packets (then nothing
	 * from the packet in hand on goes), or held out of order (everything
	 * delivered so far went when it came, and so did every byte still
	 * held behind it: a pickup's first bytes, bytes past a hole). */
	ac->flags |= ACT_REFUSING;
	if (ctx->pkt != NULL && ctx->pkt == e->cur_pkt) {
		ac->refuse_off = m->off > ctx->pkt_off ? m->off : ctx->pkt_off;
		e->cur_cut = (uint32_t)(ac->refuse_off - ctx->pkt_off);
	} else {
		ac->refuse_off = kapa_tcp_seen_end(ctx->tcp, ctx->idx, (enum kapa_dir)ctx->dir);
	}
	kapa_http_conn_info(ctx->app, &ci);
	if (ac->responses >= ac->max && !(ci.mid_message & (1u << ac->srv_dir))) {
		if (act_reset(e, ctx, KAPA_ACT_WHY_REQUESTS) == 0)
			kapa_tcp_close(ctx->tcp, ctx->idx);
		return;
	}
	ac->flags |= ACT_CLOSE_WAIT;
}

static void
on_response(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, struct act_conn *ac,
	    const struct kapa_http_msg *m)
{
	if (m->status < 200) {
		ac->flags |= ACT_INTERIM;
		return;
	}
	ac->flags &= (uint16_t)~ACT_INTERIM;
	/* A response to a request sent before a pickup is not counted. */
	if (ac->responses < ac->requests)
		ac->responses++;
	ac->srv_conn = m->conn_flags;
	ac->srv_ka_t = m->ka_effective && m->has_ka_timeout ? m->ka_timeout : KAPA_KA_UNSET;
	ac->srv_ka_m = m->ka_effective && m->has_ka_max ? m->ka_max : KAPA_KA_UNSET;
	decide(e, ctx, ac, KAPA_POLICY_EV_RESPONSE);
	if (ac->mode == KAPA_MODE_OBSERVE || !m->persistent || (ac->flags & ACT_CLOSING))
		return;
	if (ac->max != 0 && ac->responses >= ac->max) {
		ac->flags |= ACT_CLOSING;
		plan_close(e, ctx, ac, m);
	} else if (ac->mode == KAPA_MODE_ADVERTISE) {
		plan_advertise(e, ctx, ac, m);
	}
}

static void
act_message(const struct kapa_stream_ctx *ctx, const struct kapa_http_msg *m, void *arg)
{
	struct kapa_engine *e = arg;
	struct act_conn *ac = act_of(e, ctx);
	uint8_t srv;

	if (e->ops.http.message != NULL)
		e->ops.http.message(ctx, m, e->ops_arg);
	/* Before the actions: an advertisement they make then supersedes
	 * the server's hint as what the client was told. */
	kapa_race_message(e->race, race_of(ctx), ctx, m);
	if (e->policy == NULL || (ac->flags & ACT_RESET))
		return;
	if (ac->l2_len[ctx->dir] == 0 && ctx->pkt != NULL && ctx->pkt == e->cur_pkt)
		keep_l2(ac, (uint8_t)ctx->dir, e->cur_buf, e->cur_pkt);
	if (!(ac->flags & ACT_ROLES)) {
		/* The first message tells who the server is, also when the
		 * TCP core guessed the roles of a pickup wrong. */
		srv = (uint8_t)(m->is_request ? ctx->dir ^ 1 : ctx->dir);
		if (srv != ac->srv_dir) {
			ac->srv_dir = srv;
			ac->flags &= (uint16_t)~ACT_DECIDED;
		}
		ac->flags |= ACT_ROLES;
	}
	ac->http_minor = m->ver_minor;
	if (m->persistent)
		ac->flags |= ACT_PERSISTS;
	else
		ac->flags &= (uint16_t)~ACT_PERSISTS;
	if (m->is_request)
		on_request(e, ctx, ac, m);
	else
		on_response(e, ctx, ac, m);
	arm(e, ctx, ac);
}

static void
act_message_end(const struct kapa_stream_ctx *ctx, bool is_request, uint32_t index, void *arg)
{
	struct kapa_engine *e = arg;
	struct act_conn *ac = act_of(e, ctx);
	const struct kapa_tcp_half *h;

	if (e->ops.http.message_end != NULL)
		e->ops.http.message_end(ctx, is_request, index, e->ops_arg);
	kapa_race_message_end(e->race, race_of(ctx), ctx, is_request);
	if (e->policy == NULL || (ac->flags & ACT_RESET))
		return;
	if (!is_request && (ac->flags & ACT_CLOSE_WAIT) && !(ac->flags & ACT_INTERIM) &&
	    ac->responses >= ac->max) {
		/* The response that closes is through: reset once the client
		 * has acknowledged everything forwarded so far (which holds
		 * its last byte). */
		h = &ctx->conn->half[ctx->dir];
		ac->close_seq = kapa_tcp_seq_of(ctx->conn, ctx->dir, h->next_off);
		ac->flags = (uint16_t)((ac->flags & ~ACT_CLOSE_WAIT) | ACT_CLOSE_AT);
	}
	arm(e, ctx, ac);
}

static void
act_leave(const struct kapa_stream_ctx *ctx, enum kapa_http_leave why, void *arg)
{
	struct kapa_engine *e = arg;
	struct act_conn *ac = act_of(e, ctx);

	if (e->ops.http.leave != NULL)
		e->ops.http.leave(ctx, why, e->ops_arg);
	/* At OPEN the tracker may leave (port filter) before our own OPEN
	 * handler has run: that one sees it. */
	if (e->policy == NULL || (ac->flags & (ACT_RESET | ACT_OPENED)) != ACT_OPENED)
		return;
	ac->flags |= ACT_OPAQUE;
	decide(e, ctx, ac, KAPA_POLICY_EV_OPAQUE);
	arm(e, ctx, ac);
}

static void
act_open(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, struct act_conn *ac)
{
	struct kapa_http_conn_info ci;

	memset(ac, 0, sizeof(*ac));
	ac->rule = -1;
	ac->srv_dir = KAPA_DIR_S2C;
	ac->http_minor = 0xff;
	ac->srv_ka_t = ac->srv_ka_m = ac->cli_ka_t = ac->cli_ka_m = KAPA_KA_UNSET;
	ac->flags = ACT_OPENED;
	if (e->policy == NULL)
		return;
	if (ctx->pkt != NULL && ctx->pkt == e->cur_pkt)
		keep_l2(ac, (uint8_t)ctx->dir, e->cur_buf, e->cur_pkt);
	kapa_http_conn_info(ctx->app, &ci);
	if (ci.left)
		ac->flags |= ACT_OPAQUE;	/* the port filter, before us */
	decide(e, ctx, ac, KAPA_POLICY_EV_OPEN);
	if ((ctx->conn->flags & KAPA_CONN_MIDSTREAM) && ac->mode != KAPA_MODE_OBSERVE &&
	    (ac->timeout_s | ac->max | ac->stall_s | ac->opaque_s) != 0)
		e->st.midstream_limited++;
	arm(e, ctx, ac);
}

/* The TCP core lets the entry go: a connection whose sequence numbers kapa
 * moved cannot be left to run without kapa, so both ends are reset. One
 * that has ended (FIN both ways, an accepted RST) and only lingers has
 * nothing left to reset. */
static void
act_close(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, struct act_conn *ac)
{
	if ((ac->flags & (ACT_EDITED | ACT_RESET)) == ACT_EDITED &&
	    ctx->release != KAPA_REL_CLOSED && ctx->release != KAPA_REL_REPLACED &&
	    ctx->conn->state != KAPA_CONN_CLOSED &&
	    e->shutting_down != ENGINE_LET_GO)
		send_rsts(e, ctx, ac, e->shutting_down ? KAPA_ACT_WHY_SHUTDOWN :
			  KAPA_ACT_WHY_EVICTED);
	if (ac->flags & ACT_EDITED)
		e->edited_conns--;
	act_log_drop(e, ac);
}

static void
act_event(const struct kapa_stream_ctx *ctx, enum kapa_stream_event ev, uint64_t off,
	  uint64_t len, void *arg)
{
	struct kapa_engine *e = arg;
	struct act_conn *ac = act_of(e, ctx);

	switch (ev) {
	case KAPA_EV_OPEN:
		act_open(e, ctx, ac);
		break;
	case KAPA_EV_ESTABLISHED:
		/* The core has just set its own idle limit: ours again. */
		ac->armed_ms = 0;
		if (e->policy != NULL)
			arm(e, ctx, ac);
		break;
	case KAPA_EV_CLOSE:
		act_close(e, ctx, ac);
		break;
	default:
		break;
	}
	kapa_race_event(e->race, race_of(ctx), ctx, ev);
	if (e->ops.http.event != NULL)
		e->ops.http.event(ctx, ev, off, len, e->ops_arg);
}

/*
 * Idle expiry: the limit that applies to the connection's state now. Due
 * (idle for it, in the table's whole milliseconds, plus one: never early):
 * reset both ways and free. Not due: the time left. No limit of ours: the
 * user's answer, or the table's own limit.
 */
static uint32_t
act_expire(const struct kapa_stream_ctx *ctx, void *arg)
{
	struct kapa_engine *e = arg;
	struct act_conn *ac = act_of(e, ctx);
	enum kapa_act_why why = KAPA_ACT_WHY_IDLE;
	uint32_t idle, lim;

	if (e->policy != NULL && !(ac->flags & ACT_RESET) && limits_apply(ctx->conn)) {
		if (ac->gen != kapa_policy_generation(e->policy))
			decide(e, ctx, ac, KAPA_POLICY_EV_RULES);
		lim = limit_now(ctx, ac, &why);
		idle = kapa_tcp_clock_ms(e->tcp) - ctx->conn->last_seen;
		if (lim != 0 && idle < lim + 1) {
			ac->armed_ms = lim + 1;
			return lim + 1 - idle;
		}
		if (lim != 0) {
			act_reset(e, ctx, why);
			return 0;
		}
		if (ac->armed_ms != 0 && idle < e->est_ms) {
			ac->armed_ms = e->est_ms;
			return e->est_ms - idle;
		}
	}
	if (e->ops.http.expire != NULL)
		return e->ops.http.expire(ctx, e->ops_arg);
	return 0;
}

const struct kapa_http_ops act_http_ops = {
	.message = act_message,
	.message_end = act_message_end,
	.leave = act_leave,
	.event = act_event,
	.expire = act_expire,
};

