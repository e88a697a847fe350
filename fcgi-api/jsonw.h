/*
 * jsonw.h: writes JSON text straight into a bounded buffer, for the answers
 * built row by row on the busiest routes (history, /api/me).
 *
 * Why not cJSON there: building a tree costs a malloc per node and cJSON
 * prints every number with sprintf("%1.15g") and reads it back with sscanf
 * to check it; on the history benchmark (50 messages, 9 fields each) that
 * was the API process's largest cost (fcgi-api/README.md, "Speed"). The
 * output is byte for byte what cJSON_PrintUnformatted gives for the same
 * values (the same escapes, integers in full), so clients cannot tell.
 * Not a parser, and not for answers built rarely: cJSON stays there.
 *
 * Errors are sticky, as with stdio's error flag: calls after a failure do
 * nothing, and jsonw_end reports the first failure, so a writer of many
 * fields checks once.
 */
#ifndef PIPECHAT_API_JSONW_H
#define PIPECHAT_API_JSONW_H

#include <stdint.h>

#include "buf.h"
#include "err.h"

struct jsonw {
	struct pc_buf *b; /* borrowed */
	enum pc_err err;  /* the first failure, PC_OK until then */
};

/* Starts writing at the end of b (borrowed; it must outlive w). */
void jsonw_init(struct jsonw *w, struct pc_buf *b);
/* Appends s as it is: punctuation and keys the caller spells out, e.g.
 * jsonw_raw(w, "{\"id\":"). s must be valid JSON text in context. */
void jsonw_raw(struct jsonw *w, const char *s);
/* Appends s (a NUL-terminated UTF-8 string) as a JSON string, quoted:
 * '"', '\\' and bytes below 0x20 escaped as cJSON does (\b \f \n \r \t,
 * else \u00xx); other bytes are copied, so s must be valid UTF-8 (the
 * database holds only that). */
void jsonw_str(struct jsonw *w, const char *s);
/* Appends v in decimal, exactly. */
void jsonw_int(struct jsonw *w, int64_t v);
/* Appends true or false. */
void jsonw_bool(struct jsonw *w, int v);
/* Records e as the writer's failure unless one is recorded already: for
 * the caller's own errors while writing (a value it cannot convert), so
 * jsonw_end still reports everything at once. */
void jsonw_fail(struct jsonw *w, enum pc_err e);
/* PC_OK, or the first failure: PC_ERR_TOO_LARGE past the buffer's maximum,
 * PC_ERR_NOMEM. */
enum pc_err jsonw_end(const struct jsonw *w);

#endif
