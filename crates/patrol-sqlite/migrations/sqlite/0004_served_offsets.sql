-- Where the served image URLs of each order's body start (patrol_domain::media::served_offsets,
-- little-endian u32s), written with the body, so that a page is answered without scanning its
-- bodies. NULL for orders written before: those are scanned.
ALTER TABLE orders ADD COLUMN served BLOB;
