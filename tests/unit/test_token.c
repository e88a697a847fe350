/*
 * test_token.c: the JWT rules of token.h against hand-built and libjwt-built
 * tokens (alg none, HS384/HS512 with the same secret, tampering, every claim
 * missing or of the wrong type, expiry, short keys), and the secret file
 * (created 0600 once, even by racing processes; loose modes and bad sizes
 * refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <jwt.h>
#include <sodium.h>

#include "json.h"
#include "token.h"

#define NOW 1795683184

static struct pc_secret key;

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	memset(&key, 0, sizeof(key));
	randombytes_buf(key.key, 64);
	key.len = 64;
	return 0;
}

static void
b64(const void *p, size_t n, char *out, size_t out_size)
{
	sodium_bin2base64(out, out_size, p, n,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* header.payload.signature with HMAC-SHA256 over the given key bytes; a
 * NULL k leaves the signature empty (as alg none does). */
static char *
make_token(const char *header, const char *payload, const unsigned char *k,
           size_t klen)
{
	char h[512], p[2048], sig[128];
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	char *tok;
	size_t n;

	b64(header, strlen(header), h, sizeof(h));
	b64(payload, strlen(payload), p, sizeof(p));
	n = strlen(h) + strlen(p) + 2 + sizeof(sig);
	tok = malloc(n);
	assert_non_null(tok);
	snprintf(tok, n, "%s.%s", h, p);
	sig[0] = '\0';
	if (k != NULL) {
		crypto_auth_hmacsha256_init(&st, k, klen);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)tok,
		                              strlen(tok));
		crypto_auth_hmacsha256_final(&st, mac);
		b64(mac, sizeof(mac), sig, sizeof(sig));
	}
	strcat(tok, ".");
	strcat(tok, sig);
	return tok;
}

static const char hs256[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static enum pc_err
verify_payload(const char *payload)
{
	struct pc_principal p;
	char *tok = make_token(hs256, payload, key.key, key.len);
	enum pc_err e = pc_token_verify(&key, tok, NOW, &p);

	free(tok);
	return e;
}

#define GOOD_CLAIMS                                                            \
	"\"sub\":\"42\",\"name\":\"alice\",\"sid\":\"s-1\",\"iat\":1795680000"

static void
test_round_trip(void **state)
{
	struct pc_principal in, out;
	char *tok = NULL;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.user_id = 42;
	strcpy(in.username, "alice");
	strcpy(in.sid, "0b7e6c1a-3c55-4b5e-9d1e-1d0e1f2a3b4c");
	in.iat = NOW - 10;
	in.exp = NOW + 86400;
	assert_int_equal(pc_token_sign(&key, &in, &tok), PC_OK);
	assert_non_null(tok);
	memset(&out, 0x55, sizeof(out));
	assert_int_equal(pc_token_verify(&key, tok, NOW, &out), PC_OK);
	assert_int_equal(out.user_id, 42);
	assert_string_equal(out.username, "alice");
	assert_string_equal(out.sid, in.sid);
	assert_int_equal(out.iat, in.iat);
	assert_int_equal(out.exp, in.exp);
	/* Expired one second after exp, and at exp itself. */
	assert_int_equal(pc_token_verify(&key, tok, (time_t)in.exp, &out),
	                 PC_ERR_UNAUTHENTICATED);
	assert_int_equal(pc_token_verify(&key, tok, (time_t)in.exp - 1, &out),
	                 PC_OK);
	free(tok);

	/* The hand-built HS256 token is accepted too (the builder is right). */
	assert_int_equal(verify_payload("{" GOOD_CLAIMS ",\"exp\":1795690000}"),
	                 PC_OK);
}

static void
test_sign_refuses_bad_principal(void **state)
{
	struct pc_principal in;
	struct pc_secret shortkey = key;
	char *tok = NULL;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.user_id = 1;
	strcpy(in.username, "bob");
	strcpy(in.sid, "1");
	in.iat = NOW;
	in.exp = NOW + 60;
	shortkey.len = 31;
	assert_int_equal(pc_token_sign(&shortkey, &in, &tok), PC_ERR_INVALID);
	shortkey.len = 0;
	assert_int_equal(pc_token_sign(&shortkey, &in, &tok), PC_ERR_INVALID);
	in.user_id = 0;
	assert_int_equal(pc_token_sign(&key, &in, &tok), PC_ERR_INVALID);
	in.user_id = 1;
	strcpy(in.username, "b b");
	assert_int_equal(pc_token_sign(&key, &in, &tok), PC_ERR_INVALID);
	strcpy(in.username, "bob");
	in.sid[0] = '\0';
	assert_int_equal(pc_token_sign(&key, &in, &tok), PC_ERR_INVALID);
	strcpy(in.sid, "1");
	in.exp = in.iat;
	assert_int_equal(pc_token_sign(&key, &in, &tok), PC_ERR_INVALID);
	assert_null(tok);
}

/* Found by tests/fuzz/fuzz_token: an exp beyond 2^53 was signed, and then
 * refused by pc_token_verify (claims are read as JSON doubles). Sign and
 * verify must agree: such a principal is refused when signing. */
static void
test_sign_refuses_exp_beyond_2_53(void **state)
{
	struct pc_principal in, out;
	char *tok = NULL;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.user_id = 67108869;
	strcpy(in.username, "bob");
	strcpy(in.sid, "s");
	in.iat = 100;
	in.exp = INT64_C(34339947158700232);
	assert_int_equal(pc_token_sign(&key, &in, &tok), PC_ERR_INVALID);
	assert_null(tok);
	in.exp = PC_JSON_INT_MAX + 1;
	assert_int_equal(pc_token_sign(&key, &in, &tok), PC_ERR_INVALID);
	/* 2^53 - 1 itself is signed and verifies. */
	in.exp = PC_JSON_INT_MAX;
	assert_int_equal(pc_token_sign(&key, &in, &tok), PC_OK);
	assert_int_equal(pc_token_verify(&key, tok, NOW, &out), PC_OK);
	assert_int_equal(out.exp, PC_JSON_INT_MAX);
	free(tok);
}

static void
test_alg_none(void **state)
{
	struct pc_principal p;
	char *tok;
	char buf[2048];

	(void)state;
	tok = make_token("{\"alg\":\"none\"}",
	                 "{" GOOD_CLAIMS ",\"exp\":1795690000}", NULL, 0);
	assert_memory_equal(tok, "eyJhbGciOiJub25lIn0.", 20);
	assert_int_equal(pc_token_verify(&key, tok, NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	/* With a signature appended anyway. */
	snprintf(buf, sizeof(buf), "%sAAAA", tok);
	assert_int_equal(pc_token_verify(&key, buf, NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	free(tok);
	tok = make_token("{\"alg\":\"none\",\"typ\":\"JWT\"}",
	                 "{" GOOD_CLAIMS ",\"exp\":1795690000}", NULL, 0);
	assert_int_equal(pc_token_verify(&key, tok, NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	free(tok);
	/* "None", HS256-signed: libjwt does not know it; refused. */
	tok = make_token("{\"alg\":\"None\"}",
	                 "{" GOOD_CLAIMS ",\"exp\":1795690000}", key.key,
	                 key.len);
	assert_int_equal(pc_token_verify(&key, tok, NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	free(tok);
}

static char *
libjwt_token(jwt_alg_t alg, const unsigned char *k, int klen)
{
	jwt_t *jwt = NULL;
	char *tok;

	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_set_alg(jwt, alg, k, klen), 0);
	assert_int_equal(jwt_add_grant(jwt, "sub", "42"), 0);
	assert_int_equal(jwt_add_grant(jwt, "name", "alice"), 0);
	assert_int_equal(jwt_add_grant(jwt, "sid", "s-1"), 0);
	assert_int_equal(jwt_add_grant_int(jwt, "iat", NOW - 5), 0);
	assert_int_equal(jwt_add_grant_int(jwt, "exp", NOW + 3600), 0);
	tok = jwt_encode_str(jwt);
	assert_non_null(tok);
	jwt_free(jwt);
	return tok;
}

static void
test_other_hmac_algs(void **state)
{
	struct pc_principal p;
	char *tok;

	(void)state;
	tok = libjwt_token(JWT_ALG_HS256, key.key, (int)key.len);
	assert_int_equal(pc_token_verify(&key, tok, NOW, &p), PC_OK);
	free(tok);
	tok = libjwt_token(JWT_ALG_HS384, key.key, (int)key.len);
	assert_int_equal(pc_token_verify(&key, tok, NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	free(tok);
	tok = libjwt_token(JWT_ALG_HS512, key.key, (int)key.len);
	assert_int_equal(pc_token_verify(&key, tok, NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	free(tok);
}

static void
test_tampered(void **state)
{
	struct pc_principal p;
	char *good, *evil, *forged;
	const char *dot1, *dot2;
	char buf[4096];
	size_t i;

	(void)state;
	good = make_token(hs256, "{" GOOD_CLAIMS ",\"exp\":1795690000}",
	                  key.key, key.len);
	evil = make_token(hs256,
	                  "{\"sub\":\"1\",\"name\":\"admin\",\"sid\":\"s-1\","
	                  "\"iat\":1795680000,\"exp\":1795690000}",
	                  key.key, key.len);
	/* evil's payload with good's signature. */
	dot1 = strchr(evil, '.');
	dot2 = strrchr(good, '.');
	snprintf(buf, sizeof(buf), "%.*s%s", (int)(strrchr(evil, '.') - evil),
	         evil, dot2);
	assert_int_equal(pc_token_verify(&key, buf, NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	(void)dot1;
	/* Every single-character change of the signature or payload. */
	for (i = 0; good[i] != '\0'; i++) {
		if (good[i] == '.')
			continue;
		forged = strdup(good);
		forged[i] = forged[i] == 'A' ? 'B' : 'A';
		if (pc_token_verify(&key, forged, NOW, &p) == PC_OK &&
		    strcmp(forged, good) != 0) {
			/* Only the last base64 char's padding bits may
			 * change without changing the bytes. */
			assert_true(i == strlen(good) - 1);
		}
		free(forged);
	}
	/* Wrong key. */
	{
		struct pc_secret other = key;

		other.key[0] ^= 1;
		assert_int_equal(pc_token_verify(&other, good, NOW, &p),
		                 PC_ERR_UNAUTHENTICATED);
	}
	free(good);
	free(evil);
}

static void
test_claims(void **state)
{
	static const struct {
		const char *payload;
		enum pc_err want;
	} cases[] = {
	        {"{" GOOD_CLAIMS ",\"exp\":1795690000}", PC_OK},
	        /* exp */
	        {"{" GOOD_CLAIMS "}", PC_ERR_UNAUTHENTICATED},
	        {"{" GOOD_CLAIMS ",\"exp\":\"1795690000\"}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{" GOOD_CLAIMS ",\"exp\":1795690000.5}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{" GOOD_CLAIMS ",\"exp\":null}", PC_ERR_UNAUTHENTICATED},
	        {"{" GOOD_CLAIMS ",\"exp\":true}", PC_ERR_UNAUTHENTICATED},
	        {"{" GOOD_CLAIMS ",\"exp\":1795683184}",
	         PC_ERR_UNAUTHENTICATED}, /* == now */
	        {"{" GOOD_CLAIMS ",\"exp\":1600000000}",
	         PC_ERR_UNAUTHENTICATED}, /* past */
	        {"{" GOOD_CLAIMS ",\"exp\":-1}", PC_ERR_UNAUTHENTICATED},
	        {"{" GOOD_CLAIMS ",\"exp\":1e300}", PC_ERR_UNAUTHENTICATED},
	        /* sub */
	        {"{\"sub\":42,\"name\":\"alice\",\"sid\":\"s\",\"iat\":1,"
	         "\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"abc\",\"name\":\"alice\",\"sid\":\"s\","
	         "\"iat\":1,\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"0\",\"name\":\"alice\",\"sid\":\"s\","
	         "\"iat\":1,\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"042\",\"name\":\"alice\",\"sid\":\"s\","
	         "\"iat\":1,\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"-1\",\"name\":\"alice\",\"sid\":\"s\","
	         "\"iat\":1,\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"4 2\",\"name\":\"alice\",\"sid\":\"s\","
	         "\"iat\":1,\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"\",\"name\":\"alice\",\"sid\":\"s\","
	         "\"iat\":1,\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"9007199254740992\",\"name\":\"alice\","
	         "\"sid\":\"s\",\"iat\":1,\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"99999999999999999999\",\"name\":\"alice\","
	         "\"sid\":\"s\",\"iat\":1,\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"9007199254740991\",\"name\":\"alice\","
	         "\"sid\":\"s\",\"iat\":1,\"exp\":1795690000}",
	         PC_OK},
	        {"{\"name\":\"alice\",\"sid\":\"s\",\"iat\":1,"
	         "\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        /* name */
	        {"{\"sub\":\"1\",\"name\":\"a b\",\"sid\":\"s\",\"iat\":1,"
	         "\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"1\",\"name\":\"al\",\"sid\":\"s\",\"iat\":1,"
	         "\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"1\",\"sid\":\"s\",\"iat\":1,"
	         "\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        /* sid */
	        {"{\"sub\":\"1\",\"name\":\"alice\",\"sid\":\"\",\"iat\":1,"
	         "\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"1\",\"name\":\"alice\",\"sid\":7,\"iat\":1,"
	         "\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"1\",\"name\":\"alice\",\"sid\":\"a b\",\"iat\":1,"
	         "\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"1\",\"name\":\"alice\",\"sid\":\"s\\u0000x\","
	         "\"iat\":1,\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"1\",\"name\":\"alice\","
	         "\"sid\":\"0123456789012345678901234567890123456789"
	         "012345678901234567890123\",\"iat\":1,\"exp\":1795690000}",
	         PC_OK}, /* 64 */
	        {"{\"sub\":\"1\",\"name\":\"alice\","
	         "\"sid\":\"0123456789012345678901234567890123456789"
	         "0123456789012345678901234\",\"iat\":1,\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED}, /* 65 */
	        {"{\"sub\":\"1\",\"name\":\"alice\",\"iat\":1,"
	         "\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        /* iat */
	        {"{\"sub\":\"1\",\"name\":\"alice\",\"sid\":\"s\","
	         "\"iat\":\"1\",\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        {"{\"sub\":\"1\",\"name\":\"alice\",\"sid\":\"s\","
	         "\"exp\":1795690000}",
	         PC_ERR_UNAUTHENTICATED},
	        /* not an object */
	        {"[1,2]", PC_ERR_UNAUTHENTICATED},
	        {"\"x\"", PC_ERR_UNAUTHENTICATED},
	        {"not json", PC_ERR_UNAUTHENTICATED},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (verify_payload(cases[i].payload) != cases[i].want)
			fail_msg("case %zu: %s", i, cases[i].payload);
}

static void
test_bad_inputs_and_keys(void **state)
{
	struct pc_principal p;
	struct pc_secret empty, shortkey = key;
	char *tok, *big;

	(void)state;
	assert_int_equal(pc_token_verify(&key, NULL, NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	assert_int_equal(pc_token_verify(&key, "", NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	assert_int_equal(pc_token_verify(&key, "a.b.c", NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	assert_int_equal(pc_token_verify(&key, "..", NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	assert_int_equal(pc_token_verify(&key, "nodots", NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	/* Over 4096 bytes, even if otherwise good. */
	big = malloc(5000);
	assert_non_null(big);
	memset(big, 'A', 4999);
	big[4999] = '\0';
	big[10] = '.';
	big[20] = '.';
	assert_int_equal(pc_token_verify(&key, big, NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	free(big);

	/* An empty key: libjwt would skip the signature; we refuse. */
	memset(&empty, 0, sizeof(empty));
	tok = make_token(hs256, "{" GOOD_CLAIMS ",\"exp\":1795690000}",
	                 (const unsigned char *)"", 0);
	assert_int_equal(pc_token_verify(&empty, tok, NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	free(tok);
	tok = make_token("{\"alg\":\"none\"}",
	                 "{" GOOD_CLAIMS ",\"exp\":1795690000}", NULL, 0);
	assert_int_equal(pc_token_verify(&empty, tok, NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	free(tok);
	/* A 31-byte key is refused even with a matching signature. */
	shortkey.len = 31;
	tok = make_token(hs256, "{" GOOD_CLAIMS ",\"exp\":1795690000}",
	                 shortkey.key, shortkey.len);
	assert_int_equal(pc_token_verify(&shortkey, tok, NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
	free(tok);
	assert_int_equal(pc_token_verify(NULL, "a.b.c", NOW, &p),
	                 PC_ERR_UNAUTHENTICATED);
}

/* Secret files. */

static char tmpdir[64];

static void
path_in_tmp(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
}

static void
write_file(const char *path, size_t n, mode_t mode)
{
	unsigned char buf[600];
	int fd;

	memset(buf, 0x5a, sizeof(buf));
	unlink(path);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_secret_create_and_load(void **state)
{
	struct pc_secret a, b;
	struct stat st;
	char path[128];

	(void)state;
	path_in_tmp(path, sizeof(path), "secret");
	memset(&a, 0, sizeof(a));
	errno = 0;
	assert_int_equal(pc_secret_load(path, 0, &a), PC_ERR_SYSTEM);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(pc_secret_load(path, 1, &a), PC_OK);
	assert_int_equal(a.len, 64);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 64);
	assert_int_equal(pc_secret_load(path, 1, &b), PC_OK);
	assert_int_equal(b.len, 64);
	assert_memory_equal(a.key, b.key, 64);
	pc_secret_wipe(&b);
	assert_int_equal(b.len, 0);
	/* No temporary file left behind. */
	{
		char tmp[160];

		snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
		assert_int_not_equal(access(tmp, F_OK), 0);
	}
	/* Loose modes are refused. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(pc_secret_load(path, 1, &b), PC_ERR_INVALID);
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(pc_secret_load(path, 1, &b), PC_ERR_INVALID);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(pc_secret_load(path, 0, &b), PC_OK);
	unlink(path);
	pc_secret_wipe(&a);
}

static void
test_secret_sizes(void **state)
{
	struct pc_secret s;
	char path[128];

	(void)state;
	path_in_tmp(path, sizeof(path), "sized");
	write_file(path, 31, 0600);
	assert_int_equal(pc_secret_load(path, 1, &s), PC_ERR_INVALID);
	write_file(path, 0, 0600);
	assert_int_equal(pc_secret_load(path, 1, &s), PC_ERR_INVALID);
	write_file(path, 32, 0600);
	assert_int_equal(pc_secret_load(path, 0, &s), PC_OK);
	assert_int_equal(s.len, 32);
	write_file(path, PC_SECRET_MAX, 0600);
	assert_int_equal(pc_secret_load(path, 0, &s), PC_OK);
	assert_int_equal(s.len, PC_SECRET_MAX);
	write_file(path, PC_SECRET_MAX + 1, 0600);
	assert_int_equal(pc_secret_load(path, 0, &s), PC_ERR_INVALID);
	unlink(path);
	/* A directory is not a secret. */
	assert_int_equal(pc_secret_load(tmpdir, 0, &s), PC_ERR_INVALID);
	assert_int_equal(pc_secret_load(NULL, 0, &s), PC_ERR_INVALID);
	assert_int_equal(pc_secret_load("", 0, &s), PC_ERR_INVALID);
	pc_secret_wipe(&s);
}

/* Several programs starting at once agree on one secret. */
static void
test_secret_race(void **state)
{
	enum { N = 6 };
	struct pc_secret s, mine;
	char path[128];
	int fds[N][2];
	pid_t pids[N];
	int i, status;
	unsigned char got[64];

	(void)state;
	path_in_tmp(path, sizeof(path), "raced");
	unlink(path);
	for (i = 0; i < N; i++) {
		assert_int_equal(pipe(fds[i]), 0);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(fds[i][0]);
			if (pc_secret_load(path, 1, &s) != PC_OK || s.len != 64)
				_exit(1);
			if (write(fds[i][1], s.key, 64) != 64)
				_exit(1);
			_exit(0);
		}
		close(fds[i][1]);
	}
	for (i = 0; i < N; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(pc_secret_load(path, 0, &mine), PC_OK);
	for (i = 0; i < N; i++) {
		assert_int_equal(read(fds[i][0], got, 64), 64);
		assert_memory_equal(got, mine.key, 64);
		close(fds[i][0]);
	}
	unlink(path);
	pc_secret_wipe(&mine);
}

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pc_token_XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_dir(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip),
	        cmocka_unit_test(test_sign_refuses_bad_principal),
	        cmocka_unit_test(test_sign_refuses_exp_beyond_2_53),
	        cmocka_unit_test(test_alg_none),
	        cmocka_unit_test(test_other_hmac_algs),
	        cmocka_unit_test(test_tampered),
	        cmocka_unit_test(test_claims),
	        cmocka_unit_test(test_bad_inputs_and_keys),
	        cmocka_unit_test_setup_teardown(test_secret_create_and_load,
	                                        setup_dir, teardown_dir),
	        cmocka_unit_test_setup_teardown(test_secret_sizes, setup_dir,
	                                        teardown_dir),
	        cmocka_unit_test_setup_teardown(test_secret_race, setup_dir,
	                                        teardown_dir),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
