/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite 'ctl' (root): the control path between the maps and a running
 * kapa-dp, with this test playing kapad through ctl/common/kapa_publish.c.
 * kapa-dp runs for real (net_null ports, no traffic, --no-huge) under a map
 * root of the test's own:
 *  - a rule set published before it starts holds over its command line;
 *  - a new rule set, a policy program, a program that fails its check (the
 *    running one stays, the reason comes back), going back to the built-in
 *    decision: each taken up, the delay measured and printed;
 *  - commands: a connection that does not exist, a worker that does not;
 *  - attached while it runs, detached once it stopped on SIGTERM.
 * Paths of kapa-dp and the program objects come from meson (KAPA_DP,
 * KAPA_PROG_ADAPTIVE, KAPA_PROG_BAD_MODE).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "ctl_test.h"
#include "kapa_bpfobj.h"
#include "kapa_publish.h"
#include "unit.h"

static char root[64], prefix[64], err[512];
static struct kapa_mapset ms;
static pid_t dp = -1;

static void
sleep_ms(unsigned msecs)
{
	struct timespec ts = { .tv_sec = msecs / 1000, .tv_nsec = (long)(msecs % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* kapa-dp on two null ports, under the test's map root; its output to
 * stdout (the test log). */
static pid_t
start_dp(void)
{
	const char *bin = getenv("KAPA_DP");
	pid_t pid;

	if (bin == NULL) {
		fprintf(stderr, "\ntest_control: KAPA_DP not set (run through meson test)\n");
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		execl(bin, bin, "-l", "0", "--no-huge", "-m", "256", "--no-pci", "--file-prefix",
		      prefix, "--vdev", "net_null0,no-rx=1", "--vdev", "net_null1,no-rx=1", "--",
		      "--bridge", "0:1", "--max-conns", "1024", "--map-root", root,
		      "--policy", "timeout=30,mode=enforce", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int
stop_dp(void)
{
	int status = -1;

	if (dp <= 0)
		return -1;
	kill(dp, SIGTERM);
	waitpid(dp, &status, 0);
	dp = -1;
	return status;
}

static int
wait_attached(unsigned max_ms)
{
	unsigned i;

	for (i = 0; i < max_ms; i += 10) {
		if (kapa_dp_attached(&ms))
			return 1;
		sleep_ms(10);
	}
	return 0;
}

static int
suite_init(void)
{
	struct kapa_mapset_conf conf = { .root = root, .max_conns = 1024 };

	snprintf(root, sizeof(root), "/sys/fs/bpf/kapa-test-control-%d", (int)getpid());
	snprintf(prefix, sizeof(prefix), "kapa-test-control-%d", (int)getpid());
	if (!ctl_test_root_and_bpffs("test_control"))
		return 0;	/* the tests fail on it themselves */
	return kapa_mapset_open(&ms, &conf, err, sizeof(err)) == 0 ? 0 : -1;
}

static int
suite_fini(void)
{
	stop_dp();
	if (ms.ctl != NULL)
		kapa_mapset_close(&ms);
	kapa_mapset_unpin(root, err, sizeof(err));
	ctl_test_rm_dp_leftovers(prefix, root);
	return 0;
}

static void
rule(struct kapa_policy_rule *r, const char *match, uint32_t timeout, uint8_t mode)
{
	char text[128];

	snprintf(text, sizeof(text), "%s=timeout=%u,mode=%s", match, timeout,
		 kapa_policy_mode_name(mode));
	CU_ASSERT_EQUAL_FATAL(kapa_policy_parse_rule(text, r, err, sizeof(err)), 0);
}

static void
test_rules_and_programs(void)
{
	struct kapa_policy_spec def = { .timeout_s = 60, .mode = KAPA_MODE_ADVERTISE };
	struct kapa_policy_rule rules[2];
	uint64_t gen, pgen, bad_gen, prev, t0, applied;
	uint32_t n;
	void *ins;
	int rc, i;

	CU_ASSERT_FATAL(ctl_test_root_and_bpffs("test_control"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ms.ctl);

	/* Published before kapa-dp starts: holds over its --policy. */
	rule(&rules[0], "198.18.0.0/15:80", 10, KAPA_MODE_ENFORCE);
	CU_ASSERT_EQUAL_FATAL(kapa_publish_rules(&ms, &def, rules, 1, &gen, err, sizeof(err)), 0);
	dp = start_dp();
	CU_ASSERT_FATAL(dp > 0);
	CU_ASSERT_FATAL(wait_attached(20000));
	CU_ASSERT_EQUAL(kapa_wait_applied(&ms, gen, 0, 2000, NULL, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ms.ctl->dp_rules_gen, gen);
	CU_ASSERT_EQUAL(ms.ctl->dp_prog_gen, 0);
	CU_ASSERT_EQUAL(ms.ctl->dp_workers, 1);
	CU_ASSERT_EQUAL(ms.ctl->dp_pid, (uint32_t)dp);

	/* A new set while it runs. */
	rule(&rules[1], "[2001:db8::/32]:443", 5, KAPA_MODE_OBSERVE);
	t0 = kapa_now_ns();
	CU_ASSERT_EQUAL_FATAL(kapa_publish_rules(&ms, &def, rules, 2, &gen, err, sizeof(err)), 0);
	rc = kapa_wait_applied(&ms, gen, 0, 2000, &applied, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, 0);
	printf("\n    rule set %llu in force on every worker %.1f ms after it was published\n",
	       (unsigned long long)gen, (double)(applied - t0) / 1e6);

	/* A program. */
	CU_ASSERT_FATAL(kapa_bpfobj_read(getenv("KAPA_PROG_ADAPTIVE"), KAPA_POLICY_SECTION, &ins, &n,
					 err, sizeof(err)) == 0);
	t0 = kapa_now_ns();
	CU_ASSERT_EQUAL(kapa_publish_prog(&ms, ins, n, "policy_adaptive.bpf.o", &pgen, err,
					  sizeof(err)), 0);
	free(ins);
	rc = kapa_wait_applied(&ms, 0, pgen, 2000, &applied, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, 0);
	printf("    program %llu in force on every worker %.1f ms after it was published\n",
	       (unsigned long long)pgen, (double)(applied - t0) / 1e6);

	/* One that fails its check: refused, with why; the adaptive one stays. */
	CU_ASSERT_FATAL(kapa_bpfobj_read(getenv("KAPA_PROG_BAD_MODE"), KAPA_POLICY_SECTION, &ins, &n,
					 err, sizeof(err)) == 0);
	CU_ASSERT_EQUAL(kapa_publish_prog(&ms, ins, n, "bad_mode.bpf.o", &bad_gen, err,
					  sizeof(err)), 0);
	free(ins);
	rc = kapa_wait_applied(&ms, 0, bad_gen, 2000, NULL, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "mode 7"));
	CU_ASSERT_EQUAL(ms.ctl->dp_prog_gen, pgen);

	/* Back to the built-in decision: an unload is a generation of its
	 * own, taken up like a program. Then loaded and unloaded again:
	 * generations only grow. */
	for (i = 0; i < 2; i++) {
		prev = i == 0 ? bad_gen : pgen;
		CU_ASSERT_EQUAL(kapa_publish_prog(&ms, NULL, 0, NULL, &pgen, err, sizeof(err)), 0);
		CU_ASSERT(pgen > prev);
		CU_ASSERT_EQUAL(kapa_wait_applied(&ms, 0, pgen, 2000, NULL, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(ms.ctl->dp_prog_gen, pgen);
		if (i == 1)
			break;
		CU_ASSERT_FATAL(kapa_bpfobj_read(getenv("KAPA_PROG_ADAPTIVE"), KAPA_POLICY_SECTION,
						 &ins, &n, err, sizeof(err)) == 0);
		prev = pgen;
		CU_ASSERT_EQUAL(kapa_publish_prog(&ms, ins, n, "policy_adaptive.bpf.o", &pgen, err,
						  sizeof(err)), 0);
		free(ins);
		CU_ASSERT(pgen > prev);
		CU_ASSERT_EQUAL(kapa_wait_applied(&ms, 0, pgen, 2000, NULL, err, sizeof(err)), 0);
	}
}

static void
test_commands(void)
{
	char msg[256];
	int status;

	CU_ASSERT_FATAL(ctl_test_root_and_bpffs("test_control"));
	CU_ASSERT_FATAL(dp > 0 && kapa_dp_attached(&ms));
	CU_ASSERT_EQUAL(kapa_command_close(&ms, 0, 7, 1, 2000, msg, sizeof(msg)), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "no connection 0/7/1"));
	CU_ASSERT_EQUAL(kapa_command_close(&ms, 9, 0, 1, 2000, msg, sizeof(msg)), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "no worker 9"));

	/* Stopped: no longer attached, and commands say so. */
	status = stop_dp();
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT_EQUAL(ms.ctl->dp_heartbeat_ns, 0);
	CU_ASSERT(!kapa_dp_attached(&ms));
	CU_ASSERT_EQUAL(kapa_command_close(&ms, 0, 7, 1, 200, msg, sizeof(msg)), -ENOTCONN);
}

int
kapa_unit_register(void)
{
	CU_pSuite s = CU_add_suite("control path", suite_init, suite_fini);

	if (s == NULL ||
	    CU_add_test(s, "rules and programs taken up live", test_rules_and_programs) == NULL ||
	    CU_add_test(s, "commands, attached and detached", test_commands) == NULL)
		return -1;
	return 0;
}
