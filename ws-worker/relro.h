/*
 * relro.h: the worker's relocated read-only data made read-only.
 *
 * A position-independent executable keeps its tables of pointers (the
 * frame and settings tables, function pointers among them) in a segment
 * the start code must write once to relocate (PT_GNU_RELRO), then seal.
 * glibc's start seals it; musl 1.2.3's static-pie start (rcrt1.o) does
 * not, which left those pages writable for the life of the worker built
 * against musl (ws-worker/README.md, "Two builds"): a write bug could then
 * redirect a function pointer. main.c calls ws_relro_seal first thing;
 * with glibc it seals again what is already sealed.
 */
#ifndef PIPECHAT_WS_RELRO_H
#define PIPECHAT_WS_RELRO_H

/* mprotect(PROT_READ) over the main program's PT_GNU_RELRO pages. 0, or -1
 * with errno when mprotect failed (nothing to seal is 0). */
int ws_relro_seal(void);

#endif
