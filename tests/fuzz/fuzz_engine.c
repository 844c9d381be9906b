/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of the engine's actions: one connection of the engine
 * bench (tests/unit/engine_bench.h: real frames, endpoints that acknowledge
 * what they received) under a policy the input picks, driven by HTTP
 * messages cut into segments the input chooses, sent in order or reversed,
 * retransmitted with other cuts, with pure ACKs, SACKs, FINs, garbage and
 * time passing. After every step:
 *  - every frame the engine forwarded or crafted parses and its IP and TCP
 *    checksums verify (the bench checks each one);
 *  - neither end ever receives one byte twice with two values (the client's
 *    stream is shifted consistently, retransmissions edited identically);
 *  - what the client received, with Connection / Keep-Alive / X-Kapa-Old
 *    field lines removed, is a prefix of what the server sent with those
 *    lines removed: the original plus insertions, nothing else changed;
 *  - what the server received is a prefix of what the client sent (refused
 *    requests are cut, never altered);
 *  - every RST (and crafted FIN) an end receives is at exactly its next
 *    sequence number, as long as kapa skipped no bytes (a gap moves kapa
 *    past a hole the end still waits on) and followed the connection from
 *    its start (an old segment resent after the close is picked up as a new
 *    connection).
 * ASan and UBSan catch the rest. EAL is started once, without hugepages.
 *
 * Segments with a wrong TCP checksum (an operation's kind byte 250 and up
 * makes the next frame sent one) are dropped by the end they reach, so
 * kapa must ignore them: the oracle above holds only if it does, and each
 * is counted once on both sides (the engine's csum_bad, the bench's
 * bad_csum). On a picked-up connection, a direction whose first bytes came
 * only in such segments starts, for kapa, after bytes its receiver still
 * waits for (no end here sends them again): kapa did not follow that
 * connection from its start, and the RST checks do not apply.
 *
 * Input: byte 0 the policy (mode, timeout, max, stall), byte 1 the set-up
 * (family, client MSS, SACK, handshake or pickup), then operations of 3
 * bytes: the kind, then two arguments (see step()).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The frame log is the unit test's: not needed here (a debugging build
 * may ask for it: -DBENCH_OUT=512). */
#ifndef BENCH_OUT
#define BENCH_OUT 1
#endif
#include "engine_bench.h"
#include "kapa_eal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void dump(void);

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_engine: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			dump();						\
			abort();					\
		}							\
	} while (0)

static const char *const requests[] = {
	"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /a HTTP/1.1\r\nConnection: keep-alive\r\nKeep-Alive: timeout=30\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	"POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
	"GET /c HTTP/1.1\r\nConnection: close\r\n\r\n",
	"HEAD / HTTP/1.1\n\n",
};

static const char *const responses[] = {
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\nKeep-Alive: timeout=5, max=100\r\n"
	"Content-Length: 3\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nKeep-Alive: timeout=3\r\nTransfer-Encoding: chunked\r\n\r\n"
	"4\r\nwxyz\r\n0\r\n\r\n",
	"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nz",
	"HTTP/1.1 204 No Content\nConnection: keep-alive, Upgrade\nKeep-Alive: 300\n\n",
	"HTTP/1.1 100 Continue\r\n\r\n",
	"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nq",
};

/* The run starts without a handshake: kapa picks the connection up. */
static int picked_up;

/* What each end sent, in its own space (for the oracle and resends). */
static uint8_t sent[2][BENCH_STREAM];
static struct bench B;

/* FUZZ_ENGINE_DEBUG, in a build with the frame log (-DBENCH_OUT=512): what
 * the engine did and sent, when a check fails. */
static void
dump(void)
{
	struct kapa_pkt p;
	uint32_t i;

	if (getenv("FUZZ_ENGINE_DEBUG") == NULL)
		return;
	for (i = 0; i < B.nacts; i++)
		fprintf(stderr, "action %s %s\n", kapa_act_kind_name(B.acts[i].kind),
			kapa_act_why_name(B.acts[i].why));
	for (i = 0; i < B.nout && BENCH_OUT > 1; i++) {
		if (kapa_pkt_parse(B.out[i].data, B.out[i].len, KAPA_L2_ETHER, &p) != KAPA_PKT_TCP)
			continue;
		fprintf(stderr, "out %u %s%s seq +%u ack +%u flags %02x len %u\n", i,
			B.out[i].dir ? "to cli" : "to srv", B.out[i].crafted ? " crafted" : "",
			p.seq - (B.out[i].dir ? B.sisn : B.cisn),
			p.ack - (B.out[i].dir ? B.cisn : B.sisn), p.tcp_flags, p.payload_len);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (kapa_eal_init_offline("fuzz_engine", 256) != 0)
		abort();
	return 0;
}

/* Send [from, from + len) of an end's stream in @p pieces cut by @p cuts,
 * reversed when @p rev (out of order: the later pieces are held). */
static void
send_range(int srv, uint32_t from, uint32_t len, uint8_t cuts, int rev)
{
	uint32_t isn = srv ? B.sisn : B.cisn, at[5], n = 0, i, lo, hi;

	at[n++] = from;
	for (i = 0; i < 3 && len > 1; i++) {
		uint32_t c = from + 1 + ((uint32_t)(cuts >> (2 * i)) * 7919u) % (len - 1);

		if (c > at[n - 1])
			at[n++] = c;
	}
	at[n] = from + len;
	for (i = 0; i < n; i++) {
		uint32_t k = rev ? n - 1 - i : i;

		lo = at[k];
		hi = at[k + 1];
		if (hi <= lo)
			continue;
		if (getenv("FUZZ_ENGINE_DEBUG") != NULL)
			fprintf(stderr, "send %s [%u, %u)\n", srv ? "srv" : "cli", lo, hi);
		bench_send(&B, srv, isn + 1 + lo, bench_ack(&B, srv),
			   KAPA_TCP_ACK | KAPA_TCP_PSH, sent[srv] + lo, hi - lo, NULL);
	}
}

static void
send_msg(int srv, const char *text, uint8_t cuts, int rev)
{
	uint64_t *off = srv ? &B.soff : &B.coff;
	uint32_t len = (uint32_t)strlen(text);

	if (*off + len >= BENCH_STREAM / 2 || B.fin_sent[srv])
		return;
	memcpy(sent[srv] + *off, text, len);
	send_range(srv, (uint32_t)*off, len, cuts, rev);
	*off += len;
}

static size_t
strip_fields(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t i = 0, o = 0, e;

	while (i < n) {
		const uint8_t *nl = memchr(in + i, '\n', n - i);
		size_t end = nl != NULL ? (size_t)(nl - in) + 1 : n;
		const char *const names[] = { "connection", "keep-alive", "x-kapa-old" };
		int drop = 0;

		for (int k = 0; k < 3 && nl != NULL; k++) {
			size_t l = strlen(names[k]);

			if (end - i > l && strncasecmp((const char *)in + i, names[k], l) == 0) {
				for (e = i + l; e < end && (in[e] == ' ' || in[e] == '\t'); e++)
					;
				drop |= e < end && in[e] == ':';
			}
		}
		if (!drop) {
			memcpy(out + o, in + i, end - i);
			o += end - i;
		}
		i = end;
	}
	return o;
}

static void
check_streams(void)
{
	static uint8_t a[BENCH_STREAM], b[BENCH_STREAM];
	const struct bench_rcv *cli = &B.rcv[KAPA_DIR_S2C], *srv = &B.rcv[KAPA_DIR_C2S];
	const struct kapa_tcp_stats *ts = kapa_tcp_stats(kapa_engine_tcp(B.e));
	size_t na, nb, got;

	/* only the segments sent with a wrong checksum, forwarded as they were */
	CHECK(B.bad_csum == kapa_engine_stats(B.e)->csum_bad);
	CHECK(B.bad_parse == 0);
	CHECK(cli->conflicts == 0 && srv->conflicts == 0);
	/* the server gets the client's bytes, cut but never changed */
	CHECK(srv->nxt <= B.coff);
	CHECK(memcmp(srv->buf, sent[0], srv->nxt) == 0);
	/* the client gets the server's bytes with field lines changed only;
	 * a line the client has not received whole yet is left out */
	got = cli->nxt;
	while (got > 0 && cli->buf[got - 1] != '\n')
		got--;
	nb = strip_fields(cli->buf, got, b);
	na = strip_fields(sent[1], (size_t)B.soff, a);
	CHECK(nb <= na);
	CHECK(memcmp(a, b, nb) == 0);
	if (getenv("FUZZ_ENGINE_DEBUG") != NULL)
		fprintf(stderr, "check: srv nxt %u rst %u/%u, cli nxt %u rst %u/%u, gaps %llu\n",
			srv->nxt, srv->rst, srv->rst_bad, cli->nxt, cli->rst, cli->rst_bad,
			(unsigned long long)ts->gaps);
	/* kapa knows the sequence numbers an end expects as long as it skipped
	 * nothing and the connection is the one it has followed from the start:
	 * after a close, a resend of old bytes is picked up as a new connection
	 * (kapa cannot know what came before it) */
	if (ts->gaps == 0 && ts->conns_opened + ts->conns_midstream == 1 &&
	    !(picked_up && B.csum_wrong_first[0] + B.csum_wrong_first[1] != 0)) {
		CHECK(cli->rst_bad == 0);
		CHECK(srv->rst_bad == 0);
		CHECK(cli->fin_bad == 0);
		CHECK(srv->fin_bad == 0);
	}
}

/* One operation: kind in @p k, arguments @p x, @p y. */
static void
step(uint8_t k, uint8_t x, uint8_t y)
{
	uint32_t o;

	if (k >= 250)	/* the receiver drops it: its TCP or IPv4 header checksum */
		B.csum_next = k >= 253 ? BENCH_CSUM_IP_WRONG : BENCH_CSUM_WRONG;
	switch (k % 10) {
	case 0:		/* a request, cut by y */
	case 1:
		send_msg(0, requests[x % (sizeof(requests) / sizeof(requests[0]))], y, 0);
		break;
	case 2:		/* a response, cut by y, in order or reversed */
	case 3:
		send_msg(1, responses[x % (sizeof(responses) / sizeof(responses[0]))], y,
			 k % 10 == 3);
		break;
	case 4:		/* a pure ACK */
		bench_pure_ack(&B, x & 1);
		break;
	case 5:		/* time passes: up to 2.5 s */
		bench_wait(&B, (uint64_t)x * 10);
		break;
	case 6:		/* the server resends a piece of what it sent, cut anew */
		if (B.soff == 0)
			break;
		o = (uint32_t)((x * 257u) % B.soff);
		send_range(1, o, (uint32_t)(1 + (y * 31u) % (B.soff - o)), y, y & 1);
		break;
	case 7: {	/* a client ACK with a SACK block in its own (shifted) space */
		struct bench_opts so = { 0 };
		uint32_t base = B.sisn + 1, top = B.rcv[KAPA_DIR_S2C].max;

		so.sack[0] = base + (top != 0 ? (x * 13u) % (top + 1) : 0);
		so.sack[1] = so.sack[0] + 1 + y;
		bench_send(&B, 0, B.cisn + 1 + (uint32_t)B.coff + (uint32_t)B.fin_sent[0],
			   bench_ack(&B, 0), KAPA_TCP_ACK, NULL, 0, &so);
		break;
	}
	case 8:		/* a FIN: that end sends nothing new after it */
		bench_fin(&B, x & 1);
		break;
	default: {	/* bytes that are not HTTP */
		char junk[16];

		memset(junk, 'A' + (y % 26), sizeof(junk));
		junk[sizeof(junk) - 1] = '\0';
		send_msg(x & 1, junk, y, 0);
		break;
	}
	}
	check_streams();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const modes[] = { "observe", "enforce", "advertise" };
	static const uint32_t timeouts[] = { 0, 1, 2, 5 }, maxes[] = { 0, 1, 2, 3 };
	static const uint16_t mss[] = { 0, 60, 100, 1460 };
	char spec[128];
	size_t i;

	if (size < 2)
		return 0;
	snprintf(spec, sizeof(spec), "mode=%s,timeout=%u,max=%u,stall=%u",
		 modes[data[0] % 3], timeouts[(data[0] >> 2) & 3], maxes[(data[0] >> 4) & 3],
		 (data[0] >> 6) * 2u);
	CHECK(bench_init(&B, (data[1] & 1) ? 6 : 4, spec, NULL, 8) == 0);
	B.cmss = mss[(data[1] >> 1) & 3];
	B.sack = (data[1] >> 3) & 1;
	memset(sent, 0, sizeof(sent));
	picked_up = (data[1] >> 4) & 1;
	if (!picked_up)
		bench_handshake(&B);
	for (i = 2; i + 3 <= size && i < 2 + 3 * 200; i += 3)
		step(data[i], data[i + 1], data[i + 2]);
	bench_wait(&B, 20000);
	check_streams();
	bench_fini(&B);
	return 0;
}
