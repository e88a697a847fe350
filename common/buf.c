/*
 * buf.c: the bounded, growable byte buffer of buf.h.
 *
 * Growth doubles the capacity up to max + 1 (room for the NUL). A buffer may
 * hold a secret (a password, a token), so growth copies into a new block and
 * wipes the old one instead of calling realloc, which could leave a copy
 * behind. Not a string builder for unbounded input: every buffer has a max.
 * The wipe is glibc's explicit_bzero (never optimised away, like
 * sodium_memzero), so the worker, which links this file, needs no
 * libsodium: one shared library fewer to load per WebSocket.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define BUF_MIN_CAP 64

void
pc_buf_init(struct pc_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

/* Makes room for `need` bytes plus the NUL; need <= b->max is checked by the
 * caller. */
static enum pc_err
buf_reserve(struct pc_buf *b, size_t need)
{
	size_t cap, limit;
	char *p;

	if (b->data != NULL && need < b->cap)
		return PC_OK;
	limit = b->max == SIZE_MAX ? SIZE_MAX : b->max + 1;
	cap = b->cap > BUF_MIN_CAP ? b->cap : BUF_MIN_CAP;
	while (cap < need + 1) {
		if (cap > SIZE_MAX / 2) {
			cap = need + 1;
			break;
		}
		cap *= 2;
	}
	if (cap > limit)
		cap = limit;
	if (cap < need + 1)
		return PC_ERR_TOO_LARGE;
	if ((p = malloc(cap)) == NULL)
		return PC_ERR_NOMEM;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len + 1);
		explicit_bzero(b->data, b->cap);
		free(b->data);
	} else
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return PC_OK;
}

enum pc_err
pc_buf_append(struct pc_buf *b, const void *p, size_t n)
{
	enum pc_err e;

	if (n > b->max || b->len > b->max - n)
		return PC_ERR_TOO_LARGE;
	if ((e = buf_reserve(b, b->len + n)) != PC_OK)
		return e;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return PC_OK;
}

enum pc_err
pc_buf_puts(struct pc_buf *b, const char *s)
{
	return pc_buf_append(b, s, strlen(s));
}

enum pc_err
pc_buf_printf(struct pc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	enum pc_err e;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return PC_ERR_INTERNAL;
	if ((size_t)n > b->max || b->len > b->max - (size_t)n)
		return PC_ERR_TOO_LARGE;
	if ((e = buf_reserve(b, b->len + (size_t)n)) != PC_OK)
		return e;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return PC_OK;
}

void
pc_buf_reset(struct pc_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
pc_buf_free(struct pc_buf *b, int wipe)
{
	if (b == NULL)
		return;
	if (b->data != NULL && wipe)
		explicit_bzero(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* An empty buffer still gives a malloc'd "" so the caller always gets a
 * string; NULL only when that allocation fails. */
char *
pc_buf_take(struct pc_buf *b, size_t *len)
{
	char *p;

	if (b->data == NULL) {
		if ((p = calloc(1, 1)) == NULL)
			return NULL;
		if (len != NULL)
			*len = 0;
		return p;
	}
	p = b->data;
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}
