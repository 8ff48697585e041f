-- Every refresh leaves its used token behind until it expires (presenting it again reveals a
-- stolen token), so this table grows with every refresh of the last 30 days. The hourly
-- pruning of expired tokens finds them through this index instead of reading them all.
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);
