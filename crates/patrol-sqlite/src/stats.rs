//! The statistics in SQLite (patrol_domain::stats): a few rows of `order_tallies` and index
//! counts of one day, never a read of all of a corp's orders.

use std::collections::HashMap;

use patrol_domain::stats::{CategoryCount, CategoryRow, CorpStatus, Day, Tally, UserStatus};
use patrol_domain::{Family, Stage};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;

/// The tallies of a family's orders in a corp, or in one grid.
fn tallies(
    conn: &Connection,
    corp_key: i64,
    family: Family,
    grid_key: Option<i64>,
) -> Result<Vec<Tally>> {
    // Two statements, so that one grid's rows are found by the key.
    let mut stmt = match grid_key {
        None => conn.prepare_cached(
            "SELECT stage, accepted, sum(orders) FROM order_tallies
             WHERE corp_id = ?1 AND family = ?2 AND ?3 IS NULL
             GROUP BY stage, accepted",
        )?,
        Some(_) => conn.prepare_cached(
            "SELECT stage, accepted, sum(orders) FROM order_tallies
             WHERE corp_id = ?1 AND family = ?2 AND grid_id = ?3
             GROUP BY stage, accepted",
        )?,
    };
    let rows = stmt.query_map(params![corp_key, family.code(), grid_key], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, bool>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (stage, accepted, orders) = row?;
        if let Some(stage) = Stage::from_code(stage) {
            out.push(Tally {
                stage,
                accepted,
                orders,
            });
        }
    }
    Ok(out)
}

/// The internal keys of a grid and of every grid under it; `None` when the corp has no such
/// grid.
fn subtree(conn: &Connection, corp_key: i64, grid_id: &str) -> Result<Option<Vec<i64>>> {
    let root: Option<i64> = conn
        .prepare_cached("SELECT id FROM grids WHERE corp_id = ?1 AND grid_id = ?2")?
        .query_row(params![corp_key, grid_id], |r| r.get(0))
        .optional()?;
    let Some(root) = root else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE sub (id) AS (
             SELECT ?1 UNION SELECT g.id FROM grids g JOIN sub ON g.parent_id = sub.id
         )
         SELECT id FROM sub",
    )?;
    let keys = stmt
        .query_map([root], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(Some(keys))
}

/// Orders reported and done in `today`, of a grid (its key) or, with 0, of the whole corp: from
/// the day's 96 rows of `order_quarters`, or, for a day not made of whole quarters, by index.
fn day_counts(
    conn: &Connection,
    corp_key: i64,
    family: Family,
    grid_key: i64,
    today: Day,
) -> Result<(i64, i64)> {
    let family = family.code();
    if let Some((first, end)) = today.quarters() {
        return Ok(conn
            .prepare_cached(
                "SELECT ifnull(sum(added), 0), ifnull(sum(solved), 0) FROM order_quarters
                 WHERE corp_id = ?1 AND family = ?2 AND grid_id = ?3
                    AND quarter >= ?4 AND quarter < ?5",
            )?
            .query_row(params![corp_key, family, grid_key, first, end], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?);
    }
    let added = conn
        .prepare_cached(
            "SELECT count(*) FROM orders
             WHERE corp_id = ?1 AND family = ?2 AND create_time >= ?3 AND create_time < ?4
                AND (?5 = 0 OR grid_id = ?5)",
        )?
        .query_row(
            params![corp_key, family, today.start, today.end, grid_key],
            |r| r.get(0),
        )?;
    let solved = conn
        .prepare_cached(
            "SELECT count(*) FROM orders
             WHERE corp_id = ?1 AND family = ?2 AND solved_time >= ?3 AND solved_time < ?4
                AND (?5 = 0 OR grid_id = ?5)",
        )?
        .query_row(
            params![corp_key, family, today.start, today.end, grid_key],
            |r| r.get(0),
        )?;
    Ok((added, solved))
}

pub(crate) fn corp_status(
    conn: &Connection,
    corp_key: i64,
    family: Family,
    grid_id: Option<&str>,
    today: Day,
) -> Result<Option<CorpStatus>> {
    let grids = match grid_id {
        None => None,
        Some(grid_id) => match subtree(conn, corp_key, grid_id)? {
            Some(grids) => Some(grids),
            None => return Ok(None),
        },
    };
    let (mut all, mut added_today, mut solved_today) = (Vec::new(), 0, 0);
    // The whole corp is grid 0 of `order_quarters`, and every grid of `order_tallies`.
    for (grid, day_key) in grids.map_or(vec![(None, 0)], |grids| {
        grids.into_iter().map(|g| (Some(g), g)).collect()
    }) {
        all.extend(tallies(conn, corp_key, family, grid)?);
        let (added, solved) = day_counts(conn, corp_key, family, day_key, today)?;
        added_today += added;
        solved_today += solved;
    }
    Ok(Some(CorpStatus::from_tallies(
        all,
        added_today,
        solved_today,
    )))
}

pub(crate) fn user_status(
    conn: &Connection,
    corp_key: i64,
    family: Family,
    userid: &str,
    today: Day,
) -> Result<Option<UserStatus>> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM users WHERE corp_id = ?1 AND userid = ?2")?
        .exists(params![corp_key, userid])?;
    if !exists {
        return Ok(None);
    }
    let family = family.code();
    let (processing, untaken): (i64, i64) = conn
        .prepare_cached(
            "SELECT ifnull(sum(orders), 0), ifnull(sum(CASE stage WHEN 0 THEN orders END), 0)
             FROM user_tallies WHERE corp_id = ?1 AND family = ?2 AND userid = ?3",
        )?
        .query_row(params![corp_key, family, userid], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let added_today: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM orders
             WHERE corp_id = ?1 AND family = ?2 AND reporter = ?3
                AND create_time >= ?4 AND create_time < ?5",
        )?
        .query_row(
            params![corp_key, family, userid, today.start, today.end],
            |r| r.get(0),
        )?;
    let solved_today: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM orders
             WHERE corp_id = ?1 AND family = ?2 AND solver = ?3
                AND solved_time >= ?4 AND solved_time < ?5",
        )?
        .query_row(
            params![corp_key, family, userid, today.start, today.end],
            |r| r.get(0),
        )?;
    Ok(Some(UserStatus {
        processing,
        untaken,
        added_today,
        solved_today,
    }))
}

pub(crate) fn category_statistic(
    conn: &Connection,
    corp_key: i64,
    family: Family,
    category_id: Option<&str>,
) -> Result<Option<Vec<CategoryRow>>> {
    let categories = crate::directory::list_categories(conn, corp_key)?;
    let mut stmt = conn.prepare_cached(
        "SELECT c.category_id, sum(t.orders), sum(CASE t.stage WHEN ?3 THEN t.orders ELSE 0 END)
         FROM order_tallies t LEFT JOIN categories c ON c.id = t.category_id
         WHERE t.corp_id = ?1 AND t.family = ?2
         GROUP BY t.category_id",
    )?;
    let rows = stmt.query_map(
        params![corp_key, family.code(), Stage::Solved.code()],
        |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                CategoryCount {
                    total_case: r.get(1)?,
                    total_solved: r.get(2)?,
                },
            ))
        },
    )?;
    let mut counts = HashMap::new();
    for row in rows {
        let (category, count) = row?;
        counts.insert(category, count);
    }
    Ok(patrol_domain::stats::category_rows(
        &categories,
        &counts,
        category_id,
    ))
}
