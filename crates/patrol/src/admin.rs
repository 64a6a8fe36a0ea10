//! `patrol admin`: everyday operations against a running server through its administration API
//! (docs/admin-api.md): corps, apps, users, grids, categories, orders, the server's clock, fault
//! rules, the request journal and snapshots.

mod client;
mod clock;
mod corps;
mod directory;
mod faults;
mod journal;
mod orders;
mod output;
mod snapshot;

use clap::{Args, Subcommand};
use secrecy::SecretString;

use client::Client;

use crate::settings::{self, Layer, Settings};

/// The server `patrol admin` talks to when neither `--server` nor `PATROL_SERVER` names one.
const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

#[derive(Debug, Args)]
pub(crate) struct AdminArgs {
    /// Base URL of the patrol server.
    #[arg(
        long,
        env = "PATROL_SERVER",
        default_value = DEFAULT_SERVER,
        value_name = "URL",
        global = true,
        display_order = 101
    )]
    server: String,
    /// The server's admin key (`patrol serve --admin-key`, or the one it printed at start;
    /// else the config file's admin_key). Required.
    #[arg(
        long,
        env = "PATROL_ADMIN_KEY",
        value_name = "KEY",
        hide_env_values = true,
        global = true,
        display_order = 102,
        value_parser = settings::secret
    )]
    admin_key: Option<SecretString>,
    /// Print the server's JSON answer as it is instead of a summary.
    #[arg(long, global = true, display_order = 103)]
    json: bool,
    /// The time zone times are shown in (with their offset) and dates without an offset are
    /// read in, an IANA name [default: Asia/Shanghai].
    #[arg(
        long,
        env = "PATROL_TIME_ZONE",
        value_name = "ZONE",
        global = true,
        display_order = 104
    )]
    time_zone: Option<String>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create, list, show, update, reset and delete corps.
    #[command(subcommand)]
    Corp(corps::CorpCommand),
    /// Create, list, update and delete the apps of a corp, and rotate their secrets.
    App(corps::AppArgs),
    /// Add, list, rename and delete the users of a corp.
    User(directory::UserArgs),
    /// Add, list, show, update and delete the grids of a corp.
    Grid(directory::GridArgs),
    /// Add, list, rename and delete the incident categories of a corp.
    Category(directory::CategoryArgs),
    /// Report incidents, list, show and act on them.
    Order(orders::OrderArgs),
    /// Show, set, advance, freeze and release the server's clock.
    Clock(clock::ClockArgs),
    /// List, add, load and remove fault rules: errcodes, statuses, pauses, resets, cut and
    /// trickling answers for chosen calls.
    Faults(faults::FaultsArgs),
    /// Read the server's request journal (the last calls), export it as JSONL, follow it live,
    /// or clear it.
    Journal(journal::JournalArgs),
    /// Download a snapshot of the server's state or of one corp, or send one to load.
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
}

/// The corp a command works in: `--corp`, or `PATROL_CORP`.
#[derive(Debug, Args)]
pub(crate) struct CorpScope {
    /// The corp to work in (its corpid).
    #[arg(
        long,
        env = "PATROL_CORP",
        value_name = "CORPID",
        global = true,
        display_order = 100
    )]
    corp: Option<String>,
}

impl CorpScope {
    /// The corpid, or an error telling how to give one.
    pub(crate) fn corpid(&self) -> anyhow::Result<&str> {
        match self.corp.as_deref() {
            Some(corp) if !corp.is_empty() => Ok(corp),
            _ => anyhow::bail!("which corp? pass --corp CORPID or set PATROL_CORP"),
        }
    }
}

impl AdminArgs {
    /// These flags, with their environment variables, as a layer of settings.
    pub(crate) fn flags(&self) -> Layer {
        Layer {
            admin_key: self.admin_key.clone(),
            time_zone: self.time_zone.clone(),
            ..Layer::default()
        }
    }
}

pub(crate) async fn run(args: AdminArgs, settings: Settings) -> anyhow::Result<()> {
    let Some(key) = settings.admin_key else {
        anyhow::bail!(
            "no admin key: pass --admin-key KEY, set PATROL_ADMIN_KEY or admin_key in the config \
             file (patrol serve prints the key it generated when none was configured)"
        );
    };
    let client = Client::new(&args.server, key, args.json)?;
    match args.command {
        AdminCommand::Corp(command) => corps::run_corp(&client, command).await,
        AdminCommand::App(args) => corps::run_app(&client, args).await,
        AdminCommand::User(args) => directory::run_user(&client, args).await,
        AdminCommand::Grid(args) => directory::run_grid(&client, args).await,
        AdminCommand::Category(args) => directory::run_category(&client, args).await,
        AdminCommand::Order(args) => orders::run(&client, args).await,
        AdminCommand::Clock(args) => clock::run(&client, args).await,
        AdminCommand::Faults(args) => faults::run(&client, args).await,
        AdminCommand::Journal(args) => journal::run(&client, args).await,
        AdminCommand::Snapshot(command) => snapshot::run(&client, command).await,
    }
}
