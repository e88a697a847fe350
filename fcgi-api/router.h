/*
 * router.h: the route table's row type and the matcher.
 *
 * A route row holds a method, a pattern of '/'-separated segments where
 * ":name" matches any one non-empty segment, the handler, flags and a body
 * limit (STYLE.md: tables over branches). The router only matches: it tells
 * "no such path" (404) from "path known, method not" (405, with the Allow
 * list). It knows nothing of FastCGI, sessions or JSON; the table itself is
 * data in routes.c.
 */
#ifndef PIPECHAT_API_ROUTER_H
#define PIPECHAT_API_ROUTER_H

#include <stddef.h>

#include "err.h"

#define ROUTER_MAX_SEGS   16 /* segments in a path or a pattern */
#define ROUTER_MAX_PARAMS 4  /* ":name" segments in one pattern */
#define ROUTER_ALLOW_MAX  64 /* "GET, POST, PATCH, DELETE" and room to spare */

enum route_flag {
	ROUTE_AUTH = 1 << 0, /* a valid, unrevoked session is required */
	ROUTE_JSON = 1 << 1, /* the body must be a JSON object */
	ROUTE_NODB = 1 << 2, /* no db_ready before the handler: it needs no
	                      * database, or reports its absence itself */
	/* With ROUTE_AUTH, on GET routes only: serve.c checks the token
	 * alone and the handler's first statement, built on SESSION_WHO_SQL,
	 * checks the sessions row in the same round trip (call_confirm);
	 * serve.c checks it itself when the handler answers without having
	 * done so, so 401 still comes first. Saves a round trip on the
	 * busiest reads. The handler must not change anything before it. */
	ROUTE_SESSION_SQL = 1 << 3,
};

#define ROUTE_BODY_MAX (64 * 1024) /* the API's body limit (contract 8) */

struct call; /* call.h */

/* A handler fills c->resp, or returns an error (and may set c->err_field,
 * c->err_message, c->resp->retry_after) for the caller to render. */
typedef enum pc_err (*route_fn)(struct call *c);

struct route {
	const char *method;  /* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *pattern; /* "/api/rooms/:id/join" */
	route_fn fn;
	unsigned flags;  /* enum route_flag */
	size_t body_max; /* bytes; CONTENT_LENGTH above it is 413 */
};

/* The table (routes.c). */
extern const struct route routes[];
extern const size_t routes_count;

struct router_match {
	const struct route *route;
	size_t nparams;
	struct {
		const char *name; /* in the pattern, after ':' */
		size_t name_len;
		const char *value; /* borrowed from the path segments */
	} params[ROUTER_MAX_PARAMS];
};

/*
 * Matches method and the decoded path segments (segs[0] is "api" for
 * "/api/…") against rows. PC_OK and *out when a row matches both;
 * PC_ERR_METHOD_NOT_ALLOWED when the path matches rows of other methods only
 * (allow, when not NULL, receives them as "GET, POST"); PC_ERR_NOT_FOUND
 * otherwise. An empty segment (a trailing or doubled slash) never matches.
 * Values in *out point into segs: they live as long as segs does.
 */
enum pc_err router_match(const struct route *rows, size_t nrows,
                         const char *method, const char *const *segs,
                         size_t nsegs, struct router_match *out, char *allow,
                         size_t allow_size);

/* The value of parameter name, or NULL. */
const char *router_param(const struct router_match *m, const char *name);

/*
 * Non-zero when pattern is well formed: starts with "/api/", no empty
 * segment, at most ROUTER_MAX_SEGS segments and ROUTER_MAX_PARAMS params,
 * literals of [a-z0-9-], params ":[a-z_]+" named once each.
 */
int router_pattern_ok(const char *pattern);

#endif
