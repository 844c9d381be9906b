/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counters and live connections into the pinned maps' memory, and the
 * telemetry commands that read them back. See publish.h.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_atomic.h>
#include <rte_telemetry.h>

#include "kapa_http.h"
#include "kapa_policy.h"
#include "publish.h"

#define STATS_EVERY_NS 10000000ull	/* 10 ms */
#define NS_PER_MS 1000000ull

/* The name, kind and help of every counter, in the record's order. */
static const struct {
	const char *name, *help;
	int kind;
} counter_info[] = {
#define COUNTER_INFO(field, kind, name, help, src) { name, help, kind },
	KAPA_COUNTERS(COUNTER_INFO)
#undef COUNTER_INFO
};

/* The counters of a record as words: heartbeat first, then the table's. */
static inline const __u64 *
counter_words(const struct kapa_stats_rec *r)
{
	return &r->heartbeat_ns + 1;
}

/* The counters of a record as words, to write. */
static inline __u64 *
counter_words_mut(struct kapa_stats_rec *r)
{
	return &r->heartbeat_ns + 1;
}

/* The histogram words that count (buckets and sums, not the padding). */
#define HIST_WORDS (offsetof(struct kapa_hist_rec, spare) / sizeof(__u64))

void
dp_publish_carry(struct kapa_stats_rec *stats, struct kapa_hist_rec *hist, uint16_t workers,
		 int created, struct kapa_stats_rec *base)
{
	uint16_t w;
	unsigned i;

	if (created) {
		/* New maps are zero; said once more for an opener that found
		 * kapa_meta unfilled (kapa_mapset.h, created). */
		memset(stats, 0, KAPA_MAX_WORKERS * sizeof(*stats));
		memset(hist, 0, KAPA_MAX_WORKERS * sizeof(*hist));
	}
	/*
	 * Records of workers this run does not have: slot w (w >= workers) goes
	 * into slot w % workers, then is zeroed. Readers (kapad, Prometheus,
	 * telemetry) add up the first kapa_ctl::dp_workers slots only, so a
	 * record left in a slot past the new worker count would drop out of
	 * every sum; folded, the sum over the workers stays the old sum, and
	 * this run's counts add to it. w % workers keeps an old worker's share
	 * in its own slot where the slot still exists and spreads the rest.
	 * Every slot up to KAPA_MAX_WORKERS is taken, not only the last run's
	 * count: slots past a run's workers are zero (this fold zeroed them,
	 * and a worker writes only its own), so they add nothing.
	 * A reader between the addition and the zeroing may count a folded
	 * record twice for that moment (readers accept a torn value).
	 */
	for (w = workers; w < KAPA_MAX_WORKERS; w++) {
		struct kapa_stats_rec *to = &stats[w % workers];
		__u64 *hs = (__u64 *)&hist[w], *hd = (__u64 *)&hist[w % workers];

		for (i = 0; i < KAPA_COUNTER_COUNT; i++)
			if (counter_info[i].kind == KAPA_CTR_COUNTER)
				counter_words_mut(to)[i] += counter_words(&stats[w])[i];
		for (i = 0; i < HIST_WORDS; i++)
			hd[i] += hs[i];
		memset(&stats[w], 0, sizeof(stats[w]));
		memset(&hist[w], 0, sizeof(hist[w]));
	}
	/* A gauge is a level of the run that set it: not carried. No worker
	 * of this run has published yet (heartbeat 0). */
	for (w = 0; w < workers; w++) {
		for (i = 0; i < KAPA_COUNTER_COUNT; i++)
			if (counter_info[i].kind != KAPA_CTR_COUNTER)
				counter_words_mut(&stats[w])[i] = 0;
		stats[w].heartbeat_ns = 0;
		if (base != NULL)
			base[w] = stats[w];
	}
}

void
dp_publish_init(struct dp_publish *p, const struct dp_publish_params *pp)
{
	unsigned i;

	memset(p, 0, sizeof(*p));
	p->stats = pp->stats;
	p->hist = pp->hist;
	p->conns = pp->conns;
	p->capacity = pp->capacity;
	p->worker = pp->worker;
	p->stats_every_ns = pp->stats_every_ns ? pp->stats_every_ns : STATS_EVERY_NS;
	p->refresh_per_ms = pp->refresh_per_ms ? pp->refresh_per_ms : pp->capacity / 4096;
	if (p->refresh_per_ms < 64)
		p->refresh_per_ms = 64;
	/* What the record holds (left by the runs before, folded by
	 * dp_publish_carry()) is the base this run's counters add to; the
	 * histograms are counted in place and simply go on. */
	p->base = *p->stats;
	p->base.heartbeat_ns = 0;
	for (i = 0; i < KAPA_COUNTER_COUNT; i++)
		if (counter_info[i].kind != KAPA_CTR_COUNTER)
			counter_words_mut(&p->base)[i] = 0;
	/* Live connections are this run's only: a killed predecessor's are
	 * gone with it (ghost.h took what it needs before). */
	memset(p->conns, 0, (size_t)p->capacity * sizeof(*p->conns));
}

void
dp_counter_src_fill(struct dp_counter_src *s, struct kapa_engine *e,
		    const struct dp_counters *dp, const struct dp_tx_stats *tx)
{
	struct kapa_tcp *tcp = kapa_engine_tcp(e);
	const struct kapa_http_stats *http = kapa_http_stats(kapa_engine_http(e));
	const struct kapa_engine_stats *eng = kapa_engine_stats(e);
	const uint64_t *refused = eng->act[KAPA_ACT_KIND_REFUSED];
	unsigned i;

	s->dp = dp;
	s->tx = tx;
	s->tcp = kapa_tcp_stats(tcp);
	s->flow = kapa_flow_stats(kapa_tcp_table(tcp));
	s->http = http;
	s->eng = eng;
	s->race = kapa_race_stats(kapa_engine_race(e));
	s->frag = kapa_frag_stats(kapa_engine_frag(e));
	s->frag_refused_bounds = s->frag->refused[KAPA_FRAG_REF_NOT8] +
				 s->frag->refused[KAPA_FRAG_REF_PAST_END] +
				 s->frag->refused[KAPA_FRAG_REF_TOO_BIG] +
				 s->frag->refused[KAPA_FRAG_REF_EMPTY];
	s->frag_refused_other = s->frag->refused[KAPA_FRAG_REF_HEAD] +
				s->frag->refused[KAPA_FRAG_REF_TUNNEL] +
				s->frag->refused[KAPA_FRAG_REF_PARTS] +
				s->frag->refused[KAPA_FRAG_REF_NO_ROOM] +
				s->frag->refused[KAPA_FRAG_REF_NESTED];
	s->race_tables_full = s->race->servers_other + s->race->agents_other +
			      s->race->retry_unwatched;
	s->conns_active = kapa_flow_count(kapa_tcp_table(tcp));
	s->ooo_bytes = kapa_tcp_ooo_bytes(tcp);
	s->http_left = 0;
	for (i = 0; i < KAPA_LEAVE_MAX; i++)
		s->http_left += http->leave[i];
	/* A close after the response is reported under the reason the edit
	 * was refused for (forwarded, log-full, tolerated, ...): all count. */
	s->close_after = 0;
	for (i = 0; i < KAPA_ACT_WHY_MAX; i++)
		s->close_after += eng->act[KAPA_ACT_KIND_CLOSE_AFTER][i];
	s->refused_tolerated = refused[KAPA_ACT_WHY_TOLERATED] +
			       eng->act[KAPA_ACT_KIND_CLOSE_AFTER][KAPA_ACT_WHY_TOLERATED];
	s->refused_other = 0;
	for (i = 0; i < KAPA_ACT_WHY_MAX; i++)
		if (i != KAPA_ACT_WHY_L2_DEEP && i != KAPA_ACT_WHY_FORWARDED &&
		    i != KAPA_ACT_WHY_LOG_FULL && i != KAPA_ACT_WHY_NO_ROOM &&
		    i != KAPA_ACT_WHY_TOLERATED && i != KAPA_ACT_WHY_FRAGMENTED)
			s->refused_other += refused[i];
}

void
dp_publish_stats(struct dp_publish *p, const struct dp_counter_src *s, uint64_t now_ns)
{
	struct kapa_stats_rec *r = p->stats;

	/* Plain stores: the worker is the only writer, readers accept a
	 * value torn by one update (kapa_maps.h). A counter is the base the
	 * runs before left plus this run's; a gauge is this run's (the kind is
	 * a constant: the test folds away). */
#define COUNTER_STORE(field, kind, name, help, src) \
	r->field = ((kind) == KAPA_CTR_COUNTER ? p->base.field : 0) + (src);
	KAPA_COUNTERS(COUNTER_STORE)
#undef COUNTER_STORE
	r->heartbeat_ns = now_ns;
}

void
dp_publish_detach(struct dp_publish *p)
{
	p->stats->heartbeat_ns = 0;
}

/* A seqlock write: seq odd while the record changes (kapa_maps.h). */
static inline void
rec_begin(struct kapa_conn_rec *r)
{
	r->seq++;
	rte_smp_wmb();
}

static inline void
rec_end(struct kapa_conn_rec *r)
{
	rte_smp_wmb();
	r->seq++;
}

/* ns of the table's ms clock stamp @p ms, from now. */
static inline uint64_t
stamp_ns(const struct kapa_tcp *tcp, uint32_t ms, uint64_t now_ns)
{
	uint32_t ago = kapa_tcp_clock_ms(tcp) - ms;

	return now_ns > (uint64_t)ago * NS_PER_MS ? now_ns - (uint64_t)ago * NS_PER_MS : 0;
}

/* What changes with every packet: refreshed at events and by the sweep. */
static void
rec_refresh(struct kapa_conn_rec *r, const struct kapa_tcp *tcp, const struct kapa_conn *c,
	    int swapped, uint64_t now_ns)
{
	r->state = c->state;
	r->last_seen_ns = stamp_ns(tcp, c->last_seen, now_ns);
	r->bytes[0] = c->half[swapped ? KAPA_DIR_S2C : KAPA_DIR_C2S].next_off;
	r->bytes[1] = c->half[swapped ? KAPA_DIR_C2S : KAPA_DIR_S2C].next_off;
}

void
dp_publish_conn(struct dp_publish *p, const struct kapa_stream_ctx *ctx, int opening,
		uint64_t now_ns)
{
	struct kapa_conn_rec *r = &p->conns[ctx->idx];
	const struct kapa_conn *c = ctx->conn;
	const struct kapa_flow_key *k = kapa_flow_key(kapa_tcp_table(ctx->tcp), ctx->idx);
	struct kapa_engine_view v;
	int cli, swapped;

	kapa_engine_view(ctx, &v);
	/* The tracker's first message corrects a pickup's guessed roles. */
	swapped = v.srv_dir != KAPA_DIR_S2C;
	cli = swapped ? !c->client_side : c->client_side;
	rec_begin(r);
	if (opening) {
		r->first_seen_ns = now_ns;
		r->gen = c->gen;
		r->worker = p->worker;
		r->slot = ctx->idx;
	}
	r->family = k->family;
	memcpy(r->client_addr, k->addr[cli], 16);
	memcpy(r->server_addr, k->addr[!cli], 16);
	r->client_port = k->port[cli];
	r->server_port = k->port[!cli];
	r->mode = v.mode;
	r->flags = (uint8_t)(((c->flags & KAPA_CONN_MIDSTREAM) ? KAPA_REC_MIDSTREAM : 0) |
			     (v.opaque ? KAPA_REC_OPAQUE : 0) |
			     (v.persistent ? KAPA_REC_PERSISTENT : 0) |
			     (v.in_request ? KAPA_REC_IN_REQUEST : 0) |
			     (v.shifted ? KAPA_REC_SEQ_SHIFTED : 0));
	r->rule = v.rule < 0 ? 0xffff : (__u16)v.rule;
	r->requests = v.requests;
	r->responses = v.responses;
	r->client_ka_timeout = v.cli_ka_timeout;
	r->client_ka_max = v.cli_ka_max;
	r->server_ka_timeout = v.srv_ka_timeout;
	r->server_ka_max = v.srv_ka_max;
	r->eff_timeout_s = v.timeout_s;
	r->eff_max = v.max;
	rec_refresh(r, ctx->tcp, c, swapped, now_ns);
	rec_end(r);
}

void
dp_publish_conn_free(struct dp_publish *p, const struct kapa_stream_ctx *ctx, uint64_t now_ns)
{
	struct kapa_conn_rec *r = &p->conns[ctx->idx];
	struct kapa_engine_view v;

	if (r->state != KAPA_REC_FREE) {
		uint64_t life = now_ns > r->first_seen_ns ? (now_ns - r->first_seen_ns) / NS_PER_MS : 0;

		kapa_engine_view(ctx, &v);
		p->hist->requests[kapa_hist_bucket(v.requests)]++;
		p->hist->requests_sum += v.requests;
		p->hist->lifetime_ms[kapa_hist_bucket(life)]++;
		p->hist->lifetime_ms_sum += life;
	}
	rec_begin(r);
	r->state = KAPA_REC_FREE;
	r->requests = r->responses = 0;
	rec_end(r);
}

/* A slice of the records: state, idleness and bytes move with packets, which
 * publish nothing themselves (that would be a store per packet). */
static void
refresh_slice(struct dp_publish *p, struct kapa_engine *e, uint64_t now_ns)
{
	struct kapa_tcp *tcp = kapa_engine_tcp(e);
	struct kapa_flow_table *ft = kapa_tcp_table(tcp);
	uint32_t n, i = p->refresh_pos;

	for (n = 0; n < p->refresh_per_ms; n++, i++) {
		const struct kapa_flow_key *k;
		const struct kapa_conn *c;
		struct kapa_conn_rec *r;
		int swapped;

		if (i >= p->capacity)
			i = 0;
		r = &p->conns[i];
		if (r->state == KAPA_REC_FREE)
			continue;
		c = kapa_flow_conn(ft, i);
		if (c->state == KAPA_CONN_FREE)
			continue;	/* its CLOSE is on the way */
		/* The record's client is the tracker's (dp_publish_conn): the
		 * TCP core's guess of a pickup's roles may be the other way. */
		k = kapa_flow_key(ft, i);
		swapped = r->client_port != k->port[c->client_side] ||
			  memcmp(r->client_addr, k->addr[c->client_side], 16) != 0;
		rec_begin(r);
		rec_refresh(r, tcp, c, swapped, now_ns);
		rec_end(r);
	}
	p->refresh_pos = i;
}

void
dp_publish_tick(struct dp_publish *p, struct kapa_engine *e, const struct dp_counters *dp,
		const struct dp_tx_stats *tx, uint64_t now_ns)
{
	struct dp_counter_src s;

	if (now_ns >= p->next_refresh_ns) {
		refresh_slice(p, e, now_ns);
		p->next_refresh_ns = now_ns + NS_PER_MS;
	}
	if (now_ns >= p->next_stats_ns) {
		dp_counter_src_fill(&s, e, dp, tx);
		dp_publish_stats(p, &s, now_ns);
		p->next_stats_ns = now_ns + p->stats_every_ns;
	}
}

/* ---- readers ------------------------------------------------------------------- */

/* Counter @p i added up over @p n records. */
static uint64_t
counter_sum(const struct kapa_stats_rec *stats, uint16_t n, unsigned i)
{
	uint64_t v = 0;
	uint16_t w;

	for (w = 0; w < n; w++)
		v += counter_words(&stats[w])[i];
	return v;
}

void
dp_counters_print(FILE *f, const struct kapa_stats_rec *stats, const struct kapa_stats_rec *base,
		  uint16_t n)
{
	unsigned i;

	fprintf(f, "kapa-dp: counters\n");
	for (i = 0; i < KAPA_COUNTER_COUNT; i++)
		fprintf(f, "%s %" PRIu64 "\n", counter_info[i].name,
			counter_sum(stats, n, i) - (base != NULL ? counter_sum(base, n, i) : 0));
	fflush(f);
}

static struct {
	const struct kapa_stats_rec *stats;
	const struct kapa_conn_rec *conns;
	uint16_t workers;
	uint32_t per_worker;
} tel;

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct kapa_stats_rec *first = tel.stats;
	uint16_t n = tel.workers;
	unsigned i;
	char *end;

	(void)cmd;
	if (params != NULL && *params != '\0') {
		unsigned long w = strtoul(params, &end, 10);

		if (*end != '\0' || w >= tel.workers)
			return -EINVAL;
		first = &tel.stats[w];
		n = 1;
	}
	rte_tel_data_start_dict(d);
	for (i = 0; i < KAPA_COUNTER_COUNT; i++)
		rte_tel_data_add_dict_u64(d, counter_info[i].name, counter_sum(first, n, i));
	return 0;
}

/* A consistent copy of a record (seqlock read). @return 0, or -1 when the
 * writer kept changing it. */
static int
rec_read(const struct kapa_conn_rec *src, struct kapa_conn_rec *dst)
{
	unsigned tries;
	__u32 s;

	for (tries = 0; tries < 8; tries++) {
		s = __atomic_load_n(&src->seq, __ATOMIC_ACQUIRE);
		if (s & 1)
			continue;
		memcpy(dst, src, sizeof(*dst));
		rte_smp_rmb();
		if (__atomic_load_n(&src->seq, __ATOMIC_RELAXED) == s)
			return 0;
	}
	return -1;
}

static void
addr_port(char *out, size_t len, uint8_t family, const uint8_t *addr, uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	if (family == 6)
		snprintf(out, len, "[%s]:%u", a, port);
	else
		snprintf(out, len, "%s:%u", a, port);
}

static int
tel_conns(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const state[] = {
		"free", "syn-sent", "syn-rcvd", "established", "closing", "closed",
	};
	unsigned long want = 16, got = 0, i, total;
	struct timespec ts;
	uint64_t now;
	char *end;

	(void)cmd;
	if (params != NULL && *params != '\0') {
		want = strtoul(params, &end, 10);
		if (*end != '\0' || want == 0)
			return -EINVAL;
	}
	if (want > DP_TELEMETRY_CONNS_MAX)
		want = DP_TELEMETRY_CONNS_MAX;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	rte_tel_data_start_dict(d);
	total = (unsigned long)tel.workers * tel.per_worker;
	for (i = 0; i < total && got < want; i++) {
		struct rte_tel_data *c;
		struct kapa_conn_rec r;
		char key[16], s[64];

		if (tel.conns[i].state == KAPA_REC_FREE || rec_read(&tel.conns[i], &r) != 0 ||
		    r.state == KAPA_REC_FREE)
			continue;
		c = rte_tel_data_alloc();
		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		snprintf(s, sizeof(s), "%u/%u/%u", r.worker, r.slot, r.gen);
		rte_tel_data_add_dict_string(c, "id", s);
		addr_port(s, sizeof(s), r.family, r.client_addr, r.client_port);
		rte_tel_data_add_dict_string(c, "client", s);
		addr_port(s, sizeof(s), r.family, r.server_addr, r.server_port);
		rte_tel_data_add_dict_string(c, "server", s);
		rte_tel_data_add_dict_string(c, "state", r.state < RTE_DIM(state) ? state[r.state] : "?");
		rte_tel_data_add_dict_string(c, "mode", kapa_policy_mode_name(r.mode));
		rte_tel_data_add_dict_u64(c, "flags", r.flags);
		rte_tel_data_add_dict_u64(c, "requests", r.requests);
		rte_tel_data_add_dict_u64(c, "responses", r.responses);
		rte_tel_data_add_dict_u64(c, "timeout_s", r.eff_timeout_s);
		rte_tel_data_add_dict_u64(c, "max", r.eff_max);
		rte_tel_data_add_dict_u64(c, "idle_ms",
					  now > r.last_seen_ns ? (now - r.last_seen_ns) / NS_PER_MS : 0);
		snprintf(key, sizeof(key), "%lu", got);
		rte_tel_data_add_dict_container(d, key, c, 0);
		got++;
	}
	return 0;
}

int
dp_telemetry_register(const struct kapa_stats_rec *stats, const struct kapa_conn_rec *conns,
		      uint16_t workers, uint32_t per_worker)
{
	int rc;

	tel.stats = stats;
	tel.conns = conns;
	tel.workers = workers;
	tel.per_worker = per_worker;
	rc = rte_telemetry_register_cmd("/kapa/stats", tel_stats,
		"kapa's counters added up over the workers. Parameters: int worker (optional)");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/kapa/conns", tel_conns,
			"Live connections (first N, at most 32). Parameters: int N (default 16)");
	return rc;
}
