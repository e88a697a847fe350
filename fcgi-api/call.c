/*
 * call.c: input helpers for handlers (call.h). Each one names the field it
 * refuses, so a 422 always says which field was wrong (contract section 8).
 */
#include <string.h>

#include "call.h"
#include "json.h"
#include "session.h"

enum pc_err
call_fail(struct call *c, enum pc_err e, const char *field)
{
	c->err_field = field;
	return e;
}

enum pc_err
call_str(struct call *c, const char *key, int required, const char **out)
{
	const cJSON *node;
	const char *v = NULL;

	if (c->body == NULL)
		return call_fail(c, PC_ERR_INVALID, NULL);
	node = cJSON_GetObjectItemCaseSensitive(c->body, key);
	if (node == NULL || cJSON_IsNull(node)) {
		if (required)
			return call_fail(c, PC_ERR_INVALID, key);
		*out = NULL;
		return PC_OK;
	}
	if (pc_json_get_str(c->body, key, &v) != PC_OK || v == NULL)
		return call_fail(c, PC_ERR_INVALID, key);
	*out = v;
	return PC_OK;
}

enum pc_err
call_int(struct call *c, const char *key, int64_t min, int64_t max,
         int64_t *out)
{
	int64_t v;

	if (c->body == NULL)
		return call_fail(c, PC_ERR_INVALID, NULL);
	if (pc_json_get_int(c->body, key, min, max, &v) != PC_OK)
		return call_fail(c, PC_ERR_INVALID, key);
	*out = v;
	return PC_OK;
}

int
call_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	uint64_t v = 0, lim;
	int neg = 0;
	size_t i = 0;

	if (s == NULL)
		return 0;
	if (s[0] == '-' && min < 0) {
		neg = 1;
		i = 1;
	}
	if (s[i] == '\0' || (s[i] == '0' && s[i + 1] != '\0'))
		return 0;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (neg) {
		int64_t r =
		        v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;

		if (r < min || r > max)
			return 0;
		*out = r;
		return 1;
	}
	if ((int64_t)v < min || (int64_t)v > max)
		return 0;
	*out = (int64_t)v;
	return 1;
}

enum pc_err
call_path_id(struct call *c, const char *name, int64_t *out)
{
	const char *v = router_param(c->match, name);
	int64_t id;

	if (!call_parse_i64(v, 1, INT64_MAX, &id))
		return call_fail(c, PC_ERR_NOT_FOUND, NULL);
	*out = id;
	return PC_OK;
}

enum pc_err
call_query_int(struct call *c, const char *name, int64_t min, int64_t max,
               int64_t def, int64_t *out, int *present)
{
	char buf[32];
	enum pc_err rc;
	int64_t v;

	rc = req_query_get(c->req->query, name, buf, sizeof(buf));
	if (rc == PC_ERR_NOT_FOUND) {
		*out = def;
		if (present != NULL)
			*present = 0;
		return PC_OK;
	}
	if (rc != PC_OK || !call_parse_i64(buf, min, max, &v))
		return call_fail(c, PC_ERR_INVALID, name);
	*out = v;
	if (present != NULL)
		*present = 1;
	return PC_OK;
}

enum pc_err
call_confirm(struct call *c, const PGresult *res, int col)
{
	enum pc_err rc;

	/* Checked either way: a 401 here needs no second look in serve.c. */
	c->who_pending = 0;
	rc = session_confirm(c->db, res, col, &c->who);
	if (rc == PC_OK)
		c->authed = 1;
	return rc;
}
