/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "out_json.h"

/* Serialised like the objects documented in docs/kapa-inspect.md: no spaces,
 * keys in insertion order, only ASCII (non-ASCII as \uXXXX escapes). */
#define JSON_OUT_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)

/* Position of one rendered object in the text buffer. */
struct json_rec {
	uint64_t frame;
	uint64_t seq;		/* arrival order: ties keep it */
	size_t off;
	size_t len;
};

struct json_out {
	char *text;
	size_t text_len, text_cap;
	struct json_rec *rec;
	size_t nrec, rec_cap;
	uint64_t seq;
	char *utf8;		/* wire bytes re-encoded for jansson */
	size_t utf8_cap;
};

struct json_out *
json_out_create(void)
{
	return calloc(1, sizeof(struct json_out));
}

void
json_out_free(struct json_out *j)
{
	if (j == NULL)
		return;
	free(j->text);
	free(j->rec);
	free(j->utf8);
	free(j);
}

static int
reserve(struct json_out *j, size_t more)
{
	size_t cap = j->text_cap != 0 ? j->text_cap : 65536;
	char *t;

	if (j->text_len + more <= j->text_cap)
		return 0;
	while (cap < j->text_len + more)
		cap *= 2;
	t = realloc(j->text, cap);
	if (t == NULL)
		return -ENOMEM;
	j->text = t;
	j->text_cap = cap;
	return 0;
}

/*
 * A JSON string from raw wire bytes. jansson holds UTF-8 only, and header
 * bytes need not be UTF-8, so each byte is read as Latin-1: bytes >= 0x80
 * become U+0080..U+00FF (two UTF-8 bytes), which JSON_ENSURE_ASCII writes as
 * \u00XX. A reader gets the wire bytes back as code points <= U+00FF.
 * The result is valid UTF-8 by construction, hence the _nocheck variant.
 * NULL: out of memory.
 */
static json_t *
wire_string(struct json_out *j, const uint8_t *p, size_t n)
{
	size_t i, o = 0;

	if (2 * n > j->utf8_cap) {
		size_t cap = j->utf8_cap != 0 ? j->utf8_cap : 1024;
		char *u;

		while (cap < 2 * n)
			cap *= 2;
		u = realloc(j->utf8, cap);
		if (u == NULL)
			return NULL;
		j->utf8 = u;
		j->utf8_cap = cap;
	}
	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c < 0x80) {
			j->utf8[o++] = (char)c;
		} else {
			j->utf8[o++] = (char)(0xc0 | (c >> 6));
			j->utf8[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	return json_stringn_nocheck(j->utf8, o);
}

static json_t *
wire_span(struct json_out *j, const struct kapa_span *s)
{
	return wire_string(j, s->p, s->len);
}

static json_t *
wire_array(struct json_out *j, const struct kapa_span *s, uint32_t n)
{
	json_t *a = json_array();
	uint32_t i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (json_array_append_new(a, wire_span(j, &s[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

int
json_fmt_endpoint(char *buf, size_t len, uint8_t family, const uint8_t *addr, uint16_t port)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	if (family == 4)
		n = snprintf(buf, len, "%s:%u", a, port);
	else
		n = snprintf(buf, len, "[%s]:%u", a, port);
	if (n < 0)
		return 0;
	return (size_t)n < len ? n : (int)len - 1;
}

/*
 * The message as a jansson object, keys in the documented order. A failed
 * set (out of memory) is remembered in *bad; json_object_set_new() frees a
 * NULL-safe value itself, so nothing leaks on the way.
 */
static void
set(json_t *o, const char *key, json_t *v, int *bad)
{
	if (json_object_set_new_nocheck(o, key, v) != 0)
		*bad = 1;
}

static json_t *
message_object(struct json_out *j, const struct json_msg_where *w,
	       const struct kapa_http_msg *msg)
{
	json_t *o = json_object();
	int bad = 0;

	if (o == NULL)
		return NULL;
	if (w->file != NULL)
		set(o, "file", wire_string(j, (const uint8_t *)w->file, strlen(w->file)), &bad);
	set(o, "stream", json_integer(w->stream), &bad);
	set(o, "flow", wire_string(j, (const uint8_t *)w->flow, strlen(w->flow)), &bad);
	set(o, "dir", json_string(msg->is_request ? "request" : "response"), &bad);
	set(o, "index", json_integer(msg->index), &bad);
	/* Frame numbers stay far below 2^63 (json_int_t is long long). */
	set(o, "frame", json_integer((json_int_t)w->frame), &bad);
	set(o, "hdr_frame", json_integer((json_int_t)w->hdr_frame), &bad);
	if (msg->is_request) {
		set(o, "method", wire_span(j, &msg->method), &bad);
		set(o, "target", wire_span(j, &msg->target), &bad);
	} else {
		set(o, "status", json_integer(msg->status), &bad);
	}
	if (msg->version.len != 0)
		set(o, "version", wire_span(j, &msg->version), &bad);
	if (msg->ntokens != 0) {
		set(o, "connection", wire_array(j, msg->tokens,
			msg->ntokens < KAPA_HTTP_MAX_TOKENS ? msg->ntokens : KAPA_HTTP_MAX_TOKENS),
			&bad);
		if (msg->tokens_truncated)
			set(o, "connection_truncated", json_true(), &bad);
	}
	if (msg->has_ka_timeout || msg->has_ka_max) {
		json_t *ka = json_object();

		if (ka != NULL && msg->has_ka_timeout)
			set(ka, "timeout", json_integer(msg->ka_timeout), &bad);
		if (ka != NULL && msg->has_ka_max)
			set(ka, "max", json_integer(msg->ka_max), &bad);
		set(o, "keep_alive", ka, &bad);
	}
	if (msg->nka != 0)
		set(o, "keep_alive_raw", wire_array(j, msg->ka_raw,
			msg->nka < KAPA_HTTP_MAX_KA_LINES ? msg->nka : KAPA_HTTP_MAX_KA_LINES),
			&bad);
	set(o, "persistent", json_boolean(msg->persistent), &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
json_out_message(struct json_out *j, const struct json_msg_where *w,
		 const struct kapa_http_msg *msg)
{
	struct json_rec *r;
	json_t *o;
	size_t n;

	if (j->nrec == j->rec_cap) {
		size_t cap = j->rec_cap != 0 ? j->rec_cap * 2 : 1024;
		struct json_rec *nr = realloc(j->rec, cap * sizeof(*nr));

		if (nr == NULL)
			return -ENOMEM;
		j->rec = nr;
		j->rec_cap = cap;
	}
	o = message_object(j, w, msg);
	if (o == NULL)
		return -ENOMEM;
	/* Dump straight into the buffer; json_dumpb() returns the size it
	 * needs, so a second pass runs only when the room left was short. */
	if (reserve(j, 1024) != 0)
		goto nomem;
	n = json_dumpb(o, j->text + j->text_len, j->text_cap - j->text_len, JSON_OUT_FLAGS);
	if (n == 0)
		goto nomem;
	if (n + 1 > j->text_cap - j->text_len) {
		if (reserve(j, n + 1) != 0)
			goto nomem;
		n = json_dumpb(o, j->text + j->text_len, j->text_cap - j->text_len,
			       JSON_OUT_FLAGS);
	}
	json_decref(o);
	j->text[j->text_len + n] = '\n';

	r = &j->rec[j->nrec++];
	r->frame = w->frame;
	r->seq = j->seq++;
	r->off = j->text_len;
	r->len = n + 1;
	j->text_len += n + 1;
	return 0;
nomem:
	json_decref(o);
	return -ENOMEM;
}

static int
rec_cmp(const void *a, const void *b)
{
	const struct json_rec *x = a, *y = b;

	if (x->frame != y->frame)
		return x->frame < y->frame ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int
json_out_flush(struct json_out *j, FILE *out)
{
	size_t i;
	int rc = 0;

	/* With no message, rec is still NULL: qsort must not be given it. */
	if (j->nrec > 1)
		qsort(j->rec, j->nrec, sizeof(*j->rec), rec_cmp);
	for (i = 0; i < j->nrec; i++)
		if (fwrite(j->text + j->rec[i].off, 1, j->rec[i].len, out) != j->rec[i].len)
			rc = -EIO;
	j->nrec = 0;
	j->text_len = 0;
	return rc;
}
