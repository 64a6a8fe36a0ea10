-- Resident orders (居民上报) beside patrol orders, and what the statistics read
-- (patrol_domain::stats): every order's stage, whether it was ever taken, when and by whom it was
-- done; the tallies of each group of orders; the processors of open orders. All of it is written
-- in the transaction of every change to an order.

-- 0 patrol, 1 resident (patrol_domain::Family::code).
ALTER TABLE orders ADD COLUMN family INTEGER NOT NULL DEFAULT 0 CHECK (family IN (0, 1));
-- The reporting resident of a resident order; '' on patrol orders.
ALTER TABLE orders ADD COLUMN reporter_name TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN reporter_mobile TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN unionid TEXT NOT NULL DEFAULT '';
-- patrol_domain::Stage::code: 0 new, 1 processing, 2 solved, 3 rejected.
ALTER TABLE orders ADD COLUMN stage INTEGER NOT NULL DEFAULT 0 CHECK (stage BETWEEN 0 AND 3);
-- Whether the history holds a step of type 2, 3, 4, 5 or 7.
ALTER TABLE orders ADD COLUMN accepted INTEGER NOT NULL DEFAULT 0 CHECK (accepted IN (0, 1));
-- The time and actor of the done step; NULL unless solved.
ALTER TABLE orders ADD COLUMN solved_time INTEGER;
ALTER TABLE orders ADD COLUMN solver TEXT;

-- The walks of each family.
DROP INDEX orders_by_create;
CREATE INDEX orders_by_create ON orders (corp_id, family, create_time, id);
DROP INDEX orders_by_modify;
CREATE UNIQUE INDEX orders_by_modify ON orders (corp_id, family, mod_seq);
-- added_today of a grid (and whether a grid has orders).
CREATE INDEX orders_by_grid ON orders (grid_id, family, create_time);
-- added_today of a member.
CREATE INDEX orders_by_reporter ON orders (corp_id, family, reporter, create_time);
-- solved_today of a member (a corp's and a grid's come from order_quarters).
CREATE INDEX orders_by_solver ON orders (corp_id, family, solver, solved_time)
    WHERE solved_time IS NOT NULL;
-- Grid subtrees.
CREATE INDEX grids_by_parent ON grids (parent_id);

-- How many orders of each group stand at each stage.
CREATE TABLE order_tallies (
    corp_id     INTEGER NOT NULL REFERENCES corps (id) ON DELETE CASCADE,
    family      INTEGER NOT NULL,
    grid_id     INTEGER NOT NULL,
    -- 0: orders without a category.
    category_id INTEGER NOT NULL,
    stage       INTEGER NOT NULL,
    accepted    INTEGER NOT NULL,
    orders      INTEGER NOT NULL CHECK (orders >= 0),
    PRIMARY KEY (corp_id, family, grid_id, category_id, stage, accepted)
) STRICT, WITHOUT ROWID;
-- The processors of every open order, one row each.
CREATE TABLE order_processors (
    corp_id  INTEGER NOT NULL REFERENCES corps (id) ON DELETE CASCADE,
    family   INTEGER NOT NULL,
    userid   TEXT NOT NULL,
    -- orders.id (no foreign key: rows go with their corp, and orders are never deleted alone).
    order_id INTEGER NOT NULL,
    -- The order's stage (0 or 1: the order is open).
    stage    INTEGER NOT NULL,
    PRIMARY KEY (corp_id, family, userid, order_id)
) STRICT, WITHOUT ROWID;

-- How many open orders each member is a processor of, at each stage (0 or 1).
CREATE TABLE user_tallies (
    corp_id INTEGER NOT NULL REFERENCES corps (id) ON DELETE CASCADE,
    family  INTEGER NOT NULL,
    userid  TEXT NOT NULL,
    stage   INTEGER NOT NULL,
    orders  INTEGER NOT NULL CHECK (orders >= 0),
    PRIMARY KEY (corp_id, family, userid, stage)
) STRICT, WITHOUT ROWID;

-- Orders reported and done in each quarter of an hour (Unix seconds / 900), of each grid and
-- (grid_id 0) of the whole corp: a day in any time zone is 96 whole quarters.
CREATE TABLE order_quarters (
    corp_id INTEGER NOT NULL REFERENCES corps (id) ON DELETE CASCADE,
    family  INTEGER NOT NULL,
    grid_id INTEGER NOT NULL,
    quarter INTEGER NOT NULL,
    added   INTEGER NOT NULL CHECK (added >= 0),
    solved  INTEGER NOT NULL CHECK (solved >= 0),
    PRIMARY KEY (corp_id, family, grid_id, quarter)
) STRICT, WITHOUT ROWID;

-- The statistics of the orders already there: statistics_backfill.sql, run right after this.
