//! The SQLite implementation of [`Store`]: one file in WAL mode, one writer connection and a
//! pool of readers, blocking work kept off the async threads.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, params};
use tracing::instrument;

use crate::domain::*;
use crate::workflow::{GridView, OrderState, Rejection, Step};
use crate::{Result, Store, StoreError};

mod directory;

/// Embedded migrations, applied in order; `PRAGMA user_version` counts the applied ones.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/sqlite/0001_init.sql")];

/// Page cache of the writer connection, in KiB (SQLite's negative `cache_size`).
const WRITER_CACHE_KIB: i64 = -256 * 1024;

/// Expired tokens are kept this long, to answer 42001 rather than 40014.
const EXPIRED_TOKEN_RETENTION: i64 = 7 * 24 * 3600;

/// patrol's store in one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    tokens: TokenCache,
}

/// Valid tokens recently read, so that most calls need no query to authenticate. An entry is
/// trusted for [`TokenCache::TRUST_SECONDS`] at most, and every write that can revoke a token
/// (a new secret, an app changed or deleted) empties the cache, so a revocation through this
/// store takes effect at once and one through another process sharing the file within seconds.
#[derive(Default)]
struct TokenCache {
    entries: Mutex<HashMap<String, CachedCaller>>,
}

struct CachedCaller {
    caller: Caller,
    expires_at: i64,
    cached_at: i64,
}

impl TokenCache {
    const TRUST_SECONDS: i64 = 2;
    const MAX_ENTRIES: usize = 10_000;

    fn get(&self, token: &str, now: i64) -> Option<TokenStatus> {
        let entries = self.entries.lock().expect("token cache poisoned");
        let entry = entries.get(token)?;
        if now - entry.cached_at >= Self::TRUST_SECONDS || now < entry.cached_at {
            return None;
        }
        Some(if now >= entry.expires_at {
            TokenStatus::Expired
        } else {
            TokenStatus::Valid(entry.caller.clone())
        })
    }

    fn put(&self, token: &str, caller: &Caller, expires_at: i64, now: i64) {
        let mut entries = self.entries.lock().expect("token cache poisoned");
        if entries.len() >= Self::MAX_ENTRIES {
            entries.clear();
        }
        let entry = CachedCaller {
            caller: caller.clone(),
            expires_at,
            cached_at: now,
        };
        entries.insert(token.to_owned(), entry);
    }

    fn clear(&self) {
        self.entries.lock().expect("token cache poisoned").clear();
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

fn open_connection(path: &Path, create: bool) -> rusqlite::Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.set_prepared_statement_cache_capacity(64);
    // Query-planner stability: without it SQLite plans with the bound LIMIT and re-prepares the
    // statement every time a value is bound again (13% of a list page).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(conn)
}

/// Reader connections map the file into memory: a page then costs no system call and no copy,
/// and the pages count as the file's, not as the server's own (anonymous) memory.
const READER_MMAP_BYTES: i64 = 1 << 40;

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = open_connection(path, false)?;
    conn.pragma_update(None, "mmap_size", READER_MMAP_BYTES)?;
    Ok(conn)
}

impl Inner {
    /// Runs `f` on a reader connection from the pool (opening one when none is free).
    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.readers.lock().expect("reader pool poisoned").pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => open_reader(&self.path)?,
        };
        let out = f(&conn);
        self.readers
            .lock()
            .expect("reader pool poisoned")
            .push(conn);
        out
    }
}

impl SqliteStore {
    /// Opens (creating it and its directory if missing) the database file and brings its schema
    /// up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Open(format!("{}: {e}", dir.display())))?;
        }
        let mut writer = open_connection(&path, true)?;
        // Rows of orders are a few KiB: larger pages hold several (applies to new files only).
        writer.pragma_update(None, "page_size", 16384)?;
        // The writer touches the order-id index at random places: keep it in memory.
        writer.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
        // Checkpoint less often: a page changed by many commits is copied to the file once.
        writer.pragma_update(None, "wal_autocheckpoint", 4096)?;
        let mode: String =
            writer.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Open(format!(
                "{}: cannot switch to WAL mode (got {mode})",
                path.display()
            )));
        }
        migrate(&mut writer)?;
        writer.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('cursor_secret', randomblob(32))",
            [],
        )?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                tokens: TokenCache::default(),
            }),
        })
    }

    /// Opens a database given as a URL: `sqlite://PATH`, `sqlite:PATH` or a plain path.
    pub fn open_url(url: &str) -> Result<SqliteStore> {
        let path = sqlite_path(url).ok_or_else(|| {
            StoreError::Open(format!(
                "unsupported database URL {url:?}: accepted are sqlite://PATH, sqlite:PATH or a file path"
            ))
        })?;
        SqliteStore::open(path)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs a read on the blocking pool: for reads that may scan far.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.with_reader(f))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs a short, bounded read (a lookup by key, a keyset page) on the calling thread: it
    /// takes microseconds, less than handing it to the blocking pool and back would.
    fn read_inline<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.inner.with_reader(f)
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner
                .writer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// The path in a SQLite database URL.
pub(crate) fn sqlite_path(url: &str) -> Option<PathBuf> {
    if let Some(rest) = url.strip_prefix("sqlite://") {
        return Some(PathBuf::from(rest));
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        return Some(PathBuf::from(rest));
    }
    if url.contains("://") {
        return None;
    }
    Some(PathBuf::from(url))
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Open(format!(
            "the database has schema version {version}, newer than this patrol knows ({})",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied migration");
    }
    Ok(())
}

fn secret_hash(secret: &str) -> [u8; 32] {
    *blake3::hash(secret.as_bytes()).as_bytes()
}

/// Turns a unique-constraint failure into [`StoreError::Conflict`]: "`what` already exists".
fn conflict(what: impl FnOnce() -> String) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |error| match &error {
        rusqlite::Error::SqliteFailure(e, _) if e.code == ErrorCode::ConstraintViolation => {
            StoreError::Conflict(format!("{} already exists", what()))
        }
        _ => StoreError::Database(error),
    }
}

fn json_array(items: &[String]) -> String {
    serde_json::to_string(items).expect("strings always serialize")
}

fn user_key(tx: &Connection, corp_key: i64, userid: &str) -> Result<i64> {
    tx.query_row(
        "SELECT id FROM users WHERE corp_id = ?1 AND userid = ?2",
        params![corp_key, userid],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| StoreError::Rejected(Rejection::UnknownUser(userid.to_owned())))
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

fn insert_orders_tx(tx: &Transaction<'_>, corp_key: i64, orders: Vec<NewOrder>) -> Result<()> {
    let directory = CorpDirectory::load(tx, corp_key)?;
    let mut mod_seq: i64 = tx
        .query_row("SELECT mod_seq FROM corps WHERE id = ?1", [corp_key], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("corp {corp_key}")))?;
    let mut insert_order = tx.prepare_cached(
        "INSERT INTO orders (corp_id, order_id, description, urge_type, category_id, case_name,
            grid_id, grid_name, reporter, location_name, location_address, latitude, longitude,
            image_urls, video_media_ids, processor_userids, closed, create_time, modify_time,
            mod_seq, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20, ?21)",
    )?;
    for order in orders {
        let (grid_key, grid_name, admins) = directory
            .grids
            .get(&order.grid)
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
        if !directory.users.contains(&order.reporter) {
            return Err(Rejection::UnknownUser(order.reporter.clone()).into());
        }
        let mut state = OrderState::report(
            order.order_id.clone(),
            order.description,
            order.urgency,
            case_name,
            &GridView {
                grid_id: &order.grid,
                name: grid_name,
                admins,
            },
            order.location,
            order.reporter,
            order.media,
            order.create_time,
        )?;
        for action in &order.actions {
            state.apply(action, admins, |u| directory.users.contains(u))?;
        }
        mod_seq += 1;
        let body = state.render();
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
            ])
            .map_err(conflict(|| format!("order {}", order.order_id)))?;
        insert_steps(tx, tx.last_insert_rowid(), &state)?;
    }
    tx.execute(
        "UPDATE corps SET mod_seq = ?1 WHERE id = ?2",
        params![mod_seq, corp_key],
    )?;
    Ok(())
}

fn load_order(
    tx: &Connection,
    corp_key: i64,
    order_id: &str,
) -> Result<(i64, i64, OrderState, String)> {
    let row = tx
        .query_row(
            "SELECT o.id, o.grid_id, o.description, o.urge_type, o.case_name, o.grid_name,
                    o.reporter, o.location_name, o.location_address, o.latitude, o.longitude,
                    o.image_urls, o.video_media_ids, o.processor_userids, o.closed, o.create_time,
                    o.body, g.grid_id
             FROM orders o JOIN grids g ON g.id = o.grid_id
             WHERE o.corp_id = ?1 AND o.order_id = ?2",
            params![corp_key, order_id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    OrderState {
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
                    },
                    r.get::<_, String>(16)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("order {order_id}")))?;
    let (key, grid_key, mut state, body) = row;
    let mut stmt = tx.prepare_cached(
        "SELECT process_type, actor, acted_time, solve_userid, process_desc, status, solved_time,
                image_urls, video_media_ids
         FROM steps WHERE order_id = ?1 ORDER BY position",
    )?;
    let steps = stmt.query_map([key], |r| {
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
        state.steps.push(step?);
    }
    Ok((key, grid_key, state, body))
}

fn parse_array(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn act_on_order_tx(
    tx: &Transaction<'_>,
    corp_key: i64,
    order_id: &str,
    action: Action,
) -> Result<String> {
    let (order_key, grid_key, mut state, old_body) = load_order(tx, corp_key, order_id)?;
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
    state.apply(&action, &admins, |u| known.contains(u))?;
    let body = state.render();
    if body == old_body {
        return Ok(body);
    }
    let mod_seq: i64 = tx.query_row(
        "UPDATE corps SET mod_seq = mod_seq + 1 WHERE id = ?1 RETURNING mod_seq",
        [corp_key],
        |r| r.get(0),
    )?;
    tx.execute(
        "UPDATE orders SET processor_userids = ?1, closed = ?2, modify_time = ?3, mod_seq = ?4,
            body = ?5 WHERE id = ?6",
        params![
            json_array(&state.processors),
            state.closed,
            action.time,
            mod_seq,
            body,
            order_key
        ],
    )?;
    tx.execute("DELETE FROM steps WHERE order_id = ?1", [order_key])?;
    insert_steps(tx, order_key, &state)?;
    Ok(body)
}

fn insert_steps(tx: &Connection, order_key: i64, state: &OrderState) -> Result<()> {
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

/// A token's status, with its expiry when it is valid.
fn authenticate_query(conn: &Connection, token: &str, now: i64) -> Result<(TokenStatus, i64)> {
    let row = conn
        .prepare_cached(
            "SELECT t.expires_at, a.enabled, a.id, a.agentid, a.kind, a.patrol_enabled,
                        c.id, c.created_at
                 FROM tokens t JOIN apps a ON a.id = t.app_id JOIN corps c ON c.id = a.corp_id
                 WHERE t.token = ?1",
        )?
        .query_row([token], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, i64>(7)?,
            ))
        })
        .optional()?;
    let Some((
        expires_at,
        enabled,
        app_key,
        agentid,
        kind,
        patrol_enabled,
        corp_key,
        corp_created_at,
    )) = row
    else {
        return Ok((TokenStatus::Unknown, 0));
    };
    let Some(kind) = AppKind::parse(&kind).filter(|_| enabled) else {
        return Ok((TokenStatus::Unknown, 0));
    };
    if expires_at <= now {
        return Ok((TokenStatus::Expired, expires_at));
    }
    Ok((
        TokenStatus::Valid(Caller {
            corp_key,
            corp_created_at,
            app_key,
            agentid,
            kind,
            patrol_enabled,
        }),
        expires_at,
    ))
}

/// Appends a row's body to a page: `body` is column 2 of the row; `position` where it stands.
fn push_row(
    page: &mut ListedPage,
    position: Position,
    row: &rusqlite::Row<'_>,
    column: usize,
    limit: usize,
) -> rusqlite::Result<()> {
    if page.orders.len() == limit {
        page.more = true;
        return Ok(());
    }
    if !page.orders.is_empty() {
        page.json.push(b',');
    }
    let start = page.json.len();
    page.json
        .extend_from_slice(row.get_ref(column)?.as_bytes()?);
    page.orders.push((position, start..page.json.len()));
    Ok(())
}

fn list_orders_query(conn: &Connection, corp_key: i64, query: ListQuery) -> Result<ListedPage> {
    let limit = query.limit as usize;
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
                return Err(StoreError::Rejected(Rejection::Invalid(format!(
                    "position {other:?} does not belong to a modify-ordered walk"
                ))));
            }
        };
        let mut stmt = conn.prepare_cached(
            "SELECT mod_seq, body FROM orders
             WHERE corp_id = ?1 AND mod_seq > ?2 AND modify_time >= ?3 AND create_time >= ?4
             ORDER BY mod_seq LIMIT ?5",
        )?;
        let mut rows = stmt.query(params![
            corp_key,
            after,
            query.begin_modify_time,
            query.begin_create_time,
            fetch
        ])?;
        while let Some(row) = rows.next()? {
            let position = Position::Modified {
                mod_seq: row.get(0)?,
            };
            push_row(&mut page, position, row, 1, limit)?;
        }
    } else {
        // One lower bound only, so that SQLite seeks the index to it: a cursor's position comes
        // from an order that passed the filter, so every order after it passes too. Both
        // statements bind (corp, create_time, id, limit); the first reads the id as a lower
        // bound too, which every id passes.
        let (sql, bound) = match query.after {
            None => (
                "SELECT create_time, id, body FROM orders
                 WHERE corp_id = ?1 AND create_time >= ?2 AND id > ?3
                 ORDER BY create_time, id LIMIT ?4",
                (query.begin_create_time, i64::MIN),
            ),
            Some(Position::Created { create_time, seq }) => (
                "SELECT create_time, id, body FROM orders
                 WHERE corp_id = ?1 AND (create_time, id) > (?2, ?3)
                 ORDER BY create_time, id LIMIT ?4",
                (create_time.max(query.begin_create_time), seq),
            ),
            Some(other) => {
                return Err(StoreError::Rejected(Rejection::Invalid(format!(
                    "position {other:?} does not belong to a create-ordered walk"
                ))));
            }
        };
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params![corp_key, bound.0, bound.1, fetch])?;
        while let Some(row) = rows.next()? {
            let position = Position::Created {
                create_time: row.get(0)?,
                seq: row.get(1)?,
            };
            push_row(&mut page, position, row, 2, limit)?;
        }
    }
    Ok(page)
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn cursor_secret(&self) -> Result<[u8; 32]> {
        self.read(|conn| {
            let value: Vec<u8> = conn.query_row(
                "SELECT value FROM meta WHERE key = 'cursor_secret'",
                [],
                |r| r.get(0),
            )?;
            value
                .try_into()
                .map_err(|_| StoreError::Open("the stored cursor secret is not 32 bytes".into()))
        })
        .await
    }

    #[instrument(skip_all, fields(corpid = %corp.corpid))]
    async fn create_corp(&self, corp: NewCorp) -> Result<Corp> {
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO corps (corpid, name, created_at) VALUES (?1, ?2, ?3)",
                params![corp.corpid, corp.name, corp.created_at],
            )
            .map_err(conflict(|| format!("corp {}", corp.corpid)))?;
            Ok(Corp {
                key: tx.last_insert_rowid(),
                corpid: corp.corpid,
                name: corp.name,
                created_at: corp.created_at,
            })
        })
        .await
    }

    async fn corp(&self, corpid: &str) -> Result<Option<Corp>> {
        let corpid = corpid.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT id, corpid, name, created_at FROM corps WHERE corpid = ?1",
                    [corpid],
                    |r| {
                        Ok(Corp {
                            key: r.get(0)?,
                            corpid: r.get(1)?,
                            name: r.get(2)?,
                            created_at: r.get(3)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    async fn list_corps(&self) -> Result<Vec<Corp>> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare("SELECT id, corpid, name, created_at FROM corps ORDER BY id")?;
            let corps = stmt.query_map([], |r| {
                Ok(Corp {
                    key: r.get(0)?,
                    corpid: r.get(1)?,
                    name: r.get(2)?,
                    created_at: r.get(3)?,
                })
            })?;
            Ok(corps.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    #[instrument(skip_all, fields(corp_key, agentid = app.agentid))]
    async fn create_app(&self, corp_key: i64, app: NewApp) -> Result<App> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        self.write(move |tx| directory::create_app(tx, corp_key, app, now))
            .await
    }

    async fn list_apps(&self, corp_key: i64) -> Result<Vec<App>> {
        self.read(move |conn| directory::list_apps(conn, corp_key))
            .await
    }

    async fn update_app(&self, corp_key: i64, agentid: i64, patch: AppPatch) -> Result<App> {
        let app = self
            .write(move |tx| directory::update_app(tx, corp_key, agentid, patch))
            .await;
        self.inner.tokens.clear();
        app
    }

    async fn set_app_secret(&self, corp_key: i64, agentid: i64, secret: &str) -> Result<App> {
        let secret = secret.to_owned();
        let app = self
            .write(move |tx| directory::set_app_secret(tx, corp_key, agentid, &secret))
            .await;
        self.inner.tokens.clear();
        app
    }

    async fn delete_app(&self, corp_key: i64, agentid: i64) -> Result<()> {
        let deleted = self
            .write(move |tx| directory::delete_app(tx, corp_key, agentid))
            .await;
        self.inner.tokens.clear();
        deleted
    }

    async fn create_user(&self, corp_key: i64, user: NewUser) -> Result<()> {
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO users (corp_id, userid, name) VALUES (?1, ?2, ?3)",
                params![corp_key, user.userid, user.name],
            )
            .map_err(conflict(|| format!("user {}", user.userid)))?;
            Ok(())
        })
        .await
    }

    async fn list_users(&self, corp_key: i64) -> Result<Vec<User>> {
        self.read(move |conn| directory::list_users(conn, corp_key))
            .await
    }

    async fn update_user(&self, corp_key: i64, userid: &str, name: &str) -> Result<User> {
        let (userid, name) = (userid.to_owned(), name.to_owned());
        self.write(move |tx| directory::update_user(tx, corp_key, &userid, &name))
            .await
    }

    async fn delete_user(&self, corp_key: i64, userid: &str) -> Result<()> {
        let userid = userid.to_owned();
        self.write(move |tx| directory::delete_user(tx, corp_key, &userid))
            .await
    }

    async fn create_grid(&self, corp_key: i64, grid: NewGrid) -> Result<()> {
        self.write(move |tx| directory::create_grid(tx, corp_key, grid))
            .await
    }

    async fn grid(&self, corp_key: i64, grid_id: &str) -> Result<Option<Grid>> {
        let grid_id = grid_id.to_owned();
        self.read(move |conn| directory::grid(conn, corp_key, &grid_id))
            .await
    }

    async fn list_grids(&self, corp_key: i64) -> Result<Vec<Grid>> {
        self.read(move |conn| directory::list_grids(conn, corp_key))
            .await
    }

    async fn update_grid(&self, corp_key: i64, grid_id: &str, patch: GridPatch) -> Result<Grid> {
        let grid_id = grid_id.to_owned();
        self.write(move |tx| directory::update_grid(tx, corp_key, &grid_id, patch))
            .await
    }

    async fn delete_grid(&self, corp_key: i64, grid_id: &str) -> Result<()> {
        let grid_id = grid_id.to_owned();
        self.write(move |tx| directory::delete_grid(tx, corp_key, &grid_id))
            .await
    }

    async fn create_category(&self, corp_key: i64, category: NewCategory) -> Result<()> {
        self.write(move |tx| directory::create_category(tx, corp_key, category))
            .await
    }

    async fn list_categories(&self, corp_key: i64) -> Result<Vec<Category>> {
        self.read(move |conn| directory::list_categories(conn, corp_key))
            .await
    }

    async fn delete_category(&self, corp_key: i64, category_id: &str) -> Result<()> {
        let category_id = category_id.to_owned();
        self.write(move |tx| directory::delete_category(tx, corp_key, &category_id))
            .await
    }

    #[instrument(skip_all, fields(corp_key, order_id = %order.order_id))]
    async fn report_order(&self, corp_key: i64, order: NewOrder) -> Result<String> {
        self.write(move |tx| {
            let order_id = order.order_id.clone();
            insert_orders_tx(tx, corp_key, vec![order])?;
            Ok(tx.query_row(
                "SELECT body FROM orders WHERE corp_id = ?1 AND order_id = ?2",
                params![corp_key, order_id],
                |r| r.get(0),
            )?)
        })
        .await
    }

    #[instrument(skip_all, fields(corp_key, count = orders.len()))]
    async fn insert_orders(&self, corp_key: i64, orders: Vec<NewOrder>) -> Result<()> {
        self.write(move |tx| insert_orders_tx(tx, corp_key, orders))
            .await
    }

    #[instrument(skip_all, fields(corp_key, order_id))]
    async fn act_on_order(&self, corp_key: i64, order_id: &str, action: Action) -> Result<String> {
        let order_id = order_id.to_owned();
        self.write(move |tx| act_on_order_tx(tx, corp_key, &order_id, action))
            .await
    }

    async fn rename_category(&self, corp_key: i64, category_id: &str, name: &str) -> Result<()> {
        let (category_id, name) = (category_id.to_owned(), name.to_owned());
        self.write(move |tx| {
            directory::check_name("category", &name)?;
            let changed = tx
                .execute(
                    "UPDATE categories SET name = ?1 WHERE corp_id = ?2 AND category_id = ?3",
                    params![name, corp_key, category_id],
                )
                .map_err(conflict(|| {
                    format!("category name {name} among its siblings")
                }))?;
            if changed == 0 {
                return Err(StoreError::NotFound(format!("category {category_id}")));
            }
            Ok(())
        })
        .await
    }

    async fn grant_token(
        &self,
        corpid: &str,
        secret: &str,
        now: i64,
        ttl: i64,
        candidate: String,
    ) -> Result<TokenGrant> {
        let corpid = corpid.to_owned();
        let hash = secret_hash(secret);
        self.write(move |tx| {
            let Some(corp_key) = tx
                .query_row("SELECT id FROM corps WHERE corpid = ?1", [&corpid], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()?
            else {
                return Ok(TokenGrant::UnknownCorp);
            };
            let Some(app_key) = tx
                .query_row(
                    "SELECT id FROM apps WHERE corp_id = ?1 AND secret_hash = ?2 AND enabled = 1",
                    params![corp_key, hash.as_slice()],
                    |r| r.get::<_, i64>(0),
                )
                .optional()?
            else {
                return Ok(TokenGrant::BadSecret);
            };
            let live = tx
                .query_row(
                    "SELECT token, expires_at FROM tokens WHERE app_id = ?1 AND expires_at > ?2
                     ORDER BY expires_at DESC LIMIT 1",
                    params![app_key, now],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
                )
                .optional()?;
            if let Some((token, expires_at)) = live {
                return Ok(TokenGrant::Granted { token, expires_at });
            }
            tx.execute(
                "DELETE FROM tokens WHERE app_id = ?1 AND expires_at < ?2",
                params![app_key, now - EXPIRED_TOKEN_RETENTION],
            )?;
            let expires_at = now + ttl;
            tx.execute(
                "INSERT INTO tokens (token, app_id, expires_at) VALUES (?1, ?2, ?3)",
                params![candidate, app_key, expires_at],
            )?;
            Ok(TokenGrant::Granted {
                token: candidate,
                expires_at,
            })
        })
        .await
    }

    async fn authenticate(&self, token: &str, now: i64) -> Result<TokenStatus> {
        if let Some(status) = self.inner.tokens.get(token, now) {
            return Ok(status);
        }
        let (status, expires_at) = self.read_inline(|conn| authenticate_query(conn, token, now))?;
        if let TokenStatus::Valid(caller) = &status {
            self.inner.tokens.put(token, caller, expires_at, now);
        }
        Ok(status)
    }

    async fn list_orders(&self, corp_key: i64, query: ListQuery) -> Result<ListedPage> {
        if query.modify_ordered() {
            // A selective modify_time filter may scan far: keep it off the async threads.
            self.read(move |conn| list_orders_query(conn, corp_key, query))
                .await
        } else {
            self.read_inline(|conn| list_orders_query(conn, corp_key, query))
        }
    }

    async fn order_body(&self, corp_key: i64, order_id: &str) -> Result<Option<Vec<u8>>> {
        self.read_inline(|conn| {
            Ok(conn
                .prepare_cached("SELECT body FROM orders WHERE corp_id = ?1 AND order_id = ?2")?
                .query_row(params![corp_key, order_id], |r| {
                    Ok(r.get_ref(0)?.as_bytes()?.to_vec())
                })
                .optional()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_name_files() {
        assert_eq!(
            sqlite_path("sqlite:///tmp/a.db"),
            Some(PathBuf::from("/tmp/a.db"))
        );
        assert_eq!(
            sqlite_path("sqlite://rel.db"),
            Some(PathBuf::from("rel.db"))
        );
        assert_eq!(sqlite_path("sqlite:rel.db"), Some(PathBuf::from("rel.db")));
        assert_eq!(
            sqlite_path("/var/lib/patrol.db"),
            Some(PathBuf::from("/var/lib/patrol.db"))
        );
        assert_eq!(sqlite_path("postgres://localhost/patrol"), None);
    }
}
