-- Access tokens are stored only as keyed hashes beside the nonce they were derived from
-- (patrol_store::credentials). Tokens issued before this migration were stored in clear and are
-- dropped: their holders get 40014 and ask gettoken for a new one, as after any revocation.
DROP TABLE tokens;
CREATE TABLE tokens (
    -- BLAKE3 of the token keyed by meta.token_key.
    token_hash BLOB PRIMARY KEY,
    app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    -- The token is derived from the app's secret and this nonce.
    nonce      BLOB NOT NULL
) STRICT;
CREATE INDEX tokens_by_app ON tokens (app_id, expires_at);
INSERT OR IGNORE INTO meta (key, value) VALUES ('token_key', randomblob(32));

-- `patrol seed` runs: what each was asked for and how many of its orders have landed, moved in
-- the transaction of each batch, so an interrupted run is finished by running it again.
CREATE TABLE seed_runs (
    corp_id    INTEGER NOT NULL REFERENCES corps (id) ON DELETE CASCADE,
    -- The seed, a u64, in decimal.
    seed       TEXT NOT NULL,
    orders     INTEGER NOT NULL CHECK (orders >= 0),
    anchor     INTEGER NOT NULL,
    landed     INTEGER NOT NULL CHECK (landed >= 0 AND landed <= orders),
    PRIMARY KEY (corp_id, seed)
) STRICT;
