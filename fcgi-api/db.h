/*
 * db.h: one thread's PostgreSQL connection and the only way the API runs SQL.
 *
 * Each request thread owns one struct db (never shared, so no locking).
 * db_ready is called before a request uses the database: it connects the
 * first time and PQresets a broken connection, so the API recovers by itself
 * when PostgreSQL comes back and never exits because it is down. Every
 * statement is parameterised (PQexecParams, text parameters): SQL text is a
 * constant, values travel separately. Errors are mapped here, once: a
 * unique violation is PC_ERR_CONFLICT (db_constraint names the index), a
 * foreign-key violation PC_ERR_NOT_FOUND, anything else PC_ERR_UNAVAILABLE
 * (logged), which the API answers with 503.
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

#define DB_I64_LEN 24 /* a formatted int64 with sign and NUL */

struct db {
	PGconn *conn;         /* NULL until the first db_ready */
	const char *conninfo; /* borrowed from the settings */
	int in_tx;            /* inside db_begin … db_commit/rollback */
	int fresh;            /* no statement yet since db_ready */
	char constraint[64];  /* index or constraint of the last conflict */
};

/* Prepares *db to connect with conninfo (borrowed). Does not connect. */
void db_init(struct db *db, const char *conninfo);
/* Closes the connection; db may be zeroed. */
void db_close(struct db *db);

/* Connects or resets when needed. PC_OK or PC_ERR_UNAVAILABLE (logged). */
enum pc_err db_ready(struct db *db);

/*
 * Runs sql with n text parameters (a NULL entry is SQL NULL). On PC_OK and
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
 * Appends one object per row of res to the array arr, field i named
 * cols[i].name from column i: the "list of rows" answers (sessions, blocks,
 * members) are a column table, not hand-written loops. PC_OK or PC_ERR_NOMEM
 * (arr then holds the rows made so far; its owner deletes it).
 */
#define DB_NCOLS(cols) (sizeof(cols) / sizeof((cols)[0]))
enum pc_err db_rows_json(const PGresult *res, const struct db_col *cols,
                         size_t ncols, cJSON *arr);

#endif
