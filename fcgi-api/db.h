/*
 * db.h: one thread's PostgreSQL connection and the only way the API runs SQL.
 *
 * Each request thread owns one struct db (never shared, so no locking).
 * db_ready is called before a request uses the database: it connects the
 * first time and PQresets a broken connection, so the API recovers by itself
 * when PostgreSQL comes back and never exits because it is down. Every
 * statement is parameterised (text parameters): SQL text is a constant,
 * values travel separately. Each distinct SQL text is prepared once per
 * connection (PQprepare, named "pN") the first time it runs and executed
 * with PQexecPrepared afterwards, so PostgreSQL parses and analyses it once
 * per connection instead of once per request: on the history benchmark the
 * backends' parse/plan work was most of their CPU (fcgi-api/README.md,
 * "Speed"). Handlers notice nothing: they pass SQL text as before. Errors are
 * mapped here, once: a unique violation is PC_ERR_CONFLICT (db_constraint names
 * the index), a foreign-key violation PC_ERR_NOT_FOUND, anything else
 * PC_ERR_UNAVAILABLE (logged), which the API answers with 503.
 */
#ifndef PIPECHAT_API_DB_H
#define PIPECHAT_API_DB_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>
#include <cjson/cJSON.h>

#include "err.h"

/* SQL for an RFC 3339 UTC timestamp with milliseconds. */
#define DB_TS(col)                                                             \
	"to_char(" col " AT TIME ZONE 'UTC', "                                 \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/*
 * The same timestamp as plain text, for rows read in bulk (history): the
 * column is `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC (DateStyle ISO, set on
 * every connection) and db_ts_rfc3339 makes it RFC 3339 in the API.
 * to_char was a third of PostgreSQL's time on a history page (50 rows, two
 * timestamps each; fcgi-api/README.md, "Speed"); its output is the same.
 */
#define DB_TS_RAW(col) "(" col " AT TIME ZONE 'UTC')"
#define DB_TS_LEN      25 /* "2024-01-31T12:00:00.000Z" and its NUL */

#define DB_I64_LEN 24 /* a formatted int64 with sign and NUL */

/* Prepared statements kept per connection: the API has about 70 distinct
 * SQL texts; past this many, further texts run unprepared (still correct). */
#define DB_STMT_MAX 256

/* One prepared statement: its SQL text (a private copy, compared whole, so
 * two texts never share a name) and hash. Its name is "p" + its index. */
struct db_stmt {
	char *sql;
	uint32_t hash;
};

struct db {
	PGconn *conn;         /* NULL until the first db_ready */
	const char *conninfo; /* borrowed from the settings */
	int in_tx;            /* inside db_begin … db_commit/rollback */
	int fresh;            /* no statement yet since db_ready */
	char constraint[64];  /* index or constraint of the last conflict */
	/* Open-addressed by hash; emptied whenever the connection is made or
	 * reset, since the server forgets prepared statements with it. */
	struct db_stmt stmts[DB_STMT_MAX];
	size_t nstmts;
};

/* Prepares *db to connect with conninfo (borrowed). Does not connect. */
void db_init(struct db *db, const char *conninfo);
/* Closes the connection; db may be zeroed. */
void db_close(struct db *db);

/* Connects or resets when needed. PC_OK or PC_ERR_UNAVAILABLE (logged). */
enum pc_err db_ready(struct db *db);

/*
 * Runs sql with n text parameters (a NULL entry is SQL NULL), prepared on
 * this connection the first time this text runs (sql must be a complete,
 * parameterised statement: never values pasted into the text, which would
 * fill the statement cache). On PC_OK and
 * when out is not NULL, *out is the result (the caller PQclears it).
 * PC_ERR_CONFLICT (unique violation), PC_ERR_NOT_FOUND (foreign key),
 * PC_ERR_UNAVAILABLE. When the very first statement after db_ready fails
 * because the connection had died, it reconnects and tries once more.
 */
enum pc_err db_exec(struct db *db, const char *sql, int n,
                    const char *const *params, PGresult **out);

/* BEGIN, COMMIT, ROLLBACK. db_rollback is a no-op outside a transaction and
 * never fails (a broken connection is reset on the next db_ready). */
enum pc_err db_begin(struct db *db);
enum pc_err db_commit(struct db *db);
void db_rollback(struct db *db);

/* The name of the index or constraint behind the last PC_ERR_CONFLICT. */
const char *db_constraint(const struct db *db);

/*
 * Writes the DB_TS_RAW text pg as RFC 3339 UTC with milliseconds into out
 * (DB_TS_LEN bytes): "2024-01-31 12:00:00.123456" becomes
 * "2024-01-31T12:00:00.123Z", the fraction truncated to milliseconds as
 * DB_TS's to_char does. PC_OK; PC_ERR_INTERNAL (logged, out unchanged)
 * for any other shape (a year past 9999, BC), which now() never gives.
 */
enum pc_err db_ts_rfc3339(const char *pg, char *out);

/* Formats v into buf (DB_I64_LEN) and returns buf: for parameters. */
const char *db_i64(char *buf, int64_t v);
/* Column col of row as int64 (0 for NULL or junk). */
int64_t db_get_i64(const PGresult *res, int row, int col);
/* Column col of row as text ("" for NULL, never NULL). */
const char *db_get_str(const PGresult *res, int row, int col);
/* Non-zero when the column is NULL. */
int db_is_null(const PGresult *res, int row, int col);
/* Column col of row is the boolean 't'. */
int db_get_bool(const PGresult *res, int row, int col);

/* How one result column becomes a JSON field (db_rows_json). */
enum db_col_type { DB_COL_INT, DB_COL_STR, DB_COL_BOOL };
struct db_col {
	const char *name;      /* the JSON key */
	enum db_col_type type; /* the column is the row's cols[i], in order */
};

/*
 * The "list of rows" answer (sessions, blocks, members): *out = a new
 * object {key: [...]} with one object per row of res, field i named
 * cols[i].name from column i, so each list is a column table, not a
 * hand-written loop. PC_OK (the caller deletes *out) or PC_ERR_NOMEM
 * (*out is NULL).
 */
#define DB_NCOLS(cols) (sizeof(cols) / sizeof((cols)[0]))
enum pc_err db_rows_json(const PGresult *res, const char *key,
                         const struct db_col *cols, size_t ncols, cJSON **out);

#endif
