//! `patrol`: the command line. `serve` runs the server, `seed` writes a generated dataset,
//! `admin` manages a running server, `orders` reads orders and `stats` their counts from WeCom or
//! a patrol server, `migrate` copies a whole database into another, `snapshot` saves and loads
//! the whole state or one corp, `record` proxies and records a client's calls to an upstream and
//! `replay` serves a recording back.

mod admin;
mod media;
mod migrate;
mod orders;
mod progress;
mod record;
mod seed;
mod serve;
mod settings;
mod snapshot;
mod stats;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc: allocation-heavy paths (a page of 50 orders decoded or rendered) spend a quarter of
/// their time in glibc's malloc and free; see bench/README.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// A WeCom-compatible patrol-report (巡查上报) server and its tools.
#[derive(Debug, Parser)]
#[command(name = "patrol", version = patrol_server::version::LONG, about)]
struct Cli {
    /// A TOML config file (keys: listen, database, demo, token_ttl, public_url, request_timeout,
    /// data_dir, admin_key, log_format; and base_url, corpid, corpsecret for patrol orders,
    /// stats and media).
    /// Flags and PATROL_* environment variables override it.
    #[arg(
        long,
        env = "PATROL_CONFIG",
        value_name = "FILE",
        global = true,
        display_order = 900
    )]
    config: Option<PathBuf>,
    /// How log lines are written to stderr: `text` (coloured only on a terminal) or `json`, one
    /// object a line [default: text].
    #[arg(
        long,
        env = "PATROL_LOG_FORMAT",
        value_name = "FORMAT",
        global = true,
        display_order = 901
    )]
    log_format: Option<settings::LogFormat>,
    #[command(subcommand)]
    command: Command,
}

impl Command {
    /// The subcommand's flags, with their environment variables, as a layer of settings.
    fn flags(&self) -> settings::Layer {
        match self {
            Command::Serve(args) => args.flags(),
            Command::Seed(args) => args.flags(),
            Command::Admin(args) => args.flags(),
            Command::Orders(args) => args.flags(),
            Command::Media(args) => args.flags(),
            Command::Stats(args) => args.flags(),
            Command::Migrate(args) => args.flags(),
            Command::Snapshot(args) => args.flags(),
            Command::Record(args) => args.flags(),
            Command::Replay(args) => args.flags(),
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve WeCom's API (gettoken, report/patrol, report/resident, report/grid, media) and the
    /// administration API.
    Serve(Box<serve::ServeArgs>),
    /// Write a reproducible dataset of generated orders into the demo corp.
    Seed(seed::SeedArgs),
    /// Manage a running server: corps, apps, users, grids, categories and orders.
    Admin(Box<admin::AdminArgs>),
    /// Read orders through WeCom's patrol API, from WeCom or a patrol server: list, show, export.
    Orders(orders::OrdersArgs),
    /// Read the counts of orders through WeCom's statistics calls: the corp's or a grid's, a
    /// member's, per category.
    Stats(stats::StatsArgs),
    /// Upload and download files through WeCom's media API (media/upload, media/get).
    Media(media::MediaArgs),
    /// Copy a whole database, media included, into another (SQLite ⇄ PostgreSQL), resumably,
    /// and verify the copy.
    Migrate(migrate::MigrateArgs),
    /// Save the whole state, or one corp, media included, to a versioned file, or load one.
    Snapshot(snapshot::SnapshotArgs),
    /// Proxy a client's calls to an upstream (WeCom, or another patrol) and record every
    /// exchange to a file, tokens and secrets redacted.
    Record(record::RecordArgs),
    /// Serve a recording back (the same calls get the recorded answers), or turn it into seed
    /// data (--to-snapshot).
    Replay(record::ReplayArgs),
}

/// Logs to stderr in `format`, at the level `RUST_LOG` says (info by default); text has ANSI
/// colours only when stderr is a terminal and `NO_COLOR` is unset.
fn init_logging(format: settings::LogFormat) {
    use std::io::IsTerminal;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr);
    match format {
        settings::LogFormat::Text => logs
            .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
            .init(),
        settings::LogFormat::Json => logs.with_ansi(false).json().flatten_event(true).init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The settings' layers first (without the defaults), for the log format; a bad config file
    // is reported below, as before.
    let mut flags = cli.command.flags();
    flags.log_format = cli.log_format;
    let layer = settings::Layer::resolve(cli.config.as_deref(), flags);
    init_logging(
        layer
            .as_ref()
            .ok()
            .and_then(|layer| layer.log_format)
            .unwrap_or_default(),
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        if let Command::Serve(args) = &cli.command
            && args.print_config
        {
            serve::print_config();
            return Ok(());
        }
        // The one place settings are resolved: flags and environment over the file over defaults.
        let settings = settings::Settings::from_layer(layer?)?;
        // The CLI's one time zone; the arguments are read again in it, so that a date without
        // an offset (`--created-since 2026-11-01`) means midnight there.
        let cli = if orders::time::set_zone(settings.time_zone.as_deref())? {
            Cli::parse()
        } else {
            cli
        };
        match cli.command {
            Command::Serve(_) => serve::run(settings).await,
            Command::Seed(args) => seed::run(args, settings).await,
            Command::Admin(args) => admin::run(*args, settings).await,
            Command::Orders(args) => orders::run(args, settings).await,
            Command::Media(args) => media::run(args, settings).await,
            Command::Stats(args) => stats::run(args, settings).await,
            Command::Migrate(args) => migrate::run(args).await,
            Command::Snapshot(args) => snapshot::run(args, settings).await,
            Command::Record(args) => record::record(args).await,
            Command::Replay(args) => record::replay(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", message(&error));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes, `: `-separated, each said once: a cause that its error's text ends
/// with already (a driver that prints its source in its own message) is left out.
fn message(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let cause = cause.to_string();
        if text.ends_with(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `Debug` of what `args` parse into, and of the settings resolved from it.
    fn debug_of(args: &[&str]) -> String {
        let cli = Cli::try_parse_from(args).unwrap();
        let settings = settings::Settings::from_layer(cli.command.flags()).unwrap();
        format!("{cli:?} {settings:?}")
    }

    #[test]
    fn secrets_given_as_flags_never_show_in_debug() {
        for args in [
            &["patrol", "serve", "--admin-key", "k3y-s3cret"][..],
            &[
                "patrol",
                "admin",
                "--admin-key",
                "k3y-s3cret",
                "corp",
                "list",
            ],
            &["patrol", "orders", "list", "--corpsecret", "k3y-s3cret"],
        ] {
            let text = debug_of(args);
            assert!(!text.contains("k3y-s3cret"), "{args:?}: {text}");
        }
    }

    #[test]
    fn an_error_says_each_cause_once() {
        let io = std::io::Error::other("connection refused");
        let driver = anyhow::Error::new(io).context("error connecting to server");
        let pool = driver.context("cannot open the database: error connecting to server");
        assert_eq!(
            message(&pool),
            "cannot open the database: error connecting to server: connection refused"
        );
        assert_eq!(message(&anyhow::anyhow!("alone")), "alone");
    }

    #[test]
    fn demo_takes_an_optional_value() {
        let demo = |args: &[&str]| {
            let cli = Cli::try_parse_from(args).unwrap();
            cli.command.flags().demo
        };
        assert_eq!(demo(&["patrol", "serve"]), None);
        assert_eq!(demo(&["patrol", "serve", "--demo"]), Some(true));
        assert_eq!(demo(&["patrol", "serve", "--demo=true"]), Some(true));
        assert_eq!(demo(&["patrol", "serve", "--demo=false"]), Some(false));
        // No value after a space: the next word is not taken for one.
        assert_eq!(
            demo(&["patrol", "serve", "--demo", "--listen", "x"]),
            Some(true)
        );
    }
}
