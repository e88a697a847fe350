/*
 * throttle.h: the login and registration throttles (contract sections 3
 * and 8), counted in PostgreSQL so every API process and thread shares them.
 *
 * Login: failures are rows of login_failures (account, address, at). Within
 * 15 minutes, 5 failures for one (account, address) pair, 100 from one
 * address, or 100 for one account from all addresses throttle, the last one
 * except for an address that signed in to that account in the last 30 days
 * (login_successes). Registration: 20 attempts per address per hour, every
 * attempt counted. A throttled answer carries the seconds until the window
 * frees. Creation: rooms and invitations a user made within the hour
 * (creation_log, sql/0003), against the limits given by the caller
 * (PIPECHAT_ROOM_CREATE_RATE, PIPECHAT_INVITE_RATE). This file decides and
 * records; it does not answer HTTP.
 */
#ifndef PIPECHAT_API_THROTTLE_H
#define PIPECHAT_API_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

#define THROTTLE_PAIR_MAX     5
#define THROTTLE_ADDR_MAX     100
#define THROTTLE_ACCOUNT_MAX  100
#define THROTTLE_REGISTER_MAX 20

/* The throttle key of a login name into out (out_size > 0): ASCII letters
 * lowered, other bytes kept (usernames are ASCII; a name nobody has only
 * needs to be consistent). The key of an existing account is its stored
 * username's. */
void throttle_account_key(const char *name, char *out, size_t out_size);

/*
 * Is a login for account (lower-case key) from address allowed? user_id is
 * the account's id, or 0 when no such user exists. PC_OK; or
 * PC_ERR_TOO_MANY_ATTEMPTS with *retry_after (seconds, >= 1);
 * PC_ERR_UNAVAILABLE.
 */
enum pc_err throttle_login_check(struct db *db, const char *account,
                                 const char *address, int64_t user_id,
                                 int64_t *retry_after);
/* Records a failed login. PC_OK or PC_ERR_UNAVAILABLE. */
enum pc_err throttle_login_failed(struct db *db, const char *account,
                                  const char *address);
/* Records a success: clears the pair's failures, remembers the address for
 * the account. PC_OK or PC_ERR_UNAVAILABLE. */
enum pc_err throttle_login_succeeded(struct db *db, const char *account,
                                     const char *address, int64_t user_id);

/*
 * Counts a registration attempt from address, unless the address is
 * already over the limit. PC_OK (counted); PC_ERR_TOO_MANY_ATTEMPTS with
 * *retry_after; PC_ERR_UNAVAILABLE.
 */
enum pc_err throttle_register(struct db *db, const char *address,
                              int64_t *retry_after);

/* What throttle_create counts (creation_log.kind). */
enum throttle_kind {
	THROTTLE_ROOM,   /* a room, direct rooms included when made */
	THROTTLE_INVITE, /* an invitation */
};

/*
 * Counts one creation of kind by user_id, unless the user already made
 * limit (>= 1) of that kind within the last hour. Must run inside the
 * caller's transaction (db_begin), so that the record goes with the
 * creation: a rollback forgets both. Takes a transaction-scoped advisory
 * lock per (user, kind), so two concurrent creations cannot both pass at
 * limit - 1. PC_OK (counted); PC_ERR_RATE_LIMITED with *retry_after
 * (seconds until the oldest counted row leaves the hour, >= 1);
 * PC_ERR_UNAVAILABLE.
 */
enum pc_err throttle_create(struct db *db, enum throttle_kind kind,
                            int64_t user_id, int64_t limit,
                            int64_t *retry_after);

/* Deletes rows that no window looks at any more; at most once a minute per
 * process, whatever the number of callers. Errors are logged and ignored. */
void throttle_prune(struct db *db);

#endif
