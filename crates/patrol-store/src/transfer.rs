//! Moving a whole database between backends (`patrol migrate`), and later snapshots: every row
//! a backend keeps, as versioned, serde-serializable records that name things by their WeCom ids
//! (`corpid`, `grid_id`, `category_id`, `userid`), never by a backend's internal integer keys.
//!
//! A corp travels as one [`CorpRecord`] (its directory, apps, tokens, seed runs and media rows)
//! followed by its orders ([`OrderRecord`], with their steps) in creation order, in chunks. The
//! statistics' counters are not records: the importer recomputes them from the orders with
//! `patrol_domain::stats::Counters`, the one place that computes them, in each chunk's
//! transaction.
//!
//! An import is resumable: the target keeps, for each corp, how far its import went
//! ([`CorpImport`], in its `meta` table, written in the transaction of every chunk), so a killed
//! import goes on after the last committed chunk.

use std::collections::BTreeMap;

use patrol_domain::{Family, Location, Media, OrderState, ProcessType, Resident, Step, Urgency};
use serde::{Deserialize, Serialize};

use crate::Result;

/// The version of the records' shape: a reader refuses records of a newer version.
pub const RECORD_VERSION: u32 = 1;

/// The prefix of the `meta` keys an import keeps its marks under: `import/source` (the cursor
/// secret of the source, whose copy the target is) and `import/corp/<corpid>` ([`CorpImport`]).
pub const IMPORT_META_PREFIX: &str = "import/";

/// The database's own secrets: cursors and tokens issued before a move stay valid after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secrets {
    pub cursor_secret: [u8; 32],
    pub token_key: [u8; 32],
}

/// A corp and everything of it but its orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpRecord {
    pub version: u32,
    /// The source's internal key of the corp: kept by the target when free, so that tokens
    /// that carry it (PostgreSQL's) still find their corp.
    pub key: i64,
    pub corpid: String,
    pub name: String,
    pub created_at: i64,
    /// The last modification sequence value handed to an order of the corp.
    pub mod_seq: i64,
    pub apps: Vec<AppRecord>,
    pub tokens: Vec<TokenRecord>,
    /// In creation order (the order users are listed in).
    pub users: Vec<UserRecord>,
    /// Parents before children.
    pub grids: Vec<GridRecord>,
    /// Each level-1 category before its children.
    pub categories: Vec<CategoryRecord>,
    pub seed_runs: Vec<SeedRunRecord>,
    pub media: Vec<MediaRecord>,
    /// How many orders follow, and the creation sequence of the last.
    pub orders: OrderSpan,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSpan {
    pub count: u64,
    /// The smallest and largest creation sequence values (0 without orders).
    pub first_seq: i64,
    pub last_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRecord {
    pub agentid: i64,
    pub name: String,
    pub kind: String,
    pub patrol_enabled: bool,
    pub resident_enabled: bool,
    pub contact_enabled: bool,
    pub enabled: bool,
    /// BLAKE3 of the secret (the secret itself is stored nowhere).
    pub secret_hash: Vec<u8>,
    pub created_at: i64,
}

/// An access token, as a keyed hash ([`crate::credentials`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub agentid: i64,
    pub token_hash: Vec<u8>,
    pub expires_at: i64,
    pub nonce: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub userid: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridRecord {
    pub grid_id: String,
    pub parent: Option<String>,
    pub name: String,
    pub admins: Vec<String>,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryRecord {
    pub category_id: String,
    pub parent: Option<String>,
    pub level: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedRunRecord {
    /// A u64 in decimal, as stored.
    pub seed: String,
    pub orders: i64,
    pub anchor: i64,
    pub landed: i64,
}

/// What is kept of an uploaded medium; its bytes are the blob named `blob` (BLAKE3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRecord {
    pub media_id: String,
    pub media_type: String,
    pub blob: [u8; 32],
    pub size: i64,
    pub file_name: String,
    pub content_type: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

/// One order as stored: its data, its stored wire JSON (`body`, served as it is) and its steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRecord {
    /// The corp's creation sequence (the tie-break of a create-ordered walk, in cursors).
    pub seq: i64,
    pub order_id: String,
    /// `patrol_domain::Family::code`.
    pub family: i64,
    pub description: String,
    pub urge_type: i64,
    pub category_id: Option<String>,
    pub case_name: String,
    pub grid_id: String,
    pub grid_name: String,
    pub reporter: String,
    pub reporter_name: String,
    pub reporter_mobile: String,
    pub unionid: String,
    pub location_name: String,
    pub location_address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub image_urls: Vec<String>,
    pub video_media_ids: Vec<String>,
    pub processor_userids: Vec<String>,
    pub closed: bool,
    /// `patrol_domain::Stage::code`.
    pub stage: i64,
    pub accepted: bool,
    pub solved_time: Option<i64>,
    pub solver: Option<String>,
    pub create_time: i64,
    pub modify_time: i64,
    pub mod_seq: i64,
    pub body: String,
    /// `patrol_domain::media::served_offsets` of `body`; `None` when the order has none stored.
    pub served: Option<Vec<u8>>,
    pub steps: Vec<StepRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub process_type: i64,
    pub actor: String,
    pub acted_time: i64,
    pub solve_userid: String,
    pub process_desc: String,
    pub status: i64,
    pub solved_time: i64,
    pub image_urls: Vec<String>,
    pub video_media_ids: Vec<String>,
}

impl OrderRecord {
    /// The order's state in the domain's terms, for the counters
    /// (`patrol_domain::stats::Counters`) of an import.
    pub fn state(&self) -> OrderState {
        OrderState {
            order_id: self.order_id.clone(),
            description: self.description.clone(),
            urgency: Urgency::from_wire(self.urge_type).unwrap_or(Urgency::Normal),
            case_name: self.case_name.clone(),
            grid_name: self.grid_name.clone(),
            grid_id: self.grid_id.clone(),
            create_time: self.create_time,
            media: Media {
                image_urls: self.image_urls.clone(),
                video_media_ids: self.video_media_ids.clone(),
            },
            location: Location {
                name: self.location_name.clone(),
                address: self.location_address.clone(),
                latitude: self.latitude,
                longitude: self.longitude,
            },
            reporter: self.reporter.clone(),
            processors: self.processor_userids.clone(),
            steps: self
                .steps
                .iter()
                .map(|step| Step {
                    process_type: ProcessType::from_wire(step.process_type)
                        .unwrap_or(ProcessType::Create),
                    actor: step.actor.clone(),
                    acted_time: step.acted_time,
                    solve_userid: step.solve_userid.clone(),
                    process_desc: step.process_desc.clone(),
                    status: step.status,
                    solved_time: step.solved_time,
                    media: Media {
                        image_urls: step.image_urls.clone(),
                        video_media_ids: step.video_media_ids.clone(),
                    },
                })
                .collect(),
            closed: self.closed,
            resident: (Family::from_code(self.family) == Some(Family::Resident)).then(|| {
                Resident {
                    name: self.reporter_name.clone(),
                    mobile: self.reporter_mobile.clone(),
                    unionid: self.unionid.clone(),
                }
            }),
        }
    }
}

/// What a corp held: what a deletion without `force` refuses on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpHoldings {
    pub apps: u64,
    pub users: u64,
    pub grids: u64,
    pub categories: u64,
    pub orders: u64,
    pub media: u64,
}

impl CorpHoldings {
    pub fn is_empty(&self) -> bool {
        *self == CorpHoldings::default()
    }

    /// `3 apps, 1 user and 240 orders`: the parts that are not zero.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            (self.apps, "app", "apps"),
            (self.users, "user", "users"),
            (self.grids, "grid", "grids"),
            (self.categories, "category", "categories"),
            (self.orders, "order", "orders"),
            (self.media, "medium", "media"),
        ]
        .into_iter()
        .filter(|(count, _, _)| *count > 0)
        .map(|(count, one, many)| format!("{count} {}", if count == 1 { one } else { many }))
        .collect();
        match parts.split_last() {
            None => "nothing".to_owned(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }

    /// The conflict of a deletion without `force`.
    pub fn refusal(&self, corpid: &str) -> crate::StoreError {
        crate::StoreError::Conflict(format!(
            "corp {corpid} holds {}: delete them first, or delete the corp with force",
            self.describe()
        ))
    }
}

/// A corp deleted: what it held, and the blobs of its media that no medium of another corp
/// names (the caller removes them from the blob store after the commit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletedCorp {
    pub held: CorpHoldings,
    pub unreferenced_blobs: Vec<[u8; 32]>,
}

/// How far the import of a corp went, kept in the target's `meta` under
/// `import/corp/<corpid>` (JSON), moved in the transaction of every chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpImport {
    /// The target's key of the corp.
    pub corp_key: i64,
    /// The source's creation sequence of the last order imported (0: none yet).
    pub last_seq: i64,
    /// Added to the source's creation sequence values in the target (0 unless they were taken
    /// there: SQLite's are unique across corps).
    pub seq_offset: i64,
    /// Every order is in.
    pub done: bool,
}

/// What a database says of imports into it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportMarks {
    /// The cursor secret of the database this one is (being made) a copy of.
    pub source: Option<[u8; 32]>,
    /// corpid → how far its import went.
    pub corps: BTreeMap<String, CorpImport>,
}

impl ImportMarks {
    /// Reads the marks from `meta` rows (key, value) whose key starts with
    /// [`IMPORT_META_PREFIX`].
    pub fn from_meta(rows: impl IntoIterator<Item = (String, Vec<u8>)>) -> Result<ImportMarks> {
        let mut marks = ImportMarks::default();
        for (key, value) in rows {
            if key == "import/source" {
                marks.source = Some(value.try_into().map_err(|_| {
                    crate::StoreError::Corrupt("meta import/source is not 32 bytes".into())
                })?);
            } else if let Some(corpid) = key.strip_prefix("import/corp/") {
                let mark: CorpImport = serde_json::from_slice(&value).map_err(|e| {
                    crate::StoreError::Corrupt(format!("meta {key} is no import mark: {e}"))
                })?;
                marks.corps.insert(corpid.to_owned(), mark);
            }
        }
        Ok(marks)
    }
}

/// The `meta` key of a corp's import mark.
pub fn corp_mark_key(corpid: &str) -> String {
    format!("import/corp/{corpid}")
}

/// A corp's import mark as stored in `meta`.
pub fn corp_mark_value(mark: &CorpImport) -> Vec<u8> {
    serde_json::to_vec(mark).expect("a mark always serializes")
}

/// Export and import of whole corps: what `patrol migrate` moves between backends.
#[async_trait::async_trait]
pub trait TransferStore: Send + Sync {
    /// The database's secrets.
    async fn secrets(&self) -> Result<Secrets>;

    /// A corp and everything of it but its orders; `None` when there is no such corp.
    async fn export_corp(&self, corpid: &str) -> Result<Option<CorpRecord>>;

    /// Up to `limit` orders of corp `corp_key` whose creation sequence is above `after`, in
    /// creation order, with their steps.
    async fn export_orders(
        &self,
        corp_key: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<OrderRecord>>;

    /// What the database says of imports into it.
    async fn import_marks(&self) -> Result<ImportMarks>;

    /// Makes this database a copy of the one whose secrets these are: replaces its secrets and
    /// marks it as the copy. [`crate::StoreError::Conflict`] when it holds a corp. A server
    /// open on the database must be restarted to see them.
    async fn import_secrets(&self, secrets: Secrets) -> Result<()>;

    /// Writes a corp with everything of it but its orders (the media rows' blobs must be in
    /// the target's blob store already), and its import mark; returns the mark.
    async fn import_corp(&self, corp: CorpRecord) -> Result<CorpImport>;

    /// Replaces a corp in one transaction: deletes the one of `corp.corpid` (when there is one)
    /// with everything of it (apps, tokens, directory, media rows, orders, counters, its import
    /// mark), then writes `corp` as [`TransferStore::import_corp`] does; returns its mark. Its
    /// orders follow with [`TransferStore::import_orders`]. Tokens of the deleted corp are
    /// revoked (unless `corp` holds them).
    async fn replace_corp(&self, corp: CorpRecord) -> Result<CorpImport>;

    /// Deletes a corp with everything of it (apps, tokens, directory, media rows, seed runs,
    /// orders, counters, its import mark) in one transaction, the deletion of
    /// [`TransferStore::replace_corp`]. Without `force`, a corp that holds any app, user, grid,
    /// category, order or medium is left as it is: [`crate::StoreError::Conflict`] naming what
    /// it holds. [`crate::StoreError::NotFound`] when there is no such corp. The token cache
    /// forgets the corp's callers at once.
    async fn delete_corp(&self, corpid: &str, force: bool) -> Result<DeletedCorp>;

    /// Writes orders of a corp being imported (after the last imported, in creation order),
    /// their statistics' counters, and moves the corp's import mark past them, in one
    /// transaction; `done` marks the corp's import complete. Returns the new mark.
    async fn import_orders(
        &self,
        corpid: &str,
        orders: Vec<OrderRecord>,
        done: bool,
    ) -> Result<CorpImport>;
}
