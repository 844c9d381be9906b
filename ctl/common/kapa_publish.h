/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The control side of kapa_ctl (ebpf/kapa_maps.h): publishing a rule set or
 * a policy program into the pinned maps, sending a command to the data plane
 * and reading its answer, and reading back what the data plane has in force.
 * kapad uses it; so do the tests that play kapad. The data plane's side is
 * dataplane/dp/control.c.
 *
 * Publishing writes under kapa_ctl::pub_seq (odd while writing), so a data
 * plane that reads at the same time sees the old set or the new, never a
 * mix. One publisher at a time (kapad).
 */
#ifndef KAPA_PUBLISH_H
#define KAPA_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "kapa_mapset.h"
#include "kapa_policy.h"

/** A data plane whose heartbeat is older than this is not attached. */
#define KAPA_DP_HEARTBEAT_MAX_NS (1000000000ull)

/** @return CLOCK_MONOTONIC now, in ns (the maps' clock). */
uint64_t kapa_now_ns(void);

/**
 * Publish a rule set: @p n rules into slots [0, n) of kapa_rules, the
 * default spec and a new generation (the last + 1) into kapa_ctl.
 * The caller validated the set (kapa_policy_create()).
 * @param gen  set to the new generation
 * @return 0, or -errno with @p err filled (a map write failed).
 */
int kapa_publish_rules(struct kapa_mapset *ms, const struct kapa_policy_spec *def,
		       const struct kapa_policy_rule *rules, uint32_t n, uint64_t *gen,
		       char *err, size_t errlen);

/**
 * Read the published rule set back (kapad at start: what survived it).
 * @param rules  room for KAPA_MAX_RULES
 * @return rules read (0 with *gen == 0: none published), or -errno.
 */
int kapa_published_rules(struct kapa_mapset *ms, struct kapa_policy_spec *def,
			 struct kapa_policy_rule *rules, uint64_t *gen, char *err, size_t errlen);

/**
 * Publish a policy program (checked by the caller: kapa_prog_load() and
 * kapa_prog_check()) as the next generation; @p n == 0 goes back to the
 * built-in decision, also as a generation of its own (generations only
 * grow).
 * @return 0, or -EINVAL (too long) with @p err filled.
 */
int kapa_publish_prog(struct kapa_mapset *ms, const void *ins, uint32_t n, const char *name,
		      uint64_t *gen, char *err, size_t errlen);

/** @return 1 when a data plane's heartbeat is fresh. */
int kapa_dp_attached(const struct kapa_mapset *ms);

/**
 * Whether the data plane has rule set @p rules_gen and program @p prog_gen
 * in force yet (0: that one does not matter), without waiting.
 * @param applied_ns  set, once in force, to when it reported so (its clock)
 * @return 0 in force, -EINPROGRESS not yet, -EINVAL it refused the program
 *         (why in @p err), -ENOTCONN no data plane attached.
 */
int kapa_applied_poll(struct kapa_mapset *ms, uint64_t rules_gen, uint64_t prog_gen,
		      uint64_t *applied_ns, char *err, size_t errlen);

/**
 * Wait until the data plane has the rule set @p rules_gen and the program
 * @p prog_gen in force (0: do not wait for that one).
 * @param applied_ns  set to when it reported both in force (its clock)
 * @return 0, -ETIMEDOUT after @p timeout_ms, -ENOTCONN when no data plane is
 *         attached, -EINVAL when it refused the program (dp_prog_msg says
 *         why; copied into @p err).
 */
int kapa_wait_applied(struct kapa_mapset *ms, uint64_t rules_gen, uint64_t prog_gen,
		      unsigned timeout_ms, uint64_t *applied_ns, char *err, size_t errlen);

/**
 * Send the data plane a close command (one at a time: the caller waits for
 * its answer before the next).
 * @return the command's sequence number for kapa_command_poll(), or 0 with
 *         @p msg filled when no data plane is attached.
 */
uint64_t kapa_command_send(struct kapa_mapset *ms, uint32_t worker, uint32_t slot, uint32_t gen,
			   char *msg, size_t msglen);

/**
 * The answer to command @p seq, without waiting.
 * @return -EINPROGRESS while unanswered, else the data plane's status (its
 *         message in @p msg).
 */
int kapa_command_poll(struct kapa_mapset *ms, uint64_t seq, char *msg, size_t msglen);

/**
 * Ask the data plane to reset connection worker/slot/gen and wait for its
 * answer (copied into @p msg).
 * @return the data plane's status (0, -ENOENT, -EPERM), -ENOTCONN when none is
 *         attached, -ETIMEDOUT when it did not answer within @p timeout_ms.
 */
int kapa_command_close(struct kapa_mapset *ms, uint32_t worker, uint32_t slot, uint32_t gen,
		       unsigned timeout_ms, char *msg, size_t msglen);

#endif /* KAPA_PUBLISH_H */
