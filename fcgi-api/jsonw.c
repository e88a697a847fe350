/*
 * jsonw.c: the JSON text writer (jsonw.h). Strings are copied in runs
 * between the bytes that need escaping, so a plain message body costs one
 * scan and one append.
 */
#include <string.h>

#include "jsonw.h"

void
jsonw_init(struct jsonw *w, struct pc_buf *b)
{
	w->b = b;
	w->err = PC_OK;
}

static void
jsonw_put(struct jsonw *w, const char *s, size_t n)
{
	if (w->err == PC_OK && n > 0)
		w->err = pc_buf_append(w->b, s, n);
}

void
jsonw_raw(struct jsonw *w, const char *s)
{
	jsonw_put(w, s, strlen(s));
}

/* The escape of byte c, or NULL when it is copied as it is. esc holds
 * \u00xx for the control bytes without a short form. */
static const char *
jsonw_escape(unsigned char c, char esc[7])
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		break;
	}
	if (c >= 0x20)
		return NULL;
	memcpy(esc, "\\u00", 4);
	esc[4] = hex[c >> 4];
	esc[5] = hex[c & 0xf];
	esc[6] = '\0';
	return esc;
}

void
jsonw_str(struct jsonw *w, const char *s)
{
	const char *run = s, *e;
	char esc[7];

	jsonw_put(w, "\"", 1);
	for (; *s != '\0'; s++) {
		if ((e = jsonw_escape((unsigned char)*s, esc)) == NULL)
			continue;
		jsonw_put(w, run, (size_t)(s - run));
		jsonw_put(w, e, strlen(e));
		run = s + 1;
	}
	jsonw_put(w, run, (size_t)(s - run));
	jsonw_put(w, "\"", 1);
}

void
jsonw_int(struct jsonw *w, int64_t v)
{
	char digits[24], *p = digits + sizeof(digits);
	/* Through uint64_t, so INT64_MIN negates without overflow. */
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	jsonw_put(w, p, (size_t)(digits + sizeof(digits) - p));
}

void
jsonw_bool(struct jsonw *w, int v)
{
	jsonw_raw(w, v ? "true" : "false");
}

void
jsonw_fail(struct jsonw *w, enum pc_err e)
{
	if (w->err == PC_OK)
		w->err = e;
}

enum pc_err
jsonw_end(const struct jsonw *w)
{
	return w->err;
}
