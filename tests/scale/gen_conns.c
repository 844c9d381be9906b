/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_conns: a pcap of N HTTP/1.1 keep-alive connections that are all open
 * at once, for kapa-inspect at scale (tests/scale/README.md).
 *
 *   gen_conns N OUT.pcap
 *
 * Every connection carries two requests, each answered by a 200 with an
 * empty body (Content-Length: 0), so a reader that keeps every connection's
 * state reports 2 requests and 2 paired responses per connection. The frames
 * go in phases, each phase visiting every connection in turn:
 *
 *   1. handshake (SYN, SYN-ACK, ACK)    4. the second request
 *   2. the first request                5. its response
 *   3. its response                     6. FIN, FIN-ACK, ACK
 *
 * so that all N connections are open before any closes and each has to be
 * remembered across N others between two of its frames. Frames are 1 us
 * apart (a 1M-connection capture spans about 10 s: under every idle limit of
 * kapa's core). Clients are 198.18.x.y, ports 10000-59999; the server is
 * 198.19.0.1:80. Checksums are filled in. Written with stdio only (no
 * libpcap), at a few hundred MB/s.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_NET 0xc6120000u	/* 198.18.0.0 */
#define SERVER_ADDR 0xc6130001u	/* 198.19.0.1 */
#define SERVER_PORT 80
#define PORTS_PER_CLIENT 50000u
#define FIRST_PORT 10000u
#define MAX_CONNS 10000000u	/* 200 client addresses: inside 198.18.0.0/16 */
#define ISN_CLIENT 1000u
#define ISN_SERVER 5000000u
#define FRAME_GAP_NS 1000u

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_PSH 0x08
#define TH_ACK 0x10

#define ETH_LEN 14
#define IP_LEN 20
#define TCP_LEN 20
#define HDR_LEN (ETH_LEN + IP_LEN + TCP_LEN)

static const char request[] = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
static const char response[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
#define REQ_LEN ((uint32_t)sizeof(request) - 1)
#define RESP_LEN ((uint32_t)sizeof(response) - 1)

struct gen {
	FILE *out;
	uint64_t now_ns;
	uint64_t frames;
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void
put32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Ones' complement sum of big-endian 16-bit words. */
static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* One frame of connection @p i, from the client when @p c2s. */
static int
frame(struct gen *g, uint32_t i, int c2s, uint8_t flags, uint32_t seq, uint32_t ack,
      const char *payload, uint32_t len)
{
	uint8_t f[HDR_LEN + 64], rec[16];
	uint32_t client = CLIENT_NET + 1 + i / PORTS_PER_CLIENT;
	uint16_t cport = (uint16_t)(FIRST_PORT + i % PORTS_PER_CLIENT);
	uint8_t *ip = f + ETH_LEN, *tcp = ip + IP_LEN;
	uint32_t sum;

	memset(f, 0, HDR_LEN);
	/* Ethernet: locally administered MACs, one per side. */
	f[0] = 0x02;
	f[5] = c2s ? 2 : 1;
	f[6] = 0x02;
	f[11] = c2s ? 1 : 2;
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IP_LEN + TCP_LEN + len));
	ip[6] = 0x40;	/* DF */
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, c2s ? client : SERVER_ADDR);
	put32(ip + 16, c2s ? SERVER_ADDR : client);
	put16(ip + 10, fold(sum16(ip, IP_LEN, 0)));
	put16(tcp, c2s ? cport : SERVER_PORT);
	put16(tcp + 2, c2s ? SERVER_PORT : cport);
	put32(tcp + 4, seq);
	put32(tcp + 8, (flags & TH_ACK) ? ack : 0);
	tcp[12] = TCP_LEN / 4 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	memcpy(tcp + TCP_LEN, payload, len);
	/* Pseudo-header, then the segment. */
	sum = sum16(ip + 12, 8, 0) + 6 + TCP_LEN + len;
	put16(tcp + 16, fold(sum16(tcp, TCP_LEN + len, sum)));

	put32le(rec, (uint32_t)(g->now_ns / 1000000000u));
	put32le(rec + 4, (uint32_t)(g->now_ns % 1000000000u / 1000u));
	put32le(rec + 8, HDR_LEN + len);
	put32le(rec + 12, HDR_LEN + len);
	g->now_ns += FRAME_GAP_NS;
	g->frames++;
	if (fwrite(rec, sizeof(rec), 1, g->out) != 1 ||
	    fwrite(f, HDR_LEN + len, 1, g->out) != 1)
		return -EIO;
	return 0;
}

/* Client and server sequence numbers after k exchanges. */
#define CSEQ(k) (ISN_CLIENT + 1 + (k) * REQ_LEN)
#define SSEQ(k) (ISN_SERVER + 1 + (k) * RESP_LEN)

static int
generate(struct gen *g, uint32_t n)
{
	uint8_t hdr[24];
	uint32_t i, k;
	int rc = 0;

	put32le(hdr, 0xa1b2c3d4u);	/* microsecond pcap */
	hdr[4] = 2;
	hdr[5] = 0;
	hdr[6] = 4;
	hdr[7] = 0;
	memset(hdr + 8, 0, 8);
	put32le(hdr + 16, 65535);	/* snap length */
	put32le(hdr + 20, 1);		/* Ethernet */
	if (fwrite(hdr, sizeof(hdr), 1, g->out) != 1)
		return -EIO;
	g->now_ns = 1700000000ull * 1000000000ull;

	for (i = 0; i < n && rc == 0; i++) {
		rc |= frame(g, i, 1, TH_SYN, ISN_CLIENT, 0, "", 0);
		rc |= frame(g, i, 0, TH_SYN | TH_ACK, ISN_SERVER, CSEQ(0), "", 0);
		rc |= frame(g, i, 1, TH_ACK, CSEQ(0), SSEQ(0), "", 0);
	}
	for (k = 0; k < 2; k++) {
		for (i = 0; i < n && rc == 0; i++)
			rc |= frame(g, i, 1, TH_PSH | TH_ACK, CSEQ(k), SSEQ(k), request, REQ_LEN);
		for (i = 0; i < n && rc == 0; i++)
			rc |= frame(g, i, 0, TH_PSH | TH_ACK, SSEQ(k), CSEQ(k + 1), response,
				    RESP_LEN);
	}
	for (i = 0; i < n && rc == 0; i++) {
		rc |= frame(g, i, 1, TH_FIN | TH_ACK, CSEQ(2), SSEQ(2), "", 0);
		rc |= frame(g, i, 0, TH_FIN | TH_ACK, SSEQ(2), CSEQ(2) + 1, "", 0);
		rc |= frame(g, i, 1, TH_ACK, CSEQ(2) + 1, SSEQ(2) + 1, "", 0);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	static char buf[1 << 20];
	struct gen g = {0};
	unsigned long n;
	char *end;

	if (argc != 3) {
		fprintf(stderr, "usage: %s N OUT.pcap\n", argv[0]);
		return 2;
	}
	errno = 0;
	n = strtoul(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || n == 0 || n > MAX_CONNS) {
		fprintf(stderr, "%s: N: expected 1..%u connections\n", argv[0], MAX_CONNS);
		return 2;
	}
	g.out = fopen(argv[2], "wb");
	if (g.out == NULL) {
		perror(argv[2]);
		return 1;
	}
	setvbuf(g.out, buf, _IOFBF, sizeof(buf));
	if (generate(&g, (uint32_t)n) != 0 || fclose(g.out) != 0) {
		fprintf(stderr, "%s: writing %s failed\n", argv[0], argv[2]);
		return 1;
	}
	printf("%lu connections, %llu frames\n", n, (unsigned long long)g.frames);
	return 0;
}
