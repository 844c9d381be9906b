/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the actions cost (docs/performance.md, "Actions"):
 *
 *   bench_engine corpus FILE...   every frame of the captures (read into
 *       memory first) through one path, each in its own function so that
 *       callgrind --toggle-collect counts it alone:
 *         run_tracker    the TCP core and the tracker, as before the engine
 *         run_none       the engine without a policy
 *         run_observe    the engine, mode=observe with limits (decisions
 *                        taken on every event, nothing done)
 *         run_csum       the engine without a policy, every TCP checksum
 *                        verified in software (kapa-dp's default on ports
 *                        that give no verdict)
 *   bench_engine exchange         keep-alive exchanges (one request and one
 *       response segment each, then the client's ACK) on many connections:
 *         run_x_observe  mode=observe (the responses of run_x_insert)
 *         run_x_observe_ka  mode=observe (the responses of run_x_rewrite)
 *         run_x_rewrite  mode=advertise over the server's own Keep-Alive:
 *                        one rewrite in place per response
 *         run_x_insert   mode=advertise, the server sends none: one
 *                        insertion per response, every later segment
 *                        shifted and every ACK translated
 *         run_x_csum     run_x_observe with every TCP checksum verified
 *   bench_engine csum             the software check alone
 *       (kapa_csum_tcp_ok(): the pseudo-header and rte_raw_cksum) against
 *       the same sum byte at a time (kapa_csum_add(), the edits' helper),
 *       on IPv4 segments of 0, 100, 536 and 1448 payload bytes.
 *
 * --variant NAME runs one path only (for callgrind). Prints frames, CPU time
 * per frame (this thread's, the machine is shared) and, for the exchanges,
 * per response. Asserts nothing about time.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include "kapa_eal.h"
#include "kapa_edit.h"
#include "kapa_engine.h"
#include "kapa_pkt.h"

#define ROOM 256
/* Timers are advanced once per burst of this many frames, as kapa-dp's
 * worker does (kapa-inspect advances after every frame). */
#define BURST 32

struct frame {
	uint8_t *data;
	uint32_t len;
	uint64_t ns;
	int32_t conn;		/* exchanges: its connection, -1 for the corpus */
	uint8_t from_srv;
};

static struct frame *frames;
static uint32_t nframes, cap_frames;
static uint8_t work[65536 + ROOM];
static uint64_t sink;

static uint64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
add_frame(const uint8_t *p, uint32_t len, uint64_t ns)
{
	if (nframes == cap_frames) {
		cap_frames = cap_frames != 0 ? 2 * cap_frames : 65536;
		frames = realloc(frames, cap_frames * sizeof(*frames));
		if (frames == NULL)
			exit(2);
	}
	frames[nframes].data = malloc(len);
	if (frames[nframes].data == NULL)
		exit(2);
	memcpy(frames[nframes].data, p, len);
	frames[nframes].len = len;
	frames[nframes].ns = ns;
	frames[nframes].conn = -1;
	frames[nframes].from_srv = 0;
	nframes++;
}

/* Ethernet captures only: the paths compared start at L2. Later files'
 * times are moved past earlier ones: the core's clock must not go back. */
static void
load(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t base = nframes != 0 ? frames[nframes - 1].ns + 1000000000ull : 0, first = 0;
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);

	if (pc == NULL) {
		fprintf(stderr, "%s: %s\n", path, err);
		exit(1);
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		pcap_close(pc);
		return;
	}
	while (pcap_next_ex(pc, &h, &d) == 1) {
		uint64_t ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;

		if (first == 0)
			first = ns;
		add_frame(d, h->caplen, base + (ns >= first ? ns - first : 0) + 1);
	}
	pcap_close(pc);
}

/* ---- the tracker alone --------------------------------------------------------- */

static void
t_message(const struct kapa_stream_ctx *ctx, const struct kapa_http_msg *m, void *arg)
{
	(void)ctx;
	(void)arg;
	sink += m->index;
}

static const struct kapa_http_ops t_ops = { .message = t_message };

static struct kapa_engine *
make_engine(const char *spec, int csum_verify)
{
	static unsigned seq;
	struct kapa_engine_conf c;
	struct kapa_policy_spec sp;
	char name[32], err[128];

	memset(&c, 0, sizeof(c));
	snprintf(name, sizeof(name), "bench_eng%u", seq++);
	c.tcp.flow.name = name;
	c.tcp.flow.capacity = 65536;
	c.tcp.flow.socket_id = -1;
	c.http.pipeline_depth = 32;
	c.csum_verify = (uint8_t)csum_verify;
	if (spec != NULL) {
		if (kapa_policy_parse_spec(spec, &sp, err, sizeof(err)) != 0)
			exit(1);
		c.policy = kapa_policy_create(&sp, NULL, 0, 1, err, sizeof(err));
	}
	c.ops = &(const struct kapa_engine_ops){ .http = t_ops };
	return kapa_engine_create(&c);
}

/* What a run needs, made before its timed (and counted) loop. */
static struct kapa_tcp *trk_tcp;
static struct kapa_http *trk_http;
static struct kapa_engine *eng;

static void
make_tracker(void)
{
	struct kapa_tcp_conf tc;
	struct kapa_http_conf hc = { .pipeline_depth = 32, .ops = &t_ops };

	trk_http = kapa_http_create(&hc);
	memset(&tc, 0, sizeof(tc));
	tc.flow.name = "bench_trk";
	tc.flow.capacity = 65536;
	tc.flow.socket_id = -1;
	tc.flow.app_size = KAPA_HTTP_STATE_SIZE;
	tc.ops = kapa_http_stream_ops();
	tc.ops_arg = trk_http;
	trk_tcp = kapa_tcp_create(&tc);
	if (trk_http == NULL || trk_tcp == NULL)
		exit(2);
}

static __attribute__((noinline)) void
run_tracker(void)
{
	struct kapa_tcp_result res;
	struct kapa_pkt p;
	uint32_t i;

	for (i = 0; i < nframes; i++) {
		kapa_pkt_parse(frames[i].data, frames[i].len, KAPA_L2_ETHER, &p);
		kapa_tcp_input(trk_tcp, &p, frames[i].ns, NULL, &res);
		if ((i & (BURST - 1)) == BURST - 1)
			kapa_tcp_advance(trk_tcp, frames[i].ns, 256);
	}
}

/* The frames through the engine, read in place (no policy edits them). */
static void
engine_frames(void)
{
	struct kapa_buf b = { .tailroom = 0 };
	struct kapa_pkt p;
	uint32_t i;

	for (i = 0; i < nframes; i++) {
		b.data = frames[i].data;
		b.len = frames[i].len;
		kapa_pkt_parse(b.data, b.len, KAPA_L2_ETHER, &p);
		sink += kapa_engine_input(eng, &b, &p, frames[i].ns, NULL);
		if ((i & (BURST - 1)) == BURST - 1)
			kapa_engine_advance(eng, frames[i].ns, 256);
	}
}

static __attribute__((noinline)) void
run_none(void)
{
	engine_frames();
}

static __attribute__((noinline)) void
run_observe(void)
{
	engine_frames();
}

static __attribute__((noinline)) void
run_csum(void)
{
	engine_frames();
}

/* ---- keep-alive exchanges ---------------------------------------------------------- */

#define X_CONNS 256
#define X_EXCHANGES 64

/* An Ethernet/IPv4/TCP frame (checksums filled). */
static void
build(uint32_t conn, int from_srv, uint32_t seq, uint32_t ack, uint8_t flags, const char *pl,
      uint64_t ns)
{
	uint8_t f[1600];
	uint32_t len = pl != NULL ? (uint32_t)strlen(pl) : 0, n = 20 + 20 + len;
	uint8_t *ip = f + 14, *th = ip + 20;
	struct kapa_pkt p;

	memset(f, 0, 54);
	f[5] = from_srv ? 1 : 2;
	f[11] = from_srv ? 2 : 1;
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(n >> 8);
	ip[3] = (uint8_t)n;
	ip[8] = 64;
	ip[9] = 6;
	ip[12] = 198;
	ip[13] = 18;
	ip[14] = (uint8_t)(conn >> 8);
	ip[15] = (uint8_t)conn;
	ip[16] = 198;
	ip[17] = 19;
	ip[19] = 1;
	if (from_srv) {
		uint8_t t[4];

		memcpy(t, ip + 12, 4);
		memcpy(ip + 12, ip + 16, 4);
		memcpy(ip + 16, t, 4);
	}
	th[0] = from_srv ? 0 : 0x9c;
	th[1] = from_srv ? 80 : 0x40;
	th[2] = from_srv ? 0x9c : 0;
	th[3] = from_srv ? 0x40 : 80;
	th[4] = (uint8_t)(seq >> 24);
	th[5] = (uint8_t)(seq >> 16);
	th[6] = (uint8_t)(seq >> 8);
	th[7] = (uint8_t)seq;
	th[8] = (uint8_t)(ack >> 24);
	th[9] = (uint8_t)(ack >> 16);
	th[10] = (uint8_t)(ack >> 8);
	th[11] = (uint8_t)ack;
	th[12] = 0x50;
	th[13] = flags;
	th[14] = 0xff;
	memcpy(th + 20, pl, len);
	kapa_pkt_parse(f, 14 + n, KAPA_L2_ETHER, &p);
	kapa_edit_fill_csum(&p);
	add_frame(f, 14 + n, ns);
	frames[nframes - 1].conn = (int32_t)conn;
	frames[nframes - 1].from_srv = (uint8_t)from_srv;
}

static uint32_t responses;

/* X_CONNS connections, interleaved, each X_EXCHANGES exchanges. */
static void
build_exchanges(int server_ka)
{
	static const char req[] = "GET /index.html HTTP/1.1\r\nHost: origin\r\nUser-Agent: b\r\n\r\n";
	const char *rsp = server_ka ?
		"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n"
		"Connection: keep-alive\r\nKeep-Alive: timeout=75, max=1000\r\n"
		"Content-Length: 12\r\n\r\nhello world\n" :
		"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n"
		"Connection: keep-alive\r\nContent-Length: 12\r\n\r\nhello world\n";
	uint32_t c, x, rl = (uint32_t)strlen(req), sl = (uint32_t)strlen(rsp);
	uint64_t ns = 1000000000ull;

	for (c = 0; c < X_CONNS; c++) {
		build(c, 0, 100, 0, 0x02, NULL, ns += 1000);
		build(c, 1, 500, 101, 0x12, NULL, ns += 1000);
		build(c, 0, 101, 501, 0x10, NULL, ns += 1000);
	}
	for (x = 0; x < X_EXCHANGES; x++) {
		for (c = 0; c < X_CONNS; c++) {
			build(c, 0, 101 + x * rl, 501 + x * sl, 0x18, req, ns += 1000);
			build(c, 1, 501 + x * sl, 101 + (x + 1) * rl, 0x18, rsp, ns += 1000);
			build(c, 0, 101 + (x + 1) * rl, 501 + (x + 1) * sl, 0x10, NULL, ns += 1000);
			responses++;
		}
	}
}

/* Each frame copied to a writable buffer first (kapa edits it), in every
 * variant alike. The client acknowledges what it received, as it received
 * it: the end of the last server segment kapa forwarded (in the shifted
 * space when kapa inserted bytes). */
static void
engine_exchanges(void)
{
	static uint32_t cli_ack[X_CONNS];
	struct kapa_engine *e = eng;
	struct kapa_buf b;
	struct kapa_pkt p;
	uint32_t i;

	memset(cli_ack, 0, sizeof(cli_ack));
	for (i = 0; i < nframes; i++) {
		memcpy(work, frames[i].data, frames[i].len);
		b.data = work;
		b.len = frames[i].len;
		b.tailroom = ROOM;
		b.port = 0;
		kapa_pkt_parse(b.data, b.len, KAPA_L2_ETHER, &p);
		if (!frames[i].from_srv && cli_ack[frames[i].conn] != 0)
			kapa_edit_set_ack(&p, cli_ack[frames[i].conn]);
		sink += kapa_engine_input(e, &b, &p, frames[i].ns, NULL);
		if (frames[i].from_srv)
			cli_ack[frames[i].conn] = p.seq + p.payload_len +
						  ((p.tcp_flags & KAPA_TCP_SYN) ? 1 : 0);
		sink += b.len;
		kapa_engine_advance(e, frames[i].ns, 256);
	}
}

static __attribute__((noinline)) void
run_x_observe(void)
{
	engine_exchanges();
}

static __attribute__((noinline)) void
run_x_observe_ka(void)
{
	engine_exchanges();
}

static __attribute__((noinline)) void
run_x_rewrite(void)
{
	engine_exchanges();
}

static __attribute__((noinline)) void
run_x_insert(void)
{
	engine_exchanges();
}

static __attribute__((noinline)) void
run_x_csum(void)
{
	engine_exchanges();
}

/* ---- the software check alone ------------------------------------------------------ */

/* The same sum as kapa_csum_tcp_ok(), byte at a time: what it would cost
 * with the edits' helper alone. */
static __attribute__((noinline)) int
csum_bytewise(const struct kapa_pkt *p)
{
	uint32_t len = p->payload_off + p->payload_len - p->l4_off, s = 0;
	uint8_t w[4] = { 0, 0, (uint8_t)(len >> 8), (uint8_t)len };

	s = kapa_csum_add(s, p->src, 4, 0);
	s = kapa_csum_add(s, p->dst, 4, 0);
	s = kapa_csum_add(s, w, 4, 0) + 6;
	s = kapa_csum_add(s, p->data + p->l4_off, len, 0);
	return kapa_csum_fold(s) == 0xffff;
}

static int
bench_csum(void)
{
	static const uint32_t sizes[] = { 0, 100, 536, 1448 };
	static char pl[1449];
	struct kapa_pkt p;
	uint32_t s, i, n = 2000000, ok = 0;
	uint64_t t0, t_raw, t_byte;

	memset(pl, 'x', sizeof(pl) - 1);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		while (nframes > 0)
			free(frames[--nframes].data);
		pl[sizes[s]] = '\0';
		build(0, 0, 100, 200, 0x18, sizes[s] != 0 ? pl : NULL, 1);
		pl[sizes[s]] = 'x';
		kapa_pkt_parse(frames[0].data, frames[0].len, KAPA_L2_ETHER, &p);
		if (!kapa_csum_tcp_ok(&p) || !csum_bytewise(&p))
			return 2;
		t0 = cpu_ns();
		for (i = 0; i < n; i++)
			ok += kapa_csum_tcp_ok(&p);
		t_raw = cpu_ns() - t0;
		t0 = cpu_ns();
		for (i = 0; i < n; i++)
			ok += csum_bytewise(&p);
		t_byte = cpu_ns() - t0;
		printf("csum %4u payload bytes  kapa_csum_tcp_ok %6.1f ns  byte at a time %7.1f ns"
		       "  (%.1fx)\n", sizes[s], (double)t_raw / n, (double)t_byte / n,
		       (double)t_byte / (double)t_raw);
	}
	sink += ok;
	return 0;
}

struct variant {
	const char *name;
	void (*run)(void);
	int exchange;		/* 0: corpus; 1: with server Keep-Alive; 2: without */
	const char *spec;	/* the engine's policy; NULL: none (or the tracker) */
	int csum_verify;	/* kapa_engine_conf::csum_verify */
};

static const struct variant variants[] = {
	{ "tracker", run_tracker, 0, NULL },
	{ "none", run_none, 0, NULL },
	{ "observe", run_observe, 0, "mode=observe,timeout=60,max=100,stall=30,opaque_idle=600" },
	{ "csum", run_csum, 0, NULL, 1 },
	{ "x_observe", run_x_observe, 2, "mode=observe,timeout=60" },
	{ "x_observe_ka", run_x_observe_ka, 1, "mode=observe,timeout=60" },
	{ "x_rewrite", run_x_rewrite, 1, "mode=advertise,timeout=60" },
	{ "x_insert", run_x_insert, 2, "mode=advertise,timeout=60" },
	{ "x_csum", run_x_csum, 2, "mode=observe,timeout=60", 1 },
};

int
main(int argc, char **argv)
{
	const char *only = NULL;
	int i, a = 1, exchange;
	uint64_t t0, dt;

	if (argc > 2 && strcmp(argv[1], "--variant") == 0) {
		only = argv[2];
		a = 3;
	}
	if (a >= argc || (strcmp(argv[a], "corpus") != 0 && strcmp(argv[a], "exchange") != 0 &&
			  strcmp(argv[a], "csum") != 0)) {
		fprintf(stderr, "usage: %s [--variant NAME] corpus FILE... | exchange | csum\n",
			argv[0]);
		return 1;
	}
	exchange = strcmp(argv[a], "exchange") == 0;
	if (kapa_eal_init_offline("bench_engine", 512) != 0)
		return 2;
	if (strcmp(argv[a], "csum") == 0)
		return bench_csum();
	for (i = 0; i < (int)(sizeof(variants) / sizeof(variants[0])); i++) {
		const struct variant *v = &variants[i];

		if ((v->exchange != 0) != exchange || (only != NULL && strcmp(only, v->name) != 0))
			continue;
		if (!exchange && nframes == 0)
			for (int f = a + 1; f < argc; f++)
				load(argv[f]);
		if (exchange) {
			while (nframes > 0)
				free(frames[--nframes].data);
			responses = 0;
			build_exchanges(v->exchange == 1);
		}
		if (v->run == run_tracker) {
			make_tracker();
		} else {
			eng = make_engine(v->spec, v->csum_verify);
			if (eng == NULL)
				return 2;
		}
		t0 = cpu_ns();
		v->run();
		dt = cpu_ns() - t0;
		if (v->run == run_tracker) {
			kapa_tcp_destroy(trk_tcp);
			kapa_http_destroy(trk_http);
		} else {
			if (exchange)
				fprintf(stderr, "  (inserted %" PRIu64 " bytes, rewrote %" PRIu64
					" values, translated %" PRIu64 " ACKs, refused %" PRIu64
					"/%" PRIu64 "/%" PRIu64 ")\n",
					kapa_engine_stats(eng)->bytes_inserted,
					kapa_engine_stats(eng)->act[KAPA_ACT_KIND_REWRITE]
								   [KAPA_ACT_WHY_ADVERTISE],
					kapa_engine_stats(eng)->acks_translated,
					kapa_engine_stats(eng)->act[KAPA_ACT_KIND_REFUSED]
								   [KAPA_ACT_WHY_FORWARDED],
					kapa_engine_stats(eng)->act[KAPA_ACT_KIND_REFUSED]
								   [KAPA_ACT_WHY_LOG_FULL],
					kapa_engine_stats(eng)->act[KAPA_ACT_KIND_REFUSED]
								   [KAPA_ACT_WHY_NO_ROOM]);
			if (v->csum_verify)
				fprintf(stderr, "  (checksums verified %" PRIu64 ", bad %" PRIu64 ")\n",
					kapa_engine_stats(eng)->csum_sw,
					kapa_engine_stats(eng)->csum_bad);
			kapa_engine_destroy(eng);
		}
		printf("%-10s %8u frames  %7.1f ns/frame", v->name, nframes, (double)dt / nframes);
		if (exchange)
			printf("  %7.1f ns/response", (double)dt / responses);
		printf("\n");
	}
	return sink == 42 ? 3 : 0;
}
