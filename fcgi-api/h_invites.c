/*
 * h_invites.c: invitations to private rooms: send, list mine, accept,
 * decline, withdraw (contract sections 3 and 8). The invitee hears of an
 * invitation live (`invite`), and of the room once they accept (`room`).
 * An invitation the caller may not see is 404, like one that never was.
 */
#include <string.h>

#include "event.h"
#include "handlers.h"
#include "json.h"
#include "notify.h"
#include "room.h"
#include "throttle.h"
#include "user.h"

/* Columns of an invite object: id, room id, room name, from id, from name,
 * to id, to name, created_at. */
#define H_INVITES_SELECT                                                       \
	"SELECT i.id, r.id, r.name, f.id, f.username, t.id, "                  \
	"t.username, " DB_TS(                                                  \
	        "i.created_at") " FROM invites i"                              \
	                        " JOIN rooms r ON r.id = i.room_id"            \
	                        " JOIN users f ON f.id = i.from_user"          \
	                        " JOIN users t ON t.id = i.to_user"

/* The invite object {id, room:{id,name}, from:{id,username},
 * to:{id,username}, created_at} of row i, or NULL on ENOMEM. */
static cJSON *
h_invites_row(const PGresult *res, int i)
{
	cJSON *o, *room;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (!pc_json_add_int(o, "id", db_get_i64(res, i, 0)) ||
	    (room = cJSON_AddObjectToObject(o, "room")) == NULL ||
	    !pc_json_add_int(room, "id", db_get_i64(res, i, 1)) ||
	    cJSON_AddStringToObject(room, "name", db_get_str(res, i, 2)) ==
	            NULL ||
	    !user_add_json(o, "from", db_get_i64(res, i, 3),
	                   db_get_str(res, i, 4)) ||
	    !user_add_json(o, "to", db_get_i64(res, i, 5),
	                   db_get_str(res, i, 6)) ||
	    cJSON_AddStringToObject(o, "created_at", db_get_str(res, i, 7)) ==
	            NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/*
 * POST /api/rooms/{id}/invites {username}: a member of a private room
 * invites a user. A room I cannot see, an unknown user or one who blocks
 * me is 404; a public or direct room is 409 not_private; a member (myself
 * included) 409 already_member; a pending invitation 409 already_invited
 * (the unique (room, invitee) pair decides, so two racing invitations
 * cannot both succeed). Past PIPECHAT_INVITE_RATE invitations within the
 * hour (withdrawn and answered ones included): 429 rate_limited with
 * Retry-After (throttle.h), checked after the 404s and 409s. 201 invite;
 * the invitee gets an `invite` event.
 */
enum pc_err
h_invites_create(struct call *c)
{
	char rid[DB_I64_LEN], from[DB_I64_LEN], to[DB_I64_LEN];
	const char *name = NULL, *params[3];
	struct room_view room;
	struct user_ref u;
	PGresult *res = NULL;
	cJSON *inv = NULL;
	int64_t id, wait = 0;
	enum pc_err rc;

	if ((rc = call_path_id(c, "id", &id)) != PC_OK ||
	    (rc = call_str(c, "username", 1, &name)) != PC_OK)
		return rc;
	if ((rc = room_lookup(c->db, c->who.user_id, id, &room)) != PC_OK)
		return rc;
	if (strcmp(room.kind, "private") != 0)
		return PC_ERR_NOT_PRIVATE;
	if (!room.member)
		return PC_ERR_NOT_FOUND; /* not reached: private is members' */
	if ((rc = user_lookup_reachable(c->db, c->who.user_id, name, &u)) !=
	    PC_OK)
		return call_fail(c, rc, "username");
	params[0] = db_i64(rid, id);
	params[1] = db_i64(from, c->who.user_id);
	params[2] = db_i64(to, u.id);
	if ((rc = db_begin(c->db)) != PC_OK)
		return rc;
	rc = db_exec(c->db,
	             "INSERT INTO invites (room_id, from_user, to_user)"
	             " SELECT $1::bigint, $2::bigint, $3::bigint"
	             " WHERE NOT EXISTS (SELECT 1 FROM room_members"
	             "  WHERE room_id = $1::bigint AND user_id = $3::bigint)"
	             " RETURNING id",
	             3, params, &res);
	if (rc == PC_ERR_CONFLICT) {
		rc = call_fail(c, PC_ERR_ALREADY_INVITED, "username");
		goto out;
	}
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = call_fail(c, PC_ERR_ALREADY_MEMBER, "username");
		goto out;
	}
	params[0] = db_i64(rid, db_get_i64(res, 0, 0));
	PQclear(res);
	res = NULL;
	rc = throttle_create(c->db, THROTTLE_INVITE, c->who.user_id,
	                     c->env->set->invite_rate, &wait);
	if (rc == PC_ERR_RATE_LIMITED)
		c->resp->retry_after = wait;
	if (rc != PC_OK)
		goto out;
	rc = db_exec(c->db, H_INVITES_SELECT " WHERE i.id = $1", 1, params,
	             &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = PC_ERR_NOT_FOUND; /* the room went meanwhile */
		goto out;
	}
	if ((inv = h_invites_row(res, 0)) == NULL) {
		rc = PC_ERR_NOMEM;
		goto out;
	}
	if ((rc = db_commit(c->db)) != PC_OK)
		goto out;
	if ((rc = resp_json(c->resp, 201, inv)) == PC_OK)
		event_wrap_to_user(u.id, "invite", "invite", inv);
out:
	db_rollback(c->db);
	cJSON_Delete(inv);
	PQclear(res);
	return rc;
}

/* GET /api/invites: {invites:[invite]}, the invitations waiting for my
 * answer, oldest first. */
enum pc_err
h_invites_list(struct call *c)
{
	char uid[DB_I64_LEN];
	const char *params[1] = {db_i64(uid, c->who.user_id)};
	PGresult *res = NULL;
	cJSON *root = NULL, *arr, *o;
	enum pc_err rc;
	int i;

	rc = db_exec(c->db,
	             H_INVITES_SELECT " WHERE i.to_user = $1 ORDER BY i.id", 1,
	             params, &res);
	if (rc != PC_OK)
		goto out;
	rc = PC_ERR_NOMEM;
	root = cJSON_CreateObject();
	if (root == NULL ||
	    (arr = cJSON_AddArrayToObject(root, "invites")) == NULL)
		goto out;
	for (i = 0; i < PQntuples(res); i++) {
		if ((o = h_invites_row(res, i)) == NULL)
			goto out;
		cJSON_AddItemToArray(arr, o);
	}
	rc = resp_json(c->resp, 200, root);
out:
	cJSON_Delete(root);
	PQclear(res);
	return rc;
}

/* Deletes invitation {id} when column `who` (to_user or from_user, a
 * constant) is me, in the caller's transaction if any. PC_OK and *room;
 * PC_ERR_NOT_FOUND. */
static enum pc_err
h_invites_take(struct call *c, const char *sql, int64_t *room)
{
	char iid[DB_I64_LEN], uid[DB_I64_LEN];
	const char *params[2];
	PGresult *res = NULL;
	int64_t id;
	enum pc_err rc;

	if ((rc = call_path_id(c, "id", &id)) != PC_OK)
		return rc;
	params[0] = db_i64(iid, id);
	params[1] = db_i64(uid, c->who.user_id);
	if ((rc = db_exec(c->db, sql, 2, params, &res)) != PC_OK)
		return rc;
	if (PQntuples(res) == 1)
		*room = db_get_i64(res, 0, 0);
	else
		rc = PC_ERR_NOT_FOUND;
	PQclear(res);
	return rc;
}

static const char h_invites_take_mine[] =
        "DELETE FROM invites WHERE id = $1 AND to_user = $2 RETURNING room_id";
static const char h_invites_take_sent[] =
        "DELETE FROM invites WHERE id = $1 AND from_user = $2"
        " RETURNING room_id";

/*
 * POST /api/invites/{id}/accept: the invitee only (else 404). Takes the
 * invitation and makes me a member in one transaction (a room deleted
 * meanwhile is 404). 204; my sockets get a `room` event and the broker
 * hears of the new member.
 */
enum pc_err
h_invites_accept(struct call *c)
{
	char rid[DB_I64_LEN], uid[DB_I64_LEN];
	const char *params[2];
	PGresult *res = NULL;
	int64_t room = 0;
	enum pc_err rc;
	int added = 0;

	if ((rc = db_begin(c->db)) != PC_OK)
		return rc;
	if ((rc = h_invites_take(c, h_invites_take_mine, &room)) != PC_OK)
		goto out;
	params[0] = db_i64(rid, room);
	params[1] = db_i64(uid, c->who.user_id);
	rc = db_exec(c->db,
	             "INSERT INTO room_members (room_id, user_id)"
	             " VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1",
	             2, params, &res);
	if (rc != PC_OK)
		goto out;
	added = PQntuples(res) == 1;
	if ((rc = db_commit(c->db)) != PC_OK)
		goto out;
	resp_no_content(c->resp);
	if (added) {
		notify_member_joined(room, c->who.user_id);
		room_tell_user(c->db, c->who.user_id, room);
	}
out:
	db_rollback(c->db);
	PQclear(res);
	return rc;
}

/* POST /api/invites/{id}/decline: the invitee only (else 404). 204. */
enum pc_err
h_invites_decline(struct call *c)
{
	int64_t room;
	enum pc_err rc;

	if ((rc = h_invites_take(c, h_invites_take_mine, &room)) == PC_OK)
		resp_no_content(c->resp);
	return rc;
}

/* DELETE /api/invites/{id}: the inviter withdraws (else 404). 204. */
enum pc_err
h_invites_withdraw(struct call *c)
{
	int64_t room;
	enum pc_err rc;

	if ((rc = h_invites_take(c, h_invites_take_sent, &room)) == PC_OK)
		resp_no_content(c->resp);
	return rc;
}
