/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kapa_pkt_parse() cost per packet, on a mix of frames the data plane sees:
 * data segments with timestamps, SYNs with every option, SACKs, IPv6 with
 * extension headers, VLAN / QinQ, UDP and ARP. Two working sets:
 *  - hot: 64 frames parsed over and over (the parser's own cost);
 *  - cold: 256 Ki frames spread over ~40 MiB, each visited once per pass
 *    (the packet bytes come from memory, as at line rate).
 * Three more hot sets: plain Ethernet/IPv4/TCP data segments only (what the
 * deeper encapsulations must not slow down), data segments under three
 * tags, PPPoE in two tags, and two MPLS labels, and data segments in
 * tunnels (IP-in-IP, GRE with a key, VXLAN).
 * Prints figures only; asserts nothing about time. KAPA_BENCH_QUICK=1 (or
 * --quick) runs fewer passes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kapa_pkt.h"

#define HOT_FRAMES	64
#define COLD_FRAMES	(256 * 1024)
#define SLOT		160	/* bytes per frame slot in the cold set */
#define TUN_SLOT	256	/* a tunnelled frame: up to 50 bytes more */

static const uint8_t opt_syn[20] = {
	2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
};
static const uint8_t opt_ts[12] = { 1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0 };
static const uint8_t opt_sack[28] = {
	1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0,
	1, 1, 5, 10, 0, 0, 0x10, 0, 0, 0, 0x20, 0, 1, 1, 1, 1,
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An IPv4 header without options: 198.18.@p net.1 > 198.18.@p net.2, DF, TTL 64
 * (checksum left 0: the parser does not check it). */
static void
put_ip4(uint8_t *ip, uint8_t proto, uint32_t tot, uint8_t net)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)tot);
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = proto;
	ip[12] = 198;
	ip[13] = 18;
	ip[14] = net;
	ip[15] = 1;
	ip[16] = 198;
	ip[17] = 18;
	ip[18] = net;
	ip[19] = 2;
}

static uint32_t
tcp_hdr(uint8_t *p, const uint8_t *opt, uint32_t optlen, uint32_t plen)
{
	memset(p, 0, 20);
	put16(p, 40000);
	put16(p + 2, 80);
	p[7] = 1;
	p[11] = 1;
	p[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	p[13] = 0x18;
	put16(p + 14, 502);
	memcpy(p + 20, opt, optlen);
	memset(p + 20 + optlen, 'x', plen);
	return 20 + optlen + plen;
}

/* One frame of kind @p k into @p f; @return its length. */
static uint32_t
frame(uint8_t *f, unsigned int k)
{
	uint32_t off = 12, l4;
	uint8_t *ip, *ppp = NULL;

	memset(f, 0, 14);
	f[0] = 2;
	f[6] = 2;
	if (k == 3 || k == 4 || k == 8 || k == 9) {	/* 802.1Q, QinQ, 3 tags */
		if (k == 4 || k == 8 || k == 9) {
			put16(f + off, 0x88a8);
			put16(f + off + 2, 10);
			off += 4;
		}
		if (k == 8) {
			put16(f + off, 0x8100);
			put16(f + off + 2, 15);
			off += 4;
		}
		put16(f + off, 0x8100);
		put16(f + off + 2, 20);
		off += 4;
	}
	if (k == 9) {				/* PPPoE session, PPP IPv4 */
		put16(f + off, 0x8864);
		f[off + 2] = 0x11;
		f[off + 3] = 0;
		put16(f + off + 4, 0x1234);
		put16(f + off + 8, 0x0021);
		ppp = f + off + 6;		/* its length field */
		off += 8;
	}
	if (k == 10) {				/* two MPLS labels */
		put16(f + off, 0x8847);
		put16(f + off + 2, 0x0101);
		put16(f + off + 4, 0x0040);
		put16(f + off + 6, 0x0102);
		put16(f + off + 8, 0x0140);
		off += 8;
	}
	if (k == 6) {				/* ARP */
		put16(f + off, 0x0806);
		memset(f + off + 2, 0, 46);
		return off + 2 + 46;
	}
	if (k == 5) {				/* IPv6, hop-by-hop, TCP */
		put16(f + off, 0x86dd);
		ip = f + off + 2;
		memset(ip, 0, 48);
		ip[0] = 0x60;
		ip[6] = 0;			/* hop-by-hop */
		ip[7] = 64;
		ip[8] = 0x20;
		ip[24] = 0x20;
		ip[40] = 6;			/* then TCP */
		l4 = tcp_hdr(ip + 48, opt_ts, sizeof(opt_ts), 64);
		put16(ip + 4, (uint16_t)(8 + l4));
		return off + 2 + 48 + l4;
	}
	if (k < 9)
		put16(f + off, 0x0800);
	ip = f + off + 2;
	if (k == 7)				/* UDP */
		l4 = 8 + 32;
	else if (k == 1)			/* SYN */
		l4 = tcp_hdr(ip + 20, opt_syn, sizeof(opt_syn), 0);
	else if (k == 2)			/* ACK with SACK */
		l4 = tcp_hdr(ip + 20, opt_sack, sizeof(opt_sack), 0);
	else					/* data with timestamps */
		l4 = tcp_hdr(ip + 20, opt_ts, sizeof(opt_ts), 80);
	put_ip4(ip, k == 7 ? 17 : 6, 20 + l4, 0);
	if (ppp != NULL)
		put16(ppp, (uint16_t)(2 + 20 + l4));
	return off + 2 + 20 + l4;
}

/* A data segment (kind 0) inside IP-in-IP (@p k 0), GRE with a key (1) or
 * VXLAN (2), outer Ethernet/IPv4. @return its length. */
static uint32_t
tunnel_frame(uint8_t *f, unsigned int k)
{
	uint8_t inner[SLOT];
	uint32_t n = frame(inner, 0), hl, in_off, in_len;

	memcpy(f, inner, 12);
	put16(f + 12, 0x0800);
	/* IP-in-IP and GRE carry the datagram, VXLAN the whole frame. */
	in_off = k == 2 ? 0 : 14;
	in_len = n - in_off;
	hl = k == 0 ? 0 : k == 1 ? 8 : 16;
	put_ip4(f + 14, k == 0 ? 4 : k == 1 ? 47 : 17, 20 + hl + in_len, 200);
	if (k == 1) {
		put16(f + 34, 0x2000);
		put16(f + 36, 0x0800);
		memset(f + 38, 0, 4);
	} else if (k == 2) {
		put16(f + 34, 50000);
		put16(f + 36, 4789);
		put16(f + 38, (uint16_t)(hl + in_len));
		put16(f + 40, 0);
		memset(f + 42, 0, 8);
		f[42] = 0x08;
	}
	memcpy(f + 34 + hl, inner + in_off, in_len);
	return 34 + hl + in_len;
}

/* Mostly data segments, as on a busy link. */
static unsigned int
kind_of(unsigned int i)
{
	static const unsigned int mix[16] = { 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 5, 0,
					      1, 4, 7, 6 };

	return mix[i % 16];
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double
run(uint8_t *slots, size_t stride, const uint32_t *lens, unsigned int n,
    unsigned int passes, uint64_t *tcp)
{
	struct kapa_pkt pkt;
	unsigned int p, i;
	uint64_t sink = 0;
	double t0, t1;

	t0 = now_s();
	for (p = 0; p < passes; p++)
		for (i = 0; i < n; i++)
			sink += kapa_pkt_parse(slots + (size_t)i * stride, lens[i],
					       KAPA_L2_ETHER, &pkt) == KAPA_PKT_TCP;
	t1 = now_s();
	*tcp = sink;
	return (t1 - t0) * 1e9 / ((double)n * passes);
}

int
main(int argc, char **argv)
{
	int quick = getenv("KAPA_BENCH_QUICK") != NULL ||
		    (argc > 1 && strcmp(argv[1], "--quick") == 0);
	unsigned int i, hot_passes = quick ? 20000 : 400000;
	unsigned int cold_passes = quick ? 2 : 20;
	uint8_t *slots = calloc(COLD_FRAMES, SLOT);
	uint32_t *lens = malloc(COLD_FRAMES * sizeof(*lens));
	uint8_t *extra = calloc(2 * HOT_FRAMES, SLOT);
	uint32_t extra_lens[2 * HOT_FRAMES], tun_lens[HOT_FRAMES];
	uint8_t *tun = calloc(HOT_FRAMES, TUN_SLOT);
	uint64_t tcp;
	double ns;

	if (slots == NULL || lens == NULL || extra == NULL || tun == NULL) {
		fprintf(stderr, "bench_pkt: out of memory\n");
		return 1;
	}
	for (i = 0; i < COLD_FRAMES; i++)
		lens[i] = frame(slots + (size_t)i * SLOT, kind_of(i));

	ns = run(slots, SLOT, lens, HOT_FRAMES, hot_passes, &tcp);
	printf("pkt parse, hot  (%u frames x %u):  %6.2f ns/pkt  %6.1f Mpps  (%.0f%% TCP)\n",
	       HOT_FRAMES, hot_passes, ns, 1e3 / ns,
	       100.0 * (double)tcp / ((double)HOT_FRAMES * hot_passes));
	ns = run(slots, SLOT, lens, COLD_FRAMES, cold_passes, &tcp);
	printf("pkt parse, cold (%u frames x %u, %u MiB): %6.2f ns/pkt  %6.1f Mpps\n",
	       COLD_FRAMES, cold_passes, (unsigned int)((size_t)COLD_FRAMES * SLOT >> 20),
	       ns, 1e3 / ns);

	/* Plain Ethernet/IPv4/TCP data, then the deeper encapsulations. */
	for (i = 0; i < HOT_FRAMES; i++) {
		extra_lens[i] = frame(extra + (size_t)i * SLOT, 0);
		extra_lens[HOT_FRAMES + i] =
			frame(extra + (size_t)(HOT_FRAMES + i) * SLOT, 8 + i % 3);
	}
	ns = run(extra, SLOT, extra_lens, HOT_FRAMES, hot_passes, &tcp);
	printf("pkt parse, plain eth/ipv4/tcp (%u frames x %u): %6.2f ns/pkt  %6.1f Mpps\n",
	       HOT_FRAMES, hot_passes, ns, 1e3 / ns);
	ns = run(extra + (size_t)HOT_FRAMES * SLOT, SLOT, extra_lens + HOT_FRAMES,
		 HOT_FRAMES, hot_passes, &tcp);
	printf("pkt parse, 3 tags | pppoe in 2 tags | 2 mpls labels (%u frames x %u): "
	       "%6.2f ns/pkt  %6.1f Mpps  (%.0f%% TCP)\n",
	       HOT_FRAMES, hot_passes, ns, 1e3 / ns,
	       100.0 * (double)tcp / ((double)HOT_FRAMES * hot_passes));
	for (i = 0; i < HOT_FRAMES; i++)
		tun_lens[i] = tunnel_frame(tun + (size_t)i * TUN_SLOT, i % 3);
	ns = run(tun, TUN_SLOT, tun_lens, HOT_FRAMES, hot_passes, &tcp);
	printf("pkt parse, ipip | gre | vxlan (%u frames x %u): "
	       "%6.2f ns/pkt  %6.1f Mpps  (%.0f%% TCP)\n",
	       HOT_FRAMES, hot_passes, ns, 1e3 / ns,
	       100.0 * (double)tcp / ((double)HOT_FRAMES * hot_passes));
	free(tun);
	free(extra);
	free(slots);
	free(lens);
	return 0;
}
