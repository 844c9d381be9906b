/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * kapa-inspect's start of DPDK's EAL: kapa_eal_init_offline() with EAL's
 * TSC calibration sleep cut short (see eal_start.c for why that is safe in
 * kapa-inspect and nowhere else).
 */
#ifndef INSPECT_EAL_START_H
#define INSPECT_EAL_START_H

/**
 * Start EAL as kapa_eal_init_offline() does.
 *
 * @param prog    argv[0] of the caller
 * @param mem_mb  memory for rte_malloc and rte_hash (MiB)
 * @return 0, or -errno when EAL refused to start.
 */
int inspect_eal_start(const char *prog, unsigned int mem_mb);

#endif /* INSPECT_EAL_START_H */
