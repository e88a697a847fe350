/*
 * resp.c: builds and renders answers (resp.h). The status line's reason
 * phrases are a table; the error shape is built in one place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "resp.h"

static const struct {
	int status;
	const char *reason;
} resp_reasons[] = {
        {200, "OK"},
        {201, "Created"},
        {204, "No Content"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {409, "Conflict"},
        {413, "Payload Too Large"},
        {415, "Unsupported Media Type"},
        {422, "Unprocessable Entity"},
        {429, "Too Many Requests"},
        {500, "Internal Server Error"},
        {503, "Service Unavailable"},
};

/* Used when even the error body cannot be built. */
static const char resp_fallback[] =
        "{\"error\":{\"code\":\"unavailable\",\"message\":\"The service is "
        "unavailable.\",\"field\":null}}";

static const char *
resp_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(resp_reasons) / sizeof(resp_reasons[0]); i++) {
		if (resp_reasons[i].status == status)
			return resp_reasons[i].reason;
	}
	return "Unknown";
}

void
resp_init(struct resp *r)
{
	memset(r, 0, sizeof(*r));
	pc_buf_init(&r->body, RESP_BODY_MAX);
}

void
resp_free(struct resp *r)
{
	if (r == NULL)
		return;
	pc_buf_free(&r->body, 0);
}

static void
resp_fail(struct resp *r)
{
	pc_buf_reset(&r->body);
	r->status = 503;
	r->content_type = NULL;
	if (pc_buf_puts(&r->body, resp_fallback) != PC_OK)
		pc_buf_free(&r->body, 0);
}

enum pc_err
resp_json(struct resp *r, int status, const cJSON *body)
{
	char *text;
	enum pc_err rc;

	text = pc_json_print(body);
	if (text == NULL) {
		resp_fail(r);
		return PC_ERR_NOMEM;
	}
	pc_buf_reset(&r->body);
	rc = pc_buf_puts(&r->body, text);
	free(text);
	return resp_json_done(r, status, rc);
}

enum pc_err
resp_text(struct resp *r, int status, const char *content_type,
          const char *text, size_t len)
{
	enum pc_err rc;

	pc_buf_reset(&r->body);
	rc = pc_buf_append(&r->body, text, len);
	if (rc != PC_OK) {
		resp_fail(r);
		return rc;
	}
	r->status = status;
	r->content_type = content_type;
	return PC_OK;
}

struct pc_buf *
resp_body(struct resp *r)
{
	pc_buf_reset(&r->body);
	return &r->body;
}

enum pc_err
resp_json_done(struct resp *r, int status, enum pc_err rc)
{
	if (rc != PC_OK) {
		resp_fail(r);
		return rc;
	}
	r->status = status;
	r->content_type = NULL;
	return PC_OK;
}

void
resp_no_content(struct resp *r)
{
	pc_buf_reset(&r->body);
	r->status = 204;
	r->content_type = NULL;
}

cJSON *
resp_error_object(enum pc_err e, const char *field, const char *message)
{
	cJSON *o;

	o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	if (cJSON_AddStringToObject(o, "code", pc_err_code(e)) == NULL ||
	    cJSON_AddStringToObject(
	            o, "message",
	            message != NULL ? message : pc_err_message(e)) == NULL ||
	    (field != NULL ? cJSON_AddStringToObject(o, "field", field)
	                   : cJSON_AddNullToObject(o, "field")) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

void
resp_error(struct resp *r, enum pc_err e, const char *field,
           const char *message)
{
	cJSON *root = NULL, *err;

	root = cJSON_CreateObject();
	err = resp_error_object(e, field, message);
	if (root == NULL || err == NULL) {
		cJSON_Delete(err);
		resp_fail(r);
		goto out;
	}
	cJSON_AddItemToObject(root, "error", err);
	(void)resp_json(r, pc_err_status(e), root); /* 503 text on failure */
out:
	cJSON_Delete(root);
}

enum pc_err
resp_set_cookie(struct resp *r, const char *name, const char *value,
                int64_t max_age, int secure)
{
	int n;

	n = snprintf(r->cookie, sizeof(r->cookie),
	             "%s=%s; HttpOnly; SameSite=Lax; Path=/; Max-Age=%lld%s",
	             name, value, (long long)max_age, secure ? "; Secure" : "");
	if (n < 0 || (size_t)n >= sizeof(r->cookie)) {
		r->cookie[0] = '\0';
		return PC_ERR_TOO_LARGE;
	}
	return PC_OK;
}

enum pc_err
resp_render(const struct resp *r, struct pc_buf *out)
{
	int status = r->status != 0 ? r->status : 503;
	enum pc_err rc;

	pc_buf_reset(out);
	rc = pc_buf_printf(out,
	                   "Status: %d %s\r\n"
	                   "Content-Type: %s\r\n"
	                   "Cache-Control: no-store\r\n"
	                   "X-Content-Type-Options: nosniff\r\n",
	                   status, resp_reason(status),
	                   r->status != 0 && r->content_type != NULL
	                           ? r->content_type
	                           : "application/json; charset=utf-8");
	if (rc == PC_OK && r->cookie[0] != '\0')
		rc = pc_buf_printf(out, "Set-Cookie: %s\r\n", r->cookie);
	if (rc == PC_OK && r->retry_after > 0)
		rc = pc_buf_printf(out, "Retry-After: %lld\r\n",
		                   (long long)r->retry_after);
	if (rc == PC_OK && r->allow[0] != '\0')
		rc = pc_buf_printf(out, "Allow: %s\r\n", r->allow);
	if (rc == PC_OK && r->status == 0)
		rc = pc_buf_printf(out, "Content-Length: %zu\r\n\r\n%s",
		                   sizeof(resp_fallback) - 1, resp_fallback);
	else if (rc == PC_OK)
		rc = pc_buf_printf(out, "Content-Length: %zu\r\n\r\n",
		                   r->body.len);
	if (rc == PC_OK && r->status != 0 && r->body.len > 0)
		rc = pc_buf_append(out, r->body.data, r->body.len);
	return rc;
}
