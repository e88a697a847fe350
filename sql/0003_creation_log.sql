-- 0003_creation_log: one row per room or invitation a user created, for the
-- API's per-user hourly limits (PIPECHAT_ROOM_CREATE_RATE,
-- PIPECHAT_INVITE_RATE; fcgi-api/throttle.h).
--
-- Counted here rather than on rooms.created_at / invites.created_at because
-- those rows go away (a withdrawn or answered invitation, a deleted room), and
-- a limit that forgets them would let a user create, withdraw and create again
-- without end. Written and pruned (after an hour) by the API only; a direct
-- room counts only when POST /api/dm made it.
CREATE TABLE creation_log (
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind    text NOT NULL CHECK (kind IN ('room', 'invite')),
	at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX creation_log_user_kind_at ON creation_log (user_id, kind, at);
CREATE INDEX creation_log_at ON creation_log (at);
