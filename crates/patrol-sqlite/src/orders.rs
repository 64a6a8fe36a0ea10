//! Orders in SQLite: reporting (with the actions since), one action at a time, and the two reads
//! of WeCom's API. The rules are the domain's ([`OrderState`]); this module loads what they need,
//! calls them and stores what they return, in the writer's transaction.

use std::collections::{HashMap, HashSet};

use patrol_domain::stats::Counters;
use patrol_domain::{
    Action, ActionKind, CorpOrdersQuery, Family, GridView, ListQuery, ListedPage, Location, Media,
    NewOrder, OrderState, Position, ProcessType, Rejection, Resident, Step, Urgency,
};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::{Result, conflict, not_found};
use patrol_store::StoreError;

pub(crate) fn json_array(items: &[String]) -> String {
    serde_json::to_string(items).expect("strings always serialize")
}

/// A corp's grids, categories and users, loaded once for a batch of orders.
struct CorpDirectory {
    grids: HashMap<String, (i64, String, Vec<String>)>,
    categories: HashMap<String, (i64, String)>,
    users: HashSet<String>,
}

impl CorpDirectory {
    fn load(tx: &Connection, corp_key: i64) -> Result<CorpDirectory> {
        let mut grids = HashMap::new();
        let mut stmt = tx.prepare("SELECT id, grid_id, name FROM grids WHERE corp_id = ?1")?;
        let rows = stmt.query_map([corp_key], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (key, grid_id, name) = row?;
            grids.insert(grid_id, (key, name, Vec::new()));
        }
        let mut stmt = tx.prepare(
            "SELECT g.grid_id, u.userid FROM grid_users gu
             JOIN grids g ON g.id = gu.grid_id JOIN users u ON u.id = gu.user_id
             WHERE g.corp_id = ?1 AND gu.role = 'admin' ORDER BY gu.grid_id, gu.position",
        )?;
        let rows = stmt.query_map([corp_key], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (grid_id, userid) = row?;
            if let Some(grid) = grids.get_mut(&grid_id) {
                grid.2.push(userid);
            }
        }
        let mut categories = HashMap::new();
        let mut stmt =
            tx.prepare("SELECT id, category_id, name FROM categories WHERE corp_id = ?1")?;
        let rows = stmt.query_map([corp_key], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (key, category_id, name) = row?;
            categories.insert(category_id, (key, name));
        }
        let mut users = HashSet::new();
        let mut stmt = tx.prepare("SELECT userid FROM users WHERE corp_id = ?1")?;
        for userid in stmt.query_map([corp_key], |r| r.get::<_, String>(0))? {
            users.insert(userid?);
        }
        Ok(CorpDirectory {
            grids,
            categories,
            users,
        })
    }
}

/// Writes a transaction's [`Counters`] (`patrol_domain::stats`) in it.
pub(crate) fn write_counters(counters: Counters, tx: &Connection, corp_key: i64) -> Result<()> {
    // SQLite checks `orders >= 0` on the row an upsert would insert, before the conflict:
    // a negative change is an update of a row that must be there.
    let mut upsert = tx.prepare_cached(
        "INSERT INTO order_tallies (corp_id, family, grid_id, category_id, stage, accepted,
            orders)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT DO UPDATE SET orders = orders + excluded.orders",
    )?;
    let mut lower = tx.prepare_cached(
        "UPDATE order_tallies SET orders = orders + ?7
         WHERE corp_id = ?1 AND family = ?2 AND grid_id = ?3 AND category_id = ?4
            AND stage = ?5 AND accepted = ?6",
    )?;
    for ((family, grid, category, stage, accepted), delta) in counters.tallies {
        let row = params![corp_key, family, grid, category, stage, accepted, delta];
        if delta > 0 {
            upsert.execute(row)?;
        } else if delta < 0 && lower.execute(row)? != 1 {
            return Err(missing(format!(
                "orders of grid {grid} and category {category} at stage {stage}"
            )));
        }
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO user_tallies (corp_id, family, userid, stage, orders)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT DO UPDATE SET orders = orders + excluded.orders",
    )?;
    let mut lower = tx.prepare_cached(
        "UPDATE user_tallies SET orders = orders + ?5
         WHERE corp_id = ?1 AND family = ?2 AND userid = ?3 AND stage = ?4",
    )?;
    for ((family, userid, stage), delta) in counters.users {
        let row = params![corp_key, family, userid, stage, delta];
        if delta > 0 {
            upsert.execute(row)?;
        } else if delta < 0 && lower.execute(row)? != 1 {
            return Err(missing(format!("open orders of {userid} at stage {stage}")));
        }
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO order_quarters (corp_id, family, grid_id, quarter, added, solved)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT DO UPDATE SET added = added + excluded.added,
            solved = solved + excluded.solved",
    )?;
    for ((family, grid, quarter), (added, solved)) in counters.quarters {
        upsert.execute(params![corp_key, family, grid, quarter, added, solved])?;
    }
    Ok(())
}

/// A counter that a write would take below zero is missing: the database is corrupt.
fn missing(what: String) -> crate::error::Error {
    StoreError::Corrupt(format!("no tally of {what}")).into()
}

/// Writes the processors of an open order (none of a closed one) for `get_user_status`,
/// replacing those it had (`old`).
pub(crate) fn write_processors(
    tx: &Connection,
    corp_key: i64,
    order_key: i64,
    old: &[String],
    state: &OrderState,
) -> Result<()> {
    let family = state.family().code();
    let mut delete = tx.prepare_cached(
        "DELETE FROM order_processors
         WHERE corp_id = ?1 AND family = ?2 AND userid = ?3 AND order_id = ?4",
    )?;
    for userid in old {
        delete.execute(params![corp_key, family, userid, order_key])?;
    }
    if state.closed {
        return Ok(());
    }
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO order_processors (corp_id, family, userid, order_id, stage)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for userid in &state.processors {
        insert.execute(params![
            corp_key,
            family,
            userid,
            order_key,
            state.stage().code()
        ])?;
    }
    Ok(())
}

pub(crate) fn insert_orders_tx(
    tx: &Transaction<'_>,
    corp_key: i64,
    orders: Vec<NewOrder>,
) -> Result<()> {
    let directory = CorpDirectory::load(tx, corp_key)?;
    let mut mod_seq: i64 = tx
        .query_row("SELECT mod_seq FROM corps WHERE id = ?1", [corp_key], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| not_found(format!("corp {corp_key}")))?;
    let mut insert_order = tx.prepare_cached(
        "INSERT INTO orders (corp_id, order_id, description, urge_type, category_id, case_name,
            grid_id, grid_name, reporter, location_name, location_address, latitude, longitude,
            image_urls, video_media_ids, processor_userids, closed, create_time, modify_time,
            mod_seq, body, served, family, reporter_name, reporter_mobile, unionid, stage,
            accepted, solved_time, solver)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)",
    )?;
    let mut counters = Counters::default();
    for order in orders {
        // The directory's own key names the grid: the order is handed on whole, uncopied.
        let (grid_id, (grid_key, grid_name, admins)) =
            directory
                .grids
                .get_key_value(&order.grid)
                .ok_or_else(|| Rejection::UnknownGrid(order.grid.clone()))?;
        let (category_key, case_name) = match &order.category {
            Some(id) => {
                let (key, name) = directory
                    .categories
                    .get(id)
                    .ok_or_else(|| Rejection::UnknownCategory(id.clone()))?;
                (Some(*key), name.clone())
            }
            None => (None, String::new()),
        };
        let grid = GridView {
            grid_id,
            name: grid_name,
            admins,
        };
        let state =
            OrderState::report_new(order, case_name, &grid, |u| directory.users.contains(u))?;
        mod_seq += 1;
        let body = state.render();
        let resident = state.resident.clone().unwrap_or_default();
        let solved = state.solved();
        insert_order
            .execute(params![
                corp_key,
                state.order_id,
                state.description,
                state.urgency as i64,
                category_key,
                state.case_name,
                grid_key,
                state.grid_name,
                state.reporter,
                state.location.name,
                state.location.address,
                state.location.latitude,
                state.location.longitude,
                json_array(&state.media.image_urls),
                json_array(&state.media.video_media_ids),
                json_array(&state.processors),
                state.closed,
                state.create_time,
                state.last_time(),
                mod_seq,
                body,
                patrol_domain::media::served_offsets(body.as_bytes()),
                state.family().code(),
                resident.name,
                resident.mobile,
                resident.unionid,
                state.stage().code(),
                state.accepted(),
                solved.map(|(time, _)| time),
                solved.map(|(_, solver)| solver),
            ])
            .map_err(conflict(|| format!("order {}", state.order_id)))?;
        let order_key = tx.last_insert_rowid();
        insert_steps(tx, order_key, &state)?;
        write_processors(tx, corp_key, order_key, &[], &state)?;
        counters.count(&state, *grid_key, category_key, 1);
        counters.reported(&state, *grid_key);
    }
    write_counters(counters, tx, corp_key)?;
    tx.execute(
        "UPDATE corps SET mod_seq = ?1 WHERE id = ?2",
        params![mod_seq, corp_key],
    )?;
    Ok(())
}

/// A stored order: its keys, its state and its stored wire JSON.
struct Loaded {
    key: i64,
    grid_key: i64,
    category_key: Option<i64>,
    state: OrderState,
    body: String,
}

fn load_order(tx: &Connection, corp_key: i64, order_id: &str) -> Result<Loaded> {
    let row = tx
        .query_row(
            "SELECT o.id, o.grid_id, o.description, o.urge_type, o.case_name, o.grid_name,
                    o.reporter, o.location_name, o.location_address, o.latitude, o.longitude,
                    o.image_urls, o.video_media_ids, o.processor_userids, o.closed, o.create_time,
                    o.body, g.grid_id, o.category_id, o.family, o.reporter_name,
                    o.reporter_mobile, o.unionid
             FROM orders o JOIN grids g ON g.id = o.grid_id
             WHERE o.corp_id = ?1 AND o.order_id = ?2",
            params![corp_key, order_id],
            |r| {
                let resident = match Family::from_code(r.get(19)?) {
                    Some(Family::Resident) => Some(Resident {
                        name: r.get(20)?,
                        mobile: r.get(21)?,
                        unionid: r.get(22)?,
                    }),
                    _ => None,
                };
                Ok(Loaded {
                    key: r.get(0)?,
                    grid_key: r.get(1)?,
                    category_key: r.get(18)?,
                    state: OrderState {
                        order_id: order_id.to_owned(),
                        description: r.get(2)?,
                        urgency: Urgency::from_wire(r.get(3)?).unwrap_or(Urgency::Normal),
                        case_name: r.get(4)?,
                        grid_name: r.get(5)?,
                        reporter: r.get(6)?,
                        location: Location {
                            name: r.get(7)?,
                            address: r.get(8)?,
                            latitude: r.get(9)?,
                            longitude: r.get(10)?,
                        },
                        media: Media {
                            image_urls: parse_array(&r.get::<_, String>(11)?),
                            video_media_ids: parse_array(&r.get::<_, String>(12)?),
                        },
                        processors: parse_array(&r.get::<_, String>(13)?),
                        closed: r.get(14)?,
                        create_time: r.get(15)?,
                        grid_id: r.get(17)?,
                        steps: Vec::new(),
                        resident,
                    },
                    body: r.get(16)?,
                })
            },
        )
        .optional()?
        .ok_or_else(|| not_found(format!("order {order_id}")))?;
    let mut loaded = row;
    let mut stmt = tx.prepare_cached(
        "SELECT process_type, actor, acted_time, solve_userid, process_desc, status, solved_time,
                image_urls, video_media_ids
         FROM steps WHERE order_id = ?1 ORDER BY position",
    )?;
    let steps = stmt.query_map([loaded.key], |r| {
        Ok(Step {
            process_type: ProcessType::from_wire(r.get(0)?).unwrap_or(ProcessType::Create),
            actor: r.get(1)?,
            acted_time: r.get(2)?,
            solve_userid: r.get(3)?,
            process_desc: r.get(4)?,
            status: r.get(5)?,
            solved_time: r.get(6)?,
            media: Media {
                image_urls: parse_array(&r.get::<_, String>(7)?),
                video_media_ids: parse_array(&r.get::<_, String>(8)?),
            },
        })
    })?;
    for step in steps {
        loaded.state.steps.push(step?);
    }
    Ok(loaded)
}

fn parse_array(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

pub(crate) fn act_on_order_tx(
    tx: &Transaction<'_>,
    corp_key: i64,
    order_id: &str,
    action: Action,
) -> Result<String> {
    let Loaded {
        key: order_key,
        grid_key,
        category_key,
        state,
        body: old_body,
    } = load_order(tx, corp_key, order_id)?;
    let mut counters = Counters::default();
    counters.count(&state, grid_key, category_key, -1);
    let before = state.clone();
    let old_processors = if state.closed {
        Vec::new()
    } else {
        state.processors.clone()
    };
    let admins = tx
        .prepare_cached(
            "SELECT u.userid FROM grid_users gu JOIN users u ON u.id = gu.user_id
             WHERE gu.grid_id = ?1 AND gu.role = 'admin' ORDER BY gu.position",
        )?
        .query_map([grid_key], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut named = vec![action.actor.clone()];
    if let ActionKind::Assign(users) | ActionKind::Transfer(users) = &action.kind {
        named.extend(users.iter().cloned());
    }
    let mut known = HashSet::new();
    for userid in named {
        let exists = tx
            .prepare_cached("SELECT 1 FROM users WHERE corp_id = ?1 AND userid = ?2")?
            .exists(params![corp_key, userid])?;
        if exists {
            known.insert(userid);
        }
    }
    let acted = state.act(&old_body, &action, &admins, |u| known.contains(u))?;
    let (state, body) = (acted.state, acted.body);
    if !acted.changed {
        return Ok(body);
    }
    let mod_seq: i64 = tx.query_row(
        "UPDATE corps SET mod_seq = mod_seq + 1 WHERE id = ?1 RETURNING mod_seq",
        [corp_key],
        |r| r.get(0),
    )?;
    let solved = state.solved();
    tx.execute(
        "UPDATE orders SET processor_userids = ?1, closed = ?2, modify_time = ?3, mod_seq = ?4,
            body = ?5, served = ?6, stage = ?8, accepted = ?9, solved_time = ?10, solver = ?11
         WHERE id = ?7",
        params![
            json_array(&state.processors),
            state.closed,
            action.time,
            mod_seq,
            body,
            patrol_domain::media::served_offsets(body.as_bytes()),
            order_key,
            state.stage().code(),
            state.accepted(),
            solved.map(|(time, _)| time),
            solved.map(|(_, solver)| solver),
        ],
    )?;
    tx.execute("DELETE FROM steps WHERE order_id = ?1", [order_key])?;
    insert_steps(tx, order_key, &state)?;
    write_processors(tx, corp_key, order_key, &old_processors, &state)?;
    counters.count(&state, grid_key, category_key, 1);
    counters.newly_solved(&before, &state, grid_key);
    write_counters(counters, tx, corp_key)?;
    Ok(body)
}

pub(crate) fn insert_steps(tx: &Connection, order_key: i64, state: &OrderState) -> Result<()> {
    let mut insert_step = tx.prepare_cached(
        "INSERT INTO steps (order_id, position, process_type, actor, acted_time, solve_userid,
            process_desc, status, solved_time, image_urls, video_media_ids)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for (position, step) in state.steps.iter().enumerate() {
        insert_step.execute(params![
            order_key,
            position as i64,
            step.process_type as i64,
            step.actor,
            step.acted_time,
            step.solve_userid,
            step.process_desc,
            step.status,
            step.solved_time,
            json_array(&step.media.image_urls),
            json_array(&step.media.video_media_ids),
        ])?;
    }
    Ok(())
}

/// Appends a row's body to a page: `body` is column `column` of the row and its served offsets
/// the next; `position` where it stands. With a public URL, served image URLs are made absolute:
/// spliced at the stored offsets, or found by a scan when the order has none stored.
fn push_row(
    page: &mut ListedPage,
    position: Position,
    row: &rusqlite::Row<'_>,
    column: usize,
    limit: usize,
    public_url: Option<&str>,
) -> rusqlite::Result<()> {
    if page.orders.len() == limit {
        page.more = true;
        return Ok(());
    }
    if !page.orders.is_empty() {
        page.json.push(b',');
    }
    let start = page.json.len();
    let stored = row.get_ref(column)?.as_bytes()?;
    match public_url {
        None => page.json.extend_from_slice(stored),
        Some(public_url) => match row.get_ref(column + 1)?.as_blob_or_null()? {
            // No served image: the body as it is.
            Some([]) => page.json.extend_from_slice(stored),
            Some(offsets)
                if patrol_domain::media::resolve_at(
                    &mut page.json,
                    stored,
                    offsets,
                    public_url,
                ) => {}
            _ => patrol_domain::media::resolve_into(&mut page.json, stored, public_url),
        },
    }
    page.orders.push((position, start..page.json.len()));
    Ok(())
}

pub(crate) fn list_orders_query(
    conn: &Connection,
    corp_key: i64,
    query: ListQuery,
) -> Result<ListedPage> {
    let limit = query.limit as usize;
    let public_url = query.public_url.as_deref();
    // One more row than the page tells whether more follow.
    let fetch = i64::from(query.limit) + 1;
    let mut page = ListedPage {
        json: Vec::with_capacity(limit * 1600),
        orders: Vec::with_capacity(limit),
        more: false,
    };
    if query.modify_ordered() {
        let after = match query.after {
            Some(Position::Modified { mod_seq }) => mod_seq,
            None => 0,
            Some(other) => {
                return Err(Rejection::Invalid(format!(
                    "position {other:?} does not belong to a modify-ordered walk"
                ))
                .into());
            }
        };
        let mut stmt = conn.prepare_cached(
            "SELECT mod_seq, body, served FROM orders
             WHERE corp_id = ?1 AND family = ?6 AND mod_seq > ?2 AND modify_time >= ?3
                AND create_time >= ?4
             ORDER BY mod_seq LIMIT ?5",
        )?;
        let mut rows = stmt.query(params![
            corp_key,
            after,
            query.begin_modify_time,
            query.begin_create_time,
            fetch,
            query.family.code(),
        ])?;
        while let Some(row) = rows.next()? {
            let position = Position::Modified {
                mod_seq: row.get(0)?,
            };
            push_row(&mut page, position, row, 1, limit, public_url)?;
        }
    } else {
        // One lower bound only, so that SQLite seeks the index to it: a cursor's position comes
        // from an order that passed the filter, so every order after it passes too. Both
        // statements bind (corp, create_time, id, limit); the first reads the id as a lower
        // bound too, which every id passes.
        let (sql, bound) = match query.after {
            None => (
                "SELECT create_time, id, body, served FROM orders
                 WHERE corp_id = ?1 AND family = ?5 AND create_time >= ?2 AND id > ?3
                 ORDER BY create_time, id LIMIT ?4",
                (query.begin_create_time, i64::MIN),
            ),
            Some(Position::Created { create_time, seq }) => (
                "SELECT create_time, id, body, served FROM orders
                 WHERE corp_id = ?1 AND family = ?5 AND (create_time, id) > (?2, ?3)
                 ORDER BY create_time, id LIMIT ?4",
                (create_time.max(query.begin_create_time), seq),
            ),
            Some(other) => {
                return Err(Rejection::Invalid(format!(
                    "position {other:?} does not belong to a create-ordered walk"
                ))
                .into());
            }
        };
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params![
            corp_key,
            bound.0,
            bound.1,
            fetch,
            query.family.code()
        ])?;
        while let Some(row) = rows.next()? {
            let position = Position::Created {
                create_time: row.get(0)?,
                seq: row.get(1)?,
            };
            push_row(&mut page, position, row, 2, limit, public_url)?;
        }
    }
    Ok(page)
}

/// One page of the administration API's list of a corp's orders (`OrderStore::list_corp_orders`):
/// newest first, each filter a condition of the statement only when given, so that SQLite picks
/// the index of the most selective one (`orders_by_grid_create`, `orders_by_category_create`,
/// else `orders_by_corp_create`; migration 0007), read in its order with no sort.
pub(crate) fn list_corp_orders_query(
    conn: &Connection,
    corp_key: i64,
    query: CorpOrdersQuery,
) -> Result<ListedPage> {
    use rusqlite::types::Value;
    let limit = query.limit as usize;
    let public_url = query.public_url.as_deref();
    let filter = &query.filter;
    let mut sql =
        String::from("SELECT create_time, id, body, served FROM orders WHERE corp_id = ?1");
    let mut values: Vec<Value> = vec![Value::Integer(corp_key)];
    let mut bind = |sql: &mut String, condition: &str, value: Value| {
        values.push(value);
        sql.push_str(&condition.replace("{}", &format!("?{}", values.len())));
    };
    if let Some(grid) = &filter.grid {
        bind(
            &mut sql,
            " AND grid_id = (SELECT id FROM grids WHERE corp_id = ?1 AND grid_id = {})",
            Value::Text(grid.clone()),
        );
    }
    if let Some(category) = &filter.category {
        bind(
            &mut sql,
            " AND category_id = (SELECT id FROM categories WHERE corp_id = ?1 AND category_id = {})",
            Value::Text(category.clone()),
        );
    }
    if let Some(urgency) = filter.urgency {
        bind(
            &mut sql,
            " AND urge_type = {}",
            Value::Integer(urgency as i64),
        );
    }
    if !filter.stages.is_empty() {
        let codes: Vec<String> = filter
            .stages
            .iter()
            .map(|stage| stage.code().to_string())
            .collect();
        sql.push_str(&format!(" AND stage IN ({})", codes.join(", ")));
    }
    if let Some(since) = filter.since {
        bind(&mut sql, " AND create_time >= {}", Value::Integer(since));
    }
    if let Some(until) = filter.until {
        bind(&mut sql, " AND create_time < {}", Value::Integer(until));
    }
    match query.after {
        None => {}
        Some(Position::Created { create_time, seq }) => {
            bind(
                &mut sql,
                " AND (create_time, id) < ({}",
                Value::Integer(create_time),
            );
            bind(&mut sql, ", {})", Value::Integer(seq));
        }
        Some(other) => {
            return Err(Rejection::Invalid(format!(
                "position {other:?} does not belong to a create-ordered walk"
            ))
            .into());
        }
    }
    // One more row than the page tells whether more follow.
    bind(
        &mut sql,
        " ORDER BY create_time DESC, id DESC LIMIT {}",
        Value::Integer(i64::from(query.limit) + 1),
    );
    let mut page = ListedPage {
        json: Vec::with_capacity(limit * 1600),
        orders: Vec::with_capacity(limit),
        more: false,
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
    while let Some(row) = rows.next()? {
        let position = Position::Created {
            create_time: row.get(0)?,
            seq: row.get(1)?,
        };
        push_row(&mut page, position, row, 2, limit, public_url)?;
    }
    Ok(page)
}
