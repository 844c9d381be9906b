/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Benchmark of the connection table and the idle timers. Prints figures,
 * asserts nothing about time. For each table size N:
 *   - insert rate (N keys into an empty table),
 *   - lookup, one key at a time and rte_hash bulk of 32, random keys,
 *   - idle tracking per packet: kapa_flow_touch() on a record the packet path
 *     has just updated (bursts of 32, records prefetched), traffic spread so
 *     that every connection sends the same number of packets per second at
 *     every N, minus the same loop without the touch,
 *   - per expiry: a wheel pass that only re-arms touched connections (lazy
 *     re-check), and one that expires and releases them,
 *   - per eviction: inserts into a full table where half of the entries were
 *     active since they were filed (the LRU wheel re-files those lazily),
 *   - bytes of fixed state per entry.
 * Usage: bench_flow [--quick] [--no-thp | --huge] [N...]   (or KAPA_BENCH_QUICK=1)
 * --huge: EAL's memory on reserved 2 MiB hugepages (root; see docs/performance.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#include <rte_common.h>
#include <rte_memory.h>
#include <rte_prefetch.h>

#include "kapa_eal.h"
#include "kapa_flow.h"

#define BURST 32
#define PKTS_PER_CONN_PER_S 2	/* traffic model of the touch benchmark */
#define SIM_SECONDS 2		/* simulated seconds of traffic per size */
#define REPS 3			/* best of, for the per-packet loops */

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static inline uint32_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static double
now_s(void)
{
	struct timespec ts;

	/* CPU time of this thread: the machine is shared, and time spent
	 * descheduled is not the table's. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
make_key(struct kapa_flow_key *k, uint32_t i)
{
	uint8_t a[16] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
	uint8_t b[16] = {198, 18, 0, 2};

	kapa_flow_key_make(k, 4, a, (uint16_t)(1024 + (i >> 24)), b, 80);
}

static int use_thp = 1;

/* 2 MiB hugetlb pages in use or reserved (Total - Free + Rsvd, from
 * /proc/meminfo: a private mapping reserves its pages at mmap and takes
 * them at first touch). */
static long
hugetlb_taken_pages(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	long total = 0, free_ = 0, rsvd = 0, v;
	char line[128];

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "HugePages_Total: %ld", &v) == 1)
			total = v;
		else if (sscanf(line, "HugePages_Free: %ld", &v) == 1)
			free_ = v;
		else if (sscanf(line, "HugePages_Rsvd: %ld", &v) == 1)
			rsvd = v;
	}
	fclose(f);
	return total - free_ + rsvd;
}

/* The benchmark's own arrays: the same pages as the table's. */
static void *
big_alloc(size_t size)
{
	const size_t huge = 2u << 20;
	size_t len = (size + huge - 1) & ~(huge - 1);
	void *p = aligned_alloc(huge, len);

	if (p != NULL && use_thp)
		madvise(p, len, MADV_HUGEPAGE);
	return p;
}

static uint32_t
expire_keep(uint32_t idx, uint32_t now_ms, void *arg)
{
	(void)idx;
	(void)now_ms;
	(void)arg;
	return 0;	/* policy: close it */
}

/* What the TCP path does to the record of every packet anyway: it reads
 * and updates it inside a write section (both cache lines dirty). */
static inline void
packet_path(struct kapa_conn *c)
{
	kapa_flow_write_begin(c);
	c->half[0].ack += 1;
	kapa_flow_write_end(c);
}

/* A burst of packets of random connections, their records prefetched as
 * kapa_flow_lookup_bulk() does on the real path. */
static inline void
burst_pick(struct kapa_flow_table *t, const uint32_t *idx, uint32_t n,
	   uint32_t *burst)
{
	uint32_t j;

	for (j = 0; j < BURST; j++) {
		const uint8_t *c;

		burst[j] = idx[rnd() % n];
		c = (const uint8_t *)kapa_flow_conn(t, burst[j]);
		rte_prefetch0(c);
		rte_prefetch0(c + RTE_CACHE_LINE_SIZE);
	}
}

struct result {
	uint32_t n;
	double insert_ns, lookup_ns, bulk_ns;
	double touch_ns, base_ns;
	double rearm_ns, expire_ns, empty_poll_ns;
	double rearm_rnd_ns, expire_rnd_ns;	/* positions in random order */
	double evict_ns, refiles_per_evict;
	uint64_t capped;
	uint64_t bytes;
	long huge_mb;		/* hugetlb memory the table's arrays took (kapa_mem) */
};

/*
 * Per expiry. Every connection is active at T + its spread (over 1 s) and
 * gets a 2 s idle limit; then it is active again 1.5 s later (outside the
 * timed parts). Pass 1 runs the wheel over the first deadlines: all due,
 * all touched since, so all re-armed lazily (per timer, best of REPS).
 * Pass 2 runs past the new deadlines: all expire and are released (per
 * expiry, including the release). Leaves the table empty.
 */
static void
measure_expiry(struct kapa_flow_table *t, const uint32_t *idx, uint32_t n,
	       uint32_t *nowp, double *rearm_ns, double *expire_ns, double *poll_ns)
{
	uint32_t now = *nowp, i, fired;
	uint64_t sink = 0;
	double t0, t1;

	*rearm_ns = 1e30;
	for (int rep = 0; rep < REPS; rep++) {
		now += 2000;
		for (i = 0; i < n; i++) {
			uint32_t at = now + (uint32_t)((uint64_t)i * 1000 / n);

			kapa_flow_touch(t, idx[i], at);
			kapa_flow_set_idle(t, idx[i], 2000);
		}
		for (i = 0; i < n; i++)
			kapa_flow_touch(t, idx[i], now + 1500 + (uint32_t)((uint64_t)i * 1000 / n));
		kapa_flow_expire(t, now, UINT32_MAX);	/* nothing due: align the wheel */
		fired = 0;
		/* time the whole pass: a CPU-time clock read is a system call */
		t0 = now_s();
		for (uint32_t ms = 0; fired < n && ms < 100000; ms++)
			fired += kapa_flow_expire(t, now + 2000 + RTE_MIN(ms, 1400u), 4096);
		t1 = now_s() - t0;
		if (fired != 0)
			*rearm_ns = RTE_MIN(*rearm_ns, t1 * 1e9 / fired);
	}
	/* empty polls: nothing due */
	t0 = now_s();
	for (i = 0; i < 100000; i++)
		sink += kapa_flow_expire(t, now + 3400, 4096);
	*poll_ns = (now_s() - t0) * 1e9 / 100000;
	fired = 0;
	t0 = now_s();
	for (uint32_t ms = 0; kapa_flow_count(t) != 0 && ms < 100000; ms++)
		fired += kapa_flow_expire(t, now + 3500 + RTE_MIN(ms, 1300u), 4096);
	t1 = now_s() - t0;
	*expire_ns = fired != 0 ? t1 * 1e9 / fired : 0;
	if (kapa_flow_count(t) != 0 || fired != n)
		fprintf(stderr, "bench_flow: N=%u: %u expired, %u left\n", n, fired,
			kapa_flow_count(t));
	*nowp = now + 10000 + (uint32_t)(sink & 1);
}

/* Insert keys[0..n) arriving over 1 s of table time from @p now; their
 * positions into idx[]. The table has room: a failure ends the run. */
static void
fill(struct kapa_flow_table *t, const struct kapa_flow_key *keys, uint32_t *idx,
     uint32_t n, uint32_t now)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		int rc = kapa_flow_insert(t, &keys[i], now + (uint32_t)((uint64_t)i * 1000 / n), 0);

		if (rc < 0) {
			fprintf(stderr, "bench_flow: insert %u of %u failed: %d\n", i, n, rc);
			exit(1);
		}
		idx[i] = (uint32_t)rc;
	}
}

static void
run_size(uint32_t n, uint32_t nlookups, struct result *r)
{
	struct kapa_flow_conf conf = {0};
	struct kapa_flow_key *keys;
	const struct kapa_flow_key *kp[BURST];
	struct kapa_flow_table *t;
	uint32_t *idx, *order, i, j, now, per_ms;
	int32_t pos[BURST];
	uint32_t burst[BURST];
	uint64_t sink = 0, pkts, refiled0;
	double t0, t1, t_base, t_touch;
	char name[32];

	memset(r, 0, sizeof(*r));
	r->n = n;
	keys = big_alloc((size_t)n * sizeof(*keys));
	idx = big_alloc((size_t)n * sizeof(*idx));
	order = big_alloc((size_t)nlookups * sizeof(*order));
	if (keys == NULL || idx == NULL || order == NULL) {
		fprintf(stderr, "bench_flow: out of memory at N=%u\n", n);
		exit(1);
	}
	for (i = 0; i < n; i++)
		make_key(&keys[i], i);
	for (i = 0; i < nlookups; i++)
		order[i] = rnd() % n;

	snprintf(name, sizeof(name), "bench%u", n);
	conf.name = name;
	conf.capacity = n;
	conf.socket_id = SOCKET_ID_ANY;
	conf.on_expire = expire_keep;
	r->huge_mb = hugetlb_taken_pages();
	t = kapa_flow_create(&conf);
	if (t == NULL) {
		fprintf(stderr, "bench_flow: kapa_flow_create(N=%u) failed\n", n);
		exit(1);
	}
	r->bytes = kapa_flow_bytes_per_entry(t);
	/* Where the records landed: kapa_mem takes hugetlb pages when the pool
	 * has room for the whole array, else THP-advised ordinary pages. */
	r->huge_mb = (hugetlb_taken_pages() - r->huge_mb) * 2;

	/* insert: connections arrive over 1 s of table time */
	t0 = now_s();
	fill(t, keys, idx, n, 0);
	r->insert_ns = (now_s() - t0) * 1e9 / n;

	/* lookups of random present keys, best of REPS */
	r->lookup_ns = r->bulk_ns = 1e30;
	for (int rep = 0; rep < REPS; rep++) {
		t0 = now_s();
		for (i = 0; i < nlookups; i++)
			sink += (uint32_t)kapa_flow_lookup(t, &keys[order[i]]);
		r->lookup_ns = RTE_MIN(r->lookup_ns, (now_s() - t0) * 1e9 / nlookups);
		t0 = now_s();
		for (i = 0; i + BURST <= nlookups; i += BURST) {
			for (j = 0; j < BURST; j++)
				kp[j] = &keys[order[i + j]];
			kapa_flow_lookup_bulk(t, kp, BURST, pos);
			sink += (uint32_t)pos[BURST - 1];
		}
		r->bulk_ns = RTE_MIN(r->bulk_ns, (now_s() - t0) * 1e9 / (i != 0 ? i : 1));
	}

	/*
	 * Idle tracking per packet. Both loops pick the same random
	 * connections and read the record as the TCP path would; the second
	 * also touches it. Table time advances so that each connection sends
	 * PKTS_PER_CONN_PER_S packets a second at every N.
	 */
	per_ms = (uint32_t)((uint64_t)n * PKTS_PER_CONN_PER_S / 1000);
	if (per_ms == 0)
		per_ms = 1;
	pkts = (uint64_t)per_ms * 1000 * SIM_SECONDS;
	pkts -= pkts % BURST;
	/*
	 * Two loops per repetition over the same random connections: the
	 * packet path alone, and with touch() as traffic advances table time.
	 * touch() stores last_seen and nothing else (no timer re-arm, no LRU
	 * move: the LRU wheel re-files lazily at eviction time). Best of REPS,
	 * so that a neighbour's burst on this shared machine does not land in
	 * one.
	 */
	t_base = t_touch = 1e30;
	now = 2000;
	for (int rep = 0; rep < REPS; rep++) {
		uint32_t start = now;

		rng_state = 0x2545f4914f6cdd1dull + (uint64_t)rep;
		t0 = now_s();
		for (uint64_t p = 0; p < pkts; p += BURST) {
			burst_pick(t, idx, n, burst);
			for (j = 0; j < BURST; j++)
				packet_path(kapa_flow_conn(t, burst[j]));
			if ((p % per_ms) < BURST)
				now++;
		}
		t_base = RTE_MIN(t_base, now_s() - t0);

		now = start;
		rng_state = 0x2545f4914f6cdd1dull + (uint64_t)rep;
		t0 = now_s();
		for (uint64_t p = 0; p < pkts; p += BURST) {
			burst_pick(t, idx, n, burst);
			for (j = 0; j < BURST; j++) {
				packet_path(kapa_flow_conn(t, burst[j]));
				kapa_flow_touch(t, burst[j], now);
			}
			if ((p % per_ms) < BURST)
				now++;
		}
		t_touch = RTE_MIN(t_touch, now_s() - t0);
		now += 2000;
	}
	r->base_ns = t_base * 1e9 / pkts;
	r->touch_ns = (t_touch - t_base) * 1e9 / pkts;

	/* Per expiry, positions in insert order (see measure_expiry). */
	measure_expiry(t, idx, n, &now, &r->rearm_ns, &r->expire_ns, &r->empty_poll_ns);

	/*
	 * Per eviction. The table is filled again over 1 s of table time; a
	 * random half of the connections is active 2-3 s later (touch only:
	 * their LRU bucket is still the one of their insert). Then N/2 new
	 * connections arrive into the full table: each insert evicts one
	 * entry, and the looks for the oldest re-file the active ones they
	 * meet on the way (about one per eviction).
	 */
	now += 10000;
	fill(t, keys, idx, n, now);
	for (i = 0; i < n; i++)
		if (rnd() & 1)
			kapa_flow_touch(t, idx[i], now + 2000 + (uint32_t)((uint64_t)i * 1000 / n));
	/* the old keys are in the table's key store: reuse our array */
	for (i = 0; i < n / 2; i++)
		make_key(&keys[i], n + i);
	refiled0 = kapa_flow_stats(t)->lru_refiled;
	t0 = now_s();
	for (i = 0; i < n / 2; i++)
		sink += (uint32_t)kapa_flow_insert(t, &keys[i], now + 5000, 0);
	t1 = now_s() - t0;
	r->evict_ns = t1 * 1e9 / (n / 2);
	r->refiles_per_evict = (double)(kapa_flow_stats(t)->lru_refiled - refiled0) / (n / 2);
	r->capped = kapa_flow_stats(t)->lru_walk_capped;
	if (kapa_flow_stats(t)->released[KAPA_REL_EVICT_LRU] != n / 2)
		fprintf(stderr, "bench_flow: N=%u: %" PRIu64 " evictions, expected %u\n", n,
			kapa_flow_stats(t)->released[KAPA_REL_EVICT_LRU], n / 2);

	/*
	 * Per expiry again, with positions recycled in random order, as after
	 * churn in production: release every entry in a random order, so that
	 * rte_hash hands positions out in that order, and insert again. Timer
	 * slot lists and LRU buckets (both in arrival order) then link random
	 * records, as they do in a table that has run for a while.
	 */
	for (i = 0; i < n; i++) {
		uint32_t k = i + rnd() % (n - i), tmp = idx[i];

		idx[i] = idx[k];
		idx[k] = tmp;
	}
	for (i = 0; i < n; i++)
		kapa_flow_release(t, idx[i], KAPA_REL_EXPLICIT);
	fill(t, keys, idx, n, now);
	now += 2000;
	measure_expiry(t, idx, n, &now, &r->rearm_rnd_ns, &r->expire_rnd_ns, &t1);

	kapa_flow_destroy(t);
	free(keys);
	free(idx);
	free(order);
	if (sink == 42)
		printf(" ");
}

/* Ask for transparent huge pages on EAL's --no-huge memory before it is
 * touched: production runs on hugepages, and 4 KiB pages would add a TLB
 * miss to every random access of a big table. */
static int
thp_advise(const struct rte_memseg_list *msl, void *arg)
{
	(void)arg;
	if (msl->base_va != NULL && msl->len != 0)
		madvise(msl->base_va, msl->len, MADV_HUGEPAGE);
	return 0;
}

int
main(int argc, char **argv)
{
	static const uint32_t full_sizes[] = {10000, 100000, 1000000, 10000000};
	static const uint32_t quick_sizes[] = {10000, 100000};
	uint32_t sizes[16], nsizes = 0, i, max_n = 0, nlookups;
	struct result res[16];
	int quick = getenv("KAPA_BENCH_QUICK") != NULL, thp = 1, huge = 0;
	uint64_t mem_mb;
	int rc;

	for (i = 1; i < (uint32_t)argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = 1;
		else if (strcmp(argv[i], "--no-thp") == 0)
			thp = 0;
		else if (strcmp(argv[i], "--huge") == 0)
			huge = 1;
		else if (nsizes < 16)
			sizes[nsizes++] = (uint32_t)strtoul(argv[i], NULL, 0);
	}
	if (nsizes == 0) {
		const uint32_t *s = quick ? quick_sizes : full_sizes;

		nsizes = quick ? RTE_DIM(quick_sizes) : RTE_DIM(full_sizes);
		memcpy(sizes, s, nsizes * sizeof(*s));
	}
	for (i = 0; i < nsizes; i++)
		max_n = RTE_MAX(max_n, sizes[i]);
	/* rte_hash (~100 bytes per entry) and headroom in EAL's memory: the
	 * records come from kapa_mem (the "huge" column says where). */
	mem_mb = (uint64_t)max_n * 160 / (1024 * 1024) + 256;
	rc = huge ? kapa_eal_init_huge(argv[0], (unsigned int)mem_mb) :
		    kapa_eal_init_offline(argv[0], (unsigned int)mem_mb);
	if (rc != 0) {
		fprintf(stderr, "bench_flow: EAL with %" PRIu64 " MiB%s failed: %d%s\n", mem_mb,
			huge ? " of hugepages" : "", rc,
			huge ? " (as root, reserve them: KAPA_HUGEPAGES=N scripts/host-prep.sh)" : "");
		return 1;
	}
	/* The benchmark's own arrays (keys, orders) stay on THP either way. */
	use_thp = thp;
	if (thp && !huge)
		rte_memseg_list_walk(thp_advise, NULL);
	nlookups = quick ? 200000 : 2000000;
	printf("bench_flow: %s, EAL %" PRIu64 " MiB (%s), record %zu bytes, "
	       "traffic model %d packets/s per connection\n",
	       quick ? "quick" : "full", mem_mb,
	       huge ? "2 MiB hugepages" :
	       thp ? "--no-huge, transparent huge pages" : "--no-huge, 4 KiB pages",
	       sizeof(struct kapa_conn),
	       PKTS_PER_CONN_PER_S);
	printf("%10s %7s %7s %7s | %7s %7s | %7s %7s %6s | %7s %7s | %7s %7s %6s | %6s %6s\n",
	       "N", "insert", "lookup", "bulk32", "touch", "(path)", "rearm", "expire",
	       "poll", "rearm~", "expire~", "evict", "refile", "capped", "B/conn", "huge");
	printf("%10s %7s %7s %7s | %7s %7s | %7s %7s %6s | %7s %7s | %7s %7s %6s | %6s %6s\n",
	       "", "ns", "ns", "ns/key", "ns/pkt", "ns/pkt", "ns/tmr", "ns/conn", "ns",
	       "ns/tmr", "ns/conn", "ns/ins", "/evict", "", "", "MiB");
	for (i = 0; i < nsizes; i++) {
		struct result *r = &res[i];

		run_size(sizes[i], nlookups, r);
		printf("%10u %7.1f %7.1f %7.1f | %7.1f %7.1f | %7.1f %7.1f %6.1f | %7.1f %7.1f"
		       " | %7.1f %7.2f %6" PRIu64 " | %6" PRIu64 " %6ld\n",
		       r->n, r->insert_ns, r->lookup_ns, r->bulk_ns, r->touch_ns, r->base_ns,
		       r->rearm_ns, r->expire_ns, r->empty_poll_ns, r->rearm_rnd_ns,
		       r->expire_rnd_ns, r->evict_ns, r->refiles_per_evict, r->capped, r->bytes,
		       r->huge_mb);
		fflush(stdout);
	}
	if (nsizes > 1) {
		struct result *a = &res[0], *b = &res[nsizes - 1];

		printf("ratio N=%u / N=%u: touch %.2fx (%.1f vs %.1f ns/pkt), re-arm %.2fx "
		       "(random %.2fx), expire %.2fx (random %.2fx), evict %.2fx (insert %.2fx), "
		       "lookup %.2fx, bulk %.2fx\n",
		       b->n, a->n, b->touch_ns / a->touch_ns, b->touch_ns, a->touch_ns,
		       b->rearm_ns / a->rearm_ns, b->rearm_rnd_ns / a->rearm_rnd_ns,
		       b->expire_ns / a->expire_ns, b->expire_rnd_ns / a->expire_rnd_ns,
		       b->evict_ns / a->evict_ns, b->insert_ns / a->insert_ns,
		       b->lookup_ns / a->lookup_ns, b->bulk_ns / a->bulk_ns);
	}
	kapa_eal_cleanup();
	return 0;
}
