/*
 * throttle.c: login and registration throttles in SQL (throttle.h).
 *
 * Retry-After is exact: for a limit of N within a window, the time until the
 * N-th newest row leaves the window, after which fewer than N remain (a
 * throttled attempt records nothing, so nothing pushes it back).
 */
#include <stdatomic.h>
#include <stdio.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "throttle.h"

/* The monotonic time of the last prune, shared by the threads. */
static _Atomic int64_t throttle_last_prune;

/*
 * Seconds until each limit frees, NULL when not over it; the account limit
 * is NULL too for an address that signed in to the account within 30 days.
 */
static const char throttle_login_sql[] =
        "SELECT"
        " (SELECT ceil(extract(epoch FROM at + interval '15 minutes' - now()))"
        "   FROM login_failures WHERE account = $1 AND address = $2"
        "   AND at > now() - interval '15 minutes'"
        "   ORDER BY at DESC OFFSET $4 LIMIT 1),"
        " (SELECT ceil(extract(epoch FROM at + interval '15 minutes' - now()))"
        "   FROM login_failures WHERE address = $2"
        "   AND at > now() - interval '15 minutes'"
        "   ORDER BY at DESC OFFSET $5 LIMIT 1),"
        " CASE WHEN EXISTS (SELECT 1 FROM login_successes"
        "   WHERE user_id = $3 AND address = $2"
        "   AND at > now() - interval '30 days') THEN NULL ELSE"
        " (SELECT ceil(extract(epoch FROM at + interval '15 minutes' - now()))"
        "   FROM login_failures WHERE account = $1"
        "   AND at > now() - interval '15 minutes'"
        "   ORDER BY at DESC OFFSET $6 LIMIT 1) END";

void
throttle_account_key(const char *name, char *out, size_t out_size)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < out_size; i++) {
		out[i] = (name[i] >= 'A' && name[i] <= 'Z')
		                 ? (char)(name[i] - 'A' + 'a')
		                 : name[i];
	}
	out[i] = '\0';
}

enum pc_err
throttle_login_check(struct db *db, const char *account, const char *address,
                     int64_t user_id, int64_t *retry_after)
{
	char uid[DB_I64_LEN], o1[DB_I64_LEN], o2[DB_I64_LEN], o3[DB_I64_LEN];
	const char *params[6];
	PGresult *res = NULL;
	int64_t wait = 0, v;
	enum pc_err rc;
	int i;

	params[0] = account;
	params[1] = address;
	params[2] = user_id > 0 ? db_i64(uid, user_id) : NULL;
	params[3] = db_i64(o1, THROTTLE_PAIR_MAX - 1);
	params[4] = db_i64(o2, THROTTLE_ADDR_MAX - 1);
	params[5] = db_i64(o3, THROTTLE_ACCOUNT_MAX - 1);
	rc = db_exec(db, throttle_login_sql, 6, params, &res);
	if (rc != PC_OK)
		goto out;
	for (i = 0; i < 3; i++) {
		if (PQntuples(res) != 1 || db_is_null(res, 0, i))
			continue;
		v = db_get_i64(res, 0, i);
		if (v < 1)
			v = 1;
		if (v > wait)
			wait = v;
	}
	if (wait > 0) {
		*retry_after = wait;
		rc = PC_ERR_TOO_MANY_ATTEMPTS;
	}
out:
	PQclear(res);
	return rc;
}

enum pc_err
throttle_login_failed(struct db *db, const char *account, const char *address)
{
	const char *params[2] = {account, address};

	metrics_count(METRICS_LOGIN_FAILURES);
	return db_exec(
	        db,
	        "INSERT INTO login_failures (account, address) VALUES ($1, $2)",
	        2, params, NULL);
}

enum pc_err
throttle_login_succeeded(struct db *db, const char *account,
                         const char *address, int64_t user_id)
{
	char uid[DB_I64_LEN];
	const char *pair[2] = {account, address};
	const char *seen[2] = {db_i64(uid, user_id), address};
	enum pc_err rc;

	rc = db_exec(db,
	             "DELETE FROM login_failures WHERE account = $1 AND "
	             "address = $2",
	             2, pair, NULL);
	if (rc != PC_OK)
		return rc;
	return db_exec(
	        db,
	        "INSERT INTO login_successes (user_id, address) VALUES ($1, $2)"
	        " ON CONFLICT (user_id, address) DO UPDATE SET at = now()",
	        2, seen, NULL);
}

/*
 * One transaction, serialised per address by an advisory lock so that
 * concurrent attempts cannot both see 19 and make 21.
 */
enum pc_err
throttle_register(struct db *db, const char *address, int64_t *retry_after)
{
	char limit[DB_I64_LEN];
	const char *params[2] = {address,
	                         db_i64(limit, THROTTLE_REGISTER_MAX - 1)};
	PGresult *res = NULL;
	enum pc_err rc;
	int64_t wait = 0;

	rc = db_begin(db);
	if (rc != PC_OK)
		return rc;
	rc = db_exec(
	        db, "SELECT pg_advisory_xact_lock(hashtext('register:' || $1))",
	        1, params, NULL);
	if (rc != PC_OK)
		goto out;
	rc = db_exec(db,
	             "SELECT ceil(extract(epoch FROM at + interval '1 hour' - "
	             "now()))"
	             " FROM register_attempts WHERE address = $1"
	             " AND at > now() - interval '1 hour'"
	             " ORDER BY at DESC OFFSET $2 LIMIT 1",
	             2, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) == 1) {
		wait = db_get_i64(res, 0, 0);
		if (wait < 1)
			wait = 1;
		goto out;
	}
	rc = db_exec(db, "INSERT INTO register_attempts (address) VALUES ($1)",
	             1, params, NULL);
	if (rc != PC_OK)
		goto out;
	rc = db_commit(db);
out:
	PQclear(res);
	if (rc != PC_OK || wait > 0)
		db_rollback(db);
	if (rc == PC_OK && wait > 0) {
		*retry_after = wait;
		rc = PC_ERR_TOO_MANY_ATTEMPTS;
	}
	return rc;
}

static const char *const throttle_kind_name[] = {
        [THROTTLE_ROOM] = "room",
        [THROTTLE_INVITE] = "invite",
};

enum pc_err
throttle_create(struct db *db, enum throttle_kind kind, int64_t user_id,
                int64_t limit, int64_t *retry_after)
{
	char uid[DB_I64_LEN], off[DB_I64_LEN];
	const char *params[3] = {db_i64(uid, user_id), throttle_kind_name[kind],
	                         db_i64(off, limit - 1)};
	PGresult *res = NULL;
	int64_t wait;
	enum pc_err rc;

	rc = db_exec(db,
	             "SELECT pg_advisory_xact_lock(hashtext("
	             "'create:' || $2 || ':' || $1))",
	             2, params, NULL);
	if (rc != PC_OK)
		return rc;
	rc = db_exec(db,
	             "SELECT ceil(extract(epoch FROM at + interval '1 hour' - "
	             "now()))"
	             " FROM creation_log WHERE user_id = $1 AND kind = $2"
	             " AND at > now() - interval '1 hour'"
	             " ORDER BY at DESC OFFSET $3 LIMIT 1",
	             3, params, &res);
	if (rc != PC_OK)
		goto out;
	if (PQntuples(res) == 1) {
		wait = db_get_i64(res, 0, 0);
		*retry_after = wait < 1 ? 1 : wait;
		rc = PC_ERR_RATE_LIMITED;
		goto out;
	}
	rc = db_exec(db,
	             "INSERT INTO creation_log (user_id, kind) VALUES ($1, $2)",
	             2, params, NULL);
out:
	PQclear(res);
	return rc;
}

void
throttle_prune(struct db *db)
{
	int64_t now = pc_clock_mono_ms(), last;

	last = atomic_load(&throttle_last_prune);
	if (last != 0 && now - last < 60000)
		return;
	if (!atomic_compare_exchange_strong(&throttle_last_prune, &last, now))
		return;
	if (db_exec(db,
	            "DELETE FROM login_failures"
	            " WHERE at < now() - interval '15 minutes'",
	            0, NULL, NULL) != PC_OK ||
	    db_exec(db,
	            "DELETE FROM register_attempts"
	            " WHERE at < now() - interval '1 hour'",
	            0, NULL, NULL) != PC_OK ||
	    db_exec(db,
	            "DELETE FROM creation_log"
	            " WHERE at < now() - interval '1 hour'",
	            0, NULL, NULL) != PC_OK ||
	    db_exec(db,
	            "DELETE FROM login_successes"
	            " WHERE at < now() - interval '30 days'",
	            0, NULL, NULL) != PC_OK)
		pc_log_warn("pruning the throttle tables failed");
}
