/*
 * resp.h: the answer to one request, filled by handlers and rendered once.
 *
 * Handlers set a status, a JSON body (or none for 204, or text for the
 * one route that is not JSON: metrics), at most one
 * Set-Cookie, Retry-After and Allow; resp_render turns that into the CGI
 * response (Status line, headers, blank line, body) that main.c writes to
 * FastCGI. Every answer carries Content-Type (application/json;
 * charset=utf-8 unless resp_text said otherwise) and Cache-Control:
 * no-store. Handlers never touch FastCGI
 * streams. Errors use one shape: {"error":{"code","message","field"}}.
 */
#ifndef PIPECHAT_API_RESP_H
#define PIPECHAT_API_RESP_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "buf.h"
#include "err.h"

#define RESP_BODY_MAX                                                          \
	(4 * 1024 * 1024) /* a history page of 200 is far less                 \
	                   */
#define RESP_COOKIE_MAX 4096
#define RESP_ALLOW_MAX  64

struct resp {
	int status; /* 0 until set: rendered as 503 */
	struct pc_buf body;
	char cookie[RESP_COOKIE_MAX]; /* Set-Cookie value, "" for none */
	int64_t retry_after;          /* seconds; > 0 adds Retry-After */
	char allow[RESP_ALLOW_MAX];   /* Allow value, "" for none */
	const char *content_type;     /* a static string; NULL: JSON */
};

/* Makes *r an empty answer. */
void resp_init(struct resp *r);
/* Frees the body; r may be zeroed. */
void resp_free(struct resp *r);

/* Sets status and body (serialised without whitespace). PC_OK or
 * PC_ERR_NOMEM / PC_ERR_TOO_LARGE (r then holds a 503 error answer).
 * body is borrowed. */
enum pc_err resp_json(struct resp *r, int status, const cJSON *body);
/* Sets status and a non-JSON body: len bytes of text (copied) with
 * content_type (a string constant, e.g. Prometheus's text format). PC_OK
 * or PC_ERR_NOMEM / PC_ERR_TOO_LARGE (r then holds a 503 error answer). */
enum pc_err resp_text(struct resp *r, int status, const char *content_type,
                      const char *text, size_t len);
/* For a JSON body written in place (jsonw.h) rather than from a cJSON
 * tree: empties r->body and returns it (owned by r). Finish with
 * resp_json_done. */
struct pc_buf *resp_body(struct resp *r);
/* Ends an answer written into resp_body: with rc PC_OK sets status (JSON
 * content type) and returns PC_OK; otherwise r holds the 503 fallback
 * answer and rc (the writer's error) is returned. */
enum pc_err resp_json_done(struct resp *r, int status, enum pc_err rc);
/* 204 No Content, no body. */
void resp_no_content(struct resp *r);

/* The error object {"code","message","field"} for e, or NULL on ENOMEM.
 * message NULL means pc_err_message(e); field NULL gives JSON null. */
cJSON *resp_error_object(enum pc_err e, const char *field, const char *message);
/* Replaces the body with {"error":{…}} and the status with pc_err_status(e).
 * Keeps cookie, retry_after and allow. Never fails (falls back to a fixed
 * text on ENOMEM). */
void resp_error(struct resp *r, enum pc_err e, const char *field,
                const char *message);

/*
 * Sets the cookie name=value; HttpOnly; SameSite=Lax; Path=/;
 * Max-Age=max_age, plus "; Secure" when secure. value must be cookie-safe
 * (a JWT is). PC_OK or PC_ERR_TOO_LARGE (cookie unchanged).
 */
enum pc_err resp_set_cookie(struct resp *r, const char *name, const char *value,
                            int64_t max_age, int secure);

/* Renders headers and body into out (emptied first). PC_OK or PC_ERR_NOMEM. */
enum pc_err resp_render(const struct resp *r, struct pc_buf *out);

#endif
