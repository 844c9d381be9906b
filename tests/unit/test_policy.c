/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the policy module: the spec and match grammar and its error
 * messages, rule sets (duplicates, bounds), the most-specific-match rule
 * against a brute-force reference over random rule sets, and the built-in
 * decision.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "kapa_policy.h"
#include "unit.h"

static char err[256];

static void
test_spec_parse(void)
{
	struct kapa_policy_spec sp;
	char buf[128];

	CU_ASSERT_EQUAL(kapa_policy_parse_spec("", &sp, err, sizeof(err)), 0);
	CU_ASSERT(sp.mode == KAPA_MODE_OBSERVE && sp.timeout_s == 0 && sp.max == 0);
	CU_ASSERT_EQUAL(kapa_policy_parse_spec("timeout=60,max=100,stall=30,opaque_idle=600,"
					       "mode=advertise", &sp, err, sizeof(err)), 0);
	CU_ASSERT(sp.timeout_s == 60 && sp.max == 100 && sp.stall_s == 30 &&
		  sp.opaque_idle_s == 600 && sp.mode == KAPA_MODE_ADVERTISE);
	kapa_policy_format_spec(&sp, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "mode=advertise,timeout=60,max=100,stall=30,opaque_idle=600");
	CU_ASSERT_EQUAL(kapa_policy_parse_spec("mode=enforce", &sp, err, sizeof(err)), 0);
	kapa_policy_format_spec(&sp, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "mode=enforce");
	CU_ASSERT_EQUAL(kapa_policy_parse_spec("max=0,timeout=1728000", &sp, err, sizeof(err)), 0);

	/* Each refusal names what was wrong and the value. */
	CU_ASSERT_EQUAL(kapa_policy_parse_spec("timout=5", &sp, err, sizeof(err)), -EINVAL);
	CU_ASSERT(strstr(err, "unknown key 'timout'") != NULL);
	CU_ASSERT_EQUAL(kapa_policy_parse_spec("timeout=5,timeout=6", &sp, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT(strstr(err, "twice") != NULL);
	CU_ASSERT_EQUAL(kapa_policy_parse_spec("timeout=abc", &sp, err, sizeof(err)), -EINVAL);
	CU_ASSERT(strstr(err, "'abc'") != NULL && strstr(err, "seconds") != NULL);
	CU_ASSERT_EQUAL(kapa_policy_parse_spec("timeout=1728001", &sp, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(kapa_policy_parse_spec("timeout=-1", &sp, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(kapa_policy_parse_spec("timeout=", &sp, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(kapa_policy_parse_spec("max=99999999999", &sp, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(kapa_policy_parse_spec("mode=drop", &sp, err, sizeof(err)), -EINVAL);
	CU_ASSERT(strstr(err, "mode 'drop'") != NULL);
	CU_ASSERT_EQUAL(kapa_policy_parse_spec("timeout", &sp, err, sizeof(err)), -EINVAL);
	CU_ASSERT(strstr(err, "not key=value") != NULL);
	CU_ASSERT_EQUAL(kapa_policy_parse_spec("timeout=5,", &sp, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(kapa_policy_parse_spec("=5", &sp, err, sizeof(err)), -EINVAL);
}

static void
test_match_parse(void)
{
	struct kapa_policy_rule r;
	uint8_t a[16];

	CU_ASSERT_EQUAL(kapa_policy_parse_match("198.18.0.0/15:80", &r, err, sizeof(err)), 0);
	CU_ASSERT(r.family == 4 && r.prefix_len == 15 && r.port == 80);
	inet_pton(AF_INET, "198.18.0.0", a);
	CU_ASSERT_EQUAL(memcmp(r.prefix, a, 4), 0);
	CU_ASSERT_EQUAL(kapa_policy_parse_match("198.18.0.2", &r, err, sizeof(err)), 0);
	CU_ASSERT(r.family == 4 && r.prefix_len == 32 && r.port == 0);
	CU_ASSERT_EQUAL(kapa_policy_parse_match("0.0.0.0/0", &r, err, sizeof(err)), 0);
	CU_ASSERT(r.prefix_len == 0);
	CU_ASSERT_EQUAL(kapa_policy_parse_match("[2001:db8::/32]:443", &r, err, sizeof(err)), 0);
	CU_ASSERT(r.family == 6 && r.prefix_len == 32 && r.port == 443);
	CU_ASSERT_EQUAL(kapa_policy_parse_match("2001:db8::/32", &r, err, sizeof(err)), 0);
	CU_ASSERT(r.family == 6 && r.prefix_len == 32 && r.port == 0);
	CU_ASSERT_EQUAL(kapa_policy_parse_match("[::1]", &r, err, sizeof(err)), 0);
	CU_ASSERT(r.family == 6 && r.prefix_len == 128);

	CU_ASSERT_EQUAL(kapa_policy_parse_match("10.1.2.3/8", &r, err, sizeof(err)), -EINVAL);
	CU_ASSERT(strstr(err, "past /8") != NULL);
	CU_ASSERT_EQUAL(kapa_policy_parse_match("10.0.0.0/33", &r, err, sizeof(err)), -EINVAL);
	CU_ASSERT(strstr(err, "0..32") != NULL);
	CU_ASSERT_EQUAL(kapa_policy_parse_match("10.0.0.0/8:0", &r, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(kapa_policy_parse_match("10.0.0.0/8:65536", &r, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT(strstr(err, "port") != NULL);
	CU_ASSERT_EQUAL(kapa_policy_parse_match("10.0.0/8", &r, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(kapa_policy_parse_match("[2001:db8::/32", &r, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(kapa_policy_parse_match("[2001:db8::]x", &r, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(kapa_policy_parse_match("example.com", &r, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(kapa_policy_parse_match("", &r, err, sizeof(err)), -EINVAL);
}

static void
test_rule_parse(void)
{
	struct kapa_policy_rule r;

	CU_ASSERT_EQUAL(kapa_policy_parse_rule("198.18.0.0/15:80=timeout=5,mode=enforce", &r,
					       err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(r.name, "198.18.0.0/15:80");
	CU_ASSERT(r.spec.timeout_s == 5 && r.spec.mode == KAPA_MODE_ENFORCE && r.port == 80);
	CU_ASSERT_EQUAL(kapa_policy_parse_rule("[2001:db8::/32]:443=mode=observe", &r, err,
					       sizeof(err)), 0);
	CU_ASSERT_EQUAL(kapa_policy_parse_rule("198.18.0.0/15", &r, err, sizeof(err)), -EINVAL);
	CU_ASSERT(strstr(err, "PREFIX[:PORT]=SPEC") != NULL);
	CU_ASSERT_EQUAL(kapa_policy_parse_rule("=timeout=5", &r, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(kapa_policy_parse_rule("10.0.0.0/8=timeout=x", &r, err, sizeof(err)),
			-EINVAL);
}

static struct kapa_policy *
set_of(const char *const *rules, uint32_t n, const char *def)
{
	struct kapa_policy_rule r[16];
	struct kapa_policy_spec d;
	uint32_t i;

	CU_ASSERT_FATAL(n <= 16);
	for (i = 0; i < n; i++)
		CU_ASSERT_FATAL(kapa_policy_parse_rule(rules[i], &r[i], err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(kapa_policy_parse_spec(def, &d, err, sizeof(err)) == 0);
	return kapa_policy_create(&d, r, n, 7, err, sizeof(err));
}

/* The name of the rule that matches addr:port, or "default". */
static const char *
who(const struct kapa_policy *p, const char *addr, uint16_t port)
{
	uint8_t a[16] = {0};
	uint8_t fam = strchr(addr, ':') != NULL ? 6 : 4;
	int i;

	CU_ASSERT_FATAL(inet_pton(fam == 4 ? AF_INET : AF_INET6, addr, a) == 1);
	i = kapa_policy_match(p, fam, a, port);
	return i < 0 ? "default" : kapa_policy_rule_at(p, (uint32_t)i)->name;
}

static void
test_most_specific(void)
{
	static const char *const rules[] = {
		"10.0.0.0/8=timeout=1",
		"10.0.0.0/8:80=timeout=2",
		"10.1.0.0/16:443=timeout=3",
		"10.1.2.0/24=timeout=4",
		"10.1.2.0/24:8080=timeout=5",
		"0.0.0.0/0:22=timeout=6",
		"[2001:db8::/32]=timeout=7",
		"[2001:db8:1::/48]:80=timeout=8",
	};
	struct kapa_policy *p = set_of(rules, 8, "timeout=99");

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(kapa_policy_count(p), 8);
	CU_ASSERT_EQUAL(kapa_policy_generation(p), 7);
	/* longest prefix first; then a port over none */
	CU_ASSERT_STRING_EQUAL(who(p, "10.1.2.3", 8080), "10.1.2.0/24:8080");
	CU_ASSERT_STRING_EQUAL(who(p, "10.1.2.3", 80), "10.1.2.0/24");
	CU_ASSERT_STRING_EQUAL(who(p, "10.1.3.3", 443), "10.1.0.0/16:443");
	/* a /16 that does not cover the port falls back to a shorter prefix */
	CU_ASSERT_STRING_EQUAL(who(p, "10.1.3.3", 80), "10.0.0.0/8:80");
	CU_ASSERT_STRING_EQUAL(who(p, "10.1.3.3", 81), "10.0.0.0/8");
	CU_ASSERT_STRING_EQUAL(who(p, "10.200.0.1", 80), "10.0.0.0/8:80");
	CU_ASSERT_STRING_EQUAL(who(p, "11.0.0.1", 22), "0.0.0.0/0:22");
	CU_ASSERT_STRING_EQUAL(who(p, "11.0.0.1", 80), "default");
	/* families apart */
	CU_ASSERT_STRING_EQUAL(who(p, "2001:db8:1::5", 80), "[2001:db8:1::/48]:80");
	CU_ASSERT_STRING_EQUAL(who(p, "2001:db8:1::5", 81), "[2001:db8::/32]");
	CU_ASSERT_STRING_EQUAL(who(p, "2001:db9::5", 22), "default");
	CU_ASSERT_EQUAL(kapa_policy_spec_of(p, -1)->timeout_s, 99);
	kapa_policy_destroy(p);
}

static void
test_set_refusals(void)
{
	static const char *const dup[] = {
		"10.0.0.0/8:80=timeout=1", "10.0.0.0/8=timeout=2", "10.0.0.0/8:80=max=5",
	};
	struct kapa_policy_spec d = { .mode = KAPA_MODE_OBSERVE };
	struct kapa_policy_rule *many;
	struct kapa_policy *p;

	p = set_of(dup, 3, "");
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT(strstr(err, "'10.0.0.0/8:80' and '10.0.0.0/8:80'") != NULL);
	many = calloc(KAPA_POLICY_MAX_RULES + 1, sizeof(*many));
	CU_ASSERT_FATAL(many != NULL);
	for (uint32_t i = 0; i <= KAPA_POLICY_MAX_RULES; i++) {
		many[i].family = 4;
		many[i].prefix_len = 32;
		many[i].prefix[2] = (uint8_t)(i >> 8);
		many[i].prefix[3] = (uint8_t)i;
	}
	errno = 0;
	CU_ASSERT_PTR_NULL(kapa_policy_create(&d, many, KAPA_POLICY_MAX_RULES + 1, 1, err,
					      sizeof(err)));
	CU_ASSERT_EQUAL(errno, E2BIG);
	p = kapa_policy_create(&d, many, KAPA_POLICY_MAX_RULES, 1, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(p);
	kapa_policy_destroy(p);
	/* a rule whose host bits are set (built by hand) */
	many[1].prefix_len = 8;	/* 0.0.0.1/8 */
	CU_ASSERT_PTR_NULL(kapa_policy_create(&d, many, 2, 1, err, sizeof(err)));
	free(many);
	kapa_policy_destroy(NULL);
}

/* Brute force: the rule with the longest matching prefix, a port over none. */
static int
ref_match(const struct kapa_policy *p, uint8_t fam, const uint8_t *a, uint16_t port)
{
	int best = -1, best_len = -1, best_port = 0;
	uint32_t i, b;

	for (i = 0; i < kapa_policy_count(p); i++) {
		const struct kapa_policy_rule *r = kapa_policy_rule_at(p, i);
		int in = r->family == fam && (r->port == 0 || r->port == port);

		for (b = 0; in && b < r->prefix_len; b++)
			in = ((a[b / 8] ^ r->prefix[b / 8]) & (0x80 >> (b % 8))) == 0;
		if (!in)
			continue;
		if (r->prefix_len > best_len ||
		    (r->prefix_len == best_len && r->port != 0 && best_port == 0)) {
			best = (int)i;
			best_len = r->prefix_len;
			best_port = r->port;
		}
	}
	return best;
}

static void
test_random_sets(void)
{
	struct kapa_policy_spec d = { .mode = KAPA_MODE_OBSERVE };
	struct kapa_policy_rule r[200];
	uint64_t x = 0x243f6a8885a308d3ull;
	uint32_t set, i, n, bad = 0;
	struct kapa_policy *p;
	uint8_t a[16];

#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
	for (set = 0; set < 50; set++) {
		n = 0;
		while (n < 200) {
			struct kapa_policy_rule *q = &r[n];

			memset(q, 0, sizeof(*q));
			q->family = RND() % 4 == 0 ? 6 : 4;
			/* few distinct lengths and addresses: overlaps are many */
			q->prefix_len = (uint8_t)((RND() % 5) * (q->family == 4 ? 8 : 32) / 1);
			q->prefix[0] = (uint8_t)(10 + RND() % 2);
			q->prefix[1] = (uint8_t)(RND() % 3);
			q->prefix[2] = (uint8_t)(RND() % 3);
			q->prefix[3] = (uint8_t)(RND() % 3);
			for (i = 0; i < 16; i++)
				if (i * 8 >= q->prefix_len)
					q->prefix[i] = 0;
			if (q->family == 4)
				memset(q->prefix + 4, 0, 12);
			q->port = RND() % 3 == 0 ? 0 : (uint16_t)(80 + RND() % 3);
			snprintf(q->name, sizeof(q->name), "r%u", n);
			for (i = 0; i < n; i++)
				if (r[i].family == q->family && r[i].prefix_len == q->prefix_len &&
				    r[i].port == q->port && !memcmp(r[i].prefix, q->prefix, 16))
					break;
			if (i == n)
				n++;
			if (RND() % 50 == 0)
				break;
		}
		p = kapa_policy_create(&d, r, n, set, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		for (i = 0; i < 2000; i++) {
			uint8_t fam = RND() % 4 == 0 ? 6 : 4;
			uint16_t port = (uint16_t)(79 + RND() % 5);

			memset(a, 0, sizeof(a));
			a[0] = (uint8_t)(10 + RND() % 2);
			a[1] = (uint8_t)(RND() % 3);
			a[2] = (uint8_t)(RND() % 3);
			a[3] = (uint8_t)(RND() % 3);
			if (fam == 6)
				a[7] = (uint8_t)RND();
			if (kapa_policy_match(p, fam, a, port) != ref_match(p, fam, a, port))
				bad++;
		}
		kapa_policy_destroy(p);
	}
#undef RND
	CU_ASSERT_EQUAL(bad, 0);
}

static void
test_decision(void)
{
	struct kapa_policy_spec sp = { .timeout_s = 60, .max = 100, .stall_s = 30,
				       .opaque_idle_s = 600, .mode = KAPA_MODE_ADVERTISE };
	struct kapa_policy_ctx c;

	memset(&c, 0, sizeof(c));
	kapa_policy_ctx_set_rule(&c, &sp, 3, 9);
	CU_ASSERT(c.rule_id == 3 && c.rule_generation == 9 && c.rule_timeout_s == 60 &&
		  c.rule_max == 100 && c.rule_stall_s == 30 && c.rule_opaque_idle_s == 600 &&
		  c.rule_mode == KAPA_MODE_ADVERTISE);
	CU_ASSERT_EQUAL(kapa_policy_default_prog(&c), 0);
	CU_ASSERT(c.timeout_s == 60 && c.max == 100 && c.stall_s == 30 &&
		  c.opaque_idle_s == 600 && c.mode == KAPA_MODE_ADVERTISE);
	CU_ASSERT_STRING_EQUAL(kapa_policy_mode_name(KAPA_MODE_ENFORCE), "enforce");
	CU_ASSERT_STRING_EQUAL(kapa_policy_mode_name(9), "?");
}

/* --policy / --rule one option at a time, as kapa-dp and kapa-inspect read
 * them: the last --policy wins, rules accumulate, errors name the option's
 * text, a duplicate match is refused when the set is made. */
static void
test_args(void)
{
	static struct kapa_policy_args a;
	struct kapa_policy *p;
	uint8_t addr[16] = { 198, 18, 0, 2 };
	uint32_t i;

	kapa_policy_args_init(&a);
	CU_ASSERT_EQUAL(a.given, 0);
	CU_ASSERT_EQUAL(a.def.mode, KAPA_MODE_OBSERVE);
	CU_ASSERT_EQUAL(kapa_policy_args_default(&a, "timeout=5", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(kapa_policy_args_default(&a, "timeout=7,mode=enforce", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(kapa_policy_args_rule(&a, "198.18.0.0/15:80=max=3,mode=advertise",
					      err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(kapa_policy_args_rule(&a, "198.18.0.0/15:80", err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "198.18.0.0/15:80"));
	CU_ASSERT_EQUAL(a.given, 1);
	CU_ASSERT_EQUAL(a.nrules, 1);
	p = kapa_policy_args_create(&a, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(kapa_policy_spec_of(p, -1)->timeout_s, 7);
	CU_ASSERT_EQUAL(kapa_policy_match(p, 4, addr, 80), 0);
	CU_ASSERT_EQUAL(kapa_policy_match(p, 4, addr, 81), -1);
	kapa_policy_destroy(p);

	CU_ASSERT_EQUAL(kapa_policy_args_rule(&a, "198.18.0.0/15:80=max=4", err, sizeof(err)), 0);
	CU_ASSERT_PTR_NULL(kapa_policy_args_create(&a, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "198.18.0.0/15:80"));

	kapa_policy_args_init(&a);
	for (i = 0; i < KAPA_POLICY_MAX_RULES; i++) {
		char r[64];

		snprintf(r, sizeof(r), "10.%u.%u.0/24=max=1", i / 256, i % 256);
		CU_ASSERT_EQUAL_FATAL(kapa_policy_args_rule(&a, r, err, sizeof(err)), 0);
	}
	CU_ASSERT_EQUAL(kapa_policy_args_rule(&a, "10.255.255.0/24=max=1", err, sizeof(err)),
			-E2BIG);
}

int
kapa_unit_register(void)
{
	CU_pSuite s = CU_add_suite("policy", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "spec grammar and errors", test_spec_parse) == NULL ||
	    CU_add_test(s, "match grammar and errors", test_match_parse) == NULL ||
	    CU_add_test(s, "command-line rules", test_rule_parse) == NULL ||
	    CU_add_test(s, "most specific match wins", test_most_specific) == NULL ||
	    CU_add_test(s, "duplicates and bounds refused", test_set_refusals) == NULL ||
	    CU_add_test(s, "random rule sets against brute force", test_random_sets) == NULL ||
	    CU_add_test(s, "built-in decision", test_decision) == NULL ||
	    CU_add_test(s, "command-line options", test_args) == NULL)
		return -1;
	return 0;
}
