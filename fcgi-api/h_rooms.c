/*
 * h_rooms.c: rooms and membership: list, create, one room, join, leave,
 * members (contract sections 3 and 8). Visibility and the room object come
 * from room.c; membership changes are told to the broker (notify.h) after
 * they commit, so live sockets follow.
 */
#include <string.h>

#include "handlers.h"
#include "json.h"
#include "log.h"
#include "notify.h"
#include "room.h"
#include "valid.h"

#define H_ROOMS_PAGE_DEFAULT 50
#define H_ROOMS_PAGE_MAX     200

/* Answers status with the room object of room_id. */
static enum pc_err
h_rooms_answer(struct call *c, int status, int64_t room_id)
{
	cJSON *o = NULL;
	enum pc_err rc;

	rc = room_object(c->db, c->who.user_id, room_id, &o);
	if (rc == PC_OK)
		rc = resp_json(c->resp, status, o);
	cJSON_Delete(o);
	return rc;
}

/* GET /api/rooms?limit=&after=: {rooms:[…], next}. */
enum pc_err
h_rooms_list(struct call *c)
{
	int64_t limit, after;
	cJSON *o = NULL;
	enum pc_err rc;

	if ((rc = call_query_int(c, "limit", 1, H_ROOMS_PAGE_MAX,
	                         H_ROOMS_PAGE_DEFAULT, &limit, NULL)) !=
	            PC_OK ||
	    (rc = call_query_int(c, "after", 0, INT64_MAX, 0, &after, NULL)) !=
	            PC_OK)
		return rc;
	rc = room_list(c->db, c->who.user_id, after, limit, &o);
	if (rc == PC_OK)
		rc = resp_json(c->resp, 200, o);
	cJSON_Delete(o);
	return rc;
}

/*
 * POST /api/rooms {name, kind}: kind "public" or "private" exactly; the
 * name trimmed and checked by pc_valid_room_name; public names unique
 * ignoring case (the index rooms_public_name_key decides). The creator is
 * the owner and first member. 201 room.
 */
enum pc_err
h_rooms_create(struct call *c)
{
	const char *name = NULL, *kind = NULL, *params[3];
	char clean[PC_ROOM_NAME_BYTES + 1], uid[DB_I64_LEN], rid[DB_I64_LEN];
	PGresult *res = NULL;
	int64_t room_id = 0;
	enum pc_err rc;

	if ((rc = call_str(c, "name", 1, &name)) != PC_OK ||
	    (rc = call_str(c, "kind", 1, &kind)) != PC_OK)
		return rc;
	if (pc_valid_room_name(name, clean, sizeof(clean)) != PC_OK)
		return call_fail(c, PC_ERR_INVALID, "name");
	if (strcmp(kind, "public") != 0 && strcmp(kind, "private") != 0)
		return call_fail(c, PC_ERR_INVALID, "kind");

	rc = db_begin(c->db);
	if (rc != PC_OK)
		return rc;
	params[0] = clean;
	params[1] = kind;
	params[2] = db_i64(uid, c->who.user_id);
	rc = db_exec(
	        c->db,
	        "INSERT INTO rooms (name, kind, created_by) VALUES ($1, $2, $3)"
	        " RETURNING id",
	        3, params, &res);
	if (rc == PC_ERR_CONFLICT) {
		rc = call_fail(c, PC_ERR_CONFLICT, "name");
		goto out;
	}
	if (rc != PC_OK)
		goto out;
	room_id = db_get_i64(res, 0, 0);
	params[0] = db_i64(rid, room_id);
	params[1] = uid;
	rc = db_exec(c->db,
	             "INSERT INTO room_members (room_id, user_id, role)"
	             " VALUES ($1, $2, 'owner')",
	             2, params, NULL);
	if (rc != PC_OK)
		goto out;
	rc = db_commit(c->db);
	if (rc != PC_OK)
		goto out;
	notify_member_joined(room_id, c->who.user_id);
	rc = h_rooms_answer(c, 201, room_id);
out:
	PQclear(res);
	db_rollback(c->db);
	return rc;
}

/* GET /api/rooms/{id}: the room, or 404 when I cannot see it. */
enum pc_err
h_rooms_get(struct call *c)
{
	int64_t id;
	enum pc_err rc;

	if ((rc = call_path_id(c, "id", &id)) != PC_OK)
		return rc;
	return h_rooms_answer(c, 200, id);
}

/*
 * POST /api/rooms/{id}/join: public rooms only; a private or direct room
 * is 404 unless I am already a member, in which case, as for a second join
 * of a public room, nothing changes and the answer is 204.
 */
enum pc_err
h_rooms_join(struct call *c)
{
	char uid[DB_I64_LEN], rid[DB_I64_LEN];
	const char *params[2];
	struct room_view room;
	PGresult *res = NULL;
	int64_t id;
	enum pc_err rc;
	int added;

	if ((rc = call_path_id(c, "id", &id)) != PC_OK)
		return rc;
	rc = room_lookup(c->db, c->who.user_id, id, &room);
	if (rc != PC_OK)
		return rc;
	if (room.member) {
		resp_no_content(c->resp);
		return PC_OK;
	}
	params[0] = db_i64(rid, id);
	params[1] = db_i64(uid, c->who.user_id);
	rc = db_exec(
	        c->db,
	        "INSERT INTO room_members (room_id, user_id)"
	        " SELECT id, $2 FROM rooms WHERE id = $1 AND kind = 'public'"
	        " ON CONFLICT DO NOTHING RETURNING 1",
	        2, params, &res);
	if (rc != PC_OK)
		return rc;
	added = PQntuples(res) == 1;
	PQclear(res);
	resp_no_content(c->resp);
	if (added)
		notify_member_joined(id, c->who.user_id);
	return PC_OK;
}

/*
 * POST /api/rooms/{id}/leave: not a member is 404; a direct room cannot be
 * left (409). In one transaction, with the room row locked so concurrent
 * leaves see each other: an owner leaving passes ownership to the
 * longest-standing member (joined_at, then user id), and the last member
 * leaving a private room deletes it (public rooms stay).
 */
enum pc_err
h_rooms_leave(struct call *c)
{
	char uid[DB_I64_LEN], rid[DB_I64_LEN];
	const char *params[2];
	PGresult *res = NULL;
	char kind[8] = "", role[8] = "";
	int64_t id;
	enum pc_err rc;
	int changed = 0;

	if ((rc = call_path_id(c, "id", &id)) != PC_OK)
		return rc;
	params[0] = db_i64(rid, id);
	params[1] = db_i64(uid, c->who.user_id);
	if ((rc = db_begin(c->db)) != PC_OK)
		return rc;
	rc = db_exec(
	        c->db,
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
	        c->db,
	        "DELETE FROM room_members WHERE room_id = $1 AND user_id = $2",
	        2, params, NULL);
	if (rc != PC_OK)
		goto out;
	if (strcmp(role, "owner") == 0) {
		rc = db_exec(c->db,
		             "UPDATE room_members SET role = 'owner'"
		             " WHERE room_id = $1 AND user_id = (SELECT user_id"
		             "  FROM room_members WHERE room_id = $1"
		             "  ORDER BY joined_at, user_id LIMIT 1)"
		             " RETURNING user_id",
		             1, params, &res);
		if (rc != PC_OK)
			goto out;
		changed = PQntuples(res) == 1;
		PQclear(res);
		res = NULL;
	}
	if (strcmp(kind, "private") == 0) {
		rc = db_exec(c->db,
		             "DELETE FROM rooms WHERE id = $1 AND NOT EXISTS"
		             " (SELECT 1 FROM room_members WHERE room_id = $1)"
		             " RETURNING id",
		             1, params, &res);
		if (rc != PC_OK)
			goto out;
		if (PQntuples(res) == 1) {
			changed = 1;
			pc_log_info("room %lld deleted: its last member left",
			            (long long)id);
		}
	}
	rc = db_commit(c->db);
	if (rc != PC_OK)
		goto out;
	resp_no_content(c->resp);
	notify_member_left(id, c->who.user_id);
	if (changed)
		notify_room_changed(id);
out:
	PQclear(res);
	db_rollback(c->db);
	return rc;
}

/* GET /api/rooms/{id}/members: {members:[{id, username, role,
 * last_read_seq, online}]}, oldest member first. online is false until the
 * API can ask the broker. */
enum pc_err
h_rooms_members(struct call *c)
{
	char rid[DB_I64_LEN];
	const char *params[1];
	struct room_view room;
	PGresult *res = NULL;
	cJSON *root = NULL, *arr, *o;
	int64_t id;
	enum pc_err rc;
	int i;

	if ((rc = call_path_id(c, "id", &id)) != PC_OK)
		return rc;
	if ((rc = room_lookup(c->db, c->who.user_id, id, &room)) != PC_OK)
		return rc;
	params[0] = db_i64(rid, id);
	rc = db_exec(
	        c->db,
	        "SELECT u.id, CASE WHEN u.deleted_at IS NULL THEN u.username"
	        " ELSE '" ROOM_DELETED_USER "' END, m.role, m.last_read_seq"
	        " FROM room_members m JOIN users u ON u.id = m.user_id"
	        " WHERE m.room_id = $1 ORDER BY m.joined_at, u.id",
	        1, params, &res);
	if (rc != PC_OK)
		goto out;
	rc = PC_ERR_NOMEM;
	root = cJSON_CreateObject();
	if (root == NULL ||
	    (arr = cJSON_AddArrayToObject(root, "members")) == NULL)
		goto out;
	for (i = 0; i < PQntuples(res); i++) {
		o = cJSON_CreateObject();
		if (o == NULL)
			goto out;
		cJSON_AddItemToArray(arr, o);
		if (!pc_json_add_int(o, "id", db_get_i64(res, i, 0)) ||
		    cJSON_AddStringToObject(o, "username",
		                            db_get_str(res, i, 1)) == NULL ||
		    cJSON_AddStringToObject(o, "role", db_get_str(res, i, 2)) ==
		            NULL ||
		    !pc_json_add_int(o, "last_read_seq",
		                     db_get_i64(res, i, 3)) ||
		    cJSON_AddBoolToObject(o, "online", 0) == NULL)
			goto out;
	}
	rc = resp_json(c->resp, 200, root);
out:
	cJSON_Delete(root);
	PQclear(res);
	return rc;
}
