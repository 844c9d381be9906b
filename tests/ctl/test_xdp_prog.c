/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite 'ctl' (root): kapa's XDP program (ebpf/kapa_xdp.bpf.c) loaded into
 * the running kernel through its skeleton, with frames run through it by
 * BPF_PROG_TEST_RUN: which way each kind of frame goes (the socket of its
 * queue, or the peer), told by the program's own counters. No socket is
 * bound here, so a frame for the socket shows as `failopen` and goes to the
 * peer (the bridge's fail-open path); tests/ctl/xdp_bridge.sh binds real
 * sockets on veths.
 *
 * Without root every test FAILS with the reason.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kapa_xdp.h"
#include "kapa_xdp.skel.h"
#include "ctl_test.h"
#include "unit.h"

static struct kapa_xdp *skel;
static int ncpu;

/* ---- frames ---------------------------------------------------------- */

struct frame {
	uint8_t b[512];
	unsigned int len;
};

static void
put(struct frame *f, const void *p, unsigned int n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void
put16(struct frame *f, uint16_t v)
{
	v = htons(v);
	put(f, &v, 2);
}

static void
put8(struct frame *f, uint8_t v)
{
	put(f, &v, 1);
}

static void
zeros(struct frame *f, unsigned int n)
{
	memset(f->b + f->len, 0, n);
	f->len += n;
}

/* Ethernet with @p ntags VLAN tags of TPIDs @p tpid, then @p type. */
static void
eth(struct frame *f, unsigned int ntags, const uint16_t *tpid, uint16_t type)
{
	static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	unsigned int i;

	f->len = 0;
	put(f, mac, sizeof(mac));
	for (i = 0; i < ntags; i++) {
		put16(f, tpid[i]);
		put16(f, (uint16_t)(100 + i));	/* TCI */
	}
	put16(f, type);
}

/* IPv4 header with @p optlen bytes of options (NOPs), no checksum. */
static void
ip4(struct frame *f, uint8_t proto, uint16_t frag, unsigned int optlen, unsigned int l4len)
{
	unsigned int ihl = 20 + optlen;

	put8(f, (uint8_t)(0x40 | (ihl / 4)));
	put8(f, 0);
	put16(f, (uint16_t)(ihl + l4len));
	put16(f, 1);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put(f, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8);	/* 198.18.0.1 > 198.18.0.2 */
	memset(f->b + f->len, 1, optlen);
	f->len += optlen;
}

static void
ip6(struct frame *f, uint8_t nh, unsigned int plen)
{
	static const uint8_t a[32] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1,
				       0x20, 0x01, 0x0d, 0xb8, [31] = 2 };

	put16(f, 0x6000);
	put16(f, 0);
	put16(f, (uint16_t)plen);
	put8(f, nh);
	put8(f, 64);
	put(f, a, sizeof(a));
}

/* An IPv6 extension header of 8 bytes: next header, length 0. */
static void
ip6_ext(struct frame *f, uint8_t nh)
{
	put8(f, nh);
	put8(f, 0);
	zeros(f, 6);
}

static void
ip6_frag(struct frame *f, uint8_t nh, uint16_t off_m)
{
	put8(f, nh);
	put8(f, 0);
	put16(f, off_m);
	put(f, "\0\0\0\x2a", 4);
}

static void
tcp(struct frame *f, uint16_t sport, uint16_t dport)
{
	put16(f, sport);
	put16(f, dport);
	zeros(f, 8);
	put16(f, 0x5002);	/* data offset 5, SYN */
	put16(f, 65535);
	zeros(f, 4);
}

static void
udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, 8);
	put16(f, 0);
}

/* ---- the program ------------------------------------------------------ */

/* Configure: @p ports (zero-terminated, NULL = every TCP port), peer
 * @p peer (0: none). */
static int
configure(const uint16_t *ports, uint32_t peer)
{
	static struct kapa_xdp_ports set;
	struct kapa_xdp_cfg cfg;
	uint32_t zero = 0;
	int fd_peer = bpf_map__fd(skel->maps.kapa_xdp_peer);

	memset(&set, 0, sizeof(set));
	memset(&cfg, 0, sizeof(cfg));
	cfg.abi_version = KAPA_XDP_ABI_VERSION;
	cfg.flags = KAPA_XDP_F_CONFIGURED | (ports == NULL ? KAPA_XDP_F_ALL_TCP : 0);
	for (; ports != NULL && *ports != 0; ports++)
		set.bits[*ports / 64] |= UINT64_C(1) << (*ports % 64);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.kapa_xdp_ports), &zero, &set, BPF_ANY))
		return -errno;
	if (peer != 0 ? bpf_map_update_elem(fd_peer, &zero, &peer, BPF_ANY) :
			bpf_map_delete_elem(fd_peer, &zero) && errno != ENOENT)
		return -errno;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.kapa_xdp_cfg), &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

static int
read_stats(struct kapa_xdp_stats_rec *sum)
{
	struct kapa_xdp_stats_rec per[ncpu];
	uint32_t zero = 0;
	int c;

	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.kapa_xdp_stats), &zero, per) != 0)
		return -errno;
	for (c = 0; c < ncpu; c++) {
#define ADD(field, name, help) sum->field += per[c].field;
		KAPA_XDP_COUNTERS(ADD)
#undef ADD
	}
	return 0;
}

/* What a frame did: the verdict and the counters it moved. */
struct outcome {
	int ret;
	struct kapa_xdp_stats_rec d;
};

static struct outcome
run(const struct frame *f)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b, .data_size_in = f->len,
		    .repeat = 1);
	struct kapa_xdp_stats_rec a, b;
	struct outcome o;

	memset(&o, 0, sizeof(o));
	o.ret = -1;
	if (read_stats(&a) != 0)
		return o;
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.kapa_xdp), &opts) != 0)
		return o;
	if (read_stats(&b) != 0)
		return o;
	o.ret = (int)opts.retval;
#define DIFF(field, name, help) o.d.field = b.field - a.field;
	KAPA_XDP_COUNTERS(DIFF)
#undef DIFF
	return o;
}

/* The frame went to the socket's path: no socket, so fail open to the peer. */
#define ASSERT_SOCKET(f) do {						\
		struct outcome o_ = run(f);				\
		CU_ASSERT_EQUAL(o_.ret, XDP_REDIRECT);			\
		CU_ASSERT_EQUAL(o_.d.failopen, 1);			\
		CU_ASSERT_EQUAL(o_.d.to_peer, 1);			\
		CU_ASSERT_EQUAL(o_.d.to_socket + o_.d.no_peer, 0);	\
	} while (0)

/* The frame went straight to the peer. */
#define ASSERT_PEER(f) do {						\
		struct outcome o_ = run(f);				\
		CU_ASSERT_EQUAL(o_.ret, XDP_REDIRECT);			\
		CU_ASSERT_EQUAL(o_.d.to_peer, 1);			\
		CU_ASSERT_EQUAL(o_.d.failopen + o_.d.to_socket + o_.d.no_peer, 0); \
		CU_ASSERT_EQUAL(o_.d.tcp_frags, 0);			\
	} while (0)

static const uint16_t port80[] = { 80, 0 };
static const uint16_t t8100[] = { 0x8100 };
static const uint16_t tqinq[] = { 0x88a8, 0x8100 };
static const uint16_t t3[] = { 0x88a8, 0x8100, 0x8100 };

static uint32_t
lo_index(void)
{
	return if_nametoindex("lo");
}

static int
suite_init(void)
{
	if (!ctl_test_root_and_bpffs("test_xdp_prog"))
		return 0;	/* each test fails with the reason */
	ncpu = libbpf_num_possible_cpus();
	skel = kapa_xdp__open_and_load();
	if (skel == NULL)
		fprintf(stderr, "\ntest_xdp_prog: the kernel refused kapa_xdp.bpf.o: %s\n",
			strerror(errno));
	return 0;
}

static int
suite_clean(void)
{
	kapa_xdp__destroy(skel);
	skel = NULL;
	return 0;
}

#define NEED_PROG() do {						\
		CU_ASSERT_PTR_NOT_NULL_FATAL(skel);			\
	} while (0)

/* Before the setup: everything is for the socket (as DPDK's own program
 * would do), and with neither socket nor peer it is dropped, counted. */
static void
test_unconfigured(void)
{
	struct frame f;
	struct outcome o;

	NEED_PROG();
	eth(&f, 0, NULL, 0x0806);
	zeros(&f, 28);
	o = run(&f);
	CU_ASSERT_EQUAL(o.ret, XDP_DROP);
	CU_ASSERT_EQUAL(o.d.failopen, 1);
	CU_ASSERT_EQUAL(o.d.no_peer, 1);
	CU_ASSERT_EQUAL(o.d.to_peer + o.d.to_socket, 0);
}

static void
test_ipv4(void)
{
	struct frame f;

	NEED_PROG();
	CU_ASSERT_EQUAL_FATAL(configure(port80, lo_index()), 0);
	eth(&f, 0, NULL, 0x0800);		/* to port 80 */
	ip4(&f, 6, 0, 0, 20);
	tcp(&f, 40000, 80);
	ASSERT_SOCKET(&f);
	eth(&f, 0, NULL, 0x0800);		/* from port 80 */
	ip4(&f, 6, 0, 0, 20);
	tcp(&f, 80, 40000);
	ASSERT_SOCKET(&f);
	eth(&f, 0, NULL, 0x0800);		/* another port */
	ip4(&f, 6, 0, 0, 20);
	tcp(&f, 40000, 8080);
	ASSERT_PEER(&f);
	eth(&f, 0, NULL, 0x0800);		/* options: 40 bytes */
	ip4(&f, 6, 0, 40, 20);
	tcp(&f, 40000, 80);
	ASSERT_SOCKET(&f);
	eth(&f, 0, NULL, 0x0800);
	ip4(&f, 6, 0, 40, 20);
	tcp(&f, 40000, 81);
	ASSERT_PEER(&f);
	eth(&f, 0, NULL, 0x0800);		/* UDP to port 80 */
	ip4(&f, 17, 0, 0, 8);
	udp(&f, 40000, 80);
	ASSERT_PEER(&f);
	eth(&f, 0, NULL, 0x0806);		/* ARP */
	zeros(&f, 28);
	ASSERT_PEER(&f);
}

static void
test_vlan(void)
{
	struct frame f;
	struct outcome o;

	NEED_PROG();
	CU_ASSERT_EQUAL_FATAL(configure(port80, lo_index()), 0);
	eth(&f, 1, t8100, 0x0800);
	ip4(&f, 6, 0, 0, 20);
	tcp(&f, 40000, 80);
	ASSERT_SOCKET(&f);
	eth(&f, 2, tqinq, 0x86dd);
	ip6(&f, 6, 20);
	tcp(&f, 80, 40000);
	ASSERT_SOCKET(&f);
	eth(&f, 2, tqinq, 0x0800);
	ip4(&f, 6, 0, 0, 20);
	tcp(&f, 40000, 8080);
	ASSERT_PEER(&f);
	/* A third tag is not walked: to the peer, counted. */
	eth(&f, 3, t3, 0x0800);
	ip4(&f, 6, 0, 0, 20);
	tcp(&f, 40000, 80);
	o = run(&f);
	CU_ASSERT_EQUAL(o.ret, XDP_REDIRECT);
	CU_ASSERT_EQUAL(o.d.unparsed, 1);
	CU_ASSERT_EQUAL(o.d.to_peer, 1);
	CU_ASSERT_EQUAL(o.d.failopen, 0);
	/* MPLS: not walked either. */
	eth(&f, 0, NULL, 0x8847);
	zeros(&f, 40);
	o = run(&f);
	CU_ASSERT_EQUAL(o.d.unparsed, 1);
	CU_ASSERT_EQUAL(o.d.to_peer, 1);
}

/* Fragments of TCP carry no ports after the first: all are kapa's. */
static void
test_fragments(void)
{
	struct frame f;
	struct outcome o;

	NEED_PROG();
	CU_ASSERT_EQUAL_FATAL(configure(port80, lo_index()), 0);
	eth(&f, 0, NULL, 0x0800);		/* first fragment, another port */
	ip4(&f, 6, 0x2000, 0, 20);
	tcp(&f, 40000, 8080);
	o = run(&f);
	CU_ASSERT_EQUAL(o.d.tcp_frags, 1);
	CU_ASSERT_EQUAL(o.d.failopen, 1);
	eth(&f, 0, NULL, 0x0800);		/* a later fragment: offset 185 x 8 */
	ip4(&f, 6, 185, 0, 20);
	zeros(&f, 20);
	o = run(&f);
	CU_ASSERT_EQUAL(o.d.tcp_frags, 1);
	CU_ASSERT_EQUAL(o.d.failopen, 1);
	eth(&f, 0, NULL, 0x0800);		/* fragment of UDP */
	ip4(&f, 17, 0x2000, 0, 8);
	udp(&f, 40000, 80);
	ASSERT_PEER(&f);
	eth(&f, 0, NULL, 0x86dd);		/* IPv6 fragment of TCP, offset 0, M */
	ip6(&f, 44, 28);
	ip6_frag(&f, 6, 0x0001);
	tcp(&f, 40000, 8080);
	o = run(&f);
	CU_ASSERT_EQUAL(o.d.tcp_frags, 1);
	CU_ASSERT_EQUAL(o.d.failopen, 1);
	eth(&f, 0, NULL, 0x86dd);		/* later IPv6 fragment */
	ip6(&f, 44, 28);
	ip6_frag(&f, 6, 0x0100);
	zeros(&f, 20);
	o = run(&f);
	CU_ASSERT_EQUAL(o.d.tcp_frags, 1);
	eth(&f, 0, NULL, 0x86dd);		/* IPv6 fragment of UDP */
	ip6(&f, 44, 16);
	ip6_frag(&f, 17, 0x0001);
	udp(&f, 40000, 80);
	ASSERT_PEER(&f);
	eth(&f, 0, NULL, 0x86dd);		/* atomic fragment: ports are read */
	ip6(&f, 44, 28);
	ip6_frag(&f, 6, 0);
	tcp(&f, 40000, 8080);
	ASSERT_PEER(&f);
	eth(&f, 0, NULL, 0x86dd);
	ip6(&f, 44, 28);
	ip6_frag(&f, 6, 0);
	tcp(&f, 40000, 80);
	ASSERT_SOCKET(&f);
}

static void
test_ipv6_ext(void)
{
	struct frame f;
	struct outcome o;
	int i;

	NEED_PROG();
	CU_ASSERT_EQUAL_FATAL(configure(port80, lo_index()), 0);
	eth(&f, 0, NULL, 0x86dd);
	ip6(&f, 6, 20);
	tcp(&f, 40000, 80);
	ASSERT_SOCKET(&f);
	eth(&f, 0, NULL, 0x86dd);		/* hop-by-hop, routing, dest opts */
	ip6(&f, 0, 44);
	ip6_ext(&f, 43);
	ip6_ext(&f, 60);
	ip6_ext(&f, 6);
	tcp(&f, 40000, 80);
	ASSERT_SOCKET(&f);
	eth(&f, 0, NULL, 0x86dd);		/* AH: length in 4-byte units - 2 */
	ip6(&f, 51, 36);
	put8(&f, 6);
	put8(&f, 2);			/* (2 + 2) * 4 = 16 bytes */
	zeros(&f, 14);
	tcp(&f, 80, 40000);
	ASSERT_SOCKET(&f);
	eth(&f, 0, NULL, 0x86dd);		/* UDP behind an extension */
	ip6(&f, 60, 16);
	ip6_ext(&f, 17);
	udp(&f, 40000, 80);
	ASSERT_PEER(&f);
	eth(&f, 0, NULL, 0x86dd);		/* ESP: nothing to read */
	ip6(&f, 50, 20);
	zeros(&f, 20);
	ASSERT_PEER(&f);
	/* Nine destination options: past the walk, to the peer, counted. */
	eth(&f, 0, NULL, 0x86dd);
	ip6(&f, 60, 9 * 8 + 20);
	for (i = 0; i < 8; i++)
		ip6_ext(&f, 60);
	ip6_ext(&f, 6);
	tcp(&f, 40000, 80);
	o = run(&f);
	CU_ASSERT_EQUAL(o.ret, XDP_REDIRECT);
	CU_ASSERT_EQUAL(o.d.unparsed, 1);
	CU_ASSERT_EQUAL(o.d.to_peer, 1);
	CU_ASSERT_EQUAL(o.d.failopen, 0);
	/* Eight: walked. */
	eth(&f, 0, NULL, 0x86dd);
	ip6(&f, 60, 8 * 8 + 20);
	for (i = 0; i < 7; i++)
		ip6_ext(&f, 60);
	ip6_ext(&f, 6);
	tcp(&f, 40000, 80);
	ASSERT_SOCKET(&f);
}

/* Headers that end early go to the peer, counted. */
static void
test_malformed(void)
{
	struct frame f;
	struct outcome o;

	NEED_PROG();
	CU_ASSERT_EQUAL_FATAL(configure(port80, lo_index()), 0);
	eth(&f, 0, NULL, 0x0800);		/* 10 bytes of IPv4 */
	zeros(&f, 10);
	o = run(&f);
	CU_ASSERT_EQUAL(o.d.malformed, 1);
	CU_ASSERT_EQUAL(o.d.to_peer, 1);
	eth(&f, 0, NULL, 0x0800);		/* IHL 4 */
	ip4(&f, 6, 0, 0, 20);
	f.b[14] = 0x44;
	tcp(&f, 40000, 80);
	o = run(&f);
	CU_ASSERT_EQUAL(o.d.malformed, 1);
	eth(&f, 0, NULL, 0x0800);		/* options past the end */
	ip4(&f, 6, 0, 0, 0);
	f.b[14] = 0x4f;
	o = run(&f);
	CU_ASSERT_EQUAL(o.d.malformed, 1);
	CU_ASSERT_EQUAL(o.d.failopen, 0);
	eth(&f, 0, NULL, 0x86dd);		/* ports cut */
	ip6(&f, 6, 2);
	put16(&f, 80);
	o = run(&f);
	CU_ASSERT_EQUAL(o.d.malformed, 1);
	eth(&f, 1, t8100, 0x0800);		/* tag cut */
	f.len -= 2;
	o = run(&f);
	CU_ASSERT_EQUAL(o.d.malformed, 1);
}

/* kapa-dp without --ports: every TCP segment is inspected. */
static void
test_all_tcp(void)
{
	struct frame f;

	NEED_PROG();
	CU_ASSERT_EQUAL_FATAL(configure(NULL, lo_index()), 0);
	eth(&f, 0, NULL, 0x0800);
	ip4(&f, 6, 0, 0, 20);
	tcp(&f, 40000, 8080);
	ASSERT_SOCKET(&f);
	eth(&f, 0, NULL, 0x0800);
	ip4(&f, 17, 0, 0, 8);
	udp(&f, 40000, 8080);
	ASSERT_PEER(&f);
}

/* No peer: dropped and counted, never passed to this host's stack. */
static void
test_no_peer(void)
{
	struct frame f;
	struct outcome o;

	NEED_PROG();
	CU_ASSERT_EQUAL_FATAL(configure(port80, 0), 0);
	eth(&f, 0, NULL, 0x0800);
	ip4(&f, 17, 0, 0, 8);
	udp(&f, 40000, 53);
	o = run(&f);
	CU_ASSERT_EQUAL(o.ret, XDP_DROP);
	CU_ASSERT_EQUAL(o.d.no_peer, 1);
	CU_ASSERT_EQUAL(o.d.to_peer, 0);
}

int
kapa_unit_register(void)
{
	CU_pSuite s = CU_add_suite("xdp_prog", suite_init, suite_clean);

	if (s == NULL ||
	    CU_add_test(s, "before the setup: all for the socket", test_unconfigured) == NULL ||
	    CU_add_test(s, "IPv4: inspected ports, options, UDP, ARP", test_ipv4) == NULL ||
	    CU_add_test(s, "VLAN and QinQ; three tags and MPLS not walked", test_vlan) == NULL ||
	    CU_add_test(s, "fragments of TCP to the socket", test_fragments) == NULL ||
	    CU_add_test(s, "IPv6 extension headers", test_ipv6_ext) == NULL ||
	    CU_add_test(s, "headers that end early", test_malformed) == NULL ||
	    CU_add_test(s, "all TCP (no --ports)", test_all_tcp) == NULL ||
	    CU_add_test(s, "no peer: dropped, counted", test_no_peer) == NULL)
		return -1;
	return 0;
}
