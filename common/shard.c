/*
 * shard.c: the broker list, the room/user -> shard map (shard.h). Parsing is
 * strict and bounded: every item must be one of the three forms, with nothing
 * after the port, so a typo fails at start with the item named instead of
 * dialling the wrong place.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "shard.h"

#define SHARD_SUN_PATH_MAX 107

static const struct {
	const char *prefix;
	enum pc_shard_kind kind;
} shard_schemes[] = {
        {"ipc://", PC_SHARD_IPC},
        {"tls+tcp://", PC_SHARD_TLS},
        {"tcp://", PC_SHARD_TCP},
};

/* host[:port] part of a tcp item (s, len bytes) into sh. 0 or -1. */
static int
shard_host_port(const char *s, size_t len, struct pc_shard *sh)
{
	const char *colon, *host = s;
	size_t hlen;
	char *end;
	long port;
	char digits[8];

	if (len > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', len);

		if (rb == NULL || (size_t)(rb - s) + 1 >= len || rb[1] != ':')
			return -1;
		host = s + 1;
		hlen = (size_t)(rb - host);
		colon = rb + 1;
	} else {
		colon = NULL;
		for (size_t i = 0; i < len; i++)
			if (s[i] == ':')
				colon = s + i; /* the last one */
		if (colon == NULL)
			return -1;
		hlen = (size_t)(colon - s);
		if (memchr(s, ':', hlen) != NULL)
			return -1; /* a bare IPv6 address: brackets needed */
	}
	if (hlen == 0 || hlen > PC_SHARD_HOST_MAX)
		return -1;
	for (size_t i = 0; i < hlen; i++)
		if (host[i] <= ' ' || host[i] == '/' || host[i] == ',' ||
		    host[i] == '[' || host[i] == ']' || host[i] == 0x7f)
			return -1;
	len -= (size_t)(colon + 1 - s);
	if (len == 0 || len >= sizeof(digits))
		return -1;
	memcpy(digits, colon + 1, len);
	digits[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (digits[i] < '0' || digits[i] > '9')
			return -1;
	port = strtol(digits, &end, 10);
	if (*end != '\0' || port < 1 || port > 65534)
		return -1; /* PORT + 1 is the API's */
	memcpy(sh->host, host, hlen);
	sh->host[hlen] = '\0';
	sh->port = (int)port;
	return 0;
}

/* One trimmed item into sh; NULL or the problem. */
static const char *
shard_item(const char *s, size_t len, int allow_plain, struct pc_shard *sh)
{
	size_t i, plen;

	memset(sh, 0, sizeof(*sh));
	for (i = 0; i < sizeof(shard_schemes) / sizeof(shard_schemes[0]); i++) {
		plen = strlen(shard_schemes[i].prefix);
		if (len >= plen &&
		    strncmp(s, shard_schemes[i].prefix, plen) == 0)
			break;
	}
	if (i == sizeof(shard_schemes) / sizeof(shard_schemes[0]))
		return "want ipc://DIR, tls+tcp://HOST:PORT or tcp://HOST:PORT";
	sh->kind = shard_schemes[i].kind;
	s += plen;
	len -= plen;
	if (sh->kind == PC_SHARD_IPC) {
		if (len == 0 || s[0] != '/' || len > PC_SHARD_DIR_MAX)
			return "ipc:// needs an absolute directory of at most "
			       "80 bytes";
		for (i = 0; i < len; i++)
			if ((unsigned char)s[i] < ' ' || s[i] == ',')
				return "bad character in the directory";
		memcpy(sh->dir, s, len);
		sh->dir[len] = '\0';
		while (len > 1 && sh->dir[len - 1] == '/')
			sh->dir[--len] = '\0';
		return NULL;
	}
	if (sh->kind == PC_SHARD_TCP && !allow_plain)
		return "plaintext tcp:// is refused (use tls+tcp://, or set "
		       "PIPECHAT_ALLOW_PLAINTEXT_TCP=1 on a private network)";
	if (shard_host_port(s, len, sh) != 0)
		return "want HOST:PORT (port 1-65534; IPv6 in brackets)";
	return NULL;
}

enum pc_err
pc_shards_parse(const char *list, const char *default_dir, int allow_plain,
                struct pc_shards *out, char *errbuf, size_t errlen)
{
	struct pc_shards *sh;
	const char *p, *comma, *why;
	size_t len, dlen;
	enum pc_err e = PC_ERR_INVALID;

	if (errlen > 0)
		errbuf[0] = '\0';
	if ((sh = calloc(1, sizeof(*sh))) == NULL)
		return PC_ERR_NOMEM;
	if (list == NULL || *list == '\0') {
		dlen = default_dir != NULL ? strlen(default_dir) : 0;
		if (dlen == 0 || dlen > PC_SHARD_DIR_MAX) {
			snprintf(errbuf, errlen,
			         "PIPECHAT_BROKERS is unset and "
			         "PIPECHAT_BROKER_DIR is %s",
			         dlen == 0 ? "missing" : "too long");
			goto out;
		}
		sh->n = 1;
		sh->s[0].kind = PC_SHARD_IPC;
		memcpy(sh->s[0].dir, default_dir, dlen + 1);
		e = PC_OK;
		goto out;
	}
	for (p = list;; p = comma + 1) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		while (len > 0 && *p == ' ') {
			p++;
			len--;
		}
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (sh->n == PC_SHARD_MAX) {
			snprintf(errbuf, errlen,
			         "PIPECHAT_BROKERS: more than %d brokers",
			         PC_SHARD_MAX);
			goto out;
		}
		if ((why = len == 0 ? "empty item"
		                    : shard_item(p, len, allow_plain,
		                                 &sh->s[sh->n])) != NULL) {
			snprintf(errbuf, errlen,
			         "PIPECHAT_BROKERS item %zu (\"%.*s\"): %s",
			         sh->n, (int)(len > 64 ? 64 : len), p, why);
			goto out;
		}
		sh->n++;
		if (comma == NULL)
			break;
	}
	e = PC_OK;
out:
	/* Only the slots in use: a worker keeps the map for its life, and
	 * copying all 16 made every page of them resident (5.5 KiB). */
	if (e == PC_OK) {
		out->n = sh->n;
		memcpy(out->s, sh->s, sh->n * sizeof(sh->s[0]));
	}
	free(sh);
	return e;
}

size_t
pc_shard_of_room(const struct pc_shards *sh, int64_t room)
{
	if (sh->n <= 1 || room <= 0)
		return 0;
	return (size_t)((uint64_t)room % sh->n);
}

size_t
pc_shard_of_user(const struct pc_shards *sh, int64_t user)
{
	return pc_shard_of_room(sh, user);
}

int
pc_shards_use_tcp(const struct pc_shards *sh)
{
	for (size_t i = 0; i < sh->n; i++)
		if (sh->s[i].kind != PC_SHARD_IPC)
			return 1;
	return 0;
}

int
pc_shards_use_tls(const struct pc_shards *sh)
{
	for (size_t i = 0; i < sh->n; i++)
		if (sh->s[i].kind == PC_SHARD_TLS)
			return 1;
	return 0;
}

enum pc_err
pc_shard_url(const struct pc_shard *s, enum pc_shard_sock which, char *out,
             size_t len)
{
	int n, v6;

	if (s->kind == PC_SHARD_IPC) {
		n = snprintf(out, len, "ipc://%s/%s", s->dir,
		             which == PC_SHARD_WORKERS ? "workers" : "api");
		if (n < 0 || (size_t)n >= len ||
		    (size_t)n - strlen("ipc://") > SHARD_SUN_PATH_MAX)
			return PC_ERR_INVALID;
		return PC_OK;
	}
	v6 = strchr(s->host, ':') != NULL;
	n = snprintf(out, len, "%s://%s%s%s:%d",
	             s->kind == PC_SHARD_TLS ? "tls+tcp" : "tcp", v6 ? "[" : "",
	             s->host, v6 ? "]" : "",
	             s->port + (which == PC_SHARD_API ? 1 : 0));
	if (n < 0 || (size_t)n >= len)
		return PC_ERR_INVALID;
	return PC_OK;
}
