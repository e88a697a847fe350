/*
 * h_messages.c: history reads and read markers: GET …/messages and POST
 * …/read (contract sections 3 and 8). Messages are written by the broker
 * alone; the API only reads them, and moves read markers forward.
 */
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "handlers.h"
#include "json.h"
#include "notify.h"
#include "room.h"
#include "valid.h"

#define H_MESSAGES_PAGE_DEFAULT 50
#define H_MESSAGES_PAGE_MAX     200

/* $1 room, $2 the bound seq, $3 limit + 1. Columns: id, seq, kind, user id
 * (NULL when the author row is gone), username, body (NULL when deleted),
 * created_at, edited_at, deleted. */
#define H_MESSAGES_SELECT                                                      \
	"SELECT m.id, m.seq, m.kind, m.user_id,"                               \
	" CASE WHEN u.id IS NULL OR u.deleted_at IS NOT NULL"                  \
	"  THEN '" ROOM_DELETED_USER "' ELSE u.username END,"                  \
	" CASE WHEN m.deleted_at IS NULL THEN m.body END,"                     \
	" " DB_TS("m.created_at") ", " DB_TS(                                  \
	        "m.edited_at") ","                                             \
	                       " m.deleted_at IS NOT NULL"                     \
	                       " FROM messages m LEFT JOIN users u ON u.id = " \
	                       "m.user_id"                                     \
	                       " WHERE m.room_id = $1"

/* Newest first for "before" (and the default, before = +inf); oldest first
 * for "after". The answer is always ascending. */
static const char h_messages_before_sql[] =
        H_MESSAGES_SELECT " AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3";
static const char h_messages_after_sql[] =
        H_MESSAGES_SELECT " AND m.seq > $2 ORDER BY m.seq ASC LIMIT $3";
/* One message by seq. */
static const char h_messages_one_sql[] = H_MESSAGES_SELECT " AND m.seq = $2";

/* Edits: within this long after the message was sent (contract 8). */
#define H_MESSAGES_EDIT_WINDOW "24 hours"

/* The message object of row i, or NULL on ENOMEM. */
static cJSON *
h_messages_row(const PGresult *res, int i, int64_t room_id)
{
	cJSON *o, *u;
	int deleted = db_get_bool(res, i, 8);

	o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	if (!pc_json_add_int(o, "id", db_get_i64(res, i, 0)) ||
	    !pc_json_add_int(o, "room", room_id) ||
	    !pc_json_add_int(o, "seq", db_get_i64(res, i, 1)) ||
	    cJSON_AddStringToObject(o, "kind", db_get_str(res, i, 2)) == NULL)
		goto fail;
	if (db_is_null(res, i, 3)) {
		if (cJSON_AddNullToObject(o, "user") == NULL)
			goto fail;
	} else {
		if ((u = cJSON_AddObjectToObject(o, "user")) == NULL ||
		    !pc_json_add_int(u, "id", db_get_i64(res, i, 3)) ||
		    cJSON_AddStringToObject(u, "username",
		                            db_get_str(res, i, 4)) == NULL)
			goto fail;
	}
	if ((deleted || db_is_null(res, i, 5)
	             ? cJSON_AddNullToObject(o, "body")
	             : cJSON_AddStringToObject(
	                       o, "body", db_get_str(res, i, 5))) == NULL ||
	    cJSON_AddStringToObject(o, "created_at", db_get_str(res, i, 6)) ==
	            NULL ||
	    (db_is_null(res, i, 7) ? cJSON_AddNullToObject(o, "edited_at")
	                           : cJSON_AddStringToObject(
	                                     o, "edited_at",
	                                     db_get_str(res, i, 7))) == NULL ||
	    cJSON_AddBoolToObject(o, "deleted", deleted) == NULL)
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/*
 * GET /api/rooms/{id}/messages?before=&after=&limit=: the newest `limit`
 * (default 50) by default, those below `before`, or those above `after`;
 * both bounds at once, or limit outside 1-200, is 422. Always ascending by
 * seq; has_more says whether more exist beyond the page in the direction
 * of travel (older for before/default, newer for after).
 */
enum pc_err
h_messages_list(struct call *c)
{
	char rid[DB_I64_LEN], bound[DB_I64_LEN], lim[DB_I64_LEN];
	const char *params[3];
	struct room_view room;
	PGresult *res = NULL;
	cJSON *root = NULL, *arr, *item;
	int64_t id, limit, before, after;
	int has_before, has_after, n, i, ascending;
	enum pc_err rc;

	if ((rc = call_path_id(c, "id", &id)) != PC_OK)
		return rc;
	if ((rc = call_query_int(c, "limit", 1, H_MESSAGES_PAGE_MAX,
	                         H_MESSAGES_PAGE_DEFAULT, &limit, NULL)) !=
	            PC_OK ||
	    (rc = call_query_int(c, "before", 0, INT64_MAX, INT64_MAX, &before,
	                         &has_before)) != PC_OK ||
	    (rc = call_query_int(c, "after", 0, INT64_MAX, 0, &after,
	                         &has_after)) != PC_OK)
		return rc;
	if (has_before && has_after)
		return call_fail(c, PC_ERR_INVALID, "after");
	if ((rc = room_lookup(c->db, c->who.user_id, id, &room)) != PC_OK)
		return rc;

	ascending = has_after;
	params[0] = db_i64(rid, id);
	params[1] = db_i64(bound, ascending ? after : before);
	params[2] = db_i64(lim, limit + 1);
	rc = db_exec(c->db,
	             ascending ? h_messages_after_sql : h_messages_before_sql,
	             3, params, &res);
	if (rc != PC_OK)
		goto out;
	rc = PC_ERR_NOMEM;
	root = cJSON_CreateObject();
	if (root == NULL ||
	    (arr = cJSON_AddArrayToObject(root, "messages")) == NULL)
		goto out;
	n = PQntuples(res);
	if (n > limit)
		n = (int)limit;
	for (i = 0; i < n; i++) {
		/* Descending rows are read backwards to answer ascending. */
		item = h_messages_row(res, ascending ? i : n - 1 - i, id);
		if (item == NULL)
			goto out;
		cJSON_AddItemToArray(arr, item);
	}
	if (cJSON_AddBoolToObject(root, "has_more", PQntuples(res) > limit) ==
	    NULL)
		goto out;
	rc = resp_json(c->resp, 200, root);
out:
	cJSON_Delete(root);
	PQclear(res);
	return rc;
}

/*
 * POST /api/rooms/{id}/read {seq}: moves my marker forward to seq, clamped
 * to the room's last_seq; backwards or equal changes nothing. 204 either
 * way; 404 when I am not a member. Members see a `read` event.
 */
enum pc_err
h_messages_read(struct call *c)
{
	char rid[DB_I64_LEN], uid[DB_I64_LEN], sq[DB_I64_LEN];
	const char *params[3];
	struct room_view room;
	PGresult *res = NULL;
	cJSON *ev = NULL, *u;
	int64_t id, seq, now_seq;
	enum pc_err rc;

	if ((rc = call_path_id(c, "id", &id)) != PC_OK)
		return rc;
	if ((rc = call_int(c, "seq", 0, PC_JSON_INT_MAX, &seq)) != PC_OK)
		return rc;
	if ((rc = room_lookup(c->db, c->who.user_id, id, &room)) != PC_OK)
		return rc;
	if (!room.member)
		return PC_ERR_NOT_FOUND;
	params[0] = db_i64(rid, id);
	params[1] = db_i64(uid, c->who.user_id);
	params[2] = db_i64(sq, seq);
	rc = db_exec(c->db,
	             "UPDATE room_members m SET last_read_seq = least($3, "
	             "r.last_seq)"
	             " FROM rooms r WHERE r.id = m.room_id"
	             " AND m.room_id = $1 AND m.user_id = $2"
	             " AND least($3, r.last_seq) > m.last_read_seq"
	             " RETURNING m.last_read_seq",
	             3, params, &res);
	if (rc != PC_OK)
		goto out;
	resp_no_content(c->resp);
	if (PQntuples(res) != 1)
		goto out; /* backwards, equal, or left meanwhile: nothing */
	now_seq = db_get_i64(res, 0, 0);
	/* The marker moved; a lost event costs only liveness. */
	ev = event_new("read");
	if (ev == NULL || !pc_json_add_int(ev, "room", id) ||
	    (u = cJSON_AddObjectToObject(ev, "user")) == NULL ||
	    !pc_json_add_int(u, "id", c->who.user_id) ||
	    cJSON_AddStringToObject(u, "username", c->who.username) == NULL ||
	    !pc_json_add_int(ev, "seq", now_seq)) {
		cJSON_Delete(ev);
		ev = NULL;
	}
	event_to_room(id, ev);
out:
	cJSON_Delete(ev);
	PQclear(res);
	return rc;
}

/*
 * The checks an edit or a delete of message {seq} of room {id} share: the
 * room is visible to me (else 404), the message exists and is not deleted
 * (else 404), it is mine (else 403); for an edit also of kind text and at
 * most H_MESSAGES_EDIT_WINDOW old (else 403). PC_OK and *room, *seq.
 */
static enum pc_err
h_messages_mine(struct call *c, int edit, int64_t *room, int64_t *seq)
{
	char rid[DB_I64_LEN], sq[DB_I64_LEN];
	const char *params[2];
	struct room_view rv;
	PGresult *res = NULL;
	int64_t id, s;
	enum pc_err rc;

	if ((rc = call_path_id(c, "id", &id)) != PC_OK ||
	    (rc = call_path_id(c, "seq", &s)) != PC_OK)
		return rc;
	if ((rc = room_lookup(c->db, c->who.user_id, id, &rv)) != PC_OK)
		return rc;
	params[0] = db_i64(rid, id);
	params[1] = db_i64(sq, s);
	rc = db_exec(c->db,
	             "SELECT user_id, kind = 'text', created_at > now() -"
	             " interval '" H_MESSAGES_EDIT_WINDOW "'"
	             " FROM messages WHERE room_id = $1 AND seq = $2"
	             " AND deleted_at IS NULL",
	             2, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1)
		rc = PC_ERR_NOT_FOUND;
	else if (db_is_null(res, 0, 0) ||
	         db_get_i64(res, 0, 0) != c->who.user_id ||
	         (edit && (!db_get_bool(res, 0, 1) || !db_get_bool(res, 0, 2))))
		rc = PC_ERR_FORBIDDEN;
	if (rc == PC_OK) {
		*room = id;
		*seq = s;
	}
out:
	PQclear(res);
	return rc;
}

/* Sends the room's subscribers {"type": type, …fields of msg}. */
static void
h_messages_event(int64_t room, const char *type, const cJSON *msg)
{
	cJSON *ev = event_new(type), *item, *copy;

	for (item = msg->child; ev != NULL && item != NULL; item = item->next) {
		if ((copy = cJSON_Duplicate(item, 1)) == NULL) {
			cJSON_Delete(ev);
			ev = NULL;
			break;
		}
		cJSON_AddItemToObject(ev, item->string, copy);
	}
	event_to_room(room, ev);
	cJSON_Delete(ev);
}

/*
 * PATCH /api/rooms/{id}/messages/{seq} {body}: edits my own text message
 * within 24 hours (h_messages_mine's rules); the body is checked as a sent
 * one (422 field body). Sets edited_at. 200 and the message; the room's
 * subscribers get {"type":"edited", …message}.
 */
enum pc_err
h_messages_edit(struct call *c)
{
	char rid[DB_I64_LEN], sq[DB_I64_LEN], uid[DB_I64_LEN];
	const char *body = NULL, *params[4];
	PGresult *res = NULL;
	cJSON *msg = NULL;
	int64_t room, seq;
	enum pc_err rc;

	if ((rc = call_str(c, "body", 1, &body)) != PC_OK)
		return rc;
	if (pc_valid_body(body, strlen(body)) != PC_OK)
		return call_fail(c, PC_ERR_INVALID, "body");
	if ((rc = h_messages_mine(c, 1, &room, &seq)) != PC_OK)
		return rc;
	params[0] = db_i64(rid, room);
	params[1] = db_i64(sq, seq);
	params[2] = db_i64(uid, c->who.user_id);
	params[3] = body;
	rc = db_exec(c->db,
	             "UPDATE messages SET body = $4, edited_at = now()"
	             " WHERE room_id = $1 AND seq = $2 AND user_id = $3"
	             " AND deleted_at IS NULL RETURNING id",
	             4, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = PC_ERR_NOT_FOUND; /* deleted meanwhile */
		goto out;
	}
	PQclear(res);
	res = NULL;
	if ((rc = db_exec(c->db, h_messages_one_sql, 2, params, &res)) != PC_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = PC_ERR_NOT_FOUND; /* the room went meanwhile */
		goto out;
	}
	if ((msg = h_messages_row(res, 0, room)) == NULL) {
		rc = PC_ERR_NOMEM;
		goto out;
	}
	if ((rc = resp_json(c->resp, 200, msg)) == PC_OK)
		h_messages_event(room, "edited", msg);
out:
	cJSON_Delete(msg);
	PQclear(res);
	return rc;
}

/*
 * DELETE /api/rooms/{id}/messages/{seq}: deletes my own message (any age):
 * the body is erased and deleted_at set; it keeps its seq, and history
 * shows it with body null and deleted true. 204; the room's subscribers get
 * {"type":"deleted", room, seq, id}.
 */
enum pc_err
h_messages_delete(struct call *c)
{
	char rid[DB_I64_LEN], sq[DB_I64_LEN], uid[DB_I64_LEN];
	const char *params[3];
	PGresult *res = NULL;
	cJSON *ev = NULL;
	int64_t room, seq;
	enum pc_err rc;

	if ((rc = h_messages_mine(c, 0, &room, &seq)) != PC_OK)
		return rc;
	params[0] = db_i64(rid, room);
	params[1] = db_i64(sq, seq);
	params[2] = db_i64(uid, c->who.user_id);
	rc = db_exec(c->db,
	             "UPDATE messages SET body = NULL, deleted_at = now()"
	             " WHERE room_id = $1 AND seq = $2 AND user_id = $3"
	             " AND deleted_at IS NULL RETURNING id",
	             3, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) != 1) {
		rc = PC_ERR_NOT_FOUND;
		goto out;
	}
	resp_no_content(c->resp);
	ev = event_new("deleted");
	if (ev == NULL || !pc_json_add_int(ev, "room", room) ||
	    !pc_json_add_int(ev, "seq", seq) ||
	    !pc_json_add_int(ev, "id", db_get_i64(res, 0, 0))) {
		cJSON_Delete(ev);
		ev = NULL;
	}
	event_to_room(room, ev);
out:
	cJSON_Delete(ev);
	PQclear(res);
	return rc;
}
