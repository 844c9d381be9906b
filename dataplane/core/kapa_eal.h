/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Start DPDK's EAL for programs that use the core's DPDK libraries (rte_hash,
 * rte_rcu_qsbr, rte_malloc) but no ports: kapa-inspect, the unit tests and
 * the benchmarks. No root, no hugepages, no shared config, no PCI; or, for
 * benchmarks that measure what production memory gives, on hugepages.
 */
#ifndef KAPA_EAL_H
#define KAPA_EAL_H

/**
 * Initialise EAL with --no-huge --no-shconf --no-pci --no-telemetry on one
 * lcore, with @p mem_mb MiB of (non-huge) memory.
 *
 * @param prog    argv[0] of the caller
 * @param mem_mb  memory for rte_malloc and rte_hash; 0 = 256
 * @return 0, or -errno (EAL's rte_errno) when EAL refused to start.
 */
int kapa_eal_init_offline(const char *prog, unsigned int mem_mb);

/**
 * Initialise EAL on reserved 2 MiB hugepages, as production runs, for the
 * benchmarks: --in-memory (no files under /var/run, no hugetlbfs files left
 * behind) --no-pci --no-telemetry on one lcore. Needs root and @p mem_mb
 * MiB of free hugepages (scripts/host-prep.sh, KAPA_HUGEPAGES=N).
 *
 * @param prog    argv[0] of the caller
 * @param mem_mb  memory to reserve at start (-m); 0 = 256
 * @return 0, or -errno (EAL's rte_errno) when EAL refused to start.
 */
int kapa_eal_init_huge(const char *prog, unsigned int mem_mb);

/** Release EAL resources (rte_eal_cleanup). */
void kapa_eal_cleanup(void);

#endif /* KAPA_EAL_H */
