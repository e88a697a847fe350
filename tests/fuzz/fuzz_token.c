/*
 * fuzz_token.c: pc_token_verify (common/token.h) with a fixed 64-byte key at
 * a fixed time. The first byte picks what the rest is:
 *   'J' header JSON, a NUL, claims JSON: the harness signs them itself
 *       (HMAC-SHA256 with the key, base64url), so libFuzzer reaches every
 *       claim check behind the signature, not only libjwt's decoder;
 *   'P' a principal (8 bytes id, 8 iat, 8 exp, then name NUL sid): signed
 *       with pc_token_sign, then verified: what was signed comes back;
 *   anything else: the whole input is token text (seeds are real tokens
 *       made by pc_token_sign, see mint_tokens.c).
 * Whatever verifies must be a principal the contract allows: a positive id,
 * a valid username, a 1-64 printable sid, exp in the future.
 */
#include <time.h>

#include <sodium.h>

#include "fuzz_util.h"
#include "token.h"
#include "valid.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pc_secret fuzz_secret;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	FUZZ_CHECK(sodium_init() >= 0);
	fuzz_key(fuzz_secret.key);
	fuzz_secret.len = FUZZ_KEY_LEN;
	return 0;
}

static void
check_principal(const struct pc_principal *p)
{
	size_t i, n = strlen(p->sid);

	FUZZ_CHECK(p->user_id >= 1);
	FUZZ_CHECK(pc_valid_username(p->username));
	FUZZ_CHECK(n >= 1 && n <= PC_SID_MAX);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(p->sid[i] >= 0x21 && p->sid[i] <= 0x7e);
	FUZZ_CHECK(p->exp > (int64_t)FUZZ_NOW);
	FUZZ_CHECK(p->iat >= 0);
}

static void
verify(const char *token)
{
	struct pc_principal p;
	enum pc_err e;

	memset(&p, 0xa5, sizeof(p));
	e = pc_token_verify(&fuzz_secret, token, FUZZ_NOW, &p);
	FUZZ_CHECK(e == PC_OK || e == PC_ERR_UNAUTHENTICATED);
	if (e == PC_OK)
		check_principal(&p);
}

/* base64url without padding of p[0..n) appended at out (room for it). */
static char *
b64(char *out, const unsigned char *p, size_t n)
{
	size_t room = sodium_base64_ENCODED_LEN(
	        n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);

	sodium_bin2base64(out, room, p, n,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out + strlen(out);
}

/* 'J': header NUL claims, signed here. */
static void
signed_json(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t hlen = nul != NULL ? (size_t)(nul - data) : size;
	const uint8_t *claims = nul != NULL ? nul + 1 : data + size;
	size_t clen = size - hlen - (nul != NULL);
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	char *tok, *p;

	tok = malloc(2 * (size + 64) + 64);
	FUZZ_CHECK(tok != NULL);
	p = b64(tok, data, hlen);
	*p++ = '.';
	p = b64(p, claims, clen);
	crypto_auth_hmacsha256_init(&st, fuzz_secret.key, fuzz_secret.len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)tok,
	                              (size_t)(p - tok));
	crypto_auth_hmacsha256_final(&st, mac);
	*p++ = '.';
	b64(p, mac, sizeof(mac));
	verify(tok);
	free(tok);
}

static int64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return (int64_t)v;
}

/* 'P': sign a principal, verify it, get it back. */
static void
round_trip(const uint8_t *data, size_t size)
{
	struct pc_principal in, out;
	const char *name, *sid;
	char *rest, *tok = NULL;
	enum pc_err e;

	if (size < 24)
		return;
	memset(&in, 0, sizeof(in));
	in.user_id = get64(data);
	in.iat = get64(data + 8);
	in.exp = get64(data + 16);
	rest = fuzz_cstr(data + 24, size - 24);
	name = rest;
	sid = rest + strlen(rest);
	if ((size_t)(sid - rest) < size - 24)
		sid++; /* after the NUL */
	if (strlen(name) >= sizeof(in.username) ||
	    strlen(sid) >= sizeof(in.sid)) {
		free(rest);
		return;
	}
	memcpy(in.username, name, strlen(name) + 1);
	memcpy(in.sid, sid, strlen(sid) + 1);
	free(rest);

	e = pc_token_sign(&fuzz_secret, &in, &tok);
	FUZZ_CHECK(e == PC_OK || e == PC_ERR_INVALID || e == PC_ERR_NOMEM);
	if (e != PC_OK)
		return;
	FUZZ_CHECK(tok != NULL);
	memset(&out, 0, sizeof(out));
	e = pc_token_verify(&fuzz_secret, tok, FUZZ_NOW, &out);
	if (in.exp <= (int64_t)FUZZ_NOW) {
		FUZZ_CHECK(e == PC_ERR_UNAUTHENTICATED);
	} else {
		if (e != PC_OK)
			fprintf(stderr, "signed but refused: %s\n", tok);
		FUZZ_CHECK(e == PC_OK);
		check_principal(&out);
		FUZZ_CHECK(out.user_id == in.user_id);
		FUZZ_CHECK(strcmp(out.username, in.username) == 0);
		FUZZ_CHECK(strcmp(out.sid, in.sid) == 0);
		FUZZ_CHECK(out.iat == in.iat && out.exp == in.exp);
	}
	/* Any other key refuses it. */
	{
		struct pc_secret other = fuzz_secret;

		other.key[0] ^= 1;
		FUZZ_CHECK(pc_token_verify(&other, tok, FUZZ_NOW, &out) ==
		           PC_ERR_UNAUTHENTICATED);
	}
	free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > 0 && data[0] == 'J') {
		signed_json(data + 1, size - 1);
		return 0;
	}
	if (size > 0 && data[0] == 'P') {
		round_trip(data + 1, size - 1);
		return 0;
	}
	s = fuzz_cstr(data, size);
	verify(s);
	free(s);
	return 0;
}
