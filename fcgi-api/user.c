/*
 * user.c: finding users by name and the block rule (user.h).
 */
#include <string.h>

#include "json.h"
#include "user.h"

enum pc_err
user_lookup(struct db *db, const char *name, struct user_ref *out)
{
	const char *params[1] = {name};
	struct user_ref u;
	PGresult *res = NULL;
	enum pc_err rc;

	/* Also keeps bytes PostgreSQL would refuse (bad UTF-8) away from it. */
	if (name == NULL || !pc_valid_username(name))
		return PC_ERR_NOT_FOUND;
	rc = db_exec(
	        db,
	        "SELECT id, username FROM users"
	        " WHERE lower(username) = lower($1) AND deleted_at IS NULL",
	        1, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1 ||
	    strlen(db_get_str(res, 0, 1)) >= sizeof(u.username)) {
		rc = PC_ERR_NOT_FOUND;
		goto out;
	}
	memset(&u, 0, sizeof(u));
	u.id = db_get_i64(res, 0, 0);
	strcpy(u.username, db_get_str(res, 0, 1));
	*out = u;
out:
	PQclear(res);
	return rc;
}

enum pc_err
user_lookup_reachable(struct db *db, int64_t viewer_id, const char *name,
                      struct user_ref *out)
{
	char me[DB_I64_LEN], them[DB_I64_LEN];
	const char *params[2];
	struct user_ref u;
	PGresult *res = NULL;
	enum pc_err rc;

	if ((rc = user_lookup(db, name, &u)) != PC_OK)
		return rc;
	params[0] = db_i64(them, u.id);
	params[1] = db_i64(me, viewer_id);
	rc = db_exec(db,
	             "SELECT 1 FROM blocks WHERE blocker = $1 AND blocked = $2",
	             2, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 0) {
		rc = PC_ERR_NOT_FOUND;
		goto out;
	}
	*out = u;
out:
	PQclear(res);
	return rc;
}

int
user_add_json(cJSON *obj, const char *key, int64_t id, const char *username)
{
	cJSON *u = cJSON_CreateObject();

	if (u == NULL || !pc_json_add_int(u, "id", id) ||
	    cJSON_AddStringToObject(u, "username", username) == NULL) {
		cJSON_Delete(u);
		return 0;
	}
	if (key == NULL)
		cJSON_AddItemToArray(obj, u);
	else
		cJSON_AddItemToObject(obj, key, u);
	return 1;
}
