/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's commands (docs/control-protocol.md). Each takes the
 * request's args (checked against the names it accepts) and builds a
 * result; the rule set lives in struct kapad and, once validated, in the
 * maps (ctl/common/kapa_publish.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "commands.h"
#include "kapa_prog.h"
#include "kapa_prom.h"
#include "kapa_publish.h"

/** How long a request waits for the data plane to take a change up. */
#define APPLY_WAIT_NS (2 * 1000000000ull)
/** How long a close command waits for the data plane's answer. */
#define CLOSE_WAIT_NS (3 * 1000000000ull)
#define CONNS_LIMIT_DEFAULT 100
#define CONNS_LIMIT_MAX 10000
#define NS_PER_MS 1000000ull

/* ---- responses ------------------------------------------------------------------- */

static const char *
errno_name(int err)
{
	switch (err) {
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOTCONN: return "ENOTCONN";
	case ETIMEDOUT: return "ETIMEDOUT";
	case E2BIG: return "E2BIG";
	case ENOMEM: return "ENOMEM";
	case EBUSY: return "EBUSY";
	case EIO: return "EIO";
	default: return "EFAULT";
	}
}

json_t *
kapad_error(json_t *id, int err, const char *fmt, ...)
{
	char msg[512], *c;
	va_list ap;
	json_t *r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* ASCII only: a message may quote the client's bytes (jansson's
	 * parse error does) or be cut inside a UTF-8 sequence, and a JSON
	 * string of invalid UTF-8 cannot be made: there would be no answer. */
	for (c = msg; *c != '\0'; c++)
		if ((unsigned char)*c >= 0x80 || (unsigned char)*c < 0x20)
			*c = '?';
	r = json_pack("{s:b, s:s, s:s}", "ok", 0, "error", msg, "code", errno_name(err < 0 ? -err : err));
	if (r != NULL && id != NULL)
		json_object_set(r, "id", id);
	return r;
}

static json_t *
ok(json_t *id, json_t *result)
{
	json_t *r = json_pack("{s:b, s:o}", "ok", 1, "result", result ? result : json_object());

	if (r != NULL && id != NULL)
		json_object_set(r, "id", id);
	return r;
}

/* A handler's outcome: a result, or an error (code, message). */
struct outcome {
	json_t *result;
	int err;
	char msg[512];
};

static void
fail(struct outcome *o, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fail(struct outcome *o, int err, const char *fmt, ...)
{
	va_list ap;

	o->err = err < 0 ? -err : err;
	va_start(ap, fmt);
	vsnprintf(o->msg, sizeof(o->msg), fmt, ap);
	va_end(ap);
}

/* ---- arguments ---------------------------------------------------------------------- */

/* Every key of @p args must be one of @p allowed (NULL-terminated). */
static int
args_check(json_t *args, const char *const *allowed, struct outcome *o)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(args, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			fail(o, EINVAL, "unknown argument '%s'", key);
			return -1;
		}
	}
	return 0;
}

static const char *
arg_string(json_t *args, const char *key, struct outcome *o)
{
	json_t *v = json_object_get(args, key);

	if (!json_is_string(v)) {
		fail(o, EINVAL, "argument '%s' (a string) is required", key);
		return NULL;
	}
	return json_string_value(v);
}

/* An optional whole number in [0, max]; @p *out unchanged when absent. */
static int
arg_uint(json_t *args, const char *key, uint64_t max, uint64_t *out, struct outcome *o)
{
	json_t *v = json_object_get(args, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max) {
		fail(o, EINVAL, "argument '%s': a whole number 0..%llu", key, (unsigned long long)max);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* The spec keys of @p args into @p spec, through the --policy grammar. */
static int
args_spec(json_t *args, struct kapa_policy_spec *spec, struct outcome *o)
{
	static const char *const keys[] = { "timeout", "max", "stall", "opaque_idle" };
	char text[256];
	size_t used = 0, i;
	uint64_t v;
	json_t *mode;

	text[0] = '\0';
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (json_object_get(args, keys[i]) == NULL)
			continue;
		if (arg_uint(args, keys[i], INT32_MAX, &v, o) != 0)
			return -1;
		used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%s=%llu",
					 used ? "," : "", keys[i], (unsigned long long)v);
	}
	mode = json_object_get(args, "mode");
	if (mode != NULL) {
		if (!json_is_string(mode) || strchr(json_string_value(mode), ',') != NULL) {
			fail(o, EINVAL, "argument 'mode': observe, enforce or advertise");
			return -1;
		}
		snprintf(text + used, sizeof(text) - used, "%smode=%s", used ? "," : "",
			 json_string_value(mode));
	}
	if (kapa_policy_parse_spec(text, spec, o->msg, sizeof(o->msg)) != 0) {
		o->err = EINVAL;
		return -1;
	}
	return 0;
}

/* ---- objects ------------------------------------------------------------------------- */

static json_t *
spec_json(const struct kapa_policy_spec *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:s}", "timeout", (json_int_t)s->timeout_s,
			 "max", (json_int_t)s->max, "stall", (json_int_t)s->stall_s,
			 "opaque_idle", (json_int_t)s->opaque_idle_s,
			 "mode", kapa_policy_mode_name(s->mode));
}

/* "198.18.0.0/15:80", "[2001:db8::/32]:443", as the rule was written. */
static void
match_text(const struct kapa_policy_rule *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(r->family == 6 ? AF_INET6 : AF_INET, r->prefix, a, sizeof(a));
	if (r->family == 6 && r->port != 0)
		snprintf(buf, len, "[%s/%u]:%u", a, r->prefix_len, r->port);
	else if (r->port != 0)
		snprintf(buf, len, "%s/%u:%u", a, r->prefix_len, r->port);
	else
		snprintf(buf, len, "%s/%u", a, r->prefix_len);
}

static json_t *
rule_json(const struct kapa_policy_rule *r)
{
	json_t *j = spec_json(&r->spec);
	char m[96];

	match_text(r, m, sizeof(m));
	json_object_set_new(j, "name", json_string(r->name));
	json_object_set_new(j, "match", json_string(m));
	return j;
}

static void
addr_port(char *out, size_t len, uint8_t family, const uint8_t *addr, uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	snprintf(out, len, family == 6 ? "[%s]:%u" : "%s:%u", a, port);
}

static json_t *
ka_json(uint32_t timeout, uint32_t max)
{
	json_t *j = json_object();

	if (timeout != KAPA_KA_UNSET)
		json_object_set_new(j, "timeout", json_integer(timeout));
	if (max != KAPA_KA_UNSET)
		json_object_set_new(j, "max", json_integer(max));
	return j;
}

static json_t *
conn_json(const struct kapa_conn_rec *r, uint64_t now)
{
	static const char *const states[] = {
		"free", "syn-sent", "syn-rcvd", "established", "closing", "closed",
	};
	static const struct {
		uint8_t bit;
		const char *name;
	} flags[] = {
		{ KAPA_REC_MIDSTREAM, "midstream" }, { KAPA_REC_OPAQUE, "opaque" },
		{ KAPA_REC_PERSISTENT, "persistent" }, { KAPA_REC_IN_REQUEST, "in_request" },
		{ KAPA_REC_SEQ_SHIFTED, "seq_shifted" },
	};
	char id[48], cli[64], srv[64];
	json_t *j, *fl = json_array();
	size_t i;

	snprintf(id, sizeof(id), "%u/%u/%u", r->worker, r->slot, r->gen);
	addr_port(cli, sizeof(cli), r->family, r->client_addr, r->client_port);
	addr_port(srv, sizeof(srv), r->family, r->server_addr, r->server_port);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (r->flags & flags[i].bit)
			json_array_append_new(fl, json_string(flags[i].name));
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:I}",
		      "id", id, "client", cli, "server", srv,
		      "state", r->state < sizeof(states) / sizeof(states[0]) ? states[r->state] : "?",
		      "mode", kapa_policy_mode_name(r->mode), "flags", fl,
		      "requests", (json_int_t)r->requests, "responses", (json_int_t)r->responses,
		      "idle_ms", (json_int_t)(now > r->last_seen_ns ? (now - r->last_seen_ns) / NS_PER_MS : 0),
		      "age_ms", (json_int_t)(now > r->first_seen_ns ? (now - r->first_seen_ns) / NS_PER_MS : 0),
		      "timeout", (json_int_t)r->eff_timeout_s, "max", (json_int_t)r->eff_max);
	json_object_set_new(j, "client_keep_alive", ka_json(r->client_ka_timeout, r->client_ka_max));
	json_object_set_new(j, "server_keep_alive", ka_json(r->server_ka_timeout, r->server_ka_max));
	json_object_set_new(j, "bytes", json_pack("[I, I]", (json_int_t)r->bytes[0],
						  (json_int_t)r->bytes[1]));
	return j;
}

/* A consistent copy of a live record (its writer's sequence counter). */
static int
conn_read(const struct kapa_conn_rec *src, struct kapa_conn_rec *dst)
{
	unsigned tries;
	uint32_t s;

	for (tries = 0; tries < 16; tries++) {
		s = __atomic_load_n(&src->seq, __ATOMIC_ACQUIRE);
		if (s & 1)
			continue;
		memcpy(dst, src, sizeof(*dst));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&src->seq, __ATOMIC_RELAXED) == s)
			return 0;
	}
	return -1;
}

/* ---- the rule set ---------------------------------------------------------------------- */

/* Field by field: the structs have padding, and a name's bytes past its NUL
 * may differ. */
static int
spec_same(const struct kapa_policy_spec *a, const struct kapa_policy_spec *b)
{
	return a->timeout_s == b->timeout_s && a->max == b->max && a->stall_s == b->stall_s &&
	       a->opaque_idle_s == b->opaque_idle_s && a->mode == b->mode;
}

static int
rule_same(const struct kapa_policy_rule *a, const struct kapa_policy_rule *b)
{
	return strcmp(a->name, b->name) == 0 && a->family == b->family &&
	       a->prefix_len == b->prefix_len && a->port == b->port &&
	       memcmp(a->prefix, b->prefix, sizeof(a->prefix)) == 0 && spec_same(&a->spec, &b->spec);
}

static int
rule_find(const struct kapad *k, const char *name)
{
	uint32_t i;

	for (i = 0; i < k->nrules; i++)
		if (strcmp(k->rules[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
kapad_rules_same(const struct kapad *k, const struct kapa_policy_spec *def,
		 const struct kapa_policy_rule *rules, uint32_t n)
{
	uint32_t i;
	int j;

	if (n != k->nrules || !spec_same(def, &k->def))
		return 0;
	/* Names are unique in a set (kapa_policy_create() checks): the same
	 * count and each rule found the same by its name is the same set. The
	 * order does not matter to the data plane (the most specific match
	 * wins, and two rules never match the same servers). */
	for (i = 0; i < n; i++) {
		j = rule_find(k, rules[i].name);
		if (j < 0 || !rule_same(&rules[i], &k->rules[j]))
			return 0;
	}
	return 1;
}

int
kapad_set_rules(struct kapad *k, const struct kapa_policy_spec *def,
		const struct kapa_policy_rule *rules, uint32_t n, char *err, size_t errlen)
{
	struct kapa_policy *check;
	uint64_t gen;
	int rc;

	/* The data plane's own builder: what passes here builds there. */
	check = kapa_policy_create(def, rules, n, 0, err, errlen);
	if (check == NULL)
		return -EINVAL;
	kapa_policy_destroy(check);
	/* The set in force already: publish nothing, since a new generation
	 * makes every data-plane worker re-decide all its connections. The
	 * first publication always goes out (it replaces kapa-dp's command
	 * line, rule precedence in docs/operations.md). */
	if (k->rules_gen != 0 && kapad_rules_same(k, def, rules, n)) {
		kapad_log(LOG_INFO, "rule set %llu unchanged: nothing published",
			  (unsigned long long)k->rules_gen);
		return 0;
	}
	rc = kapa_publish_rules(&k->maps, def, rules, n, &gen, err, errlen);
	if (rc != 0)
		return rc;
	if (rules != k->rules)
		memcpy(k->rules, rules, (size_t)n * sizeof(*rules));
	k->def = *def;
	k->nrules = n;
	k->rules_gen = gen;
	kapad_log(LOG_INFO, "rule set %llu published: %u rule(s)", (unsigned long long)gen, n);
	return 0;
}

/* Whether rule @p name came from the config file (kapad.h, file_rules). */
static int
from_file(const struct kapad *k, const char *name)
{
	uint32_t i;

	for (i = 0; i < k->nfile_rules; i++)
		if (strcmp(k->file_rules[i], name) == 0)
			return 1;
	return 0;
}

/* Rule @p name no longer comes from the file (policy del took it). */
static void
forget_file_rule(struct kapad *k, const char *name)
{
	uint32_t i;

	for (i = 0; i < k->nfile_rules; i++)
		if (strcmp(k->file_rules[i], name) == 0) {
			memmove(k->file_rules[i], k->file_rules[i + 1],
				(size_t)(k->nfile_rules - i - 1) * sizeof(k->file_rules[0]));
			k->nfile_rules--;
			return;
		}
}

int
kapad_config_merge(const struct kapad *k, struct kapa_policy_spec *def,
		   struct kapa_policy_rule *rules, char *err, size_t errlen)
{
	const struct kapad_config *c = &k->conf;
	uint32_t n = 0, i, j;

	*def = k->def;
	if (c->have_default) {
		*def = c->def;
	} else if (k->def_from_file) {
		/* [defaults] removed: the file's default goes with it. */
		memset(def, 0, sizeof(*def));
		def->mode = KAPA_MODE_OBSERVE;
	}
	/* The rules in force, less those the file gave and no longer has. */
	for (i = 0; i < k->nrules; i++) {
		if (from_file(k, k->rules[i].name)) {
			for (j = 0; j < c->nrules && strcmp(c->rules[j].name, k->rules[i].name) != 0; j++)
				;
			if (j == c->nrules)
				continue;
		}
		rules[n++] = k->rules[i];
	}
	/* The file's rules, each added or replacing the rule of its name. */
	for (i = 0; i < c->nrules; i++) {
		for (j = 0; j < n && strcmp(rules[j].name, c->rules[i].name) != 0; j++)
			;
		if (j == n && n == KAPA_MAX_RULES) {
			snprintf(err, errlen, "more than %u rules", KAPA_MAX_RULES);
			return -E2BIG;
		}
		rules[j] = c->rules[i];
		if (j == n)
			n++;
	}
	return (int)n;
}

int
kapad_apply_config(struct kapad *k, char *err, size_t errlen)
{
	const struct kapad_config *c = &k->conf;
	struct kapa_policy_rule *merged;
	struct kapa_policy_spec def;
	uint32_t i;
	int n, rc;

	/* Nothing published yet and a file without policy: kapa-dp's command
	 * line stays in force (rule precedence). */
	if (k->rules_gen == 0 && !c->have_default && c->nrules == 0)
		return 0;
	merged = malloc(KAPA_MAX_RULES * sizeof(*merged));
	if (merged == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	n = kapad_config_merge(k, &def, merged, err, errlen);
	rc = n < 0 ? n : kapad_set_rules(k, &def, merged, (uint32_t)n, err, errlen);
	free(merged);
	if (rc != 0)
		return rc;
	/* In force now: the file's rules are these, the default is its own
	 * when it has [defaults]. */
	for (i = 0; i < c->nrules; i++)
		memcpy(k->file_rules[i], c->rules[i].name, sizeof(k->file_rules[0]));
	k->nfile_rules = c->nrules;
	k->def_from_file = c->have_default;
	return 0;
}

/* A change published: answer now without a data plane, else once it is in
 * force (or the wait ends). */
static void
wait_applied(struct kapad *k, struct kapad_pending *p, json_t *result, uint64_t rules_gen,
	     uint64_t prog_gen)
{
	p->result = result;
	if (!kapa_dp_attached(&k->maps)) {
		json_object_set_new(result, "applied", json_false());
		json_object_set_new(result, "note", json_string("no data plane attached: it takes "
								"the change up when it starts"));
		return;
	}
	p->kind = KAPAD_WAIT_APPLIED;
	p->rules_gen = rules_gen;
	p->prog_gen = prog_gen;
	p->since_ns = kapa_now_ns();
	p->deadline_ns = p->since_ns + APPLY_WAIT_NS;
}

/* ---- the commands -------------------------------------------------------------------- */

typedef void (*cmd_fn)(struct kapad *k, json_t *args, struct outcome *o,
		       struct kapad_pending *p);

/* The published program's name: "built-in" when none is, or after an
 * unload (a generation without instructions). */
static const char *
program_name(const struct kapad *k)
{
	const struct kapa_prog_rec *r = k->maps.prog;

	return k->maps.ctl->prog_gen != 0 && r->n_ins != 0 ? r->name : "built-in";
}

static void
cmd_status(struct kapad *k, json_t *args, struct outcome *o, struct kapad_pending *p)
{
	const struct kapa_ctl *ctl = k->maps.ctl;
	uint64_t now = kapa_now_ns();
	json_t *dp = json_object();

	(void)args;
	(void)p;
	json_object_set_new(dp, "attached", json_boolean(kapa_dp_attached(&k->maps)));
	if (kapa_dp_attached(&k->maps)) {
		json_object_set_new(dp, "pid", json_integer(ctl->dp_pid));
		json_object_set_new(dp, "version", json_stringn(ctl->dp_version,
								strnlen(ctl->dp_version, sizeof(ctl->dp_version))));
		json_object_set_new(dp, "workers", json_integer(ctl->dp_workers));
		json_object_set_new(dp, "conns_per_worker", json_integer(ctl->dp_conns_per_worker));
		json_object_set_new(dp, "uptime_s", json_integer((json_int_t)(ctl->dp_started_ns != 0 && now > ctl->dp_started_ns ? (now - ctl->dp_started_ns) / 1000000000ull : 0)));
		json_object_set_new(dp, "heartbeat_age_ms", json_integer((json_int_t)((now - ctl->dp_heartbeat_ns) / NS_PER_MS)));
		json_object_set_new(dp, "rules_generation", json_integer((json_int_t)ctl->dp_rules_gen));
		json_object_set_new(dp, "program_generation", json_integer((json_int_t)ctl->dp_prog_gen));
	}
	o->result = json_pack("{s:s, s:I, s:s, s:s, s:I, s:I, s:s, s:o}",
			      "version", KAPA_VERSION,
			      "uptime_s", (json_int_t)((now - k->started_ns) / 1000000000ull),
			      "socket", k->conf.socket, "map_root", k->maps.root,
			      "rules_generation", (json_int_t)k->rules_gen,
			      "program_generation", (json_int_t)ctl->prog_gen,
			      "program_name", program_name(k),
			      "dataplane", dp);
}

static void
cmd_policy_list(struct kapad *k, json_t *args, struct outcome *o, struct kapad_pending *p)
{
	json_t *rules = json_array();
	uint32_t i;

	(void)args;
	(void)p;
	for (i = 0; i < k->nrules; i++)
		json_array_append_new(rules, rule_json(&k->rules[i]));
	o->result = json_pack("{s:I, s:o, s:o}", "generation", (json_int_t)k->rules_gen,
			      "default", spec_json(&k->def), "rules", rules);
}

static void
cmd_policy_show(struct kapad *k, json_t *args, struct outcome *o, struct kapad_pending *p)
{
	const char *name = arg_string(args, "name", o);
	int i;

	(void)p;
	if (name == NULL)
		return;
	i = rule_find(k, name);
	if (i < 0) {
		fail(o, ENOENT, "no rule '%s'", name);
		return;
	}
	o->result = rule_json(&k->rules[i]);
}

static void
cmd_policy_add(struct kapad *k, json_t *args, struct outcome *o, struct kapad_pending *p)
{
	const char *name = arg_string(args, "name", o), *match;
	struct kapa_policy_rule *r;
	char err[512];

	if (name == NULL || (match = arg_string(args, "match", o)) == NULL)
		return;
	if (*name == '\0' || strlen(name) >= KAPA_POLICY_NAME_MAX) {
		fail(o, EINVAL, "a rule's name is 1..%d characters", KAPA_POLICY_NAME_MAX - 1);
		return;
	}
	if (rule_find(k, name) >= 0) {
		fail(o, EEXIST, "rule '%s' exists (policy del it first)", name);
		return;
	}
	if (k->nrules == KAPA_MAX_RULES) {
		fail(o, E2BIG, "%u rules already (the most there may be)", KAPA_MAX_RULES);
		return;
	}
	r = &k->rules[k->nrules];
	memset(r, 0, sizeof(*r));
	if (kapa_policy_parse_match(match, r, err, sizeof(err)) != 0) {
		fail(o, EINVAL, "%s", err);
		return;
	}
	if (args_spec(args, &r->spec, o) != 0)
		return;
	snprintf(r->name, sizeof(r->name), "%s", name);
	if (kapad_set_rules(k, &k->def, k->rules, k->nrules + 1, err, sizeof(err)) != 0) {
		fail(o, EINVAL, "%s", err);
		return;
	}
	wait_applied(k, p, json_pack("{s:I}", "generation", (json_int_t)k->rules_gen),
		     k->rules_gen, 0);
}

static void
cmd_policy_del(struct kapad *k, json_t *args, struct outcome *o, struct kapad_pending *p)
{
	const char *name = arg_string(args, "name", o);
	struct kapa_policy_rule *rest;
	char err[512];
	int i, rc;

	if (name == NULL)
		return;
	i = rule_find(k, name);
	if (i < 0) {
		fail(o, ENOENT, "no rule '%s'", name);
		return;
	}
	/* The set without it, as a copy: kapad's stays as it was if the
	 * publication fails. */
	rest = malloc((k->nrules ? k->nrules : 1) * sizeof(*rest));
	if (rest == NULL) {
		fail(o, ENOMEM, "out of memory");
		return;
	}
	memcpy(rest, k->rules, (size_t)i * sizeof(*rest));
	memcpy(rest + i, k->rules + i + 1, (k->nrules - (uint32_t)i - 1) * sizeof(*rest));
	rc = kapad_set_rules(k, &k->def, rest, k->nrules - 1, err, sizeof(err));
	free(rest);
	if (rc != 0) {
		fail(o, EIO, "%s", err);
		return;
	}
	/* A rule of that name added later comes through the socket. */
	forget_file_rule(k, name);
	wait_applied(k, p, json_pack("{s:I}", "generation", (json_int_t)k->rules_gen),
		     k->rules_gen, 0);
}

/* policy.default: with no argument the default spec in force; with spec
 * keys, a new default (omitted keys 0 / observe, as everywhere a spec
 * appears), checked and published as policy.add's rules are. */
static void
cmd_policy_default(struct kapad *k, json_t *args, struct outcome *o, struct kapad_pending *p)
{
	struct kapa_policy_spec def;
	char err[512];
	int rc;

	if (json_object_size(args) == 0) {
		o->result = json_pack("{s:I, s:o}", "generation", (json_int_t)k->rules_gen,
				      "default", spec_json(&k->def));
		return;
	}
	memset(&def, 0, sizeof(def));
	if (args_spec(args, &def, o) != 0)
		return;
	rc = kapad_set_rules(k, &def, k->rules, k->nrules, err, sizeof(err));
	if (rc != 0) {
		fail(o, rc, "%s", err);
		return;
	}
	/* The socket's now: a reload keeps it unless the file has [defaults]. */
	k->def_from_file = 0;
	kapad_log(LOG_INFO, "default spec set through the socket (rule set %llu)",
		  (unsigned long long)k->rules_gen);
	wait_applied(k, p, json_pack("{s:I, s:o}", "generation", (json_int_t)k->rules_gen,
				     "default", spec_json(&k->def)), k->rules_gen, 0);
}

struct conn_idle {
	uint32_t i;
	uint64_t idle;
};

static int
by_idle_desc(const void *a, const void *b)
{
	const struct conn_idle *x = a, *y = b;

	return x->idle < y->idle ? 1 : x->idle > y->idle ? -1 : 0;
}

static void
cmd_conns(struct kapad *k, json_t *args, struct outcome *o, struct kapad_pending *p)
{
	const struct kapa_conn_rec *recs;
	uint64_t limit = CONNS_LIMIT_DEFAULT, idle_over = 0, now = kapa_now_ns();
	struct conn_idle *live;
	struct kapa_conn_rec r;
	uint32_t i, n = 0;
	json_t *list;

	(void)p;
	/* kapa-dp sizes kapa_conns to its table: a new one may have replaced
	 * the map kapad opened. */
	if (kapa_mapset_follow_conns(&k->maps) < 0)
		kapad_log(LOG_WARNING, "cannot follow the replaced kapa_conns under %s", k->maps.root);
	recs = k->maps.conns;
	if (arg_uint(args, "limit", CONNS_LIMIT_MAX, &limit, o) != 0 ||
	    arg_uint(args, "idle_over", UINT32_MAX, &idle_over, o) != 0)
		return;
	live = malloc((size_t)k->maps.max_conns * sizeof(*live));
	if (live == NULL) {
		fail(o, ENOMEM, "out of memory");
		return;
	}
	for (i = 0; i < k->maps.max_conns; i++) {
		if (recs[i].state == KAPA_REC_FREE || conn_read(&recs[i], &r) != 0 ||
		    r.state == KAPA_REC_FREE)
			continue;
		live[n].i = i;
		live[n].idle = now > r.last_seen_ns ? now - r.last_seen_ns : 0;
		if (live[n].idle >= idle_over * 1000000000ull)
			n++;
	}
	qsort(live, n, sizeof(*live), by_idle_desc);
	list = json_array();
	for (i = 0; i < n && i < limit; i++)
		if (conn_read(&recs[live[i].i], &r) == 0 && r.state != KAPA_REC_FREE)
			json_array_append_new(list, conn_json(&r, now));
	free(live);
	o->result = json_pack("{s:I, s:o}", "total", (json_int_t)n, "conns", list);
}

static void
cmd_conn_close(struct kapad *k, json_t *args, struct outcome *o, struct kapad_pending *p)
{
	const char *id = arg_string(args, "id", o);
	unsigned w, s, g;
	char end;

	if (id == NULL)
		return;
	if (sscanf(id, "%u/%u/%u%c", &w, &s, &g, &end) != 3) {
		fail(o, EINVAL, "a connection's id is WORKER/SLOT/GEN (kapactl conns), not '%s'", id);
		return;
	}
	if (!kapa_dp_attached(&k->maps)) {
		fail(o, ENOTCONN, "no data plane attached to the maps under %s", k->maps.root);
		return;
	}
	p->kind = KAPAD_WAIT_CMD_SLOT;
	p->worker = w;
	p->slot = s;
	p->gen = g;
	p->since_ns = kapa_now_ns();
	p->deadline_ns = p->since_ns + CLOSE_WAIT_NS;
}

json_t *
kapad_stats(struct kapad *k, int per_worker)
{
	const struct kapa_stats_rec *st = k->maps.stats;
	const struct kapa_hist_rec *h = k->maps.hist;
	uint16_t w, n = (uint16_t)k->maps.ctl->dp_workers;
	json_t *ctr = json_object(), *hist = json_object(), *result, *per;
	uint64_t now = kapa_now_ns(), b[3][KAPA_HIST_BUCKETS], sums[3] = { 0 };
	unsigned i, j;

	/* The workers the data plane has; without one, what the last left. */
	if (n == 0 || n > KAPA_MAX_WORKERS)
		n = 1;
	memset(b, 0, sizeof(b));
	for (i = 0; i < KAPA_COUNTER_COUNT; i++) {
		uint64_t v = 0;

		for (w = 0; w < n; w++)
			v += (&st[w].heartbeat_ns + 1)[i];
		json_object_set_new(ctr, kapa_counter_name(i), json_integer((json_int_t)v));
	}
	for (w = 0; w < n; w++) {
		for (j = 0; j < KAPA_HIST_BUCKETS; j++) {
			b[0][j] += h[w].requests[j];
			b[1][j] += h[w].idle_ms[j];
			b[2][j] += h[w].lifetime_ms[j];
		}
		sums[0] += h[w].requests_sum;
		sums[1] += h[w].idle_ms_sum;
		sums[2] += h[w].lifetime_ms_sum;
	}
	for (i = 0; i < 3; i++) {
		json_t *a = json_array();

		for (j = 0; j < KAPA_HIST_BUCKETS; j++)
			json_array_append_new(a, json_integer((json_int_t)b[i][j]));
		json_object_set_new(hist, kapa_hists[i].key, a);
	}
	result = json_pack("{s:o, s:o, s:{s:I, s:I, s:I}}", "counters", ctr, "histograms", hist,
			   "histogram_sums", kapa_hists[0].key, (json_int_t)sums[0],
			   kapa_hists[1].key, (json_int_t)sums[1], kapa_hists[2].key, (json_int_t)sums[2]);
	if (!per_worker)
		return result;
	per = json_array();
	for (w = 0; w < n; w++) {
		json_t *c = json_object();

		for (i = 0; i < KAPA_COUNTER_COUNT; i++)
			json_object_set_new(c, kapa_counter_name(i),
					    json_integer((json_int_t)(&st[w].heartbeat_ns + 1)[i]));
		json_array_append_new(per, json_pack("{s:i, s:I, s:o}", "worker", w,
			"heartbeat_age_ms", (json_int_t)(st[w].heartbeat_ns && now > st[w].heartbeat_ns ?
				(now - st[w].heartbeat_ns) / NS_PER_MS : 0), "counters", c));
	}
	json_object_set_new(result, "per_worker", per);
	return result;
}

static void
cmd_stats(struct kapad *k, json_t *args, struct outcome *o, struct kapad_pending *p)
{
	json_t *workers = json_object_get(args, "workers");

	(void)p;
	if (workers != NULL && !json_is_boolean(workers)) {
		fail(o, EINVAL, "argument 'workers': true or false");
		return;
	}
	o->result = kapad_stats(k, json_is_true(workers));
}

static int
hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void
cmd_program_load(struct kapad *k, json_t *args, struct outcome *o, struct kapad_pending *p)
{
	const char *name = arg_string(args, "name", o), *hex;
	struct kapa_prog *prog;
	uint8_t *ins;
	uint64_t gen;
	size_t len, i;
	char err[512];

	if (name == NULL || (hex = arg_string(args, "instructions", o)) == NULL)
		return;
	len = strlen(hex);
	if (len == 0 || len % (2 * KAPA_PROG_INS_SIZE) != 0 ||
	    len / (2 * KAPA_PROG_INS_SIZE) > KAPA_PROG_MAX_INS) {
		fail(o, EINVAL, "instructions: 1..%u of them, 16 hex digits each", KAPA_PROG_MAX_INS);
		return;
	}
	ins = malloc(len / 2);
	if (ins == NULL) {
		fail(o, ENOMEM, "out of memory");
		return;
	}
	for (i = 0; i < len / 2; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			fail(o, EINVAL, "instructions: not hex at character %zu", 2 * i);
			free(ins);
			return;
		}
		ins[i] = (uint8_t)(hi << 4 | lo);
	}
	/* Checked here as the data plane will load it: refused before it is
	 * published, so the running program stays. */
	prog = kapa_prog_load(ins, (uint32_t)(len / 2 / KAPA_PROG_INS_SIZE), err, sizeof(err));
	if (prog == NULL || kapa_prog_check(prog, err, sizeof(err)) != 0) {
		/* The reason (the verifier's own line, kapa_prog_load() catches it
		 * from DPDK's log) to the client and to kapad's log. */
		kapad_log(LOG_WARNING, "program '%s' refused: %s", name, err);
		fail(o, EINVAL, "program '%s' refused: %s", name, err);
		kapa_prog_free(prog);
		free(ins);
		return;
	}
	kapa_prog_free(prog);
	if (kapa_publish_prog(&k->maps, ins, (uint32_t)(len / 2 / KAPA_PROG_INS_SIZE), name, &gen,
			      err, sizeof(err)) != 0) {
		fail(o, EINVAL, "%s", err);
		free(ins);
		return;
	}
	free(ins);
	kapad_log(LOG_INFO, "program %llu (%s, %zu instructions) published", (unsigned long long)gen,
		  name, len / 2 / KAPA_PROG_INS_SIZE);
	wait_applied(k, p, json_pack("{s:I, s:I}", "generation", (json_int_t)gen,
				     "instructions", (json_int_t)(len / 2 / KAPA_PROG_INS_SIZE)), 0, gen);
}

static void
cmd_program_unload(struct kapad *k, json_t *args, struct outcome *o, struct kapad_pending *p)
{
	uint64_t gen;
	char err[256];

	(void)args;
	if (kapa_publish_prog(&k->maps, NULL, 0, NULL, &gen, err, sizeof(err)) != 0) {
		fail(o, EIO, "%s", err);
		return;
	}
	kapad_log(LOG_INFO, "program unloaded: the built-in decision (generation %llu)",
		  (unsigned long long)gen);
	wait_applied(k, p, json_pack("{s:I}", "generation", (json_int_t)gen), 0, gen);
}

static void
cmd_program_show(struct kapad *k, json_t *args, struct outcome *o, struct kapad_pending *p)
{
	const struct kapa_ctl *ctl = k->maps.ctl;
	const struct kapa_prog_rec *r = k->maps.prog;

	(void)args;
	(void)p;
	o->result = json_pack("{s:I, s:s, s:I, s:I}", "generation", (json_int_t)ctl->prog_gen,
			      "name", program_name(k),
			      "instructions", (json_int_t)(ctl->prog_gen ? r->n_ins : 0),
			      "in_force", (json_int_t)ctl->dp_prog_gen);
	if (ctl->dp_prog_failed_gen != 0)
		json_object_set_new(o->result, "refused",
				    json_pack("{s:I, s:s}", "generation",
					      (json_int_t)ctl->dp_prog_failed_gen, "why",
					      ctl->dp_prog_msg));
}

static const struct {
	const char *name;
	cmd_fn fn;
	const char *const args[8];
} commands[] = {
	{ "status", cmd_status, { NULL } },
	{ "policy.list", cmd_policy_list, { NULL } },
	{ "policy.show", cmd_policy_show, { "name", NULL } },
	{ "policy.add", cmd_policy_add,
	  { "name", "match", "timeout", "max", "stall", "opaque_idle", "mode", NULL } },
	{ "policy.del", cmd_policy_del, { "name", NULL } },
	{ "policy.default", cmd_policy_default,
	  { "timeout", "max", "stall", "opaque_idle", "mode", NULL } },
	{ "conns", cmd_conns, { "idle_over", "limit", NULL } },
	{ "conn.close", cmd_conn_close, { "id", NULL } },
	{ "stats", cmd_stats, { "workers", NULL } },
	{ "program.load", cmd_program_load, { "name", "instructions", NULL } },
	{ "program.show", cmd_program_show, { NULL } },
	{ "program.unload", cmd_program_unload, { NULL } },
};

json_t *
kapad_request(struct kapad *k, const char *line, size_t len, struct kapad_pending *p)
{
	struct outcome o = { 0 };
	json_error_t jerr;
	json_t *req, *id, *args, *cmd, *resp;
	size_t i;

	memset(p, 0, sizeof(*p));
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL || !json_is_object(req)) {
		json_decref(req);
		return kapad_error(NULL, EINVAL, "not a JSON object: %s",
				   req == NULL ? jerr.text : "another JSON value");
	}
	id = json_object_get(req, "id");
	cmd = json_object_get(req, "cmd");
	args = json_object_get(req, "args");
	if (!json_is_string(cmd)) {
		resp = kapad_error(id, EINVAL, "'cmd' (a string) is required");
		goto out;
	}
	if (args != NULL && !json_is_object(args)) {
		resp = kapad_error(id, EINVAL, "'args' must be an object");
		goto out;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, json_string_value(cmd)) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		resp = kapad_error(id, EINVAL, "unknown command '%s'", json_string_value(cmd));
		goto out;
	}
	if (args == NULL) {
		/* No args: the same as {} (the object then belongs to req). */
		args = json_object();
		json_object_set_new(req, "args", args);
	}
	if (args_check(args, commands[i].args, &o) == 0)
		commands[i].fn(k, args, &o, p);
	if (o.err != 0) {
		json_decref(p->result);
		p->result = NULL;
		p->kind = KAPAD_WAIT_NONE;
		resp = kapad_error(id, o.err, "%s", o.msg);
	} else if (p->kind != KAPAD_WAIT_NONE) {
		p->id = id != NULL ? json_incref(id) : NULL;
		resp = NULL;
	} else {
		resp = ok(id, p->result != NULL ? p->result : o.result);
		p->result = NULL;
	}
out:
	json_decref(req);
	return resp;
}

json_t *
kapad_pending_poll(struct kapad *k, struct kapad_pending *p, uint64_t now_ns)
{
	char msg[512];
	json_t *resp = NULL;
	uint64_t applied = 0;
	int rc;

	switch (p->kind) {
	case KAPAD_WAIT_APPLIED:
		rc = kapa_applied_poll(&k->maps, p->rules_gen, p->prog_gen, &applied, msg,
				       sizeof(msg));
		if (rc == -EINPROGRESS && now_ns < p->deadline_ns)
			return NULL;
		if (rc == -EINVAL) {
			resp = kapad_error(p->id, EINVAL, "%s", msg);
			break;
		}
		json_object_set_new(p->result, "applied", json_boolean(rc == 0));
		if (rc == 0)
			json_object_set_new(p->result, "delay_ms",
					    json_real((double)((applied > p->since_ns ? applied : now_ns) -
							       p->since_ns) / 1e6));
		resp = ok(p->id, p->result);
		p->result = NULL;
		break;
	case KAPAD_WAIT_CMD_SLOT:
		if (k->cmd_busy) {
			if (now_ns < p->deadline_ns)
				return NULL;
			resp = kapad_error(p->id, ETIMEDOUT, "another close command held the data "
					   "plane too long");
			break;
		}
		p->cmd_seq = kapa_command_send(&k->maps, p->worker, p->slot, p->gen, msg, sizeof(msg));
		if (p->cmd_seq == 0) {
			resp = kapad_error(p->id, ENOTCONN, "%s", msg);
			break;
		}
		k->cmd_busy = 1;
		p->kind = KAPAD_WAIT_CLOSE;
		return NULL;
	case KAPAD_WAIT_CLOSE:
		rc = kapa_command_poll(&k->maps, p->cmd_seq, msg, sizeof(msg));
		if (rc == -EINPROGRESS && now_ns < p->deadline_ns)
			return NULL;
		k->cmd_busy = 0;
		if (rc == 0)
			resp = ok(p->id, json_pack("{s:s}", "message", msg));
		else if (rc == -EINPROGRESS)
			resp = kapad_error(p->id, ETIMEDOUT, "the data plane did not answer");
		else
			resp = kapad_error(p->id, rc, "%s", msg);
		break;
	default:
		return NULL;
	}
	kapad_pending_drop(k, p);
	return resp;
}

void
kapad_pending_drop(struct kapad *k, struct kapad_pending *p)
{
	/* A close command in the control record is answered by the data plane
	 * anyway; the slot frees once it is (or at the deadline). */
	if (p->kind == KAPAD_WAIT_CLOSE)
		k->cmd_busy = 0;
	json_decref(p->id);
	json_decref(p->result);
	memset(p, 0, sizeof(*p));
}
