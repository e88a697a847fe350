/*
 * h_moderate.c: what a room's owner may do: rename it, delete it with its
 * history, kick a member (contract sections 3 and 8). None applies to a
 * direct room (409 cannot_leave_direct). Each runs in one transaction that
 * first locks the room row, so ownership checked is ownership held: an
 * owner who leaves meanwhile, or a join racing a delete, waits its turn.
 * Live sockets follow through the broker after the commit.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "log.h"
#include "notify.h"
#include "room.h"
#include "user.h"
#include "valid.h"

/*
 * Inside a transaction: locks room id and checks that the caller owns it.
 * Not visible to the caller is 404; direct is 409 cannot_leave_direct; a
 * room I see but do not own is 403 forbidden.
 */
static enum pc_err
h_moderate_lock(struct call *c, int64_t id)
{
	char rid[DB_I64_LEN], uid[DB_I64_LEN];
	const char *params[2] = {db_i64(rid, id), db_i64(uid, c->who.user_id)};
	PGresult *res = NULL;
	enum pc_err rc;

	rc = db_exec(c->db,
	             "SELECT r.kind, m.role = 'owner' FROM rooms r"
	             " LEFT JOIN room_members m ON m.room_id = r.id"
	             "  AND m.user_id = $2"
	             " WHERE r.id = $1 AND (r.kind = 'public' OR m.user_id IS"
	             "  NOT NULL) FOR UPDATE OF r",
	             2, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1)
		rc = PC_ERR_NOT_FOUND;
	else if (strcmp(db_get_str(res, 0, 0), "direct") == 0)
		rc = PC_ERR_CANNOT_LEAVE_DIRECT;
	else if (!db_get_bool(res, 0, 1))
		rc = PC_ERR_FORBIDDEN;
out:
	PQclear(res);
	return rc;
}

/*
 * PATCH /api/rooms/{id} {name}: the owner renames the room; the name is
 * trimmed and checked as at creation (422 field name), public names unique
 * ignoring case (409 conflict field name). 200 room; every member gets a
 * `room` event with the room as they see it.
 */
enum pc_err
h_rooms_rename(struct call *c)
{
	char clean[PC_ROOM_NAME_BYTES + 1], rid[DB_I64_LEN];
	const char *name = NULL, *params[2];
	int64_t id;
	enum pc_err rc;

	if ((rc = call_path_id(c, "id", &id)) != PC_OK ||
	    (rc = call_str(c, "name", 1, &name)) != PC_OK)
		return rc;
	if ((rc = db_begin(c->db)) != PC_OK)
		return rc;
	if ((rc = h_moderate_lock(c, id)) != PC_OK)
		goto out;
	if (pc_valid_room_name(name, clean, sizeof(clean)) != PC_OK) {
		rc = call_fail(c, PC_ERR_INVALID, "name");
		goto out;
	}
	params[0] = db_i64(rid, id);
	params[1] = clean;
	rc = db_exec(c->db, "UPDATE rooms SET name = $2 WHERE id = $1", 2,
	             params, NULL);
	if (rc == PC_ERR_CONFLICT)
		rc = call_fail(c, PC_ERR_CONFLICT, "name");
	if (rc == PC_OK)
		rc = db_commit(c->db);
	if (rc != PC_OK)
		goto out;
	notify_room_changed(id);
	room_tell_members(c->db, id);
	rc = h_rooms_answer(c, 200, id);
out:
	db_rollback(c->db);
	return rc;
}

/*
 * DELETE /api/rooms/{id}: the owner deletes the room and, by cascade, its
 * messages, members and invitations. 204; every member's sockets get
 * `removed`, and the broker forgets the room. A deleted public room's name
 * is free again at once.
 */
enum pc_err
h_rooms_delete(struct call *c)
{
	char rid[DB_I64_LEN];
	const char *params[1];
	PGresult *res = NULL;
	int64_t id;
	enum pc_err rc;
	int i;

	if ((rc = call_path_id(c, "id", &id)) != PC_OK)
		return rc;
	params[0] = db_i64(rid, id);
	if ((rc = db_begin(c->db)) != PC_OK)
		return rc;
	if ((rc = h_moderate_lock(c, id)) != PC_OK)
		goto out;
	rc = db_exec(c->db,
	             "SELECT user_id FROM room_members WHERE room_id = $1", 1,
	             params, &res);
	if (rc == PC_OK)
		rc = db_exec(c->db, "DELETE FROM rooms WHERE id = $1", 1,
		             params, NULL);
	if (rc == PC_OK)
		rc = db_commit(c->db);
	if (rc != PC_OK)
		goto out;
	pc_log_info("room %lld deleted by its owner %lld", (long long)id,
	            (long long)c->who.user_id);
	resp_no_content(c->resp);
	for (i = 0; i < PQntuples(res); i++)
		notify_member_left(id, db_get_i64(res, i, 0));
	notify_room_deleted(id);
out:
	db_rollback(c->db);
	PQclear(res);
	return rc;
}

/*
 * POST /api/rooms/{id}/kick {username}: the owner removes a member (an
 * unknown user or a non-member is 404, myself 422). 204; their sockets
 * leave the room at once (`removed`). Not a ban: they may join a public
 * room again, or be invited back to a private one.
 */
enum pc_err
h_rooms_kick(struct call *c)
{
	const char *name = NULL;
	struct user_ref u;
	int64_t id;
	enum pc_err rc;
	int changed = 0;

	if ((rc = call_path_id(c, "id", &id)) != PC_OK ||
	    (rc = call_str(c, "username", 1, &name)) != PC_OK)
		return rc;
	if ((rc = db_begin(c->db)) != PC_OK)
		return rc;
	if ((rc = h_moderate_lock(c, id)) != PC_OK)
		goto out;
	if ((rc = user_lookup(c->db, name, &u)) != PC_OK) {
		rc = call_fail(c, rc, "username");
		goto out;
	}
	if (u.id == c->who.user_id) {
		rc = call_fail(c, PC_ERR_INVALID, "username");
		goto out;
	}
	rc = room_remove_member(c->db, id, u.id, &changed);
	if (rc == PC_ERR_NOT_FOUND)
		rc = call_fail(c, rc, "username");
	if (rc == PC_OK)
		rc = db_commit(c->db);
	if (rc != PC_OK)
		goto out;
	pc_log_info("room %lld: user %lld kicked by %lld", (long long)id,
	            (long long)u.id, (long long)c->who.user_id);
	resp_no_content(c->resp);
	notify_member_kicked(id, u.id);
	if (changed)
		notify_room_changed(id);
out:
	db_rollback(c->db);
	return rc;
}
