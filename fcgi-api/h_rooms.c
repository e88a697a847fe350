/*
 * h_rooms.c: rooms and membership: list, create, one room, join, leave,
 * members (contract sections 3 and 8). Visibility and the room object come
 * from room.c; membership changes are told to the broker (notify.h) after
 * they commit, so live sockets follow.
 */
#include <string.h>

#include "handlers.h"
#include "json.h"
#include "notify.h"
#include "room.h"
#include "throttle.h"
#include "valid.h"

#define H_ROOMS_PAGE_DEFAULT 50
#define H_ROOMS_PAGE_MAX     200

enum pc_err
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
 * the owner and first member. 201 room. Past PIPECHAT_ROOM_CREATE_RATE
 * rooms within the hour: 429 rate_limited with Retry-After (throttle.h;
 * checked after the name, so a taken name is still 409).
 */
enum pc_err
h_rooms_create(struct call *c)
{
	const char *name = NULL, *kind = NULL, *params[3];
	char clean[PC_ROOM_NAME_BYTES + 1], uid[DB_I64_LEN], rid[DB_I64_LEN];
	PGresult *res = NULL;
	int64_t room_id = 0, wait = 0;
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
	rc = throttle_create(c->db, THROTTLE_ROOM, c->who.user_id,
	                     c->env->set->room_create_rate, &wait);
	if (rc == PC_ERR_RATE_LIMITED)
		c->resp->retry_after = wait;
	if (rc != PC_OK)
		goto out;
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
 * left (409). The rules for the owner and the last member are
 * room_remove_member's.
 */
enum pc_err
h_rooms_leave(struct call *c)
{
	int64_t id;
	enum pc_err rc;
	int changed = 0;

	if ((rc = call_path_id(c, "id", &id)) != PC_OK)
		return rc;
	if ((rc = db_begin(c->db)) != PC_OK)
		return rc;
	rc = room_remove_member(c->db, id, c->who.user_id, &changed);
	if (rc == PC_OK)
		rc = db_commit(c->db);
	db_rollback(c->db);
	if (rc != PC_OK)
		return rc;
	resp_no_content(c->resp);
	notify_member_left(id, c->who.user_id);
	if (changed)
		notify_room_changed(id);
	return PC_OK;
}

/* GET /api/rooms/{id}/members: {members:[{id, username, role,
 * last_read_seq, online}]}, oldest member first. online: the member has an
 * open socket, from the broker's user_online table (about a second late). */
static const struct db_col member_cols[] = {
        {"id", DB_COL_INT},      {"username", DB_COL_STR},
        {"role", DB_COL_STR},    {"last_read_seq", DB_COL_INT},
        {"online", DB_COL_BOOL},
};

enum pc_err
h_rooms_members(struct call *c)
{
	char rid[DB_I64_LEN];
	const char *params[1];
	struct room_view room;
	PGresult *res = NULL;
	cJSON *root = NULL;
	int64_t id;
	enum pc_err rc;

	if ((rc = call_path_id(c, "id", &id)) != PC_OK)
		return rc;
	if ((rc = room_lookup(c->db, c->who.user_id, id, &room)) != PC_OK)
		return rc;
	params[0] = db_i64(rid, id);
	rc = db_exec(
	        c->db,
	        "SELECT u.id, CASE WHEN u.deleted_at IS NULL THEN u.username"
	        " ELSE '" ROOM_DELETED_USER "' END, m.role, m.last_read_seq,"
	        " EXISTS (SELECT 1 FROM user_online o WHERE o.user_id = u.id)"
	        " FROM room_members m JOIN users u ON u.id = m.user_id"
	        " WHERE m.room_id = $1 ORDER BY m.joined_at, u.id",
	        1, params, &res);
	if (rc != PC_OK)
		goto out;
	if ((rc = db_rows_json(res, "members", member_cols,
	                       DB_NCOLS(member_cols), &root)) != PC_OK)
		goto out;
	rc = resp_json(c->resp, 200, root);
out:
	cJSON_Delete(root);
	PQclear(res);
	return rc;
}
