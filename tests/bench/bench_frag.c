/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP fragment reassembly (kapa_frag.c): the cost of rebuilding a datagram,
 * against the copy it cannot avoid, in one run (the machine is shared and
 * noisy: the ratio is the figure to read, not the nanoseconds).
 *  - a 1500-byte IPv4 datagram cut in 2 (a request just over an MTU);
 *  - 4 KiB IPv4 in 3, reversed;
 *  - 64 KiB IPv6 in 45 fragments of 1448 bytes (the largest datagram);
 * each set fed through kapa_pkt_parse() + kapa_frag_input() over and over
 * (every datagram a new identification), next to a memcpy() of the same
 * bytes into one buffer. Also the table's memory at its defaults.
 * Prints figures only; asserts nothing about time. KAPA_BENCH_QUICK=1 (or
 * --quick) runs fewer datagrams.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kapa_frag.h"
#include "kapa_pkt.h"

#define ETH 14
#define MAXF 64

struct set {
	const char *name;
	int v6;
	uint32_t data;		/* IP payload bytes */
	uint32_t piece;		/* bytes a fragment (multiple of 8) */
	int reversed;
};

static uint8_t frames[MAXF][ETH + 48 + 1500];
static uint32_t flen[MAXF];
static uint8_t sink[70000];

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t
build(const struct set *s)
{
	uint32_t n = (s->data + s->piece - 1) / s->piece, i, off, len;

	for (i = 0; i < n; i++) {
		uint8_t *f = frames[s->reversed ? n - 1 - i : i], *ip = f + ETH;
		int last = i + 1 == n;

		off = i * s->piece;
		len = last ? s->data - off : s->piece;
		memset(f, 0, ETH + 48);
		put16(f + 12, s->v6 ? 0x86dd : 0x0800);
		if (!s->v6) {
			ip[0] = 0x45;
			put16(ip + 2, (uint16_t)(20 + len));
			put16(ip + 6, (uint16_t)((last ? 0 : 0x2000) | off / 8));
			ip[8] = 64;
			ip[9] = 6;
			ip[12] = 198, ip[13] = 18, ip[15] = 1;
			ip[16] = 198, ip[17] = 18, ip[19] = 2;
			memset(ip + 20, 0x41, len);
			flen[s->reversed ? n - 1 - i : i] = ETH + 20 + len;
		} else {
			ip[0] = 0x60;
			put16(ip + 4, (uint16_t)(8 + len));
			ip[6] = 44;
			ip[7] = 64;
			ip[8] = 0x20, ip[9] = 0x01, ip[23] = 1;
			ip[24] = 0x20, ip[25] = 0x01, ip[39] = 2;
			ip[40] = 6;
			put16(ip + 42, (uint16_t)(off | (last ? 0 : 1)));
			memset(ip + 48, 0x41, len);
			flen[s->reversed ? n - 1 - i : i] = ETH + 48 + len;
		}
		if (off == 0) {	/* a TCP header at the start of the data */
			uint8_t *th = ip + (s->v6 ? 48 : 20);

			memset(th, 0, 20);
			put16(th, 40000);
			put16(th + 2, 80);
			th[12] = 5 << 4;
			th[13] = 0x18;
		}
	}
	return n;
}

/* A new identification for the next datagram of the set. */
static void
set_id(const struct set *s, uint32_t n, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint8_t *ip = frames[i] + ETH;

		if (!s->v6) {
			put16(ip + 4, (uint16_t)id);
		} else {
			ip[44] = (uint8_t)(id >> 24);
			ip[45] = (uint8_t)(id >> 16);
			ip[46] = (uint8_t)(id >> 8);
			ip[47] = (uint8_t)id;
		}
	}
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
run(const struct set *s, uint32_t datagrams)
{
	struct kapa_frag_conf c = { 0 };
	struct kapa_frag_dgram d;
	struct kapa_frag *t = kapa_frag_create(&c);
	struct kapa_pkt p;
	uint32_t n = build(s), i, k, done = 0, at;
	double t0, t_frag, t_copy;

	if (t == NULL) {
		fprintf(stderr, "bench_frag: cannot create a table\n");
		exit(1);
	}
	t0 = now_s();
	for (k = 0; k < datagrams; k++) {
		set_id(s, n, k);
		for (i = 0; i < n; i++) {
			kapa_pkt_parse(frames[i], flen[i], KAPA_L2_ETHER, &p);
			done += kapa_frag_input(t, &p, 1000000000ull + k, &d) == KAPA_FRAG_DONE;
		}
	}
	t_frag = now_s() - t0;
	/* The copy the rebuilt frame cannot avoid: every fragment's bytes. */
	t0 = now_s();
	for (k = 0; k < datagrams; k++) {
		set_id(s, n, k);
		for (i = 0, at = 0; i < n; i++) {
			memcpy(sink + at, frames[i], flen[i]);
			at += flen[i] - ETH - (s->v6 ? 48 : 20);
		}
		__asm__ volatile("" : : "r"(sink) : "memory");
	}
	t_copy = now_s() - t0;
	printf("%-28s %3u fragments  %8.1f ns/datagram  %6.1f ns/fragment"
	       "  copy alone %7.1f ns  ratio %.2f  (%u of %u rebuilt)\n",
	       s->name, n, t_frag * 1e9 / datagrams, t_frag * 1e9 / datagrams / n,
	       t_copy * 1e9 / datagrams, t_frag / t_copy, done, datagrams);
	kapa_frag_destroy(t);
}

int
main(int argc, char **argv)
{
	static const struct set sets[] = {
		{ "IPv4 1500 B in 2", 0, 1500, 1480 / 8 * 8, 0 },
		{ "IPv4 4 KiB in 3, reversed", 0, 4096, 1480 / 8 * 8, 1 },
		{ "IPv6 64 KiB in 45", 1, 65000, 1448, 0 },
	};
	int quick = getenv("KAPA_BENCH_QUICK") != NULL ||
		    (argc > 1 && strcmp(argv[1], "--quick") == 0);
	uint32_t i, scale = quick ? 1 : 10;

	struct kapa_frag_conf c = { 0 };
	struct kapa_frag *t = kapa_frag_create(&c);

	if (t == NULL)
		return 1;
	printf("bench_frag: table at its defaults (1024 datagrams, 4 MiB of data): %.1f MiB "
	       "reserved, touched as used\n", (double)kapa_frag_memory(t) / (1 << 20));
	kapa_frag_destroy(t);
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		run(&sets[i], (i == 2 ? 2000 : 50000) * scale);
	return 0;
}
