/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * kapa-dp's side of the control path (kapa_ctl in the pinned maps,
 * ebpf/kapa_maps.h), run by the main lcore every 10 ms:
 *
 *  - heartbeat and state into kapa_ctl's dp_* part, so that kapad knows a
 *    data plane is attached and what is in force;
 *  - a rule set or a policy program kapad published (its generation moved)
 *    is read under kapa_ctl::pub_seq, built (kapa_policy_create(), the
 *    program loaded with rte_bpf and checked), and handed to the workers as
 *    one immutable configuration through a pointer they read at the top of
 *    each loop turn; the old configuration is freed once rte_rcu_qsbr says
 *    every worker has passed a quiescent state since (then every worker has
 *    switched). dp_rules_gen / dp_prog_gen say so when it is done. A program
 *    that fails to load or check leaves the running one in place
 *    (dp_prog_status, dp_prog_msg);
 *  - a command (close connection worker/slot/gen) goes to the owning
 *    worker's mailbox and its answer back into kapa_ctl.
 *
 * Precedence: kapa-dp's command-line rules are configuration generation 0;
 * a rule set kapad published (rules_gen != 0) replaces them, also when it
 * was published before this kapa-dp started.
 */
#ifndef DP_CONTROL_H
#define DP_CONTROL_H

#include <stdint.h>

#include <rte_rcu_qsbr.h>

#include "kapa_maps.h"
#include "kapa_policy.h"
#include "kapa_prog.h"

/** What the workers run with; immutable once published. */
struct dp_config {
	struct kapa_policy *policy;
	struct kapa_prog *prog;		/**< NULL: the built-in decision */
	uint64_t rules_gen;		/**< 0: the command line */
	uint64_t prog_gen;		/**< 0: built-in */
};

/** A worker's mailbox for one command at a time. */
struct dp_mailbox {
	uint64_t seq;			/**< main: bumped when a command is in */
	uint32_t slot, gen;
	uint64_t done;			/**< worker: = seq once carried out */
	int32_t status;			/**< worker: its result */
};

struct dp_control_params {
	struct kapa_ctl *ctl;		/**< mmapped kapa_ctl */
	struct kapa_prog_rec *prog;	/**< mmapped kapa_prog */
	int rules_fd;			/**< KAPA_MAP_RULES */
	uint16_t workers;
	uint32_t conns_per_worker;
	struct kapa_policy *cmdline;	/**< the command line's rule set (owned) */
};

struct dp_control {
	struct kapa_ctl *ctl;
	struct kapa_prog_rec *prog;
	int rules_fd;
	uint16_t workers;
	struct rte_rcu_qsbr *qsbr;	/**< workers are its threads 0..workers-1 */
	/** The configuration in force; workers read it with an acquire load. */
	struct dp_config *cur;
	/** The one it replaced, freed once the grace period ends. */
	struct dp_config *old;
	uint64_t old_token;
	uint64_t swap_ns;		/**< when the pending swap was published */
	uint64_t failed_prog_gen;	/**< a program that would not load: not retried */
	uint64_t failed_rules_gen;	/**< a rule set that would not build */
	struct dp_mailbox *mailbox[KAPA_MAX_WORKERS];
	uint64_t cmd_seq;		/**< the command in flight (0: none) */
	uint16_t cmd_worker;
	uint64_t cmd_since_ns;
};

/**
 * Set up: the RCU variable, and the first configuration: the published rule
 * set and program if kapad published any, else the command line's.
 * @return 0, or -errno with @p err filled.
 */
int dp_control_init(struct dp_control *c, const struct dp_control_params *p,
		    char *err, size_t errlen);

/** Register worker @p id's mailbox (before the workers run). */
void dp_control_attach(struct dp_control *c, uint16_t id, struct dp_mailbox *mb);

/** The periodic duty (main lcore). */
void dp_control_tick(struct dp_control *c, uint64_t now_ns);

/** Stopping: heartbeat 0 (no data plane attached); frees everything. */
void dp_control_fini(struct dp_control *c);

/**
 * The worker's side, at the top of each loop turn: report a quiescent state,
 * then take up a new configuration if one was published.
 * @return the configuration to run with (switch when it differs).
 */
static inline const struct dp_config *
dp_control_current(struct dp_control *c, unsigned worker)
{
	rte_rcu_qsbr_quiescent(c->qsbr, worker);
	/* The quiescent report is a store and the pointer a load: without a
	 * full fence the load could be satisfied first and read a pointer
	 * older than the grace period the report closes. */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&c->cur, __ATOMIC_ACQUIRE);
}

#endif /* DP_CONTROL_H */
