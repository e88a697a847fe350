/*
 * req.c: CGI variables, path, query string, cookies and body of one request
 * (req.h). Every input here comes from the network: every loop is bounded,
 * every copy checked against its buffer, and nothing is trusted to be
 * NUL-free or well formed.
 */
#include <string.h>
#include <strings.h>

#include "req.h"

const char *
req_env(char *const *envp, const char *name)
{
	size_t len = strlen(name);

	if (envp == NULL)
		return NULL;
	for (; *envp != NULL; envp++) {
		if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
			return *envp + len + 1;
	}
	return NULL;
}

static int
req_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes src[0..len) into out (out_size with the NUL). plus: '+'
 * means space. 0 on success, -1 for a bad escape, %00 or no room.
 */
static int
req_decode(const char *src, size_t len, int plus, char *out, size_t out_size,
           size_t *out_len)
{
	size_t i, o = 0;
	int hi, lo, c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			hi = req_hex((unsigned char)src[i + 1]);
			lo = req_hex((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			if (c == 0)
				return -1;
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (o + 1 >= out_size)
			return -1;
		out[o++] = (char)c;
	}
	if (out_size == 0)
		return -1;
	out[o] = '\0';
	if (out_len != NULL)
		*out_len = o;
	return 0;
}

enum pc_err
req_split_path(const char *uri, char *buf, size_t buf_size, const char **segs,
               size_t max_segs, size_t *nsegs)
{
	const char *p, *end, *seg_end;
	const char *tmp[ROUTER_MAX_SEGS];
	size_t n = 0, used = 0, dlen;

	if (uri == NULL || uri[0] != '/' || max_segs > ROUTER_MAX_SEGS)
		return PC_ERR_NOT_FOUND;
	end = strchr(uri, '?');
	if (end == NULL)
		end = uri + strlen(uri);
	if ((size_t)(end - uri) >= buf_size)
		return PC_ERR_NOT_FOUND;
	p = uri;
	while (p < end) {
		p++; /* the '/' */
		seg_end = memchr(p, '/', (size_t)(end - p));
		if (seg_end == NULL)
			seg_end = end;
		if (n >= max_segs)
			return PC_ERR_NOT_FOUND;
		if (req_decode(p, (size_t)(seg_end - p), 0, buf + used,
		               buf_size - used, &dlen) != 0)
			return PC_ERR_NOT_FOUND;
		tmp[n++] = buf + used;
		used += dlen + 1;
		p = seg_end;
	}
	memcpy(segs, tmp, n * sizeof(tmp[0]));
	*nsegs = n;
	return PC_OK;
}

void
req_init(struct req *r, char *const *envp, const char *trusted_proxies,
         req_read_fn read, void *read_arg)
{
	const char *v, *remote, *uri;
	int64_t len = 0;
	size_t i;

	memset(r, 0, sizeof(*r));
	pc_buf_init(&r->body, 0);
	r->read = read;
	r->read_arg = read_arg;
	v = req_env(envp, "REQUEST_METHOD");
	r->method = v != NULL ? v : "";
	v = req_env(envp, "QUERY_STRING");
	r->query = v != NULL ? v : "";
	r->origin = req_env(envp, "HTTP_ORIGIN");
	r->cookie = req_env(envp, "HTTP_COOKIE");
	r->content_type = req_env(envp, "CONTENT_TYPE");
	r->user_agent = req_env(envp, "HTTP_USER_AGENT");
	r->authorization = req_env(envp, "HTTP_AUTHORIZATION");

	v = req_env(envp, "CONTENT_LENGTH");
	if (v != NULL && v[0] != '\0') {
		/* Digits only, at most 18 of them: no overflow, no sign. */
		for (i = 0; v[i] != '\0'; i++) {
			if (v[i] < '0' || v[i] > '9' || i >= 18) {
				len = -1;
				break;
			}
			len = len * 10 + (v[i] - '0');
		}
	}
	r->content_length = len;

	/* lighttpd and nginx both send REQUEST_URI; fall back to SCRIPT_NAME
	 * + PATH_INFO for servers that do not. */
	uri = req_env(envp, "REQUEST_URI");
	if (uri == NULL)
		uri = req_env(envp, "SCRIPT_NAME");
	r->path_ok = req_split_path(uri, r->path, sizeof(r->path), r->segs,
	                            ROUTER_MAX_SEGS, &r->nsegs) == PC_OK;

	remote = req_env(envp, "REMOTE_ADDR");
	r->remote_addr = remote != NULL ? remote : "";
	pc_peer_client_addr(trusted_proxies, remote,
	                    req_env(envp, "HTTP_X_FORWARDED_FOR"),
	                    r->client_addr, sizeof(r->client_addr));
	/* The address goes into SQL text: keep it printable ASCII even when a
	 * web server hands over something odd. */
	for (i = 0; r->client_addr[i] != '\0'; i++) {
		if (r->client_addr[i] < 0x21 || r->client_addr[i] > 0x7e)
			r->client_addr[i] = '?';
	}
	r->https = pc_peer_is_https(trusted_proxies, remote,
	                            req_env(envp, "HTTPS"),
	                            req_env(envp, "HTTP_X_FORWARDED_PROTO"));
}

void
req_free(struct req *r)
{
	if (r == NULL)
		return;
	pc_buf_free(&r->body, 1);
}

enum pc_err
req_read_body(struct req *r, size_t limit)
{
	char chunk[8192];
	size_t want, got = 0, ask;
	int n;
	enum pc_err rc;

	if (r->content_length < 0)
		return PC_ERR_BAD_JSON;
	if ((uint64_t)r->content_length > limit)
		return PC_ERR_TOO_LARGE;
	want = (size_t)r->content_length;
	pc_buf_free(&r->body, 1);
	pc_buf_init(&r->body, limit);
	/* want <= limit, so at most limit bytes are ever read. */
	while (got < want && r->read != NULL) {
		ask = want - got;
		if (ask > sizeof(chunk))
			ask = sizeof(chunk);
		n = r->read(r->read_arg, chunk, (int)ask);
		if (n <= 0)
			break;
		rc = pc_buf_append(&r->body, chunk, (size_t)n);
		if (rc != PC_OK)
			return rc;
		got += (size_t)n;
	}
	if (got < want)
		return PC_ERR_BAD_JSON;
	return PC_OK;
}

enum pc_err
req_query_get(const char *qs, const char *name, char *out, size_t out_size)
{
	const char *p, *amp, *eq, *end;
	size_t nlen = strlen(name), count = 0, qlen;

	if (qs == NULL)
		return PC_ERR_NOT_FOUND;
	qlen = strnlen(qs, REQ_QUERY_MAX + 1);
	if (qlen > REQ_QUERY_MAX)
		return PC_ERR_INVALID;
	p = qs;
	end = qs + qlen;
	while (p < end && count < REQ_QUERY_PARAMS) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (amp > p)
			count++;
		/* Names are compared undecoded: pipechat's are plain ASCII. */
		if (eq == NULL) {
			if ((size_t)(amp - p) == nlen &&
			    memcmp(p, name, nlen) == 0) {
				if (out_size == 0)
					return PC_ERR_INVALID;
				out[0] = '\0';
				return PC_OK;
			}
		} else if ((size_t)(eq - p) == nlen &&
		           memcmp(p, name, nlen) == 0) {
			char tmp[REQ_QUERY_MAX + 1];
			size_t dlen;

			if (req_decode(eq + 1, (size_t)(amp - eq - 1), 1, tmp,
			               sizeof(tmp), &dlen) != 0 ||
			    dlen + 1 > out_size)
				return PC_ERR_INVALID;
			memcpy(out, tmp, dlen + 1);
			return PC_OK;
		}
		p = amp + 1;
	}
	return PC_ERR_NOT_FOUND;
}

enum pc_err
req_cookie_get(const char *header, const char *name, char *out, size_t out_size)
{
	const char *p, *end, *semi, *eq, *v, *vend;
	size_t nlen = strlen(name), hlen;

	if (header == NULL)
		return PC_ERR_NOT_FOUND;
	hlen = strnlen(header, REQ_COOKIE_MAX + 1);
	if (hlen > REQ_COOKIE_MAX)
		return PC_ERR_NOT_FOUND;
	p = header;
	end = header + hlen;
	while (p < end) {
		semi = memchr(p, ';', (size_t)(end - p));
		if (semi == NULL)
			semi = end;
		while (p < semi && (*p == ' ' || *p == '\t'))
			p++;
		eq = memchr(p, '=', (size_t)(semi - p));
		if (eq != NULL && (size_t)(eq - p) >= nlen &&
		    memcmp(p, name, nlen) == 0) {
			/* Allow spaces between the name and '='. */
			const char *q = p + nlen;

			while (q < eq && (*q == ' ' || *q == '\t'))
				q++;
			if (q == eq) {
				v = eq + 1;
				vend = semi;
				while (v < vend && (*v == ' ' || *v == '\t'))
					v++;
				while (vend > v &&
				       (vend[-1] == ' ' || vend[-1] == '\t'))
					vend--;
				if (vend - v >= 2 && v[0] == '"' &&
				    vend[-1] == '"') {
					v++;
					vend--;
				}
				if (vend == v)
					return PC_ERR_NOT_FOUND;
				if ((size_t)(vend - v) + 1 > out_size)
					return PC_ERR_TOO_LARGE;
				memcpy(out, v, (size_t)(vend - v));
				out[vend - v] = '\0';
				return PC_OK;
			}
		}
		p = semi + 1;
	}
	return PC_ERR_NOT_FOUND;
}

int
req_is_json_type(const char *ct)
{
	static const char want[] = "application/json";

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, sizeof(want) - 1) != 0)
		return 0;
	ct += sizeof(want) - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}
