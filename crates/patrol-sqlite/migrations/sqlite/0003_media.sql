-- Uploaded media of each corp: what media/get needs to serve a media id. The bytes are a blob
-- named by their BLAKE3 hash in the blob store (patrol_media), shared by equal uploads.
CREATE TABLE media (
    corp_id      INTEGER NOT NULL REFERENCES corps (id) ON DELETE CASCADE,
    media_id     TEXT NOT NULL,
    media_type   TEXT NOT NULL CHECK (media_type IN ('image', 'voice', 'video', 'file')),
    blob         BLOB NOT NULL CHECK (length(blob) = 32),
    size         INTEGER NOT NULL CHECK (size >= 0),
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    -- NULL: never expires (the demo's and seeded datasets' media).
    expires_at   INTEGER,
    PRIMARY KEY (corp_id, media_id)
) STRICT;
