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

/* Parses len bytes of text (no NUL needed). On PC_OK *out is a new tree the
 * caller deletes with cJSON_Delete. PC_ERR_BAD_JSON for anything that is not
 * exactly one JSON value, PC_ERR_NOMEM. */
enum pc_err pc_json_parse(const char *text, size_t len, cJSON **out);

/* Field getters on an object. Return PC_OK and write *out, PC_ERR_NOT_FOUND
 * when the key is absent (or null when null_is_absent is set), PC_ERR_INVALID
 * when it has the wrong type or range. Strings are borrowed from the tree. */
enum pc_err pc_json_get_str(const cJSON *obj, const char *key, const char **out);
/* A whole number in [min, max], checked through valuedouble (never valueint). */
enum pc_err pc_json_get_int(const cJSON *obj, const char *key, int64_t min,
    int64_t max, int64_t *out);
enum pc_err pc_json_get_bool(const cJSON *obj, const char *key, int *out);
/* The same check for a number node itself. */
enum pc_err pc_json_int_value(const cJSON *node, int64_t min, int64_t max, int64_t *out);

/* Serialises without whitespace into a malloc'd string (free()); NULL on ENOMEM. */
char *pc_json_print(const cJSON *node);

/* Adds an int64 as a JSON number (exact up to 2^53). Returns 0 on ENOMEM. */
int pc_json_add_int(cJSON *obj, const char *key, int64_t v);

#endif
