//! The one configuration layer of every subcommand. A setting comes from, in rising precedence:
//! its default, the TOML config file (`--config FILE` or `PATROL_CONFIG`), its `PATROL_*`
//! environment variable, its flag. Clap reads a flag together with its variable (a flag beats
//! its variable); [`Layer::resolve`] lays that over the file, and [`Settings::from_layer`] fills
//! in the rest with the defaults. A key a subcommand has no flag for comes from the file or its
//! default only.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use patrol_client::WECOM_BASE_URL;
use patrol_store::Durability;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The default address to listen on.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Options of the commands that open a database (`serve`, `seed`).
#[derive(Debug, Clone, Args)]
pub(crate) struct CommonArgs {
    /// Database URL: sqlite://PATH (default: sqlite://DATA_DIR/patrol.db).
    #[arg(long, env = "PATROL_DATABASE", value_name = "URL")]
    pub(crate) database: Option<String>,
    /// Where patrol keeps its files (default: the platform's data directory + /patrol).
    #[arg(long, env = "PATROL_DATA_DIR", value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// The base URL clients reach the server at, for image URLs (default: http://LISTEN).
    #[arg(long, env = "PATROL_PUBLIC_URL", value_name = "URL")]
    pub(crate) public_url: Option<String>,
    /// When a write is acknowledged: `full`, on stable storage (survives a power cut), or
    /// `normal`, in the operating system's hands (survives a crash of patrol only) [default: full].
    #[arg(long, env = "PATROL_DURABILITY", value_name = "full|normal")]
    pub(crate) durability: Option<String>,
    /// Where the bytes of uploaded media live (default: DATABASE_FILE-media/ beside a SQLite
    /// database).
    #[arg(long, env = "PATROL_MEDIA_DIR", value_name = "DIR")]
    pub(crate) media_dir: Option<PathBuf>,
}

impl CommonArgs {
    /// These flags as a layer of settings.
    pub(crate) fn layer(&self) -> Layer {
        Layer {
            database: self.database.clone(),
            data_dir: self.data_dir.clone(),
            public_url: self.public_url.clone(),
            durability: self.durability.clone(),
            media_dir: self.media_dir.clone(),
            ..Layer::default()
        }
    }
}

/// How log lines are written to stderr: `text` for people (coloured only on a terminal), `json`
/// for collectors, one object a line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Every setting as one source gives it, each optional: the config file (where an unknown key
/// is an error), or a subcommand's flags with their environment variables.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Layer {
    pub(crate) listen: Option<String>,
    pub(crate) database: Option<String>,
    /// `serve`: read replicas of a PostgreSQL database.
    pub(crate) database_replicas: Option<Vec<String>>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) demo: Option<bool>,
    pub(crate) token_ttl: Option<i64>,
    pub(crate) public_url: Option<String>,
    pub(crate) request_timeout: Option<u64>,
    pub(crate) durability: Option<String>,
    pub(crate) media_dir: Option<PathBuf>,
    pub(crate) header_read_timeout: Option<u64>,
    pub(crate) idle_timeout: Option<u64>,
    pub(crate) max_connections: Option<usize>,
    pub(crate) max_connections_per_ip: Option<usize>,
    pub(crate) time_zone: Option<String>,
    /// `serve`: enforce WeCom's call-frequency limits.
    pub(crate) quotas: Option<bool>,
    /// `serve`: quota limits, `NAME=N` each.
    pub(crate) quota: Option<Vec<String>>,
    /// `serve`: the request journal's bounds.
    pub(crate) journal_entries: Option<usize>,
    pub(crate) journal_bytes: Option<usize>,
    pub(crate) snapshot: Option<PathBuf>,
    /// `serve`: a file of fault rules in force from the start.
    pub(crate) faults: Option<PathBuf>,
    pub(crate) admin_key: Option<SecretString>,
    pub(crate) admin_key_file: Option<PathBuf>,
    /// `patrol orders`, `stats`, `media`: the API's base URL.
    pub(crate) base_url: Option<String>,
    /// `patrol orders`, `stats`, `media`: the corp's id.
    pub(crate) corpid: Option<String>,
    /// `patrol orders`, `stats`, `media`: the secret of an app on the list of the family read.
    pub(crate) corpsecret: Option<SecretString>,
    /// Every subcommand: how log lines are written.
    pub(crate) log_format: Option<LogFormat>,
}

impl Layer {
    /// `flags` (a subcommand's flags with their environment variables) over the config file
    /// `config`: every source but the defaults.
    pub(crate) fn resolve(config: Option<&Path>, flags: Layer) -> anyhow::Result<Layer> {
        Ok(flags.over(Layer::file(config)?))
    }

    /// The config file's layer; no file, an empty layer.
    fn file(path: Option<&Path>) -> anyhow::Result<Layer> {
        let Some(path) = path else {
            return Ok(Layer::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }

    /// This layer over `lower`: a key this layer sets wins; a blank text counts as unset.
    fn over(self, lower: Layer) -> Layer {
        fn text(high: Option<String>, low: Option<String>) -> Option<String> {
            let set = |value: &String| !value.trim().is_empty();
            high.filter(set).or(low.filter(set))
        }
        fn list(high: Option<Vec<String>>, low: Option<Vec<String>>) -> Option<Vec<String>> {
            let set = |values: &Vec<String>| values.iter().any(|value| !value.trim().is_empty());
            high.filter(set).or(low.filter(set))
        }
        fn secret(high: Option<SecretString>, low: Option<SecretString>) -> Option<SecretString> {
            let set = |value: &SecretString| !value.expose_secret().trim().is_empty();
            high.filter(set).or(low.filter(set))
        }
        Layer {
            listen: text(self.listen, lower.listen),
            database: text(self.database, lower.database),
            database_replicas: list(self.database_replicas, lower.database_replicas),
            data_dir: self.data_dir.or(lower.data_dir),
            demo: self.demo.or(lower.demo),
            token_ttl: self.token_ttl.or(lower.token_ttl),
            public_url: text(self.public_url, lower.public_url),
            request_timeout: self.request_timeout.or(lower.request_timeout),
            durability: text(self.durability, lower.durability),
            media_dir: self.media_dir.or(lower.media_dir),
            header_read_timeout: self.header_read_timeout.or(lower.header_read_timeout),
            idle_timeout: self.idle_timeout.or(lower.idle_timeout),
            max_connections: self.max_connections.or(lower.max_connections),
            max_connections_per_ip: self.max_connections_per_ip.or(lower.max_connections_per_ip),
            time_zone: text(self.time_zone, lower.time_zone),
            quotas: self.quotas.or(lower.quotas),
            quota: list(self.quota, lower.quota),
            journal_entries: self.journal_entries.or(lower.journal_entries),
            journal_bytes: self.journal_bytes.or(lower.journal_bytes),
            snapshot: self.snapshot.or(lower.snapshot),
            faults: self.faults.or(lower.faults),
            admin_key: secret(self.admin_key, lower.admin_key),
            admin_key_file: self.admin_key_file.or(lower.admin_key_file),
            base_url: text(self.base_url, lower.base_url),
            corpid: text(self.corpid, lower.corpid),
            corpsecret: secret(self.corpsecret, lower.corpsecret),
            log_format: self.log_format.or(lower.log_format),
        }
    }
}

/// The settings every subcommand reads, resolved from all layers. `None` leaves the choice to
/// the subcommand (a default database file, a generated admin key) or to `patrol_server`'s
/// defaults (`token_ttl`, `request_timeout`).
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) listen: String,
    pub(crate) database: Option<String>,
    /// Read replicas of a PostgreSQL database (`serve`); none by default.
    pub(crate) database_replicas: Vec<String>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) demo: bool,
    pub(crate) token_ttl: Option<i64>,
    pub(crate) public_url: Option<String>,
    pub(crate) request_timeout: Option<u64>,
    pub(crate) durability: Durability,
    pub(crate) media_dir: Option<PathBuf>,
    pub(crate) header_read_timeout: Option<u64>,
    pub(crate) idle_timeout: Option<u64>,
    pub(crate) max_connections: Option<usize>,
    pub(crate) max_connections_per_ip: Option<usize>,
    /// The time zone of the statistics' "today"; `None`: Asia/Shanghai.
    pub(crate) time_zone: Option<String>,
    /// Quotas on (`Some(true)`), off (`Some(false)`, even with limits set) or unset.
    pub(crate) quotas: Option<bool>,
    /// Quota limits, `NAME=N` each (setting one turns quotas on unless they are switched off).
    pub(crate) quota: Vec<String>,
    /// The request journal's bounds; `None`: `patrol_server`'s defaults.
    pub(crate) journal_entries: Option<usize>,
    pub(crate) journal_bytes: Option<usize>,
    /// `serve`: a snapshot file to load at start.
    pub(crate) snapshot: Option<PathBuf>,
    /// `serve`: a file of fault rules in force from the start.
    pub(crate) faults: Option<PathBuf>,
    pub(crate) admin_key: Option<SecretString>,
    pub(crate) base_url: String,
    pub(crate) corpid: Option<String>,
    pub(crate) corpsecret: Option<SecretString>,
}

/// A database a command opened: its URL as messages show it (without a password), its store and
/// the blobs of its media.
pub(crate) type Opened = (
    String,
    std::sync::Arc<dyn patrol_store::Store>,
    std::sync::Arc<dyn patrol_media::BlobStore>,
);

impl Settings {
    /// Opens the database and the media the settings name (the data directory's `patrol.db`
    /// when none), for a command that writes (`seed`, `snapshot`): no read replica.
    pub(crate) async fn open_database(&self) -> anyhow::Result<Opened> {
        let database = match self.database.clone() {
            Some(url) => url,
            None => sqlite_url(&self.data_dir()?, "patrol.db"),
        };
        let shown = patrol_store::redacted_url(&database);
        let options = patrol_store::OpenOptions {
            durability: self.durability,
            fresh: false,
            replicas: Vec::new(),
        };
        let store = match patrol_server::backend::open_store_with(&database, &options).await {
            Ok(store) => store,
            Err(error @ patrol_store::StoreError::Open { .. }) => {
                let data_dir = match self.database {
                    Some(_) => None,
                    None => Some(self.data_dir()?),
                };
                return Err(open_failed(&error, data_dir.as_deref()));
            }
            Err(error) => {
                return Err(anyhow::Error::new(error).context(format!("cannot open {shown}")));
            }
        };
        let blobs = patrol_server::backend::open_blobs(&database, self.media_dir.as_deref())
            .with_context(|| format!("cannot open the media of {shown}"))?;
        Ok((shown, store, blobs))
    }

    /// The quota limits `serve` enforces: `None` when quotas are off. `--quotas` turns them on
    /// with WeCom's limits, and any `--quota NAME=N` changes one and turns them on too, unless
    /// quotas are switched off explicitly (`--quotas=false`).
    pub(crate) fn quota_limits(&self) -> anyhow::Result<Option<patrol_server::quota::QuotaLimits>> {
        if self.quotas == Some(false) || (self.quotas.is_none() && self.quota.is_empty()) {
            return Ok(None);
        }
        let mut limits = patrol_server::quota::QuotaLimits::default();
        for assignment in &self.quota {
            limits
                .set(assignment)
                .map_err(|message| anyhow::anyhow!("{message} (--quota, PATROL_QUOTA, quota)"))?;
        }
        Ok(Some(limits))
    }

    /// The settings of every source ([`Layer::resolve`]) with the defaults filled in.
    pub(crate) fn from_layer(layer: Layer) -> anyhow::Result<Settings> {
        let durability = match layer.durability.as_deref().map(str::trim) {
            None => Durability::default(),
            Some(name) => Durability::parse(name).with_context(|| {
                format!(
                    "invalid durability {name:?}: expected one of {}",
                    Durability::NAMES
                )
            })?,
        };
        let admin_key = match (layer.admin_key, layer.admin_key_file) {
            (Some(_), Some(file)) => anyhow::bail!(
                "both an admin key and an admin key file ({}) are set: keep one",
                file.display()
            ),
            (key, None) => key,
            (None, Some(file)) => Some(read_key_file(&file)?),
        };
        Ok(Settings {
            listen: layer.listen.unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            database: layer.database,
            database_replicas: layer
                .database_replicas
                .unwrap_or_default()
                .iter()
                .map(|url| url.trim())
                .filter(|url| !url.is_empty())
                .map(str::to_owned)
                .collect(),
            data_dir: layer.data_dir,
            demo: layer.demo.unwrap_or(false),
            token_ttl: layer.token_ttl,
            public_url: layer.public_url,
            request_timeout: layer.request_timeout,
            durability,
            media_dir: layer.media_dir,
            header_read_timeout: layer.header_read_timeout,
            idle_timeout: layer.idle_timeout,
            max_connections: layer.max_connections,
            max_connections_per_ip: layer.max_connections_per_ip,
            time_zone: layer.time_zone,
            quotas: layer.quotas,
            quota: layer
                .quota
                .unwrap_or_default()
                .iter()
                .map(|limit| limit.trim())
                .filter(|limit| !limit.is_empty())
                .map(str::to_owned)
                .collect(),
            journal_entries: layer.journal_entries,
            journal_bytes: layer.journal_bytes,
            snapshot: layer.snapshot,
            faults: layer.faults,
            admin_key,
            base_url: layer
                .base_url
                .map_or_else(|| WECOM_BASE_URL.to_owned(), |url| url.trim().to_owned()),
            corpid: layer.corpid.map(|corpid| corpid.trim().to_owned()),
            corpsecret: layer.corpsecret,
        })
    }

    /// The addresses to listen on (a host name may resolve to several; the first that binds
    /// serves): see [`listen_addresses`].
    pub(crate) fn listen_address(&self) -> anyhow::Result<Vec<SocketAddr>> {
        listen_addresses(&self.listen).map_err(|problem| {
            anyhow::anyhow!(
                "{problem} (set by --listen, PATROL_LISTEN or `listen` in the config file)"
            )
        })
    }

    /// The directory patrol keeps its files in.
    pub(crate) fn data_dir(&self) -> anyhow::Result<PathBuf> {
        if let Some(dir) = &self.data_dir {
            return Ok(dir.clone());
        }
        dirs::data_dir()
            .map(|dir| dir.join("patrol"))
            .context("cannot tell the data directory: set --data-dir or PATROL_DATA_DIR")
    }
}

/// A database that could not be opened (the error names the file or URL), with the settings
/// that choose another: `--database`, or `--data-dir` when the database is the data directory's
/// `patrol.db` (`data_dir`). The fix comes last, on the same line.
pub(crate) fn open_failed(
    error: &patrol_store::StoreError,
    data_dir: Option<&Path>,
) -> anyhow::Error {
    let fix = match data_dir {
        Some(dir) => format!(
            "the database is in the data directory {}: choose another with --data-dir, \
             PATROL_DATA_DIR or `data_dir` in the config file, or name a database with \
             --database or PATROL_DATABASE",
            dir.display()
        ),
        None => "choose another database with --database, PATROL_DATABASE or `database` in the \
                 config file"
            .to_owned(),
    };
    anyhow::anyhow!("{}; {fix}", error.chain())
}

/// What `--listen` may say, for error messages.
const LISTEN_FORMS: &str = "expected HOST:PORT, :PORT or PORT, e.g. 127.0.0.1:8080, \
                            localhost:8080, [::1]:8080, 0.0.0.0:8080, :8080 or 8080";

/// The addresses a listen setting names: `HOST:PORT` (an IP address, `[IPv6]`, or a host name,
/// resolved), or `:PORT` / `PORT` on the default host 127.0.0.1, so that a short form never
/// opens the server to the network (`0.0.0.0:PORT` does). Port 0 picks a free port.
pub(crate) fn listen_addresses(text: &str) -> Result<Vec<SocketAddr>, String> {
    let text = text.trim();
    let invalid = |why: &str| format!("invalid listen address {text:?}: {why}; {LISTEN_FORMS}");
    let port_of = |port: &str| -> Result<u16, String> {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(&format!("{port:?} is not a port")));
        }
        port.parse()
            .map_err(|_| invalid(&format!("port {port} is not between 0 and 65535")))
    };
    let default_host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() {
        return Ok(vec![SocketAddr::new(default_host, port_of(text)?)]);
    }
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(vec![address]);
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(invalid("no port"));
    };
    let port = port_of(port)?;
    if host.is_empty() {
        return Ok(vec![SocketAddr::new(default_host, port)]);
    }
    if host.contains(':') && !host.starts_with('[') {
        return Err(invalid(&format!(
            "{host:?} is not a host: an IPv6 address goes in brackets, [{host}]:{port}"
        )));
    }
    let host = host
        .strip_prefix('[')
        .and_then(|host| host.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(invalid(&format!("{host:?} is not an IPv4 address")));
    }
    if host.contains(':') || host.contains(['[', ']', '/', ' ']) {
        return Err(invalid(&format!("{host:?} is not a host")));
    }
    let addresses: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|error| invalid(&format!("cannot resolve the host {host:?} ({error})")))?
        .collect();
    if addresses.is_empty() {
        return Err(invalid(&format!("the host {host:?} has no address")));
    }
    Ok(addresses)
}

/// A listener on the first of `addresses` that binds; `text` is the setting as given and `fix`
/// names what sets it, for the error.
pub(crate) async fn bind(
    addresses: &[SocketAddr],
    text: &str,
    fix: &str,
) -> anyhow::Result<tokio::net::TcpListener> {
    let error = match tokio::net::TcpListener::bind(addresses).await {
        Ok(listener) => return Ok(listener),
        Err(error) => error,
    };
    let shown = match addresses {
        [one] if one.to_string() == text.trim() => one.to_string(),
        _ => format!(
            "{} ({})",
            text.trim(),
            addresses
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let why = match error.kind() {
        std::io::ErrorKind::AddrInUse => {
            "the address is in use (another patrol, or another program, listens there)".to_owned()
        }
        std::io::ErrorKind::AddrNotAvailable => {
            "no network interface of this machine has that address".to_owned()
        }
        std::io::ErrorKind::PermissionDenied => {
            "permission denied (ports below 1024 need privileges)".to_owned()
        }
        _ => error.to_string(),
    };
    anyhow::bail!("cannot listen on {shown}: {why}; choose another address with {fix}")
}

/// The admin key kept in a file (its first line, without surrounding blanks): a key given on
/// the command line shows in `ps`, one in a file readable by its owner only does not.
fn read_key_file(path: &Path) -> anyhow::Result<SecretString> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the admin key file {}", path.display()))?;
    let key = text.lines().next().unwrap_or("").trim();
    anyhow::ensure!(
        !key.is_empty(),
        "the admin key file {} is empty",
        path.display()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(metadata) = std::fs::metadata(path)
            && metadata.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                file = %path.display(),
                "the admin key file is readable by other users: chmod 600 it"
            );
        }
    }
    Ok(SecretString::from(key.to_owned()))
}

/// `sqlite://` URL of a file in the data directory.
pub(crate) fn sqlite_url(dir: &Path, file: &str) -> String {
    format!("sqlite://{}", dir.join(file).display())
}

/// A secret given by a flag or an environment variable, for clap.
pub(crate) fn secret(text: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Layer {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn a_listen_address_is_host_and_port_or_a_port_alone() {
        let one = |text: &str| listen_addresses(text).map(|all| all[0].to_string());
        assert_eq!(one("127.0.0.1:8081").unwrap(), "127.0.0.1:8081");
        assert_eq!(one("0.0.0.0:8081").unwrap(), "0.0.0.0:8081");
        assert_eq!(one("[::1]:8081").unwrap(), "[::1]:8081");
        // A port alone, or after a colon, listens on the default host, never the network.
        assert_eq!(one("8081").unwrap(), "127.0.0.1:8081");
        assert_eq!(one(":8081").unwrap(), "127.0.0.1:8081");
        assert_eq!(one(" 8081 ").unwrap(), "127.0.0.1:8081");
        assert_eq!(one("0").unwrap(), "127.0.0.1:0");
        // A host name is resolved: localhost is a loopback address, each of them on the port.
        let local = listen_addresses("localhost:8081").unwrap();
        assert!(!local.is_empty());
        assert!(
            local
                .iter()
                .all(|address| address.ip().is_loopback() && address.port() == 8081),
            "{local:?}"
        );
    }

    #[test]
    fn a_bad_listen_address_is_refused_saying_what_is_expected() {
        for (text, problem) in [
            ("", "no port"),
            ("nowhere", "no port"),
            ("127.0.0.1", "no port"),
            ("127.0.0.1:", "is not a port"),
            ("127.0.0.1:http", "is not a port"),
            ("65536", "not between 0 and 65535"),
            (":99999", "not between 0 and 65535"),
            ("256.0.0.1:1", "is not an IPv4 address"),
            ("::1:8080", "is not a host"),
            ("no such host.invalid:8080", "is not a host"),
        ] {
            let error = listen_addresses(text).unwrap_err();
            assert!(error.contains(problem), "{text:?}: {error}");
            assert!(error.contains("HOST:PORT, :PORT or PORT"), "{error}");
        }
    }

    #[test]
    fn a_layer_wins_over_the_one_below_where_it_sets_a_key() {
        let flags = Layer {
            listen: Some("127.0.0.1:1".into()),
            demo: Some(false),
            corpid: Some(" ".into()),
            ..Layer::default()
        };
        let merged = flags.over(file(
            "listen = \"127.0.0.1:2\"\ndemo = true\ntoken_ttl = 60\ncorpid = \"ww1\"\n",
        ));
        assert_eq!(merged.listen.as_deref(), Some("127.0.0.1:1"));
        assert_eq!(
            merged.demo,
            Some(false),
            "a flag switches the file's demo off"
        );
        assert_eq!(merged.token_ttl, Some(60));
        assert_eq!(
            merged.corpid.as_deref(),
            Some("ww1"),
            "a blank flag is no flag"
        );
    }

    #[test]
    fn defaults_fill_in_what_no_layer_set() {
        let settings = Settings::from_layer(Layer::default()).unwrap();
        assert_eq!(settings.listen, DEFAULT_LISTEN);
        assert!(!settings.demo);
        assert_eq!(settings.base_url, WECOM_BASE_URL);
        assert!(settings.admin_key.is_none() && settings.corpsecret.is_none());
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let layer = file("admin_key = \"k3y-s3cret\"\ncorpsecret = \"c0rp-s3cret\"\n");
        let text = format!("{layer:?}");
        let settings = Settings::from_layer(layer).unwrap();
        for text in [text, format!("{settings:?}")] {
            assert!(!text.contains("k3y-s3cret"), "{text}");
            assert!(!text.contains("c0rp-s3cret"), "{text}");
        }
        assert_eq!(
            settings.admin_key.as_ref().map(ExposeSecret::expose_secret),
            Some("k3y-s3cret")
        );
    }
}
