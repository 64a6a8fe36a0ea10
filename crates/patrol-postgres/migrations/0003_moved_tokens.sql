-- patrol's PostgreSQL schema, version 3: the corp of each token moved here by `patrol migrate`.
--
-- A token issued by PostgreSQL starts with its corp's key, so checking it reads one corp's rows.
-- One issued by SQLite carries no corp, and the client keeps using it after the move: this small
-- reference table (written only by `patrol migrate`, at most the tokens the source held) names
-- its corp, so that checking it still reads one corp's rows and never scans every corp's tokens.
CREATE TABLE moved_tokens (
    token_hash bytea PRIMARY KEY,
    corp_id    bigint NOT NULL REFERENCES corps (id) ON DELETE CASCADE,
    expires_at bigint NOT NULL
);
