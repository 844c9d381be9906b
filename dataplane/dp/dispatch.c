/* SPDX-License-Identifier: BSD-3-Clause */
/* The software dispatch stage's rings. See dispatch.h. */
#include <errno.h>
#include <stdlib.h>

#include <rte_errno.h>

#include "dispatch.h"

#define DEFAULT_RING 4096

uint32_t
dp_dispatch_ring_size(const struct dp_dispatch_params *p)
{
	return p->ring_size ? rte_align32pow2(p->ring_size) : DEFAULT_RING;
}

struct dp_dispatch *
dp_dispatch_create(const struct dp_dispatch_params *p, char *err, size_t errlen)
{
	struct dp_dispatch *d;
	char name[RTE_RING_NAMESIZE];
	uint16_t w;

	if (p->workers == 0 || p->workers > KAPA_MAX_WORKERS) {
		snprintf(err, errlen, "dispatch: %u workers (1..%u)", p->workers, KAPA_MAX_WORKERS);
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->workers = p->workers;
	for (w = 0; w < p->workers; w++) {
		snprintf(name, sizeof(name), "kapa_disp%u", w);
		/* Many pollers produce, the owner alone consumes. */
		d->ring[w] = rte_ring_create(name, dp_dispatch_ring_size(p), p->socket,
					     RING_F_SC_DEQ);
		if (d->ring[w] == NULL) {
			snprintf(err, errlen, "dispatch ring of worker %u: %s", w,
				 rte_strerror(rte_errno));
			dp_dispatch_free(d);
			return NULL;
		}
	}
	return d;
}

void
dp_dispatch_free(struct dp_dispatch *d)
{
	uint16_t w;

	if (d == NULL)
		return;
	for (w = 0; w < d->workers; w++)
		rte_ring_free(d->ring[w]);
	free(d);
}
