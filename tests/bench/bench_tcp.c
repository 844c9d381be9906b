/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Throughput of the TCP core (kapa_tcp_input): connection set-up and
 * teardown, in-order segments, and segments reordered in pairs or within a
 * window, over many interleaved connections. Packets are prebuilt struct
 * kapa_pkt (parsing is kapa_pkt's benchmark); the consumer only sums bytes.
 * Prints figures (per thread CPU time), asserts only that every byte arrived.
 * KAPA_BENCH_QUICK=1 (or --quick) runs small sizes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>

#include "kapa_eal.h"
#include "kapa_tcp.h"

#define SEG 1460u

static uint64_t delivered, gaps;
static uint8_t payload[SEG];

static void
b_data(const struct kapa_stream_ctx *ctx, uint64_t off, const uint8_t *p, uint32_t len)
{
	(void)ctx;
	(void)off;
	(void)p;
	delivered += len;
}

static void
b_event(const struct kapa_stream_ctx *ctx, enum kapa_stream_event ev, uint64_t off,
	uint64_t len)
{
	(void)ctx;
	(void)off;
	(void)len;
	if (ev == KAPA_EV_GAP)
		gaps++;
}

static uint32_t
b_expire(const struct kapa_stream_ctx *ctx)
{
	(void)ctx;
	return 0;
}

static const struct kapa_stream_ops b_ops = {
	.data = b_data, .event = b_event, .expire = b_expire,
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	/* CPU time of this thread: the machine is shared, and wall time
	 * would count the time other processes held the core. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
mk(struct kapa_pkt *p, uint32_t conn, int from_srv, uint32_t seq, uint32_t ack,
   uint8_t flags, uint32_t len)
{
	memset(p, 0, sizeof(*p));
	p->cls = KAPA_PKT_TCP;
	p->family = 4;
	p->data = payload;
	p->len = len;
	p->payload_len = len;
	p->src[0] = 198; p->src[1] = 18; p->src[2] = (uint8_t)(conn >> 8); p->src[3] = (uint8_t)conn;
	p->dst[0] = 198; p->dst[1] = 19; p->dst[3] = 1;
	p->sport = (uint16_t)(1024 + (conn >> 16));
	p->dport = 80;
	if (from_srv) {
		uint8_t a[16];
		uint16_t t;

		memcpy(a, p->src, 16); memcpy(p->src, p->dst, 16); memcpy(p->dst, a, 16);
		t = p->sport; p->sport = p->dport; p->dport = t;
	}
	p->seq = seq;
	p->ack = ack;
	p->tcp_flags = flags;
	p->win = 512;
}

static struct kapa_tcp *
mk_tcp(const char *name, uint32_t nconn)
{
	struct kapa_tcp_conf c;

	memset(&c, 0, sizeof(c));
	c.flow.name = name;
	c.flow.capacity = RTE_MAX(nconn * 2, 1024u);
	c.flow.app_size = 128;
	c.flow.socket_id = -1;
	c.ooo_pool_bytes = 64u << 20;
	c.ops = &b_ops;
	return kapa_tcp_create(&c);
}

/*
 * @p mode 0: in order; 1: every pair of segments swapped; 2: each window of
 * 8 segments sent in reverse.
 */
static int
run(const char *name, uint32_t nconn, uint32_t nseg, int mode)
{
	struct kapa_tcp *tcp = mk_tcp(name, nconn);
	struct kapa_tcp_result res;
	struct kapa_pkt p;
	uint64_t t0, t1, ts = 1, npkts = 0;
	uint32_t c, i;

	if (tcp == NULL) {
		fprintf(stderr, "%s: kapa_tcp_create failed\n", name);
		return -1;
	}
	delivered = 0;
	gaps = 0;
	t0 = now_ns();
	for (c = 0; c < nconn; c++) {
		mk(&p, c, 0, 1000, 0, KAPA_TCP_SYN, 0);
		kapa_tcp_input(tcp, &p, ts++, NULL, &res);
		mk(&p, c, 1, 5000, 1001, KAPA_TCP_SYN | KAPA_TCP_ACK, 0);
		kapa_tcp_input(tcp, &p, ts++, NULL, &res);
		mk(&p, c, 0, 1001, 5001, KAPA_TCP_ACK, 0);
		kapa_tcp_input(tcp, &p, ts++, NULL, &res);
	}
	t1 = now_ns();
	printf("%-22s handshakes: %u conns, %.1f ns/pkt\n", name, nconn,
	       (double)(t1 - t0) / (3.0 * nconn));

	t0 = now_ns();
	for (i = 0; i < nseg; i++) {
		uint32_t k = i;

		if (mode == 1)
			k = i ^ 1u;
		else if (mode == 2)
			k = (i & ~7u) + (7u - (i & 7u));
		if (k >= nseg)
			k = i;
		for (c = 0; c < nconn; c++) {
			/* Server to client: the response direction carries the bulk. */
			mk(&p, c, 1, 5001 + k * SEG, 1001, KAPA_TCP_ACK, SEG);
			kapa_tcp_input(tcp, &p, ts++, NULL, &res);
			npkts++;
		}
	}
	t1 = now_ns();
	printf("%-22s data: %" PRIu64 " segs of %u B, %.1f ns/seg, %.2f Gbit/s, "
	       "%.2f Mpps, gaps %" PRIu64 ", delivered %s\n", name, npkts, SEG,
	       (double)(t1 - t0) / (double)npkts,
	       (double)npkts * SEG * 8.0 / (double)(t1 - t0),
	       (double)npkts * 1000.0 / (double)(t1 - t0), gaps,
	       delivered == npkts * SEG ? "all" : "NOT ALL");

	t0 = now_ns();
	for (c = 0; c < nconn; c++) {
		mk(&p, c, 0, 1001, 5001 + nseg * SEG, KAPA_TCP_ACK | KAPA_TCP_FIN, 0);
		kapa_tcp_input(tcp, &p, ts++, NULL, &res);
		mk(&p, c, 1, 5001 + nseg * SEG, 1002, KAPA_TCP_ACK | KAPA_TCP_FIN, 0);
		kapa_tcp_input(tcp, &p, ts++, NULL, &res);
	}
	t1 = now_ns();
	printf("%-22s teardown: %.1f ns/pkt\n", name, (double)(t1 - t0) / (2.0 * nconn));
	kapa_tcp_destroy(tcp);
	return delivered == npkts * SEG ? 0 : -1;
}

/*
 * The first exchange of connections kapa did not see open (a kapa-dp
 * restart: every live connection is picked up) against the same exchange
 * on connections whose handshake it saw, in one run: per connection a
 * client segment, then the server's, which acknowledges it. Picked up, the
 * client's bytes are held (copied) until that acknowledgement decides where
 * its stream starts (docs/core-tcp.md, "Pickup"). Connections go in waves
 * of @p wave, all clients of a wave before its servers, as many picked up
 * at once as a wave holds.
 */
static int
run_first_exchange(const char *name, uint32_t nconn, uint32_t wave, int pickup)
{
	struct kapa_tcp *tcp = mk_tcp(name, nconn);
	struct kapa_tcp_result res;
	uint64_t t0, t1, ts = 1;
	struct kapa_pkt p;
	uint32_t c, w;

	if (tcp == NULL) {
		fprintf(stderr, "%s: kapa_tcp_create failed\n", name);
		return -1;
	}
	delivered = 0;
	gaps = 0;
	for (c = 0; c < nconn && !pickup; c++) {
		mk(&p, c, 0, 1000, 0, KAPA_TCP_SYN, 0);
		kapa_tcp_input(tcp, &p, ts++, NULL, &res);
		mk(&p, c, 1, 5000, 1001, KAPA_TCP_SYN | KAPA_TCP_ACK, 0);
		kapa_tcp_input(tcp, &p, ts++, NULL, &res);
		mk(&p, c, 0, 1001, 5001, KAPA_TCP_ACK, 0);
		kapa_tcp_input(tcp, &p, ts++, NULL, &res);
	}
	t0 = now_ns();
	for (w = 0; w < nconn; w += wave) {
		for (c = w; c < nconn && c < w + wave; c++) {
			mk(&p, c, 0, 1001, 5001, KAPA_TCP_ACK, SEG);
			kapa_tcp_input(tcp, &p, ts++, NULL, &res);
		}
		for (c = w; c < nconn && c < w + wave; c++) {
			mk(&p, c, 1, 5001, 1001 + SEG, KAPA_TCP_ACK, SEG);
			kapa_tcp_input(tcp, &p, ts++, NULL, &res);
		}
	}
	t1 = now_ns();
	printf("%-22s first exchange: %u conns in waves of %u, %.1f ns/seg, gaps %" PRIu64
	       ", delivered %s\n", name, nconn, wave, (double)(t1 - t0) / (2.0 * nconn), gaps,
	       delivered == 2ull * nconn * SEG ? "all" : "NOT ALL");
	kapa_tcp_destroy(tcp);
	return delivered == 2ull * nconn * SEG ? 0 : -1;
}

int
main(int argc, char **argv)
{
	int quick = getenv("KAPA_BENCH_QUICK") != NULL ||
		    (argc > 1 && strcmp(argv[1], "--quick") == 0);
	uint32_t nconn = quick ? 1000 : 100000, nseg = quick ? 16 : 64;
	int rc = 0;

	if (kapa_eal_init_offline(argv[0], 1024) != 0) {
		fprintf(stderr, "EAL did not start\n");
		return 2;
	}
	rc |= run("tcp_in_order", nconn, nseg, 0);
	/* Out of order: fewer connections, so that all of them can hold a
	 * window at once within the 64 MiB pool (no gap distorts the figure). */
	rc |= run("tcp_pairs_swapped", nconn / 50, nseg * 50, 1);
	rc |= run("tcp_window8_reversed", nconn / 50, nseg * 50, 2);
	rc |= run("tcp_in_order_1conn", 1, nseg * 4096, 0);
	rc |= run("tcp_window8_1conn", 1, nseg * 4096, 2);
	rc |= run_first_exchange("tcp_first_handshake", nconn, 1000, 0);
	rc |= run_first_exchange("tcp_first_pickup", nconn, 1000, 1);
	rc |= run_first_exchange("tcp_first_handshake", nconn, 1000, 0);
	rc |= run_first_exchange("tcp_first_pickup", nconn, 1000, 1);
	kapa_eal_cleanup();
	return rc != 0;
}
