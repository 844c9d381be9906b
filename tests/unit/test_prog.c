/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy programs (dataplane/core/kapa_prog.c, ctl/common/kapa_bpfobj.c,
 * ebpf/policy_*.bpf.c): the shipped programs read from their objects, loaded
 * with rte_bpf, run JIT and interpreted over the sample table; the default
 * one equal to the built-in C decision, the adaptive one to its formula;
 * every kind of bad program refused, each with its reason. No EAL: rte_bpf
 * needs none. The objects' paths come from meson (KAPA_PROG_* variables).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <rte_log.h>

#include "kapa_bpfobj.h"
#include "kapa_prog.h"
#include "unit.h"

static char err[512];

/* Read and load the object named by environment variable @p var. */
static struct kapa_prog *
load_env(const char *var)
{
	const char *path = getenv(var);
	struct kapa_prog *p;
	uint32_t n;
	void *ins;

	if (path == NULL) {
		fprintf(stderr, "\ntest_prog: %s not set (run through meson test)\n", var);
		return NULL;
	}
	if (kapa_bpfobj_read(path, KAPA_POLICY_SECTION, &ins, &n, err, sizeof(err)) != 0) {
		fprintf(stderr, "\ntest_prog: %s\n", err);
		return NULL;
	}
	p = kapa_prog_load(ins, n, err, sizeof(err));
	free(ins);
	return p;
}

static void
test_default_is_the_builtin(void)
{
	struct kapa_policy_ctx c, builtin;
	struct kapa_prog *p = load_env("KAPA_PROG_DEFAULT");
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(kapa_prog_check(p, err, sizeof(err)), 0);
	for (i = 0; i < kapa_prog_samples(); i++) {
		kapa_prog_sample(i, &c);
		builtin = c;
		CU_ASSERT_EQUAL(kapa_prog_fn(p)(&c), kapa_policy_default_prog(&builtin));
		CU_ASSERT_EQUAL(memcmp(&c, &builtin, sizeof(c)), 0);
	}
	kapa_prog_free(p);
}

/* The adaptive program's formula (ebpf/policy_adaptive.bpf.c), in C. */
static uint32_t
adaptive(uint32_t rule_s, uint32_t now_s, uint32_t conns, uint32_t cap, uint8_t mode)
{
	uint32_t fill, t;

	if (cap == 0 || mode == KAPA_MODE_OBSERVE)
		return now_s;
	fill = (uint32_t)((uint64_t)conns * 100 / cap);
	if (fill < 50)
		return now_s;
	if (fill > 100)
		fill = 100;
	t = (rule_s ? rule_s : 120) * (100 - fill) / 50;
	if (t < 1)
		t = 1;
	return now_s == 0 || t < now_s ? t : now_s;
}

static void
test_adaptive(void)
{
	static const struct {
		uint32_t rule, conns, cap;
		uint8_t mode;
		uint32_t want;
	} cases[] = {
		{ 60, 40, 100, KAPA_MODE_ENFORCE, 60 },		/* under half: the rule */
		{ 60, 50, 100, KAPA_MODE_ENFORCE, 60 },		/* at half: still the rule */
		{ 60, 75, 100, KAPA_MODE_ENFORCE, 30 },
		{ 60, 95, 100, KAPA_MODE_ENFORCE, 6 },
		{ 60, 100, 100, KAPA_MODE_ENFORCE, 1 },		/* full: at least 1 s */
		{ 0, 75, 100, KAPA_MODE_ADVERTISE, 60 },	/* no rule limit: 120 s base */
		{ 10, 75, 100, KAPA_MODE_ENFORCE, 5 },
		{ 60, 99, 100, KAPA_MODE_OBSERVE, 60 },		/* observe: untouched */
		{ 60, 5, 0, KAPA_MODE_ENFORCE, 60 },		/* no capacity known */
		{ 7200, 786432, 1048576, KAPA_MODE_ENFORCE, 7200 / 2 },
	};
	struct kapa_policy_ctx c;
	struct kapa_policy_spec spec = { 0 };
	struct kapa_prog *p = load_env("KAPA_PROG_ADAPTIVE");
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(kapa_prog_check(p, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kapa_prog_sample(i, &c);
		spec.timeout_s = cases[i].rule;
		spec.opaque_idle_s = cases[i].rule;
		spec.mode = cases[i].mode;
		kapa_policy_ctx_set_rule(&c, &spec, 0, 1);
		c.table_conns = cases[i].conns;
		c.table_capacity = cases[i].cap;
		CU_ASSERT_EQUAL(kapa_prog_fn(p)(&c), 0);
		CU_ASSERT_EQUAL(c.timeout_s, cases[i].want);
		CU_ASSERT_EQUAL(c.opaque_idle_s, cases[i].want);
	}
	/* Over the whole table, JIT against the formula. */
	for (i = 0; i < kapa_prog_samples(); i++) {
		uint32_t want_t, want_o;

		kapa_prog_sample(i, &c);
		want_t = adaptive(c.rule_timeout_s, c.timeout_s, c.table_conns, c.table_capacity,
				  c.mode);
		want_o = adaptive(c.rule_opaque_idle_s, c.opaque_idle_s, c.table_conns,
				  c.table_capacity, c.mode);
		kapa_prog_fn(p)(&c);
		CU_ASSERT_EQUAL(c.timeout_s, want_t);
		CU_ASSERT_EQUAL(c.opaque_idle_s, want_o);
		CU_ASSERT_EQUAL(c.max, c.rule_max);
	}
	kapa_prog_free(p);
}

/* The table covers what a program branches on. */
static void
test_sample_table(void)
{
	unsigned ev[KAPA_POLICY_EV_MAX] = { 0 }, mode[3] = { 0 }, full = 0, half = 0;
	struct kapa_policy_ctx c;
	uint32_t i;

	for (i = 0; i < kapa_prog_samples(); i++) {
		kapa_prog_sample(i, &c);
		CU_ASSERT_EQUAL(c.version, KAPA_POLICY_CTX_VERSION);
		CU_ASSERT_EQUAL(c.size, sizeof(c));
		CU_ASSERT(c.table_conns <= c.table_capacity);
		ev[c.event]++;
		mode[c.mode]++;
		full += c.table_capacity != 0 && c.table_conns == c.table_capacity;
		half += c.table_capacity >= 100 && c.table_conns * 2 >= c.table_capacity;
	}
	for (i = 0; i < KAPA_POLICY_EV_MAX; i++)
		CU_ASSERT(ev[i] > 100);
	for (i = 0; i < 3; i++)
		CU_ASSERT(mode[i] > 200);
	CU_ASSERT(full > 10);
	CU_ASSERT(half > 100);
}

static void
test_refusals(void)
{
	static const uint64_t exit0[2] = { 0x00000000000000b7ull, 0x0000000000000095ull };
	/* r0 = 0; ja +1 (to 3) or ja -3 (to -1); exit */
	static const uint64_t jump_end[3] = { 0xb7ull, 0x0000000000010005ull, 0x95ull };
	static const uint64_t jump_back[3] = { 0xb7ull, 0x00000000fffd0005ull, 0x95ull };
	/* r0 = 0; lddw r0, 0 (two slots, the second's code 0x95 as exit's) */
	static const uint64_t lddw_end[3] = { 0xb7ull, 0x18ull, 0x95ull };
	struct kapa_prog *p;
	FILE *log_before;
	uint32_t n;
	void *ins;

	/* The object reader. */
	CU_ASSERT_EQUAL(kapa_bpfobj_read("/nonexistent.bpf.o", KAPA_POLICY_SECTION, &ins, &n,
					 err, sizeof(err)), -ENOENT);
	CU_ASSERT(kapa_bpfobj_read("/etc/hostname", KAPA_POLICY_SECTION, &ins, &n, err,
				   sizeof(err)) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not an eBPF ELF object"));
	CU_ASSERT(kapa_bpfobj_read(getenv("KAPA_PROG_DEFAULT"), "other", &ins, &n, err,
				   sizeof(err)) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no section 'other'"));
	CU_ASSERT(kapa_bpfobj_read(getenv("KAPA_PROG_BAD_TWO"), KAPA_POLICY_SECTION, &ins, &n,
				   err, sizeof(err)) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "2 functions"));
	CU_ASSERT(kapa_bpfobj_read(getenv("KAPA_PROG_BAD_GLOBAL"), KAPA_POLICY_SECTION, &ins, &n,
				   err, sizeof(err)) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "relocations"));

	/* The loader. */
	CU_ASSERT_PTR_NULL(kapa_prog_load(exit0, 0, err, sizeof(err)));
	CU_ASSERT_PTR_NULL(kapa_prog_load(exit0, KAPA_PROG_MAX_INS + 1, err, sizeof(err)));
	p = kapa_prog_load(exit0, 2, err, sizeof(err));	/* r0 = 0; exit */
	CU_ASSERT_PTR_NOT_NULL(p);
	CU_ASSERT_EQUAL(kapa_prog_check(p, err, sizeof(err)), 0);
	kapa_prog_free(p);
	log_before = rte_log_get_stream();
	CU_ASSERT_PTR_NULL(kapa_prog_load(exit0 + 1, 1, err, sizeof(err)));	/* r0 unset */
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "verifier"));
	/* The verifier's own line, caught from DPDK's log, in the message; the
	 * log stream as it was. */
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "undefined return value at pc: 0"));
	CU_ASSERT_PTR_EQUAL(rte_log_get_stream(), log_before);
	/* What rte_bpf_load() would read past the program's end for: refused
	 * before it sees them. r0 = 0 and nothing after; a jump to the end and
	 * one before the start; a 64-bit load cut in half, and one whose second
	 * slot looks like an exit: nothing runs after either. */
	CU_ASSERT_PTR_NULL(kapa_prog_load(exit0, 1, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "runs on past the program's end"));
	CU_ASSERT_PTR_NULL(kapa_prog_load(jump_end, 3, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "instruction 1 jumps to 3, outside"));
	CU_ASSERT_PTR_NULL(kapa_prog_load(jump_back, 3, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "instruction 1 jumps to -1, outside"));
	CU_ASSERT_PTR_NULL(kapa_prog_load(lddw_end, 2, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "instruction 1 (a 64-bit load) runs on past"));
	CU_ASSERT_PTR_NULL(kapa_prog_load(lddw_end, 3, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "instruction 1 (a 64-bit load) runs on past"));
	CU_ASSERT_FATAL(kapa_bpfobj_read(getenv("KAPA_PROG_BAD_OOB"), KAPA_POLICY_SECTION, &ins, &n,
					 err, sizeof(err)) == 0);
	CU_ASSERT_PTR_NULL(kapa_prog_load(ins, n, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "verifier"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "memory boundary violation at pc: 1"));
	free(ins);

	/* The check before publishing. */
	CU_ASSERT_FATAL(kapa_bpfobj_read(getenv("KAPA_PROG_BAD_MODE"), KAPA_POLICY_SECTION, &ins,
					 &n, err, sizeof(err)) == 0);
	p = kapa_prog_load(ins, n, err, sizeof(err));
	free(ins);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(kapa_prog_check(p, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "mode 7"));
	kapa_prog_free(p);
}

int
kapa_unit_register(void)
{
	CU_pSuite s = CU_add_suite("policy programs", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "the sample table covers events, modes, fills", test_sample_table) == NULL ||
	    CU_add_test(s, "default program = built-in decision", test_default_is_the_builtin) == NULL ||
	    CU_add_test(s, "adaptive program", test_adaptive) == NULL ||
	    CU_add_test(s, "bad programs refused, with why", test_refusals) == NULL)
		return -1;
	return 0;
}
