/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <string.h>

#include "kapa_flow.h"
#include "kapa_maps.h"
#include "out_json.h"
#include "report.h"

/* "[ipv6]:port" at most, or "(other servers)". */
#define FLOW_NAME_MAX 56

static const char *const req_bucket_name[REPORT_REQ_BUCKETS] = {
	"0", "1", "2", "3-5", "6-10", "11-100", "101-1000", ">1000",
};
static const uint64_t gap_limit_ms[REPORT_GAP_BUCKETS - 1] = {
	100, 1000, 5000, 15000, 60000, 300000,
};
static const char *const gap_bucket_name[REPORT_GAP_BUCKETS] = {
	"< 0.1 s", "0.1-1 s", "1-5 s", "5-15 s", "15-60 s", "60-300 s", ">= 300 s",
};
static const char *const end_name[REPORT_END_MAX] = {
	"FIN both ways", "FIN one way only", "reset (accepted RST)",
	"still open at end of capture", "expired or evicted by kapa",
};

static unsigned
req_bucket(uint32_t n)
{
	if (n <= 2)
		return n;
	if (n <= 5)
		return 3;
	if (n <= 10)
		return 4;
	if (n <= 100)
		return 5;
	if (n <= 1000)
		return 6;
	return 7;
}

static void
count_ka(struct report *r, const struct kapa_http_msg *m)
{
	int side = m->is_request;
	uint32_t i;

	if (!m->has_ka_timeout && !m->has_ka_max) {
		r->ka_unparsed[side]++;
		return;
	}
	for (i = 0; i < r->nka[side]; i++) {
		struct report_ka *k = &r->ka[side][i];

		if (k->has_timeout == m->has_ka_timeout && k->has_max == m->has_ka_max &&
		    (!k->has_timeout || k->timeout == m->ka_timeout) &&
		    (!k->has_max || k->max == m->ka_max)) {
			k->count++;
			return;
		}
	}
	if (r->nka[side] == REPORT_KA_DISTINCT) {
		r->ka_other[side]++;
		return;
	}
	r->ka[side][r->nka[side]++] = (struct report_ka){
		.has_timeout = m->has_ka_timeout, .has_max = m->has_ka_max,
		.timeout = m->ka_timeout, .max = m->ka_max, .count = 1,
	};
}

void
report_message(struct report *r, const struct kapa_http_msg *m)
{
	int side = m->is_request;
	unsigned v;

	if (m->is_request)
		r->requests++;
	else if (m->status >= 100 && m->status < 200)
		r->interim++;
	else
		r->responses++;
	if (m->ver_major == 1 && m->ver_minor == 0)
		v = 0;
	else if (m->ver_major == 1 && m->ver_minor == 1)
		v = 1;
	else
		v = 2;
	r->ver[side][v]++;
	if (m->conn_flags & KAPA_HTTP_CONN_CLOSE)
		r->tok_close[side]++;
	if (m->conn_flags & KAPA_HTTP_CONN_KEEP_ALIVE)
		r->tok_keep_alive[side]++;
	if (!m->is_request && !(m->status >= 100 && m->status < 200)) {
		if (m->persistent)
			r->resp_persistent++;
		else
			r->resp_closing++;
	}
	if (m->nka != 0) {
		count_ka(r, m);
		if (!m->ka_effective)
			r->ka_ineffective[side]++;
	}
}

void
report_gap(struct report *r, uint64_t gap_ns)
{
	uint64_t ms = gap_ns / 1000000;
	unsigned b = 0;

	while (b < REPORT_GAP_BUCKETS - 1 && ms >= gap_limit_ms[b])
		b++;
	r->gap_hist[b]++;
	r->gaps++;
	r->gap_sum_ns += gap_ns;
	if (gap_ns > r->gap_max_ns)
		r->gap_max_ns = gap_ns;
}

void
report_leave(struct report *r, enum kapa_http_leave why)
{
	if ((unsigned)why < KAPA_LEAVE_MAX)
		r->leave[why]++;
}

void
report_conn_end(struct report *r, uint32_t requests, int http, enum report_end how)
{
	unsigned b = req_bucket(requests);

	r->conns_closed++;
	if (!http)
		return;
	r->http_conns++;
	r->req_hist[b]++;
	if (requests > r->max_req)
		r->max_req = requests;
	if ((unsigned)how < REPORT_END_MAX)
		r->ended[how]++;
}

/* Every member of the core's stats structs is a uint64_t counter (their
 * headers say so); summing them as arrays keeps this right when a counter
 * is added there. */
static void
add_counters(uint64_t *dst, const uint64_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] += src[i];
}

#define ADD_ARRAY(dst, src) \
	add_counters((dst), (src), sizeof(src) / sizeof((src)[0]))
#define ADD_STRUCT(dst, src) \
	add_counters((uint64_t *)(dst), (const uint64_t *)(src), sizeof(*(src)) / sizeof(uint64_t))

_Static_assert(sizeof(struct kapa_tcp_stats) % sizeof(uint64_t) == 0,
	       "kapa_tcp_stats holds uint64_t counters only");
_Static_assert(sizeof(struct kapa_http_stats) % sizeof(uint64_t) == 0,
	       "kapa_http_stats holds uint64_t counters only");
_Static_assert(sizeof(struct kapa_engine_stats) % sizeof(uint64_t) == 0,
	       "kapa_engine_stats holds uint64_t counters only");

static void
merge_ka(struct report *t, const struct report *r, int side)
{
	uint32_t i, j;

	for (i = 0; i < r->nka[side]; i++) {
		const struct report_ka *k = &r->ka[side][i];

		for (j = 0; j < t->nka[side]; j++) {
			const struct report_ka *e = &t->ka[side][j];

			if (e->has_timeout == k->has_timeout && e->has_max == k->has_max &&
			    e->timeout == k->timeout && e->max == k->max)
				break;
		}
		if (j < t->nka[side]) {
			t->ka[side][j].count += k->count;
		} else if (t->nka[side] < REPORT_KA_DISTINCT) {
			t->ka[side][t->nka[side]++] = *k;
		} else {
			t->ka_other[side] += k->count;
		}
	}
	t->ka_other[side] += r->ka_other[side];
	t->ka_unparsed[side] += r->ka_unparsed[side];
	t->ka_ineffective[side] += r->ka_ineffective[side];
}

static void merge_races(struct report *t, const struct report *r);

void
report_merge(struct report *t, const struct report *r)
{
	t->captures++;
	t->frames += r->frames;
	t->bad_link += r->bad_link;
	t->non_ip_link += r->non_ip_link;
	t->ts_backwards += r->ts_backwards;
	t->streams += r->streams;
	t->http_conns += r->http_conns;
	t->conns_closed += r->conns_closed;
	t->requests += r->requests;
	t->responses += r->responses;
	t->interim += r->interim;
	ADD_ARRAY(t->req_hist, r->req_hist);
	if (r->max_req > t->max_req)
		t->max_req = r->max_req;
	ADD_ARRAY(t->ver[0], r->ver[0]);
	ADD_ARRAY(t->ver[1], r->ver[1]);
	ADD_ARRAY(t->tok_close, r->tok_close);
	ADD_ARRAY(t->tok_keep_alive, r->tok_keep_alive);
	t->resp_persistent += r->resp_persistent;
	t->resp_closing += r->resp_closing;
	merge_ka(t, r, 0);
	merge_ka(t, r, 1);
	ADD_ARRAY(t->gap_hist, r->gap_hist);
	t->gaps += r->gaps;
	t->gap_sum_ns += r->gap_sum_ns;
	if (r->gap_max_ns > t->gap_max_ns)
		t->gap_max_ns = r->gap_max_ns;
	ADD_ARRAY(t->ended, r->ended);
	ADD_ARRAY(t->leave, r->leave);
	ADD_STRUCT(&t->tcp, &r->tcp);
	ADD_STRUCT(&t->http, &r->http);
	ADD_STRUCT(&t->act, &r->act);
	ADD_STRUCT(&t->frag, &r->frag);
	merge_races(t, r);
	t->policy |= r->policy;
	t->csum_verify |= r->csum_verify;
}

static void
race_server_add(struct kapa_race_server *t, const struct kapa_race_server *s)
{
	unsigned i;

	for (i = 0; i < KAPA_RACE_KIND_MAX; i++)
		t->races[i] += s->races[i];
	t->retried += s->retried;
	t->idle_closes += s->idle_closes;
	t->reuses += s->reuses;
	if (s->close_min_ms < t->close_min_ms)
		t->close_min_ms = s->close_min_ms;
	if (s->reuse_max_ms > t->reuse_max_ms)
		t->reuse_max_ms = s->reuse_max_ms;
	if (s->ka_timeout != KAPA_KA_UNSET)
		t->ka_timeout = s->ka_timeout;
	for (i = 0; i < KAPA_RACE_GAP_BUCKETS; i++) {
		t->close_hist[i] += s->close_hist[i];
		t->reuse_hist[i] += s->reuse_hist[i];
	}
}

static void
race_agent_add(struct kapa_race_agent *t, const struct kapa_race_agent *s)
{
	t->conns += s->conns;
	t->compliant += s->compliant;
	t->reuse_in_time += s->reuse_in_time;
	t->reuse_late += s->reuse_late;
	t->over_max += s->over_max;
	t->closed_in_time += s->closed_in_time;
}

static void
races_init(struct report *r)
{
	if (r->nrace_srv != 0)
		return;
	memset(&r->race_srv[0], 0, sizeof(r->race_srv[0]));
	r->race_srv[0].close_min_ms = UINT32_MAX;
	r->race_srv[0].ka_timeout = KAPA_KA_UNSET;
	memset(&r->race_agt[0], 0, sizeof(r->race_agt[0]));
	r->nrace_srv = r->nrace_agt = 1;
}

void
report_races(struct report *r, const struct kapa_race *race)
{
	const struct kapa_race_server *srv;
	const struct kapa_race_agent *agt;
	uint32_t n;

	r->race = *kapa_race_stats(race);
	n = kapa_race_servers(race, &srv);
	if (n > REPORT_RACE_SERVERS)
		n = REPORT_RACE_SERVERS;	/* cannot happen: the engine's default size */
	memcpy(r->race_srv, srv, n * sizeof(*srv));
	r->nrace_srv = n;
	n = kapa_race_agents(race, &agt);
	if (n > REPORT_RACE_AGENTS)
		n = REPORT_RACE_AGENTS;
	memcpy(r->race_agt, agt, n * sizeof(*agt));
	r->nrace_agt = n;
}

/* Tables merge by server endpoint and by product token; what no longer
 * fits goes to the "other" entry, as in the engine. */
static void
merge_races(struct report *t, const struct report *r)
{
	uint32_t i, j;

	ADD_STRUCT(&t->race, &r->race);
	races_init(t);
	for (i = 0; i < r->nrace_srv; i++) {
		for (j = 1; i != 0 && j < t->nrace_srv; j++)
			if (memcmp(&t->race_srv[j].ep, &r->race_srv[i].ep,
				   sizeof(r->race_srv[i].ep)) == 0)
				break;
		if (i == 0 || (j == t->nrace_srv && j == REPORT_RACE_SERVERS)) {
			j = 0;
		} else if (j == t->nrace_srv) {
			memset(&t->race_srv[j], 0, sizeof(t->race_srv[j]));
			t->race_srv[j].ep = r->race_srv[i].ep;
			t->race_srv[j].close_min_ms = UINT32_MAX;
			t->race_srv[j].ka_timeout = KAPA_KA_UNSET;
			t->nrace_srv++;
		}
		race_server_add(&t->race_srv[j], &r->race_srv[i]);
	}
	for (i = 0; i < r->nrace_agt; i++) {
		for (j = 1; i != 0 && j < t->nrace_agt; j++)
			if (strcmp(t->race_agt[j].token, r->race_agt[i].token) == 0)
				break;
		if (i == 0 || (j == t->nrace_agt && j == REPORT_RACE_AGENTS)) {
			j = 0;
		} else if (j == t->nrace_agt) {
			memset(&t->race_agt[j], 0, sizeof(t->race_agt[j]));
			memcpy(t->race_agt[j].token, r->race_agt[i].token,
			       sizeof(t->race_agt[j].token));
			t->nrace_agt++;
		}
		race_agent_add(&t->race_agt[j], &r->race_agt[i]);
	}
}

static void
race_server_name(const struct kapa_race_server *s, char *buf, size_t len)
{
	if (s->ep.family == 0)
		snprintf(buf, len, "(other servers)");
	else
		json_fmt_endpoint(buf, len, s->ep.family, s->ep.addr, s->ep.port);
}

/* Bucket i of the idle-gap histograms, as a label without double spaces. */
static void
race_bucket_name(unsigned i, char *buf, size_t len)
{
	uint32_t hi = kapa_race_gap_edge_ms(i), lo = i != 0 ? kapa_race_gap_edge_ms(i - 1) : 0;

	if (i == 0)
		snprintf(buf, len, "< %u ms", hi);
	else if (hi == UINT32_MAX)
		snprintf(buf, len, ">= %u ms", lo);
	else
		snprintf(buf, len, "%u-%u ms", lo, hi);
}

/*
 * Races, each server's observed idle limit, and hint compliance. Rows are
 * printed for every entry with something in it (so that a total over
 * several captures has a row wherever one of them had).
 */
static void
print_races(const struct report *r, FILE *out)
{
	const struct kapa_race_stats *st = &r->race;
	char name[FLOW_NAME_MAX], bucket[32], label[FLOW_NAME_MAX + 64];
	uint32_t i, b;

	fprintf(out, "\nidle-close races (a request crossing the server's close on a persistent "
		"connection)\n");
	fprintf(out, "  %-44s %8" PRIu64 "\n", "lost to FIN", st->races[KAPA_RACE_FIN]);
	fprintf(out, "  %-44s %8" PRIu64 "\n", "lost to RST", st->races[KAPA_RACE_RST]);
	fprintf(out, "  %-44s %8" PRIu64 "\n", "retried on a new connection within 1 s",
		st->retried);
	fprintf(out, "  %-44s %8" PRIu64 "\n", "idle connections closed by the server",
		st->idle_closes);
	fprintf(out, "  %-44s %8" PRIu64 "\n", "idle connections reused and answered", st->reuses);
	if (st->servers_other != 0 || st->retry_unwatched != 0)
		fprintf(out, "  %-44s %8" PRIu64 "\n  %-44s %8" PRIu64 "\n",
			"connections of servers past the table", st->servers_other,
			"races not watched for a retry (list full)", st->retry_unwatched);
	fprintf(out, "  %-28s %7s %7s %7s %7s %7s %7s\n", "per server", "races", "fin", "rst",
		"retried", "closed", "reused");
	for (i = 0; i < r->nrace_srv; i++) {
		const struct kapa_race_server *s = &r->race_srv[i];

		if (s->races[0] + s->races[1] + s->idle_closes + s->reuses == 0)
			continue;
		race_server_name(s, name, sizeof(name));
		fprintf(out, "  %-28s %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64
			" %7" PRIu64 "\n", name, s->races[0] + s->races[1], s->races[0],
			s->races[1], s->retried, s->idle_closes, s->reuses);
	}
	fprintf(out, "  observed idle limit, per server: idle gaps that ended in its close "
		"vs in reuse\n");
	for (i = 0; i < r->nrace_srv; i++) {
		const struct kapa_race_server *s = &r->race_srv[i];

		if (s->idle_closes + s->reuses == 0)
			continue;
		race_server_name(s, name, sizeof(name));
		fprintf(out, "  %s observed idle limit: shortest gap closed ", name);
		if (s->close_min_ms != UINT32_MAX)
			fprintf(out, "%u ms", s->close_min_ms);
		else
			fprintf(out, "-");
		fprintf(out, ", longest gap reused %u ms, announced Keep-Alive timeout ",
			s->reuse_max_ms);
		if (s->ka_timeout != KAPA_KA_UNSET)
			fprintf(out, "%u s\n", s->ka_timeout);
		else
			fprintf(out, "none\n");
		for (b = 0; b < KAPA_RACE_GAP_BUCKETS; b++) {
			if (s->close_hist[b] + s->reuse_hist[b] == 0)
				continue;
			race_bucket_name(b, bucket, sizeof(bucket));
			snprintf(label, sizeof(label), "%s gap %s closed/reused", name, bucket);
			fprintf(out, "    %-48s %7u %7u\n", label, s->close_hist[b], s->reuse_hist[b]);
		}
	}

	fprintf(out, "\nkeep-alive hint compliance (clients told Keep-Alive timeout/max, by "
		"User-Agent product)\n");
	fprintf(out, "  %-20s %7s %9s %8s %8s %8s %8s\n", "product", "conns", "compliant",
		"reuse<T", "reuse>=T", "over-max", "close<T");
	for (i = 0; i < r->nrace_agt; i++) {
		const struct kapa_race_agent *a = &r->race_agt[i];

		if (a->conns == 0)
			continue;
		fprintf(out, "  %-20s %7" PRIu64 " %9" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
			" %8" PRIu64 "\n", i == 0 ? "(other)" : a->token, a->conns, a->compliant,
			a->reuse_in_time, a->reuse_late, a->over_max, a->closed_in_time);
	}
	if (st->agents_other != 0)
		fprintf(out, "  %-44s %8" PRIu64 "\n", "connections of products past the table",
			st->agents_other);
}

/* What the policy did: every action and refusal by reason, then the
 * packet work behind them. */
static void
print_actions(const struct report *r, FILE *out)
{
	const struct kapa_engine_stats *a = &r->act;
	unsigned k, w, n = 0;

	fprintf(out, "\npolicy actions\n");
	for (k = 0; k < KAPA_ACT_KIND_MAX; k++) {
		for (w = 0; w < KAPA_ACT_WHY_MAX; w++) {
			if (a->act[k][w] == 0)
				continue;
			fprintf(out, "  %-21s %-12s %8" PRIu64 "\n", kapa_act_kind_name(k),
				kapa_act_why_name(w), a->act[k][w]);
			n++;
		}
	}
	if (n == 0)
		fprintf(out, "  none\n");
	fprintf(out, "  RSTs sent %" PRIu64 ", packets edited %" PRIu64 " (bytes inserted %" PRIu64
		", split %" PRIu64 "), segments not forwarded %" PRIu64 "\n",
		a->rst_sent, a->pkts_edited, a->bytes_inserted, a->pkts_split, a->pkts_dropped);
	fprintf(out, "  edits replayed on retransmissions %" PRIu64 ", ACKs translated %" PRIu64
		", SACK edges %" PRIu64 ", stale retransmissions probed %" PRIu64 " (cut %" PRIu64
		")\n", a->edits_replayed, a->acks_translated, a->sack_edges_translated,
		a->stale_probes, a->stale_cut);
	fprintf(out, "  decisions %" PRIu64 ", picked-up connections given limits %" PRIu64 "\n",
		a->decisions, a->midstream_limited);
}

static double
pct(uint64_t part, uint64_t whole)
{
	return whole != 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

static void
print_ka(const struct report *r, FILE *out, int side)
{
	uint32_t i;

	fprintf(out, "  %s:\n", side ? "clients (requests)" : "servers (responses)");
	if (r->nka[side] == 0 && r->ka_unparsed[side] == 0) {
		fprintf(out, "    none\n");
		return;
	}
	for (i = 0; i < r->nka[side]; i++) {
		const struct report_ka *k = &r->ka[side][i];
		char t[16] = "-", m[16] = "-";

		if (k->has_timeout)
			snprintf(t, sizeof(t), "%u", k->timeout);
		if (k->has_max)
			snprintf(m, sizeof(m), "%u", k->max);
		fprintf(out, "    timeout=%-6s max=%-8s %10" PRIu64 " messages\n", t, m, k->count);
	}
	if (r->ka_other[side] != 0)
		fprintf(out, "    (other sets)               %10" PRIu64 " messages\n",
			r->ka_other[side]);
	if (r->ka_unparsed[side] != 0)
		fprintf(out, "    (no usable parameter)      %10" PRIu64 " messages\n",
			r->ka_unparsed[side]);
	if (r->ka_ineffective[side] != 0)
		fprintf(out, "    without Connection: keep-alive (no effect): %" PRIu64 "\n",
			r->ka_ineffective[side]);
}

/* IP fragment reassembly, when the capture has fragments. */
static void
print_frag(const struct report *r, FILE *out)
{
	const struct kapa_frag_stats *f = &r->frag;
	unsigned i;

	if (f->fragments == 0)
		return;
	fprintf(out, "\nIP fragments (reassembled for inspection, forwarded as they came)\n");
	fprintf(out, "  fragments %" PRIu64 ", datagrams reassembled %" PRIu64
		" (atomic %" PRIu64 "), timed out %" PRIu64 ", incomplete at the end %" PRIu64 "\n",
		f->fragments, f->reassembled, f->atomic, f->timed_out, f->open);
	fprintf(out, "  overlapping (datagram dropped) %" PRIu64 ", duplicates %" PRIu64
		", dropped for room %" PRIu64 "\n", f->overlaps, f->duplicates, f->table_full);
	for (i = 0; i < KAPA_FRAG_REF_MAX; i++)
		if (f->refused[i] != 0)
			fprintf(out, "  refused %-12s %" PRIu64 "\n", kapa_frag_refusal_name(i),
				f->refused[i]);
}

void
report_print(const struct report *r, FILE *out, const char *file)
{
	uint64_t max_req_bucket = 0, total;
	double secs = r->last_ns > r->first_ns ? (double)(r->last_ns - r->first_ns) / 1e9 : 0;
	unsigned i;

	fprintf(out, "== %s\n", file);
	/* A total has no duration: captures need not follow each other (and
	 * one may hold timestamps decades apart). */
	if (r->captures != 0)
		fprintf(out, "frames                 %" PRIu64 " in %" PRIu32 " captures",
			r->frames, r->captures);
	else
		fprintf(out, "frames                 %" PRIu64 " over %.3f s", r->frames, secs);
	fprintf(out, " (tcp %" PRIu64 ", non-tcp %" PRIu64 ", non-ip %" PRIu64
		", fragments %" PRIu64 ", malformed %" PRIu64 ")\n",
		r->tcp.pkts[KAPA_PKT_TCP] + r->act.csum_bad, r->tcp.pkts[KAPA_PKT_NON_TCP],
		r->tcp.pkts[KAPA_PKT_NON_IP] + r->non_ip_link,
		r->tcp.pkts[KAPA_PKT_FRAGMENT], r->tcp.pkts[KAPA_PKT_MALFORMED] + r->bad_link);
	/* Segments ignored for their checksum are not in the TCP core's
	 * count (it never saw them), nor in anything below. */
	if (r->csum_verify)
		fprintf(out, "TCP checksums          %" PRIu64 " verified, %" PRIu64
			" bad: ignored (forwarded, not used)\n",
			r->act.csum_sw + r->act.csum_port, r->act.csum_bad);
	fprintf(out, "TCP connections        %" PRIu64 " (tracked by kapa: %" PRIu64
		" with handshake, %" PRIu64 " picked up mid-stream, %" PRIu64 " refused)\n",
		r->streams, r->tcp.conns_opened, r->tcp.conns_midstream, r->tcp.conns_refused);
	fprintf(out, "HTTP/1.x connections   %" PRIu64 "\n", r->http_conns);
	fprintf(out, "messages               %" PRIu64 " requests, %" PRIu64
		" final responses, %" PRIu64 " interim (1xx)\n",
		r->requests, r->responses, r->interim);

	fprintf(out, "\nrequests per connection\n");
	for (i = 0; i < REPORT_REQ_BUCKETS; i++)
		if (r->req_hist[i] > max_req_bucket)
			max_req_bucket = r->req_hist[i];
	for (i = 0; i < REPORT_REQ_BUCKETS; i++) {
		int bar = max_req_bucket != 0 ? (int)(40 * r->req_hist[i] / max_req_bucket) : 0;

		fprintf(out, "  %-9s %8" PRIu64 "  %.*s\n", req_bucket_name[i], r->req_hist[i],
			bar, "########################################");
	}
	fprintf(out, "  most on one connection: %" PRIu64 "\n", r->max_req);

	fprintf(out, "\nversions               requests        responses\n");
	fprintf(out, "  HTTP/1.0             %-15" PRIu64 " %" PRIu64 "\n", r->ver[1][0], r->ver[0][0]);
	fprintf(out, "  HTTP/1.1             %-15" PRIu64 " %" PRIu64 "\n", r->ver[1][1], r->ver[0][1]);
	if (r->ver[1][2] + r->ver[0][2] != 0)
		fprintf(out, "  other                %-15" PRIu64 " %" PRIu64 "\n",
			r->ver[1][2], r->ver[0][2]);
	fprintf(out, "  Connection: close      %-13" PRIu64 " %" PRIu64 "\n",
		r->tok_close[1], r->tok_close[0]);
	fprintf(out, "  Connection: keep-alive %-13" PRIu64 " %" PRIu64 "\n",
		r->tok_keep_alive[1], r->tok_keep_alive[0]);
	total = r->resp_persistent + r->resp_closing;
	fprintf(out, "  final responses after which the connection persists: %" PRIu64
		" (%.1f%%), closes: %" PRIu64 "\n",
		r->resp_persistent, pct(r->resp_persistent, total), r->resp_closing);

	fprintf(out, "\nKeep-Alive parameters announced\n");
	print_ka(r, out, 0);
	print_ka(r, out, 1);

	fprintf(out, "\nidle gaps between requests (end of response to next request)\n");
	for (i = 0; i < REPORT_GAP_BUCKETS; i++)
		fprintf(out, "  %-9s %8" PRIu64 "\n", gap_bucket_name[i], r->gap_hist[i]);
	if (r->gaps != 0)
		fprintf(out, "  mean %.3f s, max %.3f s over %" PRIu64 " gaps\n",
			(double)r->gap_sum_ns / (double)r->gaps / 1e9,
			(double)r->gap_max_ns / 1e9, r->gaps);

	fprintf(out, "\nhow HTTP connections ended\n");
	for (i = 0; i < REPORT_END_MAX; i++)
		fprintf(out, "  %-30s %8" PRIu64 "\n", end_name[i], r->ended[i]);

	fprintf(out, "\nconnections that left HTTP/1.x tracking\n");
	total = 0;
	for (i = 0; i < KAPA_LEAVE_MAX; i++) {
		if (r->leave[i] == 0)
			continue;
		fprintf(out, "  %-30s %8" PRIu64 "\n", kapa_http_leave_name(i), r->leave[i]);
		total += r->leave[i];
	}
	if (total == 0)
		fprintf(out, "  none\n");
	if (r->http.pipeline_overflow != 0)
		fprintf(out, "  (still tracked) requests past the pipeline depth, unpaired: %" PRIu64 "\n",
			r->http.pipeline_overflow);
	if (r->http.pair_unsure != 0)
		fprintf(out, "  (still tracked) responses not paired with their request: %" PRIu64 "\n",
			r->http.pair_unsure);

	/* How much of the traffic only a lenient reading counts (the origin
	 * servers serve it): a message is counted once per tolerance. */
	fprintf(out, "\nmessages read by a tolerance (as origin servers read them)\n");
	total = 0;
	for (i = 0; i < KAPA_HTTP_TOL_MAX; i++) {
		if (r->http.tolerated[i] == 0)
			continue;
		fprintf(out, "  %-30s %8" PRIu64 "\n", kapa_http_tol_name(i), r->http.tolerated[i]);
		total += r->http.tolerated[i];
	}
	if (total == 0)
		fprintf(out, "  none\n");

	fprintf(out, "\nTCP reassembly\n");
	fprintf(out, "  segments in order %" PRIu64 ", out of order %" PRIu64
		", retransmitted %" PRIu64 "\n",
		r->tcp.segs_in_order, r->tcp.segs_ooo, r->tcp.segs_retrans);
	fprintf(out, "  bytes overlapping %" PRIu64 " (inconsistent %" PRIu64 "), gaps %" PRIu64
		" (acked holes %" PRIu64 ", limits %" PRIu64 ", hole timeout %" PRIu64
		", at release %" PRIu64 ")\n",
		r->tcp.bytes_overlap, r->tcp.bytes_inconsistent, r->tcp.gaps,
		r->tcp.gap_acked_hole, r->tcp.gap_limit_conn + r->tcp.gap_limit_global,
		r->tcp.gap_hole_timeout, r->tcp.gap_release);
	if (r->tcp.bytes_release_flushed != 0)
		fprintf(out, "  bytes held out of order and handed on at release %" PRIu64 "\n",
			r->tcp.bytes_release_flushed);
	if (r->tcp.pickup_start_ack + r->tcp.pickup_start_timeout + r->tcp.pickup_start_limit +
	    r->tcp.pickup_start_other != 0)
		fprintf(out, "  directions picked up on data, start decided by the peer's ack %" PRIu64
			", by the hole timeout %" PRIu64 ", by the hold limit %" PRIu64
			", otherwise %" PRIu64 "; bytes before the first seen %" PRIu64 "\n",
			r->tcp.pickup_start_ack, r->tcp.pickup_start_timeout,
			r->tcp.pickup_start_limit, r->tcp.pickup_start_other,
			r->tcp.pickup_early_bytes);
	fprintf(out, "  RSTs accepted %" PRIu64 ", ignored (not at the next sequence) %" PRIu64 "\n",
		r->tcp.rst_accepted, r->tcp.rst_ignored);
	if (r->ts_backwards != 0)
		fprintf(out, "  frames with a timestamp before an earlier frame's: %" PRIu64 "\n",
			r->ts_backwards);
	print_frag(r, out);
	print_races(r, out);
	if (r->policy)
		print_actions(r, out);
	fprintf(out, "\n");
}
