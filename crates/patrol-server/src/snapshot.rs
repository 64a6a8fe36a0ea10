//! Snapshots: the whole state of a database, or one corp, media included, as one versioned file
//! of JSON lines, saved and loaded through the store boundary (`patrol_store::transfer`, what
//! `patrol migrate` moves).
//!
//! The file, streamed both ways (never the whole database in memory):
//!
//! ```text
//! {"format":"patrol-snapshot","version":1,"created":1764560000,"scope":"all","corps":["wwdemo…"]}
//! {"secrets":{"cursor_secret":[…],"token_key":[…]}}          (a whole-state snapshot only)
//! {"blob":{"id":"<BLAKE3, hex>","size":12345}}                (each blob once, before its corp)
//! {"bytes":"<base64 of up to 48 KiB>"}                        (… until `size` bytes)
//! {"corp":{…CorpRecord…}}
//! {"orders":[{…OrderRecord…}, …]}                             (up to 500 a line, creation order)
//! {"end":{"corps":1,"orders":1234,"blobs":25,"blake3":"<hex>"}}  (BLAKE3 of every byte before)
//! ```
//!
//! Loading reads the file twice: first it checks all of it (the format and its version, the
//! order of the lines, every blob's size and BLAKE3 hash, every corp's order count and the
//! grids and categories its orders name, the end line and the hash of the whole file), writing
//! nothing, so a corrupt, truncated or newer file is refused with the database unchanged; then
//! it imports.

use std::collections::HashSet;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use patrol_media::{BlobError, BlobId, BlobStore};
use patrol_store::transfer::{CorpRecord, OrderRecord, OrderSpan, RECORD_VERSION, Secrets};
use patrol_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The `format` of a snapshot's first line.
pub const FORMAT: &str = "patrol-snapshot";
/// The version of the file's shape: a loader refuses a newer one.
pub const VERSION: u32 = 1;
/// Orders per `orders` line.
const ORDERS_PER_LINE: usize = 500;
/// Bytes of a blob per `bytes` line.
const BLOB_BYTES_PER_LINE: usize = 48 * 1024;
/// The longest line a loader reads.
const MAX_LINE: u64 = 64 * 1024 * 1024;
/// The largest blob a loader takes (one blob is held in memory while it is stored).
const MAX_BLOB: u64 = 1024 * 1024 * 1024;

/// The first line of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// When it was saved, Unix seconds.
    pub created: i64,
    pub scope: Scope,
    /// The corps it holds, in the order they follow.
    pub corps: Vec<String>,
}

/// What a snapshot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every corp and the database's secrets (cursors and tokens stay valid after a load into
    /// an empty database).
    All,
    /// One corp, without the secrets.
    Corp,
}

/// The lines after the header.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Line {
    Secrets(Secrets),
    Blob {
        id: String,
        size: u64,
    },
    Bytes(String),
    Corp(Box<CorpRecord>),
    Orders(Vec<OrderRecord>),
    End {
        corps: u64,
        orders: u64,
        blobs: u64,
        /// BLAKE3 of every byte before this line, in hex.
        blake3: String,
    },
}

/// Why a snapshot could not be saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The file is no snapshot this patrol loads (corrupt, truncated, newer); nothing was
    /// written.
    #[error("not a loadable snapshot: {0}")]
    Invalid(String),
    /// The snapshot does not fit the database (a corp of it is there already); nothing was
    /// written.
    #[error("{0}")]
    Refused(String),
    /// No such corp to save.
    #[error("corp {0} not found")]
    NoCorp(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("media: {0}")]
    Blob(#[from] BlobError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What a snapshot holds, or what was saved or loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Summary {
    pub scope: Scope,
    pub corps: Vec<String>,
    pub orders: u64,
    pub blobs: u64,
    pub bytes: u64,
    /// Whether the database's secrets are in the file (saved, checked), or were loaded (into an
    /// empty database).
    pub secrets: bool,
}

/// The lines of a snapshot being written, and the BLAKE3 of every byte before the end line.
struct Lines<'a> {
    out: &'a mut (dyn AsyncWrite + Send + Unpin),
    hasher: blake3::Hasher,
}

impl Lines<'_> {
    async fn write(&mut self, value: &impl Serialize) -> Result<(), SnapshotError> {
        let mut line = serde_json::to_vec(value).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.hasher.update(&line);
        self.out.write_all(&line).await?;
        Ok(())
    }
}

/// Writes a snapshot of the whole database (`corp` `None`: every corp and the secrets) or of
/// one corp to `out`.
pub async fn save(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    corp: Option<&str>,
    created: i64,
    out: &mut (dyn AsyncWrite + Send + Unpin),
) -> Result<Summary, SnapshotError> {
    let corps = match corp {
        Some(corpid) => {
            if store.corp(corpid).await?.is_none() {
                return Err(SnapshotError::NoCorp(corpid.to_owned()));
            }
            vec![corpid.to_owned()]
        }
        None => store
            .list_corps()
            .await?
            .into_iter()
            .map(|corp| corp.corpid)
            .collect(),
    };
    let scope = if corp.is_some() {
        Scope::Corp
    } else {
        Scope::All
    };
    let header = Header {
        format: FORMAT.to_owned(),
        version: VERSION,
        created,
        scope,
        corps: corps.clone(),
    };
    let mut lines = Lines {
        out,
        hasher: blake3::Hasher::new(),
    };
    lines.write(&header).await?;
    if scope == Scope::All {
        lines.write(&Line::Secrets(store.secrets().await?)).await?;
    }
    let mut summary = Summary {
        scope,
        corps: corps.clone(),
        orders: 0,
        blobs: 0,
        bytes: 0,
        secrets: scope == Scope::All,
    };
    let mut written = HashSet::new();
    for corpid in &corps {
        let record = store
            .export_corp(corpid)
            .await?
            .ok_or_else(|| SnapshotError::Store(StoreError::NotFound(format!("corp {corpid}"))))?;
        for media in &record.media {
            let id = BlobId::from_bytes(media.blob);
            if !written.insert(id) {
                continue;
            }
            let size = u64::try_from(media.size).unwrap_or(0);
            save_blob(blobs, id, size, &mut lines)
                .await
                .map_err(|error| {
                    SnapshotError::Invalid(format!(
                        "media {} of corp {corpid}: blob {id}: {error}",
                        media.media_id
                    ))
                })?;
            summary.blobs += 1;
            summary.bytes += size;
        }
        let key = record.key;
        lines.write(&Line::Corp(Box::new(record))).await?;
        let mut after = 0;
        loop {
            let orders = store.export_orders(key, after, ORDERS_PER_LINE).await?;
            let Some(last) = orders.last() else { break };
            after = last.seq;
            summary.orders += orders.len() as u64;
            lines.write(&Line::Orders(orders)).await?;
        }
    }
    let blake3 = lines.hasher.finalize().to_hex().to_string();
    lines
        .write(&Line::End {
            corps: corps.len() as u64,
            orders: summary.orders,
            blobs: summary.blobs,
            blake3,
        })
        .await?;
    lines.out.flush().await?;
    Ok(summary)
}

/// Writes a blob's lines, checking its bytes against its name.
async fn save_blob(
    blobs: &dyn BlobStore,
    id: BlobId,
    size: u64,
    lines: &mut Lines<'_>,
) -> Result<(), SnapshotError> {
    lines
        .write(&Line::Blob {
            id: id.to_hex(),
            size,
        })
        .await?;
    let mut reader = blobs.open(id, 0, size).await?;
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0u8; BLOB_BYTES_PER_LINE];
    let mut read = 0u64;
    while read < size {
        let mut filled = 0;
        while filled < buffer.len() && read + (filled as u64) < size {
            let n = reader.read(&mut buffer[filled..]).await?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        hasher.update(&buffer[..filled]);
        read += filled as u64;
        lines
            .write(&Line::Bytes(BASE64.encode(&buffer[..filled])))
            .await?;
    }
    if read != size {
        return Err(SnapshotError::Invalid(format!(
            "{read} bytes in the media where {size} were expected"
        )));
    }
    if BlobId::from_bytes(*hasher.finalize().as_bytes()) != id {
        return Err(SnapshotError::Invalid(
            "its bytes in the media do not hash to its name".into(),
        ));
    }
    Ok(())
}

/// Reads the next line (without its newline) into `buffer`; `false` at the end of the file.
async fn next_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buffer: &mut Vec<u8>,
    number: u64,
) -> Result<bool, SnapshotError> {
    buffer.clear();
    let n = (&mut *reader)
        .take(MAX_LINE + 1)
        .read_until(b'\n', buffer)
        .await?;
    if n == 0 {
        return Ok(false);
    }
    if buffer.last() != Some(&b'\n') {
        if n as u64 > MAX_LINE {
            return Err(SnapshotError::Invalid(format!(
                "line {number} is longer than {MAX_LINE} bytes"
            )));
        }
        return Err(SnapshotError::Invalid(format!(
            "the file ends in the middle of line {number}: it is truncated"
        )));
    }
    buffer.pop();
    Ok(true)
}

/// Reads and checks a header line.
fn parse_header(line: &[u8]) -> Result<Header, SnapshotError> {
    let value: serde_json::Value = serde_json::from_slice(line).map_err(|_| {
        SnapshotError::Invalid("its first line is not JSON: this is no patrol snapshot".into())
    })?;
    if value.get("format").and_then(serde_json::Value::as_str) != Some(FORMAT) {
        return Err(SnapshotError::Invalid(format!(
            "its first line has no \"format\":\"{FORMAT}\": this is no patrol snapshot"
        )));
    }
    let version = value.get("version").and_then(serde_json::Value::as_u64);
    match version {
        Some(version) if version > u64::from(VERSION) => {
            return Err(SnapshotError::Invalid(format!(
                "it is of version {version}, newer than this patrol reads ({VERSION}): load it \
                 with a newer patrol"
            )));
        }
        Some(_) => {}
        None => return Err(SnapshotError::Invalid("its header has no version".into())),
    }
    serde_json::from_value(value)
        .map_err(|error| SnapshotError::Invalid(format!("its header is invalid: {error}")))
}

/// Where a load writes; `None` in the checking pass.
struct Target<'a> {
    store: &'a dyn Store,
    blobs: &'a dyn BlobStore,
    /// Whether the file's secrets are written (an empty database).
    secrets: bool,
    /// Whether a corp of the file replaces one of the database (`TransferStore::replace_corp`).
    replace: bool,
}

/// The blob being read.
struct OpenBlob {
    id: BlobId,
    size: u64,
    read: u64,
    hasher: blake3::Hasher,
    /// The bytes, when loading.
    bytes: Option<Vec<u8>>,
}

/// The corp whose orders are being read.
struct OpenCorp {
    corpid: String,
    left: u64,
    last_seq: i64,
    /// Its grids and categories, which its orders name.
    grids: HashSet<String>,
    categories: HashSet<String>,
}

/// Reads a whole snapshot, checking all of it, and writes it into `target` when there is one.
async fn walk<R: AsyncBufRead + Unpin>(
    mut reader: R,
    target: Option<Target<'_>>,
) -> Result<(Header, Summary), SnapshotError> {
    let invalid =
        |number: u64, what: String| SnapshotError::Invalid(format!("line {number}: {what}"));
    let mut buffer = Vec::new();
    if !next_line(&mut reader, &mut buffer, 1).await? {
        return Err(SnapshotError::Invalid("the file is empty".into()));
    }
    let header = parse_header(&buffer)?;
    let mut hasher = blake3::Hasher::new();
    hasher.update(&buffer);
    hasher.update(b"\n");
    let mut summary = Summary {
        scope: header.scope,
        corps: Vec::new(),
        orders: 0,
        blobs: 0,
        bytes: 0,
        secrets: false,
    };
    let mut blobs_seen: HashSet<BlobId> = HashSet::new();
    let mut blob: Option<OpenBlob> = None;
    let mut corp: Option<OpenCorp> = None;
    let mut ended = false;
    let mut number = 1;
    loop {
        number += 1;
        if !next_line(&mut reader, &mut buffer, number).await? {
            break;
        }
        if ended {
            return Err(invalid(number, "a line after the end line".into()));
        }
        let line: Line = serde_json::from_slice(&buffer)
            .map_err(|error| invalid(number, format!("not a snapshot line: {error}")))?;
        if !matches!(line, Line::End { .. }) {
            hasher.update(&buffer);
            hasher.update(b"\n");
        }
        if let Some(open) = blob.as_mut() {
            let Line::Bytes(text) = line else {
                return Err(invalid(
                    number,
                    format!(
                        "blob {} ends after {} of its {} bytes",
                        open.id, open.read, open.size
                    ),
                ));
            };
            let bytes = BASE64
                .decode(text.as_bytes())
                .map_err(|error| invalid(number, format!("bytes that are not base64: {error}")))?;
            open.read += bytes.len() as u64;
            if open.read > open.size {
                return Err(invalid(
                    number,
                    format!("blob {} has more than its {} bytes", open.id, open.size),
                ));
            }
            open.hasher.update(&bytes);
            if let Some(kept) = open.bytes.as_mut() {
                kept.extend_from_slice(&bytes);
            }
            if open.read == open.size {
                let done = blob.take().expect("a blob is open");
                finish_blob(done, target.as_ref(), number).await?;
            }
            continue;
        }
        if let Some(open) = corp.as_ref()
            && open.left > 0
            && !matches!(line, Line::Orders(_))
        {
            return Err(invalid(
                number,
                format!("corp {} lacks {} of its orders", open.corpid, open.left),
            ));
        }
        match line {
            Line::Secrets(secrets) => {
                if header.scope != Scope::All || number != 2 {
                    return Err(invalid(
                        number,
                        "secrets only follow the header of a whole-state snapshot".into(),
                    ));
                }
                summary.secrets = match target.as_ref() {
                    // Checking: the file holds them.
                    None => true,
                    Some(target) if target.secrets => {
                        target.store.import_secrets(secrets).await?;
                        true
                    }
                    Some(_) => false,
                };
            }
            Line::Blob { id, size } => {
                let id = BlobId::from_hex(&id)
                    .ok_or_else(|| invalid(number, format!("{id:?} names no blob")))?;
                if size > MAX_BLOB {
                    return Err(invalid(
                        number,
                        format!("blob {id} is larger than {MAX_BLOB} bytes"),
                    ));
                }
                if !blobs_seen.insert(id) {
                    return Err(invalid(number, format!("blob {id} comes twice")));
                }
                let open = OpenBlob {
                    id,
                    size,
                    read: 0,
                    hasher: blake3::Hasher::new(),
                    bytes: target
                        .as_ref()
                        .map(|_| Vec::with_capacity(usize::try_from(size).unwrap_or(0))),
                };
                summary.blobs += 1;
                summary.bytes += size;
                if size == 0 {
                    finish_blob(open, target.as_ref(), number).await?;
                } else {
                    blob = Some(open);
                }
            }
            Line::Bytes(_) => {
                return Err(invalid(number, "bytes outside of a blob".into()));
            }
            Line::Corp(record) => {
                if record.version > RECORD_VERSION {
                    return Err(invalid(
                        number,
                        format!(
                            "corp {} is a record of version {}, newer than this patrol reads \
                             ({RECORD_VERSION})",
                            record.corpid, record.version
                        ),
                    ));
                }
                let next = header.corps.get(summary.corps.len());
                if next != Some(&record.corpid) {
                    return Err(invalid(
                        number,
                        format!(
                            "corp {} where the header lists {}",
                            record.corpid,
                            next.map_or("no more", String::as_str)
                        ),
                    ));
                }
                for media in &record.media {
                    if !blobs_seen.contains(&BlobId::from_bytes(media.blob)) {
                        return Err(invalid(
                            number,
                            format!(
                                "media {} of corp {}: its blob is not in the file",
                                media.media_id, record.corpid
                            ),
                        ));
                    }
                }
                let corpid = record.corpid.clone();
                let count = record.orders.count;
                let grids = record.grids.iter().map(|g| g.grid_id.clone()).collect();
                let categories = record
                    .categories
                    .iter()
                    .map(|c| c.category_id.clone())
                    .collect();
                summary.corps.push(corpid.clone());
                if let Some(target) = target.as_ref() {
                    if target.replace {
                        target.store.replace_corp(*record).await?;
                    } else {
                        target.store.import_corp(*record).await?;
                    }
                    if count == 0 {
                        target
                            .store
                            .import_orders(&corpid, Vec::new(), true)
                            .await?;
                    }
                }
                corp = Some(OpenCorp {
                    corpid,
                    left: count,
                    last_seq: 0,
                    grids,
                    categories,
                });
            }
            Line::Orders(orders) => {
                let Some(open) = corp.as_mut() else {
                    return Err(invalid(number, "orders before any corp".into()));
                };
                if orders.is_empty() || orders.len() as u64 > open.left {
                    return Err(invalid(
                        number,
                        format!(
                            "{} orders of corp {} where {} are left",
                            orders.len(),
                            open.corpid,
                            open.left
                        ),
                    ));
                }
                for order in &orders {
                    if order.seq <= open.last_seq {
                        return Err(invalid(
                            number,
                            format!(
                                "order {} of corp {} is out of creation order",
                                order.order_id, open.corpid
                            ),
                        ));
                    }
                    open.last_seq = order.seq;
                    let unknown_category = order
                        .category_id
                        .as_ref()
                        .is_some_and(|id| !open.categories.contains(id));
                    if !open.grids.contains(&order.grid_id) || unknown_category {
                        return Err(invalid(
                            number,
                            format!(
                                "order {} of corp {} names a grid or category the corp lacks",
                                order.order_id, open.corpid
                            ),
                        ));
                    }
                }
                open.left -= orders.len() as u64;
                summary.orders += orders.len() as u64;
                if let Some(target) = target.as_ref() {
                    target
                        .store
                        .import_orders(&open.corpid, orders, open.left == 0)
                        .await?;
                }
            }
            Line::End {
                corps,
                orders,
                blobs,
                blake3,
            } => {
                let hash = hasher.finalize().to_hex();
                if blake3 != hash.as_str() {
                    return Err(invalid(
                        number,
                        format!(
                            "the lines before the end hash to {hash}, not {blake3}: the file is \
                             corrupt"
                        ),
                    ));
                }
                if summary.corps.len() != header.corps.len() {
                    return Err(invalid(
                        number,
                        format!(
                            "the end after {} of the {} corps the header lists",
                            summary.corps.len(),
                            header.corps.len()
                        ),
                    ));
                }
                if (corps, orders, blobs)
                    != (summary.corps.len() as u64, summary.orders, summary.blobs)
                {
                    return Err(invalid(
                        number,
                        format!(
                            "the end counts {corps} corps, {orders} orders, {blobs} blobs where \
                             the file holds {}, {}, {}",
                            summary.corps.len(),
                            summary.orders,
                            summary.blobs
                        ),
                    ));
                }
                ended = true;
            }
        }
    }
    if !ended {
        return Err(SnapshotError::Invalid(
            "the file has no end line: it is truncated".into(),
        ));
    }
    Ok((header, summary))
}

/// Checks a blob read whole, and stores it when loading.
async fn finish_blob(
    open: OpenBlob,
    target: Option<&Target<'_>>,
    number: u64,
) -> Result<(), SnapshotError> {
    let hash = BlobId::from_bytes(*open.hasher.finalize().as_bytes());
    if hash != open.id {
        return Err(SnapshotError::Invalid(format!(
            "line {number}: the bytes of blob {} hash to {hash}: the file is corrupt",
            open.id
        )));
    }
    if let Some(target) = target
        && target.blobs.size(open.id).await? != Some(open.size)
    {
        let bytes = open.bytes.unwrap_or_default();
        let stored = target.blobs.put(&mut bytes.as_slice(), open.size).await?;
        if stored.id != open.id {
            return Err(SnapshotError::Invalid(format!(
                "blob {} was stored as {}",
                open.id, stored.id
            )));
        }
    }
    Ok(())
}

/// Checks a snapshot file whole, writing nothing: what it holds, or why it cannot be loaded.
pub async fn check(path: &Path) -> Result<(Header, Summary), SnapshotError> {
    let file = tokio::fs::File::open(path).await?;
    walk(tokio::io::BufReader::with_capacity(256 * 1024, file), None).await
}

/// How a snapshot is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// Write the secrets of a whole-state snapshot into a database that holds no corp. A
    /// running server keeps the secrets it opened with, so the administration API's load
    /// passes `false`.
    pub secrets: bool,
    /// Replace a corp of the database that the snapshot holds too; `false` refuses the load.
    pub replace: bool,
}

/// Loads a snapshot file into a database: checks all of it first (a file that cannot be loaded
/// changes nothing), refuses it when the database holds one of its corps already unless
/// `options.replace`, then writes its blobs, corps and orders. Each corp is replaced (or
/// written) with its directory in one transaction, then its orders follow in chunks. The
/// secrets of a whole-state snapshot are written when the database holds no corp (cursors and
/// tokens of the saved database then stay valid); see docs/decisions.md.
pub async fn load(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    path: &Path,
    options: LoadOptions,
) -> Result<Summary, SnapshotError> {
    let (header, _) = check(path).await?;
    let present = store.list_corps().await?;
    let taken: Vec<&str> = header
        .corps
        .iter()
        .filter(|corpid| present.iter().any(|corp| &corp.corpid == *corpid))
        .map(String::as_str)
        .collect();
    if !taken.is_empty() && !options.replace {
        return Err(SnapshotError::Refused(format!(
            "the database holds corp(s) of the snapshot already ({}): load it with replace to \
             replace them, or into a database without them",
            taken.join(", ")
        )));
    }
    let target = Target {
        store,
        blobs,
        secrets: options.secrets && header.scope == Scope::All && present.is_empty(),
        replace: options.replace,
    };
    let file = tokio::fs::File::open(path).await?;
    let (_, summary) = walk(
        tokio::io::BufReader::with_capacity(256 * 1024, file),
        Some(target),
    )
    .await?;
    Ok(summary)
}

/// Reads a snapshot file's header only.
pub async fn header(path: &Path) -> Result<Header, SnapshotError> {
    let file = tokio::fs::File::open(path).await?;
    let mut reader = tokio::io::BufReader::new(file);
    let mut buffer = Vec::new();
    if !next_line(&mut reader, &mut buffer, 1).await? {
        return Err(SnapshotError::Invalid("the file is empty".into()));
    }
    parse_header(&buffer)
}

/// `patrol serve --snapshot FILE`: loads the file ([`load`]) when the database holds none of
/// its corps; does nothing (`None`) when it holds them all, as after a restart of a server
/// started from it; refuses a database that holds some of them only.
pub async fn load_at_start(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    path: &Path,
) -> Result<Option<Summary>, SnapshotError> {
    let header = header(path).await?;
    let present = store.list_corps().await?;
    let held = header
        .corps
        .iter()
        .filter(|corpid| present.iter().any(|corp| &corp.corpid == *corpid))
        .count();
    if held > 0 && held == header.corps.len() {
        tracing::info!(
            snapshot = %path.display(),
            "the database holds the snapshot's corps already: not loaded again"
        );
        return Ok(None);
    }
    let options = LoadOptions {
        secrets: true,
        replace: false,
    };
    let summary = load(store, blobs, path, options).await?;
    tracing::info!(
        snapshot = %path.display(),
        corps = summary.corps.len(),
        orders = summary.orders,
        "snapshot loaded"
    );
    Ok(Some(summary))
}

/// What `POST /admin/v1/corps/{corpid}/reset` resets a corp to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResetTo {
    /// No users, grids, categories, media, seed runs or orders.
    Empty,
    /// The demo's users, grids, categories, media and orders (the demo corp only).
    Demo,
}

/// What a reset left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResetSummary {
    pub corpid: String,
    pub to: ResetTo,
    pub users: u64,
    pub grids: u64,
    pub categories: u64,
    pub media: u64,
    pub orders: u64,
}

/// Resets a corp: keeps its corpid, name, creation time, apps and tokens (its credentials go on
/// working) and replaces everything else with nothing or with the demo's, in one transaction
/// for the directory (`TransferStore::replace_corp`) followed by the demo's orders. The demo's
/// content is made by `patrol_demo::install` in a temporary SQLite database beside nothing else
/// and moved over as records; its orders' stored bodies name the demo corp's media, so only the
/// demo corp resets to the demo.
pub async fn reset_corp(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    corpid: &str,
    to: ResetTo,
    clock: &patrol_domain::Clock,
) -> Result<ResetSummary, SnapshotError> {
    let record = store
        .export_corp(corpid)
        .await?
        .ok_or_else(|| SnapshotError::NoCorp(corpid.to_owned()))?;
    let kept = |content: CorpRecord| CorpRecord {
        key: record.key,
        corpid: record.corpid.clone(),
        name: record.name.clone(),
        created_at: record.created_at,
        mod_seq: record.mod_seq.max(content.mod_seq),
        apps: record.apps.clone(),
        tokens: record.tokens.clone(),
        ..content
    };
    let (corp, orders) = match to {
        ResetTo::Empty => (
            kept(CorpRecord {
                users: Vec::new(),
                grids: Vec::new(),
                categories: Vec::new(),
                seed_runs: Vec::new(),
                media: Vec::new(),
                orders: OrderSpan::default(),
                ..record.clone()
            }),
            Vec::new(),
        ),
        ResetTo::Demo => {
            if corpid != patrol_demo::DEMO_CORPID {
                return Err(SnapshotError::Refused(format!(
                    "only the demo corp ({}) resets to the demo: reset corp {corpid} to empty",
                    patrol_demo::DEMO_CORPID
                )));
            }
            let (demo, orders) = demo_records(blobs, clock).await?;
            (kept(demo), orders)
        }
    };
    let summary = ResetSummary {
        corpid: corpid.to_owned(),
        to,
        users: corp.users.len() as u64,
        grids: corp.grids.len() as u64,
        categories: corp.categories.len() as u64,
        media: corp.media.len() as u64,
        orders: orders.len() as u64,
    };
    store.replace_corp(corp).await?;
    store.import_orders(corpid, orders, true).await?;
    Ok(summary)
}

/// A new directory under the system's temporary directory, removed when dropped.
pub(crate) struct TempDir(std::path::PathBuf);

impl TempDir {
    /// `<tmp>/<prefix>-<32 random hex digits>`, created.
    pub(crate) fn new(prefix: &str) -> std::io::Result<TempDir> {
        let mut bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let dir = TempDir(std::env::temp_dir().join(format!("{prefix}-{name}")));
        std::fs::create_dir_all(&dir.0)?;
        Ok(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The demo corp's record and orders, made in a temporary database; its media's blobs are put
/// into `blobs`.
async fn demo_records(
    blobs: &dyn BlobStore,
    clock: &patrol_domain::Clock,
) -> Result<(CorpRecord, Vec<OrderRecord>), SnapshotError> {
    let dir = TempDir::new("patrol-demo")?;
    let demo_store =
        crate::backend::open_store(&dir.0.join("demo.db").display().to_string()).await?;
    let demo_blobs = patrol_media::FsBlobStore::open(dir.0.join("media"))?;
    patrol_demo::install(demo_store.as_ref(), &demo_blobs, clock).await?;
    let record = demo_store
        .export_corp(patrol_demo::DEMO_CORPID)
        .await?
        .ok_or_else(|| SnapshotError::NoCorp(patrol_demo::DEMO_CORPID.to_owned()))?;
    for media in &record.media {
        let size = u64::try_from(media.size).unwrap_or(0);
        copy_blob(&demo_blobs, blobs, BlobId::from_bytes(media.blob), size).await?;
    }
    let mut orders = Vec::new();
    let mut after = 0;
    loop {
        let chunk = demo_store
            .export_orders(record.key, after, ORDERS_PER_LINE)
            .await?;
        let Some(last) = chunk.last() else { break };
        after = last.seq;
        orders.extend(chunk);
    }
    Ok((record, orders))
}

/// Copies a blob from one blob store into another unless it is there already, checking the
/// bytes against its name: `patrol migrate`'s and a reset's copy of media.
pub async fn copy_blob(
    from: &dyn BlobStore,
    to: &dyn BlobStore,
    id: BlobId,
    size: u64,
) -> Result<(), SnapshotError> {
    if to.size(id).await? == Some(size) {
        return Ok(());
    }
    let mut reader = from.open(id, 0, size).await?;
    let stored = to.put(&mut reader, size).await?;
    if stored.id != id || stored.size != size {
        return Err(SnapshotError::Invalid(format!(
            "blob {id} is corrupt: its {} bytes hash to {}",
            stored.size, stored.id
        )));
    }
    Ok(())
}

/// Creates (or truncates) a file for a snapshot, readable by its owner only (mode 0600, as the
/// database's files): a whole-state snapshot holds the database's secrets.
pub async fn create_private(path: &Path) -> std::io::Result<tokio::fs::File> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path).await
}
