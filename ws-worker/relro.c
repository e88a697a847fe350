/*
 * relro.c: seals the main program's PT_GNU_RELRO segment (relro.h).
 */
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "relro.h"

/* dl_iterate_phdr's first entry is the main program: its segment's
 * whole pages (as glibc's _dl_protect_relro: the start rounded down, the
 * end too; the linker ends the segment on a page boundary). */
static int
relro_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	int *rc = arg;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), start, end;
	size_t i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_GNU_RELRO)
			continue;
		start = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
		end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) &
		      ~(page - 1);
		if (end > start &&
		    mprotect((void *)start, end - start, PROT_READ) != 0)
			*rc = -1;
	}
	return 1; /* the main program only */
}

int
ws_relro_seal(void)
{
	int rc = 0;

	dl_iterate_phdr(relro_one, &rc);
	return rc;
}
