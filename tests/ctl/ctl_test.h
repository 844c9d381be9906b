/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What the 'ctl' suite's CUnit tests share: the check that they can run at
 * all. Without root, or without bpffs on /sys/fs/bpf, every test FAILS with
 * the reason: a skipped kernel check must never look like a passed one.
 */
#ifndef KAPA_CTL_TEST_H
#define KAPA_CTL_TEST_H

#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

/** @return 1 when root with bpffs mounted, else 0 (printed, as @p who). */
static inline int
ctl_test_root_and_bpffs(const char *who)
{
	struct statfs sfs;

	if (geteuid() != 0) {
		fprintf(stderr, "\n%s: FAIL: the 'ctl' suite works with maps in the kernel "
			"and must run as root\n", who);
		return 0;
	}
	if (statfs("/sys/fs/bpf", &sfs) != 0 || sfs.f_type != BPF_FS_MAGIC) {
		fprintf(stderr, "\n%s: FAIL: bpffs is not mounted on /sys/fs/bpf "
			"(run scripts/host-prep.sh)\n", who);
		return 0;
	}
	return 1;
}

static inline int
ctl_test_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/** Remove @p path and everything under it (a test's own directories). */
static inline void
ctl_test_rm_tree(const char *path)
{
	nftw(path, ctl_test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/**
 * What a kapa-dp the test started leaves behind it: DPDK's runtime
 * directory of its --file-prefix, and its lock of the map root
 * (dataplane/dp/main.c: /run/kapa/kapa-dp<root, / as _>.lock).
 */
static inline void
ctl_test_rm_dp_leftovers(const char *file_prefix, const char *map_root)
{
	char path[512], *p;

	snprintf(path, sizeof(path), "/var/run/dpdk/%s", file_prefix);
	ctl_test_rm_tree(path);
	snprintf(path, sizeof(path), "/run/kapa/kapa-dp%s.lock", map_root);
	for (p = path + strlen("/run/kapa/"); *p != '\0'; p++)
		if (*p == '/')
			*p = '_';
	unlink(path);
}

#endif /* KAPA_CTL_TEST_H */
