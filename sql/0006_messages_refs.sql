-- 0006_messages_refs: messages' references to rooms and users kept by
-- triggers on the referenced side instead of foreign keys.
--
-- Why: a foreign key checks every inserted row with a query of its own
-- (SELECT ... FOR KEY SHARE on the referenced row, through SPI), and
-- messages had two. The broker inserts every message (it is the one writer
-- of messages), many per transaction, and those checks were a fifth of
-- PostgreSQL's CPU in its transactions (perf of the broker's backend, 100
-- senders straight to the broker, about 50 rows a transaction). Without
-- them, in alternating runs of the same senders: 15,480-16,981 acks/s
-- against 12,013-12,598, PostgreSQL's CPU per acknowledged message 47 µs
-- against 61 (bench/README.md, "Session 11").
--
-- What the checks guarded is already guarded where the rows are written:
--   - the broker inserts a message only for a member of the room
--     (room_members references both rooms and users), in the transaction
--     that holds the room's row lock (S_LOCK_ROOMS, then S_SENDS, in
--     broker/store.c) and updates that member's row (its read marker). A
--     room deleted first is gone when the broker reads it (the send is
--     refused); one deleted after waits for the lock and then takes the new
--     rows with it (below). A user deleted by hand (pipechat itself never
--     deletes a users row: an account deletion keeps it, 0001) waits for the
--     member row, through room_members' own cascade, whose trigger fires
--     before the one below (triggers fire in name order, and the foreign
--     keys' internal triggers are named "RI_...");
--   - nothing else inserts messages. Readers already handle both ends of
--     a user gone: a NULL user_id (what ON DELETE SET NULL left, and the
--     trigger below leaves) and, should a hand-made delete ever overtake a
--     send anyway, an id with no row, shown as "deleted user" like a
--     deleted account (the LEFT JOINs on users in fcgi-api/h_messages.c
--     and broker/store.c).
-- What the foreign keys did on delete, these triggers do, row by row as
-- before, so the history counters of 0005 move the same way.

ALTER TABLE messages DROP CONSTRAINT messages_room_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_user_id_fkey;

-- ON DELETE CASCADE from rooms (the index on (room_id, seq) finds them).
CREATE FUNCTION pipechat_room_messages_delete() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM messages WHERE room_id = OLD.id;
	RETURN NULL;
END $$;

CREATE TRIGGER rooms_messages_delete AFTER DELETE ON rooms
	FOR EACH ROW EXECUTE FUNCTION pipechat_room_messages_delete();

-- ON DELETE SET NULL from users (without an index on user_id alone, as
-- the foreign key was: only a delete made by hand comes here).
CREATE FUNCTION pipechat_user_messages_orphan() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	UPDATE messages SET user_id = NULL WHERE user_id = OLD.id;
	RETURN NULL;
END $$;

CREATE TRIGGER users_messages_orphan AFTER DELETE ON users
	FOR EACH ROW EXECUTE FUNCTION pipechat_user_messages_orphan();
