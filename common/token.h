/*
 * token.h: the session token (a JWT, HS256 only) and the secret it is signed
 * with. Used by the API (sign and verify) and the broker (verify for workers);
 * the worker never links the secret.
 *
 * libjwt 1.10 checks only the signature (FACTS.md), so pc_token_verify adds the
 * rest: the header's alg must be HS256 (none, HS384, HS512 are refused), `exp`
 * must be an integer in the future, `sub` a decimal user id string, `sid` a
 * session id, `name` a username; the key length is never zero.
 * Whether the session is revoked is the caller's question (it needs the database).
 */
#ifndef PIPECHAT_TOKEN_H
#define PIPECHAT_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "err.h"

#define PC_SECRET_MIN 32
#define PC_SECRET_MAX 256
#define PC_SID_MAX 64

struct pc_secret {
	unsigned char key[PC_SECRET_MAX];
	size_t len;
};

struct pc_principal {
	int64_t user_id;             /* claim sub, a decimal string */
	char username[33];           /* claim name */
	char sid[PC_SID_MAX + 1];    /* claim sid: the session id */
	int64_t iat, exp;            /* seconds since the epoch */
};

/*
 * Reads the secret from path. When create is non-zero and the file does not
 * exist, makes it first with 64 random bytes and mode 0600 (O_EXCL, so two
 * programs starting at once agree on one secret). Refuses a file shorter
 * than PC_SECRET_MIN bytes or readable by group or others.
 * PC_OK, PC_ERR_SYSTEM (errno set), PC_ERR_INVALID (too short, loose mode).
 */
enum pc_err pc_secret_load(const char *path, int create, struct pc_secret *out);
/* Wipes the key. */
void pc_secret_wipe(struct pc_secret *s);

/* Signs p (iat and exp taken from p) into a malloc'd token string. */
enum pc_err pc_token_sign(const struct pc_secret *key, const struct pc_principal *p,
    char **out);
/* Verifies token at time now. PC_OK and *out, or PC_ERR_UNAUTHENTICATED. */
enum pc_err pc_token_verify(const struct pc_secret *key, const char *token, time_t now,
    struct pc_principal *out);

#endif
