-- 0005_history_version: what the API's history cache checks, so that a
-- cached page is served only while it is exactly what the database holds
-- (fcgi-api/histcache.h; fcgi-api/README.md, "Speed").
--
-- A history page is built from messages rows of one room and the username
-- and deleted_at of their authors. Every change to those is seen, in the
-- changing transaction itself, by a counter that only grows:
--   - a message inserted: rooms.last_seq, which the transaction that
--     inserts a room's messages moves to their highest seq (0001: "the
--     highest seq persisted"). The broker, the one writer of messages,
--     assigns seqs from last_seq under the rooms row lock (broker/store.c),
--     so an insert that left last_seq behind would already break the
--     contract's guarantee 2 at the next send (a duplicate seq). A trigger
--     here was measured at +60 µs of PostgreSQL CPU per broker transaction
--     (0.20 -> 0.26 ms for 5 inserts) and bought nothing that invariant does
--     not give;
--   - a message edited, deleted or removed (any writer: the API's edit and
--     delete, cascades from a deleted room or user, a hand-made UPDATE):
--     rooms.hist_ver of its room, by statement triggers with transition
--     tables (one UPDATE per statement, however many rows);
--   - an author renamed or deleted (account deletion), or messages
--     truncated: history_epoch.v, one counter for all rooms, since such
--     changes are rare.
-- A reader that sees (rooms.last_seq, rooms.hist_ver, history_epoch.v)
-- equal to what it saw when it built a page, in the snapshot of one
-- statement, sees the same page: committed counter values never repeat
-- (the rows are updated under their row lock; a rolled-back increment was
-- never visible).
ALTER TABLE rooms ADD COLUMN hist_ver bigint NOT NULL DEFAULT 0;

CREATE TABLE history_epoch (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	v   bigint NOT NULL DEFAULT 0
);
INSERT INTO history_epoch DEFAULT VALUES;

CREATE FUNCTION pipechat_hist_bump_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE rooms SET hist_ver = hist_ver + 1
		WHERE id IN (SELECT DISTINCT room_id FROM hist_old);
	RETURN NULL;
END $$;

-- An UPDATE: the rooms of the old rows and of the new ones (nothing in
-- pipechat moves a message between rooms, but a hand-made UPDATE could).
CREATE FUNCTION pipechat_hist_bump_both() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE rooms SET hist_ver = hist_ver + 1
		WHERE id IN (SELECT room_id FROM hist_old
			UNION SELECT room_id FROM hist_new);
	RETURN NULL;
END $$;

CREATE TRIGGER messages_hist_update AFTER UPDATE ON messages
	REFERENCING OLD TABLE AS hist_old NEW TABLE AS hist_new
	FOR EACH STATEMENT EXECUTE FUNCTION pipechat_hist_bump_both();
CREATE TRIGGER messages_hist_delete AFTER DELETE ON messages
	REFERENCING OLD TABLE AS hist_old
	FOR EACH STATEMENT EXECUTE FUNCTION pipechat_hist_bump_old();

CREATE FUNCTION pipechat_hist_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE history_epoch SET v = v + 1;
	RETURN NULL;
END $$;

CREATE TRIGGER users_hist_update AFTER UPDATE OF username, deleted_at ON users
	FOR EACH STATEMENT EXECUTE FUNCTION pipechat_hist_epoch();
CREATE TRIGGER users_hist_delete AFTER DELETE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION pipechat_hist_epoch();
CREATE TRIGGER messages_hist_truncate AFTER TRUNCATE ON messages
	FOR EACH STATEMENT EXECUTE FUNCTION pipechat_hist_epoch();
