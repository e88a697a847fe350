-- pipechat's data model: users, sessions, rooms, members with read markers,
-- invitations, blocks, messages, and the tables the login and registration
-- throttles count in. Applied by scripts/migrate inside one transaction.

CREATE TABLE users (
	id            bigserial PRIMARY KEY,
	username      text NOT NULL,
	email         text NOT NULL,
	password_hash text NOT NULL,
	created_at    timestamptz NOT NULL DEFAULT now(),
	-- A deleted account keeps its row so its messages keep their author;
	-- username and email are cleared to free them (see README, accounts).
	deleted_at    timestamptz
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username)) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX users_username_prefix ON users (lower(username) text_pattern_ops);

CREATE TABLE sessions (
	id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at   timestamptz NOT NULL DEFAULT now(),
	last_seen_at timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz NOT NULL,
	revoked_at   timestamptz,
	address      text NOT NULL DEFAULT '',
	user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE rooms (
	id         bigserial PRIMARY KEY,
	name       text NOT NULL,
	kind       text NOT NULL CHECK (kind IN ('public', 'private', 'direct')),
	created_by bigint REFERENCES users (id) ON DELETE SET NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	-- The highest seq persisted; the broker is its only writer.
	last_seq   bigint NOT NULL DEFAULT 0,
	-- Direct rooms: the pair, lower id first, so a pair has one room.
	dm_low     bigint REFERENCES users (id),
	dm_high    bigint REFERENCES users (id),
	CHECK ((kind = 'direct') = (dm_low IS NOT NULL AND dm_high IS NOT NULL)),
	CHECK (dm_low IS NULL OR dm_low < dm_high)
);
CREATE UNIQUE INDEX rooms_public_name_key ON rooms (lower(name)) WHERE kind = 'public';
CREATE UNIQUE INDEX rooms_direct_pair_key ON rooms (dm_low, dm_high) WHERE kind = 'direct';

CREATE TABLE room_members (
	room_id       bigint NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role          text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'member')),
	joined_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
	last_read_seq bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members (user_id);

CREATE TABLE invites (
	id         bigserial PRIMARY KEY,
	room_id    bigint NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	from_user  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	to_user    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (room_id, to_user)
);
CREATE INDEX invites_to ON invites (to_user);

CREATE TABLE blocks (
	blocker    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	blocked    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (blocker, blocked)
);

CREATE TABLE messages (
	id         bigserial PRIMARY KEY,
	room_id    bigint NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	seq        bigint NOT NULL CHECK (seq >= 1),
	user_id    bigint REFERENCES users (id) ON DELETE SET NULL,
	kind       text NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'system')),
	body       text,
	client_id  text,
	created_at timestamptz NOT NULL DEFAULT now(),
	edited_at  timestamptz,
	deleted_at timestamptz,
	UNIQUE (room_id, seq)
);
-- The idempotency key of a send: (user, room, client_id).
CREATE UNIQUE INDEX messages_client_key ON messages (user_id, room_id, client_id)
	WHERE client_id IS NOT NULL;

-- Throttles (contract section 3): failures by (account, address), kept 15 minutes;
-- successes by (account, address), kept 30 days; registrations by address.
CREATE TABLE login_failures (
	account    text NOT NULL, -- lower(username) of the account tried, or the name given
	address    text NOT NULL,
	at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_account ON login_failures (account, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

CREATE TABLE login_successes (
	user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	address    text NOT NULL,
	at         timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, address)
);

CREATE TABLE register_attempts (
	address text NOT NULL,
	at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX register_attempts_address ON register_attempts (address, at);

INSERT INTO rooms (name, kind) VALUES ('general', 'public');
