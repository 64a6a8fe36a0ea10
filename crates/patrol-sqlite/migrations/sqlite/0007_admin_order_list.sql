-- The administration API's list of a corp's orders (both families, newest first) reads one of
-- these in its order, by the most selective filter given; the row id (the creation sequence)
-- ends every index. The media's blobs are looked up when a corp is deleted (a blob no other
-- corp's medium names is removed).
CREATE INDEX orders_by_corp_create ON orders (corp_id, create_time);
CREATE INDEX orders_by_grid_create ON orders (grid_id, create_time);
CREATE INDEX orders_by_category_create ON orders (category_id, create_time);
CREATE INDEX media_by_blob ON media (blob);
