//! `patrol migrate --from URL --to URL`: copies a whole database, media included, between
//! backends (SQLite ⇄ PostgreSQL, or either to itself elsewhere), resumably, then verifies the
//! copy.
//!
//! The copy goes through the store boundary (`patrol_store::transfer`): the secrets first (so
//! cursors and tokens issued before still work), then each corp: its media blobs, its directory
//! with its media rows and an import mark, then its orders in creation order, in chunks, each
//! chunk with its counters and the mark moved past it in one transaction of the target. A
//! migrate stopped anywhere (Ctrl-C, kill -9, a lost connection) goes on from the last committed
//! chunk when run again; corps done are skipped.
//!
//! The verification compares, corp by corp, every stored row's record on both sides (each
//! order's stored wire JSON, the bytes `get_order_list` and `get_order_info` serve, its served
//! offsets and steps included), the statistics' answers (the corp's and every grid's
//! `get_corp_status`, every member's `get_user_status`, `category_statistic` of all and of each
//! category, for both families), and the BLAKE3 hash of every media blob read back on both sides.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::ProgressBar;
use patrol_domain::Family;
use patrol_domain::stats::Day;
use patrol_media::{BlobId, BlobStore};
use patrol_server::backend;
use patrol_store::Store;
use patrol_store::transfer::{CorpImport, CorpRecord, OrderRecord};
use tokio::io::AsyncReadExt;

use crate::settings::Layer;

#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// The database to copy: sqlite://PATH, sqlite:PATH, a file path, or postgres://…
    #[arg(long, value_name = "URL")]
    from: String,
    /// The database to copy into: empty (no corp), or a copy of --from that an earlier migrate
    /// left unfinished (it goes on where it stopped). A SQLite file is created if missing.
    #[arg(long, value_name = "URL")]
    to: String,
    /// The media directory of --from (default: DATABASE_FILE-media/ beside a SQLite database;
    /// required for PostgreSQL).
    #[arg(long, value_name = "DIR")]
    from_media: Option<PathBuf>,
    /// The media directory of --to (default: DATABASE_FILE-media/ beside a SQLite database;
    /// required for PostgreSQL).
    #[arg(long, value_name = "DIR")]
    to_media: Option<PathBuf>,
    /// Orders per transaction of the target: a stopped migrate keeps every whole chunk.
    #[arg(long, default_value_t = 5000, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    chunk: u64,
    /// Only compare --from and --to (as a migrate ends), copying nothing.
    #[arg(long)]
    verify_only: bool,
    /// Do not show a progress bar.
    #[arg(long)]
    quiet: bool,
    /// For the tests: stop with an error after writing N chunks of orders, as a kill would.
    #[arg(long, hide = true, value_name = "N")]
    stop_after_chunks: Option<u64>,
}

impl MigrateArgs {
    /// No setting of the config file applies: both databases are named by flags.
    pub(crate) fn flags(&self) -> Layer {
        Layer::default()
    }
}

/// One side of the move.
struct Side {
    flag: &'static str,
    /// The URL as messages show it (without a password).
    url: String,
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
}

async fn open_side(
    flag: &'static str,
    media_flag: &str,
    url: &str,
    media: Option<&Path>,
    must_exist: bool,
) -> anyhow::Result<Side> {
    let is_postgres = backend::is_postgres_url(url);
    let shown = patrol_store::redacted_url(url);
    if !is_postgres
        && must_exist
        && let Some(path) = backend::sqlite_file(url)
        && !path.exists()
    {
        bail!(
            "{flag} {shown}: there is no database file {}",
            path.display()
        );
    }
    if is_postgres && media.is_none() {
        bail!(
            "{flag} {shown} is a PostgreSQL database: name its media directory with {media_flag}"
        );
    }
    let store = backend::open_store(url)
        .await
        .with_context(|| format!("cannot open {flag} {shown}"))?;
    let blobs = backend::open_blobs(url, media)
        .with_context(|| format!("cannot open the media of {flag} {shown}"))?;
    Ok(Side {
        flag,
        url: shown,
        store,
        blobs,
    })
}

/// Whether two URLs name the same database, as far as can be told without opening them.
fn same_database(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    match (backend::sqlite_file(from), backend::sqlite_file(to)) {
        (Some(a), Some(b)) => {
            let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
            canonical(&a) == canonical(&b)
        }
        _ => false,
    }
}

/// The progress of the whole move: a bar on a terminal, plain lines otherwise.
struct Progress {
    bar: ProgressBar,
    lines: bool,
}

impl Progress {
    fn new(quiet: bool, total: u64) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = if quiet || !terminal {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(total)
        };
        bar.set_style(
            crate::progress::style(
                "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} orders ({rate}, {eta} left) {msg}",
            ),
        );
        Progress {
            bar,
            lines: !quiet && !terminal,
        }
    }

    fn say(&self, line: String) {
        if self.lines {
            eprintln!("{line}");
        } else {
            self.bar.set_message(line);
        }
    }
}

#[derive(Debug, Default)]
struct Tally {
    corps: u64,
    orders: u64,
    media: u64,
    blobs: u64,
    bytes: u64,
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    if same_database(&args.from, &args.to) {
        bail!(
            "--from and --to name the same database ({}): migrate copies into another one",
            args.from
        );
    }
    let started = Instant::now();
    let from = open_side(
        "--from",
        "--from-media",
        &args.from,
        args.from_media.as_deref(),
        true,
    )
    .await?;
    let to = open_side(
        "--to",
        "--to-media",
        &args.to,
        args.to_media.as_deref(),
        false,
    )
    .await?;
    if !args.verify_only {
        copy(&from, &to, &args).await?;
    }
    let copied = started.elapsed();
    let tally = verify(&from, &to, args.chunk as usize, args.quiet).await?;
    println!(
        "{} {} corp(s), {} orders, {} media ({} blobs, {} bytes) from {} to {}: identical; {:.1} s{}",
        if args.verify_only {
            "verified"
        } else {
            "migrated"
        },
        tally.corps,
        tally.orders,
        tally.media,
        tally.blobs,
        tally.bytes,
        from.url,
        to.url,
        started.elapsed().as_secs_f64(),
        if args.verify_only {
            String::new()
        } else {
            format!(
                " (copy {:.1} s, verification {:.1} s)",
                copied.as_secs_f64(),
                (started.elapsed() - copied).as_secs_f64()
            )
        },
    );
    Ok(())
}

/// Copies every corp not yet in the target.
async fn copy(from: &Side, to: &Side, args: &MigrateArgs) -> anyhow::Result<()> {
    let secrets = from.store.secrets().await?;
    let target_corps = to.store.list_corps().await?;
    let marks = to.store.import_marks().await?;
    if target_corps.is_empty() {
        to.store
            .import_secrets(secrets.clone())
            .await
            .with_context(|| format!("cannot write the secrets of {} {}", to.flag, to.url))?;
    } else {
        let copy_of_source =
            marks.source == Some(secrets.cursor_secret) && to.store.secrets().await? == secrets;
        if !copy_of_source {
            let names: Vec<&str> = target_corps
                .iter()
                .take(5)
                .map(|corp| corp.corpid.as_str())
                .collect();
            bail!(
                "--to {} already holds {} corp(s) ({}{}) and is no copy of --from {} left by an \
                 earlier migrate: migrate only into an empty database (name another with --to)",
                to.url,
                target_corps.len(),
                names.join(", "),
                if target_corps.len() > names.len() {
                    ", …"
                } else {
                    ""
                },
                from.url
            );
        }
    }
    let marks = to.store.import_marks().await?;
    let corps = from.store.list_corps().await?;
    // The orders still to copy, for the bar.
    let mut records = Vec::new();
    let mut total = 0;
    for corp in &corps {
        let record = from
            .store
            .export_corp(&corp.corpid)
            .await?
            .with_context(|| format!("corp {} vanished from --from", corp.corpid))?;
        total += record.orders.count;
        records.push(record);
    }
    let progress = Progress::new(args.quiet, total);
    let mut chunks = 0;
    for record in records {
        let corpid = record.corpid.clone();
        let source_key = record.key;
        let count = record.orders.count;
        let mark = match marks.corps.get(&corpid) {
            Some(mark) if mark.done => {
                progress.bar.inc(count);
                progress.say(format!("corp {corpid}: copied before"));
                continue;
            }
            Some(mark) => {
                progress.say(format!(
                    "corp {corpid}: resuming after order sequence {}",
                    mark.last_seq
                ));
                *mark
            }
            None => {
                if target_corps.iter().any(|corp| corp.corpid == corpid) {
                    bail!(
                        "--to {} holds corp {corpid} without a mark of this migrate: migrate \
                         into an empty database",
                        to.url
                    );
                }
                copy_blobs(from, to, &record, &progress).await?;
                progress.say(format!(
                    "corp {corpid}: directory and {} media",
                    record.media.len()
                ));
                to.store
                    .import_corp(record)
                    .await
                    .with_context(|| format!("cannot write corp {corpid} into --to {}", to.url))?
            }
        };
        if !mark.done {
            copy_orders(
                from,
                to,
                &corpid,
                source_key,
                mark,
                args,
                &progress,
                &mut chunks,
            )
            .await?;
        }
    }
    progress.bar.finish_and_clear();
    Ok(())
}

/// Copies the blobs of a corp's media the target lacks.
async fn copy_blobs(
    from: &Side,
    to: &Side,
    record: &CorpRecord,
    progress: &Progress,
) -> anyhow::Result<()> {
    let mut seen = std::collections::HashSet::new();
    for media in &record.media {
        let id = BlobId::from_bytes(media.blob);
        if !seen.insert(id) {
            continue;
        }
        let size = u64::try_from(media.size).unwrap_or(0);
        patrol_server::snapshot::copy_blob(from.blobs.as_ref(), to.blobs.as_ref(), id, size)
            .await
            .with_context(|| {
                format!(
                    "media {} of corp {}: cannot copy blob {id} from the media of --from into \
                     the media of --to",
                    media.media_id, record.corpid
                )
            })?;
    }
    progress.say(format!(
        "corp {}: {} blobs in place",
        record.corpid,
        seen.len()
    ));
    Ok(())
}

/// Copies a corp's orders after its mark, a chunk per transaction of the target; reading the
/// next chunk overlaps writing the current one.
#[allow(clippy::too_many_arguments)]
async fn copy_orders(
    from: &Side,
    to: &Side,
    corpid: &str,
    source_key: i64,
    mark: CorpImport,
    args: &MigrateArgs,
    progress: &Progress,
    chunks: &mut u64,
) -> anyhow::Result<()> {
    let chunk = args.chunk as usize;
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<anyhow::Result<Vec<OrderRecord>>>(2);
    let reader = {
        let store = from.store.clone();
        let mut after = mark.last_seq;
        tokio::spawn(async move {
            loop {
                let orders = store.export_orders(source_key, after, chunk).await;
                let last = match &orders {
                    Ok(orders) => orders.last().map(|order| order.seq),
                    Err(_) => None,
                };
                let end = last.is_none();
                if sender
                    .send(orders.map_err(anyhow::Error::from))
                    .await
                    .is_err()
                    || end
                {
                    break;
                }
                after = last.unwrap_or(after);
            }
        })
    };
    let result = async {
        while let Some(orders) = receiver.recv().await {
            let orders =
                orders.with_context(|| format!("cannot read the orders of corp {corpid}"))?;
            let count = orders.len() as u64;
            let done = orders.len() < chunk;
            let mark = to
                .store
                .import_orders(corpid, orders, done)
                .await
                .with_context(|| {
                    format!("cannot write orders of corp {corpid} into --to {}", to.url)
                })?;
            progress.bar.inc(count);
            *chunks += 1;
            if progress.lines && ((*chunks).is_multiple_of(20) || done) {
                progress.say(format!(
                    "corp {corpid}: orders up to sequence {} copied{}",
                    mark.last_seq,
                    if done { "; done" } else { "" }
                ));
            }
            if done {
                return Ok(());
            }
            if args.stop_after_chunks.is_some_and(|stop| *chunks >= stop) {
                bail!("stopped after {} chunks (--stop-after-chunks)", *chunks);
            }
        }
        bail!("the reader of corp {corpid}'s orders stopped early")
    }
    .await;
    reader.abort();
    result
}

/// A difference found by the verification.
struct Differences {
    found: Vec<String>,
}

impl Differences {
    fn add(&mut self, what: String) {
        self.found.push(what);
    }
}

/// The fields two serializable records differ in.
fn differing_fields<T: serde::Serialize>(a: &T, b: &T) -> Vec<String> {
    let (a, b) = (
        serde_json::to_value(a).unwrap_or_default(),
        serde_json::to_value(b).unwrap_or_default(),
    );
    match (a, b) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => a
            .iter()
            .filter(|(key, value)| b.get(*key) != Some(*value))
            .map(|(key, _)| key.clone())
            .collect(),
        _ => vec!["value".to_owned()],
    }
}

/// Compares the two databases; fails naming the differences.
async fn verify(from: &Side, to: &Side, chunk: usize, quiet: bool) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    let mut differences = Differences { found: Vec::new() };
    if from.store.secrets().await? != to.store.secrets().await? {
        differences.add("the secrets (cursor secret, token key) differ".into());
    }
    let source = from.store.list_corps().await?;
    let target = to.store.list_corps().await?;
    let ids = |corps: &[patrol_domain::Corp]| {
        corps
            .iter()
            .map(|corp| corp.corpid.clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    for extra in ids(&target).difference(&ids(&source)) {
        differences.add(format!("corp {extra} is in --to only"));
    }
    let marks = to.store.import_marks().await?;
    let total = {
        let mut total = 0;
        for corp in &source {
            if let Some(record) = from.store.export_corp(&corp.corpid).await? {
                total += record.orders.count;
            }
        }
        total
    };
    let progress = Progress::new(quiet, total);
    progress.say("verifying".into());
    let now = patrol_domain::Clock::system().now();
    let zone = patrol_server::config::default_time_zone();
    let today = Day::of(now, &zone);
    let mut hashed = std::collections::HashSet::new();
    for corp in &source {
        let corpid = &corp.corpid;
        let Some(a) = from.store.export_corp(corpid).await? else {
            continue;
        };
        let Some(b) = to.store.export_corp(corpid).await? else {
            differences.add(format!("corp {corpid} is missing from --to"));
            continue;
        };
        tally.corps += 1;
        let offset = marks.corps.get(corpid).map_or(0, |mark| mark.seq_offset);
        // Keys are each database's own; creation sequences may be offset.
        let mut b_same = b.clone();
        b_same.key = a.key;
        b_same.orders.first_seq -= offset;
        b_same.orders.last_seq -= offset;
        if b.orders.count == 0 {
            b_same.orders = a.orders;
        }
        if a != b_same {
            differences.add(format!(
                "corp {corpid}: {} differ",
                differing_fields(&a, &b_same).join(", ")
            ));
        }
        // Every order, in creation order on both sides.
        let (mut after_a, mut after_b) = (0, 0);
        loop {
            let (orders_a, orders_b) = tokio::try_join!(
                from.store.export_orders(a.key, after_a, chunk),
                to.store.export_orders(b.key, after_b, chunk),
            )?;
            if orders_a.is_empty() && orders_b.is_empty() {
                break;
            }
            for pair in orders_a.iter().zip(orders_b.iter()) {
                let (x, y) = pair;
                let mut y = y.clone();
                y.seq -= offset;
                if x != &y {
                    differences.add(format!(
                        "corp {corpid}, order {}: {} differ",
                        x.order_id,
                        differing_fields(x, &y).join(", ")
                    ));
                }
            }
            if orders_a.len() != orders_b.len() {
                differences.add(format!(
                    "corp {corpid}: the orders after sequence {after_a} differ in number"
                ));
                break;
            }
            tally.orders += orders_a.len() as u64;
            progress.bar.inc(orders_a.len() as u64);
            after_a = orders_a.last().map_or(after_a, |order| order.seq);
            after_b = orders_b.last().map_or(after_b, |order| order.seq);
        }
        verify_statistics(from, to, &a, &b, today, &mut differences).await?;
        // Every blob, read back and hashed on both sides.
        tally.media += a.media.len() as u64;
        for media in &a.media {
            let id = BlobId::from_bytes(media.blob);
            if !hashed.insert(id) {
                continue;
            }
            let size = u64::try_from(media.size).unwrap_or(0);
            for side in [from, to] {
                match hash_blob(side.blobs.as_ref(), id, size).await {
                    Ok(hash) if hash == id => {}
                    Ok(hash) => differences.add(format!(
                        "media {} of corp {corpid}: blob {id} in the media of {} hashes to {hash}",
                        media.media_id, side.flag
                    )),
                    Err(error) => differences.add(format!(
                        "media {} of corp {corpid}: blob {id} in the media of {}: {error:#}",
                        media.media_id, side.flag
                    )),
                }
            }
            tally.blobs += 1;
            tally.bytes += size;
        }
    }
    progress.bar.finish_and_clear();
    if !differences.found.is_empty() {
        for line in differences.found.iter().take(50) {
            eprintln!("difference: {line}");
        }
        bail!(
            "--to {} differs from --from {} in {} place(s) (listed above{})",
            to.url,
            from.url,
            differences.found.len(),
            if differences.found.len() > 50 {
                ", the first 50"
            } else {
                ""
            }
        );
    }
    Ok(tally)
}

/// The BLAKE3 hash of a blob's bytes as a blob store reads them back.
async fn hash_blob(blobs: &dyn BlobStore, id: BlobId, size: u64) -> anyhow::Result<BlobId> {
    let mut reader = blobs.open(id, 0, size).await?;
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut read = 0u64;
    loop {
        let n = reader.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        read += n as u64;
        hasher.update(&buffer[..n]);
    }
    anyhow::ensure!(read == size, "{read} bytes where {size} were expected");
    Ok(BlobId::from_bytes(*hasher.finalize().as_bytes()))
}

/// The answers of the statistics calls of a corp, on both sides.
async fn verify_statistics(
    from: &Side,
    to: &Side,
    a: &CorpRecord,
    b: &CorpRecord,
    today: Day,
    differences: &mut Differences,
) -> anyhow::Result<()> {
    let corpid = &a.corpid;
    for family in [Family::Patrol, Family::Resident] {
        let mut grids: Vec<Option<&str>> = vec![None];
        grids.extend(a.grids.iter().map(|grid| Some(grid.grid_id.as_str())));
        for grid in grids {
            let x = from.store.corp_status(a.key, family, grid, today).await?;
            let y = to.store.corp_status(b.key, family, grid, today).await?;
            if x != y {
                differences.add(format!(
                    "corp {corpid}: get_corp_status of {} {} differs: {x:?} / {y:?}",
                    family.as_str(),
                    grid.map_or("(the corp)".to_owned(), |grid| format!("grid {grid}"))
                ));
            }
        }
        for user in &a.users {
            let x = from
                .store
                .user_status(a.key, family, &user.userid, today)
                .await?;
            let y = to
                .store
                .user_status(b.key, family, &user.userid, today)
                .await?;
            if x != y {
                differences.add(format!(
                    "corp {corpid}: get_user_status of {} {} differs: {x:?} / {y:?}",
                    family.as_str(),
                    user.userid
                ));
            }
        }
        let mut categories: Vec<Option<&str>> = vec![None];
        categories.extend(a.categories.iter().map(|c| Some(c.category_id.as_str())));
        for category in categories {
            let x = from
                .store
                .category_statistic(a.key, family, category)
                .await?;
            let y = to.store.category_statistic(b.key, family, category).await?;
            if x != y {
                differences.add(format!(
                    "corp {corpid}: category_statistic of {} {} differs",
                    family.as_str(),
                    category.unwrap_or("(all)")
                ));
            }
        }
    }
    Ok(())
}
