/*
 * mint_tokens.c: writes fuzz_token's seed corpus: real tokens made by
 * pc_token_sign with the fuzz key (fuzz_util.h), plus a few 'J' (header and
 * claims to be signed by the harness) and 'P' (principal) seeds.
 * Usage: fuzz_mint_tokens DIR. Run by hand when token.c's format changes;
 * not part of a fuzz run. Not a tool for real secrets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "token.h"

static int
put(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n ||
	    fclose(f) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
put_principal(const char *dir, const char *name, int64_t id, int64_t iat,
              int64_t exp, const char *user, const char *sid)
{
	unsigned char buf[256];
	size_t n = 0, i;
	int64_t v[3] = {id, iat, exp};

	buf[n++] = 'P';
	for (i = 0; i < 3; i++) {
		int b;

		for (b = 7; b >= 0; b--)
			buf[n++] = (unsigned char)((uint64_t)v[i] >> (b * 8));
	}
	memcpy(buf + n, user, strlen(user) + 1);
	n += strlen(user) + 1;
	memcpy(buf + n, sid, strlen(sid));
	n += strlen(sid);
	return put(dir, name, buf, n);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *file;
		int64_t id, iat, exp;
		const char *name, *sid;
	} toks[] = {
	        {"token-alice", 1, 1763990000, FUZZ_EXP, "alice", "s-1"},
	        {"token-long-sid", 9007199254740991, 0, FUZZ_EXP, "a.b-c_d",
	         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abc"
	         "def"},
	        {"token-expired", 42, 1700000000, 1700086400, "bob", "sess"},
	        {"token-max-name", 7, 1763990000, FUZZ_EXP,
	         "abcdefghijklmnopqrstuvwxyz012345", "x"},
	};
	static const char *const json[][2] = {
	        {"{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
	         "{\"sub\":\"1\",\"name\":\"alice\",\"sid\":\"s-1\",\"iat\":"
	         "1763990000,\"exp\":4102444800}"},
	        {"{\"alg\":\"none\"}",
	         "{\"sub\":\"1\",\"name\":\"alice\",\"sid\":\"s\",\"iat\":0,"
	         "\"exp\":4102444800}"},
	        {"{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
	         "{\"sub\":\"1\",\"name\":\"alice\",\"sid\":\"s\",\"iat\":0,"
	         "\"exp\":4102444800}"},
	        {"{\"alg\":\"HS256\"}",
	         "{\"sub\":1,\"name\":\"alice\",\"sid\":\"s\",\"iat\":0,"
	         "\"exp\":\"4102444800\"}"},
	        {"{\"alg\":\"HS256\"}",
	         "{\"sub\":\"01\",\"name\":\"a\\u0000b\",\"sid\":\"s "
	         "s\",\"iat\":0,\"exp\":4.1e9}"},
	        {"{\"alg\":\"HS256\"}",
	         "{\"sub\":\"2\",\"name\":\"bob\",\"sid\":\"t\",\"iat\":0,"
	         "\"exp\":9007199254740993}"},
	        {"{\"alg\":\"HS256\"}", "[1,2,3]"},
	};
	struct pc_secret key;
	struct pc_principal p;
	char name[64], *tok;
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	memset(&key, 0, sizeof(key));
	fuzz_key(key.key);
	key.len = FUZZ_KEY_LEN;
	for (i = 0; i < sizeof(toks) / sizeof(toks[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.user_id = toks[i].id;
		p.iat = toks[i].iat;
		p.exp = toks[i].exp;
		snprintf(p.username, sizeof(p.username), "%s", toks[i].name);
		snprintf(p.sid, sizeof(p.sid), "%s", toks[i].sid);
		if (pc_token_sign(&key, &p, &tok) != PC_OK) {
			fprintf(stderr, "pc_token_sign refused %s\n",
			        toks[i].file);
			return 1;
		}
		if (put(argv[1], toks[i].file, tok, strlen(tok)) != 0)
			return 1;
		free(tok);
	}
	for (i = 0; i < sizeof(json) / sizeof(json[0]); i++) {
		char buf[1024];
		size_t h = strlen(json[i][0]), c = strlen(json[i][1]);

		buf[0] = 'J';
		memcpy(buf + 1, json[i][0], h + 1);
		memcpy(buf + 2 + h, json[i][1], c);
		snprintf(name, sizeof(name), "json-%zu", i);
		if (put(argv[1], name, buf, 2 + h + c) != 0)
			return 1;
	}
	if (put_principal(argv[1], "principal-alice", 1, 1763990000, FUZZ_EXP,
	                  "alice", "s-1") != 0 ||
	    put_principal(argv[1], "principal-expired", 5, 100, 200, "bob",
	                  "s") != 0 ||
	    put_principal(argv[1], "principal-bad-name", 5, 100, FUZZ_EXP,
	                  "b b", "s") != 0)
		return 1;
	return 0;
}
