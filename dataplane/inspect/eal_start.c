/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kapa-inspect's start of EAL, and the one thing it changes in it.
 *
 * rte_eal_init() measures the TSC's rate. Where the CPU does not report it
 * (CPUID leaf 0x15 empty and the MSR unreadable without root: most virtual
 * machines, this one included), DPDK 22.11 counts TSC cycles across a
 * 100 ms nanosleep() (get_tsc_freq() in lib/eal/linux/eal_timer.c): 100 ms
 * of every kapa-inspect run, against a start-up goal of 20 ms.
 *
 * Nothing kapa-inspect runs reads the TSC's rate: its clock is the
 * capture's timestamps, and the DPDK libraries it uses (rte_hash,
 * rte_rcu_qsbr, rte_malloc, rte_bpf) do not time anything. So while EAL
 * starts, this program's nanosleep() (which EAL, linked statically here,
 * calls instead of libc's) sleeps at most 100 us: the rate is then measured
 * over 100 us (a couple of percent off at worst), and unused. Outside
 * rte_eal_init() it is libc's nanosleep() unchanged. kapa-dp, which times
 * its work with the TSC, keeps EAL's full calibration: this file is linked
 * into kapa-inspect only.
 */
#include <errno.h>
#include <time.h>

#include "eal_start.h"
#include "kapa_eal.h"

#define CALIBRATION_SLEEP_MAX_NS 100000L

static int eal_starting;

int
nanosleep(const struct timespec *req, struct timespec *rem)
{
	struct timespec shorter;
	int rc;

	if (eal_starting && req != NULL &&
	    (req->tv_sec > 0 || req->tv_nsec > CALIBRATION_SLEEP_MAX_NS)) {
		shorter.tv_sec = 0;
		shorter.tv_nsec = CALIBRATION_SLEEP_MAX_NS;
		req = &shorter;
	}
	/* What glibc's nanosleep() is: clock_nanosleep() on CLOCK_REALTIME,
	 * which returns the error number instead of setting errno. */
	rc = clock_nanosleep(CLOCK_REALTIME, 0, req, rem);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

int
inspect_eal_start(const char *prog, unsigned int mem_mb)
{
	int rc;

	eal_starting = 1;
	rc = kapa_eal_init_offline(prog, mem_mb);
	eal_starting = 0;
	return rc;
}
