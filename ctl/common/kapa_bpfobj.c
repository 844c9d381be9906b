/* SPDX-License-Identifier: BSD-3-Clause */
/* A policy program's instructions from its ELF object, with libelf. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kapa_bpfobj.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

/* Functions defined in section @p shndx. @return their count, or -1. */
static int
count_functions(Elf *elf, size_t shndx)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int count = 0;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		Elf_Data *d;
		GElf_Sym sym;
		size_t i, n;

		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_SYMTAB || sh.sh_entsize == 0)
			continue;
		d = elf_getdata(scn, NULL);
		if (d == NULL)
			return -1;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++)
			if (gelf_getsym(d, (int)i, &sym) != NULL &&
			    GELF_ST_TYPE(sym.st_info) == STT_FUNC && sym.st_shndx == shndx)
				count++;
	}
	return count;
}

int
kapa_bpfobj_read(const char *path, const char *section, void **ins, uint32_t *n,
		 char *err, size_t errlen)
{
	char relname[256];
	Elf_Scn *scn = NULL, *found = NULL;
	GElf_Ehdr eh;
	GElf_Shdr sh;
	Elf_Data *d;
	size_t strndx;
	Elf *elf = NULL;
	int fd, rc = -EINVAL, funcs, rel = 0;

	*ins = NULL;
	*n = 0;
	snprintf(relname, sizeof(relname), ".rel%s", section);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (elf_version(EV_CURRENT) == EV_NONE || (elf = elf_begin(fd, ELF_C_READ, NULL)) == NULL ||
	    gelf_getehdr(elf, &eh) == NULL || eh.e_machine != EM_BPF ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || elf_getshdrstrndx(elf, &strndx) != 0) {
		snprintf(err, errlen, "%s: not an eBPF ELF object (build it with clang -O2 "
			 "-target bpf -mcpu=v2 -c)", path);
		goto out;
	}
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *name;

		if (gelf_getshdr(scn, &sh) == NULL)
			continue;
		name = elf_strptr(elf, strndx, sh.sh_name);
		if (name == NULL)
			continue;
		if (strcmp(name, relname) == 0)
			rel = 1;
		if (strcmp(name, section) == 0)
			found = scn;
	}
	if (found == NULL || gelf_getshdr(found, &sh) == NULL) {
		snprintf(err, errlen, "%s: no section '%s' (a policy program is one function "
			 "in it: KAPA_POLICY_PROG in ebpf/kapa_policy_ctx.h)", path, section);
		goto out;
	}
	funcs = count_functions(elf, elf_ndxscn(found));
	if (funcs != 1) {
		snprintf(err, errlen, "%s: section '%s' holds %d functions; a policy program is "
			 "exactly one (others inlined)", path, section, funcs);
		goto out;
	}
	if (rel) {
		snprintf(err, errlen, "%s: section %s has relocations: the program refers to "
			 "global or static data, which a policy program may not (constants as "
			 "macros)", path, section);
		goto out;
	}
	d = elf_getdata(found, NULL);
	if (d == NULL || d->d_size == 0 || d->d_size % 8 != 0) {
		snprintf(err, errlen, "%s: section '%s' is not whole eBPF instructions", path,
			 section);
		goto out;
	}
	*ins = malloc(d->d_size);
	if (*ins == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	memcpy(*ins, d->d_buf, d->d_size);
	*n = (uint32_t)(d->d_size / 8);
	rc = 0;
out:
	if (elf != NULL)
		elf_end(elf);
	close(fd);
	return rc;
}
