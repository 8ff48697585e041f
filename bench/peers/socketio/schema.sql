-- The Socket.IO peer's tables, in its own PostgreSQL database. The shape follows madang's
-- (BIGINT ids, one row per message with its author), so both store the same data.
CREATE TABLE IF NOT EXISTS users (
    id BIGINT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT
);
CREATE TABLE IF NOT EXISTS channels (
    id BIGINT PRIMARY KEY,
    guild_id BIGINT NOT NULL,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS channel_members (
    channel_id BIGINT NOT NULL REFERENCES channels (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (channel_id, user_id)
);
CREATE TABLE IF NOT EXISTS messages (
    id BIGSERIAL PRIMARY KEY,
    channel_id BIGINT NOT NULL REFERENCES channels (id),
    guild_id BIGINT NOT NULL,
    author_id BIGINT NOT NULL REFERENCES users (id),
    content TEXT NOT NULL,
    nonce TEXT,
    reply_to BIGINT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    edited_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS messages_by_channel ON messages (channel_id, id);
