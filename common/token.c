/*
 * token.c: the session JWT and its secret (token.h), on libjwt 1.10.2.
 *
 * libjwt checks the signature and nothing else, accepts HS384/HS512 with the
 * same key and, given a zero key length, accepts alg "none" (FACTS.md). So
 * verification pins HS256, refuses short keys before calling libjwt, and
 * checks every claim itself: the claims are read back as JSON and checked
 * for type (exp and iat integers, sub/name/sid strings) and then for value.
 * The secret file is created atomically (written to a temporary name, then
 * link(2)ed into place, which fails if another program won the race), so no
 * reader ever sees half a secret. Not a session store: revocation is the
 * caller's question.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jwt.h>
#include <sodium.h>

#include "json.h"
#include "token.h"
#include "valid.h"

#define TOKEN_MAX      4096
#define SECRET_NEW_LEN 64

/* sid: 1-PC_SID_MAX printable ASCII characters. */
static int
token_valid_sid(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= PC_SID_MAX || s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return i > 0;
}

/* A user id as sent in sub: 1-PC_JSON_INT_MAX in decimal, no sign, no
 * leading zero. Writes *out on success. */
static int
token_parse_sub(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (s == NULL || s[0] < '1' || s[0] > '9')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 16)
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	if (v > PC_JSON_INT_MAX)
		return 0;
	*out = v;
	return 1;
}

static int
token_key_ok(const struct pc_secret *key)
{
	return key != NULL && key->len >= PC_SECRET_MIN &&
	       key->len <= PC_SECRET_MAX;
}

enum pc_err
pc_token_sign(const struct pc_secret *key, const struct pc_principal *p,
              char **out)
{
	jwt_t *jwt = NULL;
	char sub[24];
	char *tok = NULL;
	enum pc_err e = PC_ERR_INVALID;

	if (!token_key_ok(key) || p == NULL || out == NULL)
		goto out;
	/* exp and iat beyond 2^53 would be signed but never verify (the
	 * claims are read back as JSON doubles): refuse them here. */
	if (p->user_id < 1 || p->user_id > PC_JSON_INT_MAX ||
	    !pc_valid_username(p->username) || !token_valid_sid(p->sid) ||
	    p->iat < 0 || p->exp <= p->iat || p->exp > PC_JSON_INT_MAX ||
	    p->exp > LONG_MAX)
		goto out;
	snprintf(sub, sizeof(sub), "%lld", (long long)p->user_id);
	e = PC_ERR_NOMEM;
	if (jwt_new(&jwt) != 0)
		goto out;
	if (jwt_set_alg(jwt, JWT_ALG_HS256, key->key, (int)key->len) != 0 ||
	    jwt_add_grant(jwt, "sub", sub) != 0 ||
	    jwt_add_grant(jwt, "name", p->username) != 0 ||
	    jwt_add_grant(jwt, "sid", p->sid) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)p->iat) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)p->exp) != 0)
		goto out;
	if ((tok = jwt_encode_str(jwt)) == NULL)
		goto out;
	*out = tok;
	e = PC_OK;
out:
	jwt_free(jwt); /* wipes nothing: the key copy inside is libjwt's */
	return e;
}

/* Reads the claims back as JSON so their types can be checked strictly
 * (jwt_get_grant_int answers 0 for a string). */
static enum pc_err
token_claims(jwt_t *jwt, time_t now, struct pc_principal *p)
{
	char *json = NULL;
	cJSON *root = NULL;
	const char *sub = NULL, *name = NULL, *sid = NULL;
	int64_t exp = 0, iat = 0;
	long exp_lib;
	enum pc_err e = PC_ERR_UNAUTHENTICATED;

	if ((json = jwt_get_grants_json(jwt, NULL)) == NULL)
		goto out;
	if (pc_json_parse(json, strlen(json), &root) != PC_OK ||
	    !cJSON_IsObject(root))
		goto out;
	if (pc_json_get_int(root, "exp", 1, PC_JSON_INT_MAX, &exp) != PC_OK ||
	    pc_json_get_int(root, "iat", 0, PC_JSON_INT_MAX, &iat) != PC_OK ||
	    pc_json_get_str(root, "sub", &sub) != PC_OK ||
	    pc_json_get_str(root, "name", &name) != PC_OK ||
	    pc_json_get_str(root, "sid", &sid) != PC_OK)
		goto out;
	/* The same exp as libjwt sees it, as FACTS.md says to check. */
	errno = 0;
	exp_lib = jwt_get_grant_int(jwt, "exp");
	if (errno != 0 || exp_lib != exp)
		goto out;
	if (exp <= (int64_t)now)
		goto out;
	if (!token_parse_sub(sub, &p->user_id) || !pc_valid_username(name) ||
	    !token_valid_sid(sid))
		goto out;
	memcpy(p->username, name, strlen(name) + 1);
	memcpy(p->sid, sid, strlen(sid) + 1);
	p->iat = iat;
	p->exp = exp;
	e = PC_OK;
out:
	cJSON_Delete(root);
	free(json);
	return e;
}

enum pc_err
pc_token_verify(const struct pc_secret *key, const char *token, time_t now,
                struct pc_principal *out)
{
	jwt_t *jwt = NULL;
	struct pc_principal p;
	size_t len;
	enum pc_err e = PC_ERR_UNAUTHENTICATED;

	memset(&p, 0, sizeof(p));
	/* A zero key length would make libjwt skip the signature. */
	if (!token_key_ok(key) || token == NULL || out == NULL)
		goto out;
	len = strnlen(token, TOKEN_MAX + 1);
	if (len == 0 || len > TOKEN_MAX)
		goto out;
	if (jwt_decode(&jwt, token, key->key, (int)key->len) != 0 ||
	    jwt == NULL)
		goto out;
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		goto out;
	if (token_claims(jwt, now, &p) != PC_OK)
		goto out;
	*out = p;
	e = PC_OK;
out:
	jwt_free(jwt);
	return e;
}

void
pc_secret_wipe(struct pc_secret *s)
{
	if (s != NULL)
		sodium_memzero(s, sizeof(*s));
}

static enum pc_err
secret_write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return PC_ERR_SYSTEM;
		p += w;
		n -= (size_t)w;
	}
	return PC_OK;
}

/* fsyncs the directory holding path, so the new name survives a crash. */
static void
secret_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

/*
 * Makes a new secret at path unless one exists. PC_OK when this call made it
 * or another program already had (the caller then reads it).
 */
static enum pc_err
secret_create(const char *path)
{
	unsigned char key[SECRET_NEW_LEN];
	char tmp[PATH_MAX];
	int fd = -1, made_tmp = 0, n;
	enum pc_err e = PC_ERR_SYSTEM;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		goto out;
	}
	if (sodium_init() < 0) {
		errno = EIO;
		goto out;
	}
	randombytes_buf(key, sizeof(key));
	(void)unlink(tmp); /* a stale one from a crashed start with our pid */
	fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
	          0600);
	if (fd < 0)
		goto out;
	made_tmp = 1;
	if (fchmod(fd, 0600) != 0 || secret_write_all(fd, key, sizeof(key)) ||
	    fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (link(tmp, path) != 0 && errno != EEXIST)
		goto out;
	secret_sync_dir(path);
	e = PC_OK;
out:
	sodium_memzero(key, sizeof(key));
	if (fd >= 0)
		close(fd);
	if (made_tmp) {
		int saved = errno;

		(void)unlink(tmp);
		errno = saved;
	}
	return e;
}

enum pc_err
pc_secret_load(const char *path, int create, struct pc_secret *out)
{
	struct pc_secret s;
	struct stat st;
	unsigned char extra;
	ssize_t r;
	size_t len = 0;
	int fd = -1, saved;
	enum pc_err e = PC_ERR_SYSTEM;

	memset(&s, 0, sizeof(s));
	if (path == NULL || path[0] == '\0' || out == NULL) {
		errno = EINVAL;
		e = PC_ERR_INVALID;
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if ((e = secret_create(path)) != PC_OK)
			goto out;
		e = PC_ERR_SYSTEM;
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) != 0)
		goto out;
	e = PC_ERR_INVALID;
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		errno = EPERM;
		goto out;
	}
	while (len < sizeof(s.key)) {
		r = read(fd, s.key + len, sizeof(s.key) - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = PC_ERR_SYSTEM;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len == sizeof(s.key) && read(fd, &extra, 1) != 0) {
		errno = EFBIG;
		goto out;
	}
	if (len < PC_SECRET_MIN) {
		errno = EINVAL;
		goto out;
	}
	s.len = len;
	*out = s;
	e = PC_OK;
out:
	saved = errno;
	sodium_memzero(&s, sizeof(s));
	if (fd >= 0)
		close(fd);
	errno = saved;
	return e;
}
