/*
 * h_messages.c: history reads and read markers: GET …/messages and POST
 * …/read (contract sections 3 and 8). Messages are written by the broker
 * alone; the API only reads them, and moves read markers forward.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "event.h"
#include "handlers.h"
#include "histcache.h"
#include "json.h"
#include "jsonw.h"
#include "metrics.h"
#include "notify.h"
#include "room.h"
#include "session.h"
#include "stamp.h"
#include "valid.h"

#define H_MESSAGES_PAGE_DEFAULT 50
#define H_MESSAGES_PAGE_MAX     200

/*
 * The SQL below is kept out of clang-format, which splits string literals
 * between macros mid-word; laid out by hand it reads as the SQL it is.
 */
/* clang-format off */

/* The columns of a message, in this order: id, seq, kind, user id (NULL
 * when the author row is gone), username, body (NULL when deleted),
 * created_at, edited_at (DB_TS_RAW: formatted here, not by to_char),
 * deleted. Then FROM, with the message as m. */
#define H_MESSAGES_COLUMNS                                                     \
	" m.id, m.seq, m.kind, m.user_id AS uid,"                              \
	" CASE WHEN u.id IS NULL OR u.deleted_at IS NOT NULL"                  \
	"  THEN '" ROOM_DELETED_USER "' ELSE u.username END AS username,"      \
	" CASE WHEN m.deleted_at IS NULL THEN m.body END AS body,"             \
	" " DB_TS_RAW("m.created_at") " AS created_at,"                        \
	" " DB_TS_RAW("m.edited_at") " AS edited_at,"                          \
	" m.deleted_at IS NOT NULL AS deleted"                                 \
	" FROM messages m LEFT JOIN users u ON u.id = m.user_id"

/*
 * A history page in one statement and one round trip: the session
 * ($1 sid, $2 user, SESSION_WHO_SQL), the room's visibility ($3 the room,
 * ROOM_VISIBLE) with its history version (sql/0005), and the page ($4 the
 * bound seq, $5 limit + 1) unless this thread's copy is current ($6, $7,
 * $8: the copy's last_seq, hist_ver and epoch, or -1 without a copy; then
 * `same` is true and the page is not read: a one-time filter, the index is
 * not touched). Columns: who.username, who.stale, visible, last_seq,
 * hist_ver, epoch, same, then H_MESSAGES_COLUMNS. No row: no live session.
 * Else one row per message, or a single row with NULL message columns when
 * there are none, the copy is current or the room is not visible. The page
 * is the newest below $4 ("before", and the default, before = +inf) or the
 * oldest above it ("after"); the rows come in no promised order and
 * h_messages_list sorts them (a Sort node here cost more PostgreSQL time
 * than qsort of at most 201 numbers in the API). Measured against three
 * statements (session, room, page) and without the copy: fcgi-api/README.md,
 * "Speed".
 */
#define H_MESSAGES_CUR(seq, hist, epoch)                                       \
	SESSION_WHO_SQL                                                        \
	", vis AS (SELECT r.id, r.last_seq, r.hist_ver,"                       \
	" (SELECT v FROM history_epoch) AS epoch FROM"                         \
	ROOM_VISIBLE("(SELECT uid FROM who)", "$3") ")"                        \
	", cur AS (SELECT vis.*, vis.last_seq = " seq " AND vis.hist_ver = "  \
	hist " AND vis.epoch = " epoch " AS same FROM vis)"                    \
	" SELECT who.username, who.stale, cur.id IS NOT NULL, cur.last_seq,"   \
	" cur.hist_ver, cur.epoch, cur.same"
#define H_MESSAGES_PAGE(cmp, order)                                            \
	H_MESSAGES_CUR("$6", "$7", "$8") ", p.*"                               \
	" FROM who LEFT JOIN cur ON true"                                      \
	" LEFT JOIN LATERAL (SELECT" H_MESSAGES_COLUMNS                        \
	"  WHERE m.room_id = cur.id AND NOT cur.same AND m.seq " cmp " $4"     \
	"  ORDER BY m.seq " order " LIMIT $5) p ON true"
static const char h_messages_before_sql[] = H_MESSAGES_PAGE("<", "DESC");
static const char h_messages_after_sql[] = H_MESSAGES_PAGE(">", "ASC");
/* The first message column of a page row. */
#define H_MESSAGES_PAGE_COL 7
/*
 * The check alone, for a copy a request has already found current
 * (histcache_confirmed): the same first seven columns and no page ($4, $5,
 * $6 the copy's version). PostgreSQL starts every node of a plan at each
 * execution, the page's too when the one-time filter then skips it, so the
 * check costs less (fcgi-api/README.md, "Speed", round 3). When the copy
 * turns out stale, the page statement follows: a second round trip, which
 * checks the session again. A copy not yet confirmed (just built: its room
 * may be busy) goes straight to the page statement, as before, so a room
 * whose copies keep going stale pays no second round trip.
 */
static const char h_messages_check_sql[] =
        H_MESSAGES_CUR("$4", "$5", "$6") " FROM who LEFT JOIN cur ON true";

/* clang-format on */

/* One message by seq: $1 room, $2 seq. */
static const char h_messages_one_sql[] =
        "SELECT" H_MESSAGES_COLUMNS " WHERE m.room_id = $1 AND m.seq = $2";

/* Edits: within this long after the message was sent (contract 8). */
#define H_MESSAGES_EDIT_WINDOW "24 hours"

/* A DB_TS_RAW column as an RFC 3339 string, or null. */
static void
h_messages_ts(struct jsonw *w, const PGresult *res, int i, int col)
{
	char ts[DB_TS_LEN];

	if (db_is_null(res, i, col))
		jsonw_raw(w, "null");
	else if (db_ts_rfc3339(db_get_str(res, i, col), ts) != PC_OK)
		jsonw_fail(w, PC_ERR_INTERNAL);
	else
		jsonw_str(w, ts);
}

/*
 * Writes the message object of row i, whose H_MESSAGES_COLUMNS start at
 * column col: {id, room, seq, kind, user:{id, username} or null, body (null
 * when deleted), created_at, edited_at, deleted}. The only place a message
 * object is made (edits parse it back for their event).
 */
static void
h_messages_write(struct jsonw *w, const PGresult *res, int i, int col,
                 int64_t room_id)
{
	int deleted = db_get_bool(res, i, col + 8);

	jsonw_raw(w, "{\"id\":");
	jsonw_int(w, db_get_i64(res, i, col));
	jsonw_raw(w, ",\"room\":");
	jsonw_int(w, room_id);
	jsonw_raw(w, ",\"seq\":");
	jsonw_int(w, db_get_i64(res, i, col + 1));
	jsonw_raw(w, ",\"kind\":");
	jsonw_str(w, db_get_str(res, i, col + 2));
	if (db_is_null(res, i, col + 3)) {
		jsonw_raw(w, ",\"user\":null");
	} else {
		jsonw_raw(w, ",\"user\":{\"id\":");
		jsonw_int(w, db_get_i64(res, i, col + 3));
		jsonw_raw(w, ",\"username\":");
		jsonw_str(w, db_get_str(res, i, col + 4));
		jsonw_raw(w, "}");
	}
	jsonw_raw(w, ",\"body\":");
	if (deleted || db_is_null(res, i, col + 5))
		jsonw_raw(w, "null");
	else
		jsonw_str(w, db_get_str(res, i, col + 5));
	jsonw_raw(w, ",\"created_at\":");
	h_messages_ts(w, res, i, col + 6);
	jsonw_raw(w, ",\"edited_at\":");
	h_messages_ts(w, res, i, col + 7);
	jsonw_raw(w, ",\"deleted\":");
	jsonw_bool(w, deleted);
	jsonw_raw(w, "}");
}

/* A page row's seq and its row number, for sorting the page. */
struct h_messages_ord {
	int64_t seq;
	int row;
};

static int
h_messages_by_seq(const void *a, const void *b)
{
	const struct h_messages_ord *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

/*
 * Runs sql (the check or a page statement: H_MESSAGES_CUR's seven columns
 * first) and answers what its first row settles: 401 (call_confirm), 404
 * when the room is not visible, or this thread's copy (copy_len bytes)
 * when `same` says it is current, with *served set. PC_OK with *served 0:
 * *res is the caller's to read on. Either way *res is the caller's to
 * PQclear.
 */
static enum pc_err
h_messages_ask(struct call *c, const char *sql, int n, const char **params,
               const char *copy, size_t copy_len, PGresult **res, int *served)
{
	enum pc_err rc;

	*served = 0;
	if ((rc = db_exec(c->db, sql, n, params, res)) != PC_OK ||
	    (rc = call_confirm(c, *res, 0)) != PC_OK)
		return rc;
	if (!db_get_bool(*res, 0, 2))
		return PC_ERR_NOT_FOUND;
	if (copy == NULL || !db_get_bool(*res, 0, 6))
		return PC_OK;
	*served = 1;
	rc = pc_buf_append(resp_body(c->resp), copy, copy_len);
	metrics_count(METRICS_HISTORY_COPY);
	return resp_json_done(c->resp, 200, rc);
}

/*
 * GET /api/rooms/{id}/messages?before=&after=&limit=: the newest `limit`
 * (default 50) by default, those below `before`, or those above `after`;
 * both bounds at once, or limit outside 1-200, is 422. Always ascending by
 * seq; has_more says whether more exist beyond the page in the direction
 * of travel (older for before/default, newer for after). A
 * ROUTE_SESSION_SQL route: its one statement checks the session too, and
 * says whether this thread's copy of the page (histcache.h) is current.
 */
enum pc_err
h_messages_list(struct call *c)
{
	char uid[DB_I64_LEN], rid[DB_I64_LEN], bound[DB_I64_LEN],
	        lim[DB_I64_LEN], v_seq[DB_I64_LEN], v_hist[DB_I64_LEN],
	        v_epoch[DB_I64_LEN];
	const char *params[8];
	PGresult *res = NULL;
	struct jsonw w;
	struct histcache_key key;
	struct histcache_ver have, now;
	struct stamp st;
	int64_t now_ms;
	const char *copy;
	size_t copy_len = 0;
	int64_t id, limit, before, after;
	struct h_messages_ord ord[H_MESSAGES_PAGE_MAX + 1];
	int has_before, has_after, n, i, first, shown, ascending, served;
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

	ascending = has_after;
	memset(&key, 0, sizeof(key));
	key.room = id;
	key.bound = ascending ? after : before;
	key.limit = limit;
	key.ascending = ascending;
	have.last_seq = have.hist_ver = have.epoch = -1;
	copy = histcache_get(&key, &have, &copy_len);
	/* The boards before any statement: what a vouch made here rests on. */
	stamp_take(id, &st);
	now_ms = pc_clock_mono_ms();
	if (copy != NULL && histcache_vouched(&key, c->who.sid,
	                                      c->who.user_id, &st, now_ms)) {
		/* Nothing written since this session's last check. */
		c->who_pending = 0;
		c->authed = 1;
		rc = pc_buf_append(resp_body(c->resp), copy, copy_len);
		metrics_count(METRICS_HISTORY_COPY);
		metrics_count(METRICS_HISTORY_VOUCHED);
		rc = resp_json_done(c->resp, 200, rc);
		goto out;
	}
	session_params(&c->who, uid, params);
	params[2] = db_i64(rid, id);
	if (copy != NULL && histcache_confirmed(&key)) {
		params[3] = db_i64(v_seq, have.last_seq);
		params[4] = db_i64(v_hist, have.hist_ver);
		params[5] = db_i64(v_epoch, have.epoch);
		rc = h_messages_ask(c, h_messages_check_sql, 6, params, copy,
		                    copy_len, &res, &served);
		if (rc == PC_OK && served)
			histcache_vouch(&key, c->who.sid, c->who.user_id, &st,
			                now_ms);
		if (rc != PC_OK || served)
			goto out;
		/* stale: the page statement below reads the page */
		PQclear(res);
		res = NULL;
		copy = NULL;
		have.last_seq = have.hist_ver = have.epoch = -1;
	}
	params[3] = db_i64(bound, key.bound);
	params[4] = db_i64(lim, limit + 1);
	params[5] = db_i64(v_seq, have.last_seq);
	params[6] = db_i64(v_hist, have.hist_ver);
	params[7] = db_i64(v_epoch, have.epoch);
	rc = h_messages_ask(c,
	                    ascending ? h_messages_after_sql
	                              : h_messages_before_sql,
	                    8, params, copy, copy_len, &res, &served);
	if (rc != PC_OK)
		goto out;
	if (served) {
		histcache_confirm(&key);
		histcache_vouch(&key, c->who.sid, c->who.user_id, &st, now_ms);
		goto out;
	}
	now.last_seq = db_get_i64(res, 0, 3);
	now.hist_ver = db_get_i64(res, 0, 4);
	now.epoch = db_get_i64(res, 0, 5);
	n = PQntuples(res);
	if (n == 1 && db_is_null(res, 0, H_MESSAGES_PAGE_COL))
		n = 0; /* no message: the one row of the LEFT JOIN */
	if (n > H_MESSAGES_PAGE_MAX + 1) {
		rc = PC_ERR_INTERNAL; /* LIMIT $5 makes this impossible */
		goto out;
	}
	for (i = 0; i < n; i++) {
		ord[i].seq = db_get_i64(res, i, H_MESSAGES_PAGE_COL + 1);
		ord[i].row = i;
	}
	qsort(ord, (size_t)n, sizeof(ord[0]), h_messages_by_seq);
	/* The extra row (limit + 1) only says has_more: it is the oldest
	 * when going back, the newest when going forward. */
	first = !ascending && n > limit ? 1 : 0;
	shown = n > limit ? (int)limit : n;
	jsonw_init(&w, resp_body(c->resp));
	jsonw_raw(&w, "{\"messages\":[");
	for (i = 0; i < shown; i++) {
		if (i > 0)
			jsonw_raw(&w, ",");
		h_messages_write(&w, res, ord[first + i].row,
		                 H_MESSAGES_PAGE_COL, id);
	}
	jsonw_raw(&w, "],\"has_more\":");
	jsonw_bool(&w, n > limit);
	jsonw_raw(&w, "}");
	rc = resp_json_done(c->resp, 200, jsonw_end(&w));
	if (rc == PC_OK) {
		histcache_put(&key, &now, c->resp->body.data,
		              c->resp->body.len);
		histcache_vouch(&key, c->who.sid, c->who.user_id, &st, now_ms);
	}
out:
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
	struct jsonw w;
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
	jsonw_init(&w, resp_body(c->resp));
	h_messages_write(&w, res, 0, 0, room);
	if ((rc = resp_json_done(c->resp, 200, jsonw_end(&w))) != PC_OK)
		goto out;
	/* The event carries the same object: parsed back from the answer
	 * (an edit is rare), so a message object is written in one place. */
	if (pc_json_parse(c->resp->body.data, c->resp->body.len, &msg) == PC_OK)
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
