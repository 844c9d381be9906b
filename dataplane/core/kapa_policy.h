/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Policy rules and the per-connection decision.
 *
 * A rule matches connections by their server's address prefix and,
 * optionally, port, and carries a spec: keep-alive idle limit, requests per
 * connection, stall limit, idle limit of opaque connections, and a mode
 * (observe, enforce, advertise). A rule set is immutable and has a
 * generation; a connection remembers the generation its decision was taken
 * under and is decided again when a newer set is in force.
 *
 * The spec grammar (../shared/BRIEF.md), on the command lines of kapa-dp and
 * kapa-inspect (--policy SPEC, --rule PREFIX[:PORT]=SPEC):
 *
 *     SPEC   = [ KEY "=" VALUE *( "," KEY "=" VALUE ) ]
 *     KEY    = "timeout" | "max" | "stall" | "opaque_idle" | "mode"
 *     VALUE  = whole seconds (timeout, stall, opaque_idle), requests (max),
 *              observe | enforce | advertise (mode); 0 = no limit
 *     MATCH  = IPV4 [ "/" LEN ] [ ":" PORT ]
 *            | "[" IPV6 [ "/" LEN ] "]" [ ":" PORT ]  |  IPV6 [ "/" LEN ]
 *
 * Unspecified keys: mode observe, no limits. The most specific match wins:
 * the longest prefix, then a rule with a port over one without. Two rules
 * with the same match are refused.
 *
 * The decision itself is one function over struct kapa_policy_ctx
 * (ebpf/kapa_policy_ctx.h), the layout eBPF policy programs read too:
 * kapa_policy_default_prog() is the built-in one.
 */
#ifndef KAPA_POLICY_H
#define KAPA_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "kapa_policy_ctx.h"

/** Longest limit in seconds a spec takes: deadlines stay well inside the
 *  timer wheel's signed 32-bit millisecond window (24 days). */
#define KAPA_POLICY_MAX_SECONDS 1728000u	/* 20 days */
/** Rules in one rule set (the size of the pinned rule map). */
#define KAPA_POLICY_MAX_RULES KAPA_MAX_RULES
/** Bytes of a rule's name, with its NUL. */
#define KAPA_POLICY_NAME_MAX 64

/** What a rule (or the default) asks for. Limits 0 = none. */
struct kapa_policy_spec {
	uint32_t timeout_s;	/**< keep-alive idle limit */
	uint32_t max;		/**< requests per connection */
	uint32_t stall_s;	/**< a request unanswered, a message unfinished */
	uint32_t opaque_idle_s;	/**< idle limit of non-HTTP/1.x connections */
	uint8_t mode;		/**< enum kapa_mode */
};

/** One rule: a name, a match on the server side, a spec. */
struct kapa_policy_rule {
	char name[KAPA_POLICY_NAME_MAX];
	uint8_t family;		/**< 4 or 6 */
	uint8_t prefix_len;	/**< 0..32 or 0..128 */
	uint16_t port;		/**< server port, 0 = any */
	uint8_t prefix[16];	/**< network order, host bits zero */
	struct kapa_policy_spec spec;
};

/** An immutable rule set with its default spec and generation. */
struct kapa_policy;

/**
 * Parse a spec ("timeout=60,max=100,mode=enforce"; "" is the default spec).
 * @param err  filled with what was wrong, with which value, on failure
 * @return 0, or -EINVAL.
 */
int kapa_policy_parse_spec(const char *s, struct kapa_policy_spec *spec,
			   char *err, size_t errlen);

/**
 * Parse a match ("198.18.0.0/15:80", "198.18.0.2", "[2001:db8::/32]:443",
 * "2001:db8::/32") into @p r's family, prefix, length and port. An address
 * without a length is a host (/32, /128); host bits must be zero.
 * @return 0, or -EINVAL with @p err filled.
 */
int kapa_policy_parse_match(const char *s, struct kapa_policy_rule *r,
			    char *err, size_t errlen);

/**
 * Parse a command-line rule "MATCH=SPEC"; its name is MATCH as written.
 * @return 0, or -EINVAL with @p err filled.
 */
int kapa_policy_parse_rule(const char *s, struct kapa_policy_rule *r,
			   char *err, size_t errlen);

/**
 * Build a rule set. The rules are copied.
 *
 * @param def         spec of connections no rule matches
 * @param rules       @p n rules, in any order
 * @param generation  the set's generation (0 for command-line rules)
 * @param err         on failure: what was wrong (two rules with the same
 *                    match name both, a rule out of range names itself)
 * @return the set, or NULL with errno set (EINVAL, E2BIG past
 *         KAPA_POLICY_MAX_RULES, ENOMEM).
 */
struct kapa_policy *kapa_policy_create(const struct kapa_policy_spec *def,
				       const struct kapa_policy_rule *rules, uint32_t n,
				       uint32_t generation, char *err, size_t errlen);

/**
 * A policy as given on a command line, one option at a time: the default
 * spec (--policy SPEC) and the rules (--rule PREFIX[:PORT]=SPEC), made a set
 * once all options are read. kapa-dp and kapa-inspect share it.
 */
struct kapa_policy_args {
	struct kapa_policy_spec def;
	struct kapa_policy_rule rules[KAPA_POLICY_MAX_RULES];
	uint32_t nrules;
	int given;		/**< --policy or --rule was given */
};

/** Start with no option: mode observe, no limits. */
void kapa_policy_args_init(struct kapa_policy_args *a);

/** --policy SPEC. @return 0, or -EINVAL with @p err filled. */
int kapa_policy_args_default(struct kapa_policy_args *a, const char *spec,
			     char *err, size_t errlen);

/** --rule MATCH=SPEC. @return 0, or -EINVAL / -E2BIG with @p err filled. */
int kapa_policy_args_rule(struct kapa_policy_args *a, const char *rule,
			  char *err, size_t errlen);

/** kapa_policy_create() of the options (generation 0). */
struct kapa_policy *kapa_policy_args_create(const struct kapa_policy_args *a,
					    char *err, size_t errlen);

/** Free a rule set. NULL ok. */
void kapa_policy_destroy(struct kapa_policy *p);

/**
 * The rule that applies to a server: the longest prefix holding @p addr
 * whose rules cover @p port (a rule with that port, else one without).
 * Cost: one binary search per distinct prefix length in the set.
 *
 * @param family  4 or 6
 * @param addr    the server's address, network order (16 bytes; IPv4 in
 *                the first 4)
 * @param port    the server's port, host order
 * @return the rule's index (kapa_policy_rule_at()), or -1: the default.
 */
int kapa_policy_match(const struct kapa_policy *p, uint8_t family,
		      const uint8_t *addr, uint16_t port);

/** @return rule @p i (0 <= i < kapa_policy_count()), in the set's order. */
const struct kapa_policy_rule *kapa_policy_rule_at(const struct kapa_policy *p, uint32_t i);

/** @return the spec of rule @p i, or the default spec when @p i < 0. */
const struct kapa_policy_spec *kapa_policy_spec_of(const struct kapa_policy *p, int i);

/** @return rules in the set. */
uint32_t kapa_policy_count(const struct kapa_policy *p);

/** @return non-zero when a rule or the default has a mode that acts
 *  (enforce, advertise): an observe-only set never changes a packet. */
int kapa_policy_can_act(const struct kapa_policy *p);

/** @return the set's generation. */
uint32_t kapa_policy_generation(const struct kapa_policy *p);

/** @return "observe", "enforce", "advertise" (or "?"). */
const char *kapa_policy_mode_name(unsigned mode);

/**
 * Write a spec as the grammar above reads it ("timeout=60,max=100,
 * mode=enforce", keys with value 0 left out; "mode=observe" at least).
 * @return the length written (snprintf's).
 */
int kapa_policy_format_spec(const struct kapa_policy_spec *spec, char *buf, size_t len);

/**
 * A policy program: reads a struct kapa_policy_ctx and writes its results.
 * The same signature as a program JITed by rte_bpf (its return value is
 * unused), so the data plane swaps the built-in one for an eBPF one.
 */
typedef uint64_t (*kapa_policy_prog_fn)(void *ctx);

/**
 * The built-in decision, which the default eBPF program implements too: a
 * connection gets its rule's values as they are (the results are prefilled
 * with them); what they mean for the connection's state (opaque, idle,
 * mid-message) is the action layer's. Returns 0.
 */
uint64_t kapa_policy_default_prog(void *ctx);

/**
 * Fill a context's rule inputs and prefill its results from a spec.
 * @param rule_id  the rule's index, or KAPA_POLICY_NO_RULE
 */
void kapa_policy_ctx_set_rule(struct kapa_policy_ctx *ctx, const struct kapa_policy_spec *spec,
			      uint32_t rule_id, uint32_t generation);

#endif /* KAPA_POLICY_H */
