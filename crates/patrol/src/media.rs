//! `patrol media`: upload a file through WeCom's `media/upload` and download one through
//! `media/get`, from WeCom or a patrol server, streamed both ways.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use crate::orders::{ApiArgs, connect, describe};
use crate::settings::{Layer, Settings};

#[derive(Debug, Args)]
pub(crate) struct MediaArgs {
    #[command(flatten)]
    api: ApiArgs,
    #[command(subcommand)]
    command: MediaCommand,
}

impl MediaArgs {
    /// These flags, with their environment variables, as a layer of settings.
    pub(crate) fn flags(&self) -> Layer {
        self.api.flags()
    }
}

#[derive(Debug, Subcommand)]
enum MediaCommand {
    /// Upload a file; prints its media_id (valid 3 days at WeCom and in patrol).
    Upload {
        /// What the file is: image (JPG, PNG, at most 10 MB), voice (AMR, 2 MB), video (MP4,
        /// 10 MB) or file (20 MB).
        #[arg(long = "type", value_enum, value_name = "TYPE")]
        media_type: MediaType,
        /// The file.
        file: PathBuf,
        /// Print the whole answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Download a file by its media_id; a partial file is resumed, a file over 20 MB comes in
    /// 20 MB ranges.
    Get {
        media_id: String,
        /// Where to write it [default: MEDIA_ID in the current directory].
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MediaType {
    Image,
    Voice,
    Video,
    File,
}

impl MediaType {
    fn wire(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Voice => "voice",
            MediaType::Video => "video",
            MediaType::File => "file",
        }
    }
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(args: MediaArgs, settings: Settings) -> anyhow::Result<()> {
    let client = connect(&settings)?;
    match args.command {
        MediaCommand::Upload {
            media_type,
            file,
            json,
        } => {
            let answer = client
                .upload_media(media_type.wire(), &file)
                .await
                .map_err(describe)
                .with_context(|| format!("cannot upload {}", file.display()))?;
            if json {
                println!("{}", serde_json::to_string(&answer)?);
            } else {
                println!("{}", answer.media_id);
            }
        }
        MediaCommand::Get { media_id, output } => {
            let path = output.unwrap_or_else(|| PathBuf::from(&media_id));
            let download = client
                .download_media(&media_id, &path)
                .await
                .map_err(describe)
                .with_context(|| format!("cannot download {media_id}"))?;
            let resumed = if download.resumed_from > 0 {
                format!(", resumed after {} bytes", download.resumed_from)
            } else {
                String::new()
            };
            println!(
                "{} ({} bytes, {}{resumed})",
                path.display(),
                download.size,
                download.content_type
            );
        }
    }
    Ok(())
}
