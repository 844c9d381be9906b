/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "kapa_eal.h"

int
kapa_eal_init_offline(const char *prog, unsigned int mem_mb)
{
	char mem[32];
	char *argv[] = {
		(char *)prog, "-l", "0", "--no-huge", "--no-shconf", "--no-pci",
		"--no-telemetry", "--log-level=lib.eal:error", "-m", mem, NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	snprintf(mem, sizeof(mem), "%u", mem_mb != 0 ? mem_mb : 256);
	if (rte_eal_init(argc, argv) < 0)
		return -(rte_errno != 0 ? rte_errno : EINVAL);
	return 0;
}

int
kapa_eal_init_huge(const char *prog, unsigned int mem_mb)
{
	char mem[32];
	char *argv[] = {
		(char *)prog, "-l", "0", "--in-memory", "--no-pci", "--no-telemetry",
		"--log-level=lib.eal:error", "-m", mem, NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	snprintf(mem, sizeof(mem), "%u", mem_mb != 0 ? mem_mb : 256);
	if (rte_eal_init(argc, argv) < 0)
		return -(rte_errno != 0 ? rte_errno : EINVAL);
	return 0;
}

void
kapa_eal_cleanup(void)
{
	rte_eal_cleanup();
}
