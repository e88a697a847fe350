/*
 * store.c: the PostgreSQL thread (store.h): group commit, seq assignment,
 * idempotency, membership checks and the reads a replay needs.
 *
 * Every statement is prepared once per connection and takes its values as
 * parameters; a batch passes arrays (bigint[], text[]) and unnests them, so
 * a transaction of a thousand sends is still three statements (BEGIN and
 * COMMIT aside), sent in libpq's pipeline mode in one round trip (see "the
 * batch"). The
 * jobs' order is kept end to end: the thread answers them in the order they
 * were queued, and the main thread publishes in that order.
 *
 * Not here: deciding who may ask (ingest.c), rate limits (limits.c), and
 * anything about pipes: this thread never touches NNG.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "board.h"
#include "buf.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

#define STORE_QUEUE_MAX 200000     /* jobs waiting: beyond, unavailable */
#define STORE_RETRY_MS  1000       /* reconnect pace */
#define STORE_LOCK_KEY1 1885561458 /* 'pcbr': the broker's advisory lock */
#define STORE_LOCK_KEY2 0          /* plus the shard: store_take_lock */
#define STORE_ARRAY_MAX (64 * 1024 * 1024) /* one array parameter */
#define STORE_FETCH_MAX 500                /* rows one FETCH may read */

enum stmt {
	S_AUTH,
	S_JOIN_ROOM,
	S_JOIN_MEMBER,
	S_ROWS,
	S_SESSIONS,
	S_CALL,
	S_LOCK_ROOMS,
	S_SENDS,
	S_READ,
	S_LASTSEQ,
	S_ROOM,
	S__MAX
};

static const struct {
	const char *name;
	const char *sql;
} stmts[S__MAX] = {
        [S_AUTH] = {"auth", "SELECT u.username FROM sessions s JOIN users u ON "
                            "u.id = s.user_id"
                            " WHERE s.id = $1::uuid AND s.user_id = $2::bigint"
                            " AND s.revoked_at IS NULL AND s.expires_at > now()"
                            " AND u.deleted_at IS NULL"},
        [S_JOIN_ROOM] =
                {"join_room",
                 "SELECT r.kind, r.last_seq, m.user_id IS NOT NULL,"
                 " CASE WHEN r.kind = 'direct' THEN (SELECT CASE WHEN "
                 "o.deleted_at"
                 " IS NULL THEN o.username ELSE 'deleted user' END FROM users o"
                 " WHERE o.id = CASE WHEN r.dm_low = $2::bigint THEN r.dm_high"
                 " ELSE r.dm_low END) ELSE r.name END"
                 " FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id"
                 " AND m.user_id = $2::bigint WHERE r.id = $1::bigint"},
        [S_JOIN_MEMBER] = {"join_member",
                           "INSERT INTO room_members (room_id, user_id) VALUES "
                           "($1::bigint,"
                           " $2::bigint) ON CONFLICT DO NOTHING"},
        [S_ROWS] = {"rows",
                    "SELECT m.id, m.seq, m.kind, m.user_id,"
                    " CASE WHEN u.id IS NULL OR u.deleted_at IS NOT NULL"
                    " THEN 'deleted user' ELSE u.username END,"
                    " CASE WHEN m.deleted_at IS NULL THEN m.body END,"
                    " floor(extract(epoch FROM m.created_at) * 1000)::bigint,"
                    " floor(extract(epoch FROM m.edited_at) * 1000)::bigint,"
                    " m.deleted_at IS NOT NULL"
                    " FROM messages m LEFT JOIN users u ON u.id = m.user_id"
                    " WHERE m.room_id = $1::bigint AND m.seq BETWEEN $2::bigint"
                    " AND $3::bigint ORDER BY m.seq"},
        [S_SESSIONS] = {"sessions",
                        "SELECT s.id::text FROM sessions s JOIN users u ON "
                        "u.id = s.user_id"
                        " WHERE s.user_id = $1::bigint AND s.revoked_at IS NULL"
                        " AND s.expires_at > now() AND u.deleted_at IS NULL"},
        [S_CALL] = {"call",
                    "SELECT EXISTS (SELECT 1 FROM room_members WHERE room_id = "
                    "$1::bigint"
                    " AND user_id = $2::bigint) AND EXISTS (SELECT 1 FROM "
                    "room_members"
                    " WHERE room_id = $1::bigint AND user_id = $3::bigint)"
                    " AND NOT EXISTS (SELECT 1 FROM blocks WHERE blocker = "
                    "$3::bigint"
                    " AND blocked = $2::bigint) AND EXISTS (SELECT 1 FROM users"
                    " WHERE id = $3::bigint AND deleted_at IS NULL)"},
        /* The batch's rooms, locked in the array's order (ascending id:
         * pair_unique sorts them) by one index probe each; the API locks
         * one room at a time, so no deadlock. */
        [S_LOCK_ROOMS] =
                {"lock_rooms",
                 "SELECT r.id, r.last_seq FROM unnest($1::bigint[]) AS k(id)"
                 " CROSS JOIN LATERAL (SELECT id, last_seq FROM rooms"
                 " WHERE id = k.id LIMIT 1 FOR UPDATE) r"},
        /*
         * A batch's sends, all in one statement (after S_LOCK_ROOMS in the
         * same transaction, so what it reads is what a kick or leave that
         * locked the room first left behind). $1..$5: room, user, body,
         * client_id and kind of each send, in queue order (the ordinality
         * p says which); $6 created_at. v gives each send its verdict:
         * d = already stored (did, dseq, dat: the original), g = no such
         * room (or a private one the user is not in), m = not a member of
         * a public room, u = a direct room whose other user is deleted or
         * blocks the sender, o = to insert; base = the room's last_seq.
         * Every probe is LATERAL ... LIMIT 1, so the cached generic plan is
         * an index probe per send whatever the tables' sizes (a JOIN on
         * rooms was planned as a scan of the whole table while it was
         * small). ok numbers the sends to insert per room in queue order
         * (seq = base + n); ins, ls and rd insert them and move
         * rooms.last_seq and the senders' read markers (one row per room
         * and per (room, user), not per message). The answer: one row per
         * send (t = 0: p, verdict, base, did, dseq, dat in ms), then one
         * per inserted message (t = 1: id, NULL, room, seq).
         */
        [S_SENDS] =
                {"sends",
                 "WITH v AS MATERIALIZED (SELECT k.p, k.r, k.u, k.b, k.c, k.kd,"
                 " r.last_seq AS base,"
                 " CASE WHEN d.id IS NOT NULL THEN 'd'"
                 " WHEN r.id IS NULL THEN 'g'"
                 " WHEN m.user_id IS NULL THEN"
                 " CASE WHEN r.kind = 'public' THEN 'm' ELSE 'g' END"
                 " WHEN r.kind = 'direct' AND EXISTS (SELECT 1 FROM users o"
                 " WHERE o.id = CASE WHEN r.dm_low = k.u THEN r.dm_high"
                 " ELSE r.dm_low END AND (o.deleted_at IS NOT NULL OR EXISTS"
                 " (SELECT 1 FROM blocks bl WHERE bl.blocker = o.id"
                 " AND bl.blocked = k.u))) THEN 'u'"
                 " ELSE 'o' END AS verdict,"
                 " d.id AS did, d.seq AS dseq, d.created_at AS dat"
                 " FROM unnest($1::bigint[], $2::bigint[], $3::text[],"
                 " $4::text[], $5::text[]) WITH ORDINALITY"
                 " AS k(r, u, b, c, kd, p)"
                 " LEFT JOIN LATERAL (SELECT id, kind, last_seq, dm_low,"
                 " dm_high FROM rooms WHERE id = k.r LIMIT 1) r ON true"
                 " LEFT JOIN LATERAL (SELECT user_id FROM room_members"
                 " WHERE room_id = k.r AND user_id = k.u LIMIT 1) m ON true"
                 " LEFT JOIN LATERAL (SELECT id, seq, created_at FROM messages"
                 " WHERE user_id = k.u AND room_id = k.r AND client_id = k.c"
                 " LIMIT 1) d ON true),"
                 " ok AS MATERIALIZED (SELECT r, u, b, c, kd, base +"
                 " row_number() OVER (PARTITION BY r ORDER BY p) AS s"
                 " FROM v WHERE verdict = 'o'),"
                 " ins AS (INSERT INTO messages (room_id, seq, user_id, kind,"
                 " body, client_id, created_at) SELECT r, s, u, kd, b, c,"
                 " $6::timestamptz FROM ok RETURNING id, room_id, seq),"
                 " ls AS (UPDATE rooms SET last_seq = x.s FROM (SELECT r,"
                 " max(s) AS s FROM ok GROUP BY r) x WHERE rooms.id = x.r),"
                 " rd AS (UPDATE room_members m SET last_read_seq = x.s FROM"
                 " (SELECT r, u, max(s) AS s FROM ok GROUP BY r, u) x"
                 " WHERE m.room_id = x.r AND m.user_id = x.u"
                 " AND m.last_read_seq < x.s)"
                 " SELECT 0, p, verdict, base, did, dseq,"
                 " floor(extract(epoch FROM dat) * 1000)::bigint FROM v"
                 " UNION ALL SELECT 1, id, NULL, room_id, seq, NULL, NULL"
                 " FROM ins"},
        [S_READ] = {"read", "UPDATE room_members m SET last_read_seq = "
                            "LEAST(v.s, r.last_seq)"
                            " FROM unnest($1::bigint[], $2::bigint[], "
                            "$3::bigint[]) AS v(r, u, s)"
                            " JOIN rooms r ON r.id = v.r WHERE m.room_id = v.r "
                            "AND m.user_id ="
                            " v.u AND m.last_read_seq < LEAST(v.s, r.last_seq)"
                            " RETURNING m.room_id, m.user_id, m.last_read_seq"},
        [S_LASTSEQ] =
                {"lastseq",
                 "SELECT id, last_seq FROM rooms WHERE id = ANY($1::bigint[])"},
        [S_ROOM] = {"room", "SELECT kind FROM rooms WHERE id = $1::bigint"},
};

static const char *const store_op_names[STORE__MAX] = {
        [STORE_AUTH] = "auth",       [STORE_JOIN] = "join",
        [STORE_SEND] = "send",       [STORE_READ] = "read",
        [STORE_FETCH] = "fetch",     [STORE_SESSIONS] = "sessions",
        [STORE_BARRIER] = "barrier", [STORE_CALL] = "call",
        [STORE_ROOM] = "room",       [STORE_LASTSEQ] = "lastseq",
        [STORE_ONLINE] = "online",
};

static struct {
	const struct settings *s;
	pthread_t thread;
	int running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct store_job *in_head, *in_tail; /* queued by the main thread */
	size_t in_len;
	struct store_job *out_head, *out_tail; /* answered */
	int efd;
	int stop;
	/* store thread only */
	PGconn *db;
	PGconn *lock;
	int64_t next_try_ms;
	int syncs;        /* pipeline sync points whose results are due */
	int unsynced;     /* statements queued after the last sync point */
	int64_t *touched; /* rooms of failed or uncertain commits */
	size_t ntouched, touched_cap;
	struct pc_board *board; /* board.h; NULL beyond one machine */
} st = {.efd = -1,
        .mu = PTHREAD_MUTEX_INITIALIZER,
        .cv = PTHREAD_COND_INITIALIZER};

const char *
store_op_name(enum store_op op)
{
	return op < STORE__MAX ? store_op_names[op] : "?";
}

struct store_job *
store_job_new(enum store_op op)
{
	struct store_job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->op = op;
	return j;
}

void
store_job_free(struct store_job *j)
{
	size_t i;

	if (j == NULL)
		return;
	free(j->text);
	frame_unref(j->ack);
	frame_unref(j->msg);
	for (i = 0; i < j->nrows; i++)
		frame_unref(j->rows[i]);
	free(j->rows);
	free(j->row_seq);
	free(j->sids);
	free(j->ids);
	free(j->counts);
	free(j);
}

/* ---- connections ---- */

static PGconn *
store_connect_one(const char *conninfo)
{
	static const char *const keys[] = {"dbname", "application_name", NULL};
	const char *vals[] = {conninfo, "pipechat-broker", NULL};
	PGconn *c;

	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL)
		return NULL;
	if (PQstatus(c) != CONNECTION_OK) {
		pc_log_warn("cannot connect: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* PC_OK, PC_ERR_CONFLICT (held elsewhere), PC_ERR_UNAVAILABLE. */
static enum pc_err
store_take_lock(void)
{
	PGresult *r;
	enum pc_err e = PC_ERR_UNAVAILABLE;
	char k1[16], k2[16];
	const char *v[2] = {k1, k2};

	if (st.lock != NULL && PQstatus(st.lock) == CONNECTION_OK)
		return PC_OK;
	if (st.lock != NULL)
		PQfinish(st.lock);
	if ((st.lock = store_connect_one(st.s->db)) == NULL)
		return PC_ERR_UNAVAILABLE;
	snprintf(k1, sizeof(k1), "%d", STORE_LOCK_KEY1);
	/* key2 is this broker's shard (PIPECHAT_BROKER_SHARD, 0 alone): a
	 * second broker for the same shard is refused, other shards run. */
	snprintf(k2, sizeof(k2), "%d", STORE_LOCK_KEY2 + (int)st.s->shard);
	r = PQexecParams(st.lock,
	                 "SELECT pg_try_advisory_lock($1::int, $2::int)", 2,
	                 NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		e = strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? PC_OK
		                                          : PC_ERR_CONFLICT;
	else
		pc_log_warn("advisory lock: %s", PQerrorMessage(st.lock));
	PQclear(r);
	if (e != PC_OK) {
		PQfinish(st.lock);
		st.lock = NULL;
	}
	return e;
}

static void
store_disconnect(void)
{
	if (st.db != NULL)
		PQfinish(st.db);
	st.db = NULL;
}

static enum pc_err
store_connect(void)
{
	PGresult *r;
	int i;
	enum pc_err e;

	if (st.db != NULL && PQstatus(st.db) == CONNECTION_OK)
		return PC_OK;
	store_disconnect();
	if ((e = store_take_lock()) == PC_ERR_CONFLICT)
		pc_fatal("another pipechat-broker holds this database's "
		         "advisory "
		         "lock; refusing to run two writers");
	if (e != PC_OK)
		return e;
	if ((st.db = store_connect_one(st.s->db)) == NULL)
		return PC_ERR_UNAVAILABLE;
	/* Every statement here joins a batch's few keys (an unnest of arrays)
	 * to tables that only grow: the right plan is always an index probe
	 * per key. Prepared statements keep a generic plan that assumes 100
	 * keys; planned while a table is small (tens of thousands of rows)
	 * it hash-joins a sequential scan of the table in every transaction.
	 * Hash and merge joins off for this session keep the probes.
	 * Generic plans always (plan_cache_mode): with the default, a
	 * statement whose custom plans look cheaper than the generic one is
	 * planned again at every execution, and S_SENDS (five CTEs, three
	 * probes per send) costs more to plan than to run a small batch
	 * (measured with psql at one send per transaction: 1,300 µs of
	 * PostgreSQL CPU per transaction, 740 µs with generic plans). Every
	 * statement's generic plan is an index probe per key (the LATERAL ...
	 * LIMIT 1 forms below), so it fits any table size. */
	r = PQexec(st.db, "SET enable_hashjoin = off; SET enable_mergejoin = "
	                  "off; SET plan_cache_mode = force_generic_plan");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		pc_log_err("session settings: %s", PQerrorMessage(st.db));
		PQclear(r);
		store_disconnect();
		return PC_ERR_UNAVAILABLE;
	}
	PQclear(r);
	for (i = 0; i < S__MAX; i++) {
		r = PQprepare(st.db, stmts[i].name, stmts[i].sql, 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			pc_log_err("prepare %s: %s", stmts[i].name,
			           PQerrorMessage(st.db));
			PQclear(r);
			store_disconnect();
			return PC_ERR_UNAVAILABLE;
		}
		PQclear(r);
	}
	pc_log_info("connected to the database");
	return PC_OK;
}

static int
store_connected(void)
{
	return st.db != NULL && PQstatus(st.db) == CONNECTION_OK;
}

/*
 * A server that shut down or restarted has already told the idle connection
 * so (an error, then EOF), but libpq only notices on the next query: look
 * first, without blocking, so that the next job reconnects instead of
 * failing on a dead connection.
 */
static void
store_check(void)
{
	struct pollfd p;

	if (st.db == NULL)
		return;
	p.fd = PQsocket(st.db);
	p.events = POLLIN;
	p.revents = 0;
	if (p.fd >= 0 && poll(&p, 1, 0) > 0 &&
	    (!PQconsumeInput(st.db) || PQstatus(st.db) != CONNECTION_OK)) {
		pc_log_warn("lost the database connection");
		store_disconnect();
		st.next_try_ms = 0; /* reconnect now */
	}
	if (st.db != NULL && PQstatus(st.db) != CONNECTION_OK)
		store_disconnect();
}

/* Runs a prepared statement; NULL (logged) unless it returned want. */
static PGresult *
store_exec(enum stmt s, int n, const char *const *vals, ExecStatusType want)
{
	PGresult *r;

	if (!store_connected())
		return NULL;
	r = PQexecPrepared(st.db, stmts[s].name, n, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != want) {
		pc_log_warn("%s: %s", stmts[s].name, PQerrorMessage(st.db));
		PQclear(r);
		return NULL;
	}
	return r;
}

static int
store_simple(const char *sql)
{
	PGresult *r;
	int ok;

	if (!store_connected())
		return 0;
	r = PQexec(st.db, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		pc_log_warn("%s: %s", sql, PQerrorMessage(st.db));
	PQclear(r);
	return ok;
}

/* ---- pipeline mode (the batch of sends, below) ---- */

/* Queues a prepared statement. PC_OK or PC_ERR_UNAVAILABLE (logged). */
static enum pc_err
store_pipe_send(enum stmt s, int n, const char *const *vals)
{
	if (!store_connected() || PQsendQueryPrepared(st.db, stmts[s].name, n,
	                                              vals, NULL, NULL, 0) != 1) {
		pc_log_warn("%s: %s", stmts[s].name,
		            st.db != NULL ? PQerrorMessage(st.db) : "no db");
		return PC_ERR_UNAVAILABLE;
	}
	st.unsynced = 1;
	return PC_OK;
}

/* Queues a statement without parameters (BEGIN, COMMIT). Non-zero if done. */
static int
store_pipe_sql(const char *sql)
{
	if (!store_connected() ||
	    PQsendQueryParams(st.db, sql, 0, NULL, NULL, NULL, NULL, 0) != 1) {
		pc_log_warn("%s: %s", sql,
		            st.db != NULL ? PQerrorMessage(st.db) : "no db");
		return 0;
	}
	st.unsynced = 1;
	return 1;
}

/* Ends a round trip: a sync point, and what is queued goes to the server. */
static int
store_pipe_sync(void)
{
	if (!store_connected() || PQpipelineSync(st.db) != 1) {
		pc_log_warn("pipeline sync: %s",
		            st.db != NULL ? PQerrorMessage(st.db) : "no db");
		return 0;
	}
	st.syncs++;
	st.unsynced = 0;
	return 1;
}

/* The result of the next queued statement (what names it in the log) when
 * its status is want, else NULL (logged, unless the statement was only
 * skipped because an earlier one failed). The caller PQclears it. */
static PGresult *
store_pipe_result(const char *what, ExecStatusType want)
{
	PGresult *r, *end;

	if (!store_connected() || (r = PQgetResult(st.db)) == NULL) {
		pc_log_warn("%s: no result: %s", what,
		            st.db != NULL ? PQerrorMessage(st.db) : "no db");
		return NULL;
	}
	if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
		st.syncs--; /* not expected here: the results are out of step */
		pc_log_warn("%s: no result before the sync point", what);
		PQclear(r);
		return NULL;
	}
	while ((end = PQgetResult(st.db)) != NULL) /* a statement's results */
		PQclear(end);                       /* end with a NULL */
	if (PQresultStatus(r) != want) {
		if (PQresultStatus(r) != PGRES_PIPELINE_ABORTED)
			pc_log_warn("%s: %s", what, PQresultErrorMessage(r));
		PQclear(r);
		return NULL;
	}
	return r;
}

static PGresult *
store_pipe_take(enum stmt s, ExecStatusType want)
{
	return store_pipe_result(stmts[s].name, want);
}

/* Takes (and drops) results up to the next sync point; non-zero when it was
 * reached. */
static int
store_pipe_wait_sync(void)
{
	PGresult *r;
	int nulls = 0;

	/* two NULLs in a row: nothing more is due (a dead connection) */
	while (st.syncs > 0 && store_connected() && nulls < 2) {
		if ((r = PQgetResult(st.db)) == NULL) {
			nulls++;
			continue;
		}
		nulls = 0;
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			st.syncs--;
			PQclear(r);
			return 1;
		}
		PQclear(r);
	}
	return 0;
}

/* Takes every result still due and leaves pipeline mode; a connection that
 * cannot leave it is dropped (the next job reconnects). */
static void
store_pipe_end(void)
{
	if (st.unsynced) /* a step failed halfway: end what it queued */
		(void)store_pipe_sync();
	while (st.syncs > 0 && store_pipe_wait_sync())
		;
	st.syncs = 0;
	st.unsynced = 0;
	if (st.db != NULL && PQpipelineStatus(st.db) != PQ_PIPELINE_OFF &&
	    PQexitPipelineMode(st.db) != 1) {
		pc_log_warn("cannot leave pipeline mode: %s",
		            PQerrorMessage(st.db));
		store_disconnect();
	}
}

/* ---- parameters and values ---- */

static int64_t
val_i64(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return -1;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static int
val_bool(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

static void
val_copy(char *dst, size_t size, const PGresult *r, int row, int col)
{
	snprintf(dst, size, "%s",
	         PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

/* Appends one element of a PostgreSQL array literal: quoted, with " and
 * \ escaped. */
static enum pc_err
arr_text(struct pc_buf *b, const char *s, size_t len)
{
	size_t i, run;
	enum pc_err e;

	if (b->len > 1 && (e = pc_buf_append(b, ",", 1)) != PC_OK)
		return e;
	if ((e = pc_buf_append(b, "\"", 1)) != PC_OK)
		return e;
	for (i = 0; i < len; i += run) {
		for (run = 0;
		     i + run < len && s[i + run] != '"' && s[i + run] != '\\';
		     run++)
			;
		if (run > 0) {
			if ((e = pc_buf_append(b, s + i, run)) != PC_OK)
				return e;
			continue;
		}
		run = 1;
		if ((e = pc_buf_append(b, "\\", 1)) != PC_OK ||
		    (e = pc_buf_append(b, s + i, 1)) != PC_OK)
			return e;
	}
	return pc_buf_append(b, "\"", 1);
}

static enum pc_err
arr_i64(struct pc_buf *b, int64_t v)
{
	return pc_buf_printf(b, "%s%" PRId64, b->len > 1 ? "," : "", v);
}

static void
arr_start(struct pc_buf *b)
{
	pc_buf_init(b, STORE_ARRAY_MAX);
}

static enum pc_err
arr_open(struct pc_buf *b)
{
	return pc_buf_append(b, "{", 1);
}

static enum pc_err
arr_close(struct pc_buf *b)
{
	return pc_buf_append(b, "}", 1);
}

static void
store_touch(int64_t room)
{
	size_t i;
	int64_t *t;

	for (i = 0; i < st.ntouched; i++)
		if (st.touched[i] == room)
			return;
	if (st.ntouched == st.touched_cap) {
		t = realloc(st.touched, (st.touched_cap * 2 + 16) * sizeof(*t));
		if (t == NULL)
			return;
		st.touched = t;
		st.touched_cap = st.touched_cap * 2 + 16;
	}
	st.touched[st.ntouched++] = room;
}

/* ---- answering ---- */

/* Hands jobs[0..n) to the main thread, in order, with one wake-up. */
static void
store_post_many(struct store_job **jobs, size_t n)
{
	uint64_t one = 1;
	int64_t now_us = pc_clock_mono_us();
	size_t i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		jobs[i]->done_us = now_us;
	for (i = 0; i + 1 < n; i++)
		jobs[i]->next = jobs[i + 1];
	jobs[n - 1]->next = NULL;
	pthread_mutex_lock(&st.mu);
	if (st.out_tail != NULL)
		st.out_tail->next = jobs[0];
	else
		st.out_head = jobs[0];
	st.out_tail = jobs[n - 1];
	pthread_mutex_unlock(&st.mu);
	if (write(st.efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pc_log_warn("eventfd: %s", strerror(errno));
}

static void
store_post(struct store_job *j)
{
	store_post_many(&j, 1);
}

/* ---- single jobs ---- */

static int
store_uuid_ok(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		             (s[i] >= 'a' && s[i] <= 'f') ||
		             (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	}
	return 1;
}

static void
job_auth(struct store_job *j)
{
	char user[24];
	const char *v[2] = {j->sid, user};
	PGresult *r;

	if (!store_uuid_ok(j->sid)) {
		j->err = PC_ERR_UNAUTHENTICATED;
		return;
	}
	snprintf(user, sizeof(user), "%" PRId64, j->user);
	if ((r = store_exec(S_AUTH, 2, v, PGRES_TUPLES_OK)) == NULL) {
		j->err = PC_ERR_UNAVAILABLE;
		return;
	}
	if (PQntuples(r) != 1)
		j->err = PC_ERR_UNAUTHENTICATED;
	else
		val_copy(j->username, sizeof(j->username), r, 0, 0);
	PQclear(r);
}

static void
job_join(struct store_job *j)
{
	char room[24], user[24];
	const char *v[2] = {room, user};
	PGresult *r, *r2;
	int member;

	snprintf(room, sizeof(room), "%" PRId64, j->room);
	snprintf(user, sizeof(user), "%" PRId64, j->user);
	if ((r = store_exec(S_JOIN_ROOM, 2, v, PGRES_TUPLES_OK)) == NULL) {
		j->err = PC_ERR_UNAVAILABLE;
		return;
	}
	if (PQntuples(r) != 1) {
		j->err = PC_ERR_NOT_FOUND;
		PQclear(r);
		return;
	}
	val_copy(j->kind, sizeof(j->kind), r, 0, 0);
	j->last_seq = val_i64(r, 0, 1);
	member = val_bool(r, 0, 2);
	val_copy(j->name, sizeof(j->name), r, 0, 3);
	PQclear(r);
	if (member)
		return;
	if (strcmp(j->kind, "public") != 0) {
		j->err = PC_ERR_NOT_FOUND; /* never reveal a private room */
		return;
	}
	if ((r2 = store_exec(S_JOIN_MEMBER, 2, v, PGRES_COMMAND_OK)) == NULL) {
		j->err = PC_ERR_UNAVAILABLE;
		return;
	}
	PQclear(r2);
}

static void
job_fetch(struct store_job *j)
{
	char room[24], from[24], to[24];
	const char *v[3] = {room, from, to};
	struct frame_msg m;
	PGresult *r;
	int i, n;

	if (j->arg - j->seq + 1 > STORE_FETCH_MAX)
		j->seq = j->arg - STORE_FETCH_MAX + 1;
	snprintf(room, sizeof(room), "%" PRId64, j->room);
	snprintf(from, sizeof(from), "%" PRId64, j->seq);
	snprintf(to, sizeof(to), "%" PRId64, j->arg);
	if ((r = store_exec(S_ROWS, 3, v, PGRES_TUPLES_OK)) == NULL) {
		j->err = PC_ERR_UNAVAILABLE;
		return;
	}
	n = PQntuples(r);
	if (n > 0 &&
	    ((j->rows = calloc((size_t)n, sizeof(*j->rows))) == NULL ||
	     (j->row_seq = calloc((size_t)n, sizeof(*j->row_seq))) == NULL)) {
		j->err = PC_ERR_NOMEM;
		PQclear(r);
		return;
	}
	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		m.id = val_i64(r, i, 0);
		m.room = j->room;
		m.seq = val_i64(r, i, 1);
		m.kind = PQgetvalue(r, i, 2);
		m.user.id = PQgetisnull(r, i, 3) ? 0 : val_i64(r, i, 3);
		m.user.username = PQgetvalue(r, i, 4);
		if (!PQgetisnull(r, i, 5)) {
			m.body = PQgetvalue(r, i, 5);
			m.body_len = (size_t)PQgetlength(r, i, 5);
		}
		m.created_ms = val_i64(r, i, 6);
		m.edited_ms = val_i64(r, i, 7);
		m.deleted = val_bool(r, i, 8);
		if ((j->rows[j->nrows] = frame_message(&m)) == NULL) {
			j->err = PC_ERR_NOMEM;
			break;
		}
		j->row_seq[j->nrows] = m.seq;
		j->nrows++;
	}
	PQclear(r);
}

static void
job_sessions(struct store_job *j)
{
	char user[24];
	const char *v[1] = {user};
	PGresult *r;
	int i, n;

	snprintf(user, sizeof(user), "%" PRId64, j->user);
	if ((r = store_exec(S_SESSIONS, 1, v, PGRES_TUPLES_OK)) == NULL) {
		j->err = PC_ERR_UNAVAILABLE;
		return;
	}
	n = PQntuples(r);
	if (n > 0 && (j->sids = calloc((size_t)n, sizeof(*j->sids))) == NULL)
		j->err = PC_ERR_NOMEM;
	for (i = 0; j->err == PC_OK && i < n; i++)
		val_copy(j->sids[j->nsids++], sizeof(j->sids[0]), r, i, 0);
	PQclear(r);
}

static void
job_barrier(struct store_job *j)
{
	(void)j;
}

static void
job_call(struct store_job *j)
{
	char room[24], user[24], to[24];
	const char *v[3] = {room, user, to};
	PGresult *r;

	snprintf(room, sizeof(room), "%" PRId64, j->room);
	snprintf(user, sizeof(user), "%" PRId64, j->user);
	snprintf(to, sizeof(to), "%" PRId64, j->arg);
	if ((r = store_exec(S_CALL, 3, v, PGRES_TUPLES_OK)) == NULL) {
		j->err = PC_ERR_UNAVAILABLE;
		return;
	}
	if (PQntuples(r) != 1 || !val_bool(r, 0, 0))
		j->err = PC_ERR_NOT_REACHABLE;
	PQclear(r);
}

static void
job_room(struct store_job *j)
{
	char room[24];
	const char *v[1] = {room};
	PGresult *r;

	snprintf(room, sizeof(room), "%" PRId64, j->room);
	if ((r = store_exec(S_ROOM, 1, v, PGRES_TUPLES_OK)) == NULL) {
		j->err = PC_ERR_UNAVAILABLE;
		return;
	}
	if (PQntuples(r) != 1)
		j->err = PC_ERR_NOT_FOUND;
	PQclear(r);
}

/* ---- user_online (online.h) ---- */

/*
 * One transaction: (a full rewrite: delete every row, then) upsert the users
 * with sockets and delete those with none. Not prepared at connect, so a
 * database without migration 0002 still serves messages (this job then
 * fails and is retried later). Users deleted meanwhile are skipped.
 */
static void
job_online(struct store_job *j)
{
	static const char *const set_sql =
	        "INSERT INTO user_online (user_id, sockets) SELECT k.u, k.n"
	        " FROM unnest($1::bigint[], $2::int[]) AS k(u, n)"
	        " JOIN users ON users.id = k.u WHERE k.n > 0"
	        " ON CONFLICT (user_id) DO UPDATE SET sockets = "
	        "EXCLUDED.sockets";
	static const char *const drop_sql =
	        "DELETE FROM user_online o USING unnest($1::bigint[],"
	        " $2::int[]) AS k(u, n) WHERE o.user_id = k.u AND k.n = 0";
	struct pc_buf au, an;
	const char *v[2];
	PGresult *r;
	size_t i;
	enum pc_err e;
	int ok = 0, begun = 0;

	arr_start(&au);
	arr_start(&an);
	e = arr_open(&au);
	if (e == PC_OK)
		e = arr_open(&an);
	for (i = 0; e == PC_OK && i < j->nids; i++) {
		e = arr_i64(&au, j->ids[i]);
		if (e == PC_OK)
			e = arr_i64(&an, j->counts[i]);
	}
	if (e == PC_OK)
		e = arr_close(&au);
	if (e == PC_OK)
		e = arr_close(&an);
	if (e != PC_OK)
		goto out;
	v[0] = au.data;
	v[1] = an.data;
	if (!store_simple("BEGIN"))
		goto out;
	begun = 1;
	if (j->aux && !store_simple("DELETE FROM user_online"))
		goto out;
	r = PQexecParams(st.db, set_sql, 2, NULL, v, NULL, NULL, 0);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (ok) {
		r = PQexecParams(st.db, drop_sql, 2, NULL, v, NULL, NULL, 0);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
	}
	if (!ok) {
		pc_log_warn("user_online: %s", PQerrorMessage(st.db));
		goto out;
	}
	begun = 0;
	ok = store_simple("COMMIT");
out:
	if (begun && store_connected())
		store_simple("ROLLBACK");
	if (!ok)
		j->err = e != PC_OK ? e : PC_ERR_UNAVAILABLE;
	pc_buf_free(&au, 0);
	pc_buf_free(&an, 0);
}

/* ---- the batch: SEND and READ jobs in one transaction ---- */

/* The kind a SEND job stores: "text" unless the job says otherwise. */
static const char *
store_kind(const struct store_job *s)
{
	return s->kind[0] != '\0' ? s->kind : "text";
}

struct pair {
	int64_t room, user;
	int64_t seq;     /* last_seq (rooms), read seq (reads) */
	enum pc_err err; /* reads: PC_ERR_CONFLICT marks a moved marker */
};

static int
pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->room != y->room)
		return x->room < y->room ? -1 : 1;
	if (x->user != y->user)
		return x->user < y->user ? -1 : 1;
	return 0;
}

static struct pair *
pair_find(struct pair *v, size_t n, int64_t room, int64_t user)
{
	struct pair key = {.room = room, .user = user};

	return bsearch(&key, v, n, sizeof(*v), pair_cmp);
}

/* Sorts and removes duplicates; returns the new count. */
static size_t
pair_unique(struct pair *v, size_t n)
{
	size_t i, k = 0;

	qsort(v, n, sizeof(*v), pair_cmp);
	for (i = 0; i < n; i++)
		if (k == 0 || pair_cmp(&v[k - 1], &v[i]) != 0)
			v[k++] = v[i];
	return k;
}

/* Sends sorted by (user, room, client_id, position): duplicates adjacent. */
static int
send_key_cmp(const void *a, const void *b)
{
	const struct store_job *x = *(struct store_job *const *)a;
	const struct store_job *y = *(struct store_job *const *)b;
	int c;

	if (x->user != y->user)
		return x->user < y->user ? -1 : 1;
	if (x->room != y->room)
		return x->room < y->room ? -1 : 1;
	if ((c = strcmp(x->client_id, y->client_id)) != 0)
		return c;
	return x->batch_pos < y->batch_pos ? -1 : x->batch_pos > y->batch_pos;
}

enum batch_result { BATCH_OK, BATCH_FAILED, BATCH_UNCERTAIN };

struct batch {
	struct store_job **sends, **reads;
	size_t nsends, nreads;
	struct store_job *
	        *orig;      /* per send: the earlier send it repeats, or NULL */
	struct pair *rooms; /* unique rooms: seq = last_seq */
	size_t nrooms;
	size_t *pos; /* S_SENDS' ordinality - 1 -> index in sends */
	size_t npos; /* sends passed to S_SENDS (the first of each key) */
	struct pair *readv; /* reads: one per (room, user), highest seq */
	size_t nreadv;
	int64_t now_ms;
};

/*
 * A transaction is one pipeline (libpq 15, PQenterPipelineMode) and one
 * round trip: BEGIN, lock the rooms, S_SENDS (membership, resends, seqs,
 * the inserts, last_seq and the senders' read markers in one statement),
 * S_READ, COMMIT, sync; then the results are taken in the same order. The
 * *_send half of each step builds its array parameters and queues the
 * statement; the *_take half reads its result.
 */
static enum pc_err
batch_lock_rooms_send(struct batch *b)
{
	struct pc_buf a;
	const char *v[1];
	size_t i;
	enum pc_err e;

	arr_start(&a);
	e = arr_open(&a);
	for (i = 0; e == PC_OK && i < b->nrooms; i++)
		e = arr_i64(&a, b->rooms[i].room);
	if (e == PC_OK)
		e = arr_close(&a);
	v[0] = a.data;
	if (e == PC_OK)
		e = store_pipe_send(S_LOCK_ROOMS, 1, v);
	pc_buf_free(&a, 0);
	return e;
}

static enum pc_err
batch_lock_rooms_take(struct batch *b)
{
	PGresult *r;
	struct pair *p;
	size_t i;
	int k;

	if ((r = store_pipe_take(S_LOCK_ROOMS, PGRES_TUPLES_OK)) == NULL)
		return PC_ERR_UNAVAILABLE;
	for (i = 0; i < b->nrooms; i++)
		b->rooms[i].seq = -1; /* -1: the room is gone */
	for (k = 0; k < PQntuples(r); k++)
		if ((p = pair_find(b->rooms, b->nrooms, val_i64(r, k, 0), 0)) !=
		    NULL)
			p->seq = val_i64(r, k, 1);
	PQclear(r);
	return PC_OK;
}

/* Queues S_SENDS with the first send of each (user, room, client_id) of
 * the batch (a resend within the batch follows its first: b->orig). */
static enum pc_err
batch_sends_send(struct batch *b)
{
	struct pc_buf ar, au, ab, ac, ak;
	char created[PC_RFC3339_LEN];
	const char *v[6];
	struct store_job *s;
	size_t i;
	enum pc_err e;

	arr_start(&ar);
	arr_start(&au);
	arr_start(&ab);
	arr_start(&ac);
	arr_start(&ak);
	b->npos = 0;
	e = PC_OK;
	if ((b->pos = calloc(b->nsends + 1, sizeof(*b->pos))) == NULL)
		e = PC_ERR_NOMEM;
	if (e == PC_OK)
		e = arr_open(&ar);
	if (e == PC_OK)
		e = arr_open(&au);
	if (e == PC_OK)
		e = arr_open(&ab);
	if (e == PC_OK)
		e = arr_open(&ac);
	if (e == PC_OK)
		e = arr_open(&ak);
	for (i = 0; e == PC_OK && i < b->nsends; i++) {
		if (b->orig[i] != NULL)
			continue;
		s = b->sends[i];
		s->err = PC_ERR_NOT_FOUND; /* no verdict row: no answer */
		s->id = -1;
		b->pos[b->npos++] = i;
		e = arr_i64(&ar, s->room);
		if (e == PC_OK)
			e = arr_i64(&au, s->user);
		if (e == PC_OK)
			e = arr_text(&ab, s->text, s->text_len);
		if (e == PC_OK)
			e = arr_text(&ac, s->client_id, strlen(s->client_id));
		if (e == PC_OK)
			e = arr_text(&ak, store_kind(s), strlen(store_kind(s)));
	}
	if (e == PC_OK)
		e = arr_close(&ar);
	if (e == PC_OK)
		e = arr_close(&au);
	if (e == PC_OK)
		e = arr_close(&ab);
	if (e == PC_OK)
		e = arr_close(&ac);
	if (e == PC_OK)
		e = arr_close(&ak);
	if (e == PC_OK) {
		pc_clock_rfc3339(b->now_ms, created, sizeof(created));
		v[0] = ar.data;
		v[1] = au.data;
		v[2] = ab.data;
		v[3] = ac.data;
		v[4] = ak.data;
		v[5] = created;
		e = store_pipe_send(S_SENDS, 6, v);
	}
	pc_buf_free(&ar, 0);
	pc_buf_free(&au, 0);
	pc_buf_free(&ab, 0);
	pc_buf_free(&ac, 0);
	pc_buf_free(&ak, 0);
	return e;
}

/* What each verdict of S_SENDS answers ('o' and 'd' are handled apart). */
static enum pc_err
batch_verdict_err(char v)
{
	switch (v) {
	case 'm':
		return PC_ERR_NOT_MEMBER;
	case 'u':
		return PC_ERR_NOT_REACHABLE;
	default:
		return PC_ERR_NOT_FOUND; /* 'g': never reveal a private room */
	}
}

/*
 * S_SENDS' answer: each send's verdict, then the rows inserted. The seqs
 * are worked out here the way the statement did (base + rank among the
 * room's inserted sends, in queue order) and each inserted row is matched
 * to its send by (room, seq) for its id. A send left without an id (never,
 * unless the two disagree) answers unavailable: its row is stored, and the
 * client's resend gets the original ack.
 */
static enum pc_err
batch_sends_take(struct batch *b)
{
	PGresult *r;
	struct store_job *s;
	struct pair *room;
	size_t i, j, rows = 0;
	int k;
	char v;

	if ((r = store_pipe_take(S_SENDS, PGRES_TUPLES_OK)) == NULL)
		return PC_ERR_UNAVAILABLE;
	for (k = 0; k < PQntuples(r); k++) {
		if (val_i64(r, k, 0) != 0)
			continue;
		j = (size_t)val_i64(r, k, 1);
		if (j < 1 || j > b->npos)
			continue;
		s = b->sends[b->pos[j - 1]];
		v = PQgetvalue(r, k, 2)[0];
		if (v == 'd') {
			s->err = PC_OK;
			s->dup = 1;
			s->id = val_i64(r, k, 4);
			s->seq = val_i64(r, k, 5);
			s->created_ms = val_i64(r, k, 6);
		} else if (v == 'o') {
			s->err = PC_OK;
			room = pair_find(b->rooms, b->nrooms, s->room, 0);
			if (room != NULL)
				room->seq = val_i64(r, k, 3);
		} else
			s->err = batch_verdict_err(v);
	}
	for (j = 0; j < b->npos; j++) {
		s = b->sends[b->pos[j]];
		if (s->err != PC_OK || s->dup)
			continue;
		room = pair_find(b->rooms, b->nrooms, s->room, 0);
		s->seq = room != NULL ? ++room->seq : -1;
		s->created_ms = b->now_ms;
	}
	/* the inserted rows come after the verdicts, in insertion order in
	 * practice: the search starts where the last one matched */
	for (k = 0, i = 0; k < PQntuples(r); k++) {
		int64_t rr = val_i64(r, k, 3), rs = val_i64(r, k, 4);
		size_t tries;

		if (val_i64(r, k, 0) != 1)
			continue;
		rows++;
		for (tries = 0; tries < b->npos;
		     tries++, i = (i + 1) % b->npos) {
			s = b->sends[b->pos[i]];
			if (s->err == PC_OK && !s->dup && s->id < 0 &&
			    s->room == rr && s->seq == rs) {
				s->id = val_i64(r, k, 1);
				break;
			}
		}
	}
	PQclear(r);
	metrics_batch_rows(rows);
	for (j = 0; j < b->npos; j++) {
		s = b->sends[b->pos[j]];
		if (s->err == PC_OK && !s->dup && s->id < 0) {
			pc_log_err("room %" PRId64 " seq %" PRId64
			           ": no inserted row matches",
			           s->room, s->seq);
			s->err = PC_ERR_UNAVAILABLE;
		}
	}
	return PC_OK;
}

/* Read markers: clamped to last_seq, never backwards; the last READ of a
 * (room, user) in the batch reports the move. b->readv keeps the pairs for
 * batch_reads_take. */
static enum pc_err
batch_reads_send(struct batch *b)
{
	struct pair *v;
	struct pc_buf ar, au, as;
	const char *vals[3];
	size_t i, n;
	enum pc_err e = PC_OK;

	if (b->nreads == 0)
		return PC_OK;
	arr_start(&ar);
	arr_start(&au);
	arr_start(&as);
	if ((v = b->readv = calloc(b->nreads, sizeof(*v))) == NULL) {
		e = PC_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < b->nreads; i++) {
		v[i].room = b->reads[i]->room;
		v[i].user = b->reads[i]->user;
		v[i].seq = b->reads[i]->seq;
	}
	qsort(v, b->nreads, sizeof(*v), pair_cmp);
	/* keep the highest seq per pair */
	for (i = 0, n = 0; i < b->nreads; i++) {
		if (n > 0 && pair_cmp(&v[n - 1], &v[i]) == 0) {
			if (v[i].seq > v[n - 1].seq)
				v[n - 1].seq = v[i].seq;
		} else
			v[n++] = v[i];
	}
	b->nreadv = n;
	e = arr_open(&ar);
	if (e == PC_OK)
		e = arr_open(&au);
	if (e == PC_OK)
		e = arr_open(&as);
	for (i = 0; e == PC_OK && i < n; i++) {
		e = arr_i64(&ar, v[i].room);
		if (e == PC_OK)
			e = arr_i64(&au, v[i].user);
		if (e == PC_OK)
			e = arr_i64(&as, v[i].seq);
	}
	if (e == PC_OK)
		e = arr_close(&ar);
	if (e == PC_OK)
		e = arr_close(&au);
	if (e == PC_OK)
		e = arr_close(&as);
	vals[0] = ar.data;
	vals[1] = au.data;
	vals[2] = as.data;
	if (e == PC_OK)
		e = store_pipe_send(S_READ, 3, vals);
out:
	pc_buf_free(&ar, 0);
	pc_buf_free(&au, 0);
	pc_buf_free(&as, 0);
	return e;
}

static enum pc_err
batch_reads_take(struct batch *b)
{
	struct pair *v = b->readv, *p;
	size_t i, n = b->nreadv;
	PGresult *r;
	int k;

	if (b->nreads == 0)
		return PC_OK;
	if ((r = store_pipe_take(S_READ, PGRES_TUPLES_OK)) == NULL)
		return PC_ERR_UNAVAILABLE;
	for (k = 0; k < PQntuples(r); k++) {
		p = pair_find(v, n, val_i64(r, k, 0), val_i64(r, k, 1));
		if (p == NULL)
			continue;
		p->err = PC_ERR_CONFLICT; /* marks "moved" */
		p->seq = val_i64(r, k, 2);
	}
	/* the last READ job of each moved pair carries the news */
	for (i = b->nreads; i-- > 0;) {
		p = pair_find(v, n, b->reads[i]->room, b->reads[i]->user);
		if (p != NULL && p->err == PC_ERR_CONFLICT) {
			b->reads[i]->changed = 1;
			b->reads[i]->last_seq = p->seq;
			p->err = PC_OK;
		}
	}
	PQclear(r);
	return PC_OK;
}

/* After COMMIT: the frames each answer needs. */
static void
batch_render(struct batch *b)
{
	struct store_job *s, *o;
	struct frame_msg m;
	size_t i;

	for (i = 0; i < b->nsends; i++) {
		s = b->sends[i];
		if ((o = b->orig[i]) != NULL) {
			/* a resend within the batch: the first one's answer */
			s->err = o->err;
			s->dup = 1;
			s->id = o->id;
			s->seq = o->seq;
			s->created_ms = o->created_ms;
		}
		if (s->err != PC_OK)
			continue;
		s->ack = frame_ack(s->client_id, s->id, s->room, s->seq,
		                   s->created_ms);
		if (s->dup)
			continue;
		memset(&m, 0, sizeof(m));
		m.id = s->id;
		m.room = s->room;
		m.seq = s->seq;
		m.kind = store_kind(s);
		m.user.id = s->user;
		m.user.username = s->username;
		m.body = s->text;
		m.body_len = s->text_len;
		m.created_ms = s->created_ms;
		m.edited_ms = -1;
		s->msg = frame_message(&m);
		if (s->ack == NULL || s->msg == NULL) {
			/* committed but not renderable: the client resends and
			 * gets the original ack; TICK shows the others. */
			pc_log_err("out of memory rendering room %" PRId64
			           " seq %" PRId64,
			           s->room, s->seq);
			s->err = PC_ERR_NOMEM;
		}
	}
}

static enum batch_result
store_batch_run(struct store_job **jobs, size_t n)
{
	struct batch b;
	size_t i, k;
	struct store_job **sorted = NULL;
	enum batch_result res = BATCH_FAILED;
	enum pc_err e = PC_ERR_NOMEM;
	PGresult *r;
	int64_t now_us;
	int begun = 0, piped = 0, commit_sent = 0;

	memset(&b, 0, sizeof(b));
	b.now_ms = pc_clock_now_ms();
	b.sends = calloc(n, sizeof(*b.sends));
	b.reads = calloc(n, sizeof(*b.reads));
	b.orig = calloc(n, sizeof(*b.orig));
	b.rooms = calloc(n, sizeof(*b.rooms));
	sorted = calloc(n, sizeof(*sorted));
	if (!b.sends || !b.reads || !b.orig || !b.rooms || !sorted)
		goto out;
	for (i = 0; i < n; i++) {
		jobs[i]->err = PC_OK;
		jobs[i]->dup = 0;
		jobs[i]->changed = 0;
		if (jobs[i]->op == STORE_SEND) {
			jobs[i]->batch_pos = b.nsends;
			b.sends[b.nsends++] = jobs[i];
		} else
			b.reads[b.nreads++] = jobs[i];
	}
	/* resends inside the batch: the later ones follow the first */
	memcpy(sorted, b.sends, b.nsends * sizeof(*sorted));
	qsort(sorted, b.nsends, sizeof(*sorted), send_key_cmp);
	for (i = 1; i < b.nsends; i++) {
		if (sorted[i]->user == sorted[i - 1]->user &&
		    sorted[i]->room == sorted[i - 1]->room &&
		    strcmp(sorted[i]->client_id, sorted[i - 1]->client_id) ==
		            0) {
			k = sorted[i]->batch_pos;
			b.orig[k] = b.orig[sorted[i - 1]->batch_pos] != NULL
			                    ? b.orig[sorted[i - 1]->batch_pos]
			                    : sorted[i - 1];
		}
	}
	for (i = 0; i < b.nsends; i++)
		b.rooms[i].room = b.sends[i]->room;
	b.nrooms = pair_unique(b.rooms, b.nsends);

	e = PC_ERR_UNAVAILABLE;
	metrics_batch_begin();
	/* once per send: a batch that fails is retried job by job */
	now_us = pc_clock_mono_us();
	for (i = 0; i < b.nsends; i++)
		if (b.sends[i]->queued_us != 0) {
			metrics_send_queued(now_us - b.sends[i]->queued_us);
			b.sends[i]->queued_us = 0;
		}
	if (!store_connected() || PQenterPipelineMode(st.db) != 1)
		goto out;
	piped = 1;
	/* one round trip: everything up to COMMIT goes at once */
	if (!store_pipe_sql("BEGIN"))
		goto out;
	begun = 1;
	if (b.nsends > 0 && ((e = batch_lock_rooms_send(&b)) != PC_OK ||
	                     (e = batch_sends_send(&b)) != PC_OK))
		goto out;
	if ((e = batch_reads_send(&b)) != PC_OK)
		goto out;
	e = PC_ERR_UNAVAILABLE;
	if (!store_pipe_sql("COMMIT") || !store_pipe_sync())
		goto out;
	commit_sent = 1; /* from here on a lost connection is uncertain */
	if ((r = store_pipe_result("BEGIN", PGRES_COMMAND_OK)) == NULL)
		goto out;
	PQclear(r);
	if (b.nsends > 0 && ((e = batch_lock_rooms_take(&b)) != PC_OK ||
	                     (e = batch_sends_take(&b)) != PC_OK))
		goto out;
	if ((e = batch_reads_take(&b)) != PC_OK)
		goto out;
	begun = 0;
	e = PC_ERR_UNAVAILABLE;
	if ((r = store_pipe_result("COMMIT", PGRES_COMMAND_OK)) == NULL)
		goto out; /* uncertain: see below */
	PQclear(r);
	store_pipe_end();
	piped = 0;
	batch_render(&b);
	metrics_batch_commit(n);
	res = BATCH_OK;
	e = PC_OK;
out:
	if (piped)
		store_pipe_end();
	if (res != BATCH_OK && commit_sent && (!begun || !store_connected())) {
		/* COMMIT was sent and its answer lost (or it failed): it may or
		 * may not have happened */
		for (i = 0; i < b.nrooms; i++)
			store_touch(b.rooms[i].room);
		res = BATCH_UNCERTAIN;
		e = PC_ERR_UNAVAILABLE;
	}
	/* Before any ack or delivery (the main thread sends them): the API
	 * stops answering these rooms' history from its checked copies. */
	if (commit_sent && st.board != NULL)
		for (i = 0; i < b.nrooms; i++)
			pc_board_bump_room(st.board, b.rooms[i].room);
	if (begun && store_connected())
		store_simple("ROLLBACK");
	if (res != BATCH_OK)
		for (i = 0; i < n; i++) {
			jobs[i]->err = e == PC_ERR_NOMEM ? PC_ERR_NOMEM
			                                 : PC_ERR_UNAVAILABLE;
			jobs[i]->dup = 0;
			jobs[i]->changed = 0;
		}
	free(b.sends);
	free(b.reads);
	free(b.orig);
	free(b.rooms);
	free(b.pos);
	free(b.readv);
	free(sorted);
	return res;
}

/* A failed batch on a live connection may hold one poisonous row: then
 * every job runs alone, so one bad row never fails the others. */
static void
store_batch(struct store_job **jobs, size_t n)
{
	size_t i;

	if (store_batch_run(jobs, n) == BATCH_FAILED && n > 1 &&
	    store_connected()) {
		pc_log_warn("batch of %zu failed; retrying one by one", n);
		for (i = 0; i < n; i++)
			store_batch_run(&jobs[i], 1);
	}
}

/* ---- the thread ---- */

typedef void (*job_fn)(struct store_job *);

static const struct {
	job_fn fn; /* NULL: batched */
	int needs_db;
} job_table[STORE__MAX] = {
        [STORE_AUTH] = {job_auth, 1},
        [STORE_JOIN] = {job_join, 1},
        [STORE_SEND] = {NULL, 1},
        [STORE_READ] = {NULL, 1},
        [STORE_FETCH] = {job_fetch, 1},
        [STORE_SESSIONS] = {job_sessions, 1},
        [STORE_BARRIER] = {job_barrier, 0},
        [STORE_CALL] = {job_call, 1},
        [STORE_ROOM] = {job_room, 1},
        [STORE_LASTSEQ] = {NULL, 1},
        [STORE_ONLINE] = {job_online, 1},
};

/* After a failure, once connected again: report the touched rooms' last_seq. */
static void
store_resync(void)
{
	struct pc_buf a;
	const char *v[1];
	PGresult *r;
	struct store_job *j;
	size_t i;
	int k;
	enum pc_err e;

	if (st.ntouched == 0 || !store_connected())
		return;
	arr_start(&a);
	e = arr_open(&a);
	for (i = 0; e == PC_OK && i < st.ntouched; i++)
		e = arr_i64(&a, st.touched[i]);
	if (e == PC_OK)
		e = arr_close(&a);
	v[0] = a.data;
	if (e == PC_OK &&
	    (r = store_exec(S_LASTSEQ, 1, v, PGRES_TUPLES_OK)) != NULL) {
		for (k = 0; k < PQntuples(r); k++) {
			if ((j = store_job_new(STORE_LASTSEQ)) == NULL)
				break;
			j->room = val_i64(r, k, 0);
			j->last_seq = val_i64(r, k, 1);
			store_post(j);
		}
		PQclear(r);
		st.ntouched = 0;
		pc_log_info("re-read last_seq of rooms after a failed commit");
	}
	pc_buf_free(&a, 0);
}

static void
store_work(struct store_job *list)
{
	struct store_job **run = NULL, *j;
	size_t n, cap = 0;
	int64_t now = pc_clock_mono_ms();

	store_check();
	if (!store_connected() && now >= st.next_try_ms) {
		st.next_try_ms = now + STORE_RETRY_MS;
		if (store_connect() == PC_OK)
			store_resync();
	}
	while (list != NULL) {
		j = list;
		if (job_table[j->op].fn != NULL) {
			list = j->next;
			j->err = PC_OK;
			if (job_table[j->op].needs_db && !store_connected())
				j->err = PC_ERR_UNAVAILABLE;
			else
				job_table[j->op].fn(j);
			store_post(j);
			continue;
		}
		/* a run of SEND/READ jobs, up to batch_max */
		n = 0;
		while (list != NULL && job_table[list->op].fn == NULL &&
		       list->op != STORE_LASTSEQ &&
		       n < (size_t)st.s->batch_max) {
			if (n == cap) {
				struct store_job **g;

				cap = cap * 2 + 64;
				if ((g = realloc(run, cap * sizeof(*g))) ==
				    NULL)
					break;
				run = g;
			}
			run[n++] = list;
			list = list->next;
		}
		if (n == 0) {
			/* out of memory or a stray LASTSEQ: answer it alone */
			list = j->next;
			j->err = PC_ERR_UNAVAILABLE;
			store_post(j);
			continue;
		}
		if (store_connected())
			store_batch(run, n);
		else
			for (size_t i = 0; i < n; i++)
				run[i]->err = PC_ERR_UNAVAILABLE;
		store_post_many(run, n);
	}
	free(run);
}

static void *
store_main(void *arg)
{
	struct store_job *list;
	struct timespec ts;
	int64_t now;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&st.mu);
		while (!st.stop && st.in_head == NULL) {
			if (store_connected() && st.ntouched == 0) {
				pthread_cond_wait(&st.cv, &st.mu);
				continue;
			}
			/* disconnected: wake every second to reconnect */
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			if (pthread_cond_timedwait(&st.cv, &st.mu, &ts) != 0)
				break;
		}
		if (st.stop) {
			pthread_mutex_unlock(&st.mu);
			break;
		}
		list = st.in_head;
		st.in_head = st.in_tail = NULL;
		st.in_len = 0;
		pthread_mutex_unlock(&st.mu);
		if (list != NULL)
			store_work(list);
		else if (!store_connected()) {
			now = pc_clock_mono_ms();
			if (now >= st.next_try_ms) {
				st.next_try_ms = now + STORE_RETRY_MS;
				if (store_connect() == PC_OK)
					store_resync();
			}
		} else
			store_resync();
	}
	return NULL;
}

int
store_check_tables(void)
{
	int i, k, bad = 0;

	for (i = 0; i < S__MAX; i++) {
		if (stmts[i].name == NULL || stmts[i].sql == NULL) {
			pc_log_err("statement %d incomplete", i);
			bad++;
			continue;
		}
		for (k = 0; k < i; k++)
			if (stmts[k].name != NULL &&
			    strcmp(stmts[k].name, stmts[i].name) == 0) {
				pc_log_err("statement %s twice", stmts[i].name);
				bad++;
			}
	}
	for (i = 0; i < STORE__MAX; i++) {
		if (store_op_names[i] == NULL) {
			pc_log_err("op %d has no name", i);
			bad++;
		}
		if (job_table[i].fn == NULL && i != STORE_SEND &&
		    i != STORE_READ && i != STORE_LASTSEQ) {
			pc_log_err("op %d has no handler", i);
			bad++;
		}
	}
	return bad;
}

/* ---- the main thread's side ---- */

enum pc_err
store_start(const struct settings *s)
{
	enum pc_err e;
	int rc;

	st.s = s;
	if ((e = store_take_lock()) != PC_OK)
		return e;
	/* Every broker on this machine: the API answers from what it has
	 * checked only while every commit moves the board (board.h), which
	 * lives in the first broker's folder. Not there yet (another shard's
	 * broker not started): wait, as for the database. */
	if (!pc_shards_use_tcp(&s->shards) && st.board == NULL &&
	    (e = pc_board_open(s->shards.s[0].dir, &st.board)) != PC_OK) {
		if (e == PC_ERR_SYSTEM && errno == ENOENT) {
			pc_log_warn("waiting for the folder of the change "
			            "board %s", s->shards.s[0].dir);
			return PC_ERR_UNAVAILABLE;
		}
		pc_log_err("cannot map the change board %s/%s: %s",
		           s->shards.s[0].dir, PC_BOARD_FILE,
		           e == PC_ERR_SYSTEM ? strerror(errno) : "not a board");
		return e;
	}
	if (st.efd < 0 && (st.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return PC_ERR_SYSTEM;
	if (store_connect() != PC_OK)
		pc_log_warn(
		        "database not reachable yet; retrying every second");
	st.stop = 0;
	if ((rc = pthread_create(&st.thread, NULL, store_main, NULL)) != 0) {
		errno = rc;
		return PC_ERR_SYSTEM;
	}
	st.running = 1;
	return PC_OK;
}

int
store_fd(void)
{
	return st.efd;
}

enum pc_err
store_submit(struct store_job *j)
{
	assert(j->op != STORE_LASTSEQ);
	pthread_mutex_lock(&st.mu);
	if (st.in_len >= STORE_QUEUE_MAX || st.stop) {
		pthread_mutex_unlock(&st.mu);
		return PC_ERR_UNAVAILABLE;
	}
	j->next = NULL;
	j->queued_us = pc_clock_mono_us();
	if (st.in_tail != NULL)
		st.in_tail->next = j;
	else
		st.in_head = j;
	st.in_tail = j;
	st.in_len++;
	pthread_cond_signal(&st.cv);
	pthread_mutex_unlock(&st.mu);
	return PC_OK;
}

struct store_job *
store_take(void)
{
	struct store_job *list, *j;
	int64_t now_us;
	uint64_t v;

	if (read(st.efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pc_log_warn("eventfd: %s", strerror(errno));
	pthread_mutex_lock(&st.mu);
	list = st.out_head;
	st.out_head = st.out_tail = NULL;
	pthread_mutex_unlock(&st.mu);
	now_us = pc_clock_mono_us();
	for (j = list; j != NULL; j = j->next)
		if (j->op == STORE_SEND)
			metrics_send_returned(now_us - j->done_us);
	return list;
}

static void
store_free_list(struct store_job *j)
{
	struct store_job *next;

	for (; j != NULL; j = next) {
		next = j->next;
		store_job_free(j);
	}
}

void
store_stop(void)
{
	if (st.running) {
		pthread_mutex_lock(&st.mu);
		st.stop = 1;
		pthread_cond_signal(&st.cv);
		pthread_mutex_unlock(&st.mu);
		pthread_join(st.thread, NULL);
		st.running = 0;
	}
	store_free_list(st.in_head);
	store_free_list(st.out_head);
	st.in_head = st.in_tail = st.out_head = st.out_tail = NULL;
	store_disconnect();
	if (st.lock != NULL)
		PQfinish(st.lock);
	st.lock = NULL;
	free(st.touched);
	st.touched = NULL;
	st.ntouched = st.touched_cap = 0;
	pc_board_close(st.board);
	st.board = NULL;
	if (st.efd >= 0)
		close(st.efd);
	st.efd = -1;
}
