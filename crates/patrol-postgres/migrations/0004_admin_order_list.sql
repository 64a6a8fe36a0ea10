-- patrol's PostgreSQL schema, version 4: the indexes of the administration API's list of a
-- corp's orders (both families, newest first), which reads the one of its most selective filter
-- in its order; the category's replaces the one that only found a category's orders. The media's
-- blobs are looked up when a corp is deleted (a blob no other corp's medium names is removed).
CREATE INDEX orders_by_corp_create ON orders (corp_id, create_time, seq);
CREATE INDEX orders_by_grid_create ON orders (corp_id, grid_id, create_time, seq);
DROP INDEX orders_by_category;
CREATE INDEX orders_by_category ON orders (corp_id, category_id, create_time, seq);
CREATE INDEX media_by_blob ON media (blob);
