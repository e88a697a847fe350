/*
 * session.c: cookie -> token -> sessions row -> principal (session.h).
 * The one thing kept between requests is the last verified token of each
 * thread (its signature check, never whether its session is live).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "log.h"
#include "req.h"
#include "session.h"

int
session_id_ok(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	if (s == NULL || strlen(s) != SESSION_ID_LEN)
		return 0;
	for (i = 0; i < SESSION_ID_LEN; i++) {
		if (shape[i] == '-') {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		             (s[i] >= 'a' && s[i] <= 'f') ||
		             (s[i] >= 'A' && s[i] <= 'F'))) {
			return 0;
		}
	}
	return 1;
}

void
session_ascii(const char *s, char *out, size_t out_size)
{
	size_t i;

	if (out_size == 0)
		return;
	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < out_size; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
}

/*
 * The last token this thread verified, by its BLAKE2b hash, with its claims.
 * A client sends the same cookie on every request, and verifying it again
 * (base64, JSON, HMAC) cost about 11 us, a tenth of the API's time on
 * GET /api/me. The same bytes under the same secret always verify the same
 * way, so only the clock is checked again (exp); the sessions row, which
 * revocation changes, is still read on every request. Per thread, so no
 * lock; the token itself is not kept.
 */
static _Thread_local struct {
	unsigned char hash[crypto_generichash_BYTES];
	struct pc_principal p;
	int set;
} session_last;

enum pc_err
session_token(const struct pc_secret *secret, const char *cookie_header,
              struct pc_principal *out)
{
	unsigned char hash[crypto_generichash_BYTES];
	char token[SESSION_TOKEN_MAX];
	struct pc_principal p;
	time_t now = time(NULL);
	enum pc_err rc;

	memset(&p, 0, sizeof(p));
	if (req_cookie_get(cookie_header, SESSION_COOKIE, token,
	                   sizeof(token)) != PC_OK)
		return PC_ERR_UNAUTHENTICATED;
	crypto_generichash(hash, sizeof(hash), (const unsigned char *)token,
	                   strlen(token), NULL, 0);
	if (session_last.set &&
	    sodium_memcmp(hash, session_last.hash, sizeof(hash)) == 0) {
		sodium_memzero(token, sizeof(token));
		if (session_last.p.exp <= (int64_t)now)
			return PC_ERR_UNAUTHENTICATED; /* as pc_token_verify */
		*out = session_last.p;
		return PC_OK;
	}
	rc = pc_token_verify(secret, token, now, &p);
	sodium_memzero(token, sizeof(token));
	if (rc != PC_OK || !session_id_ok(p.sid) || p.user_id <= 0)
		return PC_ERR_UNAUTHENTICATED;
	memcpy(session_last.hash, hash, sizeof(hash));
	session_last.p = p;
	session_last.set = 1;
	*out = p;
	return PC_OK;
}

void
session_params(const struct pc_principal *p, char *uid, const char **params)
{
	params[0] = p->sid;
	params[1] = db_i64(uid, p->user_id);
}

enum pc_err
session_confirm(struct db *db, const PGresult *res, int col,
                struct pc_principal *p)
{
	const char *params[1];

	if (PQntuples(res) < 1 || db_is_null(res, 0, col))
		return PC_ERR_UNAUTHENTICATED;
	/* The stored name is the truth (the claim may be older). */
	strncpy(p->username, db_get_str(res, 0, col), sizeof(p->username) - 1);
	p->username[sizeof(p->username) - 1] = '\0';
	if (db_get_bool(res, 0, col + 1)) {
		/* A failed refresh costs nothing but freshness. */
		params[0] = p->sid;
		(void)db_exec(db,
		              "UPDATE sessions SET last_seen_at = now() WHERE "
		              "id = $1",
		              1, params, NULL);
	}
	return PC_OK;
}

enum pc_err
session_authenticate(struct db *db, const struct pc_secret *secret,
                     const char *cookie_header, struct pc_principal *out)
{
	char uid[DB_I64_LEN];
	struct pc_principal p;
	const char *params[2];
	PGresult *res = NULL;
	enum pc_err rc;

	memset(&p, 0, sizeof(p));
	if ((rc = session_token(secret, cookie_header, &p)) != PC_OK)
		return rc;
	session_params(&p, uid, params);
	rc = db_exec(db, SESSION_WHO_SQL " SELECT username, stale FROM who", 2,
	             params, &res);
	if (rc != PC_OK)
		goto out;
	if ((rc = session_confirm(db, res, 0, &p)) == PC_OK)
		*out = p;
out:
	PQclear(res);
	return rc;
}

enum pc_err
session_open(struct db *db, const struct pc_secret *secret, int64_t user_id,
             const char *username, const char *address, const char *user_agent,
             int64_t ttl, char **token)
{
	char uid[DB_I64_LEN], exp[DB_I64_LEN], addr[64], ua[256 + 1];
	struct pc_principal p;
	const char *params[4];
	PGresult *res = NULL;
	enum pc_err rc;
	time_t now = time(NULL);

	memset(&p, 0, sizeof(p));
	session_ascii(address, addr, sizeof(addr));
	session_ascii(user_agent, ua, sizeof(ua));
	p.user_id = user_id;
	p.iat = (int64_t)now;
	p.exp = (int64_t)now + ttl;
	if (strlen(username) >= sizeof(p.username))
		return PC_ERR_INTERNAL;
	strcpy(p.username, username);

	params[0] = db_i64(uid, user_id);
	params[1] = db_i64(exp, p.exp);
	params[2] = addr;
	params[3] = ua;
	rc = db_exec(db,
	             "INSERT INTO sessions (user_id, expires_at, address, "
	             "user_agent)"
	             " VALUES ($1, to_timestamp($2), $3, $4) RETURNING id",
	             4, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1 ||
	    strlen(db_get_str(res, 0, 0)) >= sizeof(p.sid)) {
		rc = PC_ERR_INTERNAL;
		goto out;
	}
	strcpy(p.sid, db_get_str(res, 0, 0));
	rc = pc_token_sign(secret, &p, token);
	if (rc != PC_OK)
		pc_log_err("pc_token_sign failed: %s", pc_err_code(rc));
out:
	PQclear(res);
	return rc;
}

enum pc_err
session_revoke(struct db *db, const char *sid)
{
	const char *params[1] = {sid};

	return db_exec(db,
	               "UPDATE sessions SET revoked_at = now()"
	               " WHERE id = $1 AND revoked_at IS NULL",
	               1, params, NULL);
}

enum pc_err
session_revoke_user(struct db *db, int64_t user_id)
{
	char uid[DB_I64_LEN];
	const char *params[1] = {db_i64(uid, user_id)};

	return db_exec(db,
	               "UPDATE sessions SET revoked_at = now()"
	               " WHERE user_id = $1 AND revoked_at IS NULL",
	               1, params, NULL);
}
