/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kapa_gen: HTTP/1.x keep-alive traffic, generated in memory, through a
 * bridge under test (kapa-dp) and back (docs/performance.md, "kapa-dp on
 * ports").
 *
 *   port A (client side)  client->server segments out, server->client in
 *   port B (server side)  server->client segments out, client->server in
 *
 * Every connection runs the same script, one frame per visit, and the
 * connections are visited round-robin, so that N connections really are a
 * working set of N records in the bridge:
 *
 *   SYN (A), SYN-ACK (B), ACK (A), then R times: the request's segments
 *   (A), the response's segments (B) with the client's ACK after every
 *   --ack-every of them and after the last (A); then FIN (A), FIN (B),
 *   ACK (A), and the slot starts a new connection on a new 4-tuple.
 *
 * Before the measured --duration, a ramp opens every slot's first
 * connection (handshakes only, in blocks of --max-half-open), so that the
 * measurement runs with all N connections in the bridge's table from its
 * first frame; at 1M connections, opening them within the round-robin would
 * take most of a run. After the ramp, slot i's first connection has already
 * carried i % R requests and the slot waits i % 3 visits: connections close
 * and reopen evenly over the rounds, and every round mixes requests,
 * responses and ACKs, instead of all slots moving in step.
 *
 * Frames are cheap to build. Every distinct segment payload has a mempool of
 * its own whose mbufs hold that payload, written once at start: with memif
 * in zero-copy mode the bridge only reads them, so a frame is its 54 or 58
 * header bytes, written with both checksums summed from the field values and
 * the payload's sum computed once. (Beyond GEN_MAX_SRCS distinct payloads,
 * the rest are copied into mbufs of the control pool.)
 * Sequence and acknowledgement numbers follow the script exactly (each side
 * acknowledges everything the other sent), so the bridge sees in-order,
 * complete connections.
 *
 * Closed loop: at most --window frames are in flight (sent, not received
 * back). When the bridge is the limit the window stays full and the rate is
 * the bridge's; the generator reports how often that was so, and what a
 * frame costs it, so that a reader sees which side was the limit.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_tcp.h>

#include "kapa_args.h"

#define EXIT_USAGE 2
#define GEN_BURST 32
#define GEN_MAX_MSS 1460	/* 1514-byte frames: what memif and kapa-dp take whole */
#define GEN_MAX_MSG (16u << 20)
#define GEN_CLIENT_NET RTE_IPV4(198, 18, 0, 0)	/* 198.18.0.0/16 */
#define GEN_SERVER_NET RTE_IPV4(198, 19, 0, 0)	/* 198.19.0.1-250 */
#define GEN_SERVERS 250
#define GEN_SERVER_PORT 80
#define GEN_HDR_LEN (RTE_ETHER_HDR_LEN + 20 + 20)
#define GEN_SYN_OPT_LEN 4	/* MSS */
#define GEN_WINDOW_FIELD 65535
#define GEN_MEMPOOL_CACHE 256
/** Mempools with a resident payload at most (the rest are copied). */
#define GEN_MAX_SRCS 16
/** Silence from the bridge this long, with frames in flight: it is not forwarding. */
#define GEN_STALL_S 5

enum gen_phase {
	GEN_SYN,
	GEN_SYNACK,
	GEN_ACK,
	GEN_REQ,
	GEN_RESP,
	GEN_CACK,
	GEN_FIN_C,
	GEN_FIN_S,
	GEN_LAST_ACK,
};

struct gen_opts {
	uint32_t conns;
	uint32_t requests;
	int http10;
	uint32_t req_header;
	uint32_t resp_header;
	const char *server_ka;
	uint32_t body;
	uint32_t mss;
	uint32_t ack_every;
	double duration;
	uint32_t max_half_open;
	uint64_t rate_limit;
	uint32_t window;
	uint32_t drain_ms;
	uint16_t port_a, port_b;
	uint32_t mbufs;
	int hold;
};

/**
 * Where frames come from: a mempool whose mbufs all hold @p bytes after the
 * 54 header bytes (NULL: control frames, or payloads copied in), and a
 * stash refilled in bulk.
 */
struct gen_src {
	struct rte_mempool *pool;
	const uint8_t *bytes;
	uint32_t len;
	uint16_t nstash;
	struct rte_mbuf *stash[GEN_BURST];
};

/** One HTTP message, cut into segments of the MSS. */
struct gen_msg {
	uint8_t *bytes;
	uint32_t len;
	uint32_t hdr_len;
	uint32_t nseg;
	uint16_t *seg_sum;	/* raw (uncomplemented) checksum of each segment */
	struct gen_src **seg_src; /* its pool; the control pool: copy the payload */
};

/** A connection slot: the live connection's place in its script. */
struct gen_conn {
	uint32_t serial;	/* connection number: its 4-tuple and ISNs */
	uint32_t cseq;		/* client's next sequence number */
	uint32_t sseq;		/* server's next sequence number */
	uint32_t seg;		/* segment of the message in hand */
	uint16_t req_done;
	uint8_t phase;
	uint8_t unacked;	/* server segments the client has not acknowledged */
	uint8_t skip;		/* visits left before its first frame after the ramp */
};

struct gen_tuple {
	rte_be32_t cip, sip;
	rte_be16_t cport, sport;
};

struct gen_totals {
	uint64_t sent[2], recv[2];	/* frames, [0] = port A, [1] = port B */
	uint64_t sent_bytes[2], recv_bytes[2];
	uint64_t opened, closed, requests, responses;
};

struct gen {
	struct gen_opts o;
	struct gen_msg req, resp;
	struct gen_conn *conns;
	uint32_t cursor;
	uint64_t rounds;
	uint32_t half_open;		/* SYN sent, the client's ACK not yet */
	uint64_t gated;			/* visits that waited for --max-half-open */
	uint32_t next_serial;
	struct gen_src ctrl;		/* no payload (and copied ones) */
	struct gen_src src[GEN_MAX_SRCS];
	uint16_t nsrc;
	struct rte_mempool *rx_pool;
	uint16_t port[2];
	/* Frames a TX queue did not take yet: sent first, in order. */
	struct rte_mbuf *backlog[2][GEN_BURST];
	uint16_t nbacklog[2];
	struct gen_totals t;
	/* Costs and waits, for the report. */
	uint64_t build_cycles, built, copied;
	uint64_t full_cycles;		/* turns that could not send: window or ring full */
	uint64_t no_mbuf;		/* builds cut short by an empty pool */
};

static volatile int quit;

static void
gen_on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void
gen_usage(FILE *f)
{
	fprintf(f,
		"Usage: kapa_gen [EAL options] -- [options]\n"
		"\n"
		"HTTP/1.x keep-alive connections generated in memory, sent through a bridge\n"
		"(kapa-dp) on two ports and received back. Port A carries the client side,\n"
		"port B the server side. Typical EAL options, kapa-dp being the memif server:\n"
		"  -l 0 --no-pci --file-prefix gen --single-file-segments\n"
		"  --vdev net_memif0,role=client,socket=S,socket-abstract=no,id=0,zero-copy=yes\n"
		"  --vdev net_memif1,role=client,socket=S,socket-abstract=no,id=1,zero-copy=yes\n"
		"\n"
		"Traffic:\n"
		"  --conns N          concurrent connections, visited round-robin (10000)\n"
		"  --requests R       requests per connection, then FIN both ways and a new\n"
		"                     connection on a new 4-tuple in the same slot (10)\n"
		"  --http10           HTTP/1.0 with Connection: keep-alive both ways\n"
		"                     (default HTTP/1.1)\n"
		"  --req-header B     request header block in bytes, start line to the empty\n"
		"                     line, padded with a filler field (300)\n"
		"  --resp-header B    response header block in bytes, likewise (250)\n"
		"  --server-ka VALUE  the server's Keep-Alive field (with Connection:\n"
		"                     keep-alive); '' sends none (\"timeout=75, max=1000\")\n"
		"  --body B           response body in bytes, with Content-Length (1024)\n"
		"  --mss B            segment size, 1..%u; longer messages are split (1460)\n"
		"  --ack-every N      the client acknowledges every N response segments and\n"
		"                     the last one of each response (2)\n"
		"Run:\n"
		"  --duration S       seconds of sending, measured, after the ramp (10)\n"
		"  --max-half-open N  connections between their SYN and the client's ACK at\n"
		"                     most (100000): the ramp opens blocks of this many, and\n"
		"                     later a slot that would open one more waits for a\n"
		"                     later round. A bridge that budgets half-open\n"
		"                     connections (kapa: a table's eighth) would evict the\n"
		"                     rest as a flood\n"
		"  --rate-limit PPS   frames per second at most (0: as fast as the window lets)\n"
		"  --window N         frames in flight at most (1024; at most conns/3, so that\n"
		"                     a connection's frames cannot overtake each other across\n"
		"                     the two ports)\n"
		"  --drain-ms MS      after sending, wait this long for frames in flight (1000)\n"
		"  --ports A,B        the client-side and server-side ports (0,1)\n"
		"  --hold             after the report, keep the ports open (not polled) until\n"
		"                     SIGTERM or SIGINT, so that the bridge stops first: a\n"
		"                     memif server that polls while its client leaves may\n"
		"                     crash (kapa-dp did, once)\n"
		"  --mbufs N          mbufs per mempool (8191); one pool per distinct\n"
		"                     segment payload, one for control frames, one for RX\n"
		"  -h, --help         this text\n"
		"\n"
		"Clients are 198.18.0.0/16, servers 198.19.0.1-250 port 80. Prints how long\n"
		"the ramp took ('kapa_gen: ramp done'), then the frames\n"
		"sent and received every second and in total, frames lost (sent minus received\n"
		"after the drain), the rate through the bridge, what building and sending a\n"
		"frame cost the generator and how often the window was full (the bridge was\n"
		"the limit). Exits non-zero when it cannot run or nothing came back.\n",
		GEN_MAX_MSS);
}

/* ---- options ----------------------------------------------------------------------- */

/* @return 0, 1 for --help, or -EINVAL (message printed). */
static int
gen_parse_opts(int argc, char **argv, struct gen_opts *o)
{
	static const struct option longopts[] = {
		{ "conns", required_argument, NULL, 'c' },
		{ "requests", required_argument, NULL, 'r' },
		{ "http10", no_argument, NULL, '0' },
		{ "req-header", required_argument, NULL, 'q' },
		{ "resp-header", required_argument, NULL, 's' },
		{ "server-ka", required_argument, NULL, 'k' },
		{ "body", required_argument, NULL, 'b' },
		{ "mss", required_argument, NULL, 'm' },
		{ "ack-every", required_argument, NULL, 'a' },
		{ "duration", required_argument, NULL, 'd' },
		{ "max-half-open", required_argument, NULL, 'H' },
		{ "rate-limit", required_argument, NULL, 'l' },
		{ "window", required_argument, NULL, 'w' },
		{ "drain-ms", required_argument, NULL, 'D' },
		{ "ports", required_argument, NULL, 'p' },
		{ "mbufs", required_argument, NULL, 'M' },
		{ "hold", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bad = NULL, *want = NULL;
	char *end;
	int opt, rc;

	memset(o, 0, sizeof(*o));
	o->conns = 10000;
	o->requests = 10;
	o->req_header = 300;
	o->resp_header = 250;
	o->server_ka = "timeout=75, max=1000";
	o->body = 1024;
	o->mss = GEN_MAX_MSS;
	o->ack_every = 2;
	o->duration = 10;
	o->max_half_open = 100000;
	o->window = 1024;
	o->drain_ms = 1000;
	o->port_a = 0;
	o->port_b = 1;
	o->mbufs = 8191;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		rc = 0;
		switch (opt) {
		case 'c':
			rc = kapa_arg_u32(optarg, 1, 1u << 30, &o->conns);
			want = "1..1073741824";
			break;
		case 'r':
			rc = kapa_arg_u32(optarg, 1, 65535, &o->requests);
			want = "1..65535";
			break;
		case '0':
			o->http10 = 1;
			break;
		case 'q':
			rc = kapa_arg_u32(optarg, 1, GEN_MAX_MSG, &o->req_header);
			want = "bytes, at most 16 MiB";
			break;
		case 's':
			rc = kapa_arg_u32(optarg, 1, GEN_MAX_MSG, &o->resp_header);
			want = "bytes, at most 16 MiB";
			break;
		case 'k':
			o->server_ka = optarg;
			break;
		case 'b':
			rc = kapa_arg_u32(optarg, 0, GEN_MAX_MSG, &o->body);
			want = "bytes, at most 16 MiB";
			break;
		case 'm':
			rc = kapa_arg_u32(optarg, 1, GEN_MAX_MSS, &o->mss);
			want = "1..1460";
			break;
		case 'a':
			rc = kapa_arg_u32(optarg, 1, 255, &o->ack_every);
			want = "1..255";
			break;
		case 'd':
			errno = 0;
			o->duration = strtod(optarg, &end);
			rc = errno != 0 || end == optarg || *end != '\0' || !(o->duration > 0) ||
			     o->duration > 86400 ? -EINVAL : 0;
			want = "seconds, more than 0";
			break;
		case 'H':
			rc = kapa_arg_u32(optarg, 1, UINT32_MAX, &o->max_half_open);
			want = "1..4294967295";
			break;
		case 'l':
			rc = kapa_arg_u64(optarg, 0, 1000000000, &o->rate_limit);
			want = "frames per second, 0 for none";
			break;
		case 'w':
			rc = kapa_arg_u32(optarg, 1, 1u << 20, &o->window);
			want = "1..1048576";
			break;
		case 'D':
			rc = kapa_arg_u32(optarg, 0, 600000, &o->drain_ms);
			want = "0..600000";
			break;
		case 'p':
			rc = kapa_arg_pair(optarg, ',', RTE_MAX_ETHPORTS, &o->port_a, &o->port_b);
			want = "two different port numbers A,B";
			break;
		case 'M':
			rc = kapa_arg_u32(optarg, 1023, 1u << 24, &o->mbufs);
			want = "1023..16777216";
			break;
		case 'o':
			o->hold = 1;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
		if (rc != 0) {
			bad = argv[optind - 1];
			fprintf(stderr, "kapa_gen: %s '%s': expected %s\n", bad, optarg, want);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kapa_gen: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* ---- messages ---------------------------------------------------------------------- */

/*
 * Append a header block of exactly @p size bytes to @p buf: @p fields (each
 * ending in CRLF, the start line first), a filler field to make up the size,
 * the empty line. A gap too small for a field of its own lengthens the last
 * field's value instead.
 * @return bytes written, or 0 when @p fields alone are longer than @p size.
 */
static uint32_t
gen_header_block(uint8_t *buf, uint32_t size, const char *fields)
{
	static const char filler[] = "X-Pad: ";
	uint32_t flen = (uint32_t)strlen(fields), need = flen + 2, gap, n;

	if (size < need)
		return 0;
	gap = size - need;
	memcpy(buf, fields, flen);
	n = flen;
	if (gap >= sizeof(filler) - 1 + 2) {
		memcpy(buf + n, filler, sizeof(filler) - 1);
		n += sizeof(filler) - 1;
		memset(buf + n, 'a', gap - (sizeof(filler) - 1) - 2);
		n += gap - (uint32_t)(sizeof(filler) - 1) - 2;
		memcpy(buf + n, "\r\n", 2);
		n += 2;
	} else if (gap > 0) {
		/* Before the last field's CRLF: a longer value. */
		memset(buf + n - 2, 'x', gap);
		n += gap - 2;
		memcpy(buf + n, "\r\n", 2);
		n += 2;
	}
	memcpy(buf + n, "\r\n", 2);
	return n + 2;
}

static int
gen_msg_cut(struct gen_msg *m, uint32_t mss)
{
	uint32_t i, off, len;

	m->nseg = (m->len + mss - 1) / mss;
	m->seg_sum = calloc(m->nseg, sizeof(*m->seg_sum));
	m->seg_src = calloc(m->nseg, sizeof(*m->seg_src));
	if (m->seg_sum == NULL || m->seg_src == NULL)
		return -ENOMEM;
	for (i = 0, off = 0; i < m->nseg; i++, off += mss) {
		len = RTE_MIN(mss, m->len - off);
		m->seg_sum[i] = rte_raw_cksum(m->bytes + off, len);
	}
	return 0;
}

/* The request and the response every exchange carries. @return 0 or -1 (printed). */
static int
gen_msgs_build(struct gen *g)
{
	const struct gen_opts *o = &g->o;
	const char *ver = o->http10 ? "HTTP/1.0" : "HTTP/1.1";
	int ka = o->server_ka[0] != '\0';
	char fields[1024];
	uint32_t n;

	snprintf(fields, sizeof(fields),
		 "GET /bench/object HTTP/1.%c\r\nHost: origin.bench.test\r\n"
		 "Accept: */*\r\n%sUser-Agent: kapa_gen\r\n",
		 o->http10 ? '0' : '1', o->http10 ? "Connection: keep-alive\r\n" : "");
	g->req.bytes = malloc(o->req_header);
	if (g->req.bytes == NULL)
		goto nomem;
	n = gen_header_block(g->req.bytes, o->req_header, fields);
	if (n == 0) {
		fprintf(stderr, "kapa_gen: --req-header %u: the request's own fields take %zu "
			"bytes: give at least that\n", o->req_header, strlen(fields) + 2);
		return -1;
	}
	g->req.len = g->req.hdr_len = n;

	snprintf(fields, sizeof(fields),
		 "%s 200 OK\r\nContent-Type: application/octet-stream\r\n"
		 "Content-Length: %u\r\n%s%s%s%sServer: kapa_gen\r\n",
		 ver, o->body, ka ? "Keep-Alive: " : "", ka ? o->server_ka : "",
		 ka ? "\r\n" : "",
		 ka || o->http10 ? "Connection: keep-alive\r\n" : "");
	g->resp.bytes = malloc((size_t)o->resp_header + o->body);
	if (g->resp.bytes == NULL)
		goto nomem;
	n = gen_header_block(g->resp.bytes, o->resp_header, fields);
	if (n == 0) {
		fprintf(stderr, "kapa_gen: --resp-header %u: the response's own fields take %zu "
			"bytes: give at least that\n", o->resp_header, strlen(fields) + 2);
		return -1;
	}
	memset(g->resp.bytes + n, 'b', o->body);
	g->resp.hdr_len = n;
	g->resp.len = n + o->body;
	if (gen_msg_cut(&g->req, o->mss) != 0 || gen_msg_cut(&g->resp, o->mss) != 0)
		goto nomem;
	return 0;
nomem:
	fprintf(stderr, "kapa_gen: out of memory for the messages\n");
	return -1;
}

/* ---- frame sources ----------------------------------------------------------------- */

struct gen_fill {
	const uint8_t *bytes;
	uint32_t len;
};

/* rte_mempool_obj_iter(): the payload into one mbuf, after the headers. */
static void
gen_fill_one(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	const struct gen_fill *f = arg;
	struct rte_mbuf *m = obj;

	(void)mp;
	(void)idx;
	memcpy((uint8_t *)m->buf_addr + RTE_PKTMBUF_HEADROOM + GEN_HDR_LEN, f->bytes, f->len);
}

static int
gen_src_init(struct gen_src *src, const char *name, uint32_t n, const uint8_t *bytes,
	     uint32_t len)
{
	struct gen_fill f = { .bytes = bytes, .len = len };

	memset(src, 0, sizeof(*src));
	src->pool = rte_pktmbuf_pool_create(name, n, GEN_MEMPOOL_CACHE, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (src->pool == NULL) {
		fprintf(stderr, "kapa_gen: cannot create %u mbufs for %s: %s (hugepages: "
			"scripts/host-prep.sh)\n", n, name, rte_strerror(rte_errno));
		return -1;
	}
	src->bytes = bytes;
	src->len = len;
	if (bytes != NULL)
		rte_mempool_obj_iter(src->pool, gen_fill_one, &f);
	return 0;
}

static void
gen_src_destroy(struct gen_src *src)
{
	if (src->nstash != 0)
		rte_pktmbuf_free_bulk(src->stash, src->nstash);
	rte_mempool_free(src->pool);
	memset(src, 0, sizeof(*src));
}

/* An mbuf of @p src, or NULL when its pool is empty for now. */
static inline struct rte_mbuf *
gen_src_get(struct gen_src *src)
{
	if (src->nstash == 0) {
		if (rte_pktmbuf_alloc_bulk(src->pool, src->stash, GEN_BURST) != 0)
			return NULL;
		src->nstash = GEN_BURST;
	}
	return src->stash[--src->nstash];
}

/*
 * A source for every segment of @p msg: a pool holding a payload that
 * starts with the segment's bytes (the body's later segments share one),
 * or the control pool beyond GEN_MAX_SRCS. @return 0 or -1 (printed).
 */
static int
gen_msg_sources(struct gen *g, struct gen_msg *msg, const char *what)
{
	uint32_t j, k, off, len;
	char name[RTE_MEMPOOL_NAMESIZE];

	for (j = 0; j < msg->nseg; j++) {
		off = j * g->o.mss;
		len = RTE_MIN(g->o.mss, msg->len - off);
		for (k = 0; k < g->nsrc; k++)
			if (g->src[k].len >= len && memcmp(g->src[k].bytes, msg->bytes + off, len) == 0)
				break;
		if (k == g->nsrc && g->nsrc < GEN_MAX_SRCS) {
			snprintf(name, sizeof(name), "kapa_gen_%s%u", what, j);
			if (gen_src_init(&g->src[k], name, g->o.mbufs, msg->bytes + off, len) != 0)
				return -1;
			g->nsrc++;
		}
		msg->seg_src[j] = k < g->nsrc ? &g->src[k] : &g->ctrl;
	}
	return 0;
}

/* ---- frames ------------------------------------------------------------------------ */

static inline void
gen_tuple_of(uint32_t serial, struct gen_tuple *t)
{
	/* 65536 clients x 64512 ports: unique for 4.2 billion connections. */
	t->cip = rte_cpu_to_be_32(GEN_CLIENT_NET | (serial & 0xffff));
	t->cport = rte_cpu_to_be_16((uint16_t)(1024 + (serial >> 16) % 64512));
	t->sip = rte_cpu_to_be_32(GEN_SERVER_NET | (1 + serial % GEN_SERVERS));
	t->sport = rte_cpu_to_be_16(GEN_SERVER_PORT);
}

static inline uint32_t
gen_isn_client(uint32_t serial)
{
	return serial * 2654435761u + 0x6b617061u;
}

static inline uint32_t
gen_isn_server(uint32_t serial)
{
	return (serial ^ 0x9e3779b9u) * 2246822519u;
}

/* A one's complement sum of 16-bit words, folded to 16 bits. */
static inline uint16_t
gen_fold(uint64_t s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static const struct rte_ether_addr gen_mac_client = {{ 0x02, 0x6b, 0x67, 0x00, 0x00, 0x01 }};
static const struct rte_ether_addr gen_mac_server = {{ 0x02, 0x6b, 0x67, 0x00, 0x00, 0x02 }};

/*
 * The headers of one frame into @p m: Ethernet, IPv4, TCP (+ the MSS option
 * on a SYN) before @p plen payload bytes whose raw checksum is @p plsum
 * (the payload is already there, or copied by the caller).
 *
 * Both checksums are summed from the values written, not read back: the sum
 * of 16-bit words in memory order equals the sum of the same bytes taken as
 * native 32-bit words, folded, and a big-endian constant is its memory order.
 */
static inline void
gen_frame(struct rte_mbuf *m, const struct gen_tuple *t, int from_server, uint32_t seq,
	  uint32_t ack, uint8_t flags, uint16_t plen, uint16_t plsum, uint16_t mss)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)d;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(ip + 1);
	const int syn = (flags & RTE_TCP_SYN_FLAG) != 0;
	const uint16_t thl = (uint16_t)(20 + (syn ? GEN_SYN_OPT_LEN : 0));
	const rte_be32_t src = from_server ? t->sip : t->cip, dst = from_server ? t->cip : t->sip;
	const rte_be16_t sport = from_server ? t->sport : t->cport;
	const rte_be16_t dport = from_server ? t->cport : t->sport;
	const rte_be32_t bseq = rte_cpu_to_be_32(seq), back = rte_cpu_to_be_32(ack);
	const rte_be16_t tot = rte_cpu_to_be_16((uint16_t)(20 + thl + plen));
	const rte_be16_t offflags = rte_cpu_to_be_16((uint16_t)((thl / 4) << 12 | flags));
	uint64_t s;

	eth->dst_addr = from_server ? gen_mac_client : gen_mac_server;
	eth->src_addr = from_server ? gen_mac_server : gen_mac_client;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = tot;
	ip->packet_id = 0;
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = src;
	ip->dst_addr = dst;
	s = (uint64_t)RTE_BE16(RTE_IPV4_VHL_DEF << 8) + tot + RTE_BE16(RTE_IPV4_HDR_DF_FLAG) +
	    RTE_BE16(64 << 8 | IPPROTO_TCP) + src + dst;
	ip->hdr_checksum = (uint16_t)~gen_fold(s);

	tcp->src_port = sport;
	tcp->dst_port = dport;
	tcp->sent_seq = bseq;
	tcp->recv_ack = back;
	tcp->data_off = (uint8_t)((thl / 4) << 4);
	tcp->tcp_flags = flags;
	tcp->rx_win = RTE_BE16(GEN_WINDOW_FIELD);
	tcp->tcp_urp = 0;
	/* Pseudo-header, then the header's words, then the payload's sum. */
	s = (uint64_t)src + dst + RTE_BE16(IPPROTO_TCP) +
	    rte_cpu_to_be_16((uint16_t)(thl + plen)) +
	    sport + dport + bseq + back + offflags + RTE_BE16(GEN_WINDOW_FIELD) + plsum;
	if (syn) {
		uint8_t *opt = (uint8_t *)(tcp + 1);

		opt[0] = 2;	/* MSS, length 4 */
		opt[1] = 4;
		opt[2] = (uint8_t)(mss >> 8);
		opt[3] = (uint8_t)mss;
		s += RTE_BE16(2 << 8 | 4) + rte_cpu_to_be_16(mss);
	}
	tcp->cksum = (uint16_t)~gen_fold(s);
	m->data_len = (uint16_t)(GEN_HDR_LEN + (syn ? GEN_SYN_OPT_LEN : 0) + plen);
	m->pkt_len = m->data_len;
}

/* A control frame (no payload) of @p c. @return it, or NULL: no mbuf now. */
static inline struct rte_mbuf *
gen_ctrl(struct gen *g, const struct gen_tuple *t, int from_server, uint32_t seq,
	 uint32_t ack, uint8_t flags)
{
	struct rte_mbuf *m = gen_src_get(&g->ctrl);

	if (m != NULL)
		gen_frame(m, t, from_server, seq, ack, flags, 0, 0, (uint16_t)g->o.mss);
	return m;
}

/* Segment @p seg of @p msg. @return it, or NULL: no mbuf now. */
static inline struct rte_mbuf *
gen_seg(struct gen *g, const struct gen_tuple *t, int from_server, uint32_t seq,
	uint32_t ack, const struct gen_msg *msg, uint32_t seg)
{
	uint32_t off = seg * g->o.mss, len = RTE_MIN(g->o.mss, msg->len - off);
	uint8_t flags = RTE_TCP_ACK_FLAG | (seg + 1 == msg->nseg ? RTE_TCP_PSH_FLAG : 0);
	struct gen_src *src = msg->seg_src[seg];
	struct rte_mbuf *m = gen_src_get(src);

	if (m == NULL)
		return NULL;
	if (src->bytes == NULL) {
		rte_memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, GEN_HDR_LEN), msg->bytes + off, len);
		g->copied++;
	}
	gen_frame(m, t, from_server, seq, ack, flags, (uint16_t)len, msg->seg_sum[seg], 0);
	return m;
}

/*
 * The next frame of connection @p c, and the connection one step on.
 * @return the frame (*side: 0 = client, port A; 1 = server, port B), or
 * NULL when its pool is empty for now (the connection did not move).
 */
static struct rte_mbuf *
gen_step(struct gen *g, struct gen_conn *c, int *side)
{
	struct rte_mbuf *m;
	struct gen_tuple t;
	uint32_t len;

	gen_tuple_of(c->serial, &t);
	*side = 0;
	switch (c->phase) {
	case GEN_SYN:
		m = gen_ctrl(g, &t, 0, gen_isn_client(c->serial), 0, RTE_TCP_SYN_FLAG);
		if (m == NULL)
			return NULL;
		c->cseq = gen_isn_client(c->serial) + 1;
		c->phase = GEN_SYNACK;
		g->t.opened++;
		g->half_open++;
		return m;
	case GEN_SYNACK:
		m = gen_ctrl(g, &t, 1, gen_isn_server(c->serial), c->cseq,
			     RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
		if (m == NULL)
			return NULL;
		c->sseq = gen_isn_server(c->serial) + 1;
		c->phase = GEN_ACK;
		*side = 1;
		return m;
	case GEN_ACK:
		m = gen_ctrl(g, &t, 0, c->cseq, c->sseq, RTE_TCP_ACK_FLAG);
		if (m == NULL)
			return NULL;
		c->phase = GEN_REQ;
		c->seg = 0;
		g->half_open--;
		return m;
	case GEN_REQ:
		m = gen_seg(g, &t, 0, c->cseq, c->sseq, &g->req, c->seg);
		if (m == NULL)
			return NULL;
		c->cseq += m->pkt_len - GEN_HDR_LEN;
		if (++c->seg == g->req.nseg) {
			c->phase = GEN_RESP;
			c->seg = 0;
			c->unacked = 0;
			g->t.requests++;
		}
		return m;
	case GEN_RESP:
		m = gen_seg(g, &t, 1, c->sseq, c->cseq, &g->resp, c->seg);
		if (m == NULL)
			return NULL;
		len = m->pkt_len - GEN_HDR_LEN;
		c->sseq += len;
		c->seg++;
		if (++c->unacked >= g->o.ack_every || c->seg == g->resp.nseg)
			c->phase = GEN_CACK;
		*side = 1;
		return m;
	case GEN_CACK:
		m = gen_ctrl(g, &t, 0, c->cseq, c->sseq, RTE_TCP_ACK_FLAG);
		if (m == NULL)
			return NULL;
		c->unacked = 0;
		if (c->seg < g->resp.nseg) {
			c->phase = GEN_RESP;
			return m;
		}
		g->t.responses++;
		c->seg = 0;
		c->phase = ++c->req_done == g->o.requests ? GEN_FIN_C : GEN_REQ;
		return m;
	case GEN_FIN_C:
		m = gen_ctrl(g, &t, 0, c->cseq, c->sseq, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG);
		if (m == NULL)
			return NULL;
		c->cseq++;
		c->phase = GEN_FIN_S;
		return m;
	case GEN_FIN_S:
		m = gen_ctrl(g, &t, 1, c->sseq, c->cseq, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG);
		if (m == NULL)
			return NULL;
		c->sseq++;
		c->phase = GEN_LAST_ACK;
		*side = 1;
		return m;
	case GEN_LAST_ACK:
	default:
		m = gen_ctrl(g, &t, 0, c->cseq, c->sseq, RTE_TCP_ACK_FLAG);
		if (m == NULL)
			return NULL;
		g->t.closed++;
		/* The slot's next connection, on the next visit. */
		memset(c, 0, sizeof(*c));
		c->serial = g->next_serial++;
		c->phase = GEN_SYN;
		return m;
	}
}

/*
 * Check the frames against DPDK's own checksum functions before sending
 * any: a SYN, the first request and response segments, a FIN.
 * @return 0, or -1 (printed).
 */
static int
gen_selftest(struct gen *g)
{
	struct gen_conn c = { .serial = 12345, .phase = GEN_SYN };
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;
	int side, i, bad = 0;

	for (i = 0; i < 3 + 3 * (int)g->o.requests + 3; i++) {
		m = gen_step(g, &c, &side);
		if (m == NULL) {
			fprintf(stderr, "kapa_gen: self-test: no mbuf\n");
			return -1;
		}
		ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
		if (rte_raw_cksum(ip, sizeof(*ip)) != 0xffff)
			bad |= 1;
		if (rte_ipv4_udptcp_cksum_verify(ip, ip + 1) != 0)
			bad |= 2;
		rte_pktmbuf_free(m);
		if (bad) {
			fprintf(stderr, "kapa_gen: self-test: frame %d of a connection has a wrong "
				"%s checksum (a bug in gen_frame())\n", i, bad & 1 ? "IPv4" : "TCP");
			return -1;
		}
	}
	g->t.opened = g->t.closed = g->t.requests = g->t.responses = 0;
	g->half_open = 0;
	return 0;
}

/* ---- ports ------------------------------------------------------------------------- */

static int
gen_port_setup(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf;
	int rc;

	if (!rte_eth_dev_is_valid_port(port)) {
		fprintf(stderr, "kapa_gen: port %u does not exist (%u ports: give both with --vdev "
			"or -a in the EAL options)\n", port, rte_eth_dev_count_avail());
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, 1024, (unsigned)rte_eth_dev_socket_id(port),
					    NULL, pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, 1024, (unsigned)rte_eth_dev_socket_id(port),
					    NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc != 0) {
		fprintf(stderr, "kapa_gen: port %u: cannot configure and start it: %s\n", port,
			rte_strerror(-rc));
		return -1;
	}
	return 0;
}

/* Both links up (memif: connected to its peer), or -1 after 10 s (printed). */
static int
gen_wait_links(const struct gen *g)
{
	uint64_t deadline = rte_get_tsc_cycles() + 10 * rte_get_tsc_hz();
	struct rte_eth_link link;
	int p, up;

	do {
		up = 0;
		for (p = 0; p < 2; p++)
			if (rte_eth_link_get_nowait(g->port[p], &link) == 0 &&
			    link.link_status == RTE_ETH_LINK_UP)
				up++;
		if (up == 2)
			return 0;
		rte_delay_us_sleep(10000);
	} while (!quit && rte_get_tsc_cycles() < deadline);
	for (p = 0; p < 2; p++)
		if (rte_eth_link_get_nowait(g->port[p], &link) != 0 ||
		    link.link_status != RTE_ETH_LINK_UP)
			fprintf(stderr, "kapa_gen: port %u (%s) is not up after 10 s: is the bridge "
				"running, with the other end of the link (memif: role=server on the "
				"same socket and id)?\n", g->port[p], p == 0 ? "A" : "B");
	return -1;
}

/* ---- the loop ---------------------------------------------------------------------- */

static inline uint64_t
gen_sent(const struct gen *g)
{
	return g->t.sent[0] + g->t.sent[1];
}

static inline uint64_t
gen_recv(const struct gen *g)
{
	return g->t.recv[0] + g->t.recv[1];
}

static void
gen_receive(struct gen *g)
{
	struct rte_mbuf *rx[GEN_BURST];
	uint16_t n, i;
	int p;

	for (p = 0; p < 2; p++) {
		n = rte_eth_rx_burst(g->port[p], 0, rx, GEN_BURST);
		if (n == 0)
			continue;
		g->t.recv[p] += n;
		for (i = 0; i < n; i++)
			g->t.recv_bytes[p] += rx[i]->pkt_len;
		rte_pktmbuf_free_bulk(rx, n);
	}
}

/* Send what waits in the backlogs. @return 1 when both are empty. */
static int
gen_flush(struct gen *g)
{
	uint16_t n, i;
	int p;

	for (p = 0; p < 2; p++) {
		if (g->nbacklog[p] == 0)
			continue;
		n = rte_eth_tx_burst(g->port[p], 0, g->backlog[p], g->nbacklog[p]);
		for (i = 0; i < n; i++)
			g->t.sent_bytes[p] += g->backlog[p][i]->pkt_len;
		g->t.sent[p] += n;
		if (n < g->nbacklog[p])
			memmove(g->backlog[p], g->backlog[p] + n,
				(g->nbacklog[p] - n) * sizeof(g->backlog[p][0]));
		g->nbacklog[p] = (uint16_t)(g->nbacklog[p] - n);
	}
	return g->nbacklog[0] == 0 && g->nbacklog[1] == 0;
}

/* Up to @p n frames of the next connections into the backlogs (fewer when a
 * pool is empty for now). @return frames built. */
static uint16_t
gen_build(struct gen *g, uint16_t n)
{
	uint64_t t0 = rte_get_tsc_cycles();
	struct rte_mbuf *m;
	uint16_t i;
	int side;

	for (i = 0; i < n; ) {
		struct gen_conn *c = &g->conns[g->cursor];

		if (unlikely(c->skip != 0)) {
			c->skip--;
		} else if (unlikely(c->phase == GEN_SYN && g->half_open >= g->o.max_half_open)) {
			g->gated++;
		} else {
			m = gen_step(g, c, &side);
			if (m == NULL) {
				g->no_mbuf++;
				break;
			}
			g->backlog[side][g->nbacklog[side]++] = m;
			i++;
		}
		if (++g->cursor == g->o.conns) {
			g->cursor = 0;
			g->rounds++;
		}
	}
	g->build_cycles += rte_get_tsc_cycles() - t0;
	g->built += i;
	return i;
}

struct gen_mark {
	uint64_t tsc, sent, recv;
};

static void
gen_mark(const struct gen *g, struct gen_mark *k, uint64_t tsc)
{
	k->tsc = tsc;
	k->sent = gen_sent(g);
	k->recv = gen_recv(g);
}

struct gen_result {
	struct gen_mark ramp, start, end, drained;
	int stalled;
};

/*
 * One frame of every slot in [lo, hi) (its next handshake step) within the
 * window, then wait until every frame in flight has come back: the next
 * step's frames, on the other port, cannot overtake these in the bridge.
 * @return 0, or -1 when the bridge stopped forwarding (r->stalled) or a
 * signal came.
 */
static int
gen_ramp_step(struct gen *g, struct gen_result *r, uint32_t lo, uint32_t hi)
{
	const uint64_t hz = rte_get_tsc_hz();
	uint64_t now, inflight, progress_at = gen_recv(g), last_progress = rte_get_tsc_cycles();
	struct rte_mbuf *m;
	uint32_t i = lo, n, room;
	int side;

	while (!quit) {
		gen_receive(g);
		if (gen_flush(g) && i < hi) {
			inflight = gen_sent(g) - gen_recv(g);
			room = inflight < g->o.window ? (uint32_t)(g->o.window - inflight) : 0;
			/* At most a burst: the backlogs hold GEN_BURST frames each. */
			room = RTE_MIN(room, (uint32_t)GEN_BURST);
			for (n = 0; n < room && i < hi; n++, i++) {
				m = gen_step(g, &g->conns[i], &side);
				if (m == NULL) {
					g->no_mbuf++;
					break;
				}
				g->backlog[side][g->nbacklog[side]++] = m;
			}
			gen_flush(g);
		}
		if (i == hi && g->nbacklog[0] == 0 && g->nbacklog[1] == 0 &&
		    gen_sent(g) == gen_recv(g))
			return 0;
		now = rte_get_tsc_cycles();
		if (gen_recv(g) != progress_at || gen_sent(g) == gen_recv(g)) {
			progress_at = gen_recv(g);
			last_progress = now;
		} else if (now - last_progress > GEN_STALL_S * hz) {
			r->stalled = 1;
			return -1;
		}
	}
	return -1;
}

/*
 * The ramp: every slot's first handshake, in blocks of --max-half-open
 * slots (SYNs, SYN-ACKs, ACKs, each step of a block complete before the
 * next). Then the slots are spread (see the top of the file).
 * @return 0, or -1 (stalled or interrupted).
 */
static int
gen_ramp(struct gen *g, struct gen_result *r)
{
	const uint32_t block = RTE_MIN(g->o.max_half_open, g->o.conns);
	uint32_t lo, hi, i;
	int step;

	gen_mark(g, &r->ramp, rte_get_tsc_cycles());
	for (lo = 0; lo < g->o.conns; lo = hi) {
		hi = lo + RTE_MIN(block, g->o.conns - lo);
		for (step = 0; step < 3; step++)
			if (gen_ramp_step(g, r, lo, hi) != 0)
				return -1;
	}
	/* Every exchange is 3 frames (request, response, ACK) with the default
	 * sizes: slots that all start at their first request would stay in
	 * step, every round all requests, then all responses, then all ACKs,
	 * and close together R rounds later. A third wait one round, a third
	 * two, and slot i's first connection has carried i % R requests. */
	for (i = 0; i < g->o.conns; i++) {
		g->conns[i].req_done = (uint16_t)(i % g->o.requests);
		g->conns[i].skip = (uint8_t)(i % 3);
	}
	return 0;
}

static void
gen_print_second(const struct gen *g, const struct gen_result *r, struct gen_mark *last,
		 uint64_t now)
{
	const double hz = (double)rte_get_tsc_hz();
	double sec = (double)(now - last->tsc) / hz;
	struct gen_mark m;

	gen_mark(g, &m, now);
	printf("kapa_gen: %6.1f s: sent %9.0f/s, received %9.0f/s, in flight %" PRIu64
	       ", round %" PRIu64 "\n", (double)(now - r->start.tsc) / hz,
	       (double)(m.sent - last->sent) / sec, (double)(m.recv - last->recv) / sec,
	       m.sent - m.recv, g->rounds);
	fflush(stdout);
	*last = m;
}

/* The ramp, then --duration seconds of sending, then the drain. */
static void
gen_run(struct gen *g, struct gen_result *r)
{
	const uint64_t hz = rte_get_tsc_hz();
	uint64_t end;
	/* Bursts of a quarter of the window at least: no trickle of single
	 * frames when the window is the limit (any size under a rate limit). */
	const uint32_t quarter = g->o.rate_limit != 0 ? 1 : RTE_MAX(1u, g->o.window / 4);
	const uint16_t min_batch = (uint16_t)RTE_MIN((uint32_t)GEN_BURST, quarter);
	uint64_t now, prev, tokens = GEN_BURST, last_fill, next_report, last_progress;
	uint64_t inflight, room, add, progress_at = 0;
	struct gen_mark last;

	if (gen_ramp(g, r) != 0) {
		gen_mark(g, &r->start, rte_get_tsc_cycles());
		r->end = r->drained = r->start;
		return;
	}
	gen_mark(g, &r->start, rte_get_tsc_cycles());
	/* The benchmark script marks the bridge's counters at this line. */
	printf("kapa_gen: ramp done: %u connections open after %.2f s (%" PRIu64 " frames); "
	       "measuring for %.1f s\n", g->o.conns,
	       (double)(r->start.tsc - r->ramp.tsc) / (double)hz, r->start.sent - r->ramp.sent,
	       g->o.duration);
	fflush(stdout);
	end = r->start.tsc + (uint64_t)(g->o.duration * (double)hz);
	last = r->start;
	prev = last_fill = last_progress = r->start.tsc;
	next_report = r->start.tsc + hz;
	while (!quit) {
		now = rte_get_tsc_cycles();
		if (now >= end)
			break;
		gen_receive(g);
		inflight = gen_sent(g) - gen_recv(g);
		room = inflight < g->o.window ? g->o.window - inflight : 0;
		if (g->o.rate_limit != 0) {
			/* Whole frames only: the clock moves on by what they took. */
			add = (now - last_fill) * g->o.rate_limit / hz;
			if (add != 0) {
				tokens = RTE_MIN(tokens + add, (uint64_t)GEN_BURST);
				last_fill = add >= GEN_BURST ? now :
					    last_fill + add * hz / g->o.rate_limit;
			}
			room = RTE_MIN(room, tokens);
		}
		if (!gen_flush(g)) {
			/* A TX ring is full: the bridge has not taken the last ones. */
			g->full_cycles += now - prev;
		} else if (room < min_batch) {
			if (inflight + min_batch > g->o.window)
				g->full_cycles += now - prev;
		} else {
			room = RTE_MIN(room, (uint64_t)GEN_BURST);
			room = gen_build(g, (uint16_t)room);
			if (g->o.rate_limit != 0)
				tokens -= RTE_MIN(tokens, room);
			gen_flush(g);
		}
		prev = now;
		if (gen_recv(g) != progress_at || gen_sent(g) == gen_recv(g)) {
			progress_at = gen_recv(g);
			last_progress = now;
		} else if (now - last_progress > GEN_STALL_S * hz) {
			r->stalled = 1;
			break;
		}
		if (now >= next_report) {
			gen_print_second(g, r, &last, now);
			next_report += hz;
		}
	}
	gen_mark(g, &r->end, rte_get_tsc_cycles());

	/* Drain: what is still in flight, for up to --drain-ms. */
	now = rte_get_tsc_cycles();
	while (rte_get_tsc_cycles() - now < (uint64_t)g->o.drain_ms * hz / 1000) {
		gen_flush(g);
		gen_receive(g);
		if (gen_sent(g) == gen_recv(g) && g->nbacklog[0] == 0 && g->nbacklog[1] == 0)
			break;
	}
	gen_mark(g, &r->drained, rte_get_tsc_cycles());
}

static double
gen_rate(const struct gen_mark *a, const struct gen_mark *b)
{
	double s = (double)(b->tsc - a->tsc) / (double)rte_get_tsc_hz();

	return s > 0 ? (double)(b->recv - a->recv) / s : 0;
}

/* @return the exit status. */
static int
gen_report(const struct gen *g, const struct gen_result *r)
{
	const double hz = (double)rte_get_tsc_hz();
	const struct gen_totals *t = &g->t;
	double secs = (double)(r->end.tsc - r->start.tsc) / hz;
	double rate = gen_rate(&r->start, &r->end);
	double ramp_s = (double)(r->start.tsc - r->ramp.tsc) / hz;
	double build_ns = g->built ? (double)g->build_cycles / (double)g->built / hz * 1e9 : 0;
	double full = secs > 0 ? 100.0 * (double)g->full_cycles / hz / secs : 0;
	/* Negative when the bridge sent frames of its own (RSTs it crafted). */
	int64_t lost = (int64_t)(gen_sent(g) - gen_recv(g));

	printf("kapa_gen: %s, %u connections x %u requests, request %u B, response %u + %u B, "
	       "MSS %u: %u + %u segments per exchange, %u payload pools\n",
	       g->o.http10 ? "HTTP/1.0 keep-alive" : "HTTP/1.1", g->o.conns, g->o.requests,
	       g->req.len, g->resp.hdr_len, g->o.body, g->o.mss, g->req.nseg, g->resp.nseg,
	       g->nsrc);
	printf("kapa_gen: sent %" PRIu64 " frames: %" PRIu64 " in the ramp (%.2f s), %" PRIu64
	       " in the %.2f s measured (A %" PRIu64 ", B %" PRIu64 "; %" PRIu64 " bytes in all); "
	       "received %" PRIu64 " (on A %" PRIu64 ", on B %" PRIu64 "; %" PRIu64 " bytes) "
	       "after a drain of %.3f s\n",
	       gen_sent(g), r->start.sent - r->ramp.sent, ramp_s, r->end.sent - r->start.sent,
	       secs, t->sent[0], t->sent[1], t->sent_bytes[0] + t->sent_bytes[1],
	       gen_recv(g), t->recv[0], t->recv[1], t->recv_bytes[0] + t->recv_bytes[1],
	       (double)(r->drained.tsc - r->end.tsc) / hz);
	printf("kapa_gen: lost %" PRId64 " frames (sent minus received); bytes A->B %+" PRId64
	       ", B->A %+" PRId64 " (what the bridge inserted or removed)\n", lost,
	       (int64_t)(t->recv_bytes[1] - t->sent_bytes[0]),
	       (int64_t)(t->recv_bytes[0] - t->sent_bytes[1]));
	printf("kapa_gen: connections opened %" PRIu64 ", closed %" PRIu64 "; requests %" PRIu64
	       ", responses %" PRIu64 "; %" PRIu64 " rounds over the connections; %" PRIu64
	       " openings waited for --max-half-open %u\n", t->opened, t->closed, t->requests,
	       t->responses, g->rounds, g->gated, g->o.max_half_open);
	printf("kapa_gen: through the bridge: %.0f frames/s over the %.2f s measured, every "
	       "connection open\n", rate, secs);
	printf("kapa_gen: generator: %.1f ns to build a frame (%" PRIu64 " payloads copied, %"
	       PRIu64 " builds short of mbufs); waited with the window of %u full %.1f%% of the "
	       "time: %s\n", build_ns, g->copied, g->no_mbuf, g->o.window, full,
	       full >= 25 ? "the bridge was the limit" :
	       "the generator (or its core) may have been the limit, not the bridge");
	printf("kapa_gen: result frames_per_s=%.0f sent=%" PRIu64 " received=%" PRIu64
	       " lost=%" PRId64 " build_ns=%.1f window_full_pct=%.1f seconds=%.3f ramp_s=%.2f\n",
	       rate, gen_sent(g), gen_recv(g), lost, build_ns, full, secs, ramp_s);
	fflush(stdout);
	if (gen_recv(g) == 0) {
		fprintf(stderr, "kapa_gen: nothing came back: the bridge forwarded no frame\n");
		return EXIT_FAILURE;
	}
	if (r->stalled) {
		fprintf(stderr, "kapa_gen: nothing came back for %d s with %" PRId64 " frames in "
			"flight: the bridge stopped forwarding\n", GEN_STALL_S, lost);
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

static int
gen_init(struct gen *g)
{
	uint32_t i;

	if (gen_msgs_build(g) != 0)
		return -1;
	/* The two ports' rings are apart: a connection's next frame must not
	 * overtake its previous one, which is a round back: at least a third of
	 * the connections' frames back, in the first rounds after the ramp (a
	 * third of the slots wait one round, a third two). */
	if (g->o.window > RTE_MAX(1u, g->o.conns / 3)) {
		g->o.window = RTE_MAX(1u, g->o.conns / 3);
		printf("kapa_gen: window lowered to %u (a third of the connections)\n",
		       g->o.window);
	}
	if (g->o.window > RTE_MAX(1u, g->o.max_half_open / 2)) {
		/* Rounds of gated openings are as short as the half-open count. */
		g->o.window = RTE_MAX(1u, g->o.max_half_open / 2);
		printf("kapa_gen: window lowered to %u (half of --max-half-open)\n", g->o.window);
	}
	if (g->o.window > g->o.mbufs / 2) {
		g->o.window = g->o.mbufs / 2;
		printf("kapa_gen: window lowered to %u (half of --mbufs)\n", g->o.window);
	}
	g->conns = calloc(g->o.conns, sizeof(*g->conns));
	if (g->conns == NULL) {
		fprintf(stderr, "kapa_gen: no memory for %u connections\n", g->o.conns);
		return -1;
	}
	/* Every slot starts with a SYN, in the ramp (gen_ramp() spreads them
	 * over the rounds after it). */
	for (i = 0; i < g->o.conns; i++) {
		g->conns[i].serial = i;
		g->conns[i].phase = GEN_SYN;
	}
	g->next_serial = g->o.conns;
	/* Every pool before the ports start: memif's zero-copy client shares
	 * the memory there is when it connects. */
	if (gen_src_init(&g->ctrl, "kapa_gen_ctrl", g->o.mbufs, NULL, 0) != 0 ||
	    gen_msg_sources(g, &g->req, "req") != 0 || gen_msg_sources(g, &g->resp, "resp") != 0)
		return -1;
	g->rx_pool = rte_pktmbuf_pool_create("kapa_gen_rx", g->o.mbufs, GEN_MEMPOOL_CACHE, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (g->rx_pool == NULL) {
		fprintf(stderr, "kapa_gen: cannot create %u mbufs for RX: %s (hugepages: "
			"scripts/host-prep.sh)\n", g->o.mbufs, rte_strerror(rte_errno));
		return -1;
	}
	if (gen_selftest(g) != 0)
		return -1;
	g->next_serial = g->o.conns;
	g->port[0] = g->o.port_a;
	g->port[1] = g->o.port_b;
	if (gen_port_setup(g->port[0], g->rx_pool) != 0 ||
	    gen_port_setup(g->port[1], g->rx_pool) != 0)
		return -1;
	return gen_wait_links(g);
}

static void
gen_destroy(struct gen *g)
{
	uint16_t i;

	if (g->nbacklog[0] != 0)
		rte_pktmbuf_free_bulk(g->backlog[0], g->nbacklog[0]);
	if (g->nbacklog[1] != 0)
		rte_pktmbuf_free_bulk(g->backlog[1], g->nbacklog[1]);
	if (g->rx_pool != NULL) {
		rte_eth_dev_stop(g->port[0]);
		rte_eth_dev_stop(g->port[1]);
		rte_eth_dev_close(g->port[0]);
		rte_eth_dev_close(g->port[1]);
		rte_mempool_free(g->rx_pool);
	}
	for (i = 0; i < g->nsrc; i++)
		gen_src_destroy(&g->src[i]);
	if (g->ctrl.pool != NULL)
		gen_src_destroy(&g->ctrl);
	free(g->conns);
	free(g->req.bytes);
	free(g->req.seg_sum);
	free(g->req.seg_src);
	free(g->resp.bytes);
	free(g->resp.seg_sum);
	free(g->resp.seg_src);
}

int
main(int argc, char **argv)
{
	static struct gen g;
	struct gen_result r;
	int rc, status = EXIT_FAILURE;

	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "kapa_gen: DPDK EAL did not start: %s (hugepages: "
			"scripts/host-prep.sh)\n", rte_strerror(rte_errno));
		return EXIT_FAILURE;
	}
	argc -= rc;
	argv += rc;
	argv[0] = (char *)"kapa_gen";
	rc = gen_parse_opts(argc, argv, &g.o);
	if (rc != 0) {
		gen_usage(rc > 0 ? stdout : stderr);
		rte_eal_cleanup();
		return rc > 0 ? EXIT_SUCCESS : EXIT_USAGE;
	}
	signal(SIGINT, gen_on_signal);
	signal(SIGTERM, gen_on_signal);
	if (gen_init(&g) == 0) {
		printf("kapa_gen: ports %u (A, client side) and %u (B, server side) up; sending for "
		       "%.1f s\n", g.port[0], g.port[1], g.o.duration);
		fflush(stdout);
		memset(&r, 0, sizeof(r));
		gen_run(&g, &r);
		status = gen_report(&g, &r);
		if (quit) {
			printf("kapa_gen: interrupted\n");
			status = EXIT_FAILURE;
		} else if (g.o.hold) {
			printf("kapa_gen: holding the ports until SIGTERM\n");
			fflush(stdout);
			for (rc = 0; !quit && rc < 60000; rc++)
				rte_delay_us_sleep(10000);
		}
	}
	gen_destroy(&g);
	rte_eal_cleanup();
	return status;
}
