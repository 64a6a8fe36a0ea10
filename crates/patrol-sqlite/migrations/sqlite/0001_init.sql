-- patrol's SQLite schema, version 1.
-- Internal integer ids (`id`) never leave the store; WeCom's ids (`corpid`, `grid_id`, `order_id`…)
-- are unique per corp only.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE corps (
    id         INTEGER PRIMARY KEY,
    corpid     TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- The last modification sequence value handed to an order of this corp.
    mod_seq    INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE apps (
    id             INTEGER PRIMARY KEY,
    corp_id        INTEGER NOT NULL REFERENCES corps (id) ON DELETE CASCADE,
    agentid        INTEGER NOT NULL,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('custom', 'system', 'third_party', 'provider')),
    patrol_enabled INTEGER NOT NULL CHECK (patrol_enabled IN (0, 1)),
    enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    -- BLAKE3 of the secret; the secret itself is never stored.
    secret_hash    BLOB NOT NULL,
    created_at     INTEGER NOT NULL,
    UNIQUE (corp_id, agentid)
) STRICT;
CREATE INDEX apps_by_secret ON apps (corp_id, secret_hash);

CREATE TABLE tokens (
    token      TEXT PRIMARY KEY,
    app_id     INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX tokens_by_app ON tokens (app_id, expires_at);

CREATE TABLE users (
    id      INTEGER PRIMARY KEY,
    corp_id INTEGER NOT NULL REFERENCES corps (id) ON DELETE CASCADE,
    userid  TEXT NOT NULL,
    name    TEXT NOT NULL,
    UNIQUE (corp_id, userid)
) STRICT;

CREATE TABLE grids (
    id        INTEGER PRIMARY KEY,
    corp_id   INTEGER NOT NULL REFERENCES corps (id) ON DELETE CASCADE,
    grid_id   TEXT NOT NULL,
    parent_id INTEGER REFERENCES grids (id),
    name      TEXT NOT NULL,
    UNIQUE (corp_id, grid_id)
) STRICT;
CREATE UNIQUE INDEX grids_sibling_names ON grids (corp_id, ifnull(parent_id, 0), name);

-- Admins (负责人) and members of a grid, each list in the grid's order.
CREATE TABLE grid_users (
    grid_id  INTEGER NOT NULL REFERENCES grids (id) ON DELETE CASCADE,
    role     TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    position INTEGER NOT NULL,
    user_id  INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (grid_id, role, position),
    UNIQUE (grid_id, role, user_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE categories (
    id          INTEGER PRIMARY KEY,
    corp_id     INTEGER NOT NULL REFERENCES corps (id) ON DELETE CASCADE,
    category_id TEXT NOT NULL,
    parent_id   INTEGER REFERENCES categories (id),
    level       INTEGER NOT NULL CHECK (level IN (1, 2)),
    name        TEXT NOT NULL,
    UNIQUE (corp_id, category_id)
) STRICT;
CREATE UNIQUE INDEX categories_sibling_names ON categories (corp_id, ifnull(parent_id, 0), name);

-- One row per order. The scalar columns are the order's data; `body` is the order's wire JSON,
-- rendered from them and its steps in the same transaction as every change, so that
-- `get_order_list` and `get_order_info` serve the very same bytes.
CREATE TABLE orders (
    id                INTEGER PRIMARY KEY,
    corp_id           INTEGER NOT NULL REFERENCES corps (id) ON DELETE CASCADE,
    order_id          TEXT NOT NULL,
    description       TEXT NOT NULL,
    urge_type         INTEGER NOT NULL CHECK (urge_type BETWEEN 1 AND 3),
    category_id       INTEGER REFERENCES categories (id),
    case_name         TEXT NOT NULL,
    grid_id           INTEGER NOT NULL REFERENCES grids (id),
    grid_name         TEXT NOT NULL,
    reporter          TEXT NOT NULL,
    location_name     TEXT NOT NULL,
    location_address  TEXT NOT NULL,
    latitude          REAL NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude         REAL NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    image_urls        TEXT NOT NULL,   -- JSON array of strings
    video_media_ids   TEXT NOT NULL,   -- JSON array of strings
    processor_userids TEXT NOT NULL,   -- JSON array of strings
    closed            INTEGER NOT NULL CHECK (closed IN (0, 1)),
    create_time       INTEGER NOT NULL,
    modify_time       INTEGER NOT NULL,
    mod_seq           INTEGER NOT NULL,
    body              TEXT NOT NULL,
    UNIQUE (corp_id, order_id)
) STRICT;
CREATE INDEX orders_by_create ON orders (corp_id, create_time, id);
CREATE UNIQUE INDEX orders_by_modify ON orders (corp_id, mod_seq);

-- The history of an order, one row per step, in order.
CREATE TABLE steps (
    order_id        INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    process_type    INTEGER NOT NULL CHECK (process_type BETWEEN 1 AND 7),
    actor           TEXT NOT NULL,
    acted_time      INTEGER NOT NULL,
    solve_userid    TEXT NOT NULL,
    process_desc    TEXT NOT NULL,
    status          INTEGER NOT NULL CHECK (status IN (0, 1)),
    solved_time     INTEGER NOT NULL,
    image_urls      TEXT NOT NULL,
    video_media_ids TEXT NOT NULL,
    PRIMARY KEY (order_id, position)
) STRICT, WITHOUT ROWID;
