/* SPDX-License-Identifier: BSD-3-Clause */
/* The counters' groups and the histograms of kapad's `stats` result, as
 * kapactl shows them. */
#include <string.h>

#include "kapa_prom.h"
#include "ctl_stats.h"

/* The table groups its counters with comments, which C cannot see: each
 * group is named here by its first counter. ctl_counter_groups_check()
 * (and the unit test) catch a group whose first counter was renamed. */
static const struct {
	const char *first;
	const char *title;
} ctl_counter_groups[] = {
	{ "rx_packets", "ports" },
	{ "pkts_tcp", "parser" },
	{ "csum_bad", "checksums" },
	{ "frag_fragments", "IP fragments" },
	{ "conns_active", "connections" },
	{ "http_requests", "HTTP/1.x" },
	{ "pickup_start_ack", "pickups" },
	{ "out_of_window", "anomalies" },
	{ "rst_idle", "actions" },
};

const char *
ctl_counter_group(unsigned i)
{
	unsigned g;

	for (g = 0; g < sizeof(ctl_counter_groups) / sizeof(ctl_counter_groups[0]); g++)
		if (strcmp(kapa_counter_name(i), ctl_counter_groups[g].first) == 0)
			return ctl_counter_groups[g].title;
	return NULL;
}

const char *
ctl_counter_groups_check(void)
{
	unsigned g;

	for (g = 0; g < sizeof(ctl_counter_groups) / sizeof(ctl_counter_groups[0]); g++) {
		if (kapa_counter_index(ctl_counter_groups[g].first) < 0)
			return ctl_counter_groups[g].first;
	}
	return NULL;
}
