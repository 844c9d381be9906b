/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What the 'ctl' suite's CUnit tests share: the check that they can run at
 * all. Without root, or without bpffs on /sys/fs/bpf, every test FAILS with
 * the reason: a skipped kernel check must never look like a passed one.
 */
#ifndef KAPA_CTL_TEST_H
#define KAPA_CTL_TEST_H

#include <stdio.h>
#include <unistd.h>
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

#endif /* KAPA_CTL_TEST_H */
