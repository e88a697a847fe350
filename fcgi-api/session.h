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
 */
enum pc_err session_authenticate(struct db *db, const struct pc_secret *secret,
                                 const char *cookie_header,
                                 struct pc_principal *out);

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
