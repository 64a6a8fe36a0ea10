//! `patrol serve`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use clap::builder::BoolishValueParser;
use patrol_demo as demo;
use patrol_store::redacted_url;
use secrecy::{ExposeSecret, SecretString};

use crate::settings::{self, CommonArgs, Layer, Settings};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on: HOST:PORT (a host name is resolved), or :PORT or PORT on 127.0.0.1
    /// [default: 127.0.0.1:8080].
    #[arg(long, env = "PATROL_LISTEN", value_name = "HOST:PORT")]
    listen: Option<String>,
    /// Serve the demo corp: on a fresh DATA_DIR/demo.db, or installed into --database when
    /// it is missing there. --demo=false switches off `demo = true` of the config file.
    #[arg(
        long,
        env = "PATROL_DEMO",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = BoolishValueParser::new()
    )]
    demo: Option<bool>,
    /// Lifetime of access tokens, in seconds [default: 7200].
    #[arg(long, env = "PATROL_TOKEN_TTL", value_name = "SECONDS")]
    token_ttl: Option<i64>,
    /// The key of the administration API [default: generated at start and printed].
    #[arg(
        long,
        env = "PATROL_ADMIN_KEY",
        value_name = "KEY",
        hide_env_values = true,
        value_parser = settings::secret
    )]
    admin_key: Option<SecretString>,
    /// A file holding the key of the administration API (its first line); unlike --admin-key,
    /// it does not show in `ps`.
    #[arg(long, env = "PATROL_ADMIN_KEY_FILE", value_name = "FILE")]
    admin_key_file: Option<std::path::PathBuf>,
    /// Seconds a client has to send a request's head before the connection is closed
    /// [default: 10].
    #[arg(long, env = "PATROL_HEADER_READ_TIMEOUT", value_name = "SECONDS")]
    header_read_timeout: Option<u64>,
    /// Seconds a connection may stay idle (no request running, no byte moving) before it is
    /// closed [default: 60].
    #[arg(long, env = "PATROL_IDLE_TIMEOUT", value_name = "SECONDS")]
    idle_timeout: Option<u64>,
    /// Open connections at most; past it a new one gets HTTP 503 and is closed [default: 1024].
    #[arg(long, env = "PATROL_MAX_CONNECTIONS", value_name = "N")]
    max_connections: Option<usize>,
    /// Open connections from one client IP at most [default: 256].
    #[arg(long, env = "PATROL_MAX_CONNECTIONS_PER_IP", value_name = "N")]
    max_connections_per_ip: Option<usize>,
    /// A read replica of a PostgreSQL --database (a streaming standby), for the order list,
    /// order bodies and statistics; repeat it for more (PATROL_DATABASE_REPLICAS: URLs separated
    /// by spaces) [default: none].
    #[arg(
        long = "database-replica",
        env = "PATROL_DATABASE_REPLICAS",
        value_name = "URL",
        value_delimiter = ' '
    )]
    database_replicas: Vec<String>,
    /// Enforce WeCom's call-frequency limits: 45009 past a limit per corp or client IP and API,
    /// with WeCom's blocks; 45033 past a cap on calls of one API running at once.
    #[arg(
        long,
        env = "PATROL_QUOTAS",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = BoolishValueParser::new()
    )]
    quotas: Option<bool>,
    /// One quota limit, NAME=N (corp_per_minute, corp_per_hour, ip_per_minute, ip_per_hour,
    /// concurrent_per_api); repeat it for more (PATROL_QUOTA: separated by spaces). Turns the
    /// quotas on [default: WeCom's: 10000, 150000, 20000, 600000, 400].
    #[arg(
        long = "quota",
        env = "PATROL_QUOTA",
        value_name = "NAME=N",
        value_delimiter = ' '
    )]
    quota: Vec<String>,
    /// The time zone of "today" in the statistics (an IANA name) [default: Asia/Shanghai].
    #[arg(long, env = "PATROL_TIME_ZONE", value_name = "ZONE")]
    time_zone: Option<String>,
    /// Calls the request journal holds at most (GET /admin/v1/journal); 0 turns it off
    /// [default: 1000].
    #[arg(long, env = "PATROL_JOURNAL_ENTRIES", value_name = "N")]
    journal_entries: Option<usize>,
    /// Bytes the request journal holds at most, bodies included; 0 turns it off, else at least
    /// 65536 [default: 8388608].
    #[arg(long, env = "PATROL_JOURNAL_BYTES", value_name = "BYTES")]
    journal_bytes: Option<usize>,
    /// A snapshot file (`patrol snapshot save`) to load at start, before the listener answers,
    /// when the database holds none of its corps (once it holds them all, a restart serves
    /// them as they are). Not with --demo.
    #[arg(long, env = "PATROL_SNAPSHOT", value_name = "FILE")]
    snapshot: Option<std::path::PathBuf>,
    /// A JSON file of fault rules in force from the start, `{"faults": [...]}` as
    /// `PUT /admin/v1/faults` takes it (docs/admin-api.md, "Faults").
    #[arg(long, env = "PATROL_FAULTS", value_name = "FILE")]
    faults: Option<std::path::PathBuf>,
    /// Print an example config file and exit.
    #[arg(long)]
    pub(crate) print_config: bool,
    #[command(flatten)]
    common: CommonArgs,
}

impl ServeArgs {
    /// These flags, with their environment variables, as a layer of settings.
    pub(crate) fn flags(&self) -> Layer {
        Layer {
            listen: self.listen.clone(),
            demo: self.demo,
            token_ttl: self.token_ttl,
            admin_key: self.admin_key.clone(),
            admin_key_file: self.admin_key_file.clone(),
            header_read_timeout: self.header_read_timeout,
            idle_timeout: self.idle_timeout,
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
            time_zone: self.time_zone.clone(),
            journal_entries: self.journal_entries,
            journal_bytes: self.journal_bytes,
            snapshot: self.snapshot.clone(),
            faults: self.faults.clone(),
            database_replicas: Some(self.database_replicas.clone()),
            quotas: self.quotas,
            quota: Some(self.quota.clone()),
            ..self.common.layer()
        }
    }
}

const EXAMPLE_CONFIG: &str = r#"# patrol's config file: pass it with --config FILE or PATROL_CONFIG=FILE.
# Flags and PATROL_* environment variables override what is set here.

# Address to listen on: HOST:PORT (a host name is resolved), or :PORT or PORT on 127.0.0.1.
listen = "127.0.0.1:8080"
# Database URL; the default is a SQLite file in the data directory.
# database = "sqlite:///var/lib/patrol/patrol.db"
# Read replicas of a PostgreSQL database (streaming standbys): the order list, order bodies
# and statistics may be read from them, a little behind the database (see the README).
# database_replicas = ["postgres://patrol@replica1.example.com:5432/patrol"]
# Where patrol keeps its files.
# data_dir = "/var/lib/patrol"
# Where the bytes of uploaded media live; the default is beside a SQLite database
# (<database file>-media/).
# media_dir = "/var/lib/patrol/media"
# Install and serve the demo corp (--demo, --demo=false or PATROL_DEMO=true|false override it).
demo = false
# Lifetime of access tokens, in seconds.
token_ttl = 7200
# The base URL clients reach the server at (for image URLs).
# public_url = "https://patrol.example.com"
# Requests that take longer are cut off (seconds).
request_timeout = 30
# When a write is acknowledged: "full" (on stable storage: survives a power cut) or "normal"
# (in the operating system's hands: survives a crash of patrol, faster writes).
durability = "full"
# Seconds a client has to send a request's head; then the connection is closed.
header_read_timeout = 10
# Seconds a connection may stay idle (no request running, no byte moving) before it is closed.
idle_timeout = 60
# Open connections at most, and from one client IP at most; past either, HTTP 503 and close.
max_connections = 1024
max_connections_per_ip = 256
# WeCom's call-frequency limits (45009 past one, 45033 past the cap on calls running at once),
# off by default; `quota` sets limits by name (and turns them on).
quotas = false
# quota = ["corp_per_minute=10000", "ip_per_minute=20000", "concurrent_per_api=400"]
# The time zone of "today" in the statistics (added_today, solved_today), an IANA name.
time_zone = "Asia/Shanghai"
# The request journal (GET /admin/v1/journal): the last calls, held in memory within both
# bounds, oldest evicted first; 0 for either turns it off.
journal_entries = 1000
journal_bytes = 8388608
# A snapshot file (`patrol snapshot save`) to load at start when the database holds none of its
# corps (--snapshot FILE, PATROL_SNAPSHOT).
# snapshot = "/var/lib/patrol/start.snapshot"
# A JSON file of fault rules in force from the start, {"faults": [...]} (--faults FILE,
# PATROL_FAULTS; docs/admin-api.md, "Faults").
# faults = "/etc/patrol/faults.json"
# The key of the administration API (/admin/v1/); generated at start when unset. Keep it in a
# file readable by its owner only (admin_key_file) rather than here or on the command line.
# admin_key = "a long random string"
# admin_key_file = "/etc/patrol/admin.key"

# For `patrol orders`: whose orders to read, from WeCom or a patrol server.
# base_url = "https://qyapi.weixin.qq.com"
# corpid = "ww..."
# corpsecret = "the secret of an app enabled for patrol"

# How log lines are written to stderr: "text" (coloured only on a terminal) or "json" (one
# object a line). RUST_LOG sets the level (info by default).
# log_format = "json"
"#;

/// The rules of a faults file: `{"faults": [...]}`, checked by the server at start.
fn read_faults(
    path: &Path,
    clock: &patrol_domain::Clock,
) -> anyhow::Result<Vec<patrol_wire::admin::FaultRule>> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the faults file {} (--faults, PATROL_FAULTS, faults)",
            path.display()
        )
    })?;
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    let set: patrol_wire::admin::FaultSet = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| {
            anyhow::anyhow!(
                "the faults file {} is not {{\"faults\": [rules]}}: at {}: {}",
                path.display(),
                error.path(),
                error.inner()
            )
        })?;
    // Checked here too, so that a bad rule is reported with its file.
    patrol_server::fault::Faults::new(clock.clone())
        .replace(set.faults.clone())
        .with_context(|| format!("the faults file {} has a bad rule", path.display()))?;
    Ok(set.faults)
}

/// Prints the example config file.
#[allow(clippy::print_stdout)]
pub(crate) fn print_config() {
    print!("{EXAMPLE_CONFIG}");
}

pub(crate) async fn run(settings: Settings) -> anyhow::Result<()> {
    let listen = settings.listen_address()?;
    let demo = settings.demo;
    // The data directory the database is in when no --database names one: what a failure to
    // open it tells the user to change, and where the other database of a demo start is.
    let data_dir = match settings.database {
        Some(_) => None,
        None => Some(settings.data_dir()?),
    };
    // No file is touched before the listener is bound (by `patrol_server::serve`, which opens
    // the store): a start that cannot listen leaves every database as it was.
    let (database, fresh) = match settings.database.clone() {
        Some(url) => (url, false),
        // A fresh demo database on every start, so the demo is always the same; removed only
        // once this process holds its lock, so never under another running demo.
        None if demo => (settings::sqlite_url(&settings.data_dir()?, "demo.db"), true),
        None => (
            settings::sqlite_url(&settings.data_dir()?, "patrol.db"),
            false,
        ),
    };
    anyhow::ensure!(
        !(demo && settings.snapshot.is_some()),
        "--snapshot and --demo exclude each other: serve a snapshot of the demo instead \
         (`patrol snapshot save` of a demo database)"
    );
    let mut config = patrol_server::Config::new(database.clone());
    config.snapshot = settings.snapshot.clone();
    config.demo = demo;
    config.database_replicas = settings.database_replicas.clone();
    config.fresh_database = fresh;
    config.durability = settings.durability;
    config.media_dir = settings.media_dir.clone();
    config.token_ttl = settings.token_ttl.unwrap_or(config.token_ttl);
    anyhow::ensure!(
        (1..=patrol_server::config::MAX_TOKEN_TTL).contains(&config.token_ttl),
        "token_ttl must be between 1 and {} seconds",
        patrol_server::config::MAX_TOKEN_TTL
    );
    config.public_url = settings.public_url.clone();
    config.quotas = settings.quota_limits()?;
    if let Some(path) = &settings.faults {
        config.faults = read_faults(path, &config.clock)?;
    }
    if let Some(zone) = &settings.time_zone {
        config.time_zone = jiff::tz::TimeZone::get(zone.trim()).with_context(|| {
            format!("unknown time zone {zone:?}: expected an IANA name such as Asia/Shanghai")
        })?;
    }
    if admin_key_on_command_line() {
        tracing::warn!(
            "the admin key given with --admin-key shows in `ps` to every local user: prefer \
             PATROL_ADMIN_KEY or --admin-key-file"
        );
    }
    let (admin_key, generated) = match settings.admin_key {
        Some(key) => (key, false),
        None => (SecretString::from(patrol_server::admin::new_secret()), true),
    };
    config.admin_key = Some(admin_key.clone());
    if let Some(seconds) = settings.request_timeout {
        config.request_timeout = seconds_setting("request_timeout", seconds)?;
    }
    if let Some(seconds) = settings.header_read_timeout {
        config.header_read_timeout = seconds_setting("header_read_timeout", seconds)?;
    }
    if let Some(seconds) = settings.idle_timeout {
        config.idle_timeout = seconds_setting("idle_timeout", seconds)?;
    }
    if let Some(count) = settings.max_connections {
        anyhow::ensure!(count > 0, "max_connections must be at least 1");
        config.max_connections = count;
    }
    config.journal = journal_limits(settings.journal_entries, settings.journal_bytes)?;
    if let Some(count) = settings.max_connections_per_ip {
        anyhow::ensure!(count > 0, "max_connections_per_ip must be at least 1");
        config.max_connections_per_ip = count;
    }

    let listener = settings::bind(
        &listen,
        &settings.listen,
        "--listen, PATROL_LISTEN or `listen` in the config file",
    )
    .await?;
    let base_url = config.public_url(listener.local_addr()?);
    // The database opens (and the demo is installed) before the banner says anything: a server
    // that cannot open it prints only the error.
    let server = patrol_server::Server::prepare(config, listener)
        .await
        .map_err(|error| start_failed(error, &database, data_dir.as_deref()))?;
    let other_database = other_database(&server, demo, data_dir.as_deref()).await;
    print_banner(
        &base_url,
        &database,
        &settings.database_replicas,
        demo,
        generated.then_some(admin_key.expose_secret()),
        other_database.as_deref(),
    );
    server
        .run(shutdown_signal())
        .await
        .context("server failed")?;
    Ok(())
}

/// Why `patrol serve` could not start on `database`, naming what to change: a database that
/// cannot be opened names the file (or URL, without its password) and the setting that chose it
/// (`--database`, or `--data-dir` when the database is the data directory's `patrol.db`).
fn start_failed(
    error: patrol_server::ServeError,
    database: &str,
    data_dir: Option<&Path>,
) -> anyhow::Error {
    use patrol_server::ServeError;
    use patrol_store::StoreError;
    match error {
        ServeError::Store(error @ StoreError::Open { .. }) => {
            settings::open_failed(&error, data_dir)
        }
        error => {
            anyhow::Error::new(error).context(format!("cannot serve {}", redacted_url(database)))
        }
    }
}

/// What the banner says of the database not served: a user who seeded the data directory's
/// `patrol.db` and started `serve --demo` (which serves a fresh `demo.db`) sees the demo's
/// orders, not theirs, and one who serves a database holding the demo corp without `--demo` may
/// not know its credentials. `None` when neither applies.
async fn other_database(
    server: &patrol_server::Server,
    demo: bool,
    data_dir: Option<&Path>,
) -> Option<String> {
    if demo {
        let dir = data_dir?;
        let main = dir.join("patrol.db");
        return main.exists().then(|| {
            format!(
                "this is the demo database, new on every start; {} (where `patrol seed` writes) \
                 is served by `patrol serve` without --demo",
                main.display()
            )
        });
    }
    // Only a hint: a failure to look is no reason to refuse the start.
    let corp = server.store().corp(demo::DEMO_CORPID).await.ok()??;
    Some(format!(
        "this database holds the demo corp {} ({}), seeded or installed earlier: corpid {}, \
         corpsecret {} unless changed; `patrol serve --demo` serves a fresh demo database instead",
        corp.name,
        corp.corpid,
        corp.corpid,
        demo::DEMO_PATROL_SECRET
    ))
}

/// A duration setting in whole seconds, from 1 s to a day.
fn seconds_setting(name: &str, seconds: u64) -> anyhow::Result<Duration> {
    anyhow::ensure!(
        (1..=86_400).contains(&seconds),
        "{name} must be between 1 and 86400 seconds"
    );
    Ok(Duration::from_secs(seconds))
}

/// The journal's bounds: the defaults where unset; 0 for either turns it off.
fn journal_limits(
    entries: Option<usize>,
    bytes: Option<usize>,
) -> anyhow::Result<patrol_server::journal::Limits> {
    let defaults = patrol_server::journal::Limits::default();
    let limits = patrol_server::journal::Limits {
        entries: entries.unwrap_or(defaults.entries),
        bytes: bytes.unwrap_or(defaults.bytes),
    };
    let min = patrol_server::journal::MIN_BYTES;
    anyhow::ensure!(
        !limits.enabled() || limits.bytes >= min,
        "journal_bytes must be 0 (off) or at least {min}"
    );
    Ok(limits)
}

/// Whether the admin key was given on the command line (where `ps` shows it).
fn admin_key_on_command_line() -> bool {
    std::env::args_os().any(|arg| {
        let arg = arg.to_string_lossy();
        arg == "--admin-key" || arg.starts_with("--admin-key=")
    })
}

#[allow(clippy::print_stdout)]
fn print_banner(
    base_url: &str,
    database: &str,
    replicas: &[String],
    demo: bool,
    generated_admin_key: Option<&str>,
    note: Option<&str>,
) {
    println!("patrol is listening on {base_url}");
    // URLs without their passwords: the banner lands in logs.
    println!("  database    {}", redacted_url(database));
    for replica in replicas {
        println!("  replica     {}", redacted_url(replica));
    }
    if let Some(note) = note {
        println!("  note        {note}");
    }
    if let Some(key) = generated_admin_key {
        println!(
            "  admin key   {key}   (generated for this run; set PATROL_ADMIN_KEY to keep one)"
        );
    }
    if demo {
        let corpid = demo::DEMO_CORPID;
        let secret = demo::DEMO_PATROL_SECRET;
        println!("  demo corp   {} ({})", demo::DEMO_CORP_NAME, corpid);
        println!("  corpid      {corpid}");
        println!(
            "  corpsecret  {secret}   (app {}, on every list)",
            demo::DEMO_PATROL_AGENTID
        );
        println!(
            "  other apps  {} not enabled for patrol: {}; {} system app: {}",
            demo::DEMO_OTHER_AGENTID,
            demo::DEMO_OTHER_SECRET,
            demo::DEMO_SYSTEM_AGENTID,
            demo::DEMO_SYSTEM_SECRET
        );
        println!();
        println!("Try it:");
        println!("  {}", demo::try_it(base_url).join(" && "));
    }
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_names_every_key_and_parses() {
        // Its commented-out keys too, once uncommented.
        let text: String = EXAMPLE_CONFIG
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(key) if key.contains(" = ") => key,
                _ => line,
            })
            .flat_map(|line| [line, "\n"])
            .collect();
        let layer: Layer = toml::from_str(&text).unwrap();
        let Layer {
            listen,
            database,
            database_replicas,
            data_dir,
            demo,
            token_ttl,
            public_url,
            request_timeout,
            durability,
            media_dir,
            header_read_timeout,
            idle_timeout,
            max_connections,
            max_connections_per_ip,
            time_zone,
            quotas,
            quota,
            journal_entries,
            journal_bytes,
            snapshot,
            faults,
            admin_key,
            admin_key_file,
            base_url,
            corpid,
            corpsecret,
            log_format,
        } = layer;
        assert!(listen.is_some() && database.is_some() && data_dir.is_some());
        assert!(database_replicas.is_some());
        assert!(demo.is_some() && token_ttl.is_some() && public_url.is_some());
        assert!(request_timeout.is_some() && admin_key.is_some() && base_url.is_some());
        assert!(corpid.is_some() && corpsecret.is_some());
        assert!(durability.is_some() && header_read_timeout.is_some() && idle_timeout.is_some());
        assert!(max_connections.is_some() && max_connections_per_ip.is_some());
        assert!(admin_key_file.is_some() && media_dir.is_some() && time_zone.is_some());
        assert!(quotas.is_some() && quota.is_some());
        assert!(journal_entries.is_some() && journal_bytes.is_some());
        assert!(snapshot.is_some() && faults.is_some());
        assert_eq!(log_format, Some(settings::LogFormat::Json));
    }
}
