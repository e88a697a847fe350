/*
 * db.c: the per-thread PostgreSQL connection (db.h): connect, reset,
 * parameterised statements, error mapping, value helpers. Not a query
 * builder: each module writes its own constant SQL.
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

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	db->in_tx = 0;
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
	} else if (PQstatus(db->conn) != CONNECTION_OK) {
		PQreset(db->conn);
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
	res = PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
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
		PQreset(db->conn);
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
db_rows_json(const PGresult *res, const struct db_col *cols, size_t ncols,
             cJSON *arr)
{
	cJSON *o;
	size_t j;
	int i, ok;

	for (i = 0; i < PQntuples(res); i++) {
		if ((o = cJSON_CreateObject()) == NULL)
			return PC_ERR_NOMEM;
		cJSON_AddItemToArray(arr, o);
		for (j = 0; j < ncols; j++) {
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
			if (!ok)
				return PC_ERR_NOMEM;
		}
	}
	return PC_OK;
}
