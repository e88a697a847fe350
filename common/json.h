/*
 * json.h: cJSON helpers that catch what cJSON hides (FACTS.md).
 *
 * cJSON 1.7.15 silently cuts a string at "\u0000", accepts invalid UTF-8
 * inside strings, saturates and truncates numbers in valueint, and lets the
 * first of two duplicated keys win. pc_json_parse checks the raw text first:
 * it must be valid UTF-8 with no raw control character inside a string, else
 * PC_ERR_BAD_JSON. Every "\u0000" escape inside a string is turned into
 * "\u0001" before cJSON sees it, so the NUL becomes a control character that
 * every string validator refuses, instead of vanishing.
 * The getters tell a missing field from a wrongly typed one.
 */
#ifndef PIPECHAT_JSON_H
#define PIPECHAT_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "err.h"

/* The largest integer the getters accept: 2^53 - 1 (JavaScript's
 * Number.MAX_SAFE_INTEGER). */
#define PC_JSON_INT_MAX INT64_C(9007199254740991)

/* Parses len bytes of text (no NUL needed). On PC_OK *out is a new tree the
 * caller deletes with cJSON_Delete. PC_ERR_BAD_JSON for anything that is not
 * exactly one JSON value with only white space around it: invalid UTF-8
 * anywhere, a raw byte < 0x20 inside a string or (other than space, tab, CR,
 * LF) outside, nesting deeper than 64 arrays/objects, trailing garbage.
 * PC_ERR_NOMEM when the copy cannot be made (cJSON's own allocation failures
 * cannot be told apart and give PC_ERR_BAD_JSON). */
enum pc_err pc_json_parse(const char *text, size_t len, cJSON **out);

/* Field getters on an object. Return PC_OK and write *out; PC_ERR_NOT_FOUND
 * when the key is absent; PC_ERR_INVALID when the value has the wrong type or
 * range, or obj is not an object. A JSON null is a wrong type, not absence:
 * {"body":null} is PC_ERR_INVALID for pc_json_get_str (callers that allow
 * null test cJSON_IsNull themselves). Keys compare case-sensitively; with a
 * duplicated key the first wins (cJSON). Strings are borrowed from the tree;
 * they hold no NUL byte ("\u0000" arrives as U+0001, which the validators
 * of valid.h refuse). */
enum pc_err pc_json_get_str(const cJSON *obj, const char *key, const char **out);
/* A whole number in [min, max], checked through valuedouble (never valueint):
 * finite, no fraction (1.0 and 1e2 are whole; 3.7 is not; -0 is 0), and
 * within +-PC_JSON_INT_MAX, beyond which a double cannot tell neighbouring
 * integers apart (9007199254740993 parses as 2^53 and is refused). */
enum pc_err pc_json_get_int(const cJSON *obj, const char *key, int64_t min,
    int64_t max, int64_t *out);
enum pc_err pc_json_get_bool(const cJSON *obj, const char *key, int *out);
/* The same check for a number node itself. */
enum pc_err pc_json_int_value(const cJSON *node, int64_t min, int64_t max, int64_t *out);

/* Serialises without whitespace into a malloc'd string (free()); NULL on ENOMEM. */
char *pc_json_print(const cJSON *node);

/* Adds an int64 as a JSON number, printed exactly (whatever its size: beyond
 * 15 digits it becomes a cJSON_Raw node holding the digits, since cJSON would
 * print such a double rounded). Returns 0 on ENOMEM. */
int pc_json_add_int(cJSON *obj, const char *key, int64_t v);

#endif
