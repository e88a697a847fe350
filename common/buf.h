/*
 * buf.h: a bounded, growable byte buffer.
 *
 * Every buffer fed by a peer has a maximum; appending past it fails with
 * PC_ERR_TOO_LARGE and leaves the buffer as it was. The data is always
 * NUL-terminated (the NUL is not counted in len), so text can be passed to
 * C string functions once it is known to hold no NUL byte.
 */
#ifndef PIPECHAT_BUF_H
#define PIPECHAT_BUF_H

#include <stddef.h>
#include "err.h"

struct pc_buf {
	char *data;  /* NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;  /* len never exceeds this */
};

/* A zeroed struct with max set is a valid empty buffer; so is this. A max of
 * 0 holds nothing: every non-empty append is PC_ERR_TOO_LARGE. */
void pc_buf_init(struct pc_buf *b, size_t max);
/* Appends n bytes. PC_ERR_TOO_LARGE past max, PC_ERR_NOMEM; b unchanged on error. */
enum pc_err pc_buf_append(struct pc_buf *b, const void *p, size_t n);
/* pc_buf_append of a C string; the same errors. */
enum pc_err pc_buf_puts(struct pc_buf *b, const char *s);
/* Appends formatted text; all or nothing, the same errors. */
enum pc_err pc_buf_printf(struct pc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Empties the buffer, keeping its memory. */
void pc_buf_reset(struct pc_buf *b);
/* Frees the memory; b may be zeroed. Wipes it first when wipe is non-zero. */
void pc_buf_free(struct pc_buf *b, int wipe);
/* Hands the data to the caller (free() it; NUL-terminated, *len bytes when len
 * is not NULL) and leaves b empty. An empty buffer gives a malloc'd "";
 * NULL only on ENOMEM. Growth never leaves a copy behind (old blocks are wiped),
 * so a buffer may hold a secret if it is freed with wipe set. */
char *pc_buf_take(struct pc_buf *b, size_t *len);

#endif
