/*
 * h_dm.c: direct rooms (POST /api/dm, contract sections 3 and 8): the one
 * room of kind `direct` between two users, made on first use. Its pair is
 * stored lower id first (rooms.dm_low, dm_high) under a unique index, so
 * two first calls at once make one room: the loser's INSERT … ON CONFLICT
 * DO NOTHING waits for the winner's commit and then finds its room. The
 * room's name as each side sees it is the other's username (room.c).
 */
#include "handlers.h"
#include "log.h"
#include "notify.h"
#include "room.h"
#include "throttle.h"
#include "user.h"

/*
 * POST /api/dm {username}: myself is 422; unknown, deleted or blocking me
 * is 404. 201 and the room when this call made it (both members; the other
 * user's sockets get a `room` event), 200 and the room afterwards. Making
 * the room counts toward PIPECHAT_ROOM_CREATE_RATE: past it, 429
 * rate_limited with Retry-After (throttle.h); opening an existing one never
 * does.
 */
enum pc_err
h_dm_open(struct call *c)
{
	char lo[DB_I64_LEN], hi[DB_I64_LEN], me[DB_I64_LEN], rid[DB_I64_LEN];
	const char *name = NULL, *params[3], *room_param[1];
	struct user_ref u;
	PGresult *res = NULL;
	int64_t room = 0, wait = 0;
	enum pc_err rc;
	int created = 0;

	if ((rc = call_str(c, "username", 1, &name)) != PC_OK)
		return rc;
	if ((rc = user_lookup_reachable(c->db, c->who.user_id, name, &u)) !=
	    PC_OK)
		return call_fail(c, rc, "username");
	if (u.id == c->who.user_id)
		return call_fail(c, PC_ERR_INVALID, "username");
	params[0] = db_i64(lo, u.id < c->who.user_id ? u.id : c->who.user_id);
	params[1] = db_i64(hi, u.id < c->who.user_id ? c->who.user_id : u.id);
	params[2] = db_i64(me, c->who.user_id);
	if ((rc = db_begin(c->db)) != PC_OK)
		return rc;
	rc = db_exec(
	        c->db,
	        "INSERT INTO rooms (name, kind, created_by, dm_low, dm_high)"
	        " VALUES ('', 'direct', $3, $1, $2)"
	        " ON CONFLICT (dm_low, dm_high) WHERE kind = 'direct'"
	        " DO NOTHING RETURNING id",
	        3, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) == 1) {
		created = 1;
		room = db_get_i64(res, 0, 0);
		PQclear(res);
		res = NULL;
		rc = throttle_create(c->db, THROTTLE_ROOM, c->who.user_id,
		                     c->env->set->room_create_rate, &wait);
		if (rc == PC_ERR_RATE_LIMITED)
			c->resp->retry_after = wait;
		if (rc != PC_OK)
			goto out;
		room_param[0] = db_i64(rid, room);
		rc = db_exec(c->db,
		             "INSERT INTO room_members (room_id, user_id)"
		             " SELECT id, unnest(ARRAY[dm_low, dm_high])"
		             " FROM rooms WHERE id = $1",
		             1, room_param, NULL);
	} else {
		PQclear(res);
		res = NULL;
		rc = db_exec(c->db,
		             "SELECT id FROM rooms WHERE kind = 'direct'"
		             " AND dm_low = $1 AND dm_high = $2",
		             2, params, &res);
		if (rc == PC_OK && PQntuples(res) == 1)
			room = db_get_i64(res, 0, 0);
		else if (rc == PC_OK)
			rc = PC_ERR_INTERNAL; /* the unique index says it exists
			                       */
	}
	if (rc != PC_OK)
		goto out;
	if ((rc = db_commit(c->db)) != PC_OK)
		goto out;
	if (created) {
		pc_log_info("direct room %lld for users %s and %s",
		            (long long)room, lo, hi);
		notify_member_joined(room, c->who.user_id);
		notify_member_joined(room, u.id);
		room_tell_user(c->db, u.id, room);
	}
	rc = h_rooms_answer(c, created ? 201 : 200, room);
out:
	db_rollback(c->db);
	PQclear(res);
	return rc;
}
