/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite 'ctl' (root): kapa-dp's counters and histograms survive its restart
 * on the same map root (dataplane/dp/publish.h, dp_publish_carry()).
 * kapa-dp replays a corpus capture (net_pcap rx_pcap=, KAPA_PCAP from meson)
 * twice under a map root of the test's own; the test reads the pinned
 * kapa_stats and kapa_hist (kapa_mapset, as kapad does), added up over the
 * workers:
 *  - a clean stop (SIGTERM) and a second run: every counter doubled, every
 *    histogram bucket and the requests' sum doubled; each run printed its own
 *    counts at exit (the first run's);
 *  - kill -9 once the counters were published (all frames in, the closed
 *    connections' linger past, a publish after that), the same twice: the
 *    counters and histograms doubled, the gauges (conns_active) not;
 *  - two workers, then one: the second worker's records folded into the
 *    first, the sum over the workers the first run's plus the second's.
 * Everything it starts is stopped by pid; the map root, kapa-dp's lock of
 * it, the --file-prefix directory and the temp dir are removed, whatever
 * the outcome.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ctl_test.h"
#include "kapa_mapset.h"
#include "unit.h"

#define LINGER_WAIT_MS 2600	/* closed_linger_ms (2 s) and a wheel tick past it */

static const struct {
	const char *name;
	int kind;
} ctr[] = {
#define CTR_ENTRY(field, kind, name, help, src) { name, kind },
	KAPA_COUNTERS(CTR_ENTRY)
#undef CTR_ENTRY
};

static char root[96], prefix[64], tmp[64], lock_path[256], err[512];
static struct kapa_mapset ms;
static int ms_open;
static pid_t dp = -1;

/* What the maps hold, added up over the slots [0, n). */
struct snap {
	uint64_t c[KAPA_COUNTER_COUNT];
	uint64_t h[3][KAPA_HIST_BUCKETS];	/* requests, idle_ms, lifetime_ms */
	uint64_t requests_sum;
	uint64_t hist_count[3];		/* observations of each histogram */
};

static void
sleep_ms(unsigned msecs)
{
	struct timespec ts = { .tv_sec = msecs / 1000, .tv_nsec = (long)(msecs % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* kapa-dp on the capture (port 0) and a null port, @p workers workers (1 or
 * 2), its output into @p log. */
static pid_t
start_dp(int workers, const char *log)
{
	const char *bin = getenv("KAPA_DP"), *pcap = getenv("KAPA_PCAP");
	char vdev[512];
	pid_t pid;
	int fd;

	if (bin == NULL || pcap == NULL) {
		fprintf(stderr, "\ntest_restart: KAPA_DP or KAPA_PCAP not set (run through meson test)\n");
		return -1;
	}
	if (access(pcap, R_OK) != 0) {
		fprintf(stderr, "\ntest_restart: FAIL: the capture %s: %s\n", pcap, strerror(errno));
		return -1;
	}
	snprintf(vdev, sizeof(vdev), "net_pcap0,rx_pcap=%s,tx_pcap=%s/out.pcap", pcap, tmp);
	pid = fork();
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		/* Two workers on the two cores the tests have: main on 0, the
		 * workers sharing 1 (as tests/e2e does). */
		if (workers == 2)
			execl(bin, bin, "--lcores", "0@0,(1,2)@1", "--no-huge", "-m", "256", "--no-pci",
			      "--file-prefix", prefix, "--vdev", vdev, "--vdev", "net_null0,no-rx=1",
			      "--", "--bridge", "0:1", "--max-conns", "2048", "--idle-sleep-us", "100",
			      "--map-root", root, (char *)NULL);
		else
			execl(bin, bin, "-l", "0", "--no-huge", "-m", "256", "--no-pci",
			      "--file-prefix", prefix, "--vdev", vdev, "--vdev", "net_null0,no-rx=1",
			      "--", "--bridge", "0:1", "--max-conns", "2048", "--idle-sleep-us", "100",
			      "--map-root", root, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Stop kapa-dp with @p sig (SIGKILL after 10 s of SIGTERM). @return its
 * wait status, or -1. */
static int
stop_dp(int sig)
{
	int status = -1, i;

	if (dp <= 0)
		return -1;
	kill(dp, sig);
	for (i = 0; i < 1000; i++) {
		if (waitpid(dp, &status, WNOHANG) == dp)
			break;
		sleep_ms(10);
	}
	if (i == 1000) {
		kill(dp, SIGKILL);
		waitpid(dp, &status, 0);
	}
	dp = -1;
	return status;
}

/* @return 1 once @p log has the line @p want, 0 when kapa-dp ended or 20 s
 * passed. */
static int
wait_log(const char *log, const char *want)
{
	char line[512];
	int i, found = 0, status;
	FILE *f;

	for (i = 0; i < 2000 && !found; i++) {
		f = fopen(log, "r");
		if (f != NULL) {
			while (!found && fgets(line, sizeof(line), f) != NULL)
				found = strncmp(line, want, strlen(want)) == 0;
			fclose(f);
		}
		if (found)
			break;
		if (waitpid(dp, &status, WNOHANG) == dp) {
			fprintf(stderr, "\ntest_restart: kapa-dp ended (status %d) before '%s'\n",
				status, want);
			dp = -1;
			return 0;
		}
		sleep_ms(10);
	}
	return found;
}

/* Start kapa-dp and open the maps once it forwards (it creates them: the
 * test does not open them first). @return 1 when it runs. */
static int
run_dp(int workers, const char *log)
{
	struct kapa_mapset_conf conf = { .root = root };

	dp = start_dp(workers, log);
	if (dp <= 0 || !wait_log(log, "kapa-dp: forwarding"))
		return 0;
	if (!ms_open) {
		if (kapa_mapset_open(&ms, &conf, err, sizeof(err)) != 0) {
			fprintf(stderr, "\ntest_restart: maps: %s\n", err);
			return 0;
		}
		ms_open = 1;
	}
	return 1;
}

static void
snap_take(struct snap *s, uint16_t n)
{
	uint16_t w;
	unsigned i, j;

	memset(s, 0, sizeof(*s));
	for (w = 0; w < n; w++) {
		const __u64 *words = &ms.stats[w].heartbeat_ns + 1;
		const struct kapa_hist_rec *h = &ms.hist[w];

		for (i = 0; i < KAPA_COUNTER_COUNT; i++)
			s->c[i] += words[i];
		for (j = 0; j < KAPA_HIST_BUCKETS; j++) {
			s->h[0][j] += h->requests[j];
			s->h[1][j] += h->idle_ms[j];
			s->h[2][j] += h->lifetime_ms[j];
		}
		s->requests_sum += h->requests_sum;
	}
	for (i = 0; i < 3; i++)
		for (j = 0; j < KAPA_HIST_BUCKETS; j++)
			s->hist_count[i] += s->h[i][j];
}

static int
ctr_index(const char *name)
{
	unsigned i;

	for (i = 0; i < KAPA_COUNTER_COUNT; i++)
		if (strcmp(ctr[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The counters kapa-dp printed at exit (this run's). @return how many. */
static unsigned
printed_counters(const char *log, uint64_t *c)
{
	char line[512], name[128];
	unsigned long long v;
	unsigned n = 0;
	int on = 0, i;
	FILE *f = fopen(log, "r");

	memset(c, 0, KAPA_COUNTER_COUNT * sizeof(*c));
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strcmp(line, "kapa-dp: counters\n") == 0) {
			on = 1;
			continue;
		}
		if (on && sscanf(line, "%127s %llu", name, &v) == 2 && (i = ctr_index(name)) >= 0) {
			c[i] = v;
			n++;
		}
	}
	fclose(f);
	return n;
}

/* Wait for worker 0's next publish (its heartbeat moves). */
static int
wait_publish(void)
{
	uint64_t hb = __atomic_load_n(&ms.stats[0].heartbeat_ns, __ATOMIC_ACQUIRE);
	int i;

	for (i = 0; i < 500; i++) {
		sleep_ms(2);
		if (__atomic_load_n(&ms.stats[0].heartbeat_ns, __ATOMIC_ACQUIRE) != hb)
			return 1;
	}
	return 0;
}

/* Wait until rx_packets over @p n slots reaches @p want (0: until it is
 * nonzero and has not moved for 300 ms). @return its value. */
static uint64_t
wait_rx(uint16_t n, uint64_t want)
{
	int rx = ctr_index("rx_packets"), i, still = 0;
	uint64_t last = 0;
	struct snap s;

	for (i = 0; i < 3000; i++) {
		snap_take(&s, n);
		if (want != 0 && s.c[rx] >= want)
			return s.c[rx];
		if (want == 0 && s.c[rx] != 0 && s.c[rx] == last) {
			if (++still == 30)
				return last;
		} else {
			still = 0;
		}
		last = s.c[rx];
		sleep_ms(10);
	}
	fprintf(stderr, "\ntest_restart: rx_packets stayed %" PRIu64 " (waited for %" PRIu64 ")\n",
		last, want);
	return last;
}

/* Compare every counter: @p got == @p a + @p b for counters; for gauges,
 * @p got == @p gauge. @return the mismatches (printed). */
static unsigned
check_counters(const char *what, const uint64_t *got, const uint64_t *a, const uint64_t *b,
	       const uint64_t *gauge)
{
	unsigned i, bad = 0;

	for (i = 0; i < KAPA_COUNTER_COUNT; i++) {
		uint64_t want = ctr[i].kind == KAPA_CTR_COUNTER ? a[i] + b[i] : gauge[i];

		if (got[i] != want) {
			fprintf(stderr, "\ntest_restart: %s: %s %s is %" PRIu64 ", expected %" PRIu64,
				what, ctr[i].kind == KAPA_CTR_COUNTER ? "counter" : "gauge",
				ctr[i].name, got[i], want);
			bad++;
		}
	}
	return bad;
}

/* @p got's histograms: twice @p one's (every bucket and the requests' sum;
 * the counts of all three). @return the mismatches (printed). */
static unsigned
check_hist_doubled(const char *what, const struct snap *got, const struct snap *one)
{
	static const char *const name[3] = { "requests", "idle_ms", "lifetime_ms" };
	unsigned i, j, bad = 0;

	for (i = 0; i < 3; i++) {
		if (got->hist_count[i] != 2 * one->hist_count[i]) {
			fprintf(stderr, "\ntest_restart: %s: histogram %s counts %" PRIu64
				", expected 2 x %" PRIu64, what, name[i], got->hist_count[i],
				one->hist_count[i]);
			bad++;
		}
	}
	for (j = 0; j < KAPA_HIST_BUCKETS; j++) {
		if (got->h[0][j] != 2 * one->h[0][j]) {
			fprintf(stderr, "\ntest_restart: %s: requests bucket %u is %" PRIu64
				", expected 2 x %" PRIu64, what, j, got->h[0][j], one->h[0][j]);
			bad++;
		}
	}
	if (got->requests_sum != 2 * one->requests_sum) {
		fprintf(stderr, "\ntest_restart: %s: requests_sum %" PRIu64 ", expected 2 x %" PRIu64,
			what, got->requests_sum, one->requests_sum);
		bad++;
	}
	return bad;
}

/* Slots [from, KAPA_MAX_WORKERS) all zero? */
static int
slots_zero_from(uint16_t from)
{
	static const struct kapa_stats_rec zs;
	static const struct kapa_hist_rec zh;
	uint16_t w;

	for (w = from; w < KAPA_MAX_WORKERS; w++)
		if (memcmp(&ms.stats[w], &zs, sizeof(zs)) != 0 ||
		    memcmp(&ms.hist[w], &zh, sizeof(zh)) != 0)
			return 0;
	return 1;
}

/* A fresh map root for each test. */
static void
reset_root(void)
{
	if (dp > 0)
		stop_dp(SIGKILL);
	if (ms_open) {
		kapa_mapset_close(&ms);
		ms_open = 0;
	}
	kapa_mapset_unpin(root, err, sizeof(err));
	unlink(lock_path);
}

static int
suite_init(void)
{
	char *p;

	snprintf(root, sizeof(root), "/sys/fs/bpf/kapa-test-restart-%d", (int)getpid());
	snprintf(prefix, sizeof(prefix), "kapa-test-restart-%d", (int)getpid());
	/* kapa-dp's lock of the map root (dataplane/dp/main.c, lock_map_root). */
	snprintf(lock_path, sizeof(lock_path), "/run/kapa/kapa-dp%s.lock", root);
	for (p = lock_path + strlen("/run/kapa/"); *p != '\0'; p++)
		if (*p == '/')
			*p = '_';
	snprintf(tmp, sizeof(tmp), "/tmp/kapa-test-restart-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	memset(&ms, 0, sizeof(ms));
	if (!ctl_test_root_and_bpffs("test_restart"))
		return 0;	/* the tests fail on it themselves */
	return 0;
}

static int
suite_fini(void)
{
	char path[128];

	reset_root();
	snprintf(path, sizeof(path), "/var/run/dpdk/%s", prefix);
	ctl_test_rm_tree(path);
	ctl_test_rm_tree(tmp);
	return 0;
}

/* SIGTERM, exit 0, a second run, SIGTERM: everything doubled. */
static void
test_clean_stop(void)
{
	char log1[128], log2[128];
	uint64_t p1[KAPA_COUNTER_COUNT], p2[KAPA_COUNTER_COUNT], zero[KAPA_COUNTER_COUNT] = { 0 };
	struct snap s1, s2;
	int status, rx = ctr_index("rx_packets"), req = ctr_index("http_requests");

	CU_ASSERT_FATAL(ctl_test_root_and_bpffs("test_restart"));
	reset_root();
	snprintf(log1, sizeof(log1), "%s/clean1.log", tmp);
	snprintf(log2, sizeof(log2), "%s/clean2.log", tmp);

	CU_ASSERT_FATAL(run_dp(1, log1));
	wait_rx(1, 0);
	status = stop_dp(SIGTERM);
	CU_ASSERT_FATAL(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snap_take(&s1, 1);
	printf("\n    run 1: rx_packets %" PRIu64 ", http_requests %" PRIu64
	       ", connections in the histograms %" PRIu64 "\n",
	       s1.c[rx], s1.c[req], s1.hist_count[0]);
	CU_ASSERT_FATAL(s1.c[rx] > 0);
	CU_ASSERT(s1.c[req] > 0);
	CU_ASSERT(s1.hist_count[0] > 0);
	/* New maps: what it printed is what the maps hold. */
	CU_ASSERT_EQUAL(printed_counters(log1, p1), KAPA_COUNTER_COUNT);
	CU_ASSERT_EQUAL(check_counters("run 1 printed", p1, s1.c, zero, s1.c), 0);

	CU_ASSERT_FATAL(run_dp(1, log2));
	wait_rx(1, 2 * s1.c[rx]);
	wait_rx(1, 0);
	status = stop_dp(SIGTERM);
	CU_ASSERT_FATAL(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snap_take(&s2, 1);
	printf("    run 2: rx_packets %" PRIu64 ", http_requests %" PRIu64
	       ", connections in the histograms %" PRIu64 "\n",
	       s2.c[rx], s2.c[req], s2.hist_count[0]);
	/* The maps: both runs; its exit print: its own run. */
	CU_ASSERT_EQUAL(check_counters("after the restart", s2.c, s1.c, s1.c, s1.c), 0);
	CU_ASSERT_EQUAL(check_hist_doubled("after the restart", &s2, &s1), 0);
	CU_ASSERT_EQUAL(printed_counters(log2, p2), KAPA_COUNTER_COUNT);
	CU_ASSERT_EQUAL(check_counters("run 2 printed", p2, s1.c, zero, s2.c), 0);
	CU_ASSERT(slots_zero_from(1));
}

/* All frames in, the closed connections released, published: a snapshot
 * of the running kapa-dp. */
static void
settled(struct snap *s, uint64_t want_rx)
{
	wait_rx(1, want_rx);
	wait_rx(1, 0);
	sleep_ms(LINGER_WAIT_MS);
	CU_ASSERT(wait_publish());
	snap_take(s, 1);
}

/* kill -9 after a publish, twice: counters and histograms doubled, gauges
 * not. */
static void
test_kill9(void)
{
	char log1[128], log2[128];
	struct snap s1, s2, after;
	int status, rx = ctr_index("rx_packets"), act = ctr_index("conns_active");
	int rel = ctr_index("rel_closed");

	CU_ASSERT_FATAL(ctl_test_root_and_bpffs("test_restart"));
	reset_root();
	snprintf(log1, sizeof(log1), "%s/kill1.log", tmp);
	snprintf(log2, sizeof(log2), "%s/kill2.log", tmp);

	CU_ASSERT_FATAL(run_dp(1, log1));
	settled(&s1, 0);
	status = stop_dp(SIGKILL);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	snap_take(&after, 1);
	printf("\n    run 1 (killed): rx_packets %" PRIu64 ", conns_active %" PRIu64
	       ", rel_closed %" PRIu64 ", connections in the histograms %" PRIu64 "\n",
	       s1.c[rx], s1.c[act], s1.c[rel], s1.hist_count[0]);
	CU_ASSERT_FATAL(s1.c[rx] > 0);
	/* Closed connections in the histograms, open ones in the gauge: the
	 * capture must have both for the check to mean anything. */
	CU_ASSERT(s1.hist_count[0] > 0);
	CU_ASSERT(s1.c[act] > 0);
	/* Nothing changed after the last publish. */
	CU_ASSERT_EQUAL(check_counters("after the kill", after.c, s1.c,
				       (uint64_t[KAPA_COUNTER_COUNT]){ 0 }, s1.c), 0);

	CU_ASSERT_FATAL(run_dp(1, log2));
	settled(&s2, 2 * s1.c[rx]);
	printf("    run 2: rx_packets %" PRIu64 ", conns_active %" PRIu64
	       ", connections in the histograms %" PRIu64 "\n",
	       s2.c[rx], s2.c[act], s2.hist_count[0]);
	CU_ASSERT_EQUAL(check_counters("after kill -9 and a restart", s2.c, s1.c, s1.c, s1.c), 0);
	CU_ASSERT_EQUAL(check_hist_doubled("after kill -9 and a restart", &s2, &s1), 0);
	stop_dp(SIGKILL);
}

/* Two workers, then one: worker 1's records folded into worker 0's. */
static void
test_fewer_workers(void)
{
	char log1[128], log2[128];
	uint64_t p2[KAPA_COUNTER_COUNT];
	struct snap s1, s2;
	int status, rx = ctr_index("rx_packets");

	CU_ASSERT_FATAL(ctl_test_root_and_bpffs("test_restart"));
	reset_root();
	snprintf(log1, sizeof(log1), "%s/workers1.log", tmp);
	snprintf(log2, sizeof(log2), "%s/workers2.log", tmp);

	CU_ASSERT_FATAL(run_dp(2, log1));
	wait_rx(2, 0);
	status = stop_dp(SIGTERM);
	CU_ASSERT_FATAL(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snap_take(&s1, 2);
	printf("\n    run 1 (2 workers): rx_packets %" PRIu64 ", pkts_tcp %" PRIu64
	       " (worker 1: %" PRIu64 "), connections in the histograms %" PRIu64 "\n",
	       s1.c[rx], s1.c[ctr_index("pkts_tcp")], (uint64_t)ms.stats[1].pkts_tcp,
	       s1.hist_count[0]);
	CU_ASSERT_FATAL(s1.c[rx] > 0);
	/* Worker 1 owned connections: its records are what gets folded. */
	CU_ASSERT(ms.stats[1].pkts_tcp > 0);

	CU_ASSERT_FATAL(run_dp(1, log2));
	/* Folded at start: slot 1 is empty, slot 0 has the whole. */
	CU_ASSERT(slots_zero_from(1));
	wait_rx(1, 2 * s1.c[rx]);
	wait_rx(1, 0);
	status = stop_dp(SIGTERM);
	CU_ASSERT_FATAL(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snap_take(&s2, 1);
	CU_ASSERT(slots_zero_from(1));
	CU_ASSERT_EQUAL(printed_counters(log2, p2), KAPA_COUNTER_COUNT);
	printf("    run 2 (1 worker): rx_packets %" PRIu64 " in worker 0\n", s2.c[rx]);
	/* Worker 0 alone: both runs (the worker count changes dispatched and
	 * the like, so run 2's own counts are what it printed). */
	CU_ASSERT_EQUAL(check_counters("after 2 workers, then 1", s2.c, s1.c, p2, p2), 0);
	CU_ASSERT_EQUAL(check_hist_doubled("after 2 workers, then 1", &s2, &s1), 0);
}

int
kapa_unit_register(void)
{
	CU_pSuite s = CU_add_suite("kapa-dp restart", suite_init, suite_fini);

	if (s == NULL ||
	    CU_add_test(s, "clean stop: counters and histograms carried", test_clean_stop) == NULL ||
	    CU_add_test(s, "kill -9 after a publish: carried, gauges not", test_kill9) == NULL ||
	    CU_add_test(s, "two workers, then one: folded", test_fewer_workers) == NULL)
		return -1;
	return 0;
}
