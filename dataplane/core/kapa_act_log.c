/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The edit log of a connection: what kapa changed in the server's stream,
 * kept until the client has acknowledged it, so that
 *  - every server segment is edited from the log, the first transmission
 *    and any retransmission alike (however the server cuts it again);
 *  - the server's sequence numbers are moved by the bytes inserted before
 *    them, and the client's acknowledgements and SACK edges moved back;
 *  - edits the client has acknowledged retire: their inserted bytes join
 *    the connection's fixed shift, and the log is given back to the pool
 *    when it empties.
 *
 * Sequence spaces. "Server space" is the server's own numbering, which the
 * TCP core and the tracker always work in. The client sees "shifted space":
 * an insertion of d bytes at server seq X moves every server byte at or
 * after X up by d; the inserted bytes occupy [S, S + d), S being X's own
 * shifted position. An edit retires when the client's ack passes it; floor
 * is the highest (translated) ack at which one did: for any server seq at
 * or after floor, the retired edits all lie before it and count in full
 * (act_conn::shift). A server segment that starts before floor is an old
 * retransmission the client already has; its mapping is no longer kept, so
 * it is forwarded as an empty probe that makes the client acknowledge
 * again (docs/core-act.md).
 */
#include <string.h>

#include "kapa_engine_int.h"

/* ---- the pool ------------------------------------------------------------- */

static struct act_log *
log_of(const struct kapa_engine *e, const struct act_conn *ac)
{
	return ac->log != 0 ? &e->logs[ac->log - 1] : NULL;
}

void
act_log_drop(struct kapa_engine *e, struct act_conn *ac)
{
	struct act_log *l = log_of(e, ac);

	if (l == NULL)
		return;
	l->n = 0;
	l->next_free = e->log_free;
	e->log_free = ac->log;
	ac->log = 0;
}

int
act_log_add(struct kapa_engine *e, struct act_conn *ac, const struct act_edit *ed)
{
	struct act_log *l = log_of(e, ac);

	if (l == NULL) {
		if (e->log_free == 0)
			return -1;
		ac->log = e->log_free;
		l = &e->logs[ac->log - 1];
		e->log_free = l->next_free;
		l->n = 0;
	}
	if (l->n == ACT_LOG_MAX)
		return -1;
	l->e[l->n++] = *ed;
	if (!(ac->flags & ACT_EDITED))
		e->edited_conns++;
	ac->flags |= ACT_EDITED;
	return 0;
}

/* ---- the text of an edit ---------------------------------------------------- */

/*
 * Texts are generated, not stored (an edit keeps its parameters: 20 bytes),
 * every time a segment carrying them goes out. They are built by appending
 * into a buffer of ACT_TEXT_MAX bytes, which every text fits (the longest,
 * both lines with 10-digit values and CRLF, is 72 bytes); snprintf() was a
 * third of an advertisement's cost (docs/performance.md).
 */
struct text {
	char *p;
	uint32_t n;
};

static void
put_lit(struct text *t, const char *s, uint32_t len)
{
	memcpy(t->p + t->n, s, len);
	t->n += len;
}

#define PUT(t, lit) put_lit((t), (lit), (uint32_t)sizeof(lit) - 1)

static void
put_u32(struct text *t, uint32_t v)
{
	char d[10];
	uint32_t k = 0;

	do {
		d[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (k > 0)
		t->p[t->n++] = d[--k];
}

/* "timeout=T, max=M" with what is set. */
static void
ka_value(const struct act_edit *ed, struct text *t)
{
	if (ed->t != KAPA_KA_UNSET) {
		PUT(t, "timeout=");
		put_u32(t, ed->t);
	}
	if (ed->t != KAPA_KA_UNSET && ed->m != KAPA_KA_UNSET)
		PUT(t, ", ");
	if (ed->m != KAPA_KA_UNSET) {
		PUT(t, "max=");
		put_u32(t, ed->m);
	}
}

/* Lines inserted before the empty line; an odd total gets one more space
 * before its last line end (OWS, RFC 9110 §5.5), so insertions are even. */
static void
insert_text(const struct act_edit *ed, struct text *t)
{
	bool crlf = (ed->flags & ACT_TEXT_CRLF) != 0;
	uint32_t eol = crlf ? 2 : 1;

	if (ed->kind == ACT_EDIT_INS_CLOSE) {
		PUT(t, "Connection: close");
	} else {
		if (ed->flags & ACT_TEXT_CONN) {
			PUT(t, "Connection: keep-alive");
			put_lit(t, &"\r\n"[crlf ? 0 : 1], eol);
		}
		PUT(t, "Keep-Alive: ");
		ka_value(ed, t);
	}
	if (((t->n + eol) & 1) != 0)
		t->p[t->n++] = ' ';
	put_lit(t, &"\r\n"[crlf ? 0 : 1], eol);
}

/* The text of an edit, unpadded: what a rewrite pads to its field's length. */
static uint32_t
edit_text(const struct act_edit *ed, char *out)
{
	struct text t = { .p = out, .n = 0 };

	switch (ed->kind) {
	case ACT_EDIT_INS_CLOSE:
	case ACT_EDIT_INS_KA:
		insert_text(ed, &t);
		break;
	case ACT_EDIT_KA_VALUE:
		ka_value(ed, &t);
		break;
	case ACT_EDIT_KA_RENAME:
		PUT(&t, ACT_RENAMED);
		break;
	default:
		PUT(&t, "close");
		break;
	}
	return t.n;
}

uint32_t
act_edit_len(const struct act_edit *ed)
{
	char buf[ACT_TEXT_MAX];

	return edit_text(ed, buf);
}

void
act_edit_text(const struct act_edit *ed, uint8_t *out)
{
	char buf[ACT_TEXT_MAX];
	uint32_t n = edit_text(ed, buf);

	/* A value keeps its field's length: trailing OWS pads it. */
	memcpy(out, buf, n < ed->new_len ? n : ed->new_len);
	if (n < ed->new_len)
		memset(out + n, ' ', ed->new_len - n);
}

/* ---- sequence spaces ------------------------------------------------------------ */

static inline bool
is_insert(const struct act_edit *ed)
{
	return ed->old_len == 0;
}

uint32_t
act_shift_seq(const struct kapa_engine *e, const struct act_conn *ac, uint32_t seq)
{
	const struct act_log *l = log_of(e, ac);
	uint32_t s = seq + ac->shift, i;

	for (i = 0; l != NULL && i < l->n; i++)
		if (is_insert(&l->e[i]) && (int32_t)(l->e[i].seq - seq) < 0)
			s += l->e[i].new_len;
	return s;
}

/* Shifted space back to the server's: what the client acknowledges of an
 * inserted range maps to the insertion point (the server's byte after it
 * has not been acknowledged). */
static uint32_t
unshift(const struct kapa_engine *e, const struct act_conn *ac, uint32_t raw)
{
	const struct act_log *l = log_of(e, ac);
	uint32_t v = raw - ac->shift, cum = 0, take = 0, i, d;
	int32_t past;

	for (i = 0; l != NULL && i < l->n; i++) {
		const struct act_edit *ed = &l->e[i];

		if (!is_insert(ed))
			continue;
		past = (int32_t)(v - (ed->seq + cum));	/* v past S, in pending space */
		if (past <= 0)
			break;
		d = (uint32_t)past < ed->new_len ? (uint32_t)past : ed->new_len;
		take += d;
		cum += ed->new_len;
	}
	return v - take;
}

static uint32_t
unshift_edge(uint32_t edge, void *arg)
{
	void **a = arg;

	return unshift(a[0], a[1], edge);
}

/* The client acknowledged up to @p ack (server space): edits before it are
 * done with. */
static void
retire(struct kapa_engine *e, struct act_conn *ac, uint32_t ack)
{
	struct act_log *l = log_of(e, ac);
	uint32_t i, k = 0;
	bool moved = false, first = ac->shift == 0;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		struct act_edit *ed = &l->e[i];

		if (is_insert(ed) && (int32_t)(ack - ed->seq) > 0) {
			ac->shift += ed->new_len;
			moved = true;
			continue;
		}
		if (!is_insert(ed) && (int32_t)(ack - (ed->seq + ed->old_len)) >= 0)
			continue;
		l->e[k++] = *ed;
	}
	l->n = k;
	if (moved && (first || (int32_t)(ack - ac->floor) > 0))
		ac->floor = ack;
	if (k != 0)
		return;
	act_log_drop(e, ac);
	if (ac->shift == 0) {
		/* Rewrites in place only, all acknowledged: nothing is left to
		 * map, the connection's packets need no more work. */
		ac->flags &= (uint16_t)~ACT_EDITED;
		e->edited_conns--;
	}
}

void
act_client_in(struct kapa_engine *e, struct act_conn *ac, struct kapa_pkt *pkt)
{
	uint32_t a;
	void *arg[2] = { e, ac };

	if (!(pkt->tcp_flags & KAPA_TCP_ACK))
		return;
	if ((int32_t)(pkt->ack - ac->cli_ack_raw) > 0)
		ac->cli_ack_raw = pkt->ack;
	a = unshift(e, ac, pkt->ack);
	if (a != pkt->ack) {
		kapa_edit_set_ack(pkt, a);
		e->st.acks_translated++;
	}
	if (pkt->opt.nsack != 0)
		e->st.sack_edges_translated += kapa_edit_map_sack(pkt, unshift_edge, arg);
	retire(e, ac, a);
}

/* ---- a server segment ---------------------------------------------------------------- */

/* Largest payload a server segment may carry to the client. */
static uint32_t
seg_limit(const struct kapa_engine *e, const struct kapa_stream_ctx *ctx,
	  const struct kapa_pkt *pkt, uint32_t orig)
{
	const struct act_conn *ac = act_of(e, ctx);
	uint32_t lim = ctx->conn->mss[ac->srv_dir ^ 1];
	uint32_t hdrs = (uint32_t)(pkt->payload_off - pkt->l3_off);

	if (lim == 0)
		lim = pkt->family == 4 ? ACT_MSS_DEFAULT4 : ACT_MSS_DEFAULT6;
	if (e->mtu != 0 && e->mtu > hdrs && e->mtu - hdrs < lim)
		lim = e->mtu - hdrs;
	/* A segment already larger (a capture taken before segmentation
	 * offload) is not cut to the MSS for the bytes kapa adds. */
	return lim < orig ? orig : lim;
}

/* An edit went out: the first time it is new bytes, after that a
 * retransmission edited again. */
static void
edit_sent(struct kapa_engine *e, struct act_edit *ed)
{
	if (ed->flags & ACT_EDIT_SENT) {
		e->st.edits_replayed++;
		return;
	}
	ed->flags |= ACT_EDIT_SENT;
	if (is_insert(ed))
		e->st.bytes_inserted += ed->new_len;
}

/* Rewrites overlapping [s, s + n), then insertions inside it, last first.
 * @return bytes inserted, or -1 when there was no room (nothing inserted). */
static int
apply_log(struct kapa_engine *e, struct act_log *l, struct kapa_buf *b,
	  struct kapa_pkt *pkt, uint32_t s, uint32_t n, bool *changed)
{
	uint8_t text[ACT_TEXT_MAX];
	uint32_t i, lo, hi, grow = 0;
	int32_t rel;

	for (i = 0; i < l->n; i++) {
		struct act_edit *ed = &l->e[i];

		rel = (int32_t)(ed->seq - s);
		if (is_insert(ed)) {
			if (rel >= 0 && (uint32_t)rel < n)
				grow += ed->new_len;
			continue;
		}
		if (rel >= (int32_t)n || rel + (int32_t)ed->old_len <= 0)
			continue;
		lo = rel < 0 ? 0 : (uint32_t)rel;
		hi = (uint32_t)(rel + ed->old_len) < n ? (uint32_t)(rel + ed->old_len) : n;
		act_edit_text(ed, text);
		kapa_edit_rewrite(pkt, lo, text + (uint32_t)((int64_t)lo - rel), hi - lo);
		*changed = true;
		edit_sent(e, ed);
	}
	if (grow == 0)
		return 0;
	if (kapa_edit_room(b, pkt) < grow)
		return -1;
	for (i = l->n; i-- > 0;) {
		struct act_edit *ed = &l->e[i];

		rel = (int32_t)(ed->seq - s);
		if (!is_insert(ed) || rel < 0 || (uint32_t)rel >= n)
			continue;
		act_edit_text(ed, text);
		if (kapa_edit_insert(b, pkt, (uint32_t)rel, text, ed->new_len) != 0)
			return -1;	/* cannot happen: room and length checked */
		*changed = true;
		edit_sent(e, ed);
	}
	return (int)grow;
}

enum kapa_verdict
act_server_out(struct kapa_engine *e, const struct kapa_stream_ctx *ctx, struct kapa_buf *b,
	       struct kapa_pkt *pkt)
{
	struct act_conn *ac = act_of(e, ctx);
	struct act_log *l = ac->log != 0 ? &e->logs[ac->log - 1] : NULL;
	uint32_t syn = (pkt->tcp_flags & KAPA_TCP_SYN) ? 1 : 0;
	uint32_t s = pkt->seq + syn, n = pkt->payload_len, lim, seq;
	bool changed = false;
	int grow = 0, len;

	if (n != 0 && !syn && ac->shift != 0 && (int32_t)(s - ac->floor) < 0 &&
	    (int32_t)(s + n - ac->floor) > 0) {
		/* A retransmission that runs past floor (the server sent it
		 * before the ack that set floor reached it, new bytes along):
		 * the client has the bytes before floor, not the others. They
		 * go on alone, mapped as any segment from floor on. */
		kapa_edit_drop_front(b, pkt, ac->floor - s);
		b->edited = 1;
		e->st.stale_cut++;
		s = ac->floor;
		n = pkt->payload_len;
	}
	if ((n != 0 || (pkt->tcp_flags & KAPA_TCP_FIN)) && ac->shift != 0 &&
	    (int32_t)(s - ac->floor) < 0) {
		/* An old retransmission: the client has these bytes. An
		 * empty segment one before what it acknowledged makes it
		 * acknowledge again, which the server needs to hear. */
		kapa_edit_trim(b, pkt, 0);
		kapa_edit_set_seq(pkt, ac->cli_ack_raw - 1);
		e->st.stale_probes++;
		b->edited = 1;
		return KAPA_VERDICT_FORWARD;
	}
	if (l != NULL && n != 0) {
		grow = apply_log(e, l, b, pkt, s, n, &changed);
		if (grow < 0) {
			e->st.replay_no_room++;
			return KAPA_VERDICT_DROP;
		}
	}
	seq = act_shift_seq(e, ac, s) - syn;
	if (seq != pkt->seq) {
		kapa_edit_set_seq(pkt, seq);
		b->edited = 1;
	}
	if (changed) {
		b->edited = 1;
		e->st.pkts_edited++;
	}
	if (grow == 0)
		return KAPA_VERDICT_FORWARD;
	lim = seg_limit(e, ctx, pkt, n);
	if (pkt->payload_len > lim) {
		len = kapa_edit_split(b, pkt, lim, e->frame, ACT_FRAME_MAX);
		if (len > 0) {
			e->st.pkts_split++;
			if (e->ops.emit != NULL)
				e->ops.emit(ctx, (enum kapa_dir)ac->srv_dir, e->frame,
					    (uint32_t)len, e->ops_arg);
		}
	}
	return KAPA_VERDICT_FORWARD;
}
