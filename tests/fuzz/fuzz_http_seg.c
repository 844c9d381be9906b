/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of the HTTP/1.x tracker's segmentation invariance: the
 * same bytes, in the same order of directions, must give the same messages
 * however they are cut into deliveries (the brief: "kapa must give the same
 * answer however the bytes are cut").
 *
 * The input is a script of pieces (direction + bytes, or a FIN / GAP event).
 * The tracker is driven directly as a stream consumer (ctx->tcp == NULL, as
 * the unit tests do), three times: each piece whole; each piece cut at
 * input-chosen points; and, for short scripts, one byte per delivery. What
 * the tracker reports (messages with every field that is not a packet
 * reference, message ends, leaves) is logged as text, and the logs must be
 * identical. As the TCP core does, no byte is delivered after a leave. Each
 * delivery is an exact-size heap copy freed right after the call, so a read
 * past it or a pointer kept beyond the call is an ASan report.
 *
 * The tracker resynchronises (after a mid-stream pickup, a gap, or a start
 * line that does not parse) only where a delivery begins with a whole start
 * line, by design; the cuts keep those points where they are (cut_len()).
 *
 * Input: byte 0 bit 0 = connection picked up mid-stream; byte 1 = seed of
 * the cut points; then records: a header byte h, bit 7 = server-to-client;
 * h & 0x40: an event (h & 1: GAP of the next byte's value + 1 bytes, else
 * FIN); otherwise h & 0x3f data bytes follow.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapa_http.h"
#include "kapa_http_int.h"
#include "http_msg_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_http_seg: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

#define MAX_INPUT	8192
#define BYTEWISE_MAX	1024	/* one byte per delivery up to this size */
#define NRUNS		3

static struct http_log logs[NRUNS];

static struct kapa_http *
tracker(void)
{
	static struct kapa_http *h;
	struct kapa_http_conf conf = {
		.max_header = 4096,
		.header_buffers = 4,
		.ops = &http_log_ops,
	};

	if (h == NULL) {
		h = kapa_http_create(&conf);
		CHECK(h != NULL);
	}
	return h;
}

/* xorshift32 */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Whether a delivery beginning at @p p would be a resync point. */
static bool
starts_here(const uint8_t *p, uint32_t n)
{
	if (kapa_http_resync_point(p, n) != 0)
		return true;
	return memchr(p, '\n', n) == NULL && kapa_http_start_prefix_ok(p, n);
}

/*
 * Length of the delivery at @p pos of a piece of @p len bytes. The tracker
 * resynchronises (after a pickup, a gap, or a start line that does not
 * parse) only where a delivery begins with a whole start line
 * (kapa_http_resync_point()): that is its design, so cuts must neither take
 * such a point away nor add one. A piece's first delivery therefore runs at
 * least through its first LF, and no later cut falls where a start line
 * begins (starts_here()).
 */
static uint32_t
cut_len(const uint8_t *p, uint32_t len, uint32_t pos, int mode, uint32_t *seed)
{
	const uint8_t *lf;
	uint32_t n, min = 1;

	if (mode == 0)
		return len - pos;
	if (pos == 0) {
		lf = memchr(p, '\n', len);
		if (lf != NULL)
			min = (uint32_t)(lf - p) + 1;
	}
	n = mode == 1 ? 1 + rnd(seed) % (len - pos) : 1;
	if (n < min)
		n = min;
	/* Move the cut past any point where a start line would begin: a whole
	 * one, or the head of one whose LF is not in this piece (the tracker
	 * holds such a head until its line ends, then judges it). */
	while (pos + n < len && starts_here(p + pos + n, len - pos - n))
		n++;
	return n;
}

/* mode 0: whole pieces; 1: cut at random points; 2: one byte at a time */
static void
run(const uint8_t *data, size_t size, int mode)
{
	struct kapa_http *h = tracker();
	const struct kapa_stream_ops *ops = kapa_http_stream_ops();
	_Alignas(16) uint8_t app[KAPA_HTTP_STATE_SIZE + 32];
	struct kapa_conn conn;
	struct kapa_stream_ctx ctx;
	uint64_t off[2] = { 0, 0 };
	uint32_t seed = 0x9e3779b9u ^ data[1], len, pos, n;
	size_t i = 2;
	uint8_t hb, *piece;
	int dir;

	http_log_begin(&logs[mode]);
	memset(app, 0, sizeof(app));
	memset(&conn, 0, sizeof(conn));
	memset(&ctx, 0, sizeof(ctx));
	conn.flags = (data[0] & 1) ? KAPA_CONN_MIDSTREAM : 0;
	ctx.ops_arg = h;
	ctx.app = app;
	ctx.conn = &conn;
	ops->event(&ctx, KAPA_EV_OPEN, 0, 0);

	while (i < size) {
		hb = data[i++];
		dir = (hb & 0x80) ? KAPA_DIR_S2C : KAPA_DIR_C2S;
		ctx.dir = (enum kapa_dir)dir;
		if (hb & 0x40) {
			if (http_log_left)
				continue;
			if ((hb & 1) && i < size) {
				n = (uint32_t)data[i++] + 1;
				ops->event(&ctx, KAPA_EV_GAP, off[dir], n);
				off[dir] += n;
			} else {
				ops->event(&ctx, KAPA_EV_FIN, off[dir], 0);
			}
			continue;
		}
		len = hb & 0x3f;
		if (len > size - i)
			len = (uint32_t)(size - i);
		for (pos = 0; pos < len && !http_log_left; pos += n) {
			n = cut_len(data + i, len, pos, mode, &seed);
			/* An exact-size copy, freed after the call: the bytes
			 * are valid only during it, and ASan holds the
			 * tracker to that. */
			piece = malloc(n);
			CHECK(piece != NULL);
			memcpy(piece, data + i + pos, n);
			ctx.now_ns += 1000;
			ops->data(&ctx, off[dir], piece, n);
			free(piece);
			off[dir] += n;
		}
		i += len;
	}
	ops->event(&ctx, KAPA_EV_CLOSE, 0, 0);
}

static void
compare(int a, int b)
{
	if (http_log_same(&logs[a], &logs[b]))
		return;
	fprintf(stderr, "fuzz_http_seg: run %d and run %d disagree\n--- run %d\n%.*s\n--- run %d\n%.*s\n",
		a, b, a, (int)logs[a].len, logs[a].buf, b, (int)logs[b].len, logs[b].buf);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > MAX_INPUT)
		return 0;
	run(data, size, 0);
	run(data, size, 1);
	compare(0, 1);
	if (size <= BYTEWISE_MAX) {
		run(data, size, 2);
		compare(0, 2);
	}
	return 0;
}
