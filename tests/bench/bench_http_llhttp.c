/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Node's llhttp as bench_http's second parsing peer. Built only when
 * Debian's node-llhttp is installed: its C sources are compiled from
 * /usr/share/llhttp by tests/bench/meson.build, never copied here.
 *
 * The callbacks are those of the libhttp-parser peer: at headers complete
 * the keep-alive verdict, at message complete a count. Nothing else is
 * asked for, so llhttp does no more work than the tracker's user needs.
 */
#include <stddef.h>

#include <llhttp.h>

#include "kapa_tcp.h"
#include "bench_http_peer.h"

struct peer {
	llhttp_t p;
	uint64_t *msgs, *ka;
};

static int
on_headers_complete(llhttp_t *p)
{
	struct peer *pe = p->data;

	*pe->ka += (uint64_t)llhttp_should_keep_alive(p);
	return 0;
}

static int
on_message_complete(llhttp_t *p)
{
	struct peer *pe = p->data;

	(*pe->msgs)++;
	return 0;
}

int
bench_llhttp_feed(uint8_t *const s[2], const struct seg *segs, uint32_t nsegs,
		  uint64_t *msgs, uint64_t *ka)
{
	static llhttp_settings_t settings;
	static int settings_ready;
	struct peer pe[2];
	uint32_t i;

	if (!settings_ready) {
		llhttp_settings_init(&settings);
		settings.on_headers_complete = on_headers_complete;
		settings.on_message_complete = on_message_complete;
		settings_ready = 1;
	}
	llhttp_init(&pe[KAPA_DIR_C2S].p, HTTP_REQUEST, &settings);
	llhttp_init(&pe[KAPA_DIR_S2C].p, HTTP_RESPONSE, &settings);
	for (i = 0; i < 2; i++) {
		pe[i].p.data = &pe[i];
		pe[i].msgs = msgs;
		pe[i].ka = ka;
	}
	for (i = 0; i < nsegs; i++) {
		const struct seg *g = &segs[i];

		if (llhttp_execute(&pe[g->dir].p, (const char *)s[g->dir] + g->off,
				   g->len) != HPE_OK)
			return -1;
	}
	return 0;
}
