/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * kapad, the control daemon: its configuration, its state, and the parts
 * that share them (config.c, server.c, commands.c, metrics.c, log.c,
 * main.c). kapad owns the published rule set and program; the data plane
 * takes them up from the pinned maps (docs/control-protocol.md, and
 * dataplane/dp/control.c for the other side).
 */
#ifndef KAPAD_H
#define KAPAD_H

#include <stdint.h>
#include <sys/types.h>

#include "kapa_mapset.h"
#include "kapa_policy.h"

#define KAPAD_SOCKET "/run/kapa/kapad.sock"

/** What the config file and the command line say. */
struct kapad_config {
	char socket[108];		/**< control socket path */
	char group[64];			/**< group served besides root; "" = root only */
	char map_root[256];
	char metrics[128];		/**< ADDR:PORT of /metrics; "" = none */
	int use_syslog;
	uint32_t max_conns;		/**< kapa_conns entries, when kapad creates the maps */
	/* The policy the file configures: applied at start and on SIGHUP. */
	int have_default;
	struct kapa_policy_spec def;	/**< [defaults] */
	struct kapa_policy_rule *rules;	/**< [rule NAME] sections, KAPA_MAX_RULES room */
	uint32_t nrules;
};

/** The daemon. */
struct kapad {
	struct kapad_config conf;
	const char *config_path;	/**< NULL: built-in defaults */
	struct kapa_mapset maps;
	/* The rule set as published (the maps hold the same). */
	struct kapa_policy_spec def;
	struct kapa_policy_rule *rules;	/**< KAPA_MAX_RULES room */
	uint32_t nrules;
	uint64_t rules_gen;		/**< 0: none published */
	/* Where the rules in force came from, so that a reload deletes what the
	 * config file gave and no longer has, and nothing else: the names of
	 * the rules the file gave (the others came through the socket, policy
	 * add), and whether the default is the file's [defaults]. Kept in
	 * kapad's memory only (the rule record has no room for it without a
	 * new maps ABI): at start, the file's rules are those it names then. */
	char file_rules[KAPA_MAX_RULES][KAPA_POLICY_NAME_MAX];
	uint32_t nfile_rules;
	int def_from_file;
	gid_t group_gid;		/**< served besides root; (gid_t)-1: none */
	uint64_t started_ns;
	struct kapad_metrics *metrics;
	/* One close command in the control record at a time. */
	int cmd_busy;
};

/* ---- config.c ---- */

/** Defaults: socket, map root, no metrics, stderr, no policy. */
void kapad_config_defaults(struct kapad_config *c);

/**
 * Read an INI file (libinih) into @p c: [kapad] socket, group, map_root,
 * metrics, log (stderr|syslog), max_conns; [defaults] and [rule NAME]
 * (match= and the spec's keys). Unknown sections and keys are errors.
 * @return 0, or -EINVAL with @p err naming the file, line and problem.
 */
int kapad_config_load(struct kapad_config *c, const char *path, char *err, size_t errlen);

/* ---- policy (commands.c) ---- */

/**
 * Validate and publish the rule set @p rules (replacing kapad's), through
 * kapa_policy_create()'s checks (duplicate matches, ranges), unless it is
 * the set in force already: then nothing is published (a new generation
 * makes every data-plane worker re-decide all its connections) and
 * k->rules_gen stays. Before any publication (generation 0) it always is.
 * @return 0, or -errno with @p err filled; nothing changes on failure.
 */
int kapad_set_rules(struct kapad *k, const struct kapa_policy_spec *def,
		    const struct kapa_policy_rule *rules, uint32_t n, char *err, size_t errlen);

/** @return 1 when @p def and @p rules (in any order) are the set in force. */
int kapad_rules_same(const struct kapad *k, const struct kapa_policy_spec *def,
		     const struct kapa_policy_rule *rules, uint32_t n);

/**
 * The rule set the config file makes of the one in force, into @p def and
 * @p rules (room for KAPA_MAX_RULES): the rules in force, less those the
 * file gave before and no longer has; then the file's rules, each added or
 * replacing the rule of its name. Its [defaults] replace the default; a
 * default that was the file's goes back to the built-in one (observe, no
 * limits) when [defaults] is gone. Rules added with policy add stay.
 * @return the number of rules, or -errno with @p err filled.
 */
int kapad_config_merge(const struct kapad *k, struct kapa_policy_spec *def,
		       struct kapa_policy_rule *rules, char *err, size_t errlen);

/**
 * The config file's policy over the published one (kapad_config_merge()),
 * published when it differs from the set in force. At start and on SIGHUP.
 */
int kapad_apply_config(struct kapad *k, char *err, size_t errlen);

/* ---- lock.c ---- */

/** Where kapad's lock per map root lives (kapa-dp's is beside it). */
#define KAPAD_LOCK_DIR "/run/kapa"

/**
 * Take the lock that keeps one kapad per map root: an flock on
 * @p dir/kapad<ROOT with '/' as '_'>.lock (kapa-dp's scheme), held until the
 * process exits, with the holder's pid written in it.
 * @return the lock's fd (keep it open), or -errno with @p err filled:
 *         -EBUSY when another kapad holds it (its pid named when known).
 */
int kapad_lock_map_root(const char *dir, const char *root, char *err, size_t errlen);

/* ---- log.c ---- */

void kapad_log_open(int use_syslog);
void kapad_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- metrics.c ---- */

struct kapad_metrics;

/** Serve GET /metrics on ADDR:PORT. @return it, or NULL with @p err. */
struct kapad_metrics *kapad_metrics_start(struct kapad *k, const char *addr,
					  char *err, size_t errlen);
void kapad_metrics_stop(struct kapad_metrics *m);

#endif /* KAPAD_H */
