//! `patrol admin corp …` and `patrol admin app …`: corps, and the apps whose secrets get tokens.

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use patrol_wire::admin::{
    AppList, AppView, CorpList, CorpView, CreateApp, CreateCorp, UpdateApp, UpdateCorp,
};

use super::CorpScope;
use super::client::Client;
use super::output;

#[derive(Debug, Subcommand)]
pub(crate) enum CorpCommand {
    /// Create a corp.
    Create {
        /// The corp's name.
        #[arg(long)]
        name: String,
        /// Its corpid: 1–64 letters, digits, `-` and `_` [default: ww and 16 random hex digits].
        #[arg(long, value_name = "ID")]
        corpid: Option<String>,
        /// When it was created, in Unix seconds [default: now]. Before 1701360000 its system
        /// app may call the patrol API.
        #[arg(long, value_name = "UNIX")]
        created_at: Option<i64>,
    },
    /// List the corps.
    List,
    /// Show one corp.
    Show {
        /// The corp's corpid.
        corpid: String,
    },
    /// Rename a corp or change its creation time; its corpid never changes.
    #[command(group(
        ArgGroup::new("changes")
            .required(true)
            .multiple(true)
            .args(["name", "created_at"])
    ))]
    Update {
        #[command(flatten)]
        scope: CorpScope,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// A new creation time, in Unix seconds. Before 1701360000 its system app may call the
        /// patrol API.
        #[arg(long, value_name = "UNIX")]
        created_at: Option<i64>,
    },
    /// Delete a corp. Refused while it holds apps, users, grids, categories, orders or media,
    /// unless --force, which deletes all of them with it; its tokens stop working at once.
    Delete {
        #[command(flatten)]
        scope: CorpScope,
        /// Delete it with everything it holds.
        #[arg(long)]
        force: bool,
    },
    /// Reset a corp: it keeps its id, name, apps and tokens; its users, grids, categories,
    /// media and orders become none (`empty`) or the demo's (`demo`, the demo corp only).
    Reset {
        /// The corp's corpid.
        corpid: String,
        /// What to reset it to.
        #[arg(long, value_name = "empty|demo", value_parser = ["empty", "demo"])]
        to: String,
    },
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run_corp(client: &Client, command: CorpCommand) -> anyhow::Result<()> {
    match command {
        CorpCommand::Create {
            name,
            corpid,
            created_at,
        } => {
            let body = CreateCorp {
                corpid,
                name,
                created_at,
            };
            if let Some(corp) = client.post::<CorpView>(&["corps"], &body).await? {
                println!(
                    "created corp {} ({}), created at {}",
                    corp.corpid,
                    corp.name,
                    output::unix_and_time(corp.created_at)
                );
            }
        }
        CorpCommand::Update {
            scope,
            name,
            created_at,
        } => {
            let corpid = scope.corpid()?;
            let body = UpdateCorp { name, created_at };
            if let Some(corp) = client.patch::<CorpView>(&["corps", corpid], &body).await? {
                println!(
                    "updated corp {} ({}), created at {}",
                    corp.corpid,
                    corp.name,
                    output::unix_and_time(corp.created_at)
                );
            }
        }
        CorpCommand::Delete { scope, force } => {
            let corpid = scope.corpid()?;
            let query: &[(&str, &str)] = if force { &[("force", "true")] } else { &[] };
            client.delete_with(&["corps", corpid], query).await?;
            if !client.prints_json() {
                println!("deleted corp {corpid}; its tokens no longer work");
            }
        }
        CorpCommand::Reset { corpid, to } => {
            let body = serde_json::json!({ "to": to });
            if let Some(reset) = client
                .post::<patrol_server::snapshot::ResetSummary>(&["corps", &corpid, "reset"], &body)
                .await?
            {
                println!(
                    "reset corp {} to {to}: {} users, {} grids, {} categories, {} media, {} orders",
                    reset.corpid,
                    reset.users,
                    reset.grids,
                    reset.categories,
                    reset.media,
                    reset.orders
                );
            }
        }
        CorpCommand::List => {
            if let Some(list) = client.get::<CorpList>(&["corps"]).await? {
                let rows: Vec<Vec<String>> = list
                    .corps
                    .into_iter()
                    .map(|c| vec![c.corpid, c.name, output::unix_and_time(c.created_at)])
                    .collect();
                output::print_table(&["CORPID", "NAME", "CREATED_AT"], &rows, "no corps");
            }
        }
        CorpCommand::Show { corpid } => {
            if let Some(corp) = client.get::<CorpView>(&["corps", &corpid]).await? {
                println!("corpid      {}", corp.corpid);
                println!("name        {}", corp.name);
                println!("created_at  {}", output::unix_and_time(corp.created_at));
            }
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct AppArgs {
    #[command(flatten)]
    scope: CorpScope,
    #[command(subcommand)]
    command: AppCommand,
}

/// What kind of app it is.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum AppKind {
    /// A custom app (自建应用).
    Custom,
    /// A system app.
    System,
    /// A third-party app.
    #[value(name = "third_party")]
    ThirdParty,
    /// A service provider's app.
    Provider,
}

impl AppKind {
    /// The kind as the administration API spells it.
    fn wire(self) -> String {
        match self {
            AppKind::Custom => "custom",
            AppKind::System => "system",
            AppKind::ThirdParty => "third_party",
            AppKind::Provider => "provider",
        }
        .to_owned()
    }
}

#[derive(Debug, Subcommand)]
enum AppCommand {
    /// Create an app and print its secret (shown this once only).
    Create {
        /// The app's name.
        #[arg(long)]
        name: String,
        /// Its agentid [default: the next free number from 1000002].
        #[arg(long, value_name = "N")]
        agentid: Option<i64>,
        /// Its kind [default: custom].
        #[arg(long, value_enum)]
        kind: Option<AppKind>,
        /// List it in 「巡查上报 - 可调用接口的应用」, so that it may call the patrol API.
        #[arg(long)]
        patrol: bool,
        /// List it in 「居民上报 - 可调用接口的应用」, so that it may call the resident API.
        #[arg(long)]
        resident: bool,
        /// List it in 「居民联系 - 可调用接口的应用」, so that it may call `report/grid/*`.
        #[arg(long)]
        contact: bool,
        /// Create it disabled: it gets no token.
        #[arg(long)]
        disabled: bool,
    },
    /// List the apps.
    List,
    /// Change an app's name, kind, lists or enabled flag.
    #[command(group(
        ArgGroup::new("changes")
            .required(true)
            .multiple(true)
            .args(["name", "kind", "patrol", "resident", "contact", "enabled"])
    ))]
    Update {
        /// The app's agentid.
        agentid: i64,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// A new kind.
        #[arg(long, value_enum)]
        kind: Option<AppKind>,
        /// Whether it may call the patrol API.
        #[arg(long, value_name = "true|false")]
        patrol: Option<bool>,
        /// Whether it may call the resident API.
        #[arg(long, value_name = "true|false")]
        resident: Option<bool>,
        /// Whether it may call `report/grid/*`.
        #[arg(long, value_name = "true|false")]
        contact: Option<bool>,
        /// Whether it gets tokens.
        #[arg(long, value_name = "true|false")]
        enabled: Option<bool>,
    },
    /// Give an app a new secret and print it; its old secret and tokens stop working.
    RotateSecret {
        /// The app's agentid.
        agentid: i64,
    },
    /// Delete an app; its tokens stop working.
    Delete {
        /// The app's agentid.
        agentid: i64,
    },
}

/// `custom, lists: patrol resident, enabled` (`lists: none` when on no list).
fn flags(app: &AppView) -> String {
    format!(
        "{}, lists: {}, {}",
        app.kind,
        lists(app),
        if app.enabled { "enabled" } else { "disabled" }
    )
}

/// The lists an app is on: `patrol resident contact`, or `none`.
fn lists(app: &AppView) -> String {
    let on: Vec<&str> = [
        (app.patrol_enabled, "patrol"),
        (app.resident_enabled, "resident"),
        (app.contact_enabled, "contact"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if on.is_empty() {
        "none".to_owned()
    } else {
        on.join(" ")
    }
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run_app(client: &Client, args: AppArgs) -> anyhow::Result<()> {
    let corpid = args.scope.corpid()?;
    match args.command {
        AppCommand::Create {
            name,
            agentid,
            kind,
            patrol,
            resident,
            contact,
            disabled,
        } => {
            let body = CreateApp {
                agentid,
                name,
                kind: kind.map(AppKind::wire),
                patrol_enabled: Some(patrol),
                resident_enabled: Some(resident),
                contact_enabled: Some(contact),
                enabled: Some(!disabled),
            };
            if let Some(app) = client
                .post::<AppView>(&["corps", corpid, "apps"], &body)
                .await?
            {
                println!(
                    "created app {} ({}) in {corpid}: {}",
                    app.agentid,
                    app.name,
                    flags(&app)
                );
                print_secret(app.secret.as_deref());
            }
        }
        AppCommand::List => {
            if let Some(list) = client.get::<AppList>(&["corps", corpid, "apps"]).await? {
                let rows: Vec<Vec<String>> = list
                    .apps
                    .into_iter()
                    .map(|a| {
                        let on = lists(&a);
                        vec![a.agentid.to_string(), a.name, a.kind, on, yes_no(a.enabled)]
                    })
                    .collect();
                output::print_table(
                    &["AGENTID", "NAME", "KIND", "LISTS", "ENABLED"],
                    &rows,
                    &format!("no apps in {corpid}"),
                );
            }
        }
        AppCommand::Update {
            agentid,
            name,
            kind,
            patrol,
            resident,
            contact,
            enabled,
        } => {
            let body = UpdateApp {
                name,
                kind: kind.map(AppKind::wire),
                patrol_enabled: patrol,
                resident_enabled: resident,
                contact_enabled: contact,
                enabled,
            };
            let agentid = agentid.to_string();
            let path = ["corps", corpid, "apps", &agentid];
            if let Some(app) = client.patch::<AppView>(&path, &body).await? {
                println!(
                    "updated app {} ({}) in {corpid}: {}",
                    app.agentid,
                    app.name,
                    flags(&app)
                );
            }
        }
        AppCommand::RotateSecret { agentid } => {
            let agentid = agentid.to_string();
            let path = ["corps", corpid, "apps", &agentid, "secret"];
            if let Some(app) = client.post_empty::<AppView>(&path).await? {
                println!(
                    "new secret for app {} ({}) in {corpid}; the old secret and its tokens no longer work",
                    app.agentid, app.name
                );
                print_secret(app.secret.as_deref());
            }
        }
        AppCommand::Delete { agentid } => {
            let agentid = agentid.to_string();
            client.delete(&["corps", corpid, "apps", &agentid]).await?;
            if !client.prints_json() {
                println!("deleted app {agentid} from {corpid}; its tokens no longer work");
            }
        }
    }
    Ok(())
}

/// Prints a secret on a line of its own, with the warning that it is shown only once.
#[allow(clippy::print_stdout)]
fn print_secret(secret: Option<&str>) {
    match secret {
        Some(secret) => {
            println!();
            println!("secret: {secret}");
            println!();
            println!("Store it now: it will not be shown again (patrol keeps only its hash).");
        }
        None => println!("the server's answer holds no secret"),
    }
}

fn yes_no(flag: bool) -> String {
    if flag { "yes" } else { "no" }.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_kind_is_sent_as_its_flag_spells_it() {
        for kind in AppKind::value_variants() {
            let flag = kind.to_possible_value().unwrap();
            assert_eq!(kind.wire(), flag.get_name());
        }
    }
}
