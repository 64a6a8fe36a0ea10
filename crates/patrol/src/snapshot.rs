//! `patrol snapshot save|load`: the whole state of a database, or one corp, media included, to
//! a versioned file and back (`patrol_server::snapshot`, the one place of the format).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use patrol_media::BlobStore;
use patrol_server::snapshot::{self, Scope, Summary};
use patrol_store::Store;
use tokio::io::AsyncWriteExt;

use crate::settings::{CommonArgs, Layer, Settings};

#[derive(Debug, Args)]
pub(crate) struct SnapshotArgs {
    #[command(subcommand)]
    command: SnapshotCommand,
}

#[derive(Debug, Subcommand)]
enum SnapshotCommand {
    /// Write the whole state (every corp, the secrets), or one corp, media included, to FILE.
    Save {
        /// The snapshot file to write (replaced once complete).
        file: PathBuf,
        /// Only this corp (loadable next to other corps).
        #[arg(long, value_name = "CORPID")]
        corp: Option<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Load FILE into the database, replacing the corps of it the database holds: refused,
    /// changing nothing, when the file is corrupt, truncated or newer.
    Load {
        /// The snapshot file to load.
        file: PathBuf,
        /// Refuse the load, changing nothing, when the database holds a corp of the snapshot.
        #[arg(long)]
        no_replace: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
}

impl SnapshotArgs {
    /// These flags, with their environment variables, as a layer of settings.
    pub(crate) fn flags(&self) -> Layer {
        match &self.command {
            SnapshotCommand::Save { common, .. } | SnapshotCommand::Load { common, .. } => {
                common.layer()
            }
        }
    }
}

/// One line on what was saved or loaded.
pub(crate) fn describe(summary: &Summary) -> String {
    format!(
        "{} ({}), {} orders, {} blobs ({} bytes){}",
        match summary.scope {
            Scope::All => format!("{} corp(s)", summary.corps.len()),
            Scope::Corp => "corp".to_owned(),
        },
        summary.corps.join(", "),
        summary.orders,
        summary.blobs,
        summary.bytes,
        if summary.secrets {
            ", the database's secrets"
        } else {
            ""
        }
    )
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(args: SnapshotArgs, settings: Settings) -> anyhow::Result<()> {
    let (database, store, blobs) = settings.open_database().await?;
    match args.command {
        SnapshotCommand::Save { file, corp, .. } => {
            let summary = save_file(store.as_ref(), blobs.as_ref(), corp.as_deref(), &file)
                .await
                .with_context(|| format!("cannot save a snapshot of {database}"))?;
            println!("saved {} to {}", describe(&summary), file.display());
        }
        SnapshotCommand::Load {
            file, no_replace, ..
        } => {
            let options = snapshot::LoadOptions {
                secrets: true,
                replace: !no_replace,
            };
            let summary = snapshot::load(store.as_ref(), blobs.as_ref(), &file, options)
                .await
                .with_context(|| format!("cannot load {} into {database}", file.display()))?;
            println!("loaded {} from {}", describe(&summary), file.display());
        }
    }
    Ok(())
}

/// Saves a snapshot to `file` through `FILE.partial`, renamed once complete and synced: a save
/// stopped midway leaves no truncated snapshot under the name.
pub(crate) async fn save_file(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    corp: Option<&str>,
    file: &Path,
) -> anyhow::Result<Summary> {
    let mut partial = file.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let out = snapshot::create_private(&partial)
        .await
        .with_context(|| format!("cannot create {}", partial.display()))?;
    let mut writer = tokio::io::BufWriter::with_capacity(256 * 1024, out);
    let created = patrol_domain::Clock::system().now();
    let result = snapshot::save(store, blobs, corp, created, &mut writer).await;
    let summary = match result {
        Ok(summary) => summary,
        Err(error) => {
            drop(writer);
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(error.into());
        }
    };
    writer.flush().await?;
    let out = writer.into_inner();
    out.sync_all().await?;
    drop(out);
    tokio::fs::rename(&partial, file)
        .await
        .with_context(|| format!("cannot rename {} to {}", partial.display(), file.display()))?;
    Ok(summary)
}
