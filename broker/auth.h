/*
 * auth.h: who is on each worker pipe, and which pipes hold which user and
 * session (contract section 4: the broker verifies tokens for workers and
 * closes the sockets of revoked sessions).
 *
 * A pipe's record is made when its AUTH arrives (pending while the session
 * row is checked by the store thread) and becomes authenticated when that
 * answer is good and the user has fewer than the allowed sockets. The token
 * is verified here with common/token.h (HS256 pinned, exp, sub, sid); the
 * database check (session not revoked or expired, user not deleted) is the
 * store's STORE_AUTH job. Main thread only.
 */
#ifndef PIPECHAT_BROKER_AUTH_H
#define PIPECHAT_BROKER_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "token.h"

enum auth_state { AUTH_PENDING = 1, AUTH_OK };

struct auth_pipe {
	uint32_t id;
	enum auth_state state;
	uint64_t req_id;         /* the AUTH being answered */
	struct pc_principal who; /* username replaced by the database's */
	int batch;               /* the worker understands PC_WIRE_BATCH */
};

/* Borrows secret until auth_fini. */
void auth_init(const struct pc_secret *secret);
/* Forgets every pipe. */
void auth_fini(void);

/* Verifies token (len bytes, not NUL-terminated) at time now. PC_OK and *out,
 * or PC_ERR_UNAUTHENTICATED. */
enum pc_err auth_token(const char *token, size_t len, time_t now,
                       struct pc_principal *out);
/* Records pipe as pending for who (replacing any earlier record). PC_OK or
 * PC_ERR_NOMEM. */
enum pc_err auth_begin(uint32_t pipe, uint64_t req_id,
                       const struct pc_principal *who, int batch);
/*
 * Makes pipe's pending record authenticated with the database's username.
 * PC_ERR_LIMIT_REACHED when the user already has max_sockets authenticated
 * pipes (the record is dropped), PC_ERR_NOT_FOUND when there is no pending
 * record (the pipe went away), PC_ERR_NOMEM.
 */
enum pc_err auth_accept(uint32_t pipe, const char *username,
                        int64_t max_sockets);
/* The record of pipe, or NULL. */
struct auth_pipe *auth_get(uint32_t pipe);
/* Drops pipe's record (any state). */
void auth_forget(uint32_t pipe);
/* The authenticated pipes of user: *pipes is borrowed until the next change. */
size_t auth_user_pipes(int64_t user, const uint32_t **pipes);
/* Copies into out (up to max) the authenticated pipes whose session is sid;
 * returns how many there are. */
size_t auth_session_pipes(const char *sid, uint32_t *out, size_t max);
/* How many pipes are authenticated. */
size_t auth_count(void);
/* How many users have an authenticated pipe. */
size_t auth_user_count(void);
/* Iterates those users: start with *pos = 0; each call returns non-zero and
 * writes the next user and their number of pipes, or 0 at the end. No
 * change to the records while iterating. */
int auth_next_user(size_t *pos, int64_t *user, int64_t *npipes);

#endif
