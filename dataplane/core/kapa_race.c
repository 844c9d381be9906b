/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Idle-close races and hint compliance (kapa_race.h; rules in
 * docs/races.md). Everything here runs on the engine's events: a header
 * block, a message's end, a FIN, an accepted RST, a release. The tables are
 * looked up once per connection (its first request), not per event.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>

#include "kapa_flow.h"
#include "kapa_maps.h"
#include "kapa_race.h"

/* Bits of struct race_conn::flags. */
#define RC_ROLES	0x01	/* cli_dir known from a message */
#define RC_WAITING	0x02	/* a request on an idle connection, not yet answered */
#define RC_HINTED	0x04	/* the client was told a Keep-Alive timeout or max */
#define RC_VIOLATED	0x08	/* ... and reused late or past max */
#define RC_PERSISTS	0x10	/* the last final response left it persistent */
#define RC_INTERIM	0x20	/* the response in progress is a 1xx */
#define RC_CLOSED	0x40	/* the server has closed (close_kind says how) */
#define RC_CLI_DONE	0x80	/* the client has closed: nothing more to judge */

/* The per-connection state, in the engine's part of the app slot. */
struct race_conn {
	uint64_t idle_ns;	/* start of the idle gap in progress; 0: not idle */
	uint64_t req_ns;	/* RC_WAITING: the request's first byte */
	void *req_ref;		/* ... its packet reference */
	uint64_t close_ns;	/* RC_CLOSED: when */
	uint32_t req_hash;	/* RC_WAITING: its request line */
	uint32_t req_idle_ms;	/* RC_WAITING: the gap it ended */
	uint32_t hint_t;	/* seconds told; KAPA_KA_UNSET */
	uint32_t hint_limit;	/* requests the hints allow in all; UINT32_MAX */
	uint32_t requests;
	uint16_t server;	/* server table entry; 0: other or not yet */
	uint16_t agent;		/* agent table entry; 0: other or not yet */
	uint8_t flags;		/* RC_* */
	uint8_t close_kind;	/* enum kapa_race_kind of the server's close */
	uint8_t cli_dir;	/* the direction requests travel */
	uint8_t looked_up;	/* server and agent entries chosen */
	uint8_t raced;		/* a race was counted: the connection is done */
};

_Static_assert(sizeof(struct race_conn) <= KAPA_RACE_STATE_SIZE,
	       "race state must fit KAPA_RACE_STATE_SIZE");

/* A race waiting to see its request again on a new connection. */
struct race_watch {
	uint64_t id;		/* 0: free */
	uint64_t ns;
	uint8_t cli_addr[16];
	uint8_t family;
	uint32_t req_hash;
	uint16_t server;
};

struct kapa_race {
	struct kapa_race_ops ops;
	void *ops_arg;
	/* Servers: entries [0] = other; an open-addressing index over them. */
	struct kapa_race_server *srv;
	uint32_t nsrv, srv_cap;
	uint32_t *srv_idx;	/* entry index, 0 = empty slot */
	uint32_t srv_mask;
	struct kapa_race_agent *agt;
	uint32_t nagt, agt_cap;
	uint32_t *agt_idx;
	uint32_t agt_mask;
	/* Watched races: a ring in time order. */
	struct race_watch *watch;
	uint32_t watch_cap, watch_head, watch_n;
	uint64_t next_id;
	struct kapa_race_stats st;
};

static const uint32_t gap_edges_ms[KAPA_RACE_GAP_BUCKETS - 1] = {
	100, 250, 500, 750, 900, 1000, 1100, 1500, 2000, 3000, 5000, 10000, 30000, 75000,
	300000,
};

static const char *const kind_names[KAPA_RACE_KIND_MAX] = {
	[KAPA_RACE_FIN] = "fin",
	[KAPA_RACE_RST] = "rst",
};

const char *
kapa_race_kind_name(unsigned kind)
{
	return kind < KAPA_RACE_KIND_MAX ? kind_names[kind] : "?";
}

uint32_t
kapa_race_gap_edge_ms(unsigned i)
{
	return i < KAPA_RACE_GAP_BUCKETS - 1 ? gap_edges_ms[i] : UINT32_MAX;
}

static unsigned
race_bucket(uint32_t ms)
{
	unsigned i;

	for (i = 0; i < KAPA_RACE_GAP_BUCKETS - 1 && ms >= gap_edges_ms[i]; i++)
		;
	return i;
}

static uint32_t
race_hash(const void *p, uint32_t len, uint32_t h)
{
	const uint8_t *b = p;
	uint32_t i;

	/* FNV-1a: short keys, once per connection. */
	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

struct kapa_race *
kapa_race_create(const struct kapa_race_conf *conf)
{
	struct kapa_race *r;

	if (conf == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		goto fail;
	if (conf->ops != NULL)
		r->ops = *conf->ops;
	r->ops_arg = conf->ops_arg;
	r->srv_cap = (conf->servers != 0 ? conf->servers : 1024) + 1;
	r->agt_cap = (conf->agents != 0 ? conf->agents : 256) + 1;
	r->watch_cap = conf->watch != 0 ? conf->watch : 256;
	if (r->srv_cap > UINT16_MAX || r->agt_cap > UINT16_MAX) {
		free(r);
		rte_errno = EINVAL;
		return NULL;
	}
	r->srv_mask = pow2_at_least(2 * r->srv_cap) - 1;
	r->agt_mask = pow2_at_least(2 * r->agt_cap) - 1;
	r->srv = calloc(r->srv_cap, sizeof(*r->srv));
	r->srv_idx = calloc(r->srv_mask + 1, sizeof(*r->srv_idx));
	r->agt = calloc(r->agt_cap, sizeof(*r->agt));
	r->agt_idx = calloc(r->agt_mask + 1, sizeof(*r->agt_idx));
	r->watch = calloc(r->watch_cap, sizeof(*r->watch));
	if (r->srv == NULL || r->srv_idx == NULL || r->agt == NULL || r->agt_idx == NULL ||
	    r->watch == NULL)
		goto fail;
	/* Entry 0 of each table is "other": what arrives once it is full. */
	r->srv[0].close_min_ms = UINT32_MAX;
	r->srv[0].ka_timeout = KAPA_KA_UNSET;
	r->nsrv = 1;
	r->nagt = 1;
	r->next_id = 1;
	return r;
fail:
	kapa_race_destroy(r);
	rte_errno = ENOMEM;
	return NULL;
}

void
kapa_race_destroy(struct kapa_race *r)
{
	if (r == NULL)
		return;
	free(r->srv);
	free(r->srv_idx);
	free(r->agt);
	free(r->agt_idx);
	free(r->watch);
	free(r);
}

const struct kapa_race_stats *
kapa_race_stats(const struct kapa_race *r)
{
	return &r->st;
}

uint32_t
kapa_race_servers(const struct kapa_race *r, const struct kapa_race_server **out)
{
	*out = r->srv;
	return r->nsrv;
}

uint32_t
kapa_race_agents(const struct kapa_race *r, const struct kapa_race_agent **out)
{
	*out = r->agt;
	return r->nagt;
}

uint32_t
kapa_race_product_token(const uint8_t *ua, uint32_t len, char *out)
{
	uint32_t i, n = 0;

	for (i = 0; i < len && n < KAPA_RACE_TOKEN_MAX; i++) {
		if (ua[i] == '/' || ua[i] == ' ' || ua[i] == '\t' || ua[i] == '(')
			break;
		out[n++] = ua[i] > 0x20 && ua[i] < 0x7f && ua[i] != '"' && ua[i] != '\\' ?
			   (char)ua[i] : '?';
	}
	out[n] = '\0';
	return n;
}

/* The server table's entry of @p ep; 0 (other, counted) when full. */
static uint16_t
race_server_entry(struct kapa_race *r, const struct kapa_race_endpoint *ep)
{
	uint32_t h = race_hash(ep, sizeof(*ep), 2166136261u) & r->srv_mask, e;

	while ((e = r->srv_idx[h]) != 0) {
		if (memcmp(&r->srv[e].ep, ep, sizeof(*ep)) == 0)
			return (uint16_t)e;
		h = (h + 1) & r->srv_mask;
	}
	if (r->nsrv == r->srv_cap) {
		r->st.servers_other++;
		return 0;
	}
	e = r->nsrv++;
	r->srv[e].ep = *ep;
	r->srv[e].close_min_ms = UINT32_MAX;
	r->srv[e].ka_timeout = KAPA_KA_UNSET;
	r->srv_idx[h] = e;
	return (uint16_t)e;
}

static uint16_t
race_agent_entry(struct kapa_race *r, const char *token)
{
	uint32_t len = (uint32_t)strlen(token);
	uint32_t h = race_hash(token, len, 2166136261u) & r->agt_mask, e;

	while ((e = r->agt_idx[h]) != 0) {
		if (strcmp(r->agt[e].token, token) == 0)
			return (uint16_t)e;
		h = (h + 1) & r->agt_mask;
	}
	if (r->nagt == r->agt_cap) {
		r->st.agents_other++;
		return 0;
	}
	e = r->nagt++;
	memcpy(r->agt[e].token, token, len + 1);
	r->agt_idx[h] = e;
	return (uint16_t)e;
}

static const struct kapa_flow_key *
race_key(const struct kapa_stream_ctx *ctx)
{
	return kapa_flow_key(kapa_tcp_table(ctx->tcp), ctx->idx);
}

/* Key side of the sender of direction @p dir. */
static int
race_side(const struct kapa_stream_ctx *ctx, uint8_t dir)
{
	return dir == KAPA_DIR_C2S ? ctx->conn->client_side : !ctx->conn->client_side;
}

/* Which server: once per connection. */
static void
race_look_up_server(struct kapa_race *r, struct race_conn *rc, const struct kapa_stream_ctx *ctx)
{
	const struct kapa_flow_key *k = race_key(ctx);
	struct kapa_race_endpoint ep;
	int s = race_side(ctx, rc->cli_dir ^ 1);

	memset(&ep, 0, sizeof(ep));
	memcpy(ep.addr, k->addr[s], sizeof(ep.addr));
	ep.port = k->port[s];
	ep.family = k->family;
	rc->server = race_server_entry(r, &ep);
	rc->looked_up = 1;
}

/* The first request: which server and which client product. */
static void
race_look_up(struct kapa_race *r, struct race_conn *rc, const struct kapa_stream_ctx *ctx,
	     const struct kapa_http_msg *m)
{
	char token[KAPA_RACE_TOKEN_MAX + 1];

	race_look_up_server(r, rc, ctx);
	if (kapa_race_product_token(m->user_agent.p, m->user_agent.len, token) == 0)
		strcpy(token, "-");
	rc->agent = race_agent_entry(r, token);
}

static uint32_t
race_req_hash(const struct kapa_http_msg *m)
{
	uint32_t h = race_hash(m->method.p, m->method.len, 2166136261u);

	h = race_hash(" ", 1, h);
	return race_hash(m->target.p, m->target.len, h);
}

/* race_req_hash() of a request line read from raw bytes ("GET /x HTTP/1.1"):
 * for a request the tracker never saw (KAPA_EV_LATE_DATA). 0: none found. */
static uint32_t
race_line_hash(const uint8_t *p, uint32_t len)
{
	const uint8_t *sp1, *sp2;
	uint32_t h;

	sp1 = memchr(p, ' ', len);
	if (sp1 == NULL || sp1 == p)
		return 0;
	sp2 = memchr(sp1 + 1, ' ', len - (uint32_t)(sp1 + 1 - p));
	if (sp2 == NULL)
		return 0;
	h = race_hash(p, (uint32_t)(sp1 - p), 2166136261u);
	h = race_hash(" ", 1, h);
	return race_hash(sp1 + 1, (uint32_t)(sp2 - sp1 - 1), h);
}

static uint32_t
ns_to_ms(uint64_t ns)
{
	uint64_t ms = ns / 1000000u;

	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

/* Forget watched races older than the retry window (the ring is in time order). */
static void
race_watch_expire(struct kapa_race *r, uint64_t now_ns)
{
	struct race_watch *w;

	while (r->watch_n != 0) {
		w = &r->watch[r->watch_head];
		if (w->id != 0 && now_ns < w->ns + KAPA_RACE_RETRY_MS * 1000000ull)
			break;
		w->id = 0;
		r->watch_head = (r->watch_head + 1) % r->watch_cap;
		r->watch_n--;
	}
}

static void
race_watch_add(struct kapa_race *r, const struct kapa_stream_ctx *ctx,
	       const struct race_conn *rc, uint64_t id, uint64_t ns)
{
	const struct kapa_flow_key *k = race_key(ctx);
	struct race_watch *w;

	race_watch_expire(r, ns);
	if (r->watch_n == r->watch_cap) {
		r->st.retry_unwatched++;
		return;
	}
	w = &r->watch[(r->watch_head + r->watch_n) % r->watch_cap];
	r->watch_n++;
	w->id = id;
	w->ns = ns;
	memcpy(w->cli_addr, k->addr[race_side(ctx, rc->cli_dir)], sizeof(w->cli_addr));
	w->family = k->family;
	w->req_hash = rc->req_hash;
	w->server = rc->server;
}

/* The first request of a connection: is it a raced request sent again? */
static void
race_watch_match(struct kapa_race *r, const struct kapa_stream_ctx *ctx,
		 const struct race_conn *rc, const struct kapa_http_msg *m)
{
	const struct kapa_flow_key *k;
	const uint8_t *cli;
	struct race_watch *w;
	uint32_t i, h;

	race_watch_expire(r, m->first_ns);
	if (r->watch_n == 0)
		return;
	k = race_key(ctx);
	cli = k->addr[race_side(ctx, rc->cli_dir)];
	h = race_req_hash(m);
	for (i = 0; i < r->watch_n; i++) {
		w = &r->watch[(r->watch_head + i) % r->watch_cap];
		/* The ring is in time order of detection, and a race is found
		 * a little after its request at most: the window is checked
		 * here too, not only at the head. */
		if (w->id == 0 || w->req_hash != h || w->family != k->family ||
		    memcmp(w->cli_addr, cli, sizeof(w->cli_addr)) != 0 || m->first_ns < w->ns ||
		    m->first_ns - w->ns >= KAPA_RACE_RETRY_MS * 1000000ull)
			continue;
		r->st.retried++;
		r->srv[w->server].retried++;
		if (r->ops.retried != NULL)
			r->ops.retried(w->id, ctx, r->ops_arg);
		w->id = 0;	/* retried once; the slot frees at expiry */
		return;
	}
}

/* A race on this connection: count it, tell the user, watch for its retry. */
static void
race_found(struct kapa_race *r, struct race_conn *rc, const struct kapa_stream_ctx *ctx,
	   enum kapa_race_kind kind, uint32_t idle_ms, void *req_ref, uint64_t req_ns)
{
	struct kapa_race_event ev = {
		.id = r->next_id++,
		.kind = (uint8_t)kind,
		.srv_dir = (uint8_t)(rc->cli_dir ^ 1),
		.idle_ms = idle_ms,
		.req_ref = req_ref,
	};

	r->st.races[kind]++;
	r->srv[rc->server].races[kind]++;
	rc->flags &= (uint8_t)~RC_WAITING;
	rc->raced = 1;
	if (r->ops.race != NULL)
		r->ops.race(ctx, &ev, r->ops_arg);
	race_watch_add(r, ctx, rc, ev.id, req_ns);
}

static void
race_request(struct kapa_race *r, struct race_conn *rc, const struct kapa_stream_ctx *ctx,
	     const struct kapa_http_msg *m)
{
	uint32_t gap_ms = 0;
	bool idle = rc->idle_ns != 0 && m->first_ns >= rc->idle_ns;

	rc->requests++;
	if (!rc->looked_up)
		race_look_up(r, rc, ctx, m);
	if (rc->requests == 1)
		race_watch_match(r, ctx, rc, m);
	if (idle)
		gap_ms = ns_to_ms(m->first_ns - rc->idle_ns);
	rc->idle_ns = 0;
	if (rc->flags & RC_HINTED) {
		if (idle && rc->requests > 1) {
			if ((uint64_t)gap_ms >= (uint64_t)rc->hint_t * 1000u) {
				r->agt[rc->agent].reuse_late++;
				r->st.hint_reuse_late++;
				rc->flags |= RC_VIOLATED;
			} else {
				r->agt[rc->agent].reuse_in_time++;
			}
		}
		if (rc->requests > rc->hint_limit) {
			r->agt[rc->agent].over_max++;
			r->st.hint_over_max++;
			rc->flags |= RC_VIOLATED;
		}
	}
	if (!idle || rc->raced)
		return;
	rc->req_hash = race_req_hash(m);
	if (rc->flags & RC_CLOSED) {
		/* The server had closed; the client had not seen it yet. */
		race_found(r, rc, ctx, rc->close_kind, gap_ms, m->first_pkt_ref, m->first_ns);
		return;
	}
	/* A first request under way when the server closes may have been
	 * refused by closing: only a reuse is counted as crossing. */
	if (rc->requests == 1)
		return;
	rc->flags |= RC_WAITING;
	rc->req_ns = m->first_ns;
	rc->req_ref = m->first_pkt_ref;
	rc->req_idle_ms = gap_ms;
}

static void
race_response(struct kapa_race *r, struct race_conn *rc, const struct kapa_http_msg *m)
{
	struct kapa_race_server *s = &r->srv[rc->server];
	uint32_t t = KAPA_KA_UNSET;

	if (m->status < 200) {
		rc->flags |= RC_INTERIM;
		return;
	}
	rc->flags &= (uint8_t)~RC_INTERIM;
	if (m->persistent)
		rc->flags |= RC_PERSISTS;
	else
		rc->flags &= (uint8_t)~RC_PERSISTS;
	if (rc->flags & RC_WAITING) {
		/* Answered: the gap before it ended in reuse. */
		rc->flags &= (uint8_t)~RC_WAITING;
		s->reuses++;
		r->st.reuses++;
		s->reuse_hist[race_bucket(rc->req_idle_ms)]++;
		if (rc->req_idle_ms > s->reuse_max_ms)
			s->reuse_max_ms = rc->req_idle_ms;
	}
	if (!m->ka_effective || !m->persistent)
		return;
	if (m->has_ka_timeout) {
		t = m->ka_timeout;
		/* Before a request, the server is not known yet (a pickup). */
		if (rc->looked_up)
			s->ka_timeout = t;
	}
	kapa_race_hint(r, rc, t, m->has_ka_max ? m->ka_max : KAPA_KA_UNSET);
}

void
kapa_race_hint(struct kapa_race *r, void *st, uint32_t t, uint32_t m)
{
	struct race_conn *rc = st;
	uint64_t lim;

	(void)r;
	if (t != KAPA_KA_UNSET) {
		rc->hint_t = t;
		rc->flags |= RC_HINTED;
	}
	if (m != KAPA_KA_UNSET) {
		/* max = further requests after this response (Apache counts it
		 * down, kapa's advertise too): the tightest told holds. */
		lim = (uint64_t)rc->requests + m;
		if (lim < rc->hint_limit)
			rc->hint_limit = (uint32_t)lim;
		rc->flags |= RC_HINTED;
	}
}

void
kapa_race_message(struct kapa_race *r, void *st, const struct kapa_stream_ctx *ctx,
		  const struct kapa_http_msg *m)
{
	struct race_conn *rc = st;

	if (!(rc->flags & RC_ROLES)) {
		rc->cli_dir = (uint8_t)(m->is_request ? ctx->dir : ctx->dir ^ 1);
		rc->flags |= RC_ROLES;
	}
	if (m->is_request)
		race_request(r, rc, ctx, m);
	else
		race_response(r, rc, m);
}

void
kapa_race_message_end(struct kapa_race *r, void *st, const struct kapa_stream_ctx *ctx,
		      bool is_request)
{
	struct race_conn *rc = st;
	struct kapa_http_conn_info ci;

	(void)r;
	if (is_request || (rc->flags & (RC_INTERIM | RC_CLOSED)) || !(rc->flags & RC_PERSISTS))
		return;
	kapa_http_conn_info(ctx->app, &ci);
	if (ci.outstanding == 0 && ci.mid_message == 0)
		rc->idle_ns = ctx->now_ns;
}

/* The server's FIN or accepted RST. */
static void
race_server_close(struct kapa_race *r, struct race_conn *rc, const struct kapa_stream_ctx *ctx,
		  enum kapa_race_kind kind)
{
	struct kapa_race_server *s = &r->srv[rc->server];
	uint32_t gap_ms;

	if (rc->flags & RC_CLOSED)
		return;	/* the RST after a FIN: the FIN was the close */
	rc->flags |= RC_CLOSED;
	rc->close_kind = (uint8_t)kind;
	rc->close_ns = ctx->now_ns;
	if ((rc->flags & RC_WAITING) && !rc->raced) {
		/* A request on an idle connection, unanswered, and the server
		 * closes: it crossed the close on the way. */
		race_found(r, rc, ctx, kind, rc->req_idle_ms, rc->req_ref, rc->req_ns);
		return;
	}
	/* After the client's own close, the server's is an answer to it. */
	if (rc->idle_ns == 0 || rc->requests == 0 || ctx->now_ns < rc->idle_ns ||
	    (rc->flags & RC_CLI_DONE))
		return;
	gap_ms = ns_to_ms(ctx->now_ns - rc->idle_ns);
	s->idle_closes++;
	r->st.idle_closes++;
	s->close_hist[race_bucket(gap_ms)]++;
	if (gap_ms < s->close_min_ms)
		s->close_min_ms = gap_ms;
}

/* The client closed: a hinted client that closes an idle connection before
 * T followed the hint. */
static void
race_client_close(struct kapa_race *r, struct race_conn *rc, const struct kapa_stream_ctx *ctx)
{
	if (rc->flags & (RC_CLI_DONE | RC_CLOSED))
		return;
	rc->flags |= RC_CLI_DONE;
	if ((rc->flags & RC_HINTED) && rc->idle_ns != 0 && rc->hint_t != KAPA_KA_UNSET &&
	    ctx->now_ns - rc->idle_ns < (uint64_t)rc->hint_t * 1000000000ull) {
		r->agt[rc->agent].closed_in_time++;
		r->st.hint_closed_in_time++;
	}
}

/* The client sent data after the server's accepted RST (the TCP core no
 * longer delivers it): on an idle connection, a request lost to that RST. */
static void
race_late_request(struct kapa_race *r, struct race_conn *rc, const struct kapa_stream_ctx *ctx)
{
	const struct kapa_pkt *pkt = ctx->pkt;
	uint64_t idle_ns;

	if (rc->raced || !(rc->flags & RC_CLOSED) || rc->idle_ns == 0 ||
	    ctx->now_ns < rc->idle_ns)
		return;
	idle_ns = ctx->now_ns - rc->idle_ns;
	rc->req_hash = pkt != NULL ? race_line_hash(pkt->data + pkt->payload_off,
						    pkt->payload_len) : 0;
	if (!rc->looked_up)
		race_look_up_server(r, rc, ctx);	/* a new connection, never used */
	race_found(r, rc, ctx, (enum kapa_race_kind)rc->close_kind, ns_to_ms(idle_ns),
		   ctx->pkt_ref, ctx->now_ns);
}

void
kapa_race_event(struct kapa_race *r, void *st, const struct kapa_stream_ctx *ctx,
		enum kapa_stream_event ev)
{
	struct race_conn *rc = st;
	struct kapa_race_agent *a;
	uint8_t srv_dir = (rc->flags & RC_ROLES) ? rc->cli_dir ^ 1 : KAPA_DIR_S2C;

	switch (ev) {
	case KAPA_EV_OPEN:
		memset(rc, 0, sizeof(*rc));
		rc->hint_t = KAPA_KA_UNSET;
		rc->hint_limit = UINT32_MAX;
		rc->cli_dir = KAPA_DIR_C2S;
		/* A new connection is idle until its first request: a server
		 * that closes it first races that request as well. Not for a
		 * pickup, whose past is unknown. */
		if (!(ctx->conn->flags & KAPA_CONN_MIDSTREAM))
			rc->idle_ns = ctx->now_ns;
		break;
	case KAPA_EV_FIN:
	case KAPA_EV_RESET:
		if (ctx->dir == srv_dir)
			race_server_close(r, rc, ctx,
					  ev == KAPA_EV_FIN ? KAPA_RACE_FIN : KAPA_RACE_RST);
		else
			race_client_close(r, rc, ctx);
		break;
	case KAPA_EV_LATE_DATA:
		if (ctx->dir != srv_dir)
			race_late_request(r, rc, ctx);
		break;
	case KAPA_EV_CLOSE:
		if (!(rc->flags & RC_HINTED) || rc->requests == 0)
			break;
		a = &r->agt[rc->agent];
		a->conns++;
		r->st.hinted_conns++;
		if (!(rc->flags & RC_VIOLATED)) {
			a->compliant++;
			r->st.hint_compliant++;
		}
		break;
	default:
		break;
	}
}
