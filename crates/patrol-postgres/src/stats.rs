//! The statistics in PostgreSQL (patrol_domain::stats): a few rows of the counters every write
//! keeps (`order_tallies`, `user_tallies`, `order_quarters`), never a read of all of a corp's
//! orders. The same queries as the SQLite backend's.

use std::collections::HashMap;

use deadpool_postgres::Client;
use patrol_domain::stats::{CategoryCount, CategoryRow, CorpStatus, Day, Tally, UserStatus};
use patrol_domain::{Family, Stage};

use crate::error::Result;

/// The tallies of a family's orders in a corp, or in one grid.
async fn tallies(
    client: &Client,
    corp_key: i64,
    family: Family,
    grid_key: Option<i64>,
) -> Result<Vec<Tally>> {
    let family = family.code() as i16;
    let rows = match grid_key {
        None => {
            client
                .query(
                    &client
                        .prepare_cached(
                            "SELECT stage, accepted, sum(orders)::bigint FROM order_tallies
                     WHERE corp_id = $1 AND family = $2
                     GROUP BY stage, accepted",
                        )
                        .await?,
                    &[&corp_key, &family],
                )
                .await?
        }
        Some(grid) => {
            client
                .query(
                    &client
                        .prepare_cached(
                            "SELECT stage, accepted, sum(orders)::bigint FROM order_tallies
                     WHERE corp_id = $1 AND family = $2 AND grid_id = $3
                     GROUP BY stage, accepted",
                        )
                        .await?,
                    &[&corp_key, &family, &grid],
                )
                .await?
        }
    };
    Ok(rows
        .iter()
        .filter_map(|row| {
            Stage::from_code(i64::from(row.get::<_, i16>(0))).map(|stage| Tally {
                stage,
                accepted: row.get(1),
                orders: row.get(2),
            })
        })
        .collect())
}

/// The keys of a grid and of every grid under it; `None` when the corp has no such grid.
async fn subtree(client: &Client, corp_key: i64, grid_id: &str) -> Result<Option<Vec<i64>>> {
    if grid_id.contains('\0') {
        return Ok(None);
    }
    let rows = client
        .query(
            &client
                .prepare_cached(
                    "WITH RECURSIVE sub (id) AS (
                 SELECT id FROM grids WHERE corp_id = $1 AND grid_id = $2
                 UNION
                 SELECT g.id FROM grids g JOIN sub ON g.corp_id = $1 AND g.parent_id = sub.id
             )
             SELECT id FROM sub",
                )
                .await?,
            &[&corp_key, &grid_id],
        )
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(rows.iter().map(|row| row.get(0)).collect()))
}

/// Orders reported and done in `today`, of a grid (its key) or, with 0, of the whole corp: from
/// the day's 96 rows of `order_quarters`, or, for a day not made of whole quarters, by index.
async fn day_counts(
    client: &Client,
    corp_key: i64,
    family: Family,
    grid_key: i64,
    today: Day,
) -> Result<(i64, i64)> {
    let family = family.code() as i16;
    if let Some((first, end)) = today.quarters() {
        let row = client
            .query_one(
                &client
                    .prepare_cached(
                        "SELECT coalesce(sum(added), 0)::bigint, coalesce(sum(solved), 0)::bigint
                 FROM order_quarters
                 WHERE corp_id = $1 AND family = $2 AND grid_id = $3
                    AND quarter >= $4 AND quarter < $5",
                    )
                    .await?,
                &[&corp_key, &family, &grid_key, &first, &end],
            )
            .await?;
        return Ok((row.get(0), row.get(1)));
    }
    let added = client
        .query_one(
            &client
                .prepare_cached(
                    "SELECT count(*) FROM orders
             WHERE corp_id = $1 AND family = $2 AND create_time >= $3 AND create_time < $4
                AND ($5::bigint = 0 OR grid_id = $5::bigint)",
                )
                .await?,
            &[&corp_key, &family, &today.start, &today.end, &grid_key],
        )
        .await?
        .get(0);
    let solved = client
        .query_one(
            &client
                .prepare_cached(
                    "SELECT count(*) FROM orders
             WHERE corp_id = $1 AND family = $2 AND solved_time >= $3 AND solved_time < $4
                AND ($5::bigint = 0 OR grid_id = $5::bigint)",
                )
                .await?,
            &[&corp_key, &family, &today.start, &today.end, &grid_key],
        )
        .await?
        .get(0);
    Ok((added, solved))
}

/// `get_corp_status`, read on `client` (a replica's or the primary's).
pub(crate) async fn corp_status_on(
    client: &Client,
    corp_key: i64,
    family: Family,
    grid_id: Option<&str>,
    today: Day,
) -> Result<Option<CorpStatus>> {
    let grids = match grid_id {
        None => None,
        Some(grid_id) => match subtree(client, corp_key, grid_id).await? {
            Some(grids) => Some(grids),
            None => return Ok(None),
        },
    };
    let (mut all, mut added_today, mut solved_today) = (Vec::new(), 0, 0);
    // The whole corp is grid 0 of `order_quarters`, and every grid of `order_tallies`.
    let parts: Vec<(Option<i64>, i64)> = match grids {
        None => vec![(None, 0)],
        Some(grids) => grids.into_iter().map(|g| (Some(g), g)).collect(),
    };
    for (grid, day_key) in parts {
        all.extend(tallies(client, corp_key, family, grid).await?);
        let (added, solved) = day_counts(client, corp_key, family, day_key, today).await?;
        added_today += added;
        solved_today += solved;
    }
    Ok(Some(CorpStatus::from_tallies(
        all,
        added_today,
        solved_today,
    )))
}

/// `get_user_status`, read on `client` (a replica's or the primary's).
pub(crate) async fn user_status_on(
    client: &Client,
    corp_key: i64,
    family: Family,
    userid: &str,
    today: Day,
) -> Result<Option<UserStatus>> {
    if userid.contains('\0') {
        return Ok(None);
    }
    let exists = client
        .query_opt(
            &client
                .prepare_cached("SELECT 1 FROM users WHERE corp_id = $1 AND userid = $2")
                .await?,
            &[&corp_key, &userid],
        )
        .await?
        .is_some();
    if !exists {
        return Ok(None);
    }
    let family = family.code() as i16;
    let row = client
        .query_one(
            &client
                .prepare_cached(
                    "SELECT coalesce(sum(orders), 0)::bigint,
                        coalesce(sum(CASE stage WHEN 0 THEN orders END), 0)::bigint
                 FROM user_tallies WHERE corp_id = $1 AND family = $2 AND userid = $3",
                )
                .await?,
            &[&corp_key, &family, &userid],
        )
        .await?;
    let (processing, untaken): (i64, i64) = (row.get(0), row.get(1));
    let added_today: i64 = client
        .query_one(
            &client
                .prepare_cached(
                    "SELECT count(*) FROM orders
                 WHERE corp_id = $1 AND family = $2 AND reporter = $3
                    AND create_time >= $4 AND create_time < $5",
                )
                .await?,
            &[&corp_key, &family, &userid, &today.start, &today.end],
        )
        .await?
        .get(0);
    let solved_today: i64 = client
        .query_one(
            &client
                .prepare_cached(
                    "SELECT count(*) FROM orders
                 WHERE corp_id = $1 AND family = $2 AND solver = $3
                    AND solved_time >= $4 AND solved_time < $5",
                )
                .await?,
            &[&corp_key, &family, &userid, &today.start, &today.end],
        )
        .await?
        .get(0);
    Ok(Some(UserStatus {
        processing,
        untaken,
        added_today,
        solved_today,
    }))
}

/// `category_statistic`, read on `client` (a replica's or the primary's): the categories and
/// their counters from one server.
pub(crate) async fn category_statistic_on(
    client: &Client,
    corp_key: i64,
    family: Family,
    category_id: Option<&str>,
) -> Result<Option<Vec<CategoryRow>>> {
    let categories = crate::directory::list_categories(client, corp_key).await?;
    let solved = Stage::Solved.code() as i16;
    let rows = client
        .query(
            &client
                .prepare_cached(
                    "SELECT c.category_id, sum(t.orders)::bigint,
                        sum(CASE t.stage WHEN $3 THEN t.orders ELSE 0 END)::bigint
                 FROM order_tallies t
                 LEFT JOIN categories c ON c.corp_id = t.corp_id AND c.id = t.category_id
                 WHERE t.corp_id = $1 AND t.family = $2
                 GROUP BY t.category_id, c.category_id",
                )
                .await?,
            &[&corp_key, &(family.code() as i16), &solved],
        )
        .await?;
    let mut counts = HashMap::new();
    for row in rows {
        let category: Option<String> = row.get(0);
        counts.insert(
            category,
            CategoryCount {
                total_case: row.get(1),
                total_solved: row.get(2),
            },
        );
    }
    Ok(patrol_domain::stats::category_rows(
        &categories,
        &counts,
        category_id,
    ))
}
