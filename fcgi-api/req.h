/*
 * req.h: one HTTP request as the API sees it, made from the FastCGI
 * parameters (CGI variables) and a capped body.
 *
 * req_init reads the variables the API uses (borrowing the strings from the
 * parameter array, which lives until FCGX_Finish_r), decodes the path into
 * segments and works out the client address and HTTPS through common/peer.h.
 * The body is read later, on demand, through a reader callback, so that a
 * request refused earlier (404, 401, 413…) is never read, and so tests can
 * feed bodies without FastCGI. Query strings and cookies are parsed on demand
 * by the bounded helpers below. Not for routing (router.h) or answers (resp.h).
 */
#ifndef PIPECHAT_API_REQ_H
#define PIPECHAT_API_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "peer.h"
#include "router.h"

#define REQ_PATH_MAX     2048 /* REQUEST_URI's path, bytes */
#define REQ_QUERY_MAX    4096 /* QUERY_STRING, bytes */
#define REQ_QUERY_PARAMS 32   /* parameters looked at */
#define REQ_COOKIE_MAX   8192 /* HTTP_COOKIE, bytes */
#define REQ_UA_MAX       256  /* user agent kept with a session */

/* Reads up to n bytes into buf: count, 0 at the end, < 0 on error. */
typedef int (*req_read_fn)(void *arg, char *buf, int n);

struct req {
	const char *method;        /* REQUEST_METHOD ("" when absent) */
	const char *query;         /* QUERY_STRING ("" when absent) */
	const char *origin;        /* HTTP_ORIGIN or NULL */
	const char *cookie;        /* HTTP_COOKIE or NULL */
	const char *content_type;  /* CONTENT_TYPE or NULL */
	const char *user_agent;    /* HTTP_USER_AGENT or NULL */
	const char *authorization; /* HTTP_AUTHORIZATION or NULL */
	const char *remote_addr;   /* REMOTE_ADDR ("" when absent): the peer
	                            * itself, a proxy or not */
	int64_t content_length;    /* 0 when absent, -1 when malformed */
	int path_ok;               /* 0: undecodable path (answer 404) */
	char path[REQ_PATH_MAX];   /* decoded segments, NUL-separated */
	const char *segs[ROUTER_MAX_SEGS];
	size_t nsegs;
	char client_addr[PC_ADDR_MAX];
	int https;
	req_read_fn read;
	void *read_arg;
	struct pc_buf body; /* filled by req_read_body */
};

/*
 * Fills *r from a NULL-terminated "NAME=value" array (FastCGI's envp). The
 * strings are borrowed from envp. Never fails: a bad path leaves path_ok 0.
 * r->read and r->read_arg are set from the arguments (read may be NULL: no
 * body). Free with req_free.
 */
void req_init(struct req *r, char *const *envp, const char *trusted_proxies,
              req_read_fn read, void *read_arg);
/* Frees the body; r may be zeroed. */
void req_free(struct req *r);

/* The value of NAME in envp, or NULL. */
const char *req_env(char *const *envp, const char *name);

/*
 * Splits the path part of uri (up to '?') into percent-decoded segments,
 * writing them NUL-separated into buf and pointers into segs. "/api/me"
 * gives "api", "me"; "/api/me/" gives "api", "me", "". PC_OK, or
 * PC_ERR_NOT_FOUND for no leading '/', a bad escape, %00, too many segments
 * or too long a path; outputs written only on success.
 */
enum pc_err req_split_path(const char *uri, char *buf, size_t buf_size,
                           const char **segs, size_t max_segs, size_t *nsegs);

/*
 * Reads the body (CONTENT_LENGTH bytes) into r->body, at most limit + 1
 * bytes whatever the length says. PC_OK; PC_ERR_TOO_LARGE when the body is
 * over limit; PC_ERR_BAD_JSON when it ends early or the length is malformed;
 * PC_ERR_NOMEM.
 */
enum pc_err req_read_body(struct req *r, size_t limit);

/*
 * Query parameter name from query string qs ("a=1&b=x%20y"; '+' is a
 * space), percent-decoded into out (NUL-terminated). The first occurrence
 * wins; only the first REQ_QUERY_PARAMS parameters are looked at.
 * PC_OK; PC_ERR_NOT_FOUND when absent; PC_ERR_INVALID for a bad escape, %00
 * or a value that does not fit out. out written only on success.
 */
enum pc_err req_query_get(const char *qs, const char *name, char *out,
                          size_t out_size);

/*
 * Cookie name from a Cookie header ("a=1; b=\"2\""), quotes removed, into
 * out. The first cookie of that name wins. PC_OK; PC_ERR_NOT_FOUND (absent,
 * empty, or a header over REQ_COOKIE_MAX); PC_ERR_TOO_LARGE when the value
 * does not fit out. out written only on success.
 */
enum pc_err req_cookie_get(const char *header, const char *name, char *out,
                           size_t out_size);

/* Non-zero when content_type is application/json, parameters allowed. */
int req_is_json_type(const char *content_type);

#endif
