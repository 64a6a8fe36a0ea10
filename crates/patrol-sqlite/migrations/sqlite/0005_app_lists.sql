-- The two other lists an app may be on (decisions.md, "Permissions of the other families"):
-- 「居民上报 - 可调用接口的应用」 (report/resident/*) and 「居民联系 - 可调用接口的应用」
-- (report/grid/*). Existing apps are on neither.
ALTER TABLE apps ADD COLUMN resident_enabled INTEGER NOT NULL DEFAULT 0
    CHECK (resident_enabled IN (0, 1));
ALTER TABLE apps ADD COLUMN contact_enabled INTEGER NOT NULL DEFAULT 0
    CHECK (contact_enabled IN (0, 1));
