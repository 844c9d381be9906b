/* SPDX-License-Identifier: BSD-3-Clause */
/* Policy programs through rte_bpf. See kapa_prog.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bpf.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "kapa_prog.h"

_Static_assert(sizeof(struct ebpf_insn) == KAPA_PROG_INS_SIZE, "eBPF instructions are 8 bytes");

struct kapa_prog {
	struct rte_bpf *bpf;
	struct rte_bpf_jit jit;
};

/*
 * rte_bpf_load(), with what it logs caught in @p log (lines joined by "; ").
 * rte_bpf's verifier says why it refuses a program only through DPDK's log
 * ("evaluate: memory boundary violation at pc: 1"), which would reach the
 * process's stderr and nobody who asked. So the log stream is a memory
 * stream for this one call, then the one before again. DPDK's log stream is
 * the process's: a line another thread logs meanwhile lands here too (kapad
 * logs nothing through DPDK; kapa-dp's workers do not log on their path).
 */
static struct rte_bpf *
load_logged(const struct rte_bpf_prm *prm, char *log, size_t loglen)
{
	FILE *prev = rte_log_get_stream(), *mem;
	struct rte_bpf *bpf;
	size_t len = 0, i, o = 0;
	char *text = NULL;
	int e;

	log[0] = '\0';
	mem = open_memstream(&text, &len);
	if (mem == NULL)
		return rte_bpf_load(prm);
	rte_openlog_stream(mem);
	bpf = rte_bpf_load(prm);
	e = rte_errno;
	rte_openlog_stream(prev);
	fclose(mem);
	/* One line for an error message: newlines as "; ", none at the end. */
	for (i = 0; text != NULL && i < len && o + 3 < loglen; i++) {
		if (text[i] != '\n')
			log[o++] = text[i];
		else if (i + 1 < len)
			o += (size_t)snprintf(log + o, loglen - o, "; ");
	}
	if (o >= loglen)
		o = loglen - 1;
	log[o] = '\0';
	free(text);
	rte_errno = e;
	return bpf;
}

/*
 * What DPDK 22.11's verifier mishandles: building its control flow graph it
 * takes an edge to the place after the last instruction (a last instruction
 * that runs on, a jump to the end) as in bounds (add_edge() checks "> nb_ins"),
 * and its depth-first search then visits a node one past its node array,
 * reading and writing heap memory that is not its own. A long
 * fuzz_kapad_request run crashed rte_bpf_load() so on the one-instruction
 * program "r0 = 0". Such programs are refused here, before it sees them.
 * @return 0, or -1 with @p err filled.
 */
static int
check_flow_bounds(const struct ebpf_insn *ins, uint32_t n, char *err, size_t errlen)
{
	uint32_t i;
	int64_t to;

	for (i = 0; i < n; i++) {
		if (ins[i].code == (BPF_LD | BPF_IMM | EBPF_DW)) {
			/* two slots, and something after them */
			if (i + 2 >= n) {
				snprintf(err, errlen, "instruction %u (a 64-bit load) runs on past "
					 "the program's end", i);
				return -1;
			}
			i++;
			continue;
		}
		if (BPF_CLASS(ins[i].code) != BPF_JMP || BPF_OP(ins[i].code) == EBPF_EXIT ||
		    BPF_OP(ins[i].code) == EBPF_CALL)
			continue;
		to = (int64_t)i + 1 + ins[i].off;
		if (to < 0 || to >= (int64_t)n) {
			snprintf(err, errlen, "instruction %u jumps to %" PRId64 ", outside the "
				 "program's %u instructions", i, to, n);
			return -1;
		}
	}
	if (ins[n - 1].code != (BPF_JMP | EBPF_EXIT) && ins[n - 1].code != (BPF_JMP | BPF_JA)) {
		snprintf(err, errlen, "the last instruction (%u) runs on past the program's end: "
			 "it must be exit or a jump", n - 1);
		return -1;
	}
	return 0;
}

struct kapa_prog *
kapa_prog_load(const void *ins, uint32_t n, char *err, size_t errlen)
{
	struct rte_bpf_prm prm;
	struct kapa_prog *p;
	char log[256];

	if (n == 0 || n > KAPA_PROG_MAX_INS) {
		snprintf(err, errlen, "%u instructions (a policy program has 1 to %u)", n,
			 KAPA_PROG_MAX_INS);
		return NULL;
	}
	if (check_flow_bounds(ins, n, err, errlen) != 0)
		return NULL;
	memset(&prm, 0, sizeof(prm));
	prm.ins = ins;
	prm.nb_ins = n;
	prm.prog_arg.type = RTE_BPF_ARG_PTR;
	prm.prog_arg.size = sizeof(struct kapa_policy_ctx);
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->bpf = load_logged(&prm, log, sizeof(log));
	if (p->bpf == NULL) {
		/* The verifier's own words first, when it logged any. */
		snprintf(err, errlen, "rejected by rte_bpf's verifier (%s%s%s): a policy program "
			 "reads and writes only its context (%zu bytes), with no data section, "
			 "calls, maps or helpers", rte_strerror(rte_errno), log[0] ? ": " : "", log,
			 sizeof(struct kapa_policy_ctx));
		free(p);
		return NULL;
	}
	if (rte_bpf_get_jit(p->bpf, &p->jit) != 0 || p->jit.func == NULL) {
		snprintf(err, errlen, "rte_bpf has no JIT for this machine: policy programs run "
			 "JIT-compiled only");
		kapa_prog_free(p);
		return NULL;
	}
	return p;
}

void
kapa_prog_free(struct kapa_prog *p)
{
	if (p == NULL)
		return;
	rte_bpf_destroy(p->bpf);
	free(p);
}

kapa_policy_prog_fn
kapa_prog_fn(const struct kapa_prog *p)
{
	return p->jit.func;
}

uint64_t
kapa_prog_interpret(const struct kapa_prog *p, void *ctx)
{
	return rte_bpf_exec(p->bpf, ctx);
}

/* ---- the sample table -------------------------------------------------------------- */

#define SAMPLES 1024

uint32_t
kapa_prog_samples(void)
{
	return SAMPLES;
}

/* splitmix64: a fixed sequence, so that the table is the same everywhere. */
static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void
kapa_prog_sample(uint32_t i, struct kapa_policy_ctx *c)
{
	static const uint32_t secs[] = { 0, 1, 2, 5, 60, 75, 300, 7200 };
	static const uint32_t reqs[] = { 0, 1, 3, 100, 1000 };
	static const uint32_t kas[] = { KAPA_KA_UNSET, 0, 1, 5, 300 };
	static const uint32_t caps[] = { 0, 1, 1000, 65536, 1048576 };
	struct kapa_policy_spec spec;
	uint64_t r = mix(i), r2 = mix(i + SAMPLES);
	uint32_t cap;

	memset(c, 0, sizeof(*c));
	c->version = KAPA_POLICY_CTX_VERSION;
	c->size = sizeof(*c);
	/* The first samples walk every event and mode exactly. */
	c->event = (uint8_t)(i % KAPA_POLICY_EV_MAX);
	c->family = (r & 1) ? 6 : 4;
	c->flags = (uint8_t)((r >> 1) & 0x0f);
	c->http_minor = (r >> 5) & 1 ? 1 : (r >> 6) & 1 ? 0 : 0xff;
	c->client_addr[0] = 198, c->client_addr[1] = 18, c->client_addr[3] = (uint8_t)(r >> 8);
	c->server_addr[0] = 198, c->server_addr[1] = 19, c->server_addr[3] = (uint8_t)(r >> 16);
	c->client_port = (uint16_t)(1024 + (r >> 24) % 60000);
	c->server_port = (r >> 40) & 1 ? 80 : 443;
	c->client_conn = (uint8_t)((r >> 41) & 7);
	c->server_conn = (uint8_t)((r >> 44) & 7);
	c->client_ka_timeout = kas[(r >> 47) % 5];
	c->client_ka_max = kas[(r >> 50) % 5];
	c->server_ka_timeout = kas[(r >> 53) % 5];
	c->server_ka_max = kas[(r >> 56) % 5];
	c->requests = (uint32_t)(r2 % 2000);
	c->responses = c->requests - (c->requests != 0 && (r2 >> 11) & 1);
	cap = caps[(r2 >> 12) % 5];
	c->table_capacity = cap;
	/* from empty to full, the thresholds included */
	c->table_conns = (uint32_t)((uint64_t)cap * ((r2 >> 15) % 102) / 100);
	if (c->table_conns > cap)
		c->table_conns = cap;
	spec.mode = (uint8_t)((i / KAPA_POLICY_EV_MAX) % 3);
	spec.timeout_s = secs[(r2 >> 22) % 8];
	spec.stall_s = secs[(r2 >> 25) % 8];
	spec.opaque_idle_s = secs[(r2 >> 28) % 8];
	spec.max = reqs[(r2 >> 31) % 5];
	kapa_policy_ctx_set_rule(c, &spec, (r2 >> 34) & 1 ? KAPA_POLICY_NO_RULE : (uint32_t)(r2 >> 35) % 64,
				 (uint32_t)(r2 >> 41) % 5);
}

int
kapa_prog_check(const struct kapa_prog *p, char *err, size_t errlen)
{
	struct kapa_policy_ctx jit, interp;
	uint64_t rj, ri;
	uint32_t i;

	for (i = 0; i < SAMPLES; i++) {
		kapa_prog_sample(i, &jit);
		interp = jit;
		rj = p->jit.func(&jit);
		ri = rte_bpf_exec(p->bpf, &interp);
		if (rj != ri || memcmp(&jit, &interp, sizeof(jit)) != 0) {
			snprintf(err, errlen, "sample context %u: the JIT and the interpreter disagree "
				 "(returned %llu and %llu)", i, (unsigned long long)rj,
				 (unsigned long long)ri);
			return -EINVAL;
		}
		if (jit.mode > KAPA_MODE_ADVERTISE) {
			snprintf(err, errlen, "sample context %u: the program set mode %u (0 observe, "
				 "1 enforce, 2 advertise)", i, jit.mode);
			return -EINVAL;
		}
	}
	return 0;
}
