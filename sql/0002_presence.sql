-- 0002_presence: who has an open socket right now (contract sections 3 and 8:
-- `online` in GET /api/users and a room's members means "has any open socket").
--
-- Written only by pipechat-broker (broker/online.c): a row while the user has
-- at least one authenticated socket, with how many and since when; deleted at
-- the last one. The broker rewrites the whole table when it starts (so rows
-- left by a killed broker go away) and otherwise flushes changes once a
-- second, so readers may lag by about a second. Readers (the API) only ask
-- EXISTS (SELECT 1 FROM user_online WHERE user_id = …).
CREATE TABLE user_online (
	user_id bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	sockets integer NOT NULL CHECK (sockets > 0),
	since   timestamptz NOT NULL DEFAULT now()
);
