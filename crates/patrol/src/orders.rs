//! `patrol orders`: read orders through WeCom's patrol API (`get_order_list`, `get_order_info`),
//! from WeCom itself or a patrol server: `list`, `show` and `export`; `--resident` reads the
//! resident family (`report/resident/*`) instead.

mod export;
pub(crate) mod output;
pub(crate) mod time;

use std::io::{IsTerminal, Write};

use anyhow::Context;
use clap::{Args, Subcommand};
use futures_util::StreamExt;
use patrol_client::{Client, Family, FamilyClient, OrderQuery, WECOM_BASE_URL};
use patrol_wire::ErrCode;
use secrecy::{ExposeSecret, SecretString};

use crate::settings::{self, Layer, Settings};

/// The most orders WeCom returns in one page.
const MAX_PAGE: u64 = 50;

#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    /// The API's base URL: WeCom's, or a patrol server's such as http://127.0.0.1:8080
    /// [default: <https://qyapi.weixin.qq.com>].
    #[arg(
        long,
        env = "PATROL_BASE_URL",
        value_name = "URL",
        global = true,
        display_order = 100
    )]
    base_url: Option<String>,
    /// The corp's id (corpid).
    #[arg(
        long,
        env = "PATROL_CORPID",
        value_name = "CORPID",
        global = true,
        display_order = 101
    )]
    corpid: Option<String>,
    /// The secret of an app enabled for patrol (corpsecret). Prefer the environment or the config
    /// file: a flag shows in the process list.
    #[arg(
        long,
        env = "PATROL_CORPSECRET",
        value_name = "SECRET",
        hide_env_values = true,
        global = true,
        display_order = 102,
        value_parser = settings::secret
    )]
    corpsecret: Option<SecretString>,
    /// The time zone times are shown in (with their offset) and dates without an offset are
    /// read in, an IANA name [default: Asia/Shanghai].
    #[arg(
        long,
        env = "PATROL_TIME_ZONE",
        value_name = "ZONE",
        global = true,
        display_order = 103
    )]
    time_zone: Option<String>,
}

impl ApiArgs {
    /// These flags, with their environment variables, as a layer of settings.
    pub(crate) fn flags(&self) -> Layer {
        Layer {
            base_url: self.base_url.clone(),
            corpid: self.corpid.clone(),
            corpsecret: self.corpsecret.clone(),
            time_zone: self.time_zone.clone(),
            ..Layer::default()
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct OrdersArgs {
    #[command(flatten)]
    api: ApiArgs,
    /// Read resident orders (居民上报, report/resident/*) instead of patrol orders: they carry
    /// their reporter's name, mobile number and unionid.
    #[arg(long, global = true, display_order = 110)]
    resident: bool,
    #[command(subcommand)]
    command: OrdersCommand,
}

#[derive(Debug, Subcommand)]
enum OrdersCommand {
    /// List orders: a table on a terminal, a JSON array when piped or with --json.
    ///
    /// Orders come in WeCom's order: by creation time, or by their last change with
    /// --modified-since.
    List(ListArgs),
    /// Show one order: its fields and steps on a terminal, JSON when piped or with --json.
    Show(ShowArgs),
    /// Write every matching order to a file as JSON lines, a JSON array or CSV.
    Export(export::ExportArgs),
}

/// The filters of `get_order_list`.
#[derive(Debug, Clone, Args)]
pub(crate) struct Filters {
    /// Only orders created at or after TIME: Unix seconds, or a date or date-time such as
    /// 2026-11-01 or 2026-11-01T08:00:00. Without Z or an offset (+08:00) the time is in the
    /// time zone of --time-zone: China Standard Time (Asia/Shanghai, UTC+8) by default, as WeCom
    /// is a China service.
    #[arg(long, value_name = "TIME", value_parser = time::parse_since)]
    created_since: Option<i64>,
    /// Only orders changed at or after TIME (the forms of --created-since); the orders then
    /// come in the order of their last change.
    #[arg(long, value_name = "TIME", value_parser = time::parse_since)]
    modified_since: Option<i64>,
}

impl Filters {
    /// The walk over these filters, `page` orders per request.
    pub(crate) fn query(&self, page: u64) -> OrderQuery {
        OrderQuery {
            begin_create_time: self.created_since,
            begin_modify_time: self.modified_since,
            limit: Some(page.clamp(1, MAX_PAGE) as i64),
            ..OrderQuery::default()
        }
    }
}

#[derive(Debug, Args)]
struct ListArgs {
    #[command(flatten)]
    filters: Filters,
    /// How many orders to print in all.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 20,
        value_parser = clap::value_parser!(u64).range(1..),
        conflicts_with = "all"
    )]
    limit: u64,
    /// Print every matching order.
    #[arg(long)]
    all: bool,
    /// Print a JSON array of the orders as WeCom sends them, even on a terminal.
    #[arg(long, conflicts_with = "table")]
    json: bool,
    /// Print the table even when stdout is not a terminal.
    #[arg(long)]
    table: bool,
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// The order's id.
    #[arg(value_name = "ORDER_ID")]
    order_id: String,
    /// Print the order as WeCom sends it (JSON), even on a terminal.
    #[arg(long, conflicts_with = "text")]
    json: bool,
    /// Print the readable form even when stdout is not a terminal.
    #[arg(long)]
    text: bool,
}

impl OrdersArgs {
    /// These flags, with their environment variables, as a layer of settings.
    pub(crate) fn flags(&self) -> Layer {
        self.api.flags()
    }
}

pub(crate) async fn run(args: OrdersArgs, settings: Settings) -> anyhow::Result<()> {
    let client = connect(&settings)?.family(family(args.resident));
    let result = match args.command {
        OrdersCommand::List(list_args) => list(&client, list_args).await,
        OrdersCommand::Show(show_args) => show(&client, show_args).await,
        OrdersCommand::Export(export_args) => export::run(&client, export_args).await,
    };
    match result {
        // `patrol orders list | head`: the reader has all it wanted.
        Err(error) if is_broken_pipe(&error) => Ok(()),
        other => other,
    }
}

/// The family `--resident` chooses.
pub(crate) fn family(resident: bool) -> Family {
    if resident {
        Family::Resident
    } else {
        Family::Patrol
    }
}

/// The client, with the base URL and credentials of the settings.
pub(crate) fn connect(settings: &Settings) -> anyhow::Result<Client> {
    let base_url = check_base_url(&settings.base_url)?;
    let corpid = settings.corpid.as_deref().context(
        "no corpid: pass --corpid CORPID, set PATROL_CORPID, or set corpid in the config file \
         (--config FILE or PATROL_CONFIG)",
    )?;
    let secret = settings.corpsecret.as_ref().context(
        "no corpsecret: pass --corpsecret SECRET, set PATROL_CORPSECRET, or set corpsecret in \
         the config file (--config FILE or PATROL_CONFIG)",
    )?;
    Client::builder()
        .base_url(base_url)
        .corpid(corpid)
        // The secret leaves its wrapper only here, for the client that sends it.
        .secret(secret.expose_secret().trim())
        .build()
        .map_err(describe)
}

/// Refuses base URLs that are not http(s), before any request; the URL with its scheme in lower
/// case.
fn check_base_url(base_url: &str) -> anyhow::Result<String> {
    let scheme_end = base_url.find("://").map_or(0, |at| at + 3);
    let scheme = base_url[..scheme_end].to_ascii_lowercase();
    match scheme.as_str() {
        "http://" | "https://" if base_url.len() > scheme_end => {
            Ok(format!("{scheme}{}", &base_url[scheme_end..]))
        }
        _ => anyhow::bail!(
            "invalid base URL {base_url:?}: expected http(s)://HOST[:PORT], e.g. \
             http://127.0.0.1:8080 or {WECOM_BASE_URL}"
        ),
    }
}

/// A client error as a message for people: WeCom's codes with what they mean, network errors
/// without the request's URL (whose query holds the secret or the token).
pub(crate) fn describe(error: patrol_client::Error) -> anyhow::Error {
    use patrol_client::Error;
    match error {
        Error::Api { errcode, errmsg } => {
            let mut message = format!("WeCom error {errcode}");
            if let Some(code) = ErrCode::from_code(errcode) {
                message.push(' ');
                message.push_str(code.message());
            }
            if let Some(meaning) = meaning(errcode) {
                message.push_str(": ");
                message.push_str(meaning);
            }
            if !errmsg.is_empty() {
                message.push_str(&format!(" (errmsg {errmsg:?})"));
            }
            anyhow::anyhow!(message)
        }
        Error::Transport { url, source } => {
            anyhow::Error::new(source.without_url()).context(format!("cannot reach {url}"))
        }
        Error::Decode {
            url,
            status,
            message,
        } => anyhow::anyhow!(
            "unexpected answer from {url} (HTTP {status}): {message}; is the base URL that of \
             WeCom or a patrol server?"
        ),
        Error::Config(message) => anyhow::anyhow!("cannot set up the client: {message}"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// What a WeCom error code means for someone reading orders.
fn meaning(errcode: i64) -> Option<&'static str> {
    Some(match errcode {
        -1 => "WeCom stayed busy through every retry; try again later",
        40001 => {
            "the corpsecret matches no enabled app of the corp (check --corpsecret or \
             PATROL_CORPSECRET)"
        }
        40013 => "the corpid is unknown (check --corpid or PATROL_CORPID)",
        40014 => "the access token was refused, even a freshly fetched one",
        40058 => {
            "a parameter was refused: an unknown order, grid or category id, or a bad filter, \
             cursor or limit"
        }
        40063 => "a required parameter is empty",
        41001 => "the request carried no access token",
        41002 => "the corpid is missing",
        41004 => "the corpsecret is missing",
        42001 => "the access token expired, even a freshly fetched one",
        45009 => "too many calls, even after backing off; try again later",
        45033 => "too many concurrent calls, even after backing off; try again later",
        48002 => {
            "the app is not allowed to call the patrol API (enable 巡查上报, or 居民上报 for \
             --resident, for a custom app in WeCom's admin console; system apps of corps created \
             from 2023-12-01 may not call it)"
        }
        60111 => "the userid is no member of the corp",
        _ => return None,
    })
}

/// Whether an error is a write to a closed pipe.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Whether to print JSON: when asked, or when stdout is not a terminal and people's output was
/// not asked for.
fn prints_json(json: bool, human: bool) -> bool {
    json || (!human && !std::io::stdout().is_terminal())
}

async fn list(client: &FamilyClient, args: ListArgs) -> anyhow::Result<()> {
    let json = prints_json(args.json, args.table);
    let wanted = if args.all { None } else { Some(args.limit) };
    // The table notes when there were more orders than it shows: read one more.
    let reading = wanted.map(|n| if json { n } else { n.saturating_add(1) });
    let query = args.filters.query(reading.unwrap_or(MAX_PAGE));
    let mut orders = Box::pin(
        client
            .orders(query)
            .take(reading.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX))),
    );
    let mut out = std::io::BufWriter::new(std::io::stdout());
    if json {
        // Streamed, so that --all over millions of orders needs no memory; nothing is printed
        // before the first order came (a refused secret prints no stray bracket).
        let mut count = 0u64;
        while let Some(order) = orders.next().await {
            let order = order.map_err(describe)?;
            out.write_all(if count == 0 { b"[\n" } else { b",\n" })?;
            out.write_all(&serde_json::to_vec(&order)?)?;
            count += 1;
        }
        out.write_all(if count == 0 { b"[]\n" } else { b"\n]\n" })?;
        out.flush()?;
        return Ok(());
    }
    let mut shown = Vec::new();
    while let Some(order) = orders.next().await {
        shown.push(order.map_err(describe)?);
    }
    let more = wanted.is_some_and(|n| shown.len() as u64 > n);
    if more {
        shown.pop();
    }
    if shown.is_empty() {
        writeln!(out, "no matching orders")?;
    } else {
        out.write_all(output::order_table(&shown).as_bytes())?;
    }
    out.flush()?;
    if more {
        eprintln!(
            "(the first {} orders; --limit N or --all for more)",
            shown.len()
        );
    }
    Ok(())
}

async fn show(client: &FamilyClient, args: ShowArgs) -> anyhow::Result<()> {
    let order = client
        .order_info(&args.order_id)
        .await
        .map_err(describe)
        .with_context(|| format!("cannot read order {:?}", args.order_id))?;
    let mut out = std::io::BufWriter::new(std::io::stdout());
    if prints_json(args.json, args.text) {
        out.write_all(&serde_json::to_vec(&order)?)?;
        out.write_all(b"\n")?;
    } else {
        out.write_all(output::order_text(&order).as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_base_urls_are_taken() {
        assert_eq!(check_base_url(WECOM_BASE_URL).unwrap(), WECOM_BASE_URL);
        assert_eq!(
            check_base_url("HTTPS://patrol.example.com").unwrap(),
            "https://patrol.example.com"
        );
        assert!(check_base_url("ftp://x").is_err());
        assert!(check_base_url("127.0.0.1:8080").is_err());
        assert!(check_base_url("http://").is_err());
        assert_eq!(
            check_base_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            check_base_url("HTTP://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080/"
        );
    }

    #[test]
    fn wecom_errors_name_their_meaning() {
        let error = describe(patrol_client::Error::Api {
            errcode: 48002,
            errmsg: "api forbidden, hint: [x]".into(),
        });
        let text = error.to_string();
        assert!(
            text.contains("48002 api forbidden: the app is not allowed to call the patrol API"),
            "{text}"
        );
        assert!(text.contains("hint: [x]"), "{text}");
        let unknown = describe(patrol_client::Error::Api {
            errcode: 12345,
            errmsg: String::new(),
        });
        assert_eq!(unknown.to_string(), "WeCom error 12345");
    }
}
