//! Configuration from defaults, a TOML file, `PATROL_*` environment variables and flags, in
//! rising precedence. Flags and environment variables are read by clap; the file fills in what
//! neither gave.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use serde::Deserialize;

/// The default address to listen on.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Options shared by the commands that open a database.
#[derive(Debug, Clone, Args)]
pub(crate) struct CommonArgs {
    /// Database URL: sqlite://PATH (default: sqlite://DATA_DIR/patrol.db).
    #[arg(long, env = "PATROL_DATABASE", value_name = "URL")]
    pub(crate) database: Option<String>,
    /// A TOML config file (keys: listen, database, demo, token_ttl, public_url, request_timeout,
    /// data_dir, admin_key; and base_url, corpid, corpsecret for patrol orders).
    #[arg(long, env = "PATROL_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Where patrol keeps its files (default: the platform's data directory + /patrol).
    #[arg(long, env = "PATROL_DATA_DIR", value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// The base URL clients reach the server at, for image URLs (default: http://LISTEN).
    #[arg(long, env = "PATROL_PUBLIC_URL", value_name = "URL")]
    pub(crate) public_url: Option<String>,
}

/// The config file. Every key is optional; an unknown key is an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    pub(crate) listen: Option<String>,
    pub(crate) database: Option<String>,
    pub(crate) demo: Option<bool>,
    pub(crate) token_ttl: Option<i64>,
    pub(crate) public_url: Option<String>,
    pub(crate) request_timeout: Option<u64>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) admin_key: Option<String>,
    /// `patrol orders`: the API's base URL (default WeCom's).
    pub(crate) base_url: Option<String>,
    /// `patrol orders`: the corp's id.
    pub(crate) corpid: Option<String>,
    /// `patrol orders`: the secret of an app enabled for patrol.
    pub(crate) corpsecret: Option<String>,
}

impl FileConfig {
    pub(crate) fn load(path: Option<&Path>) -> anyhow::Result<FileConfig> {
        let Some(path) = path else {
            return Ok(FileConfig::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }
}

/// The directory patrol keeps its files in.
pub(crate) fn data_dir(args: &CommonArgs, file: &FileConfig) -> anyhow::Result<PathBuf> {
    if let Some(dir) = args.data_dir.clone().or_else(|| file.data_dir.clone()) {
        return Ok(dir);
    }
    dirs::data_dir()
        .map(|dir| dir.join("patrol"))
        .context("cannot tell the data directory: set --data-dir or PATROL_DATA_DIR")
}

/// The database URL given by a flag, the environment or the file, if any.
pub(crate) fn named_database(args: &CommonArgs, file: &FileConfig) -> Option<String> {
    args.database.clone().or_else(|| file.database.clone())
}

/// `sqlite://` URL of a file in the data directory.
pub(crate) fn sqlite_url(dir: &Path, file: &str) -> String {
    format!("sqlite://{}", dir.join(file).display())
}

/// Parses a listening address.
pub(crate) fn parse_listen(text: &str) -> anyhow::Result<SocketAddr> {
    text.parse().with_context(|| {
        format!("invalid listen address {text:?}: expected HOST:PORT, e.g. {DEFAULT_LISTEN}")
    })
}
