/*
 * db.c: the per-thread PostgreSQL connection (db.h): connect, reset,
 * parameterised statements prepared once per connection, error mapping,
 * value helpers. Not a query builder: each module writes its own constant
 * SQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "json.h"
#include "log.h"

void
db_init(struct db *db, const char *conninfo)
{
	memset(db, 0, sizeof(*db));
	db->conninfo = conninfo;
}

/* Forgets every prepared statement (the connection was made anew). */
static void
db_stmts_clear(struct db *db)
{
	size_t i;

	for (i = 0; i < DB_STMT_MAX; i++) {
		free(db->stmts[i].sql);
		db->stmts[i].sql = NULL;
		db->stmts[i].hash = 0;
	}
	db->nstmts = 0;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	db->in_tx = 0;
	db_stmts_clear(db);
}

/*
 * What every new connection gets before its first statement: DateStyle ISO,
 * which DB_TS_RAW columns rely on (db_ts_rfc3339). ISO is PostgreSQL's
 * default output style, so nothing else changes. Returns 0 on failure.
 */
static int
db_setup(struct db *db)
{
	PGresult *res;
	int ok;

	if (PQstatus(db->conn) != CONNECTION_OK)
		return 0;
	res = PQexec(db->conn, "SET DateStyle = ISO");
	ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	return ok;
}

/* PQreset, which also drops the server's prepared statements and
 * settings; sets them up again. */
static void
db_reset(struct db *db)
{
	db_stmts_clear(db);
	PQreset(db->conn);
	(void)db_setup(db); /* a failure shows in PQstatus or the next use */
}

/* Quiet libpq's notices (they would go to stderr unformatted). */
static void
db_notice(void *arg, const char *message)
{
	(void)arg;
	pc_log_debug("%s", message);
}

enum pc_err
db_ready(struct db *db)
{
	db->fresh = 1;
	db->in_tx = 0;
	if (db->conn == NULL) {
		db->conn = PQconnectdb(db->conninfo);
		if (db->conn == NULL) {
			pc_log_err("PQconnectdb: out of memory");
			return PC_ERR_UNAVAILABLE;
		}
		PQsetNoticeProcessor(db->conn, db_notice, NULL);
		if (PQstatus(db->conn) == CONNECTION_OK && !db_setup(db)) {
			pc_log_warn("database setup failed: %s",
			            PQerrorMessage(db->conn));
			PQfinish(db->conn);
			db->conn = NULL;
			return PC_ERR_UNAVAILABLE;
		}
	} else if (PQstatus(db->conn) != CONNECTION_OK) {
		db_reset(db);
	} else if (PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
		/* A request left a transaction open: never carry it over. */
		PGresult *res = PQexec(db->conn, "ROLLBACK");

		PQclear(res);
	}
	if (PQstatus(db->conn) != CONNECTION_OK) {
		pc_log_warn("database unreachable: %s",
		            PQerrorMessage(db->conn));
		return PC_ERR_UNAVAILABLE;
	}
	return PC_OK;
}

static enum pc_err
db_map(struct db *db, const PGresult *res)
{
	const char *state, *name;

	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state != NULL && strcmp(state, "23505") == 0) {
		name = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
		snprintf(db->constraint, sizeof(db->constraint), "%s",
		         name != NULL ? name : "");
		return PC_ERR_CONFLICT;
	}
	if (state != NULL && strcmp(state, "23503") == 0)
		return PC_ERR_NOT_FOUND;
	pc_log_err("query failed (%s): %s", state != NULL ? state : "-",
	           res != NULL ? PQresultErrorMessage(res)
	                       : PQerrorMessage(db->conn));
	return PC_ERR_UNAVAILABLE;
}

/* FNV-1a over the SQL text: the statements are a few hundred bytes. */
static uint32_t
db_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

/*
 * Runs sql as this connection's prepared statement for that text, preparing
 * it first when it is new. Returns the result of the failed prepare or of
 * the execution (NULL only on ENOMEM, as PQexecParams). A text that does not
 * fit the cache runs unprepared. A statement whose prepare fails is not
 * remembered, so it is prepared again next time (after a reconnect, or
 * outside a failed transaction).
 */
static PGresult *
db_run(struct db *db, const char *sql, int n, const char *const *params)
{
	char name[16], *copy = NULL;
	PGresult *res;
	uint32_t h = db_hash(sql);
	size_t i, slot;

	slot = h % DB_STMT_MAX;
	for (i = 0; i < DB_STMT_MAX; i++) {
		struct db_stmt *st = &db->stmts[slot];

		if (st->sql == NULL)
			break;
		if (st->hash == h && strcmp(st->sql, sql) == 0) {
			snprintf(name, sizeof(name), "p%zu", slot);
			return PQexecPrepared(db->conn, name, n, params, NULL,
			                      NULL, 0);
		}
		slot = (slot + 1) % DB_STMT_MAX;
	}
	/* Keep a quarter of the table free so probes stay short; without
	 * memory for the copy, run it unprepared too. */
	if (i == DB_STMT_MAX || db->nstmts >= DB_STMT_MAX * 3 / 4 ||
	    (copy = strdup(sql)) == NULL)
		return PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL,
		                    0);
	snprintf(name, sizeof(name), "p%zu", slot);
	res = PQprepare(db->conn, name, sql, n, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		free(copy);
		return res;
	}
	PQclear(res);
	db->stmts[slot].sql = copy;
	db->stmts[slot].hash = h;
	db->nstmts++;
	return PQexecPrepared(db->conn, name, n, params, NULL, NULL, 0);
}

enum pc_err
db_exec(struct db *db, const char *sql, int n, const char *const *params,
        PGresult **out)
{
	PGresult *res = NULL;
	ExecStatusType st;
	enum pc_err rc;
	int retried = 0;

	if (db->conn == NULL)
		return PC_ERR_UNAVAILABLE;
again:
	res = db_run(db, sql, n, params);
	st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		db->fresh = 0;
		if (out != NULL)
			*out = res;
		else
			PQclear(res);
		return PC_OK;
	}
	/*
	 * A connection that died while idle (PostgreSQL restarted) shows it
	 * only now. The first statement of a request outside a transaction
	 * never reached a live server, so reconnect and run it again, once.
	 */
	if (!retried && db->fresh && !db->in_tx &&
	    PQstatus(db->conn) == CONNECTION_BAD) {
		PQclear(res);
		retried = 1;
		db_reset(db);
		if (PQstatus(db->conn) == CONNECTION_OK)
			goto again;
		pc_log_warn("database unreachable: %s",
		            PQerrorMessage(db->conn));
		return PC_ERR_UNAVAILABLE;
	}
	db->fresh = 0;
	rc = db_map(db, res);
	PQclear(res);
	return rc;
}

enum pc_err
db_begin(struct db *db)
{
	enum pc_err rc;

	rc = db_exec(db, "BEGIN", 0, NULL, NULL);
	if (rc == PC_OK)
		db->in_tx = 1;
	return rc;
}

enum pc_err
db_commit(struct db *db)
{
	enum pc_err rc;

	rc = db_exec(db, "COMMIT", 0, NULL, NULL);
	db->in_tx = 0;
	return rc;
}

void
db_rollback(struct db *db)
{
	PGresult *res;

	if (db->conn == NULL || !db->in_tx)
		return;
	db->in_tx = 0;
	res = PQexec(db->conn, "ROLLBACK");
	PQclear(res);
}

const char *
db_constraint(const struct db *db)
{
	return db->constraint;
}

const char *
db_i64(char *buf, int64_t v)
{
	snprintf(buf, DB_I64_LEN, "%lld", (long long)v);
	return buf;
}

int64_t
db_get_i64(const PGresult *res, int row, int col)
{
	const char *v = PQgetvalue(res, row, col);

	return v != NULL ? strtoll(v, NULL, 10) : 0;
}

const char *
db_get_str(const PGresult *res, int row, int col)
{
	const char *v = PQgetvalue(res, row, col);

	return v != NULL ? v : "";
}

int
db_is_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col);
}

int
db_get_bool(const PGresult *res, int row, int col)
{
	const char *v = PQgetvalue(res, row, col);

	return v != NULL && v[0] == 't';
}

enum pc_err
db_rows_json(const PGresult *res, const char *key, const struct db_col *cols,
             size_t ncols, cJSON **out)
{
	cJSON *root, *arr, *o;
	size_t j;
	int i, ok = 1;

	*out = NULL;
	if ((root = cJSON_CreateObject()) == NULL)
		return PC_ERR_NOMEM;
	if ((arr = cJSON_AddArrayToObject(root, key)) == NULL)
		ok = 0;
	for (i = 0; ok && i < PQntuples(res); i++) {
		if ((o = cJSON_CreateObject()) == NULL) {
			ok = 0;
			break;
		}
		cJSON_AddItemToArray(arr, o);
		for (j = 0; ok && j < ncols; j++) {
			switch (cols[j].type) {
			case DB_COL_INT:
				ok = pc_json_add_int(
				        o, cols[j].name,
				        db_get_i64(res, i, (int)j));
				break;
			case DB_COL_BOOL:
				ok = cJSON_AddBoolToObject(
				             o, cols[j].name,
				             db_get_bool(res, i, (int)j)) !=
				     NULL;
				break;
			default:
				ok = cJSON_AddStringToObject(
				             o, cols[j].name,
				             db_get_str(res, i, (int)j)) !=
				     NULL;
				break;
			}
		}
	}
	if (!ok) {
		cJSON_Delete(root);
		return PC_ERR_NOMEM;
	}
	*out = root;
	return PC_OK;
}

/* Two decimal digits of s at i, or -1. */
static int
db_2digits(const char *s, size_t i)
{
	if (s[i] < '0' || s[i] > '9' || s[i + 1] < '0' || s[i + 1] > '9')
		return -1;
	return (s[i] - '0') * 10 + (s[i + 1] - '0');
}

enum pc_err
db_ts_rfc3339(const char *pg, char *out)
{
	/* "YYYY-MM-DD HH:MM:SS", then ".f" with 1 to 6 digits or nothing */
	static const char shape[] = "dddd-dd-dd dd:dd:dd";
	char ms[4] = "000";
	size_t i, n;

	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? pg[i] < '0' || pg[i] > '9'
		                    : pg[i] != shape[i])
			goto bad;
	}
	if (db_2digits(pg, 5) > 12 || db_2digits(pg, 8) > 31 ||
	    db_2digits(pg, 11) > 23 || db_2digits(pg, 14) > 59 ||
	    db_2digits(pg, 17) > 60)
		goto bad;
	if (pg[i] == '.') {
		/* Truncated, not rounded: to_char's MS does the same. */
		for (n = 0; pg[i + 1 + n] >= '0' && pg[i + 1 + n] <= '9'; n++) {
			if (n < 3)
				ms[n] = pg[i + 1 + n];
		}
		if (n < 1 || n > 6)
			goto bad;
		i += 1 + n;
	}
	if (pg[i] != '\0')
		goto bad; /* BC, a five-digit year, a time zone: not ours */
	memcpy(out, pg, 10);
	out[10] = 'T';
	memcpy(out + 11, pg + 11, 8);
	out[19] = '.';
	memcpy(out + 20, ms, 3);
	out[23] = 'Z';
	out[24] = '\0';
	return PC_OK;
bad:
	pc_log_err("unexpected timestamp text from the database: %.40s", pg);
	return PC_ERR_INTERNAL;
}
