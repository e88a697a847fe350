-- 0004_shards: user_online when several brokers share the database (contract
-- section 7; docs/scaling.md). One broker, chosen by user id (user_id mod n),
-- owns each user's online state; every broker sees every socket, but only the
-- owner writes the user's row (broker/online.c).
--
-- A sharded broker's PostgreSQL sessions carry `pipechat.shard` (PGOPTIONS,
-- broker/cluster.c). Then:
--   - each row records the shard that wrote it (the column's default);
--   - a broker's full rewrite ("DELETE FROM user_online" at start and after a
--     failure) deletes only its own rows and those of brokers gone silent:
--     the row trigger skips rows of a shard whose heartbeat is fresh;
--   - every write by a sharded broker is a heartbeat (broker_beats), and
--     online.c writes at least every 5 s; a broker silent for 30 s (crashed,
--     cut off) has its rows deleted by the next write of any other broker,
--     so its users stop showing online within about 35 s.
-- A broker alone sets nothing: pipechat_shard() is NULL, every row is shard
-- 0, the triggers change nothing, and the table behaves as in 0002.
CREATE FUNCTION pipechat_shard() RETURNS integer LANGUAGE sql STABLE AS
	$$ SELECT nullif(current_setting('pipechat.shard', true), '')::integer $$;

ALTER TABLE user_online
	ADD COLUMN shard integer NOT NULL DEFAULT coalesce(pipechat_shard(), 0);
CREATE INDEX user_online_shard ON user_online (shard);

CREATE TABLE broker_beats (
	shard   integer PRIMARY KEY,
	beat_at timestamptz NOT NULL DEFAULT now()
);

-- Rows: an update moves the row to the writer's shard (after resharding the
-- owner changes); a delete by a sharded broker spares a live broker's rows.
CREATE FUNCTION user_online_shard_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		NEW.shard := coalesce(pipechat_shard(), NEW.shard);
		RETURN NEW;
	END IF;
	IF pipechat_shard() IS NULL OR OLD.shard = pipechat_shard() THEN
		RETURN OLD;
	END IF;
	IF EXISTS (SELECT 1 FROM broker_beats b WHERE b.shard = OLD.shard
	           AND b.beat_at > now() - interval '30 seconds') THEN
		RETURN NULL;
	END IF;
	RETURN OLD;
END $$;
CREATE TRIGGER user_online_shard_row BEFORE UPDATE OR DELETE ON user_online
	FOR EACH ROW EXECUTE FUNCTION user_online_shard_row();

-- Statements: every INSERT statement of a sharded broker (online.c's write,
-- even of no rows) is its heartbeat, and expires the silent brokers' rows.
CREATE FUNCTION user_online_beat() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF pipechat_shard() IS NOT NULL THEN
		INSERT INTO broker_beats (shard, beat_at) VALUES (pipechat_shard(), now())
			ON CONFLICT (shard) DO UPDATE SET beat_at = EXCLUDED.beat_at;
		DELETE FROM user_online o USING broker_beats b
			WHERE o.shard = b.shard AND b.beat_at < now() - interval '30 seconds';
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER user_online_beat AFTER INSERT ON user_online
	FOR EACH STATEMENT EXECUTE FUNCTION user_online_beat();
