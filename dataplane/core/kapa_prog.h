/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Policy programs: eBPF bytecode computing a connection's effective limits
 * from a struct kapa_policy_ctx (ebpf/kapa_policy_ctx.h), loaded with DPDK's
 * rte_bpf from instructions in memory (they travel in the maps, never as a
 * file path) and run through its JIT. rte_bpf's verifier checks the code
 * (bounds of every context access, no loop at all: it refuses every
 * backward jump, no unknown instruction); kapa_prog_check() then runs it
 * over a fixed table of contexts, JIT against the interpreter, before
 * anything publishes it.
 *
 * rte_bpf needs no EAL. Instructions are 8 bytes each, as in an ELF
 * section of `clang -target bpf` (struct ebpf_insn of DPDK's bpf_def.h; not
 * named here so that this header can sit beside libpcap's struct bpf_insn).
 */
#ifndef KAPA_PROG_H
#define KAPA_PROG_H

#include <stddef.h>
#include <stdint.h>

#include "kapa_policy.h"

/* KAPA_PROG_MAX_INS (kapa_maps.h): most instructions of a program. */

/** Bytes of one instruction. */
#define KAPA_PROG_INS_SIZE 8

struct kapa_prog;

/**
 * Load a program: verified by rte_bpf, JIT-compiled.
 * @param ins  @p n instructions (KAPA_PROG_INS_SIZE bytes each)
 * @return the program, or NULL with @p err saying why (too long, rejected
 *         by the verifier, no JIT on this machine).
 */
struct kapa_prog *kapa_prog_load(const void *ins, uint32_t n, char *err, size_t errlen);

/** Free a program. NULL ok. */
void kapa_prog_free(struct kapa_prog *p);

/** @return the JIT-compiled function, for kapa_engine_set_prog(). */
kapa_policy_prog_fn kapa_prog_fn(const struct kapa_prog *p);

/** Run the program through rte_bpf's interpreter. */
uint64_t kapa_prog_interpret(const struct kapa_prog *p, void *ctx);

/** @return contexts in the sample table. */
uint32_t kapa_prog_samples(void);

/**
 * Sample context @p i (0 <= i < kapa_prog_samples()): every event, mode
 * and flag, limits from none to hours, tables from empty to full, results
 * prefilled with the rule's as the data plane does. Deterministic.
 */
void kapa_prog_sample(uint32_t i, struct kapa_policy_ctx *ctx);

/**
 * Run the program over every sample context, JIT and interpreter, before it
 * is published.
 * @return 0, or -EINVAL with @p err naming the sample and what was wrong:
 *         the two disagree, or a result is out of range (a mode that does
 *         not exist).
 */
int kapa_prog_check(const struct kapa_prog *p, char *err, size_t errlen);

#endif /* KAPA_PROG_H */
