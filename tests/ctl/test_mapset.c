/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite 'ctl' (root): kapa_mapset, the create-or-open of the pinned maps
 * that kapa-dp and kapad share (ctl/common/kapa_mapset.c). Checks creation,
 * reuse of the same memory by a second open, the refusal of maps another
 * kapa version made (meta field, map property), maps whose creator died
 * before filling meta, openers starting at once (one creates), kapa_conns
 * resized by its owner and taken as found by kapad, a root off bpffs, and
 * unpinning.
 *
 * Every test has its own map root under /sys/fs/bpf and removes it; the
 * suite's cleanup removes whatever a failed test left there.
 *
 * Without root (or without bpffs on /sys/fs/bpf) every test FAILS with the
 * reason: a skipped kernel check must never look like a passed one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <linux/magic.h>

#include <bpf/bpf.h>

#include "kapa_mapset.h"
#include "ctl_test.h"
#include "unit.h"

#define TEST_CONNS 1024

/* Map roots of this process's own, one per test, so that a test never
 * touches the maps of a kapa that runs on the same host. */
enum test_root {
	ROOT_CREATE,
	ROOT_REUSE,
	ROOT_META,
	ROOT_UNFILLED,
	ROOT_AT_ONCE,
	ROOT_PROP,
	ROOT_CONNS,
	ROOT_UNPIN,
	ROOT_MAX,
};
static char roots[ROOT_MAX][64];
/* Off bpffs: refused, and never created. */
static char tmp_root[64];

static int
root_and_bpffs(void)
{
	return ctl_test_root_and_bpffs("test_mapset");
}

static int
open_set(struct kapa_mapset *ms, enum test_root r, uint32_t max_conns, int own_conns,
	 char *err, size_t errlen)
{
	const struct kapa_mapset_conf conf = {
		.root = roots[r],
		.max_conns = max_conns,
		.own_conns = own_conns,
	};
	int rc;

	err[0] = '\0';
	rc = kapa_mapset_open(ms, &conf, err, errlen);
	if (rc != 0)
		fprintf(stderr, "\nkapa_mapset_open(%s): %d: %s\n", roots[r], rc, err);
	return rc;
}

static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int
closed(const struct kapa_mapset *ms)
{
	return ms->meta_fd == -1 && ms->stats_fd == -1 && ms->rules_fd == -1 &&
	       ms->conns_fd == -1 && ms->meta == NULL && ms->stats == NULL && ms->conns == NULL;
}

static void
unpin(enum test_root r)
{
	char err[256];

	CU_ASSERT_EQUAL(kapa_mapset_unpin(roots[r], err, sizeof(err)), 0);
	CU_ASSERT_FALSE(exists(roots[r]));
}

/* Suite cleanup: whatever a failed test left pinned goes, so that a failure
 * does not leave maps behind in the kernel. */
static int
remove_roots(void)
{
	char err[256];
	int r;

	for (r = 0; r < ROOT_MAX; r++)
		kapa_mapset_unpin(roots[r], err, sizeof(err));
	rmdir(tmp_root);
	return 0;
}

static void
test_create(void)
{
	struct kapa_mapset a, b;
	char err[256], path[128];
	uint32_t key = 0;
	struct kapa_meta meta;
	struct stat st;

	CU_ASSERT_FATAL(root_and_bpffs());
	CU_ASSERT_FALSE(exists(roots[ROOT_CREATE]));

	CU_ASSERT_EQUAL_FATAL(open_set(&a, ROOT_CREATE, TEST_CONNS, 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(a.created, 1);
	CU_ASSERT_EQUAL(a.conns_replaced, 0);
	CU_ASSERT_STRING_EQUAL(a.root, roots[ROOT_CREATE]);
	CU_ASSERT_EQUAL(a.max_conns, TEST_CONNS);
	CU_ASSERT(a.meta_fd >= 0 && a.stats_fd >= 0 && a.rules_fd >= 0 && a.conns_fd >= 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a.meta);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a.stats);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a.conns);
	CU_ASSERT(a.conns_len >= TEST_CONNS * sizeof(struct kapa_conn_rec));
	CU_ASSERT(a.stats_len >= KAPA_MAX_WORKERS * sizeof(struct kapa_stats_rec));

	/* The root was created 0700, and every map pinned in it. */
	CU_ASSERT_EQUAL(stat(roots[ROOT_CREATE], &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/" KAPA_MAP_CONNS, roots[ROOT_CREATE]);
	CU_ASSERT(exists(path));

	/* Meta filled, in memory and through the syscall. */
	CU_ASSERT_PTR_NULL(kapa_meta_mismatch(a.meta));
	CU_ASSERT_EQUAL(a.meta->max_conns, TEST_CONNS);
	memset(&meta, 0, sizeof(meta));
	CU_ASSERT_EQUAL(bpf_map_lookup_elem(a.meta_fd, &key, &meta), 0);
	CU_ASSERT_EQUAL(meta.abi_version, KAPA_MAPS_ABI_VERSION);
	CU_ASSERT_EQUAL(meta.max_conns, TEST_CONNS);

	/* The mappings are writable, to their last record, and a second open
	 * sees what was written. */
	a.stats[KAPA_MAX_WORKERS - 1].rx_packets = 41;
	a.conns[TEST_CONNS - 1].gen = 7;
	CU_ASSERT_EQUAL_FATAL(open_set(&b, ROOT_CREATE, 0, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(b.created, 0);
	CU_ASSERT_EQUAL(b.stats[KAPA_MAX_WORKERS - 1].rx_packets, 41);
	CU_ASSERT_EQUAL(b.conns[TEST_CONNS - 1].gen, 7);

	kapa_mapset_close(&b);
	kapa_mapset_close(&a);
	CU_ASSERT(closed(&a));
	kapa_mapset_close(&a);	/* twice is harmless */
	unpin(ROOT_CREATE);
}

static void
test_reuse(void)
{
	struct kapa_mapset a, b;
	struct kapa_rule_rec rule, got;
	char err[256];
	uint32_t key = 5;

	CU_ASSERT_FATAL(root_and_bpffs());
	CU_ASSERT_EQUAL_FATAL(open_set(&a, ROOT_REUSE, TEST_CONNS, 1, err, sizeof(err)), 0);
	/* Written before the other opens: pins keep it without any opener. */
	a.stats[2].rx_bytes = 1500;
	kapa_mapset_close(&a);

	CU_ASSERT_EQUAL_FATAL(open_set(&a, ROOT_REUSE, TEST_CONNS, 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(a.created, 0);
	CU_ASSERT_EQUAL(a.conns_replaced, 0);
	CU_ASSERT_EQUAL(a.stats[2].rx_bytes, 1500);
	CU_ASSERT_EQUAL_FATAL(open_set(&b, ROOT_REUSE, 0, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(b.created, 0);
	CU_ASSERT_EQUAL(b.max_conns, TEST_CONNS);

	/* Same memory both ways, as kapa-dp and kapad share it. */
	a.stats[3].rx_packets = 77;
	CU_ASSERT_EQUAL(b.stats[3].rx_packets, 77);
	b.conns[TEST_CONNS / 2].requests = 9;
	CU_ASSERT_EQUAL(a.conns[TEST_CONNS / 2].requests, 9);
	b.meta->max_conns = TEST_CONNS;	/* a store to meta lands in a's view too */
	CU_ASSERT_EQUAL(a.meta->max_conns, TEST_CONNS);

	/* The rules map, through the syscall on either fd. */
	memset(&rule, 0, sizeof(rule));
	rule.family = 4;
	rule.prefix_len = 24;
	rule.port = 80;
	rule.spec.timeout_s = 30;
	CU_ASSERT_EQUAL(bpf_map_update_elem(a.rules_fd, &key, &rule, BPF_ANY), 0);
	memset(&got, 0, sizeof(got));
	CU_ASSERT_EQUAL(bpf_map_lookup_elem(b.rules_fd, &key, &got), 0);
	CU_ASSERT_EQUAL(memcmp(&rule, &got, sizeof(rule)), 0);

	kapa_mapset_close(&b);
	kapa_mapset_close(&a);
	unpin(ROOT_REUSE);
}

static void
test_meta_mismatch(void)
{
	struct kapa_mapset a, b;
	char err[256], want[64];

	CU_ASSERT_FATAL(root_and_bpffs());
	CU_ASSERT_EQUAL_FATAL(open_set(&a, ROOT_META, TEST_CONNS, 1, err, sizeof(err)), 0);
	/* Another build's layout, as a kapa of another version left it. */
	a.meta->stats_size = 512;
	kapa_mapset_close(&a);

	fprintf(stderr, "\n(the next open is expected to be refused: stats_size)\n");
	CU_ASSERT_EQUAL(open_set(&b, ROOT_META, TEST_CONNS, 1, err, sizeof(err)), -EPROTO);
	CU_ASSERT(closed(&b));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "stats_size is 512"));
	snprintf(want, sizeof(want), "this build's is %zu", sizeof(struct kapa_stats_rec));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, roots[ROOT_META]));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "rm -r"));

	/* The ABI version is named as such. */
	unpin(ROOT_META);
	CU_ASSERT_EQUAL_FATAL(open_set(&a, ROOT_META, TEST_CONNS, 1, err, sizeof(err)), 0);
	a.meta->abi_version = KAPA_MAPS_ABI_VERSION + 1;
	kapa_mapset_close(&a);
	CU_ASSERT_EQUAL(open_set(&b, ROOT_META, 0, 0, err, sizeof(err)), -EPROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "abi_version is"));
	unpin(ROOT_META);
}

/* An opener that died between its load and filling meta leaves maps the
 * next opener takes over. */
static void
test_meta_unfilled(void)
{
	struct kapa_mapset a;
	char err[256];

	CU_ASSERT_FATAL(root_and_bpffs());
	CU_ASSERT_EQUAL_FATAL(open_set(&a, ROOT_UNFILLED, TEST_CONNS, 1, err, sizeof(err)), 0);
	a.stats[1].rx_packets = 12;
	memset(a.meta, 0, sizeof(*a.meta));
	kapa_mapset_close(&a);

	CU_ASSERT_EQUAL_FATAL(open_set(&a, ROOT_UNFILLED, 0, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(a.created, 1);
	CU_ASSERT_PTR_NULL(kapa_meta_mismatch(a.meta));
	CU_ASSERT_EQUAL(a.meta->max_conns, TEST_CONNS);
	CU_ASSERT_EQUAL(a.stats[1].rx_packets, 12);	/* the maps, reused */
	kapa_mapset_close(&a);
	unpin(ROOT_UNFILLED);
}

/* kapa-dp and kapad starting at the same moment, several times over: one
 * creates, the others reuse, and the live map ends at kapa-dp's size. */
static void
test_openers_at_once(void)
{
	enum { OPENERS = 6, DP_CONNS = TEST_CONNS * 2 };
	struct kapa_mapset ms;
	int go[2], status, created = 0, failed = 0;
	char err[256], c;
	pid_t pid;
	int i;

	CU_ASSERT_FATAL(root_and_bpffs());
	CU_ASSERT_EQUAL_FATAL(pipe(go), 0);
	for (i = 0; i < OPENERS; i++) {
		pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			/* Exit status: 1 created, 0 reused, 2 failed. */
			close(go[1]);
			if (read(go[0], &c, 1) != 0)
				_exit(2);
			if (open_set(&ms, ROOT_AT_ONCE, i == 0 ? DP_CONNS : 0, i == 0,
				     err, sizeof(err)) != 0)
				_exit(2);
			_exit(ms.created);
		}
	}
	close(go[0]);
	close(go[1]);	/* all start */
	for (i = 0; i < OPENERS; i++) {
		CU_ASSERT_FATAL(wait(&status) > 0);
		CU_ASSERT_FATAL(WIFEXITED(status));
		created += WEXITSTATUS(status) == 1;
		failed += WEXITSTATUS(status) == 2;
	}
	CU_ASSERT_EQUAL(failed, 0);
	CU_ASSERT_EQUAL(created, 1);

	CU_ASSERT_EQUAL_FATAL(open_set(&ms, ROOT_AT_ONCE, 0, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ms.created, 0);
	CU_ASSERT_EQUAL(ms.max_conns, DP_CONNS);
	CU_ASSERT_EQUAL(ms.meta->max_conns, DP_CONNS);
	kapa_mapset_close(&ms);
	unpin(ROOT_AT_ONCE);
}

static void
test_map_property_mismatch(void)
{
	struct kapa_mapset ms;
	char err[256], path[128];
	int fd;

	CU_ASSERT_FATAL(root_and_bpffs());
	/* A kapa_conns whose records are half the size, alone in the root. */
	CU_ASSERT_EQUAL_FATAL(mkdir(roots[ROOT_PROP], 0700), 0);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, KAPA_MAP_CONNS, sizeof(__u32),
			    sizeof(struct kapa_conn_rec) / 2, TEST_CONNS, NULL);
	CU_ASSERT_FATAL(fd >= 0);
	snprintf(path, sizeof(path), "%s/" KAPA_MAP_CONNS, roots[ROOT_PROP]);
	CU_ASSERT_EQUAL_FATAL(bpf_obj_pin(fd, path), 0);
	close(fd);

	fprintf(stderr, "\n(the next open is expected to be refused: kapa_conns value_size)\n");
	CU_ASSERT_EQUAL(open_set(&ms, ROOT_PROP, TEST_CONNS, 0, err, sizeof(err)), -EPROTO);
	CU_ASSERT(closed(&ms));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, KAPA_MAP_CONNS));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "value_size is 64"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "this build's is 128"));
	/* Refused before the load: nothing else was pinned beside it. */
	snprintf(path, sizeof(path), "%s/" KAPA_MAP_META, roots[ROOT_PROP]);
	CU_ASSERT_FALSE(exists(path));
	/* Its owner does not replace it either: it is not kapa's layout. */
	CU_ASSERT_EQUAL(open_set(&ms, ROOT_PROP, TEST_CONNS * 2, 1, err, sizeof(err)), -EPROTO);
	unpin(ROOT_PROP);
}

static void
test_conns_size(void)
{
	struct kapa_mapset dp, d, d2;
	char err[256];

	CU_ASSERT_FATAL(root_and_bpffs());
	CU_ASSERT_EQUAL_FATAL(open_set(&dp, ROOT_CONNS, TEST_CONNS, 1, err, sizeof(err)), 0);
	dp.conns[0].gen = 3;
	dp.stats[0].rx_packets = 5;
	kapa_mapset_close(&dp);

	/* kapa-dp restarted with a larger table: the live map follows it. */
	CU_ASSERT_EQUAL_FATAL(open_set(&dp, ROOT_CONNS, TEST_CONNS * 2, 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(dp.created, 0);
	CU_ASSERT_EQUAL(dp.conns_replaced, 1);
	CU_ASSERT_EQUAL(dp.max_conns, TEST_CONNS * 2);
	CU_ASSERT_EQUAL(dp.meta->max_conns, TEST_CONNS * 2);
	CU_ASSERT_EQUAL(dp.conns[0].gen, 0);		/* a new map */
	CU_ASSERT_EQUAL(dp.stats[0].rx_packets, 5);	/* the others kept */
	dp.conns[TEST_CONNS * 2 - 1].gen = 4;

	/* kapad takes it at the size found, whatever it asked for. */
	CU_ASSERT_EQUAL_FATAL(open_set(&d, ROOT_CONNS, 0, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(d.conns_replaced, 0);
	CU_ASSERT_EQUAL(d.max_conns, TEST_CONNS * 2);
	CU_ASSERT_EQUAL(d.conns[TEST_CONNS * 2 - 1].gen, 4);
	CU_ASSERT_EQUAL_FATAL(open_set(&d2, ROOT_CONNS, TEST_CONNS / 2, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(d2.conns_replaced, 0);
	CU_ASSERT_EQUAL(d2.max_conns, TEST_CONNS * 2);
	CU_ASSERT_EQUAL(d2.meta->max_conns, TEST_CONNS * 2);
	kapa_mapset_close(&d2);
	kapa_mapset_close(&d);

	/* Its owner asking for no size in particular takes it as well. */
	kapa_mapset_close(&dp);
	CU_ASSERT_EQUAL_FATAL(open_set(&dp, ROOT_CONNS, 0, 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(dp.conns_replaced, 0);
	CU_ASSERT_EQUAL(dp.max_conns, TEST_CONNS * 2);
	kapa_mapset_close(&dp);
	unpin(ROOT_CONNS);
}

static void
test_not_bpffs(void)
{
	const struct kapa_mapset_conf conf = { .root = tmp_root };
	struct kapa_mapset ms;
	char err[256];

	CU_ASSERT_FATAL(root_and_bpffs());
	/* Missing: refused, and not created. */
	CU_ASSERT_EQUAL(kapa_mapset_open(&ms, &conf, err, sizeof(err)), -EINVAL);
	CU_ASSERT(closed(&ms));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not on bpffs"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, tmp_root));
	CU_ASSERT_FALSE(exists(tmp_root));
	/* Present: refused too, and unpin removes nothing there. */
	CU_ASSERT_EQUAL_FATAL(mkdir(tmp_root, 0700), 0);
	CU_ASSERT_EQUAL(kapa_mapset_open(&ms, &conf, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not on bpffs"));
	CU_ASSERT_EQUAL(kapa_mapset_unpin(tmp_root, err, sizeof(err)), -EINVAL);
	CU_ASSERT(exists(tmp_root));
	CU_ASSERT_EQUAL(rmdir(tmp_root), 0);
	/* A relative root is refused before anything is looked at. */
	{
		const struct kapa_mapset_conf rel = { .root = "sys/fs/bpf/kapa" };

		CU_ASSERT_EQUAL(kapa_mapset_open(&ms, &rel, err, sizeof(err)), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "absolute"));
	}
}

static void
test_unpin(void)
{
	struct kapa_mapset ms;
	char err[256], path[128];
	int fd;

	CU_ASSERT_FATAL(root_and_bpffs());
	/* Nothing pinned is no error. */
	CU_ASSERT_EQUAL(kapa_mapset_unpin(roots[ROOT_UNPIN], err, sizeof(err)), 0);

	CU_ASSERT_EQUAL_FATAL(open_set(&ms, ROOT_UNPIN, TEST_CONNS, 1, err, sizeof(err)), 0);
	/* Unpinned while open: the open set lives on, the pins are gone. */
	CU_ASSERT_EQUAL(kapa_mapset_unpin(roots[ROOT_UNPIN], err, sizeof(err)), 0);
	CU_ASSERT_FALSE(exists(roots[ROOT_UNPIN]));
	ms.stats[0].rx_packets = 1;
	CU_ASSERT_EQUAL(ms.stats[0].rx_packets, 1);
	kapa_mapset_close(&ms);

	/* Something else pinned in the root is not kapa's: the directory stays
	 * with it, kapa's maps go. */
	CU_ASSERT_EQUAL_FATAL(open_set(&ms, ROOT_UNPIN, TEST_CONNS, 1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ms.created, 1);
	kapa_mapset_close(&ms);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "other", sizeof(__u32), 8, 1, NULL);
	CU_ASSERT_FATAL(fd >= 0);
	snprintf(path, sizeof(path), "%s/other", roots[ROOT_UNPIN]);
	CU_ASSERT_EQUAL_FATAL(bpf_obj_pin(fd, path), 0);
	close(fd);
	CU_ASSERT_EQUAL(kapa_mapset_unpin(roots[ROOT_UNPIN], err, sizeof(err)), 0);
	CU_ASSERT(exists(path));
	snprintf(path, sizeof(path), "%s/" KAPA_MAP_META, roots[ROOT_UNPIN]);
	CU_ASSERT_FALSE(exists(path));
	snprintf(path, sizeof(path), "%s/other", roots[ROOT_UNPIN]);
	CU_ASSERT_EQUAL(unlink(path), 0);
	unpin(ROOT_UNPIN);
}

int
kapa_unit_register(void)
{
	static const char *const tags[ROOT_MAX] = {
		"create", "reuse", "meta", "unfilled", "at-once", "prop", "conns", "unpin",
	};
	CU_pSuite s;
	int r;

	for (r = 0; r < ROOT_MAX; r++)
		snprintf(roots[r], sizeof(roots[r]), "/sys/fs/bpf/kapa-test-mapset-%d-%s",
			 (int)getpid(), tags[r]);
	snprintf(tmp_root, sizeof(tmp_root), "/tmp/kapa-test-mapset-%d", (int)getpid());
	s = CU_add_suite("ctl", NULL, remove_roots);
	if (s == NULL)
		return -1;
	if (CU_add_test(s, "create: root, pins, meta, writable mappings", test_create) == NULL ||
	    CU_add_test(s, "reuse: the same maps and memory", test_reuse) == NULL ||
	    CU_add_test(s, "meta of another layout refused", test_meta_mismatch) == NULL ||
	    CU_add_test(s, "unfilled meta taken over", test_meta_unfilled) == NULL ||
	    CU_add_test(s, "openers at once: one creates", test_openers_at_once) == NULL ||
	    CU_add_test(s, "map of another definition refused", test_map_property_mismatch) == NULL ||
	    CU_add_test(s, "kapa_conns resized by its owner, taken by kapad", test_conns_size) == NULL ||
	    CU_add_test(s, "root off bpffs refused", test_not_bpffs) == NULL ||
	    CU_add_test(s, "unpin", test_unpin) == NULL)
		return -1;
	return 0;
}
