//! The server's configuration: a plain value passed into [`crate::serve`]; the binary fills it
//! from flags, the environment and a config file.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Everything [`crate::serve`] needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the data lives: `sqlite://PATH` (or a plain path), or `postgres://…`.
    pub database: String,
    /// Read replicas of a PostgreSQL database (streaming standbys): the order list, order
    /// bodies and the statistics may be read from them. Empty: every read goes to `database`.
    pub database_replicas: Vec<String>,
    /// Lifetime of a new access token, in seconds.
    pub token_ttl: i64,
    /// The base URL clients reach this server at, for the image URLs of orders; `None` means
    /// `http://` + the listening address.
    pub public_url: Option<String>,
    /// Install the demo corp on start when it is missing.
    pub demo: bool,
    /// When a write is acknowledged: on stable storage (the default) or in the operating
    /// system's hands.
    pub durability: patrol_store::Durability,
    /// Where the bytes of uploaded media live (a directory); `None`: beside a SQLite database,
    /// in `<database file>-media/`.
    pub media_dir: Option<std::path::PathBuf>,
    /// A snapshot file to load at start, before the listener answers, when the database holds
    /// none of its corps (`crate::snapshot::load_at_start`).
    pub snapshot: Option<std::path::PathBuf>,
    /// Start on an empty database (the demo's): the file is removed after the listener is bound
    /// and the database's lock is held, so never while another patrol process has it open.
    pub fresh_database: bool,
    /// Requests that take longer are cut off with HTTP 503.
    pub request_timeout: Duration,
    /// How long a client has to send a request's complete head: from the connect on a new
    /// connection, from the first byte of the next request on a kept-alive one; past it the
    /// connection is closed. See [`crate::connections`].
    pub header_read_timeout: Duration,
    /// A connection with no request being handled and no byte moving either way for this long
    /// is closed: the keep-alive timeout between requests, and the end of an answer the client
    /// does not read. A running request is never cut by it.
    pub idle_timeout: Duration,
    /// Open connections at most; past it a new connection is answered HTTP 503 with errcode -1
    /// and closed. Lowered at start when the open-file limit cannot be raised to hold it.
    pub max_connections: usize,
    /// Open connections from one client IP (IPv6: one /64) at most; past it, as past
    /// `max_connections`. Behind a reverse proxy every client is the proxy: raise it to
    /// `max_connections`.
    pub max_connections_per_ip: usize,
    /// The key of the administration API; `None` or empty refuses every administration call.
    /// A secret: its `Debug` shows no key.
    pub admin_key: Option<secrecy::SecretString>,
    /// The time zone of "today" in the statistics (`added_today`, `solved_today`) of every corp
    /// of this server: Asia/Shanghai unless configured.
    pub time_zone: jiff::tz::TimeZone,
    /// The clock the server reads the time from: the system's unless a test or the emulator
    /// sets another.
    pub clock: patrol_domain::Clock,
    /// WeCom's call-frequency limits, enforced (45009, 45033); `None`: no quota (the default).
    pub quotas: Option<crate::quota::QuotaLimits>,
    /// The bounds of the request journal (entries and bytes); 0 turns it off.
    pub journal: crate::journal::Limits,
    /// Fault rules in force from the start (`crate::fault`); more are added through the
    /// administration API.
    pub faults: Vec<patrol_wire::admin::FaultRule>,
}

/// Asia/Shanghai, from the time-zone database built into the binary.
pub fn default_time_zone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(patrol_domain::stats::DEFAULT_TIME_ZONE)
        .expect("the built-in time-zone database holds Asia/Shanghai")
}

/// WeCom's token lifetime.
pub const DEFAULT_TOKEN_TTL: i64 = 7200;

/// The longest token lifetime patrol accepts, in seconds: a year.
pub const MAX_TOKEN_TTL: i64 = 366 * 86_400;

impl Config {
    /// The options the store is opened with.
    pub fn store_options(&self) -> patrol_store::OpenOptions {
        patrol_store::OpenOptions {
            durability: self.durability,
            fresh: self.fresh_database,
            replicas: self.database_replicas.clone(),
        }
    }

    /// A config with defaults for everything but the database.
    pub fn new(database: impl Into<String>) -> Config {
        Config {
            database: database.into(),
            database_replicas: Vec::new(),
            token_ttl: DEFAULT_TOKEN_TTL,
            public_url: None,
            demo: false,
            durability: patrol_store::Durability::Full,
            time_zone: default_time_zone(),
            fresh_database: false,
            media_dir: None,
            snapshot: None,
            request_timeout: crate::DEFAULT_REQUEST_TIMEOUT,
            header_read_timeout: crate::connections::DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: crate::connections::DEFAULT_IDLE_TIMEOUT,
            max_connections: crate::connections::DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: crate::connections::DEFAULT_MAX_CONNECTIONS_PER_IP,
            admin_key: None,
            clock: patrol_domain::Clock::system(),
            quotas: None,
            journal: crate::journal::Limits::default(),
            faults: Vec::new(),
        }
    }

    /// The public base URL, without a trailing slash. Without one configured it is the
    /// listening address, with an unspecified IP (`0.0.0.0`, `::`) read as loopback.
    pub fn public_url(&self, listening: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None if listening.ip().is_unspecified() => {
                let loopback = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), listening.port());
                format!("http://{loopback}")
            }
            None => format!("http://{listening}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_key_is_not_in_the_configs_debug() {
        let mut config = Config::new("sqlite://x.db");
        config.admin_key = Some("a-very-secret-admin-key".into());
        let shown = format!("{config:?}");
        assert!(!shown.contains("a-very-secret-admin-key"), "{shown}");
        assert!(shown.contains("admin_key"), "{shown}");
    }

    #[test]
    fn the_public_url_defaults_to_a_reachable_listening_address() {
        let config = Config::new("sqlite://x.db");
        assert_eq!(
            config.public_url("0.0.0.0:8080".parse().unwrap()),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            config.public_url("10.0.0.2:80".parse().unwrap()),
            "http://10.0.0.2:80"
        );
        let configured = Config {
            public_url: Some("https://patrol.example.com/".into()),
            ..config
        };
        assert_eq!(
            configured.public_url("0.0.0.0:1".parse().unwrap()),
            "https://patrol.example.com"
        );
    }
}
