-- Accounts, guilds, channels, members, invites, messages and read states.
-- One dialect for SQLite and PostgreSQL: BIGINT ids and unix-millisecond times,
-- SMALLINT for booleans and enums, TEXT for strings.

CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT,
    password_hash TEXT NOT NULL,
    -- 0 user, 1 system admin
    system_role SMALLINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- One login on one device: the family of refresh tokens that rotate from one sign-in.
CREATE TABLE login_sessions (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX login_sessions_by_user ON login_sessions (user_id);

CREATE TABLE refresh_tokens (
    -- SHA-256 of the token, hex; the token itself is never stored.
    token_hash TEXT PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES login_sessions (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

CREATE TABLE guilds (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);

CREATE TABLE guild_members (
    guild_id BIGINT NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- 0 member, 1 admin, 2 owner
    role SMALLINT NOT NULL,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
CREATE INDEX guild_members_by_user ON guild_members (user_id);

CREATE TABLE guild_bans (
    guild_id BIGINT NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason TEXT,
    banned_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

CREATE TABLE channels (
    id BIGINT PRIMARY KEY,
    guild_id BIGINT NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    -- 0 text, 1 voice, 2 category
    kind SMALLINT NOT NULL,
    name TEXT NOT NULL,
    topic TEXT,
    -- a category of the same guild; cleared by the store when the category is deleted
    parent_id BIGINT,
    position INTEGER NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX channels_by_guild ON channels (guild_id);

CREATE TABLE invites (
    code TEXT PRIMARY KEY,
    guild_id BIGINT NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    creator_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    max_uses INTEGER,
    uses INTEGER NOT NULL DEFAULT 0,
    expires_at BIGINT,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX invites_by_guild ON invites (guild_id);

CREATE TABLE messages (
    -- the id encodes the creation time
    id BIGINT PRIMARY KEY,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    guild_id BIGINT NOT NULL,
    author_id BIGINT NOT NULL REFERENCES users (id),
    content TEXT NOT NULL,
    nonce TEXT,
    reply_to BIGINT,
    edited_at BIGINT
);
CREATE INDEX messages_by_channel ON messages (channel_id, id);
-- A client nonce makes a send idempotent per author and channel.
CREATE UNIQUE INDEX messages_by_nonce ON messages (channel_id, author_id, nonce) WHERE nonce IS NOT NULL;

-- How far each user has read each channel. A member without a row has read everything
-- sent before they joined.
CREATE TABLE read_states (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    last_read_message_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);
