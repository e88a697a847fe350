/*
 * fuzz_api_req.c: everything in the API that reads client bytes without a
 * FastCGI stream (fcgi-api/req.h, router.h, serve.h, session.h, call.h):
 * CGI variables into struct req (path decoding, Content-Length, client
 * address, HTTPS), query strings, cookies, the route table, the capped body
 * reader, and the whole serve() pipeline up to the handler, with a database
 * that cannot be reached (so every path ends in an answer, never in SQL).
 *
 * Input: NUL-separated fields REQUEST_METHOD, REQUEST_URI, QUERY_STRING,
 * HTTP_COOKIE, CONTENT_TYPE, HTTP_ORIGIN, REMOTE_ADDR, HTTP_X_FORWARDED_FOR,
 * HTTPS, HTTP_X_FORWARDED_PROTO, CONTENT_LENGTH, HTTP_AUTHORIZATION,
 * HTTP_USER_AGENT, then the body (all the rest, NULs included). Fields past
 * the end of the input are absent.
 *
 * Checked: the answer is one of the contract's statuses (never 500) with
 * the error shape {"error":{"code","message","field"}} whose code matches
 * the status; the rendered CGI header block is printable ASCII lines (no
 * header injection) and Content-Length is the body's length; a 405 carries
 * Allow; forbidden_origin only for a state-changing method with a foreign
 * Origin; out-parameters are written only on success; call_parse_i64
 * agrees with strtoll on canonical decimals.
 */
#include <errno.h>
#include <stdlib.h>

#include "call.h"
#include "db.h"
#include "fuzz_util.h"
#include "json.h"
#include "peer.h"
#include "req.h"
#include "resp.h"
#include "router.h"
#include "serve.h"
#include "session.h"
#include "settings.h"
#include "token.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORIGINS "http://127.0.0.1:8080,http://localhost:8080"
#define TRUSTED "127.0.0.1"

static const char *const fuzz_vars[] = {
        "REQUEST_METHOD",  "REQUEST_URI",
        "QUERY_STRING",    "HTTP_COOKIE",
        "CONTENT_TYPE",    "HTTP_ORIGIN",
        "REMOTE_ADDR",     "HTTP_X_FORWARDED_FOR",
        "HTTPS",           "HTTP_X_FORWARDED_PROTO",
        "CONTENT_LENGTH",  "HTTP_AUTHORIZATION",
        "HTTP_USER_AGENT",
};
#define NVARS (sizeof(fuzz_vars) / sizeof(fuzz_vars[0]))

static struct api_settings fuzz_set;
static struct pc_secret fuzz_secret;
static struct api_env fuzz_env;
static struct db fuzz_db;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	fuzz_set.db = "host=/nonexistent/pipechat-fuzz dbname=none "
	              "connect_timeout=1";
	fuzz_set.port = 8080;
	fuzz_set.origins = ORIGINS;
	fuzz_set.trusted_proxies = TRUSTED;
	fuzz_set.token_ttl = 86400;
	fuzz_set.limits = (struct pc_limits){10, 20, 2, 20, 100, 20};
	fuzz_set.log_level = PC_LOG_ERR;
	fuzz_set.threads = 1;
	fuzz_set.hash_concurrency = 1;
	fuzz_key(fuzz_secret.key);
	fuzz_secret.len = FUZZ_KEY_LEN;
	fuzz_env.set = &fuzz_set;
	fuzz_env.secret = &fuzz_secret;
	fuzz_env.routes = routes;
	fuzz_env.nroutes = routes_count;
	db_init(&fuzz_db, fuzz_set.db);
	return 0;
}

/* The body reader: hands out at most 1000 bytes a call, then 0. */
struct body_src {
	const char *p;
	size_t len, off;
};

static int
body_read(void *arg, char *buf, int n)
{
	struct body_src *b = arg;
	size_t k = b->len - b->off;

	FUZZ_CHECK(n > 0);
	if (k > (size_t)n)
		k = (size_t)n;
	if (k > 1000)
		k = 1000;
	if (k == 0)
		return 0;
	memcpy(buf, b->p + b->off, k);
	b->off += k;
	return (int)k;
}

/* The statuses section 9 allows for an API answer (503: no database). */
static int
status_ok(int s)
{
	static const int ok[] = {200, 400, 401, 403, 404, 405,
	                         409, 413, 415, 422, 429, 503};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (s == ok[i])
			return 1;
	return 0;
}

/* {"code","message","field"} exactly, code matching status. */
static void
check_error_object(const cJSON *err, int status)
{
	const cJSON *code, *msg, *field;
	enum pc_err e;

	FUZZ_CHECK(cJSON_IsObject(err));
	FUZZ_CHECK(cJSON_GetArraySize(err) == 3);
	code = cJSON_GetObjectItemCaseSensitive(err, "code");
	msg = cJSON_GetObjectItemCaseSensitive(err, "message");
	field = cJSON_GetObjectItemCaseSensitive(err, "field");
	FUZZ_CHECK(cJSON_IsString(code) && cJSON_IsString(msg));
	FUZZ_CHECK(msg->valuestring[0] != '\0');
	FUZZ_CHECK(cJSON_IsNull(field) || cJSON_IsString(field));
	e = pc_err_from_code(code->valuestring);
	FUZZ_CHECK(e != PC_ERR__MAX);
	FUZZ_CHECK(pc_err_status(e) == status);
}

static void
check_answer(const struct req *rq, const struct resp *rs)
{
	struct pc_buf out;
	const char *hdr_end, *p, *line_end, *cl;
	cJSON *body = NULL, *err;
	size_t hlen, blen;
	int unsafe, foreign;

	FUZZ_CHECK(status_ok(rs->status));
	pc_buf_init(&out, RESP_BODY_MAX + 16384); /* as main.c */
	FUZZ_CHECK(resp_render(rs, &out) == PC_OK);
	FUZZ_CHECK(out.len > 0 && out.data != NULL);
	hdr_end = memmem(out.data, out.len, "\r\n\r\n", 4);
	FUZZ_CHECK(hdr_end != NULL);
	hlen = (size_t)(hdr_end - out.data) + 2; /* the last line's CRLF */
	blen = out.len - hlen - 2;
	/* Header lines: printable ASCII "Name: value" with CRLF. */
	for (p = out.data; p < out.data + hlen; p = line_end + 2) {
		const char *q, *colon;

		line_end = memmem(p, (size_t)(out.data + hlen - p), "\r\n", 2);
		FUZZ_CHECK(line_end != NULL);
		colon = memchr(p, ':', (size_t)(line_end - p));
		FUZZ_CHECK(colon != NULL && colon > p && colon[1] == ' ');
		for (q = p; q < line_end; q++)
			FUZZ_CHECK(*q >= 0x20 && *q <= 0x7e);
	}
	FUZZ_CHECK(memcmp(out.data, "Status: ", 8) == 0);
	FUZZ_CHECK(atoi(out.data + 8) == rs->status);
	cl = memmem(out.data, hlen, "\r\nContent-Length: ", 18);
	FUZZ_CHECK(cl != NULL);
	FUZZ_CHECK((size_t)strtoull(cl + 18, NULL, 10) == blen);
	if (rs->status == 405)
		FUZZ_CHECK(memmem(out.data, hlen, "\r\nAllow: ", 9) != NULL);

	FUZZ_CHECK(blen > 0);
	if (memmem(out.data, hlen, "\r\nContent-Type: application/json", 32) ==
	    NULL) {
		/* /api/metrics answers Prometheus text; nothing else may. */
		FUZZ_CHECK(rs->status == 200);
		pc_buf_free(&out, 0);
		return;
	}
	FUZZ_CHECK(pc_json_parse(hdr_end + 4, blen, &body) == PC_OK);
	FUZZ_CHECK(cJSON_IsObject(body));
	err = cJSON_GetObjectItemCaseSensitive(body, "error");
	if (rs->status >= 400) {
		FUZZ_CHECK(err != NULL);
		if (cJSON_GetObjectItemCaseSensitive(body, "ok") != NULL)
			/* health: {"ok":false,"error":{…}} */
			FUZZ_CHECK(rs->status == 503);
		else
			FUZZ_CHECK(cJSON_GetArraySize(body) == 1);
		check_error_object(err, rs->status);
		unsafe = strcmp(rq->method, "GET") != 0 &&
		         strcmp(rq->method, "HEAD") != 0;
		foreign = !pc_peer_origin_ok(ORIGINS, rq->origin);
		if (strcmp(cJSON_GetObjectItemCaseSensitive(err, "code")
		                   ->valuestring,
		           "forbidden_origin") == 0)
			FUZZ_CHECK(unsafe && foreign);
	} else {
		FUZZ_CHECK(err == NULL);
	}
	cJSON_Delete(body);
	pc_buf_free(&out, 0);
}

/* strtoll's verdict on canonical decimals, for call_parse_i64. */
static int
ref_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	const char *d = s;
	long long v;
	char *end;

	if (*d == '-') {
		if (min >= 0)
			return 0;
		d++;
	}
	if (*d < '0' || *d > '9' || (*d == '0' && d[1] != '\0'))
		return 0;
	for (end = (char *)d; *end != '\0'; end++)
		if (*end < '0' || *end > '9')
			return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

static void
check_parse_i64(const char *s)
{
	static const struct {
		int64_t min, max;
	} b[] = {{1, INT64_MAX}, {INT64_MIN, INT64_MAX}, {0, 200}, {-5, 5}};
	int64_t got, want;
	size_t i;
	int a, r;

	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		got = want = 0x5a5a;
		a = call_parse_i64(s, b[i].min, b[i].max, &got);
		r = ref_parse_i64(s, b[i].min, b[i].max, &want);
		FUZZ_CHECK(!!a == r);
		if (a)
			FUZZ_CHECK(got == want);
	}
}

static void
check_query(const char *qs)
{
	static const char *const names[] = {"limit", "after", "before", "q",
	                                    "room",  "x",     ""};
	char small[8], big[REQ_QUERY_MAX + 1];
	size_t i, k;
	enum pc_err e;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(small, 0x7f, sizeof(small));
		e = req_query_get(qs, names[i], small, sizeof(small));
		FUZZ_CHECK(e == PC_OK || e == PC_ERR_NOT_FOUND ||
		           e == PC_ERR_INVALID);
		if (e == PC_OK) {
			FUZZ_CHECK(memchr(small, '\0', sizeof(small)) != NULL);
			check_parse_i64(small);
		} else {
			for (k = 0; k < sizeof(small); k++)
				FUZZ_CHECK(small[k] == 0x7f);
		}
		e = req_query_get(qs, names[i], big, sizeof(big));
		if (e == PC_OK) {
			FUZZ_CHECK(memchr(big, '\0', sizeof(big)) != NULL);
			check_parse_i64(big);
		}
	}
}

static void
check_cookie(const char *hdr)
{
	char tiny[4], tok[SESSION_TOKEN_MAX];
	struct pc_principal p;
	enum pc_err e;
	size_t n;

	memset(tiny, 0x7f, sizeof(tiny));
	e = req_cookie_get(hdr, SESSION_COOKIE, tiny, sizeof(tiny));
	FUZZ_CHECK(e == PC_OK || e == PC_ERR_NOT_FOUND ||
	           e == PC_ERR_TOO_LARGE);
	if (e == PC_OK)
		FUZZ_CHECK(memchr(tiny, '\0', sizeof(tiny)) != NULL);
	else
		FUZZ_CHECK(tiny[0] == 0x7f && tiny[3] == 0x7f);
	e = req_cookie_get(hdr, SESSION_COOKIE, tok, sizeof(tok));
	if (e == PC_OK) {
		n = strlen(tok);
		FUZZ_CHECK(n >= 1 && n < sizeof(tok));
		FUZZ_CHECK(memchr(tok, ';', n) == NULL);
	}
	/* The cookie through the session check (a forged token never gets as
	 * far as the unreachable database). */
	e = session_authenticate(&fuzz_db, &fuzz_secret, hdr, &p);
	FUZZ_CHECK(e == PC_ERR_UNAUTHENTICATED || e == PC_ERR_UNAVAILABLE);
}

static void
check_path(const char *uri)
{
	char buf[16];
	const char *segs[2] = {(const char *)1, (const char *)1};
	size_t n = 77;
	enum pc_err e;

	e = req_split_path(uri, buf, sizeof(buf), segs, 2, &n);
	FUZZ_CHECK(e == PC_OK || e == PC_ERR_NOT_FOUND);
	if (e == PC_OK)
		FUZZ_CHECK(n <= 2);
	else
		FUZZ_CHECK(n == 77 && segs[0] == (const char *)1);
}

static void
check_match(const struct req *rq)
{
	struct router_match m;
	char allow[ROUTER_ALLOW_MAX];
	enum pc_err e;
	size_t i;

	if (!rq->path_ok)
		return;
	FUZZ_CHECK(rq->nsegs <= ROUTER_MAX_SEGS);
	memset(allow, 0, sizeof(allow));
	e = router_match(routes, routes_count, rq->method,
	                 (const char *const *)rq->segs, rq->nsegs, &m, allow,
	                 sizeof(allow));
	FUZZ_CHECK(e == PC_OK || e == PC_ERR_NOT_FOUND ||
	           e == PC_ERR_METHOD_NOT_ALLOWED);
	if (e == PC_ERR_METHOD_NOT_ALLOWED)
		FUZZ_CHECK(allow[0] != '\0' &&
		           memchr(allow, '\0', sizeof(allow)) != NULL);
	if (e != PC_OK)
		return;
	FUZZ_CHECK(strcmp(m.route->method, rq->method) == 0);
	FUZZ_CHECK(m.nparams <= ROUTER_MAX_PARAMS);
	for (i = 0; i < m.nparams; i++) {
		FUZZ_CHECK(m.params[i].value != NULL &&
		           m.params[i].value[0] != '\0');
		check_parse_i64(m.params[i].value);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *env[NVARS + 1], *vals[NVARS];
	size_t i, nenv = 0, off = 0;
	struct body_src body = {NULL, 0, 0};
	struct req rq;
	struct resp rs;

	/* Split: NVARS NUL-terminated fields, then the body. */
	copy = malloc(size + 1);
	FUZZ_CHECK(copy != NULL);
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (i = 0; i < NVARS; i++) {
		const char *nul;

		vals[i] = NULL;
		if (off >= size)
			continue;
		vals[i] = copy + off;
		nul = memchr(copy + off, '\0', size - off);
		off = nul != NULL ? (size_t)(nul - copy) + 1 : size;
	}
	if (off < size) {
		body.p = copy + off;
		body.len = size - off;
	}
	for (i = 0; i < NVARS; i++) {
		size_t n;

		if (vals[i] == NULL)
			continue;
		n = strlen(fuzz_vars[i]) + strlen(vals[i]) + 2;
		env[nenv] = malloc(n);
		FUZZ_CHECK(env[nenv] != NULL);
		snprintf(env[nenv], n, "%s=%s", fuzz_vars[i], vals[i]);
		nenv++;
	}
	env[nenv] = NULL;

	req_init(&rq, env, TRUSTED, body_read, &body);
	FUZZ_CHECK(rq.method != NULL && rq.query != NULL);
	FUZZ_CHECK(rq.content_length >= -1);
	FUZZ_CHECK(memchr(rq.client_addr, '\0', sizeof(rq.client_addr)) !=
	           NULL);
	for (i = 0; rq.client_addr[i] != '\0'; i++)
		FUZZ_CHECK(rq.client_addr[i] >= 0x21 &&
		           rq.client_addr[i] <= 0x7e);
	FUZZ_CHECK(rq.https == 0 || rq.https == 1);
	(void)req_is_json_type(rq.content_type);
	check_query(rq.query);
	check_cookie(rq.cookie);
	if (vals[1] != NULL)
		check_path(vals[1]);
	check_match(&rq);
	if (vals[0] != NULL)
		check_parse_i64(vals[0]);

	resp_init(&rs);
	serve(&fuzz_env, &fuzz_db, &rq, &rs);
	check_answer(&rq, &rs);
	/* serve reads at most the route's limit + 1 bytes of the body. */
	FUZZ_CHECK(body.off <= ROUTE_BODY_MAX + 1);
	resp_free(&rs);
	req_free(&rq);

	for (i = 0; i < nenv; i++)
		free(env[i]);
	free(copy);
	return 0;
}
