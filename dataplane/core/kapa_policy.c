/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy rules: parsing, the rule set and its lookup, the built-in decision.
 *
 * Lookup. A set is sorted by (family, prefix length descending, prefix,
 * port), and for each family the distinct prefix lengths present are
 * listed longest first, each with its range of rules. A lookup masks the
 * address to each length in turn and binary-searches that range; the first
 * prefix found whose rules cover the port (its port, else its port-less
 * rule) wins. So the cost is one binary search per distinct length, however
 * many rules there are. rte_lpm would do the prefix part in one lookup, but
 * its IPv4 table alone is 64 MiB, per rule set, and a set is rebuilt on
 * every generation; the ports would still need a second step.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapa_policy.h"

/* One distinct prefix length of one family: rules [lo, hi) have it. */
struct pol_len {
	uint8_t family;
	uint8_t len;
	uint32_t lo, hi;
};

struct kapa_policy {
	struct kapa_policy_spec def;
	uint32_t generation;
	uint32_t n;
	uint32_t nlens;
	struct pol_len lens[33 + 129];
	struct kapa_policy_rule rules[];	/* n, sorted */
};

static const char *const mode_names[] = {
	[KAPA_MODE_OBSERVE] = "observe",
	[KAPA_MODE_ENFORCE] = "enforce",
	[KAPA_MODE_ADVERTISE] = "advertise",
};

const char *
kapa_policy_mode_name(unsigned mode)
{
	return mode < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[mode] : "?";
}

/* ---- parsing ------------------------------------------------------------- */

/* Whole decimal number in [0, max]. @return 0, or -EINVAL. */
static int
pol_parse_uint(const char *s, size_t n, uint32_t max, uint32_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 10)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x > max)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

static int
pol_key_is(const char *k, size_t kn, const char *lit)
{
	return strlen(lit) == kn && memcmp(k, lit, kn) == 0;
}

/* One "key=value" of a spec; @p seen accumulates the keys met. */
static int
pol_parse_pair(const char *spec, const char *k, size_t kn, const char *v, size_t vn,
	       struct kapa_policy_spec *out, unsigned *seen, char *err, size_t errlen)
{
	static const char *const keys[] = { "timeout", "max", "stall", "opaque_idle", "mode" };
	uint32_t *field[] = { &out->timeout_s, &out->max, &out->stall_s, &out->opaque_idle_s };
	const uint32_t lim[] = { KAPA_POLICY_MAX_SECONDS, UINT32_MAX - 1,
				 KAPA_POLICY_MAX_SECONDS, KAPA_POLICY_MAX_SECONDS };
	unsigned i, m;

	for (i = 0; i < 5; i++)
		if (pol_key_is(k, kn, keys[i]))
			break;
	if (i == 5) {
		snprintf(err, errlen, "policy '%s': unknown key '%.*s' (keys: timeout, max, "
			 "stall, opaque_idle, mode)", spec, (int)kn, k);
		return -EINVAL;
	}
	if (*seen & (1u << i)) {
		snprintf(err, errlen, "policy '%s': '%s' given twice", spec, keys[i]);
		return -EINVAL;
	}
	*seen |= 1u << i;
	if (i == 4) {
		for (m = 0; m < 3; m++)
			if (pol_key_is(v, vn, mode_names[m]))
				break;
		if (m == 3) {
			snprintf(err, errlen, "policy '%s': mode '%.*s': expected observe, "
				 "enforce or advertise", spec, (int)vn, v);
			return -EINVAL;
		}
		out->mode = (uint8_t)m;
		return 0;
	}
	if (pol_parse_uint(v, vn, lim[i], field[i]) != 0) {
		snprintf(err, errlen, "policy '%s': %s '%.*s': expected %s 0..%u (0 = no limit)",
			 spec, keys[i], (int)vn, v, i == 1 ? "requests" : "whole seconds",
			 lim[i]);
		return -EINVAL;
	}
	return 0;
}

int
kapa_policy_parse_spec(const char *s, struct kapa_policy_spec *spec, char *err, size_t errlen)
{
	const char *p = s, *end, *eq;
	unsigned seen = 0;
	size_t n;
	int rc;

	memset(spec, 0, sizeof(*spec));
	spec->mode = KAPA_MODE_OBSERVE;
	if (*s == '\0')
		return 0;
	for (;;) {
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		eq = memchr(p, '=', n);
		if (eq == NULL || eq == p) {
			snprintf(err, errlen, "policy '%s': '%.*s' is not key=value", s, (int)n, p);
			return -EINVAL;
		}
		rc = pol_parse_pair(s, p, (size_t)(eq - p), eq + 1, n - (size_t)(eq - p) - 1,
				    spec, &seen, err, errlen);
		if (rc != 0)
			return rc;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

/* Host bits of prefix @p a beyond @p len are zero? */
static int
pol_host_bits_zero(const uint8_t *a, uint8_t len, unsigned bytes)
{
	unsigned i;

	for (i = 0; i < bytes; i++) {
		unsigned first = i * 8;
		uint8_t keep = len >= first + 8 ? 0xff :
			       len <= first ? 0 : (uint8_t)(0xff << (8 - (len - first)));

		if (a[i] & (uint8_t)~keep)
			return 0;
	}
	return 1;
}

int
kapa_policy_parse_match(const char *s, struct kapa_policy_rule *r, char *err, size_t errlen)
{
	char addr[64];
	const char *a = s, *rest, *slash = NULL;
	size_t an;
	uint32_t len, port = 0, maxlen;

	memset(r->prefix, 0, sizeof(r->prefix));
	if (*s == '[') {
		rest = strchr(s, ']');
		if (rest == NULL)
			goto bad;
		a = s + 1;
		an = (size_t)(rest - a);
		rest++;
		if (*rest == ':') {
			if (pol_parse_uint(rest + 1, strlen(rest + 1), 65535, &port) != 0 ||
			    port == 0)
				goto bad_port;
		} else if (*rest != '\0') {
			goto bad;
		}
		r->family = 6;
	} else if (strchr(s, '.') != NULL) {
		rest = strchr(s, ':');
		an = rest != NULL ? (size_t)(rest - s) : strlen(s);
		if (rest != NULL &&
		    (pol_parse_uint(rest + 1, strlen(rest + 1), 65535, &port) != 0 || port == 0))
			goto bad_port;
		r->family = 4;
	} else {
		an = strlen(s);		/* IPv6 without brackets: no port */
		r->family = 6;
	}
	if (an == 0 || an >= sizeof(addr))
		goto bad;
	memcpy(addr, a, an);
	addr[an] = '\0';
	maxlen = r->family == 4 ? 32 : 128;
	len = maxlen;
	slash = strchr(addr, '/');
	if (slash != NULL) {
		if (pol_parse_uint(slash + 1, strlen(slash + 1), maxlen, &len) != 0) {
			snprintf(err, errlen, "rule '%s': prefix length '%s': expected 0..%u",
				 s, slash + 1, maxlen);
			return -EINVAL;
		}
		addr[slash - addr] = '\0';
	}
	if (inet_pton(r->family == 4 ? AF_INET : AF_INET6, addr, r->prefix) != 1)
		goto bad;
	r->prefix_len = (uint8_t)len;
	r->port = (uint16_t)port;
	if (!pol_host_bits_zero(r->prefix, r->prefix_len, r->family == 4 ? 4 : 16)) {
		snprintf(err, errlen, "rule '%s': address has bits set past /%u "
			 "(write the network's address)", s, len);
		return -EINVAL;
	}
	return 0;
bad_port:
	snprintf(err, errlen, "rule '%s': port: expected 1..65535", s);
	return -EINVAL;
bad:
	snprintf(err, errlen, "rule '%s': expected IPV4[/LEN][:PORT], [IPV6[/LEN]][:PORT] "
		 "or IPV6[/LEN] (e.g. 198.18.0.0/15:80, [2001:db8::/32]:443)", s);
	return -EINVAL;
}

void
kapa_policy_args_init(struct kapa_policy_args *a)
{
	memset(a, 0, sizeof(*a));
	a->def.mode = KAPA_MODE_OBSERVE;
}

int
kapa_policy_args_default(struct kapa_policy_args *a, const char *spec, char *err, size_t errlen)
{
	a->given = 1;
	return kapa_policy_parse_spec(spec, &a->def, err, errlen);
}

int
kapa_policy_args_rule(struct kapa_policy_args *a, const char *rule, char *err, size_t errlen)
{
	a->given = 1;
	if (a->nrules == KAPA_POLICY_MAX_RULES) {
		snprintf(err, errlen, "at most %u rules", KAPA_POLICY_MAX_RULES);
		return -E2BIG;
	}
	if (kapa_policy_parse_rule(rule, &a->rules[a->nrules], err, errlen) != 0)
		return -EINVAL;
	a->nrules++;
	return 0;
}

struct kapa_policy *
kapa_policy_args_create(const struct kapa_policy_args *a, char *err, size_t errlen)
{
	return kapa_policy_create(&a->def, a->rules, a->nrules, 0, err, errlen);
}

int
kapa_policy_parse_rule(const char *s, struct kapa_policy_rule *r, char *err, size_t errlen)
{
	const char *eq = strchr(s, '=');
	char match[KAPA_POLICY_NAME_MAX];
	size_t mn;

	memset(r, 0, sizeof(*r));
	if (eq == NULL) {
		snprintf(err, errlen, "rule '%s': expected PREFIX[:PORT]=SPEC", s);
		return -EINVAL;
	}
	mn = (size_t)(eq - s);
	if (mn == 0 || mn >= sizeof(match)) {
		snprintf(err, errlen, "rule '%s': the match must be 1..%d characters", s,
			 KAPA_POLICY_NAME_MAX - 1);
		return -EINVAL;
	}
	memcpy(match, s, mn);
	match[mn] = '\0';
	if (kapa_policy_parse_match(match, r, err, errlen) != 0)
		return -EINVAL;
	memcpy(r->name, match, mn + 1);
	return kapa_policy_parse_spec(eq + 1, &r->spec, err, errlen);
}

int
kapa_policy_format_spec(const struct kapa_policy_spec *spec, char *buf, size_t len)
{
	int n = snprintf(buf, len, "mode=%s", kapa_policy_mode_name(spec->mode));
	const uint32_t v[] = { spec->timeout_s, spec->max, spec->stall_s, spec->opaque_idle_s };
	static const char *const k[] = { "timeout", "max", "stall", "opaque_idle" };
	unsigned i;

	for (i = 0; i < 4; i++)
		if (v[i] != 0 && n >= 0 && (size_t)n < len)
			n += snprintf(buf + n, len - (size_t)n, ",%s=%u", k[i], v[i]);
	return n;
}

/* ---- the rule set ---------------------------------------------------------- */

static int
pol_bytes(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

/* Set order: family, longer prefixes first, prefix, port. */
static int
pol_cmp(const void *pa, const void *pb)
{
	const struct kapa_policy_rule *a = pa, *b = pb;
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->prefix_len != b->prefix_len)
		return a->prefix_len > b->prefix_len ? -1 : 1;
	c = memcmp(a->prefix, b->prefix, 16);
	if (c != 0)
		return c;
	return a->port < b->port ? -1 : a->port > b->port;
}

static int
pol_spec_ok(const struct kapa_policy_spec *sp)
{
	return sp->mode <= KAPA_MODE_ADVERTISE && sp->timeout_s <= KAPA_POLICY_MAX_SECONDS &&
	       sp->stall_s <= KAPA_POLICY_MAX_SECONDS &&
	       sp->opaque_idle_s <= KAPA_POLICY_MAX_SECONDS;
}

static int
pol_rule_ok(const struct kapa_policy_rule *r)
{
	return (r->family == 4 && r->prefix_len <= 32) ||
	       (r->family == 6 && r->prefix_len <= 128);
}

struct kapa_policy *
kapa_policy_create(const struct kapa_policy_spec *def, const struct kapa_policy_rule *rules,
		   uint32_t n, uint32_t generation, char *err, size_t errlen)
{
	struct kapa_policy *p;
	struct kapa_policy_rule *r;
	uint32_t i;

	if (n > KAPA_POLICY_MAX_RULES) {
		snprintf(err, errlen, "%u rules: at most %u", n, KAPA_POLICY_MAX_RULES);
		errno = E2BIG;
		return NULL;
	}
	if (!pol_spec_ok(def)) {
		snprintf(err, errlen, "default policy out of range");
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p) + (size_t)n * sizeof(p->rules[0]));
	if (p == NULL) {
		snprintf(err, errlen, "out of memory for %u rules", n);
		errno = ENOMEM;
		return NULL;
	}
	p->def = *def;
	p->generation = generation;
	p->n = n;
	if (n > 0)
		memcpy(p->rules, rules, (size_t)n * sizeof(p->rules[0]));
	for (i = 0; i < n; i++) {
		r = &p->rules[i];
		r->name[KAPA_POLICY_NAME_MAX - 1] = '\0';
		if (!pol_rule_ok(r) || !pol_spec_ok(&r->spec) ||
		    !pol_host_bits_zero(r->prefix, r->prefix_len, (unsigned)pol_bytes(r->family))) {
			snprintf(err, errlen, "rule '%s': match or limits out of range", r->name);
			goto inval;
		}
		if (r->family == 4)
			memset(r->prefix + 4, 0, 12);
	}
	if (n > 1)
		qsort(p->rules, n, sizeof(p->rules[0]), pol_cmp);
	for (i = 0; i < n; i++) {
		r = &p->rules[i];
		if (i > 0 && pol_cmp(&p->rules[i - 1], r) == 0) {
			snprintf(err, errlen, "rules '%s' and '%s' match the same servers",
				 p->rules[i - 1].name, r->name);
			goto inval;
		}
		if (p->nlens == 0 || p->lens[p->nlens - 1].family != r->family ||
		    p->lens[p->nlens - 1].len != r->prefix_len) {
			p->lens[p->nlens].family = r->family;
			p->lens[p->nlens].len = r->prefix_len;
			p->lens[p->nlens].lo = i;
			p->nlens++;
		}
		p->lens[p->nlens - 1].hi = i + 1;
	}
	return p;
inval:
	free(p);
	errno = EINVAL;
	return NULL;
}

void
kapa_policy_destroy(struct kapa_policy *p)
{
	free(p);
}

/* The first rule in [lo, hi) whose prefix is >= @p key (the set's order). */
static uint32_t
pol_lower_bound(const struct kapa_policy *p, uint32_t lo, uint32_t hi, const uint8_t *key)
{
	uint32_t mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (memcmp(p->rules[mid].prefix, key, 16) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
kapa_policy_match(const struct kapa_policy *p, uint8_t family, const uint8_t *addr,
		  uint16_t port)
{
	uint8_t key[16];
	uint32_t l, i, b, bytes = (uint32_t)pol_bytes(family);
	int any;

	for (l = 0; l < p->nlens; l++) {
		const struct pol_len *pl = &p->lens[l];

		if (pl->family != family)
			continue;
		memset(key, 0, sizeof(key));
		for (b = 0; b < bytes && b * 8 < pl->len; b++)
			key[b] = pl->len >= b * 8 + 8 ? addr[b] :
				 (uint8_t)(addr[b] & (0xff << (8 - (pl->len - b * 8))));
		any = -1;
		for (i = pol_lower_bound(p, pl->lo, pl->hi, key);
		     i < pl->hi && memcmp(p->rules[i].prefix, key, 16) == 0; i++) {
			if (p->rules[i].port == port)
				return (int)i;
			if (p->rules[i].port == 0)
				any = (int)i;
		}
		if (any >= 0)
			return any;
	}
	return -1;
}

const struct kapa_policy_rule *
kapa_policy_rule_at(const struct kapa_policy *p, uint32_t i)
{
	return i < p->n ? &p->rules[i] : NULL;
}

const struct kapa_policy_spec *
kapa_policy_spec_of(const struct kapa_policy *p, int i)
{
	return i >= 0 && (uint32_t)i < p->n ? &p->rules[i].spec : &p->def;
}

uint32_t
kapa_policy_count(const struct kapa_policy *p)
{
	return p->n;
}

int
kapa_policy_can_act(const struct kapa_policy *p)
{
	uint32_t i;

	if (p->def.mode != KAPA_MODE_OBSERVE)
		return 1;
	for (i = 0; i < p->n; i++)
		if (p->rules[i].spec.mode != KAPA_MODE_OBSERVE)
			return 1;
	return 0;
}

uint32_t
kapa_policy_generation(const struct kapa_policy *p)
{
	return p->generation;
}

/* ---- the decision ---------------------------------------------------------- */

void
kapa_policy_ctx_set_rule(struct kapa_policy_ctx *ctx, const struct kapa_policy_spec *spec,
			 uint32_t rule_id, uint32_t generation)
{
	ctx->rule_id = rule_id;
	ctx->rule_generation = generation;
	ctx->rule_timeout_s = spec->timeout_s;
	ctx->rule_max = spec->max;
	ctx->rule_stall_s = spec->stall_s;
	ctx->rule_opaque_idle_s = spec->opaque_idle_s;
	ctx->rule_mode = spec->mode;
	ctx->timeout_s = spec->timeout_s;
	ctx->max = spec->max;
	ctx->stall_s = spec->stall_s;
	ctx->opaque_idle_s = spec->opaque_idle_s;
	ctx->mode = spec->mode;
}

uint64_t
kapa_policy_default_prog(void *ctx)
{
	/* The results were prefilled with the rule's values: the default
	 * decision is the rule, as the operator wrote it. */
	(void)ctx;
	return 0;
}
