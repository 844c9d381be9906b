/* SPDX-License-Identifier: BSD-3-Clause */
/* kapa-dp's side of the control path. See control.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <rte_malloc.h>

#include "control.h"

/** A command its worker did not carry out within this is answered so. */
#define CMD_TIMEOUT_NS (2 * 1000000000ull)

/* ---- reading what kapad published ------------------------------------------------- */

/* The published part of kapa_ctl, consistent (seqlock read), with the
 * sequence read in out->pub_seq. @return 0, or -EAGAIN while kapad is
 * writing. */
static int
read_published(const struct kapa_ctl *ctl, struct kapa_ctl *out)
{
	uint64_t s = __atomic_load_n(&ctl->pub_seq, __ATOMIC_ACQUIRE);

	if (s & 1)
		return -EAGAIN;
	out->pub_seq = s;
	out->rules_gen = ctl->rules_gen;
	out->rules_count = ctl->rules_count;
	out->rules_default = ctl->rules_default;
	out->prog_gen = ctl->prog_gen;
	rte_atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&ctl->pub_seq, __ATOMIC_RELAXED) == s ? 0 : -EAGAIN;
}

static void
spec_from_rec(struct kapa_policy_spec *s, const struct kapa_spec_rec *r)
{
	s->timeout_s = r->timeout_s;
	s->max = r->max_requests;
	s->stall_s = r->stall_s;
	s->opaque_idle_s = r->opaque_idle_s;
	s->mode = r->mode;
}

/* The published rule set, as a kapa_policy. @return it, or NULL with @p err. */
static struct kapa_policy *
build_rules(struct dp_control *c, const struct kapa_ctl *pub, char *err, size_t errlen)
{
	struct kapa_policy_spec def;
	struct kapa_policy_rule *rules;
	struct kapa_policy *p;
	struct kapa_rule_rec rec;
	uint32_t i, n = pub->rules_count;

	if (n > KAPA_MAX_RULES) {
		snprintf(err, errlen, "%u rules published (at most %u)", n, KAPA_MAX_RULES);
		return NULL;
	}
	rules = calloc(n ? n : 1, sizeof(*rules));
	if (rules == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(c->rules_fd, &i, &rec) != 0) {
			snprintf(err, errlen, "rule slot %u: %s", i, strerror(errno));
			free(rules);
			return NULL;
		}
		rec.name[KAPA_RULE_NAME_MAX - 1] = '\0';
		snprintf(rules[i].name, sizeof(rules[i].name), "%s", rec.name);
		rules[i].family = rec.family;
		rules[i].prefix_len = rec.prefix_len;
		rules[i].port = rec.port;
		memcpy(rules[i].prefix, rec.prefix, sizeof(rec.prefix));
		spec_from_rec(&rules[i].spec, &rec.spec);
	}
	spec_from_rec(&def, &pub->rules_default);
	p = kapa_policy_create(&def, rules, n, (uint32_t)pub->rules_gen, err, errlen);
	free(rules);
	return p;
}

/* The published program, loaded and checked. @return it, or NULL: with
 * @p builtin set when the generation is the built-in decision (none
 * published, or an unload: a generation without instructions), else
 * refused, with @p err. */
static struct kapa_prog *
build_prog(struct dp_control *c, const struct kapa_ctl *pub, int *builtin, char *err,
	   size_t errlen)
{
	const struct kapa_prog_rec *r = c->prog;
	struct kapa_prog *p;
	uint32_t n = r->n_ins;

	*builtin = pub->prog_gen == 0;
	if (*builtin)
		return NULL;
	if (r->gen != pub->prog_gen) {
		snprintf(err, errlen, "the program record holds generation %llu, not %llu",
			 (unsigned long long)r->gen, (unsigned long long)pub->prog_gen);
		return NULL;
	}
	*builtin = n == 0;
	if (*builtin)
		return NULL;
	p = kapa_prog_load(r->ins, n, err, errlen);
	if (p != NULL && kapa_prog_check(p, err, errlen) != 0) {
		kapa_prog_free(p);
		p = NULL;
	}
	return p;
}

/* ---- configurations ---------------------------------------------------------------- */

static void
config_free(struct dp_config *cfg, const struct dp_config *keep)
{
	if (cfg == NULL)
		return;
	if (keep == NULL || cfg->policy != keep->policy)
		kapa_policy_destroy(cfg->policy);
	if (keep == NULL || cfg->prog != keep->prog)
		kapa_prog_free(cfg->prog);
	free(cfg);
}

/*
 * What is published and differs from what is in force, as a new
 * configuration (sharing what did not change). @return it, or NULL: nothing
 * new, kapad wrote meanwhile (tried again at the next tick), or it failed
 * (answered in kapa_ctl, not tried again). Generations only grow (kapad
 * publishes an unload as a generation without instructions), so 0 is never
 * a failed one.
 */
static struct dp_config *
next_config(struct dp_control *c, const struct kapa_ctl *pub, uint64_t now_ns)
{
	const struct dp_config *cur = c->cur;
	struct dp_config *n;
	int rules = pub->rules_gen != 0 && pub->rules_gen != cur->rules_gen &&
		    pub->rules_gen != c->failed_rules_gen;
	int prog = pub->prog_gen != cur->prog_gen &&
		   (pub->prog_gen == 0 || pub->prog_gen != c->failed_prog_gen);
	int builtin = 0;
	char rules_err[256], prog_err[256];

	if (!rules && !prog)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	*n = *cur;
	if (rules)
		n->policy = build_rules(c, pub, rules_err, sizeof(rules_err));
	if (prog)
		n->prog = build_prog(c, pub, &builtin, prog_err, sizeof(prog_err));
	/* The rule records and the program are read outside the seqlock read
	 * of kapa_ctl: when kapad wrote meanwhile they may be torn, and are
	 * read again at the next tick (a refusal is only of a whole read). */
	rte_atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&c->ctl->pub_seq, __ATOMIC_RELAXED) != pub->pub_seq) {
		config_free(n, cur);
		return NULL;
	}
	if (rules && n->policy == NULL) {
		printf("kapa-dp: published rule set %llu refused, the one in force stays: %s\n",
		       (unsigned long long)pub->rules_gen, rules_err);
		c->failed_rules_gen = pub->rules_gen;
		n->policy = cur->policy;
	} else if (rules) {
		n->rules_gen = pub->rules_gen;
	}
	if (prog && n->prog == NULL && !builtin) {
		c->failed_prog_gen = pub->prog_gen;
		c->ctl->dp_prog_status = -EINVAL;
		snprintf(c->ctl->dp_prog_msg, sizeof(c->ctl->dp_prog_msg), "%.*s",
			 (int)sizeof(c->ctl->dp_prog_msg) - 1, prog_err);
		__atomic_store_n(&c->ctl->dp_prog_failed_gen, pub->prog_gen, __ATOMIC_RELEASE);
		printf("kapa-dp: published program %llu refused, the one in force stays: %s\n",
		       (unsigned long long)pub->prog_gen, prog_err);
		n->prog = cur->prog;
	} else if (prog) {
		n->prog_gen = pub->prog_gen;
	}
	if (n->policy == cur->policy && n->prog == cur->prog &&
	    n->rules_gen == cur->rules_gen && n->prog_gen == cur->prog_gen) {
		free(n);
		return NULL;
	}
	(void)now_ns;
	return n;
}

/* Publish @p n to the workers; the old one waits for the grace period. */
static void
swap_config(struct dp_control *c, struct dp_config *n, uint64_t now_ns)
{
	c->old = c->cur;
	__atomic_store_n(&c->cur, n, __ATOMIC_RELEASE);
	c->old_token = rte_rcu_qsbr_start(c->qsbr);
	c->swap_ns = now_ns;
}

/* The grace period over: every worker runs the new configuration. */
static void
swap_done(struct dp_control *c, uint64_t now_ns)
{
	struct kapa_ctl *ctl = c->ctl;
	const struct dp_config *cur = c->cur;

	if (cur->rules_gen != ctl->dp_rules_gen) {
		ctl->dp_rules_applied_ns = now_ns;
		printf("kapa-dp: rule set %llu in force (%u rule(s)) on every worker, %.1f ms after "
		       "it was read\n", (unsigned long long)cur->rules_gen,
		       kapa_policy_count(cur->policy), (double)(now_ns - c->swap_ns) / 1e6);
	}
	if (cur->prog_gen != ctl->dp_prog_gen) {
		ctl->dp_prog_applied_ns = now_ns;
		printf("kapa-dp: policy program %llu (%s) in force on every worker\n",
		       (unsigned long long)cur->prog_gen,
		       cur->prog != NULL ? c->prog->name : "built-in");
	}
	__atomic_store_n(&ctl->dp_rules_gen, cur->rules_gen, __ATOMIC_RELEASE);
	__atomic_store_n(&ctl->dp_prog_gen, cur->prog_gen, __ATOMIC_RELEASE);
	config_free(c->old, cur);
	c->old = NULL;
}

/* ---- commands ---------------------------------------------------------------------- */

static void
answer(struct kapa_ctl *ctl, uint64_t seq, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
answer(struct kapa_ctl *ctl, uint64_t seq, int status, const char *fmt, ...)
{
	va_list ap;

	ctl->ans_status = status;
	va_start(ap, fmt);
	vsnprintf(ctl->ans_msg, sizeof(ctl->ans_msg), fmt, ap);
	va_end(ap);
	__atomic_store_n(&ctl->ans_seq, seq, __ATOMIC_RELEASE);
}

static void
commands(struct dp_control *c, uint64_t now_ns)
{
	struct kapa_ctl *ctl = c->ctl;
	uint64_t seq = __atomic_load_n(&ctl->cmd_seq, __ATOMIC_ACQUIRE);
	struct dp_mailbox *mb;
	uint32_t w, slot, gen;

	if (c->cmd_seq != 0) {
		mb = c->mailbox[c->cmd_worker];
		if (__atomic_load_n(&mb->done, __ATOMIC_ACQUIRE) == mb->seq) {
			slot = mb->slot;
			gen = mb->gen;
			if (mb->status == 0)
				answer(ctl, c->cmd_seq, 0, "connection %u/%u/%u reset both ways",
				       c->cmd_worker, slot, gen);
			else if (mb->status == -ENOENT)
				answer(ctl, c->cmd_seq, -ENOENT, "no connection %u/%u/%u (it closed, "
				       "or its slot holds another one now)", c->cmd_worker, slot, gen);
			else
				answer(ctl, c->cmd_seq, mb->status, "connection %u/%u/%u cannot be "
				       "reset (no packet to craft from, or a link layer kapa cannot "
				       "rebuild)", c->cmd_worker, slot, gen);
			c->cmd_seq = 0;
		} else if (now_ns - c->cmd_since_ns > CMD_TIMEOUT_NS) {
			answer(ctl, c->cmd_seq, -ETIMEDOUT, "worker %u did not answer", c->cmd_worker);
			c->cmd_seq = 0;
		}
		return;
	}
	if (seq == 0 || seq == __atomic_load_n(&ctl->ans_seq, __ATOMIC_ACQUIRE))
		return;
	w = ctl->cmd_worker;
	if (ctl->cmd != KAPA_CMD_CLOSE) {
		answer(ctl, seq, -EINVAL, "unknown command %u", ctl->cmd);
		return;
	}
	if (w >= c->workers) {
		answer(ctl, seq, -ENOENT, "no worker %u (%u workers)", w, c->workers);
		return;
	}
	mb = c->mailbox[w];
	mb->slot = ctl->cmd_slot;
	mb->gen = ctl->cmd_gen;
	__atomic_store_n(&mb->seq, mb->seq + 1, __ATOMIC_RELEASE);
	c->cmd_seq = seq;
	c->cmd_worker = (uint16_t)w;
	c->cmd_since_ns = now_ns;
}

/* ---- life cycle -------------------------------------------------------------------- */

int
dp_control_init(struct dp_control *c, const struct dp_control_params *p, char *err, size_t errlen)
{
	struct kapa_ctl pub;
	struct dp_config *first;
	size_t sz;

	memset(c, 0, sizeof(*c));
	c->ctl = p->ctl;
	c->prog = p->prog;
	c->rules_fd = p->rules_fd;
	c->workers = p->workers;
	sz = rte_rcu_qsbr_get_memsize(p->workers);
	c->qsbr = rte_zmalloc("kapa_qsbr", sz, RTE_CACHE_LINE_SIZE);
	first = calloc(1, sizeof(*first));
	if (c->qsbr == NULL || first == NULL || rte_rcu_qsbr_init(c->qsbr, p->workers) != 0) {
		snprintf(err, errlen, "out of memory for the control path");
		rte_free(c->qsbr);
		free(first);
		kapa_policy_destroy(p->cmdline);
		return -ENOMEM;
	}
	first->policy = p->cmdline;
	c->cur = first;
	/* What kapad published before we started wins over the command line. */
	if (read_published(c->ctl, &pub) == 0) {
		struct dp_config *n = next_config(c, &pub, 0);

		if (n != NULL) {
			config_free(first, n);
			c->cur = n;
			if (n->rules_gen != 0)
				printf("kapa-dp: rule set %llu published by kapad (%u rule(s)) holds, "
				       "not the command line's\n", (unsigned long long)n->rules_gen,
				       kapa_policy_count(n->policy));
			if (n->prog_gen != 0)
				printf("kapa-dp: policy program %llu (%s) published by kapad\n",
				       (unsigned long long)n->prog_gen,
				       n->prog != NULL ? c->prog->name : "built-in");
		}
	}
	c->ctl->dp_rules_gen = c->cur->rules_gen;
	c->ctl->dp_prog_gen = c->cur->prog_gen;
	c->ctl->dp_started_ns = 0;	/* this run's start: the first tick's time */
	c->ctl->dp_pid = (uint32_t)getpid();
	c->ctl->dp_workers = p->workers;
	c->ctl->dp_conns_per_worker = p->conns_per_worker;
	snprintf(c->ctl->dp_version, sizeof(c->ctl->dp_version), "%s", KAPA_VERSION);
	/* A command left from a predecessor is not ours to carry out. */
	c->ctl->ans_seq = c->ctl->cmd_seq;
	return 0;
}

void
dp_control_attach(struct dp_control *c, uint16_t id, struct dp_mailbox *mb)
{
	c->mailbox[id] = mb;
	rte_rcu_qsbr_thread_register(c->qsbr, id);
	rte_rcu_qsbr_thread_online(c->qsbr, id);
}

void
dp_control_tick(struct dp_control *c, uint64_t now_ns)
{
	struct kapa_ctl pub;
	struct dp_config *n;

	if (c->ctl->dp_started_ns == 0)
		c->ctl->dp_started_ns = now_ns;
	__atomic_store_n(&c->ctl->dp_heartbeat_ns, now_ns, __ATOMIC_RELEASE);
	if (c->old != NULL && rte_rcu_qsbr_check(c->qsbr, c->old_token, false) == 1)
		swap_done(c, now_ns);
	/* One change in flight at a time. */
	if (c->old == NULL && read_published(c->ctl, &pub) == 0) {
		n = next_config(c, &pub, now_ns);
		if (n != NULL)
			swap_config(c, n, now_ns);
	}
	commands(c, now_ns);
}

void
dp_control_fini(struct dp_control *c)
{
	if (c->ctl != NULL)
		__atomic_store_n(&c->ctl->dp_heartbeat_ns, 0, __ATOMIC_RELEASE);
	/* The workers have stopped: nothing references either configuration. */
	if (c->old != NULL)
		config_free(c->old, c->cur);
	config_free(c->cur, NULL);
	c->old = c->cur = NULL;
	rte_free(c->qsbr);
	c->qsbr = NULL;
}
