//! Orders in PostgreSQL: reporting (with the actions since), one action at a time, the two reads
//! of WeCom's API and the statistics' counters. The rules are the domain's ([`OrderState`]); this
//! module loads what they need, calls them and stores what they return, in the write's
//! transaction, under the corp's row lock (`PostgresStore::write`): the modification and
//! creation sequences are taken under it, so their values commit in the order they are taken.
//! The same statements as the SQLite backend's, over the corp-first schema.

use std::collections::{HashMap, HashSet};

use deadpool_postgres::Client;
use patrol_domain::stats::{CategoryRow, CorpStatus, Counters, Day, UserStatus};
use patrol_domain::{
    Action, ActionKind, CorpOrdersQuery, Family, GridView, ListQuery, ListedPage, Location, Media,
    NewOrder, OrderState, Position, ProcessType, Rejection, Resident, Step, Urgency,
};
use patrol_store::{SeedRun, StoreError};
use tokio_postgres::{Row, Transaction};

use crate::error::{Error, Result, conflict, not_found};
use crate::{Counter, PostgresStore, take};

fn json_array(items: &[String]) -> String {
    serde_json::to_string(items).expect("strings always serialize")
}

fn parse_array(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn small(value: i64) -> i16 {
    i16::try_from(value).expect("codes of the domain fit in a smallint")
}

/// A corp's grids, categories and users, loaded once for a batch of orders.
struct CorpDirectory {
    grids: HashMap<String, (i64, String, Vec<String>)>,
    categories: HashMap<String, (i64, String)>,
    users: HashSet<String>,
}

impl CorpDirectory {
    async fn load(tx: &Transaction<'_>, corp_key: i64) -> Result<CorpDirectory> {
        let mut grids = HashMap::new();
        for row in tx
            .query(
                "SELECT id, grid_id, name FROM grids WHERE corp_id = $1",
                &[&corp_key],
            )
            .await?
        {
            grids.insert(
                row.get::<_, String>(1),
                (row.get(0), row.get(2), Vec::new()),
            );
        }
        for row in tx
            .query(
                "SELECT g.grid_id, gu.userid FROM grid_users gu
                 JOIN grids g ON g.corp_id = gu.corp_id AND g.id = gu.grid_id
                 WHERE gu.corp_id = $1 AND gu.role = 'admin'
                 ORDER BY gu.grid_id, gu.position",
                &[&corp_key],
            )
            .await?
        {
            let grid_id: String = row.get(0);
            if let Some(grid) = grids.get_mut(&grid_id) {
                grid.2.push(row.get(1));
            }
        }
        let mut categories = HashMap::new();
        for row in tx
            .query(
                "SELECT id, category_id, name FROM categories WHERE corp_id = $1",
                &[&corp_key],
            )
            .await?
        {
            categories.insert(row.get::<_, String>(1), (row.get(0), row.get(2)));
        }
        let mut users = HashSet::new();
        for row in tx
            .query("SELECT userid FROM users WHERE corp_id = $1", &[&corp_key])
            .await?
        {
            users.insert(row.get::<_, String>(0));
        }
        Ok(CorpDirectory {
            grids,
            categories,
            users,
        })
    }
}

/// Writes a transaction's [`Counters`] (`patrol_domain::stats`) in it: one statement per table
/// and direction, whatever the number of counters (a batch of reported orders changes hundreds).
pub(crate) async fn write_counters(
    counters: Counters,
    tx: &Transaction<'_>,
    corp_key: i64,
) -> Result<()> {
    // Rising counters are upserted; a falling one is an update of a row that must be there.
    let (mut up, mut down) = (TallyRows::default(), TallyRows::default());
    for ((family, grid, category, stage, accepted), delta) in counters.tallies {
        let rows = if delta > 0 { &mut up } else { &mut down };
        if delta != 0 {
            rows.family.push(small(family));
            rows.grid.push(grid);
            rows.category.push(category);
            rows.stage.push(small(stage));
            rows.accepted.push(accepted);
            rows.delta.push(delta);
        }
    }
    if !up.delta.is_empty() {
        tx.execute(
            "INSERT INTO order_tallies AS t (corp_id, family, grid_id, category_id, stage,
                accepted, orders)
             SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::bigint[],
                $5::smallint[], $6::boolean[], $7::bigint[])
             ON CONFLICT (corp_id, family, grid_id, category_id, stage, accepted)
             DO UPDATE SET orders = t.orders + excluded.orders",
            &[
                &corp_key,
                &up.family,
                &up.grid,
                &up.category,
                &up.stage,
                &up.accepted,
                &up.delta,
            ],
        )
        .await?;
    }
    if !down.delta.is_empty() {
        let lowered = tx
            .execute(
                "UPDATE order_tallies AS t SET orders = t.orders + d.delta
                 FROM unnest($2::smallint[], $3::bigint[], $4::bigint[], $5::smallint[],
                    $6::boolean[], $7::bigint[])
                    AS d (family, grid_id, category_id, stage, accepted, delta)
                 WHERE t.corp_id = $1 AND t.family = d.family AND t.grid_id = d.grid_id
                    AND t.category_id = d.category_id AND t.stage = d.stage
                    AND t.accepted = d.accepted",
                &[
                    &corp_key,
                    &down.family,
                    &down.grid,
                    &down.category,
                    &down.stage,
                    &down.accepted,
                    &down.delta,
                ],
            )
            .await?;
        if lowered != down.delta.len() as u64 {
            return Err(missing(format!(
                "orders of some of grids {:?}, categories {:?}",
                down.grid, down.category
            )));
        }
    }

    let (mut up, mut down) = (UserRows::default(), UserRows::default());
    for ((family, userid, stage), delta) in counters.users {
        let rows = if delta > 0 { &mut up } else { &mut down };
        if delta != 0 {
            rows.family.push(small(family));
            rows.userid.push(userid);
            rows.stage.push(small(stage));
            rows.delta.push(delta);
        }
    }
    if !up.delta.is_empty() {
        tx.execute(
            "INSERT INTO user_tallies AS t (corp_id, family, userid, stage, orders)
             SELECT $1, * FROM unnest($2::smallint[], $3::text[], $4::smallint[], $5::bigint[])
             ON CONFLICT (corp_id, family, userid, stage)
             DO UPDATE SET orders = t.orders + excluded.orders",
            &[&corp_key, &up.family, &up.userid, &up.stage, &up.delta],
        )
        .await?;
    }
    if !down.delta.is_empty() {
        let lowered = tx
            .execute(
                "UPDATE user_tallies AS t SET orders = t.orders + d.delta
                 FROM unnest($2::smallint[], $3::text[], $4::smallint[], $5::bigint[])
                    AS d (family, userid, stage, delta)
                 WHERE t.corp_id = $1 AND t.family = d.family AND t.userid = d.userid
                    AND t.stage = d.stage",
                &[
                    &corp_key,
                    &down.family,
                    &down.userid,
                    &down.stage,
                    &down.delta,
                ],
            )
            .await?;
        if lowered != down.delta.len() as u64 {
            return Err(missing(format!("open orders of some of {:?}", down.userid)));
        }
    }

    let mut quarters = QuarterRows::default();
    for ((family, grid, quarter), (added, solved)) in counters.quarters {
        quarters.family.push(small(family));
        quarters.grid.push(grid);
        quarters.quarter.push(quarter);
        quarters.added.push(added);
        quarters.solved.push(solved);
    }
    if !quarters.quarter.is_empty() {
        tx.execute(
            "INSERT INTO order_quarters AS q (corp_id, family, grid_id, quarter, added, solved)
             SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::bigint[], $5::bigint[],
                $6::bigint[])
             ON CONFLICT (corp_id, family, grid_id, quarter)
             DO UPDATE SET added = q.added + excluded.added,
                solved = q.solved + excluded.solved",
            &[
                &corp_key,
                &quarters.family,
                &quarters.grid,
                &quarters.quarter,
                &quarters.added,
                &quarters.solved,
            ],
        )
        .await?;
    }
    Ok(())
}

/// Changes of `order_tallies`, a column each (for `unnest`).
#[derive(Default)]
struct TallyRows {
    family: Vec<i16>,
    grid: Vec<i64>,
    category: Vec<i64>,
    stage: Vec<i16>,
    accepted: Vec<bool>,
    delta: Vec<i64>,
}

/// Changes of `user_tallies`, a column each.
#[derive(Default)]
struct UserRows {
    family: Vec<i16>,
    userid: Vec<String>,
    stage: Vec<i16>,
    delta: Vec<i64>,
}

/// Changes of `order_quarters`, a column each.
#[derive(Default)]
struct QuarterRows {
    family: Vec<i16>,
    grid: Vec<i64>,
    quarter: Vec<i64>,
    added: Vec<i64>,
    solved: Vec<i64>,
}

/// A counter that a write would take below zero is missing: the database is corrupt.
fn missing(what: String) -> Error {
    StoreError::Corrupt(format!("no tally of {what}")).into()
}

/// Writes the processors of an open order (none of a closed one) for `get_user_status` and the
/// deletion of users, replacing those it had (`old`).
async fn write_processors(
    tx: &Transaction<'_>,
    corp_key: i64,
    order_seq: i64,
    old: &[String],
    state: &OrderState,
) -> Result<()> {
    if !old.is_empty() {
        tx.execute(
            "DELETE FROM order_processors
             WHERE corp_id = $1 AND family = $2 AND userid = ANY($3) AND order_seq = $4",
            &[&corp_key, &small(state.family().code()), &old, &order_seq],
        )
        .await?;
    }
    let mut rows = ProcessorRows::default();
    rows.add(order_seq, state);
    rows.insert(tx, corp_key).await
}

/// The processors of open orders, a column each (for `unnest`).
#[derive(Default)]
pub(crate) struct ProcessorRows {
    pub(crate) family: Vec<i16>,
    pub(crate) userid: Vec<String>,
    pub(crate) order_seq: Vec<i64>,
    pub(crate) stage: Vec<i16>,
}

impl ProcessorRows {
    pub(crate) fn add(&mut self, order_seq: i64, state: &OrderState) {
        if state.closed {
            return;
        }
        for userid in &state.processors {
            self.family.push(small(state.family().code()));
            self.userid.push(userid.clone());
            self.order_seq.push(order_seq);
            self.stage.push(small(state.stage().code()));
        }
    }

    pub(crate) async fn insert(self, tx: &Transaction<'_>, corp_key: i64) -> Result<()> {
        if self.userid.is_empty() {
            return Ok(());
        }
        tx.execute(
            "INSERT INTO order_processors (corp_id, family, userid, order_seq, stage)
             SELECT $1, * FROM unnest($2::smallint[], $3::text[], $4::bigint[], $5::smallint[])
             ON CONFLICT DO NOTHING",
            &[
                &corp_key,
                &self.family,
                &self.userid,
                &self.order_seq,
                &self.stage,
            ],
        )
        .await?;
        Ok(())
    }
}

/// The steps of orders, a column each (for `unnest`): one statement for any number of them.
#[derive(Default)]
pub(crate) struct StepRows {
    pub(crate) order_seq: Vec<i64>,
    pub(crate) position: Vec<i32>,
    pub(crate) process_type: Vec<i16>,
    pub(crate) actor: Vec<String>,
    pub(crate) acted_time: Vec<i64>,
    pub(crate) solve_userid: Vec<String>,
    pub(crate) process_desc: Vec<String>,
    pub(crate) status: Vec<i16>,
    pub(crate) solved_time: Vec<i64>,
    pub(crate) image_urls: Vec<String>,
    pub(crate) video_media_ids: Vec<String>,
}

impl StepRows {
    pub(crate) fn add(&mut self, order_seq: i64, state: &OrderState) {
        for (position, step) in state.steps.iter().enumerate() {
            self.order_seq.push(order_seq);
            self.position
                .push(i32::try_from(position).expect("at most MAX_STEPS steps"));
            self.process_type.push(small(step.process_type as i64));
            self.actor.push(step.actor.clone());
            self.acted_time.push(step.acted_time);
            self.solve_userid.push(step.solve_userid.clone());
            self.process_desc.push(step.process_desc.clone());
            self.status.push(small(step.status));
            self.solved_time.push(step.solved_time);
            self.image_urls.push(json_array(&step.media.image_urls));
            self.video_media_ids
                .push(json_array(&step.media.video_media_ids));
        }
    }

    pub(crate) async fn insert(self, tx: &Transaction<'_>, corp_key: i64) -> Result<()> {
        if self.order_seq.is_empty() {
            return Ok(());
        }
        tx.execute(
            "INSERT INTO steps (corp_id, order_seq, position, process_type, actor, acted_time,
                solve_userid, process_desc, status, solved_time, image_urls, video_media_ids)
             SELECT $1, * FROM unnest($2::bigint[], $3::integer[], $4::smallint[], $5::text[],
                $6::bigint[], $7::text[], $8::text[], $9::smallint[], $10::bigint[],
                $11::text[], $12::text[])",
            &[
                &corp_key,
                &self.order_seq,
                &self.position,
                &self.process_type,
                &self.actor,
                &self.acted_time,
                &self.solve_userid,
                &self.process_desc,
                &self.status,
                &self.solved_time,
                &self.image_urls,
                &self.video_media_ids,
            ],
        )
        .await?;
        Ok(())
    }
}

fn already_exists(order_id: &str) -> Error {
    Error::Store(StoreError::Conflict(format!(
        "order {order_id} already exists"
    )))
}

/// Orders to insert, a column each (for `unnest`): one statement for a whole batch.
#[derive(Default)]
pub(crate) struct OrderRows {
    pub(crate) seq: Vec<i64>,
    pub(crate) order_id: Vec<String>,
    pub(crate) family: Vec<i16>,
    pub(crate) description: Vec<String>,
    pub(crate) urge_type: Vec<i16>,
    pub(crate) category_id: Vec<Option<i64>>,
    pub(crate) case_name: Vec<String>,
    pub(crate) grid_id: Vec<i64>,
    pub(crate) grid_name: Vec<String>,
    pub(crate) reporter: Vec<String>,
    pub(crate) reporter_name: Vec<String>,
    pub(crate) reporter_mobile: Vec<String>,
    pub(crate) unionid: Vec<String>,
    pub(crate) location_name: Vec<String>,
    pub(crate) location_address: Vec<String>,
    pub(crate) latitude: Vec<f64>,
    pub(crate) longitude: Vec<f64>,
    pub(crate) image_urls: Vec<String>,
    pub(crate) video_media_ids: Vec<String>,
    pub(crate) processor_userids: Vec<String>,
    pub(crate) closed: Vec<bool>,
    pub(crate) stage: Vec<i16>,
    pub(crate) accepted: Vec<bool>,
    pub(crate) solved_time: Vec<Option<i64>>,
    pub(crate) solver: Vec<Option<String>>,
    pub(crate) create_time: Vec<i64>,
    pub(crate) modify_time: Vec<i64>,
    pub(crate) mod_seq: Vec<i64>,
    pub(crate) body: Vec<String>,
    pub(crate) served: Vec<Option<Vec<u8>>>,
}

impl OrderRows {
    fn add(
        &mut self,
        seq: i64,
        mod_seq: i64,
        state: &OrderState,
        grid_key: i64,
        category_key: Option<i64>,
    ) {
        let body = state.render();
        let resident = state.resident.clone().unwrap_or_default();
        let solved = state.solved();
        self.seq.push(seq);
        self.order_id.push(state.order_id.clone());
        self.family.push(small(state.family().code()));
        self.description.push(state.description.clone());
        self.urge_type.push(small(state.urgency as i64));
        self.category_id.push(category_key);
        self.case_name.push(state.case_name.clone());
        self.grid_id.push(grid_key);
        self.grid_name.push(state.grid_name.clone());
        self.reporter.push(state.reporter.clone());
        self.reporter_name.push(resident.name);
        self.reporter_mobile.push(resident.mobile);
        self.unionid.push(resident.unionid);
        self.location_name.push(state.location.name.clone());
        self.location_address.push(state.location.address.clone());
        self.latitude.push(state.location.latitude);
        self.longitude.push(state.location.longitude);
        self.image_urls.push(json_array(&state.media.image_urls));
        self.video_media_ids
            .push(json_array(&state.media.video_media_ids));
        self.processor_userids.push(json_array(&state.processors));
        self.closed.push(state.closed);
        self.stage.push(small(state.stage().code()));
        self.accepted.push(state.accepted());
        self.solved_time.push(solved.map(|(time, _)| time));
        self.solver
            .push(solved.map(|(_, solver)| solver.to_owned()));
        self.create_time.push(state.create_time);
        self.modify_time.push(state.last_time());
        self.mod_seq.push(mod_seq);
        self.served
            .push(Some(patrol_domain::media::served_offsets(body.as_bytes())));
        self.body.push(body);
    }

    pub(crate) async fn insert(self, tx: &Transaction<'_>, corp_key: i64) -> Result<()> {
        if self.seq.is_empty() {
            return Ok(());
        }
        tx.execute(
            "INSERT INTO orders (corp_id, seq, order_id, family, description, urge_type,
                category_id, case_name, grid_id, grid_name, reporter, reporter_name,
                reporter_mobile, unionid, location_name, location_address, latitude, longitude,
                image_urls, video_media_ids, processor_userids, closed, stage, accepted,
                solved_time, solver, create_time, modify_time, mod_seq, body, served)
             SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::smallint[], $5::text[],
                $6::smallint[], $7::bigint[], $8::text[], $9::bigint[], $10::text[],
                $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
                $17::double precision[], $18::double precision[], $19::text[], $20::text[],
                $21::text[], $22::boolean[], $23::smallint[], $24::boolean[], $25::bigint[],
                $26::text[], $27::bigint[], $28::bigint[], $29::bigint[], $30::text[],
                $31::bytea[])",
            &[
                &corp_key,
                &self.seq,
                &self.order_id,
                &self.family,
                &self.description,
                &self.urge_type,
                &self.category_id,
                &self.case_name,
                &self.grid_id,
                &self.grid_name,
                &self.reporter,
                &self.reporter_name,
                &self.reporter_mobile,
                &self.unionid,
                &self.location_name,
                &self.location_address,
                &self.latitude,
                &self.longitude,
                &self.image_urls,
                &self.video_media_ids,
                &self.processor_userids,
                &self.closed,
                &self.stage,
                &self.accepted,
                &self.solved_time,
                &self.solver,
                &self.create_time,
                &self.modify_time,
                &self.mod_seq,
                &self.body,
                &self.served,
            ],
        )
        .await
        .map_err(conflict(|| "an order of the batch".to_owned()))?;
        Ok(())
    }
}

/// Reports orders in the transaction of the write: see [`patrol_store::OrderStore::insert_orders`].
pub(crate) async fn insert_orders_tx(
    tx: &Transaction<'_>,
    corp_key: i64,
    orders: Vec<NewOrder>,
) -> Result<()> {
    let directory = CorpDirectory::load(tx, corp_key).await?;
    // The values of both sequences for the whole batch, taken at once under the corp's lock.
    let n = i64::try_from(orders.len()).unwrap_or(i64::MAX);
    let mut mod_seq = take(tx, corp_key, Counter::Modification, n).await? - 1;
    let mut order_seq = take(tx, corp_key, Counter::Order, n).await? - 1;
    let mut counters = Counters::default();
    let (mut rows, mut steps, mut processors) = (
        OrderRows::default(),
        StepRows::default(),
        ProcessorRows::default(),
    );
    let mut batch = HashSet::new();
    for order in orders {
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
        if !batch.insert(state.order_id.clone()) {
            return Err(already_exists(&state.order_id));
        }
        mod_seq += 1;
        order_seq += 1;
        rows.add(order_seq, mod_seq, &state, *grid_key, category_key);
        steps.add(order_seq, &state);
        processors.add(order_seq, &state);
        counters.count(&state, *grid_key, category_key, 1);
        counters.reported(&state, *grid_key);
    }
    // An order id the corp has already: named, as one statement for the batch cannot.
    let taken = tx
        .query_opt(
            "SELECT order_id FROM orders WHERE corp_id = $1 AND order_id = ANY($2) LIMIT 1",
            &[&corp_key, &rows.order_id],
        )
        .await?;
    if let Some(taken) = taken {
        return Err(already_exists(&taken.get::<_, String>(0)));
    }
    rows.insert(tx, corp_key).await?;
    steps.insert(tx, corp_key).await?;
    processors.insert(tx, corp_key).await?;
    write_counters(counters, tx, corp_key).await?;
    Ok(())
}

/// A stored order: its keys, its state and its stored wire JSON.
struct Loaded {
    seq: i64,
    grid_key: i64,
    category_key: Option<i64>,
    state: OrderState,
    body: String,
}

fn state_from_row(order_id: &str, r: &Row) -> OrderState {
    let resident = match Family::from_code(i64::from(r.get::<_, i16>("family"))) {
        Some(Family::Resident) => Some(Resident {
            name: r.get("reporter_name"),
            mobile: r.get("reporter_mobile"),
            unionid: r.get("unionid"),
        }),
        _ => None,
    };
    OrderState {
        order_id: order_id.to_owned(),
        description: r.get("description"),
        urgency: Urgency::from_wire(i64::from(r.get::<_, i16>("urge_type")))
            .unwrap_or(Urgency::Normal),
        case_name: r.get("case_name"),
        grid_name: r.get("grid_name"),
        reporter: r.get("reporter"),
        location: Location {
            name: r.get("location_name"),
            address: r.get("location_address"),
            latitude: r.get("latitude"),
            longitude: r.get("longitude"),
        },
        media: Media {
            image_urls: parse_array(r.get("image_urls")),
            video_media_ids: parse_array(r.get("video_media_ids")),
        },
        processors: parse_array(r.get("processor_userids")),
        closed: r.get("closed"),
        create_time: r.get("create_time"),
        grid_id: r.get("grid_code"),
        steps: Vec::new(),
        resident,
    }
}

async fn load_order(tx: &Transaction<'_>, corp_key: i64, order_id: &str) -> Result<Loaded> {
    let row = tx
        .query_opt(
            "SELECT o.seq, o.grid_id, o.category_id, o.family, o.description, o.urge_type,
                    o.case_name, o.grid_name, o.reporter, o.reporter_name, o.reporter_mobile,
                    o.unionid, o.location_name, o.location_address, o.latitude, o.longitude,
                    o.image_urls, o.video_media_ids, o.processor_userids, o.closed,
                    o.create_time, o.body, g.grid_id AS grid_code
             FROM orders o JOIN grids g ON g.corp_id = o.corp_id AND g.id = o.grid_id
             WHERE o.corp_id = $1 AND o.order_id = $2",
            &[&corp_key, &order_id],
        )
        .await?
        .ok_or_else(|| not_found(format!("order {order_id}")))?;
    let mut loaded = Loaded {
        seq: row.get("seq"),
        grid_key: row.get("grid_id"),
        category_key: row.get("category_id"),
        state: state_from_row(order_id, &row),
        body: row.get("body"),
    };
    for r in tx
        .query(
            "SELECT process_type, actor, acted_time, solve_userid, process_desc, status,
                    solved_time, image_urls, video_media_ids
             FROM steps WHERE corp_id = $1 AND order_seq = $2 ORDER BY position",
            &[&corp_key, &loaded.seq],
        )
        .await?
    {
        loaded.state.steps.push(Step {
            process_type: ProcessType::from_wire(i64::from(r.get::<_, i16>(0)))
                .unwrap_or(ProcessType::Create),
            actor: r.get(1),
            acted_time: r.get(2),
            solve_userid: r.get(3),
            process_desc: r.get(4),
            status: i64::from(r.get::<_, i16>(5)),
            solved_time: r.get(6),
            media: Media {
                image_urls: parse_array(r.get(7)),
                video_media_ids: parse_array(r.get(8)),
            },
        });
    }
    Ok(loaded)
}

async fn act_on_order_tx(
    tx: &Transaction<'_>,
    corp_key: i64,
    order_id: &str,
    action: Action,
) -> Result<String> {
    let Loaded {
        seq,
        grid_key,
        category_key,
        state,
        body: old_body,
    } = load_order(tx, corp_key, order_id).await?;
    let mut counters = Counters::default();
    counters.count(&state, grid_key, category_key, -1);
    let before = state.clone();
    let old_processors = if state.closed {
        Vec::new()
    } else {
        state.processors.clone()
    };
    let admins: Vec<String> = tx
        .query(
            "SELECT userid FROM grid_users
             WHERE corp_id = $1 AND grid_id = $2 AND role = 'admin' ORDER BY position",
            &[&corp_key, &grid_key],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut named = vec![action.actor.clone()];
    if let ActionKind::Assign(users) | ActionKind::Transfer(users) = &action.kind {
        named.extend(users.iter().cloned());
    }
    named.retain(|userid| !userid.contains('\0'));
    let known: HashSet<String> = tx
        .query(
            "SELECT userid FROM users WHERE corp_id = $1 AND userid = ANY($2)",
            &[&corp_key, &named],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let acted = state.act(&old_body, &action, &admins, |u| known.contains(u))?;
    let (state, body) = (acted.state, acted.body);
    if !acted.changed {
        return Ok(body);
    }
    let mod_seq = take(tx, corp_key, Counter::Modification, 1).await?;
    let solved = state.solved();
    tx.execute(
        "UPDATE orders SET processor_userids = $1, closed = $2, modify_time = $3, mod_seq = $4,
            body = $5, served = $6, stage = $7, accepted = $8, solved_time = $9, solver = $10
         WHERE corp_id = $11 AND seq = $12",
        &[
            &json_array(&state.processors),
            &state.closed,
            &action.time,
            &mod_seq,
            &body,
            &patrol_domain::media::served_offsets(body.as_bytes()),
            &small(state.stage().code()),
            &state.accepted(),
            &solved.map(|(time, _)| time),
            &solved.map(|(_, solver)| solver),
            &corp_key,
            &seq,
        ],
    )
    .await?;
    tx.execute(
        "DELETE FROM steps WHERE corp_id = $1 AND order_seq = $2",
        &[&corp_key, &seq],
    )
    .await?;
    let mut steps = StepRows::default();
    steps.add(seq, &state);
    steps.insert(tx, corp_key).await?;
    write_processors(tx, corp_key, seq, &old_processors, &state).await?;
    counters.count(&state, grid_key, category_key, 1);
    counters.newly_solved(&before, &state, grid_key);
    write_counters(counters, tx, corp_key).await?;
    Ok(body)
}

/// Appends an order's body to a page, its served image URLs made absolute under `public_url`:
/// spliced at the stored offsets, or found by a scan when the order has none stored.
fn push_body(
    page: &mut ListedPage,
    position: Position,
    stored: &str,
    served: Option<&[u8]>,
    limit: usize,
    public_url: Option<&str>,
) {
    if page.orders.len() == limit {
        page.more = true;
        return;
    }
    if !page.orders.is_empty() {
        page.json.push(b',');
    }
    let start = page.json.len();
    let stored = stored.as_bytes();
    match public_url {
        None => page.json.extend_from_slice(stored),
        Some(public_url) => match served {
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
}

/// A page of `get_order_list`, read on `client` (a replica's or the primary's).
async fn list_orders_on(client: &Client, corp_key: i64, query: &ListQuery) -> Result<ListedPage> {
    let limit = query.limit as usize;
    let public_url = query.public_url.as_deref();
    // One more row than the page tells whether more follow.
    let fetch = i64::from(query.limit) + 1;
    let family = small(query.family.code());
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
        let rows = client
            .query(
                &client
                    .prepare_cached(
                        "SELECT mod_seq, body, served FROM orders
                     WHERE corp_id = $1 AND family = $2 AND mod_seq > $3 AND modify_time >= $4
                        AND create_time >= $5
                     ORDER BY mod_seq LIMIT $6",
                    )
                    .await?,
                &[
                    &corp_key,
                    &family,
                    &after,
                    &query.begin_modify_time,
                    &query.begin_create_time,
                    &fetch,
                ],
            )
            .await?;
        for row in &rows {
            let position = Position::Modified {
                mod_seq: row.get(0),
            };
            push_body(
                &mut page,
                position,
                row.get(1),
                row.get(2),
                limit,
                public_url,
            );
        }
    } else {
        let rows = match query.after {
            None => {
                client
                    .query(
                        &client
                            .prepare_cached(
                                "SELECT create_time, seq, body, served FROM orders
                             WHERE corp_id = $1 AND family = $2 AND create_time >= $3
                             ORDER BY create_time, seq LIMIT $4",
                            )
                            .await?,
                        &[&corp_key, &family, &query.begin_create_time, &fetch],
                    )
                    .await?
            }
            Some(Position::Created { create_time, seq }) => {
                client
                    .query(
                        &client
                            .prepare_cached(
                                "SELECT create_time, seq, body, served FROM orders
                             WHERE corp_id = $1 AND family = $2 AND (create_time, seq) > ($3, $4)
                             ORDER BY create_time, seq LIMIT $5",
                            )
                            .await?,
                        &[
                            &corp_key,
                            &family,
                            &create_time.max(query.begin_create_time),
                            &seq,
                            &fetch,
                        ],
                    )
                    .await?
            }
            Some(other) => {
                return Err(Rejection::Invalid(format!(
                    "position {other:?} does not belong to a create-ordered walk"
                ))
                .into());
            }
        };
        for row in &rows {
            let position = Position::Created {
                create_time: row.get(0),
                seq: row.get(1),
            };
            push_body(
                &mut page,
                position,
                row.get(2),
                row.get(3),
                limit,
                public_url,
            );
        }
    }
    Ok(page)
}

/// The statement and parameters of one page of the administration API's list of a corp's
/// orders (`OrderStore::list_corp_orders`): newest first, each filter a condition only when
/// given, so that the planner reads the index of the most selective one in its order
/// (`orders_by_grid_create`, `orders_by_category`, else `orders_by_corp_create`; migration 4).
type Parameter = Box<dyn tokio_postgres::types::ToSql + Sync + Send>;

fn corp_orders_statement(
    corp_key: i64,
    query: &CorpOrdersQuery,
) -> Result<(String, Vec<Parameter>)> {
    let filter = &query.filter;
    let mut sql =
        String::from("SELECT create_time, seq, body, served FROM orders WHERE corp_id = $1");
    let mut values: Vec<Parameter> = vec![Box::new(corp_key)];
    let mut bind = |sql: &mut String, condition: &str, value: Parameter| {
        values.push(value);
        sql.push_str(&condition.replace("{}", &format!("${}", values.len())));
    };
    if let Some(grid) = &filter.grid {
        bind(
            &mut sql,
            " AND grid_id = (SELECT id FROM grids WHERE corp_id = $1 AND grid_id = {})",
            Box::new(grid.clone()),
        );
    }
    if let Some(category) = &filter.category {
        bind(
            &mut sql,
            " AND category_id = (SELECT id FROM categories WHERE corp_id = $1 AND category_id = {})",
            Box::new(category.clone()),
        );
    }
    if let Some(urgency) = filter.urgency {
        bind(
            &mut sql,
            " AND urge_type = {}",
            Box::new(small(urgency as i64)),
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
        bind(&mut sql, " AND create_time >= {}", Box::new(since));
    }
    if let Some(until) = filter.until {
        bind(&mut sql, " AND create_time < {}", Box::new(until));
    }
    match query.after {
        None => {}
        Some(Position::Created { create_time, seq }) => {
            bind(
                &mut sql,
                " AND (create_time, seq) < ({}",
                Box::new(create_time),
            );
            bind(&mut sql, ", {})", Box::new(seq));
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
        " ORDER BY create_time DESC, seq DESC LIMIT {}",
        Box::new(i64::from(query.limit) + 1),
    );
    Ok((sql, values))
}

async fn list_corp_orders_on(
    client: &Client,
    query: &CorpOrdersQuery,
    sql: &str,
    values: &[Parameter],
) -> Result<ListedPage> {
    let limit = query.limit as usize;
    let public_url = query.public_url.as_deref();
    let parameters: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values
        .iter()
        .map(|value| {
            let value: &(dyn tokio_postgres::types::ToSql + Sync) = value.as_ref();
            value
        })
        .collect();
    let rows = client
        .query(&client.prepare_cached(sql).await?, &parameters)
        .await?;
    let mut page = ListedPage {
        json: Vec::with_capacity(limit * 1600),
        orders: Vec::with_capacity(limit),
        more: false,
    };
    for row in &rows {
        let position = Position::Created {
            create_time: row.get(0),
            seq: row.get(1),
        };
        push_body(
            &mut page,
            position,
            row.get(2),
            row.get(3),
            limit,
            public_url,
        );
    }
    Ok(page)
}

#[async_trait::async_trait]
impl patrol_store::OrderStore for PostgresStore {
    #[tracing::instrument(skip_all, fields(corp_key, order_id = %order.order_id))]
    async fn report_order(&self, corp_key: i64, order: NewOrder) -> patrol_store::Result<String> {
        self.write(Some(corp_key), move |tx| {
            Box::pin(async move {
                let order_id = order.order_id.clone().into_string();
                insert_orders_tx(tx, corp_key, vec![order]).await?;
                Ok(tx
                    .query_one(
                        "SELECT body FROM orders WHERE corp_id = $1 AND order_id = $2",
                        &[&corp_key, &order_id],
                    )
                    .await?
                    .get(0))
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(corp_key, count = orders.len()))]
    async fn insert_orders(
        &self,
        corp_key: i64,
        orders: Vec<NewOrder>,
    ) -> patrol_store::Result<()> {
        self.write(Some(corp_key), move |tx| {
            Box::pin(insert_orders_tx(tx, corp_key, orders))
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(corp_key, order_id))]
    async fn act_on_order(
        &self,
        corp_key: i64,
        order_id: &str,
        action: Action,
    ) -> patrol_store::Result<String> {
        if order_id.contains('\0') {
            return Err(StoreError::NotFound(format!("order {order_id}")));
        }
        let order_id = order_id.to_owned();
        self.write(Some(corp_key), move |tx| {
            Box::pin(async move { act_on_order_tx(tx, corp_key, &order_id, action).await })
        })
        .await
    }

    async fn list_orders(
        &self,
        corp_key: i64,
        query: ListQuery,
    ) -> patrol_store::Result<ListedPage> {
        let query = &query;
        Ok(self
            .lagging_read(|client| async move { list_orders_on(&client, corp_key, query).await })
            .await?)
    }

    async fn list_corp_orders(
        &self,
        corp_key: i64,
        query: CorpOrdersQuery,
    ) -> patrol_store::Result<ListedPage> {
        let filter = &query.filter;
        if [&filter.grid, &filter.category]
            .into_iter()
            .flatten()
            .any(|id| id.contains('\0'))
        {
            // No id holds a NUL (PostgreSQL refuses one as a parameter): nothing matches.
            return Ok(ListedPage::default());
        }
        let (sql, values) = corp_orders_statement(corp_key, &query)?;
        let (query, sql, values) = (&query, sql.as_str(), values.as_slice());
        // On the primary: an administrator sees what was just reported or deleted.
        Ok(self
            .primary_read(
                |client| async move { list_corp_orders_on(&client, query, sql, values).await },
            )
            .await?)
    }

    async fn order_body(
        &self,
        corp_key: i64,
        family: Option<Family>,
        order_id: &str,
    ) -> patrol_store::Result<Option<Vec<u8>>> {
        if order_id.contains('\0') {
            return Ok(None);
        }
        let family = &family.map(|family| small(family.code()));
        let row = self
            .lagging_read(|client| async move {
                Ok(client
                    .query_opt(
                        &client
                            .prepare_cached(
                                "SELECT body FROM orders
                         WHERE corp_id = $1 AND order_id = $2
                            AND ($3::smallint IS NULL OR family = $3)",
                            )
                            .await?,
                        &[&corp_key, &order_id, family],
                    )
                    .await?)
            })
            .await?;
        Ok(row.map(|row| row.get::<_, String>(0).into_bytes()))
    }

    async fn corp_status(
        &self,
        corp_key: i64,
        family: Family,
        grid_id: Option<&str>,
        today: Day,
    ) -> patrol_store::Result<Option<CorpStatus>> {
        Ok(self
            .lagging_read(|client| async move {
                crate::stats::corp_status_on(&client, corp_key, family, grid_id, today).await
            })
            .await?)
    }

    async fn user_status(
        &self,
        corp_key: i64,
        family: Family,
        userid: &str,
        today: Day,
    ) -> patrol_store::Result<Option<UserStatus>> {
        Ok(self
            .lagging_read(|client| async move {
                crate::stats::user_status_on(&client, corp_key, family, userid, today).await
            })
            .await?)
    }

    async fn category_statistic(
        &self,
        corp_key: i64,
        family: Family,
        category_id: Option<&str>,
    ) -> patrol_store::Result<Option<Vec<CategoryRow>>> {
        if category_id.is_some_and(|id| id.contains('\0')) {
            return Ok(None);
        }
        Ok(self
            .lagging_read(|client| async move {
                crate::stats::category_statistic_on(&client, corp_key, family, category_id).await
            })
            .await?)
    }

    async fn begin_seed_run(&self, corp_key: i64, run: SeedRun) -> patrol_store::Result<SeedRun> {
        self.write(Some(corp_key), move |tx| {
            Box::pin(crate::seeds::begin_seed_run(tx, corp_key, run))
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(corp_key, seed, from, count = orders.len()))]
    async fn insert_seed_batch(
        &self,
        corp_key: i64,
        seed: u64,
        from: u64,
        orders: Vec<NewOrder>,
    ) -> patrol_store::Result<()> {
        self.write(Some(corp_key), move |tx| {
            Box::pin(crate::seeds::insert_seed_batch(
                tx, corp_key, seed, from, orders,
            ))
        })
        .await
    }
}
