/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: segmentation invariance of the HTTP/1.x tracker over
 * whole streams (issue 8). One byte stream per direction and a list of cut
 * points; the tracker must report the same thing however the streams are
 * cut into deliveries, and the same as when each stream comes in one
 * delivery.
 *
 * What must be identical (compared as a log of values, never pointers):
 * every field of struct kapa_http_msg except first_pkt_ref and first_ns
 * (those name the packet in hand, which the cuts change by definition) --
 * spans as their bytes, persistence decisions, Keep-Alive and framing
 * results -- plus every message end and leave reason, in order.
 *
 * Input layout (all little-endian; a length that runs past the input is
 * cut to what is there):
 *   byte 0        flags: bit 0 FIN after the client stream, bit 1 FIN after
 *                 the server stream, bit 2 connection picked up mid-stream
 *                 (MIDSTREAM | ROLE_GUESSED: both sides start in resync)
 *   bytes 1-2     n0, then n0 bytes: the client-to-server stream
 *   next 2 bytes  n1, then n1 bytes: the server-to-client stream
 *   the rest      cut list: each byte b puts the next cut b + 1 bytes after
 *                 the previous one, first through the client stream, then
 *                 (starting again at 0) through the server stream; when the
 *                 list runs out, the rest of the stream is one delivery.
 *
 * Runs, each compared with the first: (0) each stream in one delivery;
 * (1) cut by the cut list; (2) one byte per delivery (streams up to
 * BYTEWISE_MAX bytes); (3) the cut list read with deltas of (b & 7) + 1
 * (small pieces). The client's stream is always delivered before the
 * server's (in every run the same order of directions, so the request FIFO
 * sees the same requests before each response).
 *
 * Two things are segmentation-dependent by design and kept out of the
 * comparison by the harness, not hidden by the tracker:
 *  - the tracker resumes after a pickup, a gap or an unreadable start line
 *    only where a delivery begins with a whole, well-formed start line (as
 *    tshark does at segment starts); so no cut is made where such a line
 *    begins (kapa_http_resync_point() on the rest of the stream), and a
 *    stream's first delivery runs at least through its first LF;
 *  - a resync search gives up after RESYNC_MAX_BYTES (6 MiB) looked at; runs
 *    are far shorter than that (the bound counts bytes, not deliveries, so
 *    the cut does not decide it; MAX_DELIVERIES only bounds a run's time).
 *
 * Each delivery of runs 0 and 2 is an exact-size heap copy freed right after
 * the call: ASan reports a read past it or a span kept beyond the call. Runs
 * 1 and 3 place each delivery so that it ends where an inaccessible page
 * begins: Hyperscan (not instrumented) reading past a delivery crashes there.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kapa_http.h"
#include "kapa_http_int.h"
#include "http_msg_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...)							\
	do {								\
		fprintf(stderr, "fuzz_http_stream: " __VA_ARGS__);	\
		abort();						\
	} while (0)

#define MAX_INPUT	16384
#define BYTEWISE_MAX	1024	/* one byte per delivery up to this stream size */
#define MAX_DELIVERIES	4000	/* per direction: bounds a run's time */
#define NRUNS		4

static struct http_log logs[NRUNS];

static struct kapa_http *
tracker(void)
{
	static struct kapa_http *h;
	/* A small header limit, so that the limit itself is exercised. */
	struct kapa_http_conf conf = {
		.max_header = 512,
		.header_buffers = 4,
		.pipeline_depth = 8,
		.ops = &http_log_ops,
	};

	if (h == NULL) {
		h = kapa_http_create(&conf);
		if (h == NULL)
			FAIL("kapa_http_create failed\n");
	}
	return h;
}

/* A region whose last byte is followed by a PROT_NONE page. */
static uint8_t *guard_end;

static uint8_t *
guarded(uint32_t n)
{
	static uint8_t *region;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t sz = (MAX_INPUT + pg - 1) / pg * pg;

	if (region == NULL) {
		region = mmap(NULL, sz + pg, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (region == MAP_FAILED || mprotect(region + sz, pg, PROT_NONE) != 0)
			FAIL("guard page: mmap/mprotect failed\n");
		guard_end = region + sz;
	}
	return guard_end - n;
}

/* The input, decoded once. */
struct input {
	uint8_t flags;
	const uint8_t *s[2];	/* [enum kapa_dir] */
	uint32_t n[2];
	const uint8_t *cuts;
	uint32_t ncuts;
};

static uint32_t
take_len(const uint8_t *d, size_t size, size_t *i)
{
	uint32_t n = 0;

	if (*i + 2 <= size) {
		n = (uint32_t)d[*i] | (uint32_t)d[*i + 1] << 8;
		*i += 2;
	} else {
		*i = size;
	}
	if (n > size - *i)
		n = (uint32_t)(size - *i);
	return n;
}

static void
decode(const uint8_t *d, size_t size, struct input *in)
{
	size_t i = 1;
	int dir;

	in->flags = d[0];
	for (dir = 0; dir < 2; dir++) {
		in->n[dir] = take_len(d, size, &i);
		in->s[dir] = d + i;
		i += in->n[dir];
	}
	in->cuts = d + i;
	in->ncuts = (uint32_t)(size - i);
}

/* Where the cut after @p pos falls in a stream of @p n bytes (n = no more
 * cuts). @p ci walks the cut list across both directions. */
static uint32_t
next_cut(const struct input *in, const uint8_t *s, uint32_t n, uint32_t pos,
	 int mode, uint32_t *ci, uint32_t *ndel)
{
	const uint8_t *lf;
	uint32_t c;

	if (mode == 0)
		return n;
	if (*ndel >= MAX_DELIVERIES - 1)
		return n;
	if (mode == 2) {
		c = pos + 1;
	} else {
		if (*ci >= in->ncuts)
			return n;
		c = in->cuts[*ci];
		c = pos + (mode == 1 ? c + 1 : (c & 7) + 1);
		(*ci)++;
	}
	/* A stream's first delivery is a resync point when it holds a whole
	 * start line: keep the first line whole (resync looks at most 2048
	 * bytes far). */
	if (pos == 0) {
		lf = memchr(s, '\n', n < 2048 ? n : 2048);
		if (lf != NULL && c < (uint32_t)(lf - s) + 1)
			c = (uint32_t)(lf - s) + 1;
	}
	/* Never begin a later delivery with a whole start line: that would
	 * add a resync point the one-delivery run does not have. */
	while (c < n && kapa_http_resync_point(s + c, n - c) != 0)
		c++;
	return c < n ? c : n;
}

static void
run(const struct input *in, int mode)
{
	struct kapa_http *h = tracker();
	const struct kapa_stream_ops *ops = kapa_http_stream_ops();
	_Alignas(16) uint8_t app[KAPA_HTTP_STATE_SIZE + 16];
	struct kapa_conn conn;
	struct kapa_stream_ctx ctx;
	uint32_t ci = 0, pos, end, ndel;
	uint8_t *piece;
	int dir;

	http_log_begin(&logs[mode]);
	memset(app, 0xa5, sizeof(app));		/* OPEN must zero what it uses */
	memset(&conn, 0, sizeof(conn));
	memset(&ctx, 0, sizeof(ctx));
	if (in->flags & 4)
		conn.flags = KAPA_CONN_MIDSTREAM | KAPA_CONN_ROLE_GUESSED;
	ctx.ops_arg = h;
	ctx.app = app;
	ctx.conn = &conn;
	ops->event(&ctx, KAPA_EV_OPEN, 0, 0);

	for (dir = 0; dir < 2; dir++) {
		ctx.dir = (enum kapa_dir)dir;
		ndel = 0;
		for (pos = 0; pos < in->n[dir] && !http_log_left; pos = end) {
			end = next_cut(in, in->s[dir], in->n[dir], pos, mode, &ci,
				       &ndel);
			if (mode == 1 || mode == 3)
				piece = guarded(end - pos);
			else if ((piece = malloc(end - pos)) == NULL)
				FAIL("out of memory\n");
			memcpy(piece, in->s[dir] + pos, end - pos);
			ctx.now_ns += 1000;
			ctx.pkt_ref = piece;
			ops->data(&ctx, pos, piece, end - pos);
			if (mode != 1 && mode != 3)
				free(piece);
			ndel++;
		}
		if ((in->flags & (1u << dir)) && !http_log_left)
			ops->event(&ctx, KAPA_EV_FIN, in->n[dir], 0);
	}
	ops->event(&ctx, KAPA_EV_CLOSE, 0, 0);
}

static void
compare(int a, int b)
{
	if (http_log_same(&logs[a], &logs[b]))
		return;
	FAIL("run %d and run %d disagree\n--- run %d\n%.*s--- run %d\n%.*s",
	     a, b, a, (int)logs[a].len, logs[a].buf, b, (int)logs[b].len,
	     logs[b].buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	decode(data, size, &in);
	run(&in, 0);
	run(&in, 1);
	compare(0, 1);
	if (in.n[0] <= BYTEWISE_MAX && in.n[1] <= BYTEWISE_MAX) {
		run(&in, 2);
		compare(0, 2);
	}
	run(&in, 3);
	compare(0, 3);
	return 0;
}
