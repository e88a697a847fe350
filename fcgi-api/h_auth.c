/*
 * h_auth.c: accounts and sessions: register, login, logout, logout-all, me
 * (contract sections 3 and 8). Password hashing and throttles live in
 * password.c and throttle.c; sessions and tokens in session.c; this file
 * only sequences them and shapes the answers.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "handlers.h"
#include "json.h"
#include "jsonw.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "password.h"
#include "session.h"
#include "throttle.h"
#include "valid.h"

#define H_AUTH_LOGIN_NAME_MAX PC_EMAIL_MAX /* a username or an email */

/* {id, username, email, created_at} from columns col to col + 3 of row 0
 * (written directly: /api/me is one of the busiest routes, jsonw.h). */
static enum pc_err
h_auth_user_answer(struct call *c, int status, const PGresult *res, int col)
{
	struct jsonw w;

	jsonw_init(&w, resp_body(c->resp));
	jsonw_raw(&w, "{\"id\":");
	jsonw_int(&w, db_get_i64(res, 0, col));
	jsonw_raw(&w, ",\"username\":");
	jsonw_str(&w, db_get_str(res, 0, col + 1));
	jsonw_raw(&w, ",\"email\":");
	jsonw_str(&w, db_get_str(res, 0, col + 2));
	jsonw_raw(&w, ",\"created_at\":");
	jsonw_str(&w, db_get_str(res, 0, col + 3));
	jsonw_raw(&w, "}");
	return resp_json_done(c->resp, status, jsonw_end(&w));
}

/*
 * POST /api/register {username, email, password}: every attempt counts
 * towards the address's hourly limit, then the fields are checked, the
 * password hashed (argon2id) and the user inserted. The unique indexes on
 * lower(username) and lower(email) decide conflicts, so two racing
 * registrations cannot both win.
 */
enum pc_err
h_register(struct call *c)
{
	const char *username = NULL, *email = NULL, *password = NULL;
	const char *params[3];
	char hash[PASSWORD_HASH_MAX];
	PGresult *res = NULL;
	int64_t wait = 0;
	enum pc_err rc;

	memset(hash, 0, sizeof(hash));
	rc = throttle_register(c->db, c->req->client_addr, &wait);
	if (rc == PC_ERR_TOO_MANY_ATTEMPTS)
		c->resp->retry_after = wait;
	if (rc != PC_OK)
		goto out;
	if ((rc = call_str(c, "username", 1, &username)) != PC_OK ||
	    (rc = call_str(c, "email", 1, &email)) != PC_OK ||
	    (rc = call_str(c, "password", 1, &password)) != PC_OK)
		goto out;
	if (!pc_valid_username(username)) {
		rc = call_fail(c, PC_ERR_INVALID, "username");
		goto out;
	}
	if (!pc_valid_email(email)) {
		rc = call_fail(c, PC_ERR_INVALID, "email");
		goto out;
	}
	if (!pc_valid_password(password)) {
		rc = call_fail(c, PC_ERR_INVALID, "password");
		goto out;
	}
	rc = password_hash(password, strlen(password), hash);
	if (rc != PC_OK)
		goto out;
	params[0] = username;
	params[1] = email;
	params[2] = hash;
	rc = db_exec(c->db,
	             "INSERT INTO users (username, email, password_hash)"
	             " VALUES ($1, $2, $3)"
	             " RETURNING id, username, email, " DB_TS("created_at"),
	             3, params, &res);
	if (rc == PC_ERR_CONFLICT) {
		rc = call_fail(
		        c, PC_ERR_CONFLICT,
		        strcmp(db_constraint(c->db), "users_email_key") == 0
		                ? "email"
		                : "username");
		goto out;
	}
	if (rc != PC_OK)
		goto out;
	rc = h_auth_user_answer(c, 201, res, 0);
	if (rc == PC_OK)
		metrics_count(METRICS_REGISTRATIONS);
	if (rc == PC_OK)
		pc_log_info("registered user %s from %s", username,
		            c->req->client_addr);
out:
	sodium_memzero(hash, sizeof(hash));
	PQclear(res);
	throttle_prune(c->db);
	return rc;
}

/*
 * POST /api/login {username, password}: username may be the email. The
 * throttle is checked before the password, so while throttled even the
 * right password gets 429. An unknown name is verified against the dummy
 * hash, so it costs the same time and gets the same 401 as a wrong password.
 */
enum pc_err
h_login(struct call *c)
{
	const char *name = NULL, *password = NULL, *params[1];
	char account[H_AUTH_LOGIN_NAME_MAX + 1], *token = NULL;
	char username[PC_USERNAME_MAX + 1];
	PGresult *res = NULL;
	int64_t user_id = 0, wait = 0;
	enum pc_err rc;
	cJSON *o = NULL;
	int ok;

	if ((rc = call_str(c, "username", 1, &name)) != PC_OK ||
	    (rc = call_str(c, "password", 1, &password)) != PC_OK)
		goto out;
	if (name[0] == '\0' || strlen(name) > H_AUTH_LOGIN_NAME_MAX) {
		rc = call_fail(c, PC_ERR_INVALID, "username");
		goto out;
	}
	if (password[0] == '\0' || strlen(password) > PC_PASSWORD_MAX) {
		rc = call_fail(c, PC_ERR_INVALID, "password");
		goto out;
	}
	params[0] = name;
	rc = db_exec(
	        c->db,
	        "SELECT id, username, password_hash FROM users"
	        " WHERE deleted_at IS NULL"
	        " AND (lower(username) = lower($1) OR lower(email) = lower($1))"
	        " LIMIT 1",
	        1, params, &res);
	if (rc != PC_OK)
		goto out;
	username[0] = '\0';
	if (PQntuples(res) == 1 &&
	    strlen(db_get_str(res, 0, 1)) < sizeof(username)) {
		user_id = db_get_i64(res, 0, 0);
		strcpy(username, db_get_str(res, 0, 1));
		throttle_account_key(username, account, sizeof(account));
	} else {
		throttle_account_key(name, account, sizeof(account));
	}

	rc = throttle_login_check(c->db, account, c->req->client_addr, user_id,
	                          &wait);
	if (rc == PC_ERR_TOO_MANY_ATTEMPTS)
		c->resp->retry_after = wait;
	if (rc != PC_OK)
		goto out;

	if (user_id > 0)
		ok = password_verify(db_get_str(res, 0, 2), password,
		                     strlen(password));
	else
		ok = password_verify_dummy(password, strlen(password));
	if (!ok) {
		rc = throttle_login_failed(c->db, account, c->req->client_addr);
		if (rc == PC_OK)
			rc = PC_ERR_INVALID_CREDENTIALS;
		goto out;
	}

	rc = throttle_login_succeeded(c->db, account, c->req->client_addr,
	                              user_id);
	if (rc != PC_OK)
		goto out;
	rc = session_open(c->db, c->env->secret, user_id, username,
	                  c->req->client_addr, c->req->user_agent,
	                  c->env->set->token_ttl, &token);
	if (rc != PC_OK)
		goto out;
	rc = resp_set_cookie(c->resp, SESSION_COOKIE, token,
	                     c->env->set->token_ttl, c->req->https);
	if (rc != PC_OK) {
		rc = PC_ERR_INTERNAL;
		goto out;
	}
	o = cJSON_CreateObject();
	if (o == NULL || !pc_json_add_int(o, "id", user_id) ||
	    cJSON_AddStringToObject(o, "username", username) == NULL) {
		rc = PC_ERR_NOMEM;
		goto out;
	}
	rc = resp_json(c->resp, 200, o);
	if (rc == PC_OK)
		metrics_count(METRICS_LOGINS);
out:
	if (rc != PC_OK)
		c->resp->cookie[0] = '\0';
	if (token != NULL) {
		sodium_memzero(token, strlen(token));
		free(token);
	}
	cJSON_Delete(o);
	PQclear(res);
	throttle_prune(c->db);
	return rc;
}

/* Clears the cookie with the attributes it was set with. */
static void
h_auth_clear_cookie(struct call *c)
{
	(void)resp_set_cookie(c->resp, SESSION_COOKIE, "", 0, c->req->https);
}

/* POST /api/logout: revokes this session, clears the cookie, 204, then
 * tells the broker so the session's sockets close. */
enum pc_err
h_logout(struct call *c)
{
	enum pc_err rc;

	rc = session_revoke(c->db, c->who.sid);
	if (rc != PC_OK)
		return rc;
	h_auth_clear_cookie(c);
	resp_no_content(c->resp);
	notify_session_revoked(c->who.sid);
	return PC_OK;
}

/* POST /api/logout-all: revokes every session of mine, this one included. */
enum pc_err
h_logout_all(struct call *c)
{
	enum pc_err rc;

	rc = session_revoke_user(c->db, c->who.user_id);
	if (rc != PC_OK)
		return rc;
	h_auth_clear_cookie(c);
	resp_no_content(c->resp);
	notify_user_revoked(c->who.user_id);
	return PC_OK;
}

/* $1 sid, $2 user: who.username, who.stale, then the user's id, username,
 * email, created_at (no row: no live session). Out of clang-format, which
 * splits SQL literals between macros mid-word. */
/* clang-format off */
static const char h_me_sql[] =
        SESSION_WHO_SQL
        " SELECT who.username, who.stale,"
        " u.id, u.username, u.email, " DB_TS("u.created_at")
        " FROM who JOIN users u ON u.id = who.uid";
/* clang-format on */

/* GET /api/me: {id, username, email, created_at}. A ROUTE_SESSION_SQL
 * route: the session check and the user are one statement. */
enum pc_err
h_me(struct call *c)
{
	char uid[DB_I64_LEN];
	const char *params[2];
	PGresult *res = NULL;
	enum pc_err rc;

	session_params(&c->who, uid, params);
	rc = db_exec(c->db, h_me_sql, 2, params, &res);
	if (rc != PC_OK)
		goto out;
	if ((rc = call_confirm(c, res, 0)) != PC_OK)
		goto out;
	rc = h_auth_user_answer(c, 200, res, 2);
out:
	PQclear(res);
	return rc;
}
