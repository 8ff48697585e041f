-- Voice channels: who is in which one, on which node, and what moderators set.

-- How many people a voice channel admits; NULL: the server-wide limit.
ALTER TABLE channels ADD COLUMN user_limit INTEGER;

-- Muted by a moderator (0/1). Kept on the membership, not the voice state, so leaving and
-- rejoining does not lift it.
ALTER TABLE guild_members ADD COLUMN server_mute SMALLINT NOT NULL DEFAULT 0;

-- One row per user in a voice channel (a user is in at most one). Written together with the
-- VOICE_STATE_UPDATE guild event, so READY reads it and resume replays its changes. The
-- node holding the call (`stream_id`, one process lifetime) refreshes `refreshed_at`;
-- rows of a node that stopped refreshing are removed, with their events, by the others.
CREATE TABLE voice_states (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    guild_id BIGINT NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    -- one join: a later join gets a new id, so a late departure of the old call cannot
    -- remove the new row
    participant_id BIGINT NOT NULL,
    stream_id BIGINT NOT NULL,
    self_mute SMALLINT NOT NULL,
    self_deaf SMALLINT NOT NULL,
    self_video SMALLINT NOT NULL,
    self_stream SMALLINT NOT NULL,
    refreshed_at BIGINT NOT NULL
);
CREATE INDEX voice_states_by_guild ON voice_states (guild_id);
CREATE INDEX voice_states_by_channel ON voice_states (channel_id);
CREATE INDEX voice_states_by_refresh ON voice_states (refreshed_at);
