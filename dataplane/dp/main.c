/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kapa-dp: kapa's data plane on DPDK ports. Start-up and shutdown only; the
 * packet path is worker.c.
 *
 *   EAL, options -> ports probed -> mbuf pool sized -> ports configured and
 *   started -> maps created or reused (ctl/common) -> a worker per lcore
 *   (its engine, TX queues, map slice) -> telemetry -> run until SIGINT /
 *   SIGTERM, mirroring link state -> workers stop (shifted connections reset
 *   both ways) -> counters printed -> ports stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>

#include "control.h"
#include "dispatch.h"
#include "ghost.h"
#include "kapa_args.h"
#include "kapa_http.h"
#include "kapa_mapset.h"
#include "kapa_policy.h"
#include "port.h"
#include "publish.h"
#include "worker.h"
#include "xdp.h"

#define EXIT_USAGE 2
#define DEFAULT_MAX_CONNS 65536
#define MAX_BRIDGES (RTE_MAX_ETHPORTS / 2)
/** Where the lock that keeps one data plane per map root lives. */
#define LOCK_DIR "/run/kapa"
/** The main lcore's period: control path every time, link state every 10th. */
#define DP_HOUSEKEEPING_MS 10
/** Mbufs crafted frames may hold at once, beyond what queues hold. */
#define CRAFT_RESERVE 1024
#define MEMPOOL_CACHE 256
/** The PMD whose ports run an XDP program on their interface. */
#define DP_AF_XDP_DRIVER "net_af_xdp"

_Static_assert(KAPA_HTTP_PORT_WORDS == KAPA_XDP_PORT_WORDS,
	       "--ports and the XDP program's port set must be one bitmap layout");

struct dp_opts {
	struct {
		uint16_t a, b;
	} bridge[MAX_BRIDGES];
	uint16_t nbridges;
	struct kapa_policy_args policy;
	uint64_t http_ports[KAPA_HTTP_PORT_WORDS];
	int have_ports;
	uint32_t max_conns;
	uint32_t idle_sleep_us;
	int bypass;
	int no_verify_csum;
	const char *map_root;
};

static volatile int quit;
/* SIGUSR1s received, and those the housekeeping has answered with a mark. */
static volatile unsigned marks_asked;
static unsigned marks_done;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void
on_mark(int sig)
{
	(void)sig;
	marks_asked++;
}

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [EAL options] -- --bridge A:B [--bridge C:D ...] [--policy SPEC]\n"
		"       [--rule PREFIX[:PORT]=SPEC ...] [--ports LIST] [--max-conns N]\n"
		"       [--idle-sleep-us N] [--map-root DIR] [--no-verify-checksums]\n"
		"\n"
		"kapa's data plane: bridges DPDK port pairs, tracks every TCP connection and\n"
		"its HTTP/1.x keep-alive, and enforces the keep-alive policy on the wire.\n"
		"One worker per lcore after the main one (-l 0,1,2: two workers); with one\n"
		"lcore the main lcore is the worker.\n"
		"\n"
		"  --bridge A:B   what arrives on port A leaves on port B and back\n"
		"                 (ports numbered as EAL found them: -a / --vdev order)\n"
		"  --policy SPEC  the default for servers no rule matches:\n"
		"                 timeout=S,max=N,stall=S,opaque_idle=S,\n"
		"                 mode=observe|enforce|advertise (default: observe, no limits)\n"
		"  --rule PREFIX[:PORT]=SPEC\n"
		"                 a rule for servers in PREFIX (198.18.0.0/15:80,\n"
		"                 [2001:db8::/32]:443); the most specific match wins.\n"
		"                 Held until kapad publishes a rule set.\n"
		"  --ports LIST   track HTTP/1.x only on these server ports (80,8000-8099);\n"
		"                 other connections are forwarded untouched but for the\n"
		"                 opaque idle limit. Default: every port, by content\n"
		"  --max-conns N  connections tracked at once, split across the workers\n"
		"                 (default %u); a full table evicts the longest idle\n"
		"  --idle-sleep-us N\n"
		"                 a worker that found nothing sleeps N us (0: busy poll,\n"
		"                 the default); lets servers and clients share the cores\n"
		"  --map-root DIR pinned maps (default %s); created when missing\n"
		"  --no-verify-checksums\n"
		"                 trust the TCP and IPv4 header checksums the port\n"
		"                 gave no verdict on (default: kapa verifies them, and\n"
		"                 a segment with a bad one is forwarded but not used, as its\n"
		"                 receiver drops it); for benchmarks\n"
		"  --bypass       forward without the core (the benchmarks' ceiling)\n"
		"  -h, --help     this text\n"
		"\n"
		"Stops on SIGINT or SIGTERM: connections whose sequence numbers kapa shifted\n"
		"are reset both ways, then the counters are printed. Live state: DPDK\n"
		"telemetry (/kapa/stats, /kapa/conns,N) and the pinned maps.\n",
		prog, DEFAULT_MAX_CONNS, KAPA_MAP_ROOT);
}

/* @return 0, 1 for --help, or -EINVAL (message printed). */
static int
parse_opts(int argc, char **argv, struct dp_opts *o)
{
	static const struct option longopts[] = {
		{ "bridge", required_argument, NULL, 'b' },
		{ "policy", required_argument, NULL, 'P' },
		{ "rule", required_argument, NULL, 'r' },
		{ "ports", required_argument, NULL, 'p' },
		{ "max-conns", required_argument, NULL, 'c' },
		{ "idle-sleep-us", required_argument, NULL, 's' },
		{ "map-root", required_argument, NULL, 'm' },
		{ "bypass", no_argument, NULL, 'B' },
		{ "no-verify-checksums", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[512];
	int opt, i, j;

	memset(o, 0, sizeof(*o));
	kapa_policy_args_init(&o->policy);
	o->max_conns = DEFAULT_MAX_CONNS;
	o->map_root = KAPA_MAP_ROOT;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			if (o->nbridges == MAX_BRIDGES ||
			    kapa_arg_pair(optarg, ':', RTE_MAX_ETHPORTS,
					  &o->bridge[o->nbridges].a,
					  &o->bridge[o->nbridges].b) != 0) {
				fprintf(stderr, "kapa-dp: --bridge '%s': expected two different port "
					"numbers A:B below %u\n", optarg, RTE_MAX_ETHPORTS);
				return -EINVAL;
			}
			o->nbridges++;
			break;
		case 'P':
			if (kapa_policy_args_default(&o->policy, optarg, err, sizeof(err)) != 0) {
				fprintf(stderr, "kapa-dp: --policy: %s\n", err);
				return -EINVAL;
			}
			break;
		case 'r':
			if (kapa_policy_args_rule(&o->policy, optarg, err, sizeof(err)) != 0) {
				fprintf(stderr, "kapa-dp: --rule: %s\n", err);
				return -EINVAL;
			}
			break;
		case 'p':
			if (kapa_http_parse_ports(optarg, o->http_ports) != 0) {
				fprintf(stderr, "kapa-dp: --ports '%s': expected ports or ranges "
					"(80,8000-8099) within 1..65535\n", optarg);
				return -EINVAL;
			}
			o->have_ports = 1;
			break;
		case 'c':
			if (kapa_arg_u32(optarg, 1, UINT32_MAX / 2, &o->max_conns) != 0) {
				fprintf(stderr, "kapa-dp: --max-conns '%s': expected 1..%u\n", optarg,
					UINT32_MAX / 2);
				return -EINVAL;
			}
			break;
		case 's':
			if (kapa_arg_u32(optarg, 0, 1000000, &o->idle_sleep_us) != 0) {
				fprintf(stderr, "kapa-dp: --idle-sleep-us '%s': expected 0..1000000\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'm':
			o->map_root = optarg;
			break;
		case 'B':
			o->bypass = 1;
			break;
		case 'K':
			o->no_verify_csum = 1;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kapa-dp: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->nbridges == 0) {
		fprintf(stderr, "kapa-dp: no --bridge A:B given: nothing to forward\n");
		return -EINVAL;
	}
	for (i = 0; i < o->nbridges; i++)
		for (j = 0; j < i; j++)
			if (o->bridge[i].a == o->bridge[j].a || o->bridge[i].a == o->bridge[j].b ||
			    o->bridge[i].b == o->bridge[j].a || o->bridge[i].b == o->bridge[j].b) {
				fprintf(stderr, "kapa-dp: --bridge: a port is in two bridges\n");
				return -EINVAL;
			}
	return 0;
}

/* ---- the running data plane ----------------------------------------------------- */

struct dp_main {
	struct dp_opts o;
	struct dp_port ports[RTE_MAX_ETHPORTS];
	uint16_t nworkers;
	uint32_t per_worker;
	struct rte_mempool *pool;
	struct dp_dispatch *dispatch;
	struct kapa_mapset maps;
	int maps_open;
	struct kapa_policy *policy;	/* the command line's, until control owns it */
	struct dp_control control;	/* kapa_ctl: rules, programs, commands */
	int control_up;
	unsigned ticks;
	struct dp_ghosts *ghosts;
	int lock_fd;			/* one data plane per map root */
	struct dp_worker *workers[KAPA_MAX_WORKERS];
	volatile uint32_t stopped;
	/* What the runs before left in each worker's counters (publish.h). */
	struct kapa_stats_rec carried[KAPA_MAX_WORKERS];
};

/*
 * A mark (SIGUSR1): each worker's frames and busy cycles so far, and the TSC,
 * so that a benchmark can take the cycles per frame of a window of its own
 * (its traffic once every connection is open) from two marks. Read while
 * the workers run: aligned 64-bit loads, at most a turn apart.
 */
static void
print_worker_mark(const struct dp_main *dm, unsigned mark)
{
	uint16_t w;

	for (w = 0; w < dm->nworkers; w++)
		printf("kapa-dp: mark %u: worker %u: frames %" PRIu64 " busy_cycles %" PRIu64
		       " tsc %" PRIu64 " hz %" PRIu64 "\n", mark, w,
		       __atomic_load_n(&dm->workers[w]->frames, __ATOMIC_RELAXED),
		       __atomic_load_n(&dm->workers[w]->busy_cycles, __ATOMIC_RELAXED),
		       rte_get_tsc_cycles(), rte_get_tsc_hz());
}

/* Main-lcore duties, every DP_HOUSEKEEPING_MS: the control path (kapa_ctl);
 * every tenth time, link state of the bridge pairs; marks asked for. */
static void
housekeeping(void *arg)
{
	struct dp_main *dm = arg;

	dp_control_tick(&dm->control, dp_clock_ns(rte_get_tsc_cycles()));
	if (dm->ticks++ % 10 == 0)
		dp_ports_link_sync(dm->ports, RTE_MAX_ETHPORTS, stdout);
	if (marks_done != marks_asked) {
		/* Numbered from 0: SIGUSR1s so far, less one. */
		marks_done = marks_asked;
		print_worker_mark(dm, marks_done - 1);
		fflush(stdout);
	}
}

static uint64_t
free_hugepage_bytes(void)
{
	unsigned long n = 0;
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");

	if (f != NULL) {
		if (fscanf(f, "%lu", &n) != 1)
			n = 0;
		fclose(f);
	}
	return (uint64_t)n << 21;
}

/* Bytes of the core per worker, for the message when memory runs out:
 * records and slots (kapa_mem: hugetlb when there is room), the rte_hash
 * share, the reassembly pool and header buffers. */
static uint64_t
core_bytes_per_worker(uint32_t capacity)
{
	uint64_t per_entry = 128 + KAPA_HTTP_STATE_SIZE + KAPA_ENGINE_STATE_SIZE + 96;

	return per_entry * capacity + (64ull << 20) + (16ull << 20);
}

/* Memory the kernel could give: MemAvailable plus free hugepages. */
static uint64_t
available_bytes(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
				break;
		fclose(f);
	}
	return (uint64_t)kb * 1024 + free_hugepage_bytes();
}

/* Refuse a --max-conns this host cannot hold before anything is allocated
 * (the live-connection map alone is 128 bytes a connection, in the kernel).
 * @return 0, or -1 (printed). */
static int
check_memory(const struct dp_main *dm)
{
	uint64_t need = core_bytes_per_worker(dm->per_worker) * dm->nworkers +
			(uint64_t)dm->per_worker * dm->nworkers * sizeof(struct kapa_conn_rec);
	uint64_t have = available_bytes();

	if (have != 0 && need > have) {
		fprintf(stderr, "kapa-dp: --max-conns %u needs about %" PRIu64 " MiB (the core's "
			"tables and the live-connection map), this host has %" PRIu64 " MiB "
			"available: give a smaller --max-conns\n", dm->o.max_conns, need >> 20,
			have >> 20);
		return -1;
	}
	return 0;
}

/* What a worker's table costs per connection, as built. */
static uint64_t
table_bytes_per_conn(struct dp_worker *w)
{
	return kapa_flow_bytes_per_entry(kapa_tcp_table(kapa_engine_tcp(w->eng)));
}

/* Probe every bridged port; RSS only when all hash TCP symmetrically with
 * a queue per worker. @return 0, or -1 (printed). */
static int
probe_ports(struct dp_main *dm, int *use_rss, uint32_t *max_frame, uint32_t *min_mtu)
{
	struct dp_port_caps caps;
	char err[512];
	uint16_t i, p;

	*use_rss = dm->nworkers > 1;
	*max_frame = 0;
	*min_mtu = UINT32_MAX;
	for (i = 0; i < dm->o.nbridges; i++) {
		for (p = 0; p < 2; p++) {
			uint16_t id = p ? dm->o.bridge[i].b : dm->o.bridge[i].a;

			if (dp_port_probe(id, &caps, err, sizeof(err)) != 0) {
				fprintf(stderr, "kapa-dp: %s\n", err);
				return -1;
			}
			dm->ports[id].caps = caps;	/* pool_size() reads it */
			if (!caps.rss || caps.max_rxq < dm->nworkers)
				*use_rss = 0;
			if ((uint32_t)caps.mtu + RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN > *max_frame)
				*max_frame = (uint32_t)caps.mtu + RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN;
			if (caps.mtu < *min_mtu)
				*min_mtu = caps.mtu;
		}
	}
	return 0;
}

/* Mbufs: every descriptor of every queue, what workers hold in bursts and
 * TX buffers, the dispatch rings, the per-lcore caches, and a reserve for
 * crafted frames. */
static unsigned
pool_size(const struct dp_main *dm, uint32_t ring_size)
{
	uint64_t n = CRAFT_RESERVE;
	uint16_t i;

	for (i = 0; i < RTE_MAX_ETHPORTS; i++) {
		const struct dp_port_caps *c = &dm->ports[i].caps;

		if (c->name[0] == '\0')
			continue;
		/* Twice the default ring: a PMD may round the count up. */
		n += (uint64_t)RTE_MIN(c->max_rxq, dm->nworkers) * 2048 +
		     (uint64_t)RTE_MIN(c->max_txq, dm->nworkers) * 2048;
	}
	n += (uint64_t)dm->nworkers * (2 * DP_BURST + DP_TX_BURST * RTE_MAX_ETHPORTS / 4 +
				       DP_PENDING_MAX);
	if (dm->nworkers > 1)
		n += (uint64_t)dm->nworkers * ring_size;
	n += (uint64_t)rte_lcore_count() * MEMPOOL_CACHE * 3 / 2;
	return rte_align32pow2((uint32_t)n) - 1;
}

static int
create_pool(struct dp_main *dm, uint32_t max_frame, uint32_t ring_size)
{
	/* Room after the largest frame for what an insertion adds. */
	uint32_t room = RTE_MAX(max_frame + 512u, (uint32_t)RTE_MBUF_DEFAULT_DATAROOM);
	unsigned n = pool_size(dm, ring_size);

	dm->pool = rte_pktmbuf_pool_create("kapa_mbufs", n, MEMPOOL_CACHE, DP_MBUF_PRIV_SIZE,
					   (uint16_t)(room + RTE_PKTMBUF_HEADROOM), (int)rte_socket_id());
	if (dm->pool == NULL) {
		fprintf(stderr, "kapa-dp: cannot create %u mbufs of %u bytes (%" PRIu64 " MiB): %s; "
			"%" PRIu64 " MiB of hugepages free (scripts/host-prep.sh, KAPA_HUGEPAGES)\n",
			n, room, ((uint64_t)n * (room + 256 + DP_MBUF_PRIV_SIZE)) >> 20,
			rte_strerror(rte_errno), free_hugepage_bytes() >> 20);
		return -1;
	}
	printf("kapa-dp: %u mbufs of %u bytes\n", n, room);
	return 0;
}

static int
setup_ports(struct dp_main *dm, int use_rss)
{
	struct dp_port_params pp;
	char err[512];
	uint16_t i, p;

	for (i = 0; i < dm->o.nbridges; i++) {
		for (p = 0; p < 2; p++) {
			memset(&pp, 0, sizeof(pp));
			pp.port_id = p ? dm->o.bridge[i].b : dm->o.bridge[i].a;
			pp.peer_id = p ? dm->o.bridge[i].a : dm->o.bridge[i].b;
			pp.workers = dm->nworkers;
			pp.use_rss = (uint8_t)use_rss;
			pp.nb_rxq = dm->nworkers;
			pp.pool = dm->pool;
			if (dp_port_create(&dm->ports[pp.port_id], &pp, err, sizeof(err)) != 0 ||
			    dp_port_start(&dm->ports[pp.port_id], err, sizeof(err)) != 0) {
				fprintf(stderr, "kapa-dp: %s\n", err);
				return -1;
			}
		}
	}
	for (i = 0; i < RTE_MAX_ETHPORTS; i++)
		if (dm->ports[i].started)
			dp_port_describe(&dm->ports[i], stdout);
	return 0;
}

/*
 * net_af_xdp ports: when the XDP program DPDK attached to the interface is
 * kapa's (xdp_prog=kapa_xdp.bpf.o, told by its maps), tell it the peer (the
 * interface of the other port of the pair) and the ports kapa-dp inspects
 * (--ports, else every TCP port), so that the rest skips kapa-dp and
 * everything goes to the peer once kapa-dp's sockets are gone. Any other
 * program (DPDK's default) sends every frame to kapa-dp: said, not an
 * error. A kapa program whose maps cannot be written is one: it would
 * drop what it cannot hand to a socket. @return 0, or -1 (printed).
 */
static int
setup_xdp(struct dp_main *dm)
{
	struct dp_xdp_params xp;
	char err[512], ifn[IF_NAMESIZE], peer[IF_NAMESIZE];
	uint16_t i;
	int rc;

	for (i = 0; i < RTE_MAX_ETHPORTS; i++) {
		const struct dp_port *p = &dm->ports[i];

		if (!p->started || strcmp(p->caps.driver, DP_AF_XDP_DRIVER) != 0)
			continue;
		memset(&xp, 0, sizeof(xp));
		xp.if_index = p->caps.if_index;
		xp.peer_if_index = dm->ports[p->peer].caps.if_index;
		xp.ports = dm->o.have_ports ? dm->o.http_ports : NULL;
		if (xp.if_index == 0 || if_indextoname(xp.if_index, ifn) == NULL ||
		    xp.peer_if_index == 0 || if_indextoname(xp.peer_if_index, peer) == NULL) {
			printf("kapa-dp: port %u: XDP program left as loaded (everything to kapa-dp): "
			       "port %u has no kernel interface to redirect to\n", i, p->peer);
			continue;
		}
		rc = dp_xdp_setup(&xp, err, sizeof(err));
		if (rc == -EPROTO) {
			printf("kapa-dp: port %u: %s; that program sends everything to kapa-dp\n",
			       i, err);
			continue;
		}
		if (rc != 0) {
			fprintf(stderr, "kapa-dp: port %u: kapa's XDP program: %s\n", i, err);
			return -1;
		}
		printf("kapa-dp: port %u (%s): kapa's XDP program: %s to kapa-dp, the rest straight "
		       "to %s%s; all to %s when kapa-dp is gone\n", i, ifn,
		       xp.ports != NULL ? "TCP of --ports" : "all TCP", peer,
		       xp.ports != NULL ? " (no opaque idle limit there)" : "", peer);
	}
	return 0;
}

/*
 * One data plane per map root: an flock held for the process's life (the
 * kernel drops it when the process dies, also by kill -9, so a restart is
 * never refused by a dead predecessor, as a heartbeat check would be).
 * @return the lock's fd, or -1 (printed).
 */
static int
lock_map_root(const char *root)
{
	char path[512], *p;
	int fd;

	snprintf(path, sizeof(path), LOCK_DIR "/kapa-dp%s.lock", root);
	for (p = path + strlen(LOCK_DIR) + 1; *p != '\0'; p++)
		if (*p == '/')
			*p = '_';
	if (mkdir(LOCK_DIR, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "kapa-dp: cannot create %s: %s\n", LOCK_DIR, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "kapa-dp: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr, "kapa-dp: another kapa-dp runs on the maps under %s (it holds %s): "
			"stop it first, or give this one its own --map-root\n", root, path);
		close(fd);
		return -1;
	}
	return fd;
}

/* The maps, and no other data plane on them. */
static int
open_maps(struct dp_main *dm)
{
	struct kapa_mapset_conf mc = {
		.root = dm->o.map_root,
		.max_conns = dm->per_worker * dm->nworkers,
		.own_conns = 1,
	};
	char err[512];

	dm->lock_fd = lock_map_root(dm->o.map_root);
	if (dm->lock_fd < 0)
		return -1;
	if (kapa_mapset_open(&dm->maps, &mc, err, sizeof(err)) != 0) {
		fprintf(stderr, "kapa-dp: maps: %s\n", err);
		return -1;
	}
	dm->maps_open = 1;
	printf("kapa-dp: maps under %s %s (%u connection records)\n", dm->maps.root,
	       dm->maps.created ? "created" : dm->maps.conns_replaced ?
	       "reused, kapa_conns resized" : "reused", dm->maps.max_conns);
	/* What a killed predecessor left shifted (ghost.h), before the workers
	 * clear their slices. */
	if (!dm->maps.created && !dm->maps.conns_replaced) {
		err[0] = '\0';
		dm->ghosts = dp_ghosts_collect(dm->maps.conns, dm->maps.max_conns,
					       dp_clock_ns(rte_get_tsc_cycles()), err, sizeof(err));
		if (err[0] != '\0')
			printf("kapa-dp: %s\n", err);
		if (dm->ghosts != NULL)
			printf("kapa-dp: %u connections were shifted by a kapa-dp that did not stop "
			       "cleanly: each is reset when its client is seen again\n",
			       dp_ghosts_count(dm->ghosts));
	}
	/* Counters and histograms go on from what the runs before left. */
	dp_publish_carry(dm->maps.stats, dm->maps.hist, dm->nworkers, dm->maps.created,
			 dm->carried);
	return 0;
}

/* The control path: the configuration in force (what kapad published, else
 * the command line's, which it then owns). */
static int
start_control(struct dp_main *dm)
{
	struct dp_control_params cp = {
		.ctl = dm->maps.ctl, .prog = dm->maps.prog, .rules_fd = dm->maps.rules_fd,
		.workers = dm->nworkers, .conns_per_worker = dm->per_worker,
		.cmdline = dm->policy,
	};
	char err[256];

	dm->policy = NULL;
	if (dp_control_init(&dm->control, &cp, err, sizeof(err)) != 0) {
		fprintf(stderr, "kapa-dp: %s\n", err);
		return -1;
	}
	dm->control_up = 1;
	return 0;
}

static int
create_workers(struct dp_main *dm, int use_rss, uint32_t min_mtu, uint32_t ring_size)
{
	struct dp_worker_params wp;
	struct dp_dispatch_params disp = {
		.workers = dm->nworkers, .ring_size = ring_size, .socket = (int)rte_socket_id(),
	};
	char err[512];
	uint16_t w, i, q;
	unsigned k = 0;

	if (dm->nworkers > 1 && !use_rss) {
		dm->dispatch = dp_dispatch_create(&disp, err, sizeof(err));
		if (dm->dispatch == NULL) {
			fprintf(stderr, "kapa-dp: %s\n", err);
			return -1;
		}
	}
	for (w = 0; w < dm->nworkers; w++) {
		memset(&wp, 0, sizeof(wp));
		wp.id = w;
		wp.workers = dm->nworkers;
		wp.ports = dm->ports;
		wp.nports = RTE_MAX_ETHPORTS;
		/* RSS: queue w of every port. Dispatch: the queues dealt out
		 * round-robin over the workers. */
		k = 0;
		for (i = 0; i < RTE_MAX_ETHPORTS; i++) {
			if (!dm->ports[i].started)
				continue;
			for (q = 0; q < dm->ports[i].nb_rxq; q++, k++) {
				if (use_rss ? q != w : k % dm->nworkers != w)
					continue;
				wp.rxq[wp.nb_rxq].port = i;
				wp.rxq[wp.nb_rxq].queue = q;
				wp.nb_rxq++;
			}
		}
		wp.dispatch = dm->dispatch;
		wp.ghosts = dm->ghosts;
		wp.pool = dm->pool;
		wp.capacity = dm->per_worker;
		wp.control = &dm->control;
		wp.http_ports = dm->o.have_ports ? dm->o.http_ports : NULL;
		wp.mtu = min_mtu;
		wp.idle_sleep_us = dm->o.idle_sleep_us;
		wp.bypass = dm->o.bypass;
		wp.csum_verify = !dm->o.no_verify_csum;
		wp.stats = &dm->maps.stats[w];
		wp.hist = &dm->maps.hist[w];
		wp.conns = &dm->maps.conns[(size_t)w * dm->per_worker];
		wp.socket = (int)rte_socket_id();
		wp.quit = &quit;
		wp.stopped = &dm->stopped;
		if (dm->nworkers == 1 && rte_lcore_count() == 1) {
			wp.housekeeping = housekeeping;
			wp.housekeeping_arg = dm;
		}
		dm->workers[w] = dp_worker_create(&wp, err, sizeof(err));
		if (dm->workers[w] == NULL) {
			fprintf(stderr, "kapa-dp: %s; the core needs about %" PRIu64 " MiB per worker "
				"for %u connections, %" PRIu64 " MiB of hugepages are free "
				"(a smaller --max-conns needs less)\n", err,
				core_bytes_per_worker(dm->per_worker) >> 20, dm->per_worker,
				free_hugepage_bytes() >> 20);
			return -1;
		}
		printf("kapa-dp: worker %u: %u RX queue%s%s, %u connections, %" PRIu64
		       " bytes each (%" PRIu64 " MiB)\n", w, wp.nb_rxq, wp.nb_rxq == 1 ? "" : "s",
		       dm->dispatch != NULL ? " + dispatch ring" : "", dm->per_worker,
		       table_bytes_per_conn(dm->workers[w]),
		       table_bytes_per_conn(dm->workers[w]) * dm->per_worker >> 20);
	}
	return 0;
}

/* Run the workers until a signal; the main lcore mirrors link state. */
static void
run(struct dp_main *dm)
{
	unsigned lcore;
	uint16_t w = 0;

	if (rte_lcore_count() == 1) {
		printf("kapa-dp: forwarding\n");
		fflush(stdout);
		dp_worker_loop(dm->workers[0]);
		return;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (w == dm->nworkers)
			break;
		rte_eal_remote_launch(dp_worker_loop, dm->workers[w++], lcore);
	}
	printf("kapa-dp: forwarding\n");
	fflush(stdout);
	while (!quit) {
		housekeeping(dm);
		usleep(DP_HOUSEKEEPING_MS * 1000);
	}
	rte_eal_mp_wait_lcore();
}

/* What each worker's busy turns cost per frame (the benchmarks read it). */
static void
print_worker_cycles(const struct dp_main *dm)
{
	double ghz = (double)rte_get_tsc_hz() / 1e9;
	uint16_t w;

	for (w = 0; w < dm->nworkers; w++) {
		const struct dp_worker *wk = dm->workers[w];
		double cpp = wk->frames ? (double)wk->busy_cycles / (double)wk->frames : 0;

		printf("kapa-dp: worker %u: %" PRIu64 " frames, %.1f cycles per frame when busy "
		       "(%.1f ns at %.2f GHz)\n", w, wk->frames, cpp, cpp / ghz, ghz);
	}
}

static void
teardown(struct dp_main *dm)
{
	uint16_t i;

	for (i = 0; i < KAPA_MAX_WORKERS; i++) {
		if (dm->workers[i] == NULL)
			continue;
		dp_publish_detach(&dm->workers[i]->pub);
		dp_worker_free(dm->workers[i]);
	}
	for (i = 0; i < RTE_MAX_ETHPORTS; i++) {
		dp_port_stop(&dm->ports[i]);
		dp_port_free(&dm->ports[i]);
	}
	dp_dispatch_free(dm->dispatch);
	dp_ghosts_free(dm->ghosts);
	if (dm->control_up)
		dp_control_fini(&dm->control);
	else
		kapa_policy_destroy(dm->policy);
	if (dm->maps_open)
		kapa_mapset_close(&dm->maps);
	if (dm->pool != NULL) {
		/* Every mbuf is back once the ports are closed: one that is not
		 * was lost on the way (the e2e tests read this line). */
		unsigned size = dm->pool->size, avail = rte_mempool_avail_count(dm->pool);

		printf("kapa-dp: mbufs %u of %u back in the pool%s\n", avail, size,
		       avail == size ? "" : " (LEAK)");
		rte_mempool_free(dm->pool);
	}
}

int
main(int argc, char **argv)
{
	static struct dp_main dm;
	uint32_t max_frame, min_mtu, ring_size = 4096;
	char err[1024];
	int rc, use_rss, status = EXIT_FAILURE;

	dm.lock_fd = -1;
	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "kapa-dp: DPDK EAL did not start: %s (%" PRIu64 " MiB of hugepages "
			"free; scripts/host-prep.sh reserves them)\n", rte_strerror(rte_errno),
			free_hugepage_bytes() >> 20);
		return EXIT_FAILURE;
	}
	argc -= rc;
	argv += rc;
	argv[0] = (char *)"kapa-dp";
	/* Lines in order with stderr's in a log file. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = parse_opts(argc, argv, &dm.o);
	if (rc != 0) {
		usage(rc > 0 ? stdout : stderr, "kapa-dp");
		rte_eal_cleanup();
		return rc > 0 ? 0 : EXIT_USAGE;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_mark);
	dp_clock_init();

	dm.nworkers = (uint16_t)RTE_MAX(1u, rte_lcore_count() - 1);
	if (dm.nworkers > KAPA_MAX_WORKERS) {
		fprintf(stderr, "kapa-dp: %u workers, at most %u\n", dm.nworkers, KAPA_MAX_WORKERS);
		goto out;
	}
	dm.per_worker = RTE_MAX(1u, dm.o.max_conns / dm.nworkers);
	if (check_memory(&dm) != 0)
		goto out;
	dm.policy = kapa_policy_args_create(&dm.o.policy, err, sizeof(err));
	if (dm.policy == NULL) {
		fprintf(stderr, "kapa-dp: --rule: %s\n", err);
		status = EXIT_USAGE;
		goto out;
	}
	/* dpdk-dumpcap attaches as a secondary process; without a shared
	 * config (--in-memory) it cannot, and kapa-dp runs on without it. */
	if (rte_pdump_init() != 0)
		printf("kapa-dp: live capture (dpdk-dumpcap) unavailable: %s\n",
		       rte_strerror(rte_errno));
	if (probe_ports(&dm, &use_rss, &max_frame, &min_mtu) != 0)
		goto out;
	if (create_pool(&dm, max_frame, ring_size) != 0 || setup_ports(&dm, use_rss) != 0 ||
	    setup_xdp(&dm) != 0 || open_maps(&dm) != 0 || start_control(&dm) != 0 ||
	    create_workers(&dm, use_rss, min_mtu, ring_size) != 0)
		goto out;
	if (dp_telemetry_register(dm.maps.stats, dm.maps.conns, dm.nworkers, dm.per_worker) != 0)
		printf("kapa-dp: telemetry commands not registered (--no-telemetry?)\n");
	printf("kapa-dp: %u worker%s, %s, %s, %s\n", dm.nworkers, dm.nworkers == 1 ? "" : "s",
	       dm.nworkers == 1 ? "no dispatch" : use_rss ? "symmetric RSS" : "software dispatch",
	       dm.o.bypass ? "bypass: forwarding without the core" :
	       kapa_policy_can_act(dm.control.cur->policy) ? "policy acting" : "policy observing",
	       dm.o.no_verify_csum ? "TCP checksums no port checked are trusted" :
	       "TCP checksums no port checked are verified by kapa");
	run(&dm);
	print_worker_cycles(&dm);
	/* This run's counts; the maps keep the totals. */
	dp_counters_print(stdout, dm.maps.stats, dm.carried, dm.nworkers);
	status = 0;
out:
	teardown(&dm);
	if (dm.lock_fd >= 0)
		close(dm.lock_fd);
	rte_eal_cleanup();
	return status;
}
