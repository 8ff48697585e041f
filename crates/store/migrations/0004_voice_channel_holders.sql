-- The node holding each voice channel's call (its `stream_id`, one process lifetime). A node
-- claims an empty channel with one INSERT … ON CONFLICT, so when two nodes accept the first
-- joins of a channel at the same moment exactly one of them becomes its holder; the other
-- forwards its caller's signalling there. The holder refreshes the row while it has calls
-- and deletes it when the channel empties; a row not refreshed for a minute belongs to a node
-- that stopped, and the next claim takes it over.
CREATE TABLE voice_channel_holders (
    channel_id BIGINT PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    stream_id BIGINT NOT NULL,
    refreshed_at BIGINT NOT NULL
);
