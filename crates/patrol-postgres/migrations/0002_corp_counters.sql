-- patrol's PostgreSQL schema, version 2: no sequence shared by corps, so that every table but the
-- reference tables (`meta`, `corps`) distributes by corp on Citus without change.
--
-- The counters of a corp move from `corps` to `corp_counters`, a table of one row per corp keyed
-- (and distributed) by the corp: `corps` stays a small, rarely written reference table, and the
-- row every write locks lives beside the corp's data. The internal ids of users, grids and
-- categories come from the corp's counters instead of identity columns (global sequences).

CREATE TABLE corp_counters (
    corp_id      bigint PRIMARY KEY REFERENCES corps (id) ON DELETE CASCADE,
    -- The last modification sequence value handed to an order of this corp; the row is locked by
    -- every write of the corp (the first statement of its transaction), so values commit in the
    -- order they are taken, whichever server takes them.
    mod_seq      bigint NOT NULL DEFAULT 0,
    -- The last creation sequence value (orders.seq) of this corp.
    order_seq    bigint NOT NULL DEFAULT 0,
    -- The last internal id of this corp's users (creation order), grids and categories.
    user_seq     bigint NOT NULL DEFAULT 0,
    grid_seq     bigint NOT NULL DEFAULT 0,
    category_seq bigint NOT NULL DEFAULT 0
);

INSERT INTO corp_counters (corp_id, mod_seq, order_seq, user_seq, grid_seq, category_seq)
SELECT c.id, c.mod_seq, c.order_seq,
       coalesce((SELECT max(u.id) FROM users u WHERE u.corp_id = c.id), 0),
       coalesce((SELECT max(g.id) FROM grids g WHERE g.corp_id = c.id), 0),
       coalesce((SELECT max(k.id) FROM categories k WHERE k.corp_id = c.id), 0)
FROM corps c;

ALTER TABLE corps DROP COLUMN mod_seq, DROP COLUMN order_seq;

ALTER TABLE users ALTER COLUMN id DROP IDENTITY;
ALTER TABLE grids ALTER COLUMN id DROP IDENTITY;
ALTER TABLE categories ALTER COLUMN id DROP IDENTITY;
ALTER TABLE users ADD CONSTRAINT users_by_id UNIQUE (corp_id, id);
