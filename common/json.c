/*
 * json.c: parsing and field access on top of cJSON 1.7.15 (json.h).
 *
 * pc_json_parse pre-scans the raw bytes because cJSON hides what matters
 * (FACTS.md): it checks UTF-8, refuses raw control characters in strings and
 * stray ones outside (cJSON skips any byte <= 0x20 as white space), bounds
 * nesting, and rewrites each "\u0000" escape to "\u0001" in a private copy so
 * that the NUL cannot silently cut a string. The getters read numbers through
 * valuedouble, never the saturating valueint. Not a schema validator: which
 * fields a request needs is the handler's business.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "valid.h"

#define JSON_DEPTH_MAX 64

enum pc_err
pc_json_parse(const char *text, size_t len, cJSON **out)
{
	char *copy = NULL;
	cJSON *root = NULL;
	size_t i, depth = 0;
	int in_str = 0, esc = 0;
	unsigned char c;
	enum pc_err e = PC_ERR_BAD_JSON;

	if (text == NULL || len == 0 || len == SIZE_MAX)
		goto out;
	if (!pc_valid_utf8(text, len))
		goto out;
	if ((copy = malloc(len + 1)) == NULL) {
		e = PC_ERR_NOMEM;
		goto out;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (i = 0; i < len; i++) {
		c = (unsigned char)copy[i];
		if (in_str) {
			if (c < 0x20)
				goto out;
			if (esc) {
				esc = 0;
				if (c == 'u' && len - i > 4 &&
				    memcmp(copy + i + 1, "0000", 4) == 0)
					copy[i + 4] = '1';
			} else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		switch (c) {
		case '"':
			in_str = 1;
			break;
		case '[':
		case '{':
			if (++depth > JSON_DEPTH_MAX)
				goto out;
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			break;
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			break;
		default:
			if (c < 0x20)
				goto out;
			break;
		}
	}
	/* With require_null_terminated cJSON wants the NUL inside the length
	 * and only white space before it: trailing garbage fails. */
	root = cJSON_ParseWithLengthOpts(copy, len + 1, NULL, 1);
	if (root == NULL)
		goto out;
	*out = root;
	e = PC_OK;
out:
	free(copy);
	return e;
}

static enum pc_err
json_field(const cJSON *obj, const char *key, const cJSON **item)
{
	const cJSON *it;

	if (!cJSON_IsObject(obj) || key == NULL)
		return PC_ERR_INVALID;
	if ((it = cJSON_GetObjectItemCaseSensitive(obj, key)) == NULL)
		return PC_ERR_NOT_FOUND;
	*item = it;
	return PC_OK;
}

enum pc_err
pc_json_get_str(const cJSON *obj, const char *key, const char **out)
{
	const cJSON *it = NULL;
	enum pc_err e;

	if ((e = json_field(obj, key, &it)) != PC_OK)
		return e;
	if (!cJSON_IsString(it) || it->valuestring == NULL)
		return PC_ERR_INVALID;
	*out = it->valuestring;
	return PC_OK;
}

enum pc_err
pc_json_int_value(const cJSON *node, int64_t min, int64_t max, int64_t *out)
{
	double d;
	int64_t v;

	if (!cJSON_IsNumber(node))
		return PC_ERR_INVALID;
	d = node->valuedouble;
	/* Range in double first: casting a double outside int64 is undefined,
	 * and beyond 2^53 a double no longer says which integer was sent. */
	if (!isfinite(d) || d > (double)PC_JSON_INT_MAX ||
	    d < -(double)PC_JSON_INT_MAX)
		return PC_ERR_INVALID;
	v = (int64_t)d; /* in range, so defined; truncates a fraction */
	if ((double)v != d || v < min || v > max)
		return PC_ERR_INVALID;
	*out = v;
	return PC_OK;
}

enum pc_err
pc_json_get_int(const cJSON *obj, const char *key, int64_t min, int64_t max,
                int64_t *out)
{
	const cJSON *it = NULL;
	enum pc_err e;

	if ((e = json_field(obj, key, &it)) != PC_OK)
		return e;
	return pc_json_int_value(it, min, max, out);
}

enum pc_err
pc_json_get_bool(const cJSON *obj, const char *key, int *out)
{
	const cJSON *it = NULL;
	enum pc_err e;

	if ((e = json_field(obj, key, &it)) != PC_OK)
		return e;
	if (!cJSON_IsBool(it))
		return PC_ERR_INVALID;
	*out = cJSON_IsTrue(it) ? 1 : 0;
	return PC_OK;
}

char *
pc_json_print(const cJSON *node)
{
	if (node == NULL)
		return NULL;
	return cJSON_PrintUnformatted(node);
}

/*
 * cJSON prints numbers with "%1.15g" and accepts the result when it reads
 * back within an epsilon, so 2^53 - 1 would come out as 9.00719925474099e+15.
 * Up to 15 digits a number node is exact; beyond that the digits go in as a
 * raw node, which prints exactly (its type is then cJSON_Raw, not Number).
 */
int
pc_json_add_int(cJSON *obj, const char *key, int64_t v)
{
	char digits[24];

	if (v > -INT64_C(1000000000000000) && v < INT64_C(1000000000000000))
		return cJSON_AddNumberToObject(obj, key, (double)v) != NULL;
	snprintf(digits, sizeof(digits), "%lld", (long long)v);
	return cJSON_AddRawToObject(obj, key, digits) != NULL;
}
