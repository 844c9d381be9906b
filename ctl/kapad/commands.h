/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The commands of the control socket (docs/control-protocol.md): one table,
 * one handler per command. A handler answers at once, or, where the answer
 * depends on the data plane (a rule set or program taking effect, a
 * connection closed), leaves a pending request that the server loop polls
 * without blocking anyone else.
 */
#ifndef KAPAD_COMMANDS_H
#define KAPAD_COMMANDS_H

#include <jansson.h>
#include <stdint.h>

#include "kapad.h"

/** What a pending request waits for. */
enum kapad_wait {
	KAPAD_WAIT_NONE = 0,
	KAPAD_WAIT_APPLIED,	/**< the data plane has a generation in force */
	KAPAD_WAIT_CMD_SLOT,	/**< another close command is in the control record */
	KAPAD_WAIT_CLOSE,	/**< the data plane's answer to our close command */
};

struct kapad_pending {
	enum kapad_wait kind;
	json_t *id;		/**< the request's id (owned), or NULL */
	json_t *result;		/**< the result so far (owned) */
	uint64_t rules_gen, prog_gen;
	uint64_t since_ns, deadline_ns;
	uint64_t cmd_seq;
	uint32_t worker, slot, gen;
};

/**
 * Carry out one request line.
 * @return the response, or NULL when it waits: @p pending is filled and
 *         kapad_pending_poll() gives the response later.
 */
json_t *kapad_request(struct kapad *k, const char *line, size_t len,
		      struct kapad_pending *pending);

/** @return the response of a pending request once it is done, else NULL. */
json_t *kapad_pending_poll(struct kapad *k, struct kapad_pending *p, uint64_t now_ns);

/** Drop a pending request whose client went away. */
void kapad_pending_drop(struct kapad *k, struct kapad_pending *p);

/**
 * The `stats` result: counters added up over the workers, histograms and
 * their sums, and with @p per_worker each worker's counters (also kapad's
 * /metrics, through kapa_prom_write()). Reads the maps' memory only.
 */
json_t *kapad_stats(struct kapad *k, int per_worker);

/** An error response (for requests that never reached a command). */
json_t *kapad_error(json_t *id, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* KAPAD_COMMANDS_H */
