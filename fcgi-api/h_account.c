/*
 * h_account.c: the signed-in user's own account: sessions (list, revoke
 * one), password change and account deletion (contract sections 3 and 8).
 * Both of the latter ask for the password again; a wrong one is a login
 * failure for the throttles, and a throttled account gets 429 here too, so
 * a stolen cookie cannot be used to guess the password without limit.
 * Sign-in itself is h_auth.c's.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "handlers.h"
#include "json.h"
#include "log.h"
#include "notify.h"
#include "password.h"
#include "room.h"
#include "session.h"
#include "throttle.h"
#include "valid.h"

/* The account name every deleted user is renamed to: "deleted-<id>". */
#define H_ACCOUNT_DELETED_NAME "'deleted-' || id"

/* Clears the cookie with the attributes it was set with. */
static void
h_account_clear_cookie(struct call *c)
{
	(void)resp_set_cookie(c->resp, SESSION_COOKIE, "", 0, c->req->https);
}

/*
 * The string field key of the body as a password to check: required; empty
 * or longer than PC_PASSWORD_MAX is 422 (not counted as a failure, as for
 * login).
 */
static enum pc_err
h_account_password_field(struct call *c, const char *key, const char **out)
{
	const char *pw = NULL;
	enum pc_err rc;

	if ((rc = call_str(c, key, 1, &pw)) != PC_OK)
		return rc;
	if (pw[0] == '\0' || strlen(pw) > PC_PASSWORD_MAX)
		return call_fail(c, PC_ERR_INVALID, key);
	*out = pw;
	return PC_OK;
}

/*
 * Checks password (field `field`) against the caller's stored hash, under
 * the login throttle of (account, address): throttled is 429 with
 * Retry-After, wrong is a recorded failure and 401 invalid_credentials,
 * right clears the pair's failures as a login would.
 */
static enum pc_err
h_account_reauth(struct call *c, const char *field, const char *password)
{
	char uid[DB_I64_LEN], account[PC_USERNAME_MAX + 1];
	const char *params[1] = {db_i64(uid, c->who.user_id)};
	PGresult *res = NULL;
	int64_t wait = 0;
	enum pc_err rc;

	rc = db_exec(c->db,
	             "SELECT username, password_hash FROM users"
	             " WHERE id = $1 AND deleted_at IS NULL",
	             1, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = PC_ERR_UNAUTHENTICATED; /* deleted meanwhile */
		goto out;
	}
	throttle_account_key(db_get_str(res, 0, 0), account, sizeof(account));
	rc = throttle_login_check(c->db, account, c->req->client_addr,
	                          c->who.user_id, &wait);
	if (rc == PC_ERR_TOO_MANY_ATTEMPTS)
		c->resp->retry_after = wait;
	if (rc != PC_OK)
		goto out;
	if (!password_verify(db_get_str(res, 0, 1), password,
	                     strlen(password))) {
		rc = throttle_login_failed(c->db, account, c->req->client_addr);
		if (rc == PC_OK)
			rc = call_fail(c, PC_ERR_INVALID_CREDENTIALS, field);
		goto out;
	}
	rc = throttle_login_succeeded(c->db, account, c->req->client_addr,
	                              c->who.user_id);
out:
	PQclear(res);
	return rc;
}

/*
 * GET /api/sessions: {sessions:[{id, created_at, last_seen_at, address,
 * user_agent, current}]}: my sessions neither revoked nor expired, newest
 * first.
 */
static const struct db_col session_cols[] = {
        {"id", DB_COL_STR},           {"created_at", DB_COL_STR},
        {"last_seen_at", DB_COL_STR}, {"address", DB_COL_STR},
        {"user_agent", DB_COL_STR},   {"current", DB_COL_BOOL},
};

enum pc_err
h_sessions_list(struct call *c)
{
	char uid[DB_I64_LEN];
	const char *params[2] = {db_i64(uid, c->who.user_id), c->who.sid};
	PGresult *res = NULL;
	cJSON *root = NULL;
	enum pc_err rc;

	rc = db_exec(c->db,
	             "SELECT id, " DB_TS("created_at") ", " DB_TS(
	                     "last_seen_at") ", address, user_agent,"
	                                     " id = $2::uuid FROM sessions"
	                                     " WHERE user_id = $1 AND "
	                                     "revoked_at IS NULL"
	                                     " AND expires_at > now()"
	                                     " ORDER BY created_at DESC, id",
	             2, params, &res);
	if (rc != PC_OK)
		goto out;
	if ((rc = db_rows_json(res, "sessions", session_cols,
	                       DB_NCOLS(session_cols), &root)) != PC_OK)
		goto out;
	rc = resp_json(c->resp, 200, root);
out:
	cJSON_Delete(root);
	PQclear(res);
	return rc;
}

/*
 * DELETE /api/sessions/{id}: revokes one of my live sessions (someone
 * else's, a revoked, an expired or a malformed id is 404). Revoking the
 * current one also clears its cookie, as logout does. 204; its sockets
 * close.
 */
enum pc_err
h_sessions_revoke(struct call *c)
{
	const char *sid = router_param(c->match, "id");
	char uid[DB_I64_LEN], revoked[SESSION_ID_LEN + 1];
	const char *params[3];
	PGresult *res = NULL;
	enum pc_err rc;

	if (!session_id_ok(sid))
		return PC_ERR_NOT_FOUND;
	params[0] = sid;
	params[1] = db_i64(uid, c->who.user_id);
	params[2] = c->who.sid;
	rc = db_exec(c->db,
	             "UPDATE sessions SET revoked_at = now()"
	             " WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL"
	             " AND expires_at > now() RETURNING id, id = $3::uuid",
	             3, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1 ||
	    strlen(db_get_str(res, 0, 0)) != SESSION_ID_LEN) {
		rc = PC_ERR_NOT_FOUND;
		goto out;
	}
	strcpy(revoked, db_get_str(res, 0, 0));
	if (db_get_bool(res, 0, 1))
		h_account_clear_cookie(c);
	resp_no_content(c->resp);
	notify_session_revoked(revoked);
out:
	PQclear(res);
	return rc;
}

/*
 * POST /api/password {current, new}: `new` is checked like a registration
 * password (422 field new), `current` by h_account_reauth. The new hash is
 * stored and every other session revoked in one transaction; this session
 * stays signed in. 204, then the other sessions' sockets close.
 */
enum pc_err
h_password_change(struct call *c)
{
	const char *current = NULL, *fresh = NULL, *params[3];
	char hash[PASSWORD_HASH_MAX], uid[DB_I64_LEN];
	PGresult *res = NULL;
	enum pc_err rc;
	int i;

	memset(hash, 0, sizeof(hash));
	if ((rc = h_account_password_field(c, "current", &current)) != PC_OK ||
	    (rc = call_str(c, "new", 1, &fresh)) != PC_OK)
		goto out;
	if (!pc_valid_password(fresh)) {
		rc = call_fail(c, PC_ERR_INVALID, "new");
		goto out;
	}
	if ((rc = h_account_reauth(c, "current", current)) != PC_OK)
		goto out;
	if ((rc = password_hash(fresh, strlen(fresh), hash)) != PC_OK)
		goto out;
	params[0] = db_i64(uid, c->who.user_id);
	params[1] = hash;
	params[2] = c->who.sid;
	if ((rc = db_begin(c->db)) != PC_OK)
		goto out;
	rc = db_exec(c->db,
	             "UPDATE users SET password_hash = $2"
	             " WHERE id = $1 AND deleted_at IS NULL RETURNING id",
	             2, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = PC_ERR_UNAUTHENTICATED;
		goto out;
	}
	PQclear(res);
	res = NULL;
	params[1] = params[2];
	rc = db_exec(c->db,
	             "UPDATE sessions SET revoked_at = now()"
	             " WHERE user_id = $1 AND id <> $2::uuid"
	             " AND revoked_at IS NULL RETURNING id",
	             2, params, &res);
	if (rc != PC_OK)
		goto out;
	if ((rc = db_commit(c->db)) != PC_OK)
		goto out;
	resp_no_content(c->resp);
	pc_log_info("user %lld changed password; %d other sessions revoked",
	            (long long)c->who.user_id, PQntuples(res));
	for (i = 0; i < PQntuples(res); i++)
		notify_session_revoked(db_get_str(res, i, 0));
out:
	db_rollback(c->db);
	sodium_memzero(hash, sizeof(hash));
	PQclear(res);
	return rc;
}

/* A room the deleted user left, and whether it changed owner or vanished. */
struct h_account_left {
	int64_t room;
	int changed;
};

/*
 * The deletion itself, in the caller's transaction: leaves every room but
 * direct ones (room_remove_member's rules), drops invitations, blocks and
 * remembered addresses, revokes every session and renames the row
 * ("deleted-<id>", an address that cannot be mailed, a hash nothing
 * matches) with deleted_at set, so name and email are free at once.
 * *left (malloc'd, *nleft entries) lists the rooms left.
 */
static enum pc_err
h_account_delete_tx(struct call *c, struct h_account_left **left, size_t *nleft)
{
	static const char *const cleanup[] = {
	        "DELETE FROM invites WHERE from_user = $1 OR to_user = $1",
	        "DELETE FROM blocks WHERE blocker = $1 OR blocked = $1",
	        "DELETE FROM login_successes WHERE user_id = $1",
	        "UPDATE sessions SET revoked_at = now()"
	        " WHERE user_id = $1 AND revoked_at IS NULL",
	        "UPDATE users SET deleted_at = now(),"
	        " username = " H_ACCOUNT_DELETED_NAME ","
	        " email = " H_ACCOUNT_DELETED_NAME " || '@deleted.invalid',"
	        " password_hash = '!' WHERE id = $1",
	};
	char uid[DB_I64_LEN];
	const char *params[1] = {db_i64(uid, c->who.user_id)};
	struct h_account_left *l = NULL;
	PGresult *res = NULL;
	enum pc_err rc;
	size_t n = 0, i;

	rc = db_exec(c->db,
	             "SELECT id FROM users WHERE id = $1 AND deleted_at IS NULL"
	             " FOR UPDATE",
	             1, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = PC_ERR_UNAUTHENTICATED;
		goto out;
	}
	PQclear(res);
	res = NULL;
	rc = db_exec(c->db,
	             "SELECT m.room_id FROM room_members m"
	             " JOIN rooms r ON r.id = m.room_id"
	             " WHERE m.user_id = $1 AND r.kind <> 'direct'"
	             " ORDER BY m.room_id",
	             1, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) > 0 &&
	    (l = calloc((size_t)PQntuples(res), sizeof(*l))) == NULL) {
		rc = PC_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < (size_t)PQntuples(res); i++) {
		l[n].room = db_get_i64(res, (int)i, 0);
		rc = room_remove_member(c->db, l[n].room, c->who.user_id,
		                        &l[n].changed);
		if (rc == PC_ERR_NOT_FOUND)
			continue; /* the room went meanwhile */
		if (rc != PC_OK)
			goto out;
		n++;
	}
	for (i = 0; i < sizeof(cleanup) / sizeof(cleanup[0]); i++) {
		if ((rc = db_exec(c->db, cleanup[i], 1, params, NULL)) != PC_OK)
			goto out;
	}
	*left = l;
	*nleft = n;
	l = NULL;
out:
	free(l);
	PQclear(res);
	return rc;
}

/*
 * DELETE /api/me {password}: deletes my account (h_account_delete_tx),
 * clears the cookie, 204; then every socket of mine closes and the rooms I
 * left hear of it. My messages stay, shown as from "deleted user"; direct
 * rooms with me stay readable by the other side.
 */
enum pc_err
h_me_delete(struct call *c)
{
	struct h_account_left *left = NULL;
	const char *password = NULL;
	size_t nleft = 0, i;
	enum pc_err rc;

	if ((rc = h_account_password_field(c, "password", &password)) != PC_OK)
		return rc;
	if ((rc = h_account_reauth(c, "password", password)) != PC_OK)
		return rc;
	if ((rc = db_begin(c->db)) != PC_OK)
		return rc;
	rc = h_account_delete_tx(c, &left, &nleft);
	if (rc == PC_OK)
		rc = db_commit(c->db);
	db_rollback(c->db);
	if (rc != PC_OK)
		goto out;
	pc_log_info("user %lld deleted their account",
	            (long long)c->who.user_id);
	h_account_clear_cookie(c);
	resp_no_content(c->resp);
	notify_user_revoked(c->who.user_id);
	for (i = 0; i < nleft; i++) {
		notify_member_left(left[i].room, c->who.user_id);
		if (left[i].changed)
			notify_room_changed(left[i].room);
	}
out:
	free(left);
	return rc;
}
