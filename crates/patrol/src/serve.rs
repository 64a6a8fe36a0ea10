//! `patrol serve`.

use std::time::Duration;

use anyhow::Context;
use clap::Args;
use patrol_demo as demo;

use crate::settings::{self, CommonArgs, DEFAULT_LISTEN, FileConfig};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on, HOST:PORT [default: 127.0.0.1:8080].
    #[arg(long, env = "PATROL_LISTEN", value_name = "HOST:PORT")]
    listen: Option<String>,
    /// Serve the demo corp: on a fresh DATA_DIR/demo.db, or installed into --database when
    /// it is missing there.
    #[arg(long, env = "PATROL_DEMO")]
    demo: bool,
    /// Lifetime of access tokens, in seconds [default: 7200].
    #[arg(long, env = "PATROL_TOKEN_TTL", value_name = "SECONDS")]
    token_ttl: Option<i64>,
    /// The key of the administration API [default: generated at start and printed].
    #[arg(
        long,
        env = "PATROL_ADMIN_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    admin_key: Option<String>,
    /// Print an example config file and exit.
    #[arg(long)]
    print_config: bool,
    #[command(flatten)]
    common: CommonArgs,
}

const EXAMPLE_CONFIG: &str = r#"# patrol's config file: pass it with --config FILE or PATROL_CONFIG=FILE.
# Flags and PATROL_* environment variables override what is set here.

# Address to listen on.
listen = "127.0.0.1:8080"
# Database URL; the default is a SQLite file in the data directory.
# database = "sqlite:///var/lib/patrol/patrol.db"
# Where patrol keeps its files.
# data_dir = "/var/lib/patrol"
# Install and serve the demo corp.
demo = false
# Lifetime of access tokens, in seconds.
token_ttl = 7200
# The base URL clients reach the server at (for image URLs).
# public_url = "https://patrol.example.com"
# Requests that take longer are cut off (seconds).
request_timeout = 30
# The key of the administration API (/admin/v1/); generated at start when unset.
# admin_key = "a long random string"

# For `patrol orders`: whose orders to read, from WeCom or a patrol server.
# base_url = "https://qyapi.weixin.qq.com"
# corpid = "ww..."
# corpsecret = "the secret of an app enabled for patrol"
"#;

#[allow(clippy::print_stdout)]
pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    if args.print_config {
        print!("{EXAMPLE_CONFIG}");
        return Ok(());
    }
    let file = FileConfig::load(args.common.config.as_deref())?;
    let listen = args
        .listen
        .clone()
        .or_else(|| file.listen.clone())
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    let listen = settings::parse_listen(&listen)?;
    let demo = args.demo || file.demo.unwrap_or(false);
    let data_dir = settings::data_dir(&args.common, &file)?;
    let database = match settings::named_database(&args.common, &file) {
        Some(url) => url,
        None if demo => {
            // A fresh demo database on every start, so the demo is always the same.
            let path = data_dir.join("demo.db");
            for suffix in ["", "-wal", "-shm"] {
                let file = format!("{}{suffix}", path.display());
                match std::fs::remove_file(&file) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e).with_context(|| format!("cannot remove {file}")),
                }
            }
            settings::sqlite_url(&data_dir, "demo.db")
        }
        None => settings::sqlite_url(&data_dir, "patrol.db"),
    };
    let mut config = patrol_server::Config::new(database.clone());
    config.demo = demo;
    config.token_ttl = args
        .token_ttl
        .or(file.token_ttl)
        .unwrap_or(config.token_ttl);
    anyhow::ensure!(config.token_ttl > 0, "token_ttl must be positive");
    config.public_url = args.common.public_url.clone().or(file.public_url.clone());
    let (admin_key, generated) = match args.admin_key.clone().or(file.admin_key.clone()) {
        Some(key) if !key.trim().is_empty() => (key, false),
        _ => (patrol_server::admin::new_secret(), true),
    };
    config.admin_key = Some(admin_key.clone());
    if let Some(seconds) = file.request_timeout {
        config.request_timeout = Duration::from_secs(seconds);
    }

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let base_url = config.public_url(listener.local_addr()?);
    print_banner(
        &base_url,
        &database,
        demo,
        generated.then_some(admin_key.as_str()),
    );
    patrol_server::serve(config, listener, shutdown_signal())
        .await
        .context("server failed")?;
    Ok(())
}

#[allow(clippy::print_stdout)]
fn print_banner(base_url: &str, database: &str, demo: bool, generated_admin_key: Option<&str>) {
    println!("patrol is listening on {base_url}");
    println!("  database    {database}");
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
            "  corpsecret  {secret}   (app {}, enabled for patrol)",
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
        println!(
            "  TOKEN=$(curl -s '{base_url}/cgi-bin/gettoken?corpid={corpid}&corpsecret={secret}' | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/') && curl -s -X POST \"{base_url}/cgi-bin/report/patrol/get_order_list?access_token=$TOKEN\" -d '{{\"limit\":2}}'"
        );
    }
}

async fn shutdown_signal() {
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
