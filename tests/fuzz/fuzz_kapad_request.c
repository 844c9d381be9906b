/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kapad's request parser and commands (ctl/kapad/commands.c) over arbitrary
 * request lines: every line gets exactly one response, a JSON object with
 * "ok", and nothing crashes, leaks or reads out of bounds. The maps are
 * plain memory here (a few live connection records, no rules map: a
 * publication fails cleanly), so the harness needs no root. A request that
 * would wait for the data plane is polled past its deadline.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "kapa_publish.h"

#define FAKE_CONNS 64

static struct kapad k;

static void
fake_maps(void)
{
	uint32_t i;

	k.maps.ctl = calloc(1, sizeof(*k.maps.ctl));
	k.maps.stats = calloc(KAPA_MAX_WORKERS, sizeof(*k.maps.stats));
	k.maps.hist = calloc(KAPA_MAX_WORKERS, sizeof(*k.maps.hist));
	k.maps.prog = calloc(1, sizeof(*k.maps.prog));
	k.maps.conns = calloc(FAKE_CONNS, sizeof(*k.maps.conns));
	k.maps.max_conns = FAKE_CONNS;
	k.maps.rules_fd = -1;
	snprintf(k.maps.root, sizeof(k.maps.root), "/nonexistent");
	for (i = 0; i < FAKE_CONNS; i += 3) {
		struct kapa_conn_rec *r = &k.maps.conns[i];

		r->state = KAPA_REC_ESTABLISHED;
		r->family = i % 2 ? 6 : 4;
		r->slot = i;
		r->gen = 1;
		r->requests = i;
		r->last_seen_ns = i * 1000000ull;
		r->client_ka_timeout = i % 4 ? 5 : KAPA_KA_UNSET;
		r->client_ka_max = KAPA_KA_UNSET;
		r->server_ka_timeout = KAPA_KA_UNSET;
		r->server_ka_max = 100;
	}
	k.rules = calloc(KAPA_MAX_RULES, sizeof(*k.rules));
	k.conf.rules = calloc(KAPA_MAX_RULES, sizeof(*k.conf.rules));
	kapad_config_defaults(&k.conf);
	k.group_gid = (gid_t)-1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kapad_log_open(1);	/* syslog: quiet when there is none */
	fake_maps();
	return 0;
}

static void
check(json_t *resp)
{
	if (resp == NULL || !json_is_object(resp) || !json_is_boolean(json_object_get(resp, "ok")))
		abort();
	json_decref(resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct kapad_pending pend;
	json_t *resp;
	int polls;

	/* A data plane "attached" on some inputs, so the waiting paths run. */
	k.maps.ctl->dp_heartbeat_ns = size % 2 ? kapa_now_ns() : 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		resp = kapad_request(&k, p, (size_t)(nl - p), &pend);
		for (polls = 0; resp == NULL && polls < 8; polls++)
			resp = kapad_pending_poll(&k, &pend, UINT64_MAX);
		if (resp == NULL)
			abort();	/* a request past every deadline must be answered */
		check(resp);
		p = nl + 1;
	}
	return 0;
}
