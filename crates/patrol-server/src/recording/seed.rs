//! A recording turned into seed data: one corp built from the answers it holds, as the records
//! of `patrol_store::transfer` (what snapshots and `patrol migrate` carry), written into a
//! temporary SQLite database ([`SeedDatabase`]) from which the snapshot writer saves it
//! (`crate::snapshot::save`): the one snapshot format, loaded by `patrol snapshot load` and
//! `patrol serve --snapshot`.
//!
//! What is taken from which answer (successful ones, errcode 0):
//!
//! - the corp: the `corpid` of the recorded gettoken calls (one corp per recording: its tokens
//!   are redacted, so calls of two corps cannot be told apart);
//! - grids: `report/grid/list` (names, parents, admins, members: all its answers, the top's and
//!   each grid's), else `report/{patrol,resident}/get_grid_info` (names, admins), else an
//!   order's grid (its name); a grid whose parent no answer names is put at the top;
//! - categories: `report/grid/list_cata`;
//! - orders: every order of `get_order_list` and `get_order_info` answers, the last answer of
//!   each order winning; its stored body is the order's JSON exactly as answered, so a patrol
//!   serving the seed answers `get_order_info` with the recorded bytes;
//! - users: every userid the grids and orders name (their names are not in any answer: a user
//!   is named by its userid);
//! - media: every `media/get` answer that holds a whole file (HTTP 200, or a 206 of all of
//!   it), under its media id, never expiring; its type is video when an order names it as one,
//!   else told by its content type;
//! - one custom app, with the agentid and secret the caller gives, on all three lists.
//!
//! What cannot be reproduced: media never fetched whole, images (orders keep the upstream's
//! URLs), the corp's name, other apps, user names, and of each step of an order who acted and
//! when, where the wire shows no one (an open in-progress step): the statistics that depend on
//! them may differ.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use patrol_domain::media::MediaType;
use patrol_domain::{Family, ProcessType};
use patrol_media::BlobStore;
use patrol_media::FsBlobStore;
use patrol_store::Store;
use patrol_store::transfer::{
    AppRecord, CategoryRecord, CorpRecord, GridRecord, MediaRecord, OrderRecord, OrderSpan,
    RECORD_VERSION, StepRecord, UserRecord,
};
use patrol_wire::grid::{ListCategoryResponse, ListGridResponse};
use patrol_wire::patrol::{GetGridInfoResponse, Order};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{GETTOKEN_PATH, Recording, RecordingError};

/// What the caller gives that no recording holds.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// The corp, when the recording holds no gettoken call (else it must be that corp).
    pub corpid: Option<String>,
    /// The app the seed's clients call with: its agentid…
    pub agentid: i64,
    /// …and its secret.
    pub secret: String,
}

/// The seed data of a recording.
#[derive(Debug, Clone)]
pub struct Seed {
    pub corp: CorpRecord,
    /// In creation order.
    pub orders: Vec<OrderRecord>,
    /// The bytes of each medium of `corp.media`, in its order.
    pub media_bytes: Vec<Vec<u8>>,
}

/// A medium whose whole bytes a `media/get` answer holds.
struct Medium {
    media_id: String,
    bytes: Vec<u8>,
    content_type: String,
    file_name: String,
}

/// The medium of a recorded `media/get` answer, when it holds the whole file: HTTP 200, or 206
/// with a range from the first byte to the last.
fn medium_of(exchange: &super::Exchange) -> Option<Medium> {
    let media_id = crate::extract::query_value(exchange.query.as_deref(), "media_id")?;
    let header = |name: &str| {
        exchange
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };
    let content_type = header("content-type")?;
    if content_type.starts_with("application/json") || exchange.answer.cut {
        return None;
    }
    let bytes = exchange.answer.bytes()?;
    let whole = match exchange.status {
        200 => true,
        206 => header("content-range").is_some_and(|range| {
            range == format!("bytes 0-{}/{}", bytes.len().saturating_sub(1), bytes.len())
        }),
        _ => false,
    };
    if !whole || bytes.is_empty() {
        return None;
    }
    let file_name = header("content-disposition")
        .and_then(|value| value.split("filename=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .filter(|name| !name.is_empty())
        .map_or_else(|| media_id.clone(), str::to_owned);
    Some(Medium {
        media_id,
        bytes,
        content_type: content_type.to_owned(),
        file_name,
    })
}

/// An order answered, as found.
struct Found {
    family: Family,
    body: String,
    order: Order,
    /// The exchange's index of its first appearance (the tie-break of the creation order).
    first: usize,
}

#[derive(Deserialize)]
struct ListAnswer<'a> {
    #[serde(default)]
    errcode: i64,
    #[serde(borrow, default)]
    order_list: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct InfoAnswer<'a> {
    #[serde(default)]
    errcode: i64,
    #[serde(borrow)]
    order_info: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Errcode {
    #[serde(default)]
    errcode: i64,
}

/// The family of a report path, and the endpoint's name.
fn report_endpoint(path: &str) -> Option<(Family, &str)> {
    let rest = path.strip_prefix("/cgi-bin/report/")?;
    let (family, endpoint) = rest.split_once('/')?;
    let family = match family {
        "patrol" => Family::Patrol,
        "resident" => Family::Resident,
        _ => return None,
    };
    Some((family, endpoint))
}

/// Builds the seed data of a recording.
pub fn seed(recording: &Recording, options: &SeedOptions) -> Result<Seed, RecordingError> {
    let corpid = corp_of(recording, options)?;
    let mut grid_list: Vec<ListGridResponse> = Vec::new();
    let mut grid_info: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let mut categories: Option<ListCategoryResponse> = None;
    let mut orders: HashMap<String, Found> = HashMap::new();
    let mut media: BTreeMap<String, Medium> = BTreeMap::new();
    for (index, exchange) in recording.exchanges.iter().enumerate() {
        if exchange.path == "/cgi-bin/media/get"
            && let Some(medium) = medium_of(exchange)
        {
            media.insert(medium.media_id.clone(), medium);
            continue;
        }
        if exchange.status != 200 {
            continue;
        }
        let Some(text) = exchange.answer.text.as_deref() else {
            continue;
        };
        if serde_json::from_str::<Errcode>(text).map_or(true, |e| e.errcode != 0) {
            continue;
        }
        let invalid = |what: &str, error: serde_json::Error| {
            RecordingError::Refused(format!(
                "exchange {} ({} {}) is no {what}: {error}",
                exchange.seq, exchange.method, exchange.path
            ))
        };
        let mut found = |family: Family, raw: &RawValue| -> Result<(), RecordingError> {
            let order: Order = serde_json::from_str(raw.get()).map_err(|e| invalid("order", e))?;
            let first = orders.get(&order.order_id).map_or(index, |f| f.first);
            orders.insert(
                order.order_id.clone(),
                Found {
                    family,
                    body: raw.get().to_owned(),
                    order,
                    first,
                },
            );
            Ok(())
        };
        match exchange.path.as_str() {
            "/cgi-bin/report/grid/list" => {
                grid_list.push(serde_json::from_str(text).map_err(|e| invalid("grid list", e))?);
            }
            "/cgi-bin/report/grid/list_cata" => {
                categories =
                    Some(serde_json::from_str(text).map_err(|e| invalid("category list", e))?);
            }
            path => match report_endpoint(path) {
                Some((family, "get_order_list")) => {
                    let answer: ListAnswer<'_> =
                        serde_json::from_str(text).map_err(|e| invalid("order list", e))?;
                    if answer.errcode == 0 {
                        for raw in answer.order_list {
                            found(family, raw)?;
                        }
                    }
                }
                Some((family, "get_order_info")) => {
                    let answer: InfoAnswer<'_> =
                        serde_json::from_str(text).map_err(|e| invalid("order", e))?;
                    if let (0, Some(raw)) = (answer.errcode, answer.order_info) {
                        found(family, raw)?;
                    }
                }
                Some((_, "get_grid_info")) => {
                    let answer: GetGridInfoResponse =
                        serde_json::from_str(text).map_err(|e| invalid("grid info", e))?;
                    for grid in answer.grid_list {
                        grid_info.insert(grid.grid_id, (grid.grid_name, grid.grid_admin));
                    }
                }
                _ => {}
            },
        }
    }

    let mut found: Vec<Found> = orders.into_values().collect();
    found.sort_by_key(|f| (f.order.create_time, f.first));

    // Grids: grid/list, else get_grid_info, else the orders' own.
    let mut grids: BTreeMap<String, GridRecord> = BTreeMap::new();
    let mut listed_order = Vec::new();
    // Every grid/list answer (the top, or one grid and its children), the last word on a grid
    // winning.
    for list in grid_list {
        for grid in list.grid_list {
            if !grids.contains_key(&grid.grid_id) {
                listed_order.push(grid.grid_id.clone());
            }
            grids.insert(
                grid.grid_id.clone(),
                GridRecord {
                    grid_id: grid.grid_id,
                    parent: (!grid.grid_parent_id.is_empty()).then_some(grid.grid_parent_id),
                    name: grid.grid_name,
                    admins: grid.grid_admin,
                    members: grid.grid_member,
                },
            );
        }
    }
    for (grid_id, (name, admins)) in grid_info {
        if !grids.contains_key(&grid_id) {
            listed_order.push(grid_id.clone());
            grids.insert(
                grid_id.clone(),
                GridRecord {
                    grid_id,
                    parent: None,
                    name,
                    admins,
                    members: Vec::new(),
                },
            );
        }
    }
    for f in &found {
        if !grids.contains_key(&f.order.grid_id) {
            listed_order.push(f.order.grid_id.clone());
            grids.insert(
                f.order.grid_id.clone(),
                GridRecord {
                    grid_id: f.order.grid_id.clone(),
                    parent: None,
                    name: f.order.grid_name.clone(),
                    admins: Vec::new(),
                    members: Vec::new(),
                },
            );
        }
    }
    // A parent unknown to the recording: the grid is put at the top.
    let known: BTreeSet<String> = grids.keys().cloned().collect();
    for grid in grids.values_mut() {
        if grid.parent.as_ref().is_some_and(|p| !known.contains(p)) {
            grid.parent = None;
        }
    }
    let grids = parents_first(listed_order, grids);

    // Categories, level 1 first.
    let mut category_records: Vec<CategoryRecord> = categories
        .map(|list| {
            list.category_list
                .into_iter()
                .map(|c| CategoryRecord {
                    category_id: c.category_id,
                    parent: (!c.parent_category_id.is_empty()).then_some(c.parent_category_id),
                    level: c.level,
                    name: c.category_name,
                })
                .collect()
        })
        .unwrap_or_default();
    category_records.sort_by_key(|c| c.level);
    // An order's category is the one named as its case, when exactly one is.
    let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
    for category in &category_records {
        by_name
            .entry(category.name.as_str())
            .or_default()
            .push(category.category_id.as_str());
    }

    // Orders, in creation order; the modification sequence in the order of their last change.
    let mut records: Vec<OrderRecord> = Vec::with_capacity(found.len());
    for (index, f) in found.iter().enumerate() {
        let category_id = match by_name.get(f.order.case_name.as_str()).map(Vec::as_slice) {
            Some([one]) => Some((*one).to_owned()),
            _ => None,
        };
        records.push(order_record(
            f,
            i64::try_from(index).unwrap_or(i64::MAX) + 1,
            category_id,
        ));
    }
    let mut by_change: Vec<usize> = (0..records.len()).collect();
    by_change.sort_by_key(|&i| (records[i].modify_time, records[i].seq));
    for (rank, &i) in by_change.iter().enumerate() {
        records[i].mod_seq = i64::try_from(rank).unwrap_or(i64::MAX) + 1;
    }

    // Users: every userid named.
    let mut userids: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut add = |userid: &str| {
        if !userid.is_empty() && seen.insert(userid.to_owned()) {
            userids.push(userid.to_owned());
        }
    };
    for grid in &grids {
        grid.admins.iter().chain(&grid.members).for_each(|u| add(u));
    }
    for order in &records {
        if Family::from_code(order.family) == Some(Family::Patrol) {
            add(&order.reporter);
        }
        order.processor_userids.iter().for_each(|u| add(u));
        for step in &order.steps {
            add(&step.actor);
            add(&step.solve_userid);
        }
    }

    let created_at = recording.header.created_unix();
    let videos: BTreeSet<&str> = records
        .iter()
        .flat_map(|order| {
            order
                .video_media_ids
                .iter()
                .chain(order.steps.iter().flat_map(|step| &step.video_media_ids))
        })
        .map(String::as_str)
        .collect();
    let mut media_records = Vec::with_capacity(media.len());
    let mut media_bytes = Vec::with_capacity(media.len());
    for medium in media.into_values() {
        let media_type = if videos.contains(medium.media_id.as_str()) {
            MediaType::Video
        } else if medium.content_type.starts_with("image/") {
            MediaType::Image
        } else if medium.content_type.starts_with("video/") {
            MediaType::Video
        } else if medium.content_type.starts_with("audio/") {
            MediaType::Voice
        } else {
            MediaType::File
        };
        media_records.push(MediaRecord {
            media_type: media_type.name().to_owned(),
            blob: *blake3::hash(&medium.bytes).as_bytes(),
            size: i64::try_from(medium.bytes.len()).unwrap_or(i64::MAX),
            file_name: medium.file_name,
            content_type: medium.content_type,
            created_at,
            expires_at: None,
            media_id: medium.media_id,
        });
        media_bytes.push(medium.bytes);
    }
    let count = records.len() as u64;
    let corp = CorpRecord {
        version: RECORD_VERSION,
        key: 1,
        corpid: corpid.clone(),
        name: format!("recorded {corpid}"),
        created_at,
        mod_seq: i64::try_from(count).unwrap_or(i64::MAX),
        apps: vec![AppRecord {
            agentid: options.agentid,
            name: "recorded".to_owned(),
            kind: patrol_domain::AppKind::Custom.as_str().to_owned(),
            patrol_enabled: true,
            resident_enabled: true,
            contact_enabled: true,
            enabled: true,
            secret_hash: patrol_store::credentials::secret_hash(&options.secret).to_vec(),
            created_at,
        }],
        tokens: Vec::new(),
        users: userids
            .into_iter()
            .map(|userid| UserRecord {
                name: userid.clone(),
                userid,
            })
            .collect(),
        grids,
        categories: category_records,
        seed_runs: Vec::new(),
        media: media_records,
        orders: OrderSpan {
            count,
            first_seq: i64::from(count > 0),
            last_seq: i64::try_from(count).unwrap_or(i64::MAX),
        },
    };
    Ok(Seed {
        corp,
        orders: records,
        media_bytes,
    })
}

/// The one corp of the recording's gettoken calls (or the one given).
fn corp_of(recording: &Recording, options: &SeedOptions) -> Result<String, RecordingError> {
    let mut corps = BTreeSet::new();
    for exchange in &recording.exchanges {
        if exchange.path != GETTOKEN_PATH {
            continue;
        }
        let corpid = exchange.query.as_deref().and_then(|query| {
            form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == "corpid")
                .map(|(_, value)| value.into_owned())
        });
        if let Some(corpid) = corpid.filter(|c| !c.is_empty()) {
            corps.insert(corpid);
        }
    }
    match (corps.len(), &options.corpid) {
        (0, Some(corpid)) => Ok(corpid.clone()),
        (0, None) => Err(RecordingError::Refused(
            "the recording holds no gettoken call: name its corp with --corpid".into(),
        )),
        (1, given) => {
            let corpid = corps.into_iter().next().unwrap_or_default();
            match given {
                Some(given) if *given != corpid => Err(RecordingError::Refused(format!(
                    "the recording's calls are corp {corpid}'s, not {given}'s"
                ))),
                _ => Ok(corpid),
            }
        }
        _ => Err(RecordingError::Refused(format!(
            "the recording holds calls of {} corps ({}): their tokens are redacted, so their \
             calls cannot be told apart; record one corp per file",
            corps.len(),
            corps.into_iter().collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Grids with every parent before its children, otherwise in the order met.
fn parents_first(order: Vec<String>, mut grids: BTreeMap<String, GridRecord>) -> Vec<GridRecord> {
    let mut out: Vec<GridRecord> = Vec::with_capacity(grids.len());
    let mut placed: BTreeSet<String> = BTreeSet::new();
    while !grids.is_empty() {
        let before = out.len();
        for grid_id in &order {
            let ready = grids.get(grid_id).is_some_and(|grid| {
                grid.parent
                    .as_ref()
                    .is_none_or(|parent| placed.contains(parent))
            });
            if ready && let Some(grid) = grids.remove(grid_id) {
                placed.insert(grid.grid_id.clone());
                out.push(grid);
            }
        }
        if out.len() == before {
            // A cycle of parents (no answer of patrol has one): the rest at the top.
            for (_, mut grid) in std::mem::take(&mut grids) {
                grid.parent = None;
                out.push(grid);
            }
        }
    }
    out
}

/// An order's record from its answered JSON.
fn order_record(found: &Found, seq: i64, category_id: Option<String>) -> OrderRecord {
    let order = &found.order;
    let reporter = order
        .process_list
        .first()
        .map(|step| step.solve_userid.clone())
        .unwrap_or_default();
    let mut last_time = order.create_time;
    let mut last_actor = reporter.clone();
    let steps: Vec<StepRecord> = order
        .process_list
        .iter()
        .map(|step| {
            // An open step shows no one and no time: the last known ones stand in.
            if !step.solve_userid.is_empty() {
                last_actor = step.solve_userid.clone();
            }
            if step.solved_time > 0 {
                last_time = last_time.max(step.solved_time);
            }
            StepRecord {
                process_type: step.process_type,
                actor: last_actor.clone(),
                acted_time: last_time,
                solve_userid: step.solve_userid.clone(),
                process_desc: step.process_desc.clone(),
                status: step.status,
                solved_time: step.solved_time,
                image_urls: step.image_urls.clone(),
                video_media_ids: step.video_media_ids.clone(),
            }
        })
        .collect();
    let closed = matches!(
        steps
            .last()
            .and_then(|s| ProcessType::from_wire(s.process_type)),
        Some(ProcessType::Done | ProcessType::Reject)
    );
    let mut record = OrderRecord {
        seq,
        order_id: order.order_id.clone(),
        family: found.family.code(),
        description: order.desc.clone(),
        urge_type: order.urge_type,
        category_id,
        case_name: order.case_name.clone(),
        grid_id: order.grid_id.clone(),
        grid_name: order.grid_name.clone(),
        reporter,
        reporter_name: order.reporter_name.clone().unwrap_or_default(),
        reporter_mobile: order.reporter_mobile.clone().unwrap_or_default(),
        unionid: order.unionid.clone().unwrap_or_default(),
        location_name: order.location.name.clone(),
        location_address: order.location.address.clone(),
        latitude: order.location.latitude,
        longitude: order.location.longitude,
        image_urls: order.image_urls.clone(),
        video_media_ids: order.video_media_ids.clone(),
        processor_userids: order.processor_userids.clone(),
        closed,
        stage: 0,
        accepted: false,
        solved_time: None,
        solver: None,
        create_time: order.create_time,
        modify_time: last_time,
        mod_seq: 0,
        body: found.body.clone(),
        served: None,
        steps,
    };
    let state = record.state();
    record.stage = state.stage().code();
    record.accepted = state.accepted();
    if let Some((time, solver)) = state.solved() {
        record.solved_time = Some(time);
        record.solver = Some(solver.to_owned());
    }
    record
}

/// A temporary SQLite database holding a seed, removed when dropped: what the snapshot writer
/// saves from.
pub struct SeedDatabase {
    pub store: Arc<dyn Store>,
    pub blobs: FsBlobStore,
    /// Dropped last: the store closes its file first.
    _dir: crate::snapshot::TempDir,
}

impl std::fmt::Debug for SeedDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedDatabase").finish_non_exhaustive()
    }
}

impl SeedDatabase {
    /// Writes the seed into a new temporary database through the import of
    /// `patrol_store::transfer` (the corp, then its orders in one chunk).
    pub async fn create(seed: Seed) -> Result<SeedDatabase, RecordingError> {
        let dir = crate::snapshot::TempDir::new("patrol-seed")?;
        let store =
            crate::backend::open_store(&dir.path().join("seed.db").display().to_string()).await?;
        let blobs = FsBlobStore::open(dir.path().join("media"))?;
        // The blobs first: a media row names its blob.
        for bytes in &seed.media_bytes {
            blobs.put(&mut bytes.as_slice(), bytes.len() as u64).await?;
        }
        let corpid = seed.corp.corpid.clone();
        store.import_corp(seed.corp).await?;
        store.import_orders(&corpid, seed.orders, true).await?;
        Ok(SeedDatabase {
            store,
            blobs,
            _dir: dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Exchange, Header, RecordedBody};

    fn exchange(path: &str, query: Option<&str>, answer: &str) -> Exchange {
        Exchange {
            seq: 0,
            time: String::new(),
            method: "POST".into(),
            path: path.into(),
            query: query.map(crate::journal::redact_query_whole),
            request: RecordedBody::default(),
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            answer: RecordedBody::capture(
                None,
                answer.as_bytes(),
                answer.len() as u64,
                1 << 20,
                false,
            ),
            error: None,
            latency_ms: 0.0,
        }
    }

    fn recording(exchanges: Vec<Exchange>) -> Recording {
        Recording {
            header: Header::new("http://upstream", 1 << 20),
            exchanges,
            truncated: false,
        }
    }

    fn options() -> SeedOptions {
        SeedOptions {
            corpid: None,
            agentid: 1_000_001,
            secret: "s".into(),
        }
    }

    const TOKEN: &str = r#"{"errcode":0,"errmsg":"ok","access_token":"t","expires_in":7200}"#;

    /// An order reported by `rep` at 100, accepted by `adm` at 200, then in progress (open).
    const ORDER: &str = r#"{"order_id":"o1","desc":"d","urge_type":1,"case_name":"井盖","grid_name":"g","grid_id":"g2","create_time":100,"image_urls":[],"video_media_ids":["v1"],"location":{"name":"n","address":"a","latitude":30.5,"longitude":120.0},"processor_userids":["adm"],"process_list":[{"process_type":1,"solve_userid":"rep","process_desc":"","status":1,"solved_time":100,"image_urls":[],"video_media_ids":[]},{"process_type":2,"solve_userid":"adm","process_desc":"","status":1,"solved_time":200,"image_urls":[],"video_media_ids":[]},{"process_type":7,"solve_userid":"","process_desc":"","status":0,"solved_time":0,"image_urls":[],"video_media_ids":[]}]}"#;

    #[test]
    fn orders_grids_categories_and_users_come_from_the_answers() {
        let recording = recording(vec![
            exchange(GETTOKEN_PATH, Some("corpid=ww1&corpsecret=x"), TOKEN),
            // The child listed before its parent's answer: the parent comes first all the same.
            exchange(
                "/cgi-bin/report/grid/list",
                None,
                r#"{"errcode":0,"errmsg":"ok","grid_list":[{"grid_id":"g2","grid_name":"g","grid_parent_id":"g1","grid_admin":["adm"],"grid_member":["mem"]}]}"#,
            ),
            exchange(
                "/cgi-bin/report/grid/list",
                None,
                r#"{"errcode":0,"errmsg":"ok","grid_list":[{"grid_id":"g1","grid_name":"top","grid_parent_id":"","grid_admin":["adm"],"grid_member":[]}]}"#,
            ),
            exchange(
                "/cgi-bin/report/grid/list_cata",
                None,
                r#"{"errcode":0,"errmsg":"ok","category_list":[{"category_id":"c2","category_name":"井盖","level":2,"parent_category_id":"c1"},{"category_id":"c1","category_name":"市政","level":1,"parent_category_id":""}]}"#,
            ),
            exchange(
                "/cgi-bin/report/patrol/get_order_info",
                None,
                &format!(r#"{{"errcode":0,"errmsg":"ok","order_info":{ORDER}}}"#),
            ),
            // A refusal is no answer.
            exchange(
                "/cgi-bin/report/patrol/get_order_info",
                None,
                r#"{"errcode":40058,"errmsg":"invalid order_id"}"#,
            ),
        ]);
        let seed = seed(&recording, &options()).unwrap();
        let corp = &seed.corp;
        assert_eq!(corp.corpid, "ww1");
        let grids: Vec<(&str, Option<&str>)> = corp
            .grids
            .iter()
            .map(|g| (g.grid_id.as_str(), g.parent.as_deref()))
            .collect();
        assert_eq!(grids, [("g1", None), ("g2", Some("g1"))]);
        let categories: Vec<&str> = corp
            .categories
            .iter()
            .map(|c| c.category_id.as_str())
            .collect();
        assert_eq!(categories, ["c1", "c2"]);
        let users: Vec<&str> = corp.users.iter().map(|u| u.userid.as_str()).collect();
        assert_eq!(users, ["adm", "mem", "rep"]);
        assert_eq!(corp.apps.len(), 1);
        assert_eq!(
            corp.apps[0].secret_hash,
            patrol_store::credentials::secret_hash("s")
        );
        let [order] = seed.orders.as_slice() else {
            panic!("{:?}", seed.orders);
        };
        // The stored body is the answered JSON exactly.
        assert_eq!(order.body, ORDER);
        assert_eq!(order.category_id.as_deref(), Some("c2"));
        assert_eq!(order.reporter, "rep");
        // The open step: the last known actor and time stand in.
        let acted: Vec<(&str, i64)> = order
            .steps
            .iter()
            .map(|s| (s.actor.as_str(), s.acted_time))
            .collect();
        assert_eq!(acted, [("rep", 100), ("adm", 200), ("adm", 200)]);
        assert_eq!(
            order.stage,
            patrol_domain::Stage::Processing.code(),
            "{order:?}"
        );
        assert!(order.accepted && !order.closed);
        assert_eq!((order.seq, order.mod_seq, order.modify_time), (1, 1, 200));
        assert_eq!(corp.orders.count, 1);
    }

    #[test]
    fn one_corp_per_recording() {
        let two = recording(vec![
            exchange(GETTOKEN_PATH, Some("corpid=ww1&corpsecret=x"), TOKEN),
            exchange(GETTOKEN_PATH, Some("corpid=ww2&corpsecret=y"), TOKEN),
        ]);
        let error = seed(&two, &options()).unwrap_err().to_string();
        assert!(error.contains("2 corps (ww1, ww2)"), "{error}");
        let none = recording(Vec::new());
        let error = seed(&none, &options()).unwrap_err().to_string();
        assert!(error.contains("--corpid"), "{error}");
        let given = SeedOptions {
            corpid: Some("ww9".into()),
            ..options()
        };
        assert_eq!(seed(&none, &given).unwrap().corp.corpid, "ww9");
        let one = recording(vec![exchange(
            GETTOKEN_PATH,
            Some("corpid=ww1&corpsecret=x"),
            TOKEN,
        )]);
        let error = seed(&one, &given).unwrap_err().to_string();
        assert!(error.contains("corp ww1's, not ww9's"), "{error}");
    }
}
