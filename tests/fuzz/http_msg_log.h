/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What the HTTP tracker reported, rendered as text, for the two harnesses
 * that compare runs of the same bytes cut different ways (fuzz_http_seg,
 * fuzz_http_stream): every reported field of every message as values (spans
 * as their bytes, not pointers), message ends and leaves, in order. Two runs
 * agree when their logs are byte-identical, overflow included.
 */
#ifndef KAPA_FUZZ_HTTP_MSG_LOG_H
#define KAPA_FUZZ_HTTP_MSG_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapa_http.h"

#define HTTP_LOG_MAX (1 << 17)

struct http_log {
	char buf[HTTP_LOG_MAX];
	size_t len;
	bool full;	/* compared too: both runs must overflow alike */
};

static inline void
http_log_reset(struct http_log *l)
{
	l->len = 0;
	l->full = false;
}

static void
http_log_put(struct http_log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
http_log_put(struct http_log *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, HTTP_LOG_MAX - l->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= HTTP_LOG_MAX - l->len)
		l->full = true;
	else
		l->len += (size_t)n;
}

/* A span as its bytes (all of them: a span is at most one header block). */
static inline void
http_log_span(struct http_log *l, const char *name, const struct kapa_span *s)
{
	uint32_t i;

	http_log_put(l, " %s=%u:", name, s->len);
	for (i = 0; i < s->len; i++)
		http_log_put(l, "%02x", s->p[i]);
}

static inline void
http_log_pos(struct http_log *l, const char *name, const struct kapa_http_field_pos *f)
{
	http_log_put(l, " %s=%llu/%llu/%llu/%llu", name, (unsigned long long)f->line,
		     (unsigned long long)f->value, (unsigned long long)f->value_end,
		     (unsigned long long)f->line_end);
}

/* One reported message; the caller has checked ntokens / nka. */
static inline void
http_log_msg(struct http_log *l, int dir, const struct kapa_http_msg *m)
{
	unsigned int i;

	http_log_put(l, "M dir=%d req=%d idx=%u off=%llu status=%u ver=%u.%u", dir,
		     m->is_request, m->index, (unsigned long long)m->off, m->status,
		     m->ver_major, m->ver_minor);
	http_log_span(l, "method", &m->method);
	http_log_span(l, "target", &m->target);
	http_log_span(l, "reason", &m->reason);
	http_log_span(l, "version", &m->version);
	http_log_put(l, " ntokens=%u trunc=%d", m->ntokens, m->tokens_truncated);
	for (i = 0; i < m->ntokens; i++)
		http_log_span(l, "tok", &m->tokens[i]);
	http_log_put(l, " conn=%x ka=%d:%u,%d:%u nka=%u", m->conn_flags, m->has_ka_timeout,
		     m->ka_timeout, m->has_ka_max, m->ka_max, m->nka);
	for (i = 0; i < m->nka; i++)
		http_log_span(l, "ka", &m->ka_raw[i]);
	/* Positions are stream offsets: cut-invariant like the rest. */
	http_log_put(l, " end=%llu crlf=%d ftrunc=%d", (unsigned long long)m->hdr_end,
		     m->hdr_crlf, m->fields_truncated);
	for (i = 0; i < m->nconn_pos; i++)
		http_log_pos(l, "cpos", &m->conn_pos[i]);
	for (i = 0; i < m->nka_pos; i++)
		http_log_pos(l, "kpos", &m->ka_pos[i]);
	http_log_put(l, " body=%u cl=%llu persistent=%d ka_eff=%d unsure=%d\n", m->body,
		     (unsigned long long)m->content_length, m->persistent,
		     m->ka_effective, m->pair_unsure);
}

static inline void
http_log_end(struct http_log *l, int dir, bool is_request, uint32_t index)
{
	http_log_put(l, "E dir=%d req=%d idx=%u\n", dir, is_request, index);
}

static inline void
http_log_leave(struct http_log *l, int dir, enum kapa_http_leave why)
{
	http_log_put(l, "L dir=%d %s\n", dir, kapa_http_leave_name(why));
}

/* @return whether two runs reported the same. */
static inline bool
http_log_same(const struct http_log *a, const struct http_log *b)
{
	return a->full == b->full && a->len == b->len &&
	       memcmp(a->buf, b->buf, a->len) == 0;
}

/*
 * The tracker's callbacks for both harnesses: each writes into the log of
 * the run under way (http_log_cur); a leave also stops the harness feeding
 * that run (http_log_left). A message whose token or Keep-Alive counts
 * exceed their arrays is a crash: it would be read past them.
 */
static struct http_log *http_log_cur;
static bool http_log_left;

static void
http_log_on_message(const struct kapa_stream_ctx *ctx, const struct kapa_http_msg *m,
		    void *arg)
{
	(void)arg;
	if (m->ntokens > KAPA_HTTP_MAX_TOKENS || m->nka > KAPA_HTTP_MAX_KA_LINES) {
		fprintf(stderr, "ntokens %u / nka %u over the arrays\n", m->ntokens, m->nka);
		abort();
	}
	http_log_msg(http_log_cur, ctx->dir, m);
}

static void
http_log_on_end(const struct kapa_stream_ctx *ctx, bool is_request, uint32_t index,
		void *arg)
{
	(void)arg;
	http_log_end(http_log_cur, ctx->dir, is_request, index);
}

static void
http_log_on_leave(const struct kapa_stream_ctx *ctx, enum kapa_http_leave why, void *arg)
{
	(void)arg;
	http_log_leave(http_log_cur, ctx->dir, why);
	http_log_left = true;
}

static const struct kapa_http_ops http_log_ops = {
	.message = http_log_on_message,
	.message_end = http_log_on_end,
	.leave = http_log_on_leave,
};

/* Start the log of a new run. */
static inline void
http_log_begin(struct http_log *l)
{
	http_log_reset(l);
	http_log_cur = l;
	http_log_left = false;
}

/* The tracker reaches the TCP core only through ctx->tcp, which is NULL in
 * these harnesses; the symbol is still needed to link without the core. */
void
kapa_tcp_set_opaque(struct kapa_tcp *tcp, uint32_t idx)
{
	(void)tcp;
	(void)idx;
	fprintf(stderr, "kapa_tcp_set_opaque called without a TCP core\n");
	abort();
}

#endif /* KAPA_FUZZ_HTTP_MSG_LOG_H */
