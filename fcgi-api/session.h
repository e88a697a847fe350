/*
 * session.h: sessions as the API sees them: the access_token cookie, the JWT
 * inside it (common/token.h) and the sessions row that makes it valid.
 *
 * A request is authenticated when its cookie holds a token that verifies
 * with the secret, whose sid names a sessions row that is not revoked, not
 * expired, belongs to the token's user, and whose user is not deleted.
 * Opening a session inserts the row and signs the token; revoking sets
 * revoked_at. Not for throttling (throttle.h) or HTTP answers.
 */
#ifndef PIPECHAT_API_SESSION_H
#define PIPECHAT_API_SESSION_H

#include <stdint.h>

#include "db.h"
#include "err.h"
#include "token.h"

#define SESSION_COOKIE    "access_token"
#define SESSION_TOKEN_MAX 4096
#define SESSION_ID_LEN    36 /* a uuid in text form */

/*
 * Authenticates the Cookie header (may be NULL). PC_OK and *out (user id,
 * username as stored, sid, iat, exp); PC_ERR_UNAUTHENTICATED;
 * PC_ERR_UNAVAILABLE. Refreshes last_seen_at at most once a minute.
 * session_token, then SESSION_WHO_SQL alone, then session_confirm.
 */
enum pc_err session_authenticate(struct db *db, const struct pc_secret *secret,
                                 const char *cookie_header,
                                 struct pc_principal *out);

/*
 * The half of session_authenticate that needs no database: the cookie's
 * token verifies with the secret (HS256, exp in the future) and carries a
 * well-formed sid and a positive user id. PC_OK and *out (its username is
 * the claim's, not yet the stored one); PC_ERR_UNAUTHENTICATED. Each
 * thread remembers the last token it verified (by hash), so a repeated
 * cookie costs a hash and an exp check. A token
 * that passes here is NOT yet a session: its row must be checked, by
 * session_authenticate or by a statement built on SESSION_WHO_SQL.
 */
enum pc_err session_token(const struct pc_secret *secret,
                          const char *cookie_header, struct pc_principal *out);

/*
 * What a live session is, once, in SQL: a CTE named `who` with one row
 * (uid, username, stale) when session $1 (the sid) of user $2 exists, is not
 * revoked, not expired, and its user is not deleted; no row otherwise.
 * `stale` says last_seen_at is over a minute old. A statement that starts
 * with it checks the session in the same round trip as its own work
 * (ROUTE_SESSION_SQL routes, see serve.c); session_authenticate runs it
 * alone. Parameters $1 and $2 are session_params' output.
 */
#define SESSION_WHO_SQL                                                        \
	"WITH who AS (SELECT u.id AS uid, u.username,"                         \
	" s.last_seen_at < now() - interval '1 minute' AS stale"               \
	" FROM sessions s JOIN users u ON u.id = s.user_id"                    \
	" WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL"         \
	" AND s.expires_at > now() AND u.deleted_at IS NULL)"

/* Fills params[0] (the sid, borrowed from p) and params[1] (the user id,
 * formatted into uid, DB_I64_LEN bytes) for SESSION_WHO_SQL. */
void session_params(const struct pc_principal *p, char *uid,
                    const char **params);

/*
 * Reads the outcome of a SESSION_WHO_SQL statement from res: row 0's column
 * col is who.username and col + 1 is who.stale; no row means no live
 * session (so a statement must return at least one row whenever `who` has
 * one). PC_OK: p->username becomes the stored name and last_seen_at is
 * refreshed when stale (a failed refresh is ignored). PC_ERR_UNAUTHENTICATED
 * when there is no row.
 */
enum pc_err session_confirm(struct db *db, const PGresult *res, int col,
                            struct pc_principal *p);

/*
 * Opens a session for the user: inserts the row (expires in ttl seconds;
 * address and user agent kept as printable ASCII, the agent cut to 256
 * bytes) and signs its token. PC_OK and *token (malloc'd: the caller wipes
 * and frees it); PC_ERR_UNAVAILABLE, PC_ERR_NOMEM.
 */
enum pc_err session_open(struct db *db, const struct pc_secret *secret,
                         int64_t user_id, const char *username,
                         const char *address, const char *user_agent,
                         int64_t ttl, char **token);

/* Revokes one session (no error when already revoked). PC_OK or
 * PC_ERR_UNAVAILABLE. */
enum pc_err session_revoke(struct db *db, const char *sid);
/* Revokes every unrevoked session of user_id. */
enum pc_err session_revoke_user(struct db *db, int64_t user_id);

/* Non-zero when s is a uuid in canonical text form (8-4-4-4-12 hex). */
int session_id_ok(const char *s);

/* Copies s into out (out_size bytes with the NUL) keeping printable ASCII
 * and writing '?' for any other byte; cuts at out_size - 1 bytes. */
void session_ascii(const char *s, char *out, size_t out_size);

#endif
