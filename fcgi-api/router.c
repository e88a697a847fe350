/*
 * router.c: matches a request's method and decoded path segments against the
 * route table. Linear over the table: pipechat has a few dozen routes, and a
 * linear scan over static data is fast and obviously correct. Nothing here
 * allocates or logs.
 */
#include <string.h>

#include "router.h"

/* Next segment of a pattern: [*p, end) without the leading '/'. */
static int
router_next_seg(const char **p, const char **seg, size_t *len)
{
	const char *s = *p, *e;

	if (*s != '/')
		return 0;
	s++;
	e = strchr(s, '/');
	if (e == NULL)
		e = s + strlen(s);
	*seg = s;
	*len = (size_t)(e - s);
	*p = e;
	return 1;
}

/* Non-zero when the pattern matches the path; fills m's params. */
static int
router_path_matches(const char *pattern, const char *const *segs, size_t nsegs,
                    struct router_match *m)
{
	const char *p = pattern, *seg;
	size_t len, i = 0;

	m->nparams = 0;
	while (router_next_seg(&p, &seg, &len)) {
		if (i >= nsegs || segs[i][0] == '\0')
			return 0;
		if (seg[0] == ':') {
			if (m->nparams >= ROUTER_MAX_PARAMS)
				return 0;
			m->params[m->nparams].name = seg + 1;
			m->params[m->nparams].name_len = len - 1;
			m->params[m->nparams].value = segs[i];
			m->nparams++;
		} else if (strlen(segs[i]) != len ||
		           memcmp(segs[i], seg, len) != 0) {
			return 0;
		}
		i++;
	}
	return i == nsegs;
}

static void
router_allow_add(char *allow, size_t size, const char *method)
{
	size_t used;

	if (allow == NULL || size == 0)
		return;
	used = strlen(allow);
	/* The same method twice on one path is a table bug the test catches. */
	if (strstr(allow, method) != NULL)
		return;
	if (used + strlen(method) + 3 > size)
		return;
	if (used > 0) {
		memcpy(allow + used, ", ", 2);
		used += 2;
	}
	memcpy(allow + used, method, strlen(method) + 1);
}

enum pc_err
router_match(const struct route *rows, size_t nrows, const char *method,
             const char *const *segs, size_t nsegs, struct router_match *out,
             char *allow, size_t allow_size)
{
	struct router_match m;
	size_t i;
	int path_known = 0;

	if (allow != NULL && allow_size > 0)
		allow[0] = '\0';
	if (method == NULL || nsegs > ROUTER_MAX_SEGS)
		return PC_ERR_NOT_FOUND;
	for (i = 0; i < nrows; i++) {
		memset(&m, 0, sizeof(m));
		if (!router_path_matches(rows[i].pattern, segs, nsegs, &m))
			continue;
		if (strcmp(rows[i].method, method) == 0) {
			m.route = &rows[i];
			*out = m;
			return PC_OK;
		}
		path_known = 1;
		router_allow_add(allow, allow_size, rows[i].method);
	}
	return path_known ? PC_ERR_METHOD_NOT_ALLOWED : PC_ERR_NOT_FOUND;
}

const char *
router_param(const struct router_match *m, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < m->nparams; i++) {
		if (m->params[i].name_len == len &&
		    memcmp(m->params[i].name, name, len) == 0)
			return m->params[i].value;
	}
	return NULL;
}

int
router_pattern_ok(const char *pattern)
{
	const char *p = pattern, *seg, *names[ROUTER_MAX_PARAMS];
	size_t len, lens[ROUTER_MAX_PARAMS], nsegs = 0, nparams = 0, i, j;

	if (pattern == NULL || strncmp(pattern, "/api/", 5) != 0)
		return 0;
	while (router_next_seg(&p, &seg, &len)) {
		if (len == 0 || ++nsegs > ROUTER_MAX_SEGS)
			return 0;
		if (seg[0] == ':') {
			if (len < 2 || nparams >= ROUTER_MAX_PARAMS)
				return 0;
			for (j = 1; j < len; j++) {
				if (!((seg[j] >= 'a' && seg[j] <= 'z') ||
				      seg[j] == '_'))
					return 0;
			}
			for (i = 0; i < nparams; i++) {
				if (lens[i] == len - 1 &&
				    memcmp(names[i], seg + 1, len - 1) == 0)
					return 0;
			}
			names[nparams] = seg + 1;
			lens[nparams] = len - 1;
			nparams++;
			continue;
		}
		for (j = 0; j < len; j++) {
			if (!((seg[j] >= 'a' && seg[j] <= 'z') ||
			      (seg[j] >= '0' && seg[j] <= '9') ||
			      seg[j] == '-'))
				return 0;
		}
	}
	return *p == '\0' && nsegs >= 2;
}
