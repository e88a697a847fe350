/*
 * cgi.c: the cookie and query string of the WebSocket upgrade (cgi.h).
 * Both are split by hand: the values the worker needs are a JWT (base64url
 * and dots), a decimal room id and a format word, none of which needs
 * percent-decoding; anything else in them is refused rather than decoded.
 */
#include <string.h>

#include "cgi.h"

#define COOKIE_NAME "access_token"

enum pc_err
ws_cgi_token(const char *cookie, char *out, size_t out_size)
{
	const char *p = cookie, *end, *eq, *v;
	size_t klen, vlen;

	if (p == NULL)
		return PC_ERR_UNAUTHENTICATED;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL) {
			klen = (size_t)(eq - p);
			while (klen > 0 &&
			       (p[klen - 1] == ' ' || p[klen - 1] == '\t'))
				klen--;
			v = eq + 1;
			vlen = (size_t)(end - v);
			while (vlen > 0 && (*v == ' ' || *v == '\t'))
				v++, vlen--;
			while (vlen > 0 &&
			       (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"')
				v++, vlen -= 2;
			if (klen == strlen(COOKIE_NAME) &&
			    memcmp(p, COOKIE_NAME, klen) == 0) {
				if (vlen == 0 || vlen > WS_TOKEN_MAX ||
				    vlen >= out_size)
					return PC_ERR_UNAUTHENTICATED;
				memcpy(out, v, vlen);
				out[vlen] = '\0';
				return PC_OK;
			}
		}
		p = end;
	}
	return PC_ERR_UNAUTHENTICATED;
}

/* A decimal id in [1, 2^53], exactly the n bytes at s. */
static int
cgi_id(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (n == 0 || n > 16)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > ((int64_t)1 << 53))
		return 0;
	*out = v;
	return 1;
}

enum pc_err
ws_cgi_query(const char *query, struct ws_query *out, const char **field)
{
	struct ws_query q = {0};
	const char *p = query, *end, *eq, *v;
	size_t klen, vlen;

	while (p != NULL && *p != '\0') {
		end = strchr(p, '&');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		klen = (size_t)((eq != NULL ? eq : end) - p);
		v = eq != NULL ? eq + 1 : end;
		vlen = (size_t)(end - v);
		if (klen == 4 && memcmp(p, "room", 4) == 0) {
			if (!cgi_id(v, vlen, &q.room)) {
				*field = "room";
				return PC_ERR_INVALID;
			}
		} else if (klen == 6 && memcmp(p, "format", 6) == 0) {
			if (vlen == 4 && memcmp(v, "text", 4) == 0)
				q.text = 1;
			else if (vlen == 4 && memcmp(v, "json", 4) == 0)
				q.text = 0;
			else {
				*field = "format";
				return PC_ERR_INVALID;
			}
		}
		p = *end == '&' ? end + 1 : end;
	}
	*out = q;
	return PC_OK;
}
