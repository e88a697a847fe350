# Migrations: applies the sql/NNNN_name.sql files not yet recorded in
# schema_migrations, in order. Sourced by scripts/migrate and scripts/run.
# Not for: creating the database (pg.sh).
#
# One psql session takes an advisory lock (a second migrator waits, then finds
# nothing left to do), then for each file asks whether its version is recorded
# and, if not, runs the file and inserts its record between one BEGIN and
# COMMIT: a failing file leaves neither its changes nor its record behind
# (ON_ERROR_STOP ends the session, which rolls the transaction back). This is
# what `psql -1 -f file -c "insert …"` does, with the check and the lock in
# the same session. The files reach psql on stdin, read by the caller, so the
# service user need not read the checkout.

MIGRATE_LOCK_KEY=7311842 # any constant; pg_advisory_lock's key for "pipechat migrations"

# migrate_files: the migration files, in order.
migrate_files() {
	local LC_ALL=C f
	for f in "$PC_CHECKOUT"/sql/[0-9][0-9][0-9][0-9]_*.sql; do
		[ -f "$f" ] && echo "$f"
	done
	return 0
}

# migrate_script: the psql script that applies every missing migration.
migrate_script() {
	local f v
	echo '\set ON_ERROR_STOP 1'
	echo 'SET client_min_messages = warning;'
	echo "SELECT pg_advisory_lock($MIGRATE_LOCK_KEY);"
	echo 'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());'
	for f in $(migrate_files); do
		v=$(basename "$f" .sql)
		[[ $v =~ ^[0-9]{4}_[A-Za-z0-9_-]+$ ]] || pc_die "$f: migration names are NNNN_name.sql (letters, digits, _ and -)"
		echo "SELECT NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = '$v') AS pc_pending \\gset"
		echo '\if :pc_pending'
		echo "\\echo applying $v"
		echo 'BEGIN;'
		cat -- "$f"
		printf '\n;\n'
		echo "INSERT INTO schema_migrations (version, applied_at) VALUES ('$v', now());"
		echo 'COMMIT;'
		echo '\endif'
	done
	echo 'SELECT count(*) AS pc_count FROM schema_migrations \gset'
	echo '\echo recorded :pc_count'
}

# migrate_run PSQL-FUNCTION: applies the missing migrations through
# PSQL-FUNCTION (called with psql arguments, reading stdin) and says what it did.
migrate_run() {
	local psql=$1 out tried last
	if ! out=$(migrate_script | "$psql" -f -); then
		tried=$(printf '%s\n' "${out:-}" | sed -n 's/^applying //p')
		last=$(printf '%s\n' "$tried" | tail -n 1)
		if [ -n "$last" ]; then
			pc_warn "migration $last failed and was rolled back (psql's error above)"
			tried=$(printf '%s\n' "$tried" | head -n -1 | paste -sd ' ')
			[ -z "$tried" ] || pc_warn "applied before it: $tried"
		else
			pc_warn "migrations failed before any file was applied (psql's error above)"
		fi
		return 1
	fi
	tried=$(printf '%s\n' "$out" | sed -n 's/^applying //p' | paste -sd ' ')
	last=$(printf '%s\n' "$out" | sed -n 's/^recorded //p')
	if [ -n "$tried" ]; then
		pc_say "migrations applied: $tried ($last recorded in schema_migrations)"
	else
		pc_say "migrations: nothing to apply, the schema is up to date ($last recorded)"
	fi
}
