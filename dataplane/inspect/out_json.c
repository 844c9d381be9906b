/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "out_json.h"

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
	/* rec[head, nrec) are the objects not written yet; sorted: they are
	 * in (frame, seq) order (objects mostly come in frame order, so most
	 * looks need no sort). rec[0, head) were written; their text is
	 * reclaimed once they are a quarter of the rest (compact()). */
	struct json_rec *rec;
	size_t head, nrec, rec_cap;
	int sorted;
	uint64_t seq;
	uint64_t written_below;	/* every object of a frame below it is written */
	uint64_t min_frame;	/* no object buffered is of an earlier frame */
	uint64_t late;		/* objects that came for a frame already written */
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

static void
put(struct json_out *j, const char *s, size_t n)
{
	memcpy(j->text + j->text_len, s, n);
	j->text_len += n;
}

static void
puts_lit(struct json_out *j, const char *s)
{
	put(j, s, strlen(s));
}

/* Worst case of a JSON string from n bytes: every byte as \u00XX. */
static size_t
str_bound(size_t n)
{
	return 6 * n + 2;
}

/* A JSON string from raw header bytes. Bytes outside printable ASCII are
 * written as \u00XX (the byte read as Latin-1), so the output is valid JSON
 * whatever a peer sent; the runner compares ASCII tokens, never those. */
static void
put_str(struct json_out *j, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *o = j->text + j->text_len;
	size_t i;

	*o++ = '"';
	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			*o++ = '\\';
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		} else {
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	j->text_len = (size_t)(o - j->text);
}

/*
 * The decimal digits of @p v at @p b (room for 20), no terminator. By hand:
 * a message carries a dozen numbers and two endpoints, and snprintf's
 * format parsing was about a third of the cost of writing one.
 * @return the digit count.
 */
static size_t
fmt_u64(char *b, uint64_t v)
{
	char rev[20];
	size_t n = 0, i;

	do {
		rev[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		b[i] = rev[n - 1 - i];
	return n;
}

static void
put_u64(struct json_out *j, uint64_t v)
{
	char b[20];

	put(j, b, fmt_u64(b, v));
}

int
json_fmt_endpoint(char *buf, size_t len, uint8_t family, const uint8_t *addr, uint16_t port)
{
	char t[INET6_ADDRSTRLEN + 8];	/* "[" address "]:" port */
	size_t n = 0;
	int i;

	if (len == 0)
		return 0;
	if (family == 4) {
		/* dotted quad by hand; inet_ntop() goes through sprintf */
		for (i = 0; i < 4; i++) {
			if (i != 0)
				t[n++] = '.';
			n += fmt_u64(t + n, addr[i]);
		}
	} else {
		t[n++] = '[';
		if (inet_ntop(AF_INET6, addr, t + n, INET6_ADDRSTRLEN) == NULL)
			strcpy(t + n, "?");
		n += strlen(t + n);
		t[n++] = ']';
	}
	t[n++] = ':';
	n += fmt_u64(t + n, port);
	if (n > len - 1)
		n = len - 1;
	memcpy(buf, t, n);
	buf[n] = '\0';
	return (int)n;
}

/* Room for one more record. @return 0, or -ENOMEM. */
static int
reserve_rec(struct json_out *j)
{
	size_t cap;
	struct json_rec *nr;

	if (j->nrec < j->rec_cap)
		return 0;
	cap = j->rec_cap != 0 ? j->rec_cap * 2 : 1024;
	nr = realloc(j->rec, cap * sizeof(*nr));
	if (nr == NULL)
		return -ENOMEM;
	j->rec = nr;
	j->rec_cap = cap;
	return 0;
}

/* "file", "stream" and "flow", the keys every object starts with. */
static void
put_where(struct json_out *j, const struct json_msg_where *w)
{
	puts_lit(j, "{");
	if (w->file != NULL) {
		puts_lit(j, "\"file\":");
		put_str(j, (const uint8_t *)w->file, strlen(w->file));
		puts_lit(j, ",");
	}
	puts_lit(j, "\"stream\":");
	put_u64(j, w->stream);
	puts_lit(j, ",\"flow\":");
	put_str(j, (const uint8_t *)w->flow, strlen(w->flow));
}

static void
end_rec(struct json_out *j, uint64_t frame, size_t start)
{
	struct json_rec *r = &j->rec[j->nrec++];

	if (frame < j->written_below)
		j->late++;
	if (j->nrec == j->head + 1 || frame < j->min_frame)
		j->min_frame = frame;
	if (j->nrec == j->head + 1)
		j->sorted = 1;
	else if (frame < r[-1].frame)
		j->sorted = 0;

	r->frame = frame;
	r->seq = j->seq++;
	r->off = start;
	r->len = j->text_len - start;
}

int
json_out_action(struct json_out *j, const struct json_msg_where *w, const struct kapa_action *a)
{
	size_t start;

	if (reserve(j, 256 + str_bound(w->file != NULL ? strlen(w->file) : 0) +
		       str_bound(strlen(w->flow))) != 0 || reserve_rec(j) != 0)
		return -ENOMEM;
	start = j->text_len;
	put_where(j, w);
	puts_lit(j, ",\"frame\":");
	put_u64(j, w->frame);
	puts_lit(j, ",\"action\":\"");
	puts_lit(j, kapa_act_kind_name(a->kind));
	puts_lit(j, "\",\"reason\":\"");
	puts_lit(j, kapa_act_why_name(a->why));
	puts_lit(j, "\"");
	if (a->len != 0) {
		puts_lit(j, ",\"bytes\":");
		put_u64(j, a->len);
	}
	puts_lit(j, "}\n");
	end_rec(j, w->frame, start);
	return 0;
}

int
json_out_race(struct json_out *j, const struct json_msg_where *w, const struct json_race *r,
	      uint64_t at_frame)
{
	size_t start;

	if (reserve(j, 256 + str_bound(w->file != NULL ? strlen(w->file) : 0) +
		       str_bound(strlen(w->flow))) != 0 || reserve_rec(j) != 0)
		return -ENOMEM;
	start = j->text_len;
	put_where(j, w);
	puts_lit(j, ",\"frame\":");
	put_u64(j, w->frame);
	puts_lit(j, ",\"race\":\"");
	puts_lit(j, kapa_race_kind_name(r->kind));
	puts_lit(j, "\",\"idle_ms\":");
	put_u64(j, r->idle_ms);
	puts_lit(j, r->retried ? ",\"retried\":true" : ",\"retried\":false");
	if (r->retried) {
		puts_lit(j, ",\"retry_stream\":");
		put_u64(j, r->retry_stream);
	}
	puts_lit(j, "}\n");
	end_rec(j, at_frame, start);
	return 0;
}

int
json_out_message(struct json_out *j, const struct json_msg_where *w,
		 const struct kapa_http_msg *msg)
{
	size_t bound, start;
	uint32_t i;

	/* One bound for the whole object, so that rendering below needs no
	 * checks: fixed keys and numbers stay under 512 bytes, the tolerance names
	 * (kapa_http_tol_name(), all of them) under 128 more. */
	bound = 512 + 128 + str_bound(w->file != NULL ? strlen(w->file) : 0) +
		str_bound(strlen(w->flow)) + str_bound(msg->method.len) +
		str_bound(msg->target.len) + str_bound(msg->version.len);
	for (i = 0; i < msg->ntokens && i < KAPA_HTTP_MAX_TOKENS; i++)
		bound += str_bound(msg->tokens[i].len) + 1;
	for (i = 0; i < msg->nka && i < KAPA_HTTP_MAX_KA_LINES; i++)
		bound += str_bound(msg->ka_raw[i].len) + 1;
	if (reserve(j, bound) != 0 || reserve_rec(j) != 0)
		return -ENOMEM;
	start = j->text_len;

	put_where(j, w);
	puts_lit(j, msg->is_request ? ",\"dir\":\"request\"" : ",\"dir\":\"response\"");
	puts_lit(j, ",\"index\":");
	put_u64(j, msg->index);
	puts_lit(j, ",\"frame\":");
	put_u64(j, w->frame);
	puts_lit(j, ",\"hdr_frame\":");
	put_u64(j, w->hdr_frame);
	if (msg->is_request) {
		puts_lit(j, ",\"method\":");
		put_str(j, msg->method.p, msg->method.len);
		puts_lit(j, ",\"target\":");
		put_str(j, msg->target.p, msg->target.len);
	} else {
		puts_lit(j, ",\"status\":");
		put_u64(j, msg->status);
	}
	if (msg->version.len != 0) {
		puts_lit(j, ",\"version\":");
		put_str(j, msg->version.p, msg->version.len);
	}
	if (msg->ntokens != 0) {
		puts_lit(j, ",\"connection\":[");
		for (i = 0; i < msg->ntokens && i < KAPA_HTTP_MAX_TOKENS; i++) {
			if (i != 0)
				puts_lit(j, ",");
			put_str(j, msg->tokens[i].p, msg->tokens[i].len);
		}
		puts_lit(j, "]");
		if (msg->tokens_truncated)
			puts_lit(j, ",\"connection_truncated\":true");
	}
	if (msg->has_ka_timeout || msg->has_ka_max) {
		puts_lit(j, ",\"keep_alive\":{");
		if (msg->has_ka_timeout) {
			puts_lit(j, "\"timeout\":");
			put_u64(j, msg->ka_timeout);
		}
		if (msg->has_ka_max) {
			puts_lit(j, msg->has_ka_timeout ? ",\"max\":" : "\"max\":");
			put_u64(j, msg->ka_max);
		}
		puts_lit(j, "}");
	}
	if (msg->nka != 0) {
		puts_lit(j, ",\"keep_alive_raw\":[");
		for (i = 0; i < msg->nka && i < KAPA_HTTP_MAX_KA_LINES; i++) {
			if (i != 0)
				puts_lit(j, ",");
			put_str(j, msg->ka_raw[i].p, msg->ka_raw[i].len);
		}
		puts_lit(j, "]");
	}
	/* A response that could not be paired with its request (requests or
	 * responses lost, or past the pipeline depth): judged on its own. */
	if (msg->pair_unsure)
		puts_lit(j, ",\"pair_unsure\":true");
	/* What reading it needed beyond the grammar (kapa_http_tol). */
	if (msg->tolerated != 0) {
		const char *sep = ",\"tolerated\":[\"";

		for (i = 0; i < KAPA_HTTP_TOL_MAX; i++) {
			if (!(msg->tolerated & (1u << i)))
				continue;
			puts_lit(j, sep);
			puts_lit(j, kapa_http_tol_name(i));
			sep = "\",\"";
		}
		puts_lit(j, "\"]");
	}
	puts_lit(j, msg->persistent ? ",\"persistent\":true}\n" : ",\"persistent\":false}\n");
	end_rec(j, w->frame, start);
	return 0;
}

static int
rec_cmp(const void *a, const void *b)
{
	const struct json_rec *x = a, *y = b;

	if (x->frame != y->frame)
		return x->frame < y->frame ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
rec_cmp_seq(const void *a, const void *b)
{
	const struct json_rec *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Drop the written objects: the rest moves to the front, records and text.
 * In arrival order the text offsets increase, so each object moves down
 * past the ones already moved, never over one still to move. */
static void
compact(struct json_out *j)
{
	size_t i, n = j->nrec - j->head, len = 0;

	memmove(j->rec, j->rec + j->head, n * sizeof(*j->rec));
	j->head = 0;
	j->nrec = n;
	if (n > 1)
		qsort(j->rec, n, sizeof(*j->rec), rec_cmp_seq);
	for (i = 0; i < n; i++) {
		memmove(j->text + len, j->text + j->rec[i].off, j->rec[i].len);
		j->rec[i].off = len;
		len += j->rec[i].len;
	}
	j->text_len = len;
	j->sorted = 0;
}

int
json_out_write_before(struct json_out *j, FILE *out, uint64_t frame)
{
	size_t pending = j->nrec - j->head;
	int rc = 0;

	/* Nothing to write: no sort either (the caller looks often). */
	if (pending == 0 || frame <= j->min_frame)
		return 0;
	if (!j->sorted && pending > 1)
		qsort(j->rec + j->head, pending, sizeof(*j->rec), rec_cmp);
	j->sorted = 1;
	while (j->head < j->nrec && j->rec[j->head].frame < frame) {
		const struct json_rec *r = &j->rec[j->head++];

		if (fwrite(j->text + r->off, 1, r->len, out) != r->len)
			rc = -EIO;
	}
	if (frame > j->written_below)
		j->written_below = frame;
	if (j->head < j->nrec)
		j->min_frame = j->rec[j->head].frame;
	/* Reclaim once the written are a quarter of the rest: the buffer
	 * stays within 1.25 times what is held back, and each object is moved
	 * a bounded number of times on average. */
	if (j->head == j->nrec) {
		j->head = j->nrec = 0;
		j->text_len = 0;
	} else if (4 * j->head >= j->nrec - j->head) {
		compact(j);
	}
	return rc;
}

int
json_out_flush(struct json_out *j, FILE *out)
{
	int rc = json_out_write_before(j, out, UINT64_MAX);

	j->written_below = 0;
	return rc;
}

size_t
json_out_pending(const struct json_out *j)
{
	return j->nrec - j->head;
}

uint64_t
json_out_late(const struct json_out *j)
{
	return j->late;
}
