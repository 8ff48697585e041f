-- The durable, ordered event logs behind the gateway, and what a gateway node needs to
-- resume a session anywhere in the cluster (see docs/protocol.md, "Resume").

-- Each log's sequence is a counter on its owner's row, bumped inside the writing
-- transaction: the row lock (PostgreSQL) or the single writer (SQLite) makes a log's order
-- equal its commit order, with no gaps.
ALTER TABLE guilds ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;

-- Events of a guild, seen by its members. No foreign key: a deleted guild's last event
-- (GUILD_DELETE) must outlive it for replay.
CREATE TABLE guild_events (
    guild_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- the member the event is about, who receives target_event_type/target_payload instead
    target_user_id BIGINT,
    target_event_type TEXT,
    target_payload TEXT,
    -- 0 none, 1 the target joined, 2 the target left, 3 the guild was deleted,
    -- 4 the target's role changed (to target_role)
    effect SMALLINT NOT NULL,
    target_role SMALLINT,
    -- permission bits a member needs to see the event; 0: every member
    required_permissions BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (guild_id, seq)
);
CREATE INDEX guild_events_by_time ON guild_events (created_at);

-- Events only one user sees. A row without event_type is a silent marker that the user
-- joined joined_guild_id at joined_guild_seq, so a resuming session finds every join.
CREATE TABLE user_events (
    user_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    event_type TEXT,
    payload TEXT,
    joined_guild_id BIGINT,
    joined_guild_seq BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, seq)
);
CREATE INDEX user_events_by_time ON user_events (created_at);

-- The order in which one gateway node (one process lifetime: stream_id) received events,
-- written before it delivers them. Every session's stream is a deterministic filter of
-- its node's order, so any node can recompute it.
CREATE TABLE gateway_receipts (
    stream_id BIGINT NOT NULL,
    position BIGINT NOT NULL,
    -- 0 guild log, 1 user log
    source_kind SMALLINT NOT NULL,
    source_id BIGINT NOT NULL,
    source_seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (stream_id, position)
);
CREATE INDEX gateway_receipts_by_time ON gateway_receipts (created_at);

-- Where a gateway session's stream can be recomputed from: after `position` of stream
-- `stream_id`, with `seq` dispatches sent before, and the session's filter `state` (JSON).
CREATE TABLE gateway_sessions (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    login_session_id BIGINT NOT NULL,
    -- bumped by every resume, so a node still holding an older copy cannot overwrite it
    generation BIGINT NOT NULL,
    stream_id BIGINT NOT NULL,
    position BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    state TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX gateway_sessions_by_time ON gateway_sessions (updated_at);
