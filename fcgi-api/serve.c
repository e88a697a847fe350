/*
 * serve.c: the request pipeline (serve.h). Every early refusal happens here,
 * once, so handlers only ever see requests that passed the common checks.
 */
#include <string.h>

#include "json.h"
#include "metrics.h"
#include "peer.h"
#include "serve.h"
#include "session.h"
#include "stamp.h"

/* Methods that change state, for the Origin check (contract section 3). */
static const char *const serve_unsafe[] = {"POST", "PUT", "PATCH", "DELETE",
                                           NULL};

/* Methods that only read: every other request whose handler ran moves the
 * change board as it ends, before its answer leaves (stamp.h), whatever
 * its outcome. */
static const char *const serve_reads[] = {"GET", "HEAD", NULL};

/* Whether method is in list (NULL-terminated). */
static int
serve_method_in(const char *method, const char *const *list)
{
	for (; *list != NULL; list++) {
		if (strcmp(method, *list) == 0)
			return 1;
	}
	return 0;
}

/*
 * A ROUTE_SESSION_SQL request whose handler answered (or was refused before
 * it) without its statement having confirmed the session: a 413, a 422, a
 * 503. Confirms it now, so an unauthenticated request gets 401 whatever
 * else is wrong with it, exactly as with a plain ROUTE_AUTH route. Returns
 * the error to answer, or rc when the session is live. A handler that
 * succeeded without confirming breaks the flag's rule; it still gets no
 * answer out unless the session is live.
 */
static enum pc_err
serve_confirm(struct call *c, enum pc_err rc)
{
	enum pc_err auth;

	c->who_pending = 0;
	db_rollback(c->db);
	auth = session_authenticate(c->db, c->env->secret, c->req->cookie,
	                            &c->who);
	if (auth != PC_OK)
		return auth;
	c->authed = 1;
	return rc;
}

void
serve(const struct api_env *env, struct db *db, struct req *req,
      struct resp *resp)
{
	struct router_match m;
	struct call c;
	enum pc_err rc;
	int handled = 0;
	uint64_t t0 = metrics_now_us();

	memset(&c, 0, sizeof(c));
	memset(&m, 0, sizeof(m));
	c.env = env;
	c.db = db;
	c.req = req;
	c.resp = resp;
	c.match = &m;

	if (!req->path_ok) {
		rc = PC_ERR_NOT_FOUND;
		goto out;
	}
	rc = router_match(env->routes, env->nroutes, req->method,
	                  (const char *const *)req->segs, req->nsegs, &m,
	                  resp->allow, sizeof(resp->allow));
	if (rc != PC_OK)
		goto out;
	if (serve_method_in(req->method, serve_unsafe) &&
	    !pc_peer_origin_ok(env->set->origins, req->origin)) {
		rc = PC_ERR_FORBIDDEN_ORIGIN;
		goto out;
	}
	if (m.route->flags & ROUTE_AUTH) {
		rc = db_ready(db);
		if (rc != PC_OK)
			goto out;
		if (m.route->flags & ROUTE_SESSION_SQL) {
			/* The row is checked by the handler's statement. */
			rc = session_token(env->secret, req->cookie, &c.who);
			if (rc != PC_OK)
				goto out;
			c.who_pending = 1;
		} else {
			rc = session_authenticate(db, env->secret, req->cookie,
			                          &c.who);
			if (rc != PC_OK)
				goto out;
			c.authed = 1;
		}
	}
	if (req->content_length < 0) {
		rc = PC_ERR_BAD_JSON;
		goto out;
	}
	if ((uint64_t)req->content_length > m.route->body_max) {
		rc = PC_ERR_TOO_LARGE;
		goto out;
	}
	if (req->content_length > 0 && !req_is_json_type(req->content_type)) {
		rc = PC_ERR_UNSUPPORTED_MEDIA_TYPE;
		goto out;
	}
	if (req->content_length > 0 || (m.route->flags & ROUTE_JSON)) {
		rc = req_read_body(req, m.route->body_max);
		if (rc != PC_OK)
			goto out;
	}
	if (m.route->flags & ROUTE_JSON) {
		rc = pc_json_parse(req->body.data != NULL ? req->body.data : "",
		                   req->body.len, &c.body);
		if (rc == PC_ERR_NOMEM)
			goto out;
		if (rc != PC_OK) {
			rc = PC_ERR_BAD_JSON;
			goto out;
		}
		if (!cJSON_IsObject(c.body)) {
			rc = PC_ERR_INVALID; /* field null */
			goto out;
		}
	}
	if (!(m.route->flags & (ROUTE_AUTH | ROUTE_NODB))) {
		rc = db_ready(db);
		if (rc != PC_OK)
			goto out;
	}
	handled = 1;
	rc = m.route->fn(&c);
out:
	if (c.who_pending)
		rc = serve_confirm(&c, rc); /* 401 before any other answer */
	if (rc != PC_OK) {
		/* Internal errors keep no field and no detail. */
		if (pc_err_status(rc) >= 500) {
			c.err_field = NULL;
			c.err_message = NULL;
		}
		resp_error(resp, rc, c.err_field, c.err_message);
	}
	if (rc != PC_ERR_METHOD_NOT_ALLOWED)
		resp->allow[0] = '\0';
	db_rollback(db);
	/* A handler that ran may have written, committed or not (a needless
	 * recheck at worst); a request refused before it wrote nothing. */
	if (handled && !serve_method_in(req->method, serve_reads))
		stamp_bump();
	cJSON_Delete(c.body);
	metrics_request(env->routes, m.route,
	                resp->status != 0 ? resp->status : 503,
	                metrics_now_us() - t0);
}
