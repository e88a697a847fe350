/*
 * fuzz_json.c: pc_json_parse and the getters of common/json.h on arbitrary
 * bytes (every API body and every WebSocket frame goes through them).
 *
 * Besides memory safety it checks json.h's promises: only PC_OK,
 * PC_ERR_BAD_JSON or PC_ERR_NOMEM; invalid UTF-8 and stray control bytes are
 * refused; a parsed tree is at most 64 deep and holds only valid UTF-8
 * strings and keys; printing it and parsing the print gives the same print;
 * the number getters return whole numbers within the asked bounds that equal
 * the parsed double.
 */
#include <math.h>

#include "fuzz_util.h"
#include "json.h"
#include "valid.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

static const struct {
	int64_t min, max;
} fuzz_bounds[] = {
        {1, PC_JSON_INT_MAX},
        {0, PC_JSON_INT_MAX},
        {-PC_JSON_INT_MAX, PC_JSON_INT_MAX},
        {1, 200},
        {INT64_MIN, INT64_MAX}, /* wider than the getters can honour */
};

static void
fuzz_number(const cJSON *n)
{
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof(fuzz_bounds) / sizeof(fuzz_bounds[0]); i++) {
		if (pc_json_int_value(n, fuzz_bounds[i].min, fuzz_bounds[i].max,
		                      &v) != PC_OK)
			continue;
		FUZZ_CHECK(v >= fuzz_bounds[i].min && v <= fuzz_bounds[i].max);
		FUZZ_CHECK(v >= -PC_JSON_INT_MAX && v <= PC_JSON_INT_MAX);
		FUZZ_CHECK((double)v == n->valuedouble);
	}
}

/* The getters on an object, with the keys real callers use and the object's
 * own keys. */
static void
fuzz_getters(const cJSON *obj)
{
	static const char *const keys[] = {"type",  "room",     "body",
	                                   "since", "username", "password",
	                                   "",      "a"};
	const char *s;
	int64_t v;
	int b;
	size_t i;
	enum pc_err e;
	const cJSON *first = obj->child;

	for (i = 0; i <= sizeof(keys) / sizeof(keys[0]); i++) {
		const char *k =
		        i < sizeof(keys) / sizeof(keys[0])
		                ? keys[i]
		                : (first != NULL ? first->string : NULL);

		if (k == NULL)
			continue;
		e = pc_json_get_str(obj, k, &s);
		FUZZ_CHECK(e == PC_OK || e == PC_ERR_NOT_FOUND ||
		           e == PC_ERR_INVALID);
		if (e == PC_OK)
			FUZZ_CHECK(pc_valid_utf8(s, strlen(s)));
		e = pc_json_get_int(obj, k, 0, PC_JSON_INT_MAX, &v);
		FUZZ_CHECK(e == PC_OK || e == PC_ERR_NOT_FOUND ||
		           e == PC_ERR_INVALID);
		if (e == PC_OK)
			FUZZ_CHECK(v >= 0 && v <= PC_JSON_INT_MAX);
		e = pc_json_get_bool(obj, k, &b);
		FUZZ_CHECK(e == PC_OK || e == PC_ERR_NOT_FOUND ||
		           e == PC_ERR_INVALID);
		if (e == PC_OK)
			FUZZ_CHECK(b == 0 || b == 1);
	}
}

/* outer: how many arrays and objects enclose node. */
static void
fuzz_walk(const cJSON *node, int outer)
{
	const cJSON *c;
	int container = cJSON_IsArray(node) || cJSON_IsObject(node);

	FUZZ_CHECK(outer + container <= 64);
	if (node->string != NULL)
		FUZZ_CHECK(pc_valid_utf8(node->string, strlen(node->string)));
	if (cJSON_IsString(node)) {
		FUZZ_CHECK(node->valuestring != NULL);
		FUZZ_CHECK(pc_valid_utf8(node->valuestring,
		                         strlen(node->valuestring)));
	}
	if (cJSON_IsNumber(node))
		fuzz_number(node);
	if (cJSON_IsObject(node))
		fuzz_getters(node);
	else {
		/* The getters refuse anything but an object. */
		const char *s;

		FUZZ_CHECK(pc_json_get_str(node, "a", &s) == PC_ERR_INVALID);
	}
	for (c = node->child; c != NULL; c = c->next)
		fuzz_walk(c, outer + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *root = NULL, *again = NULL;
	char *p1 = NULL, *p2 = NULL;
	enum pc_err e;
	size_t i;

	e = pc_json_parse((const char *)data, size, &root);
	FUZZ_CHECK(e == PC_OK || e == PC_ERR_BAD_JSON || e == PC_ERR_NOMEM);
	if (e != PC_OK) {
		FUZZ_CHECK(root == NULL); /* out written only on success */
		return 0;
	}
	FUZZ_CHECK(root != NULL);
	FUZZ_CHECK(fuzz_utf8_ok(data, size, NULL));
	for (i = 0; i < size; i++)
		FUZZ_CHECK(data[i] >= 0x20 || data[i] == '\t' ||
		           data[i] == '\n' || data[i] == '\r');
	fuzz_walk(root, 0);

	/* print -> parse -> print is stable. */
	p1 = pc_json_print(root);
	FUZZ_CHECK(p1 != NULL);
	e = pc_json_parse(p1, strlen(p1), &again);
	FUZZ_CHECK(e == PC_OK);
	p2 = pc_json_print(again);
	FUZZ_CHECK(p2 != NULL);
	if (strcmp(p1, p2) != 0) {
		fprintf(stderr, "print 1: %s\nprint 2: %s\n", p1, p2);
		FUZZ_CHECK(!"print -> parse -> print changed the text");
	}
	free(p1);
	free(p2);
	cJSON_Delete(again);
	cJSON_Delete(root);
	return 0;
}
