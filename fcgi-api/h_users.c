/*
 * h_users.c: other people: the user directory (GET /api/users) and my
 * blocks (contract sections 3 and 8). Finding one user by name and the
 * block rule itself are user.c's.
 */
#include <string.h>

#include "handlers.h"
#include "json.h"
#include "user.h"
#include "valid.h"

#define H_USERS_PAGE_DEFAULT 50
#define H_USERS_PAGE_MAX     200

/*
 * Makes the LIKE pattern "<q>%" with LIKE's metacharacters escaped, into
 * out (2 * PC_USERNAME_MAX + 2 bytes). Returns 0 when q cannot be the
 * start of any username (too long, or a byte no username has): nobody
 * matches, and such bytes never reach PostgreSQL.
 */
static int
h_users_pattern(const char *q, char *out, size_t out_size)
{
	static const char extra[] = "_.-";
	size_t i, o = 0;

	if (strlen(q) > PC_USERNAME_MAX || out_size < 2 * PC_USERNAME_MAX + 2)
		return 0;
	for (i = 0; q[i] != '\0'; i++) {
		if (!((q[i] >= 'a' && q[i] <= 'z') ||
		      (q[i] >= 'A' && q[i] <= 'Z') ||
		      (q[i] >= '0' && q[i] <= '9') || strchr(extra, q[i])))
			return 0;
		if (q[i] == '_')
			out[o++] = '\\';
		out[o++] = q[i];
	}
	out[o++] = '%';
	out[o] = '\0';
	return 1;
}

/*
 * GET /api/users?q=&limit=&after=: live users whose username starts with
 * q ignoring case (q absent or empty: everyone), the caller included,
 * ascending by id after `after`, {users:[{id, username, online}], next}.
 * online: the user has an open socket, as the broker last wrote to
 * user_online (it lags by up to about a second).
 */
enum pc_err
h_users_list(struct call *c)
{
	char q[PC_USERNAME_MAX + 2], pat[2 * PC_USERNAME_MAX + 2];
	char aft[DB_I64_LEN], lim[DB_I64_LEN];
	const char *params[3];
	PGresult *res = NULL;
	cJSON *root = NULL, *arr, *o;
	int64_t limit, after;
	enum pc_err rc;
	int i, n = 0;

	if ((rc = call_query_int(c, "limit", 1, H_USERS_PAGE_MAX,
	                         H_USERS_PAGE_DEFAULT, &limit, NULL)) !=
	            PC_OK ||
	    (rc = call_query_int(c, "after", 0, INT64_MAX, 0, &after, NULL)) !=
	            PC_OK)
		return rc;
	rc = req_query_get(c->req->query, "q", q, sizeof(q));
	if (rc == PC_ERR_NOT_FOUND) {
		q[0] = '\0';
		rc = PC_OK;
	}
	/* A q too long for the buffer is too long for a username too. */
	if (rc == PC_OK && h_users_pattern(q, pat, sizeof(pat))) {
		params[0] = pat;
		params[1] = db_i64(aft, after);
		params[2] = db_i64(lim, limit + 1);
		rc = db_exec(
		        c->db,
		        "SELECT u.id, u.username, EXISTS (SELECT 1 FROM"
		        "  user_online o WHERE o.user_id = u.id)"
		        " FROM users u WHERE u.deleted_at IS NULL AND u.id > $2"
		        " AND lower(u.username) LIKE lower($1)"
		        " ORDER BY u.id LIMIT $3",
		        3, params, &res);
		if (rc != PC_OK)
			goto out;
		n = PQntuples(res);
	}
	rc = PC_ERR_NOMEM;
	root = cJSON_CreateObject();
	if (root == NULL ||
	    (arr = cJSON_AddArrayToObject(root, "users")) == NULL)
		goto out;
	for (i = 0; i < n && i < limit; i++) {
		if ((o = cJSON_CreateObject()) == NULL)
			goto out;
		cJSON_AddItemToArray(arr, o);
		if (!pc_json_add_int(o, "id", db_get_i64(res, i, 0)) ||
		    cJSON_AddStringToObject(o, "username",
		                            db_get_str(res, i, 1)) == NULL ||
		    cJSON_AddBoolToObject(o, "online",
		                          db_get_bool(res, i, 2)) == NULL)
			goto out;
	}
	if (n > limit ? !pc_json_add_int(root, "next",
	                                 db_get_i64(res, (int)limit - 1, 0))
	              : cJSON_AddNullToObject(root, "next") == NULL)
		goto out;
	rc = resp_json(c->resp, 200, root);
out:
	cJSON_Delete(root);
	PQclear(res);
	return rc;
}

/* GET /api/blocks: {blocks:[{id, username, created_at}]}, the people I
 * block, oldest block first. */
static const struct db_col block_cols[] = {
        {"id", DB_COL_INT},
        {"username", DB_COL_STR},
        {"created_at", DB_COL_STR},
};

enum pc_err
h_blocks_list(struct call *c)
{
	char uid[DB_I64_LEN];
	const char *params[1] = {db_i64(uid, c->who.user_id)};
	PGresult *res = NULL;
	cJSON *root = NULL;
	enum pc_err rc;

	rc = db_exec(c->db,
	             "SELECT u.id, u.username, " DB_TS(
	                     "b.created_at") " FROM blocks b"
	                                     " JOIN users u ON u.id = b.blocked"
	                                     " WHERE b.blocker = $1 AND "
	                                     "u.deleted_at IS NULL"
	                                     " ORDER BY b.created_at, u.id",
	             1, params, &res);
	if (rc != PC_OK)
		goto out;
	if ((rc = db_rows_json(res, "blocks", block_cols, DB_NCOLS(block_cols),
	                       &root)) != PC_OK)
		goto out;
	rc = resp_json(c->resp, 200, root);
out:
	cJSON_Delete(root);
	PQclear(res);
	return rc;
}

/*
 * POST /api/blocks {username}: blocks that user (unknown 404, myself 422);
 * blocking twice changes nothing. In the same transaction the invitations
 * they sent me are withdrawn. 204.
 */
enum pc_err
h_blocks_add(struct call *c)
{
	char me[DB_I64_LEN], them[DB_I64_LEN];
	const char *name = NULL, *params[2];
	struct user_ref u;
	enum pc_err rc;

	if ((rc = call_str(c, "username", 1, &name)) != PC_OK)
		return rc;
	if ((rc = user_lookup(c->db, name, &u)) != PC_OK)
		return call_fail(c, rc, "username");
	if (u.id == c->who.user_id)
		return call_fail(c, PC_ERR_INVALID, "username");
	params[0] = db_i64(me, c->who.user_id);
	params[1] = db_i64(them, u.id);
	if ((rc = db_begin(c->db)) != PC_OK)
		return rc;
	rc = db_exec(c->db,
	             "INSERT INTO blocks (blocker, blocked) VALUES ($1, $2)"
	             " ON CONFLICT DO NOTHING",
	             2, params, NULL);
	if (rc == PC_OK)
		rc = db_exec(c->db,
		             "DELETE FROM invites WHERE to_user = $1"
		             " AND from_user = $2",
		             2, params, NULL);
	if (rc == PC_OK)
		rc = db_commit(c->db);
	db_rollback(c->db);
	if (rc == PC_OK)
		resp_no_content(c->resp);
	return rc;
}

/* DELETE /api/blocks/{username}: unblocks; 404 when I do not block such a
 * user. 204. */
enum pc_err
h_blocks_remove(struct call *c)
{
	char me[DB_I64_LEN], them[DB_I64_LEN];
	const char *params[2];
	struct user_ref u;
	PGresult *res = NULL;
	enum pc_err rc;

	if ((rc = user_lookup(c->db, router_param(c->match, "username"), &u)) !=
	    PC_OK)
		return rc;
	params[0] = db_i64(me, c->who.user_id);
	params[1] = db_i64(them, u.id);
	rc = db_exec(c->db,
	             "DELETE FROM blocks WHERE blocker = $1 AND blocked = $2"
	             " RETURNING 1",
	             2, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = PC_ERR_NOT_FOUND;
		goto out;
	}
	resp_no_content(c->resp);
out:
	PQclear(res);
	return rc;
}
