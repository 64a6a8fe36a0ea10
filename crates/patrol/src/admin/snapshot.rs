//! `patrol admin snapshot save|load`: a running server's snapshots, through `GET` and
//! `POST /admin/v1/snapshot`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use futures_util::StreamExt;
use patrol_server::snapshot::{self, Summary};
use tokio::io::AsyncWriteExt;

use super::client::Client;
use crate::snapshot::describe;

#[derive(Debug, Subcommand)]
pub(crate) enum SnapshotCommand {
    /// Download a snapshot of the server's whole state, or of one corp, to FILE (checked
    /// whole before it takes the name).
    Save {
        /// The snapshot file to write.
        file: PathBuf,
        /// Only this corp.
        #[arg(long, value_name = "CORPID")]
        corp: Option<String>,
    },
    /// Send FILE to the server, which loads it, replacing the corps of it the server holds
    /// (never its secrets: the server keeps its own).
    Load {
        /// The snapshot file to send.
        file: PathBuf,
        /// Refuse the load, changing nothing, when the server holds a corp of the snapshot.
        #[arg(long)]
        no_replace: bool,
    },
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(client: &Client, command: SnapshotCommand) -> anyhow::Result<()> {
    match command {
        SnapshotCommand::Save { file, corp } => {
            let query: Vec<(&str, &str)> =
                corp.as_deref().map(|c| ("corp", c)).into_iter().collect();
            let response = client.download(&["snapshot"], &query).await?;
            let summary = save_to(response, &file).await?;
            println!("saved {} to {}", describe(&summary), file.display());
        }
        SnapshotCommand::Load { file, no_replace } => {
            let opened = tokio::fs::File::open(&file)
                .await
                .with_context(|| format!("cannot open {}", file.display()))?;
            let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(opened));
            let query: &[(&str, &str)] = if no_replace {
                &[("replace", "false")]
            } else {
                &[]
            };
            if let Some(summary) = client.upload::<Summary>(&["snapshot"], query, body).await? {
                println!("loaded {} from {}", describe(&summary), file.display());
            }
        }
    }
    Ok(())
}

/// Writes a streamed snapshot to `FILE.partial`, checks it whole, and renames it to `file`.
async fn save_to(response: reqwest::Response, file: &Path) -> anyhow::Result<Summary> {
    let mut partial = file.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let result = async {
        let mut out = snapshot::create_private(&partial)
            .await
            .with_context(|| format!("cannot create {}", partial.display()))?;
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.context("the snapshot's download broke off")?;
            out.write_all(&chunk).await?;
        }
        out.sync_all().await?;
        drop(out);
        let (_, summary) = snapshot::check(&partial)
            .await
            .context("the server sent no whole snapshot (see its log)")?;
        tokio::fs::rename(&partial, file).await.with_context(|| {
            format!("cannot rename {} to {}", partial.display(), file.display())
        })?;
        anyhow::Ok(summary)
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&partial).await;
    }
    result
}
