/*
 * call.h: what a handler gets for one request, and the small helpers every
 * handler uses to read its inputs and report a failing field.
 *
 * serve.c builds a struct call after routing, the Origin check, the session
 * check and the body checks, so a handler starts with a known route, an
 * authenticated principal (for ROUTE_AUTH routes) and, for ROUTE_JSON
 * routes, a parsed JSON object. Handlers fill c->resp or return an error;
 * c->err_field and c->err_message then refine the error body. Not for
 * process-wide state beyond the borrowed pointers in struct api_env.
 */
#ifndef PIPECHAT_API_CALL_H
#define PIPECHAT_API_CALL_H

#include <stdint.h>
#include <cjson/cJSON.h>

#include "db.h"
#include "err.h"
#include "req.h"
#include "resp.h"
#include "router.h"
#include "settings.h"
#include "token.h"

/* Process-wide, read-only once the threads start. */
struct api_env {
	const struct api_settings *set;
	const struct pc_secret *secret;
	const struct route *routes;
	size_t nroutes;
};

struct call {
	const struct api_env *env;
	struct db *db;
	const struct req *req;
	struct resp *resp;
	const struct router_match *match;
	cJSON *body; /* ROUTE_JSON: the object; else NULL */
	int authed;  /* ROUTE_AUTH: 1 and who is set */
	/* ROUTE_SESSION_SQL before call_confirm: who holds the verified
	 * token's claims, but its session row is not checked yet. */
	int who_pending;
	struct pc_principal who; /* user id, username, sid */
	const char *err_field;   /* set with an error: names the field */
	const char *err_message; /* set with an error: replaces the text */
};

/* Sets c->err_field and returns e: `return call_fail(c, PC_ERR_INVALID,
 * "name");`. field is a string constant (or NULL). */
enum pc_err call_fail(struct call *c, enum pc_err e, const char *field);

/*
 * A string field of the JSON body. Absent (or null) and optional: PC_OK with
 * *out NULL. Absent and required, or not a string: PC_ERR_INVALID with the
 * field named. The string is borrowed from c->body.
 */
enum pc_err call_str(struct call *c, const char *key, int required,
                     const char **out);
/* A whole number field within [min, max]; absent is PC_ERR_INVALID. */
enum pc_err call_int(struct call *c, const char *key, int64_t min, int64_t max,
                     int64_t *out);

/* The path parameter name as a positive int64 id; anything else (sign,
 * leading zero, junk, overflow) is PC_ERR_NOT_FOUND. */
enum pc_err call_path_id(struct call *c, const char *name, int64_t *out);

/*
 * The query parameter name as a whole number in [min, max]; absent gives
 * def (and *present 0). Malformed or out of range: PC_ERR_INVALID with
 * field name. present may be NULL.
 */
enum pc_err call_query_int(struct call *c, const char *name, int64_t min,
                           int64_t max, int64_t def, int64_t *out,
                           int *present);

/*
 * ROUTE_SESSION_SQL handlers: res is the result of their statement built on
 * SESSION_WHO_SQL (session.h), whose columns col and col + 1 are who.username
 * and who.stale. PC_OK: the session is live, c->authed is set and
 * c->who.username is the stored name. PC_ERR_UNAUTHENTICATED otherwise.
 */
enum pc_err call_confirm(struct call *c, const PGresult *res, int col);

/* Parses s as a decimal int64 in [min, max], digits only (an optional
 * leading '-' when min < 0). Non-zero on success. */
int call_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

#endif
