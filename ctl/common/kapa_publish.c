/* SPDX-License-Identifier: BSD-3-Clause */
/* kapad's writes into kapa_ctl, kapa_rules and kapa_prog. See kapa_publish.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "kapa_publish.h"

uint64_t
kapa_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* pub_seq odd: a writer is in (kapa_maps.h). */
static void
pub_begin(struct kapa_ctl *ctl)
{
	__atomic_store_n(&ctl->pub_seq, ctl->pub_seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void
pub_end(struct kapa_ctl *ctl)
{
	__atomic_store_n(&ctl->pub_seq, ctl->pub_seq + 1, __ATOMIC_RELEASE);
}

static void
spec_to_rec(struct kapa_spec_rec *r, const struct kapa_policy_spec *s)
{
	memset(r, 0, sizeof(*r));
	r->timeout_s = s->timeout_s;
	r->max_requests = s->max;
	r->stall_s = s->stall_s;
	r->opaque_idle_s = s->opaque_idle_s;
	r->mode = s->mode;
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

int
kapa_publish_rules(struct kapa_mapset *ms, const struct kapa_policy_spec *def,
		   const struct kapa_policy_rule *rules, uint32_t n, uint64_t *gen,
		   char *err, size_t errlen)
{
	struct kapa_ctl *ctl = ms->ctl;
	struct kapa_rule_rec rec;
	uint32_t i, old = ctl->rules_count;
	int rc = 0;

	if (n > KAPA_MAX_RULES) {
		snprintf(err, errlen, "%u rules (at most %u)", n, KAPA_MAX_RULES);
		return -E2BIG;
	}
	pub_begin(ctl);
	for (i = 0; i < n || i < old; i++) {
		memset(&rec, 0, sizeof(rec));
		if (i < n) {
			snprintf(rec.name, sizeof(rec.name), "%s", rules[i].name);
			memcpy(rec.prefix, rules[i].prefix, sizeof(rec.prefix));
			rec.family = rules[i].family;
			rec.prefix_len = rules[i].prefix_len;
			rec.port = rules[i].port;
			spec_to_rec(&rec.spec, &rules[i].spec);
		}
		if (bpf_map_update_elem(ms->rules_fd, &i, &rec, BPF_ANY) != 0) {
			rc = -errno;
			snprintf(err, errlen, "writing rule slot %u: %s", i, strerror(errno));
			break;
		}
		if (i >= KAPA_MAX_RULES - 1)
			break;
	}
	if (rc == 0) {
		spec_to_rec(&ctl->rules_default, def);
		ctl->rules_count = n;
		ctl->rules_gen++;
		*gen = ctl->rules_gen;
	}
	pub_end(ctl);
	return rc;
}

int
kapa_published_rules(struct kapa_mapset *ms, struct kapa_policy_spec *def,
		     struct kapa_policy_rule *rules, uint64_t *gen, char *err, size_t errlen)
{
	const struct kapa_ctl *ctl = ms->ctl;
	struct kapa_rule_rec rec;
	uint32_t i, n = ctl->rules_count;

	*gen = ctl->rules_gen;
	memset(def, 0, sizeof(*def));
	if (*gen == 0)
		return 0;
	if (n > KAPA_MAX_RULES) {
		snprintf(err, errlen, "kapa_ctl says %u rules (at most %u)", n, KAPA_MAX_RULES);
		return -EINVAL;
	}
	spec_from_rec(def, &ctl->rules_default);
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(ms->rules_fd, &i, &rec) != 0) {
			snprintf(err, errlen, "reading rule slot %u: %s", i, strerror(errno));
			return -errno;
		}
		memset(&rules[i], 0, sizeof(rules[i]));
		rec.name[sizeof(rec.name) - 1] = '\0';
		snprintf(rules[i].name, sizeof(rules[i].name), "%s", rec.name);
		memcpy(rules[i].prefix, rec.prefix, sizeof(rec.prefix));
		rules[i].family = rec.family;
		rules[i].prefix_len = rec.prefix_len;
		rules[i].port = rec.port;
		spec_from_rec(&rules[i].spec, &rec.spec);
	}
	return (int)n;
}

int
kapa_publish_prog(struct kapa_mapset *ms, const void *ins, uint32_t n, const char *name,
		  uint64_t *gen, char *err, size_t errlen)
{
	struct kapa_ctl *ctl = ms->ctl;
	struct kapa_prog_rec *r = ms->prog;

	if (n > KAPA_PROG_MAX_INS) {
		snprintf(err, errlen, "%u instructions (at most %u)", n, KAPA_PROG_MAX_INS);
		return -EINVAL;
	}
	pub_begin(ctl);
	/* Generations only grow, also across an unload, which is a
	 * generation without instructions (the built-in decision): a data
	 * plane that refused generation G never mistakes a later program
	 * for it. */
	r->gen = (ctl->prog_gen > r->gen ? ctl->prog_gen : r->gen) + 1;
	if (n != 0)
		memcpy(r->ins, ins, (size_t)n * sizeof(r->ins[0]));
	r->n_ins = n;
	snprintf(r->name, sizeof(r->name), "%s", n != 0 && name != NULL ? name : "");
	ctl->prog_gen = r->gen;
	*gen = ctl->prog_gen;
	pub_end(ctl);
	return 0;
}

int
kapa_dp_attached(const struct kapa_mapset *ms)
{
	uint64_t hb = __atomic_load_n(&ms->ctl->dp_heartbeat_ns, __ATOMIC_ACQUIRE);
	uint64_t now = kapa_now_ns();

	return hb != 0 && hb <= now + KAPA_DP_HEARTBEAT_MAX_NS && now - hb < KAPA_DP_HEARTBEAT_MAX_NS;
}

int
kapa_applied_poll(struct kapa_mapset *ms, uint64_t rules_gen, uint64_t prog_gen,
		  uint64_t *applied_ns, char *err, size_t errlen)
{
	const struct kapa_ctl *ctl = ms->ctl;
	int rules_ok = rules_gen == 0 ||
		       __atomic_load_n(&ctl->dp_rules_gen, __ATOMIC_ACQUIRE) == rules_gen;
	int prog_ok = prog_gen == 0 ||
		      __atomic_load_n(&ctl->dp_prog_gen, __ATOMIC_ACQUIRE) == prog_gen;

	if (rules_ok && prog_ok) {
		if (applied_ns != NULL)
			*applied_ns = ctl->dp_prog_applied_ns > ctl->dp_rules_applied_ns ?
				      ctl->dp_prog_applied_ns : ctl->dp_rules_applied_ns;
		return 0;
	}
	if (!prog_ok && __atomic_load_n(&ctl->dp_prog_failed_gen, __ATOMIC_ACQUIRE) == prog_gen) {
		snprintf(err, errlen, "the data plane refused the program: %s", ctl->dp_prog_msg);
		return -EINVAL;
	}
	if (!kapa_dp_attached(ms)) {
		snprintf(err, errlen, "no data plane attached to the maps under %s", ms->root);
		return -ENOTCONN;
	}
	return -EINPROGRESS;
}

int
kapa_wait_applied(struct kapa_mapset *ms, uint64_t rules_gen, uint64_t prog_gen,
		  unsigned timeout_ms, uint64_t *applied_ns, char *err, size_t errlen)
{
	unsigned waited;
	int rc;

	for (waited = 0;; waited++) {
		rc = kapa_applied_poll(ms, rules_gen, prog_gen, applied_ns, err, errlen);
		if (rc != -EINPROGRESS)
			return rc;
		if (waited >= timeout_ms) {
			snprintf(err, errlen, "the data plane did not take it up within %u ms",
				 timeout_ms);
			return -ETIMEDOUT;
		}
		sleep_ms(1);
	}
}

uint64_t
kapa_command_send(struct kapa_mapset *ms, uint32_t worker, uint32_t slot, uint32_t gen,
		  char *msg, size_t msglen)
{
	struct kapa_ctl *ctl = ms->ctl;
	uint64_t seq;

	if (!kapa_dp_attached(ms)) {
		snprintf(msg, msglen, "no data plane attached to the maps under %s", ms->root);
		return 0;
	}
	ctl->cmd = KAPA_CMD_CLOSE;
	ctl->cmd_worker = worker;
	ctl->cmd_slot = slot;
	ctl->cmd_gen = gen;
	seq = ctl->cmd_seq + 1;
	__atomic_store_n(&ctl->cmd_seq, seq, __ATOMIC_RELEASE);
	return seq;
}

int
kapa_command_poll(struct kapa_mapset *ms, uint64_t seq, char *msg, size_t msglen)
{
	const struct kapa_ctl *ctl = ms->ctl;

	if (__atomic_load_n(&ctl->ans_seq, __ATOMIC_ACQUIRE) != seq)
		return -EINPROGRESS;
	snprintf(msg, msglen, "%s", ctl->ans_msg);
	return ctl->ans_status;
}

int
kapa_command_close(struct kapa_mapset *ms, uint32_t worker, uint32_t slot, uint32_t gen,
		   unsigned timeout_ms, char *msg, size_t msglen)
{
	uint64_t seq = kapa_command_send(ms, worker, slot, gen, msg, msglen);
	unsigned waited;
	int rc;

	if (seq == 0)
		return -ENOTCONN;
	for (waited = 0; waited < timeout_ms; waited++) {
		rc = kapa_command_poll(ms, seq, msg, msglen);
		if (rc != -EINPROGRESS)
			return rc;
		sleep_ms(1);
	}
	snprintf(msg, msglen, "the data plane did not answer within %u ms", timeout_ms);
	return -ETIMEDOUT;
}
