//! `patrol admin faults …`: the server's fault rules, listed, added, loaded from a file, shown
//! and removed (`/admin/v1/faults`; docs/admin-api.md, "Faults").

use std::path::PathBuf;

use anyhow::Context;
use clap::{ArgGroup, Args, Subcommand};
use patrol_wire::admin::{FaultAction, FaultDelay, FaultList, FaultRule, FaultSet, FaultView};

use super::client::Client;
use super::output;
use crate::admin::clock::parse_duration;
use crate::orders::time::parse_since;

#[derive(Debug, Args)]
pub(crate) struct FaultsArgs {
    #[command(subcommand)]
    command: Option<FaultsCommand>,
}

#[derive(Debug, Subcommand)]
enum FaultsCommand {
    /// List the rules in force, in the order they are tried (the default).
    List,
    /// Add a rule, tried after those in force.
    Add(Box<AddArgs>),
    /// Replace every rule with those of a JSON file, `{"faults": [...]}` (all or none).
    Load {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Show one rule.
    Show {
        #[arg(value_name = "ID")]
        id: u64,
    },
    /// Remove one rule.
    Remove {
        #[arg(value_name = "ID")]
        id: u64,
    },
    /// Remove every rule.
    Clear,
}

/// A rule: which calls, when, and exactly one action.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("action").required(true).args([
    "errcode", "status", "delay", "delay_between", "delay_lognormal", "reset", "truncate", "chunks",
])))]
struct AddArgs {
    /// A glob on the path: `*` any run of characters (`/` included) [default: /cgi-bin/*].
    #[arg(long, value_name = "GLOB")]
    path: Option<String>,
    /// Only this HTTP method (GET, POST).
    #[arg(long, value_name = "METHOD")]
    method: Option<String>,
    /// Only calls of this corp (by its token, or gettoken's corpid).
    #[arg(long, value_name = "CORPID")]
    corpid: Option<String>,
    /// Only calls with a token of this app.
    #[arg(long, value_name = "AGENTID")]
    agentid: Option<i64>,
    /// Let this many matching calls through first.
    #[arg(long, value_name = "N")]
    skip: Option<u64>,
    /// Hit at most this many calls, then expire [default: no limit].
    #[arg(long, value_name = "N")]
    times: Option<u64>,
    /// The chance a matching call is hit (above 0, at most 1) [default: 1].
    #[arg(long, value_name = "P")]
    probability: Option<f64>,
    /// The seed of the rule's draws: the same calls meet the same faults [default: the rule's id].
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Sleep until this time on the server's clock (Unix seconds or a date-time).
    #[arg(long, value_name = "TIME", value_parser = parse_since)]
    from: Option<i64>,
    /// Expire at this time on the server's clock (Unix seconds or a date-time).
    #[arg(long, value_name = "TIME", value_parser = parse_since, conflicts_with = "for_")]
    until: Option<i64>,
    /// Expire after this long on the server's clock: 90s, 5m, 1h.
    #[arg(long = "for", id = "for_", value_name = "DURATION", value_parser = parse_duration)]
    for_: Option<i64>,
    /// Answer this WeCom errcode (-1, 45009, 45033, 42001, any).
    #[arg(long, value_name = "CODE", allow_hyphen_values = true)]
    errcode: Option<i64>,
    /// Answer this HTTP status with an empty body.
    #[arg(long, value_name = "STATUS")]
    status: Option<u16>,
    /// Pause this many milliseconds, then answer.
    #[arg(long, value_name = "MS")]
    delay: Option<u64>,
    /// Pause a uniform draw between two bounds in milliseconds (`100..900`), then answer.
    #[arg(long, value_name = "MIN..MAX", value_parser = parse_range)]
    delay_between: Option<(u64, u64)>,
    /// Pause a log-normal draw (`MEDIAN_MS,SIGMA`, e.g. `200,0.5`), then answer.
    #[arg(long, value_name = "MEDIAN,SIGMA", value_parser = parse_lognormal)]
    delay_lognormal: Option<(u64, f64)>,
    /// Reset the connection (TCP RST) without answering.
    #[arg(long)]
    reset: bool,
    /// Send the head and half the body, then close.
    #[arg(long)]
    truncate: bool,
    /// Send the answer in pieces (`BYTES,EVERY_MS`, e.g. `16,100`).
    #[arg(long, value_name = "BYTES,EVERY_MS", value_parser = parse_chunks)]
    chunks: Option<(u32, u64)>,
}

fn parse_range(text: &str) -> Result<(u64, u64), String> {
    let (min, max) = text
        .split_once("..")
        .ok_or_else(|| format!("{text:?}: expected MIN..MAX in milliseconds, e.g. 100..900"))?;
    let number = |part: &str| {
        part.trim()
            .parse::<u64>()
            .map_err(|_| format!("{text:?}: expected MIN..MAX in milliseconds, e.g. 100..900"))
    };
    Ok((number(min)?, number(max)?))
}

fn parse_lognormal(text: &str) -> Result<(u64, f64), String> {
    let expected = || format!("{text:?}: expected MEDIAN_MS,SIGMA, e.g. 200,0.5");
    let (median, sigma) = text.split_once(',').ok_or_else(expected)?;
    Ok((
        median.trim().parse().map_err(|_| expected())?,
        sigma.trim().parse().map_err(|_| expected())?,
    ))
}

fn parse_chunks(text: &str) -> Result<(u32, u64), String> {
    let expected = || format!("{text:?}: expected BYTES,EVERY_MS, e.g. 16,100");
    let (bytes, every) = text.split_once(',').ok_or_else(expected)?;
    Ok((
        bytes.trim().parse().map_err(|_| expected())?,
        every.trim().parse().map_err(|_| expected())?,
    ))
}

impl AddArgs {
    fn rule(self) -> FaultRule {
        let action = if let Some(code) = self.errcode {
            FaultAction::Errcode(code)
        } else if let Some(status) = self.status {
            FaultAction::Status(status)
        } else if let Some(ms) = self.delay {
            FaultAction::Delay(FaultDelay::Fixed { ms })
        } else if let Some((min_ms, max_ms)) = self.delay_between {
            FaultAction::Delay(FaultDelay::Uniform { min_ms, max_ms })
        } else if let Some((median_ms, sigma)) = self.delay_lognormal {
            FaultAction::Delay(FaultDelay::Lognormal { median_ms, sigma })
        } else if self.reset {
            FaultAction::Reset
        } else if self.truncate {
            FaultAction::Truncate
        } else if let Some((bytes, every_ms)) = self.chunks {
            FaultAction::Chunks { bytes, every_ms }
        } else {
            unreachable!("clap requires exactly one action")
        };
        FaultRule {
            path: self.path,
            method: self.method,
            corpid: self.corpid,
            agentid: self.agentid,
            skip: self.skip,
            times: self.times,
            probability: self.probability,
            seed: self.seed,
            from: self.from,
            until: self.until,
            expires_in: self.for_,
            action,
        }
    }
}

/// A rule's action as one short text.
fn action_text(action: &FaultAction) -> String {
    patrol_server::fault::describe(action)
}

/// Which calls a rule matches, as one short text.
fn match_text(rule: &FaultRule) -> String {
    let mut parts = vec![rule.method.clone().unwrap_or_else(|| "*".to_owned())];
    parts.push(rule.path.clone().unwrap_or_default());
    if let Some(corpid) = &rule.corpid {
        parts.push(format!("corp {corpid}"));
    }
    if let Some(agentid) = rule.agentid {
        parts.push(format!("app {agentid}"));
    }
    parts.join(" ")
}

/// When a rule fires, as one short text.
fn trigger_text(rule: &FaultRule) -> String {
    let mut parts = Vec::new();
    if let Some(skip) = rule.skip {
        parts.push(format!("after {skip}"));
    }
    if let Some(times) = rule.times {
        parts.push(format!("{times} times"));
    }
    if let Some(probability) = rule.probability {
        parts.push(format!("p={probability} seed {}", rule.seed.unwrap_or(0)));
    }
    if let Some(from) = rule.from {
        parts.push(format!("from {}", output::time(from)));
    }
    if let Some(until) = rule.until {
        parts.push(format!("until {}", output::time(until)));
    }
    if parts.is_empty() {
        "every call".to_owned()
    } else {
        parts.join(", ")
    }
}

fn row(view: &FaultView) -> Vec<String> {
    vec![
        view.id.to_string(),
        match_text(&view.rule),
        trigger_text(&view.rule),
        action_text(&view.rule.action),
        view.matched.to_string(),
        view.applied.to_string(),
        view.remaining
            .map_or_else(|| "-".to_owned(), |remaining| remaining.to_string()),
    ]
}

const HEADERS: [&str; 7] = [
    "ID",
    "MATCH",
    "WHEN",
    "ACTION",
    "MATCHED",
    "APPLIED",
    "REMAINING",
];

fn print_list(list: &FaultList) {
    let rows: Vec<Vec<String>> = list.faults.iter().map(row).collect();
    output::print_table(&HEADERS, &rows, "no fault rules");
    #[allow(clippy::print_stdout)]
    {
        println!(
            "faults applied since the server started: {}",
            list.applied_total
        );
    }
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(client: &Client, args: FaultsArgs) -> anyhow::Result<()> {
    match args.command.unwrap_or(FaultsCommand::List) {
        FaultsCommand::List => {
            if let Some(list) = client.get::<FaultList>(&["faults"]).await? {
                print_list(&list);
            }
        }
        FaultsCommand::Add(add) => {
            if let Some(view) = client.post::<FaultView>(&["faults"], &add.rule()).await? {
                println!(
                    "added fault rule {}: {} on {} ({})",
                    view.id,
                    action_text(&view.rule.action),
                    match_text(&view.rule),
                    trigger_text(&view.rule)
                );
            }
        }
        FaultsCommand::Load { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let set: FaultSet = serde_json::from_str(&text)
                .with_context(|| format!("{} is not {{\"faults\": [rules]}}", file.display()))?;
            if let Some(list) = client.put::<FaultList>(&["faults"], &set).await? {
                println!("{} fault rules in force", list.faults.len());
                print_list(&list);
            }
        }
        FaultsCommand::Show { id } => {
            let id = id.to_string();
            if let Some(view) = client.get::<FaultView>(&["faults", &id]).await? {
                output::print_table(&HEADERS, &[row(&view)], "");
            }
        }
        FaultsCommand::Remove { id } => {
            client.delete(&["faults", &id.to_string()]).await?;
            if !client.prints_json() {
                println!("removed fault rule {id}");
            }
        }
        FaultsCommand::Clear => {
            client.delete(&["faults"]).await?;
            if !client.prints_json() {
                println!("removed every fault rule");
            }
        }
    }
    Ok(())
}
