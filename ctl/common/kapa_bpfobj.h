/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The instructions of a policy program, read from the ELF object clang
 * wrote (`clang -O2 -target bpf -mcpu=v2 -c prog.bpf.c`): kapactl reads the
 * file it is given and sends the instructions, so kapad never opens a path a
 * client named, and kapa-dp gets them through the maps.
 */
#ifndef KAPA_BPFOBJ_H
#define KAPA_BPFOBJ_H

#include <stddef.h>
#include <stdint.h>

/**
 * Read the one function of @p section (KAPA_POLICY_SECTION for policy
 * programs) of the eBPF object at @p path.
 * @param ins  set to malloc'd instructions (8 bytes each), the caller frees
 * @param n    set to their number
 * @return 0, or -errno with @p err saying why: not an eBPF ELF object, no
 *         such section, more than one function in it, or relocations in it
 *         (the code refers to data or other functions, which a policy
 *         program may not).
 */
int kapa_bpfobj_read(const char *path, const char *section, void **ins, uint32_t *n,
		     char *err, size_t errlen);

#endif /* KAPA_BPFOBJ_H */
