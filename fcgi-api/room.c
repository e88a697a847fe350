/*
 * room.c: room visibility and the room object (room.h). One SELECT shape
 * serves the list and the single room, so the two always agree.
 */
#include <string.h>

#include "event.h"
#include "json.h"
#include "log.h"
#include "room.h"

/* The columns of a room object: id, name, kind, member_count, last_seq,
 * last_read_seq (NULL when not a member), joined. The viewer's membership
 * is m, the other user of a direct room o (joined by ROOM_OTHER). */
#define ROOM_COLUMNS                                                           \
	"SELECT r.id,"                                                         \
	" CASE WHEN r.kind <> 'direct' THEN r.name"                            \
	"  WHEN o.id IS NULL OR o.deleted_at IS NOT NULL"                      \
	"  THEN '" ROOM_DELETED_USER "' ELSE o.username END,"                  \
	" r.kind,"                                                             \
	" (SELECT count(*) FROM room_members c WHERE c.room_id = r.id),"       \
	" r.last_seq, m.last_read_seq, m.user_id IS NOT NULL"

/* The other member of a direct room, as seen by viewer (an SQL value). */
#define ROOM_OTHER(viewer)                                                     \
	" LEFT JOIN users o ON r.kind = 'direct' AND o.id ="                   \
	"  CASE WHEN r.dm_low = " viewer " THEN r.dm_high ELSE r.dm_low END"

/* $1 = the user: the rooms the user can see. */
#define ROOM_SELECT                                                            \
	ROOM_COLUMNS                                                           \
	" FROM rooms r"                                                        \
	" LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = "       \
	"$1" ROOM_OTHER(                                                       \
	        "$1") " WHERE (r.kind = 'public' OR m.user_id IS NOT NULL)"

/* $1 = the room: one row per member, as that member sees it, with the
 * member's id as an eighth column. */
#define ROOM_MEMBERS_SELECT                                                    \
	ROOM_COLUMNS ", m.user_id FROM rooms r"                                \
	             " JOIN room_members m ON m.room_id = r.id" ROOM_OTHER(    \
	                     "m.user_id") " WHERE r.id = $1"

int
room_is_direct(const struct room_view *r)
{
	return strcmp(r->kind, "direct") == 0;
}

int
room_is_public(const struct room_view *r)
{
	return strcmp(r->kind, "public") == 0;
}

enum pc_err
room_lookup(struct db *db, int64_t user_id, int64_t room_id,
            struct room_view *out)
{
	char uid[DB_I64_LEN], rid[DB_I64_LEN];
	const char *params[2] = {db_i64(uid, user_id), db_i64(rid, room_id)};
	struct room_view v;
	PGresult *res = NULL;
	enum pc_err rc;

	rc = db_exec(db,
	             "SELECT r.kind, m.user_id IS NOT NULL, m.role = 'owner',"
	             " r.last_seq, coalesce(m.last_read_seq, 0)"
	             " FROM" ROOM_VISIBLE("$1", "$2"),
	             2, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = PC_ERR_NOT_FOUND;
		goto out;
	}
	memset(&v, 0, sizeof(v));
	v.id = room_id;
	strncpy(v.kind, db_get_str(res, 0, 0), sizeof(v.kind) - 1);
	v.member = db_get_bool(res, 0, 1);
	v.owner = db_get_bool(res, 0, 2);
	v.last_seq = db_get_i64(res, 0, 3);
	v.last_read_seq = db_get_i64(res, 0, 4);
	*out = v;
out:
	PQclear(res);
	return rc;
}

/* The room object of row i of a ROOM_SELECT result, or NULL on ENOMEM. */
static cJSON *
room_from_row(const PGresult *res, int i)
{
	cJSON *o;
	int joined = db_get_bool(res, i, 6);
	int64_t last_seq = db_get_i64(res, i, 4), unread = 0;

	if (joined && !db_is_null(res, i, 5)) {
		unread = last_seq - db_get_i64(res, i, 5);
		if (unread < 0)
			unread = 0;
	}
	o = cJSON_CreateObject();
	if (o == NULL || !pc_json_add_int(o, "id", db_get_i64(res, i, 0)) ||
	    cJSON_AddStringToObject(o, "name", db_get_str(res, i, 1)) == NULL ||
	    cJSON_AddStringToObject(o, "kind", db_get_str(res, i, 2)) == NULL ||
	    !pc_json_add_int(o, "member_count", db_get_i64(res, i, 3)) ||
	    !pc_json_add_int(o, "last_seq", last_seq) ||
	    !pc_json_add_int(o, "unread", unread) ||
	    cJSON_AddBoolToObject(o, "joined", joined) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

enum pc_err
room_list(struct db *db, int64_t user_id, int64_t after, int64_t limit,
          cJSON **out)
{
	char uid[DB_I64_LEN], aft[DB_I64_LEN], lim[DB_I64_LEN];
	const char *params[3] = {db_i64(uid, user_id), db_i64(aft, after),
	                         db_i64(lim, limit + 1)};
	PGresult *res = NULL;
	cJSON *root = NULL, *arr, *item;
	enum pc_err rc;
	int i, n;

	rc = db_exec(db, ROOM_SELECT " AND r.id > $2 ORDER BY r.id LIMIT $3", 3,
	             params, &res);
	if (rc != PC_OK)
		goto out;
	rc = PC_ERR_NOMEM;
	root = cJSON_CreateObject();
	if (root == NULL ||
	    (arr = cJSON_AddArrayToObject(root, "rooms")) == NULL)
		goto out;
	n = PQntuples(res);
	for (i = 0; i < n && i < limit; i++) {
		if ((item = room_from_row(res, i)) == NULL)
			goto out;
		cJSON_AddItemToArray(arr, item);
	}
	/* One more row than asked means another page: next is the last id
	 * shown, the `after` of the next request. */
	if (n > limit ? !pc_json_add_int(root, "next",
	                                 db_get_i64(res, (int)limit - 1, 0))
	              : cJSON_AddNullToObject(root, "next") == NULL)
		goto out;
	*out = root;
	root = NULL;
	rc = PC_OK;
out:
	cJSON_Delete(root);
	PQclear(res);
	return rc;
}

enum pc_err
room_object(struct db *db, int64_t user_id, int64_t room_id, cJSON **out)
{
	char uid[DB_I64_LEN], rid[DB_I64_LEN];
	const char *params[2] = {db_i64(uid, user_id), db_i64(rid, room_id)};
	PGresult *res = NULL;
	cJSON *o;
	enum pc_err rc;

	rc = db_exec(db, ROOM_SELECT " AND r.id = $2", 2, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = PC_ERR_NOT_FOUND;
		goto out;
	}
	o = room_from_row(res, 0);
	if (o == NULL) {
		rc = PC_ERR_NOMEM;
		goto out;
	}
	*out = o;
out:
	PQclear(res);
	return rc;
}

void
room_tell_user(struct db *db, int64_t user_id, int64_t room_id)
{
	cJSON *o = NULL;

	if (room_object(db, user_id, room_id, &o) != PC_OK) {
		pc_log_warn("room %lld: the room event for user %lld was lost",
		            (long long)room_id, (long long)user_id);
		return;
	}
	event_wrap_to_user(user_id, "room", "room", o);
	cJSON_Delete(o);
}

void
room_tell_members(struct db *db, int64_t room_id)
{
	char rid[DB_I64_LEN];
	const char *params[1] = {db_i64(rid, room_id)};
	PGresult *res = NULL;
	cJSON *o;
	int i;

	if (db_exec(db, ROOM_MEMBERS_SELECT, 1, params, &res) != PC_OK) {
		pc_log_warn("room %lld: the room events were lost",
		            (long long)room_id);
		return;
	}
	for (i = 0; i < PQntuples(res); i++) {
		o = room_from_row(res, i);
		event_wrap_to_user(db_get_i64(res, i, 7), "room", "room", o);
		cJSON_Delete(o);
	}
	PQclear(res);
}

enum pc_err
room_remove_member(struct db *db, int64_t room_id, int64_t user_id,
                   int *changed)
{
	char uid[DB_I64_LEN], rid[DB_I64_LEN];
	const char *params[2] = {db_i64(rid, room_id), db_i64(uid, user_id)};
	PGresult *res = NULL;
	char kind[8] = "", role[8] = "";
	enum pc_err rc;
	int moved = 0;

	rc = db_exec(
	        db,
	        "SELECT r.kind, m.role FROM rooms r"
	        " JOIN room_members m ON m.room_id = r.id AND m.user_id = $2"
	        " WHERE r.id = $1 FOR UPDATE OF r",
	        2, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = PC_ERR_NOT_FOUND;
		goto out;
	}
	strncpy(kind, db_get_str(res, 0, 0), sizeof(kind) - 1);
	strncpy(role, db_get_str(res, 0, 1), sizeof(role) - 1);
	PQclear(res);
	res = NULL;
	if (strcmp(kind, "direct") == 0) {
		rc = PC_ERR_CANNOT_LEAVE_DIRECT;
		goto out;
	}
	rc = db_exec(
	        db,
	        "DELETE FROM room_members WHERE room_id = $1 AND user_id = $2",
	        2, params, NULL);
	if (rc != PC_OK)
		goto out;
	if (strcmp(role, "owner") == 0) {
		rc = db_exec(db,
		             "UPDATE room_members SET role = 'owner'"
		             " WHERE room_id = $1 AND user_id = (SELECT user_id"
		             "  FROM room_members WHERE room_id = $1"
		             "  ORDER BY joined_at, user_id LIMIT 1)"
		             " RETURNING user_id",
		             1, params, &res);
		if (rc != PC_OK)
			goto out;
		moved = PQntuples(res) == 1;
		PQclear(res);
		res = NULL;
	}
	if (strcmp(kind, "private") == 0) {
		rc = db_exec(db,
		             "DELETE FROM rooms WHERE id = $1 AND NOT EXISTS"
		             " (SELECT 1 FROM room_members WHERE room_id = $1)"
		             " RETURNING id",
		             1, params, &res);
		if (rc != PC_OK)
			goto out;
		if (PQntuples(res) == 1) {
			moved = 1;
			pc_log_info("room %lld deleted: its last member left",
			            (long long)room_id);
		}
	}
	*changed = moved;
out:
	PQclear(res);
	return rc;
}
