-- The second half of migration 0006: the statistics of the orders written before it, from their
-- steps, as the write path keeps them (patrol_domain::OrderState::{stage, accepted, solved}).
-- A test (tests/it/migrations.rs) runs it over orders written by the write path and holds the
-- two equal.

UPDATE orders SET
    stage = (
        SELECT CASE s.process_type WHEN 1 THEN 0 WHEN 5 THEN 2 WHEN 6 THEN 3 ELSE 1 END
        FROM steps s WHERE s.order_id = orders.id ORDER BY s.position DESC LIMIT 1
    ),
    accepted = EXISTS (
        SELECT 1 FROM steps s WHERE s.order_id = orders.id AND s.process_type IN (2, 3, 4, 5, 7)
    ),
    solved_time = (
        SELECT s.acted_time FROM steps s WHERE s.order_id = orders.id AND s.process_type = 5
    ),
    solver = (
        SELECT s.actor FROM steps s WHERE s.order_id = orders.id AND s.process_type = 5
    );

INSERT INTO order_tallies (corp_id, family, grid_id, category_id, stage, accepted, orders)
    SELECT corp_id, family, grid_id, ifnull(category_id, 0), stage, accepted, count(*)
    FROM orders GROUP BY corp_id, family, grid_id, ifnull(category_id, 0), stage, accepted;

INSERT OR IGNORE INTO order_processors (corp_id, family, userid, order_id, stage)
    SELECT o.corp_id, o.family, p.value, o.id, o.stage
    FROM orders o, json_each(o.processor_userids) p
    WHERE o.closed = 0;

INSERT INTO user_tallies (corp_id, family, userid, stage, orders)
    SELECT corp_id, family, userid, stage, count(*) FROM order_processors
    GROUP BY corp_id, family, userid, stage;

INSERT INTO order_quarters (corp_id, family, grid_id, quarter, added, solved)
    SELECT corp_id, family, grid_id, quarter, sum(added), sum(solved) FROM (
        SELECT corp_id, family, grid_id, create_time / 900 - (create_time % 900 < 0) AS quarter,
               1 AS added, 0 AS solved
        FROM orders
        UNION ALL
        SELECT corp_id, family, 0, create_time / 900 - (create_time % 900 < 0), 1, 0 FROM orders
        UNION ALL
        SELECT corp_id, family, grid_id, solved_time / 900 - (solved_time % 900 < 0), 0, 1
        FROM orders WHERE solved_time IS NOT NULL
        UNION ALL
        SELECT corp_id, family, 0, solved_time / 900 - (solved_time % 900 < 0), 0, 1
        FROM orders WHERE solved_time IS NOT NULL
    )
    GROUP BY corp_id, family, grid_id, quarter;
