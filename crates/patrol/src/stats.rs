//! `patrol stats`: the counts of WeCom's statistics calls (`get_corp_status`, `get_user_status`,
//! `category_statistic`) of the patrol family or, with `--resident`, the resident family, from
//! WeCom or a patrol server; a table per call, or one JSON object.

use std::io::Write;

use anyhow::Context;
use clap::Args;
use patrol_client::{CategoryDashboard, CorpStatus, Family, UserStatus};
use serde::Serialize;

use crate::orders::{ApiArgs, connect, describe, family};
use crate::settings::{Layer, Settings};
use crate::table::table;

#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    #[command(flatten)]
    api: ApiArgs,
    /// Count resident orders (居民上报, report/resident/*) instead of patrol orders.
    #[arg(long)]
    resident: bool,
    /// The counts of this grid and the grids under it (get_corp_status) [default: the whole
    /// corp].
    #[arg(long, value_name = "GRID_ID")]
    grid: Option<String>,
    /// The counts of this member's orders (get_user_status).
    #[arg(long, value_name = "USERID")]
    user: Option<String>,
    /// The counts per category under this category (category_statistic): a level-1 id gives a
    /// row per child, a level-2 id its own row [default: a row per level-1 category].
    #[arg(long, value_name = "CATEGORY_ID")]
    category: Option<String>,
    /// Print one JSON object: family, and corp_status, user_status and dashboard_list for the
    /// calls made, as WeCom answers them (without errcode and errmsg).
    #[arg(long)]
    json: bool,
}

impl StatsArgs {
    /// These flags, with their environment variables, as a layer of settings.
    pub(crate) fn flags(&self) -> Layer {
        self.api.flags()
    }

    /// Which calls to make: those the flags name; without any, the corp's counts and the rows
    /// of the level-1 categories.
    fn calls(&self) -> (bool, bool, bool) {
        let none = self.grid.is_none() && self.user.is_none() && self.category.is_none();
        (
            none || self.grid.is_some(),
            self.user.is_some(),
            none || self.category.is_some(),
        )
    }
}

/// What was read.
#[derive(Debug, Default)]
struct Read {
    corp: Option<CorpStatus>,
    user: Option<UserStatus>,
    categories: Option<Vec<CategoryDashboard>>,
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(args: StatsArgs, settings: Settings) -> anyhow::Result<()> {
    let client = connect(&settings)?.family(family(args.resident));
    let (corp, user, categories) = args.calls();
    let mut read = Read::default();
    if corp {
        let grid = args.grid.as_deref();
        let status = client.corp_status(grid).await.map_err(describe);
        read.corp = Some(status.with_context(|| match grid {
            Some(grid) => format!("cannot read the counts of grid {grid:?}"),
            None => "cannot read the counts of the corp".to_owned(),
        })?);
    }
    if user && let Some(userid) = args.user.as_deref() {
        let status = client.user_status(userid).await.map_err(describe);
        read.user =
            Some(status.with_context(|| format!("cannot read the counts of user {userid:?}"))?);
    }
    if categories {
        let category = args.category.as_deref();
        let rows = client.category_statistic(category).await.map_err(describe);
        read.categories = Some(rows.with_context(|| match category {
            Some(category) => format!("cannot read the counts under category {category:?}"),
            None => "cannot read the counts per category".to_owned(),
        })?);
    }
    let text = if args.json {
        let mut text = serde_json::to_string_pretty(&printed(client.family(), &args, &read))?;
        text.push('\n');
        text
    } else {
        tables(client.family(), &args, &read)
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// The JSON object `--json` prints: the family, then each call's answer after what it asked
/// about, in WeCom's field order.
#[derive(Debug, Serialize)]
struct Printed<'a> {
    family: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    grid_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    corp_status: Option<&'a CorpStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    userid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_status: Option<&'a UserStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dashboard_list: Option<&'a [CategoryDashboard]>,
}

fn printed<'a>(family: Family, args: &'a StatsArgs, read: &'a Read) -> Printed<'a> {
    Printed {
        family: family.as_str(),
        grid_id: read.corp.as_ref().and(args.grid.as_deref()),
        corp_status: read.corp.as_ref(),
        userid: read.user.as_ref().and(args.user.as_deref()),
        user_status: read.user.as_ref(),
        category_id: read.categories.as_ref().and(args.category.as_deref()),
        dashboard_list: read.categories.as_deref(),
    }
}

/// Text from the server made safe for a terminal and one line.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A table of counts: a row per count the family answers, with WeCom's field name and its
/// meaning.
fn counts(rows: &[(&str, &str, Option<i64>)]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .filter_map(|(field, meaning, count)| {
            count.map(|count| {
                vec![
                    (*field).to_owned(),
                    (*meaning).to_owned(),
                    count.to_string(),
                ]
            })
        })
        .collect();
    table(&["COUNT", "MEANING", "ORDERS"], &rows)
}

/// The tables `patrol stats` prints, one per call, each after a line that says what it counts.
fn tables(family: Family, args: &StatsArgs, read: &Read) -> String {
    let mut sections = Vec::new();
    if let Some(corp) = &read.corp {
        let whose = match &args.grid {
            Some(grid) => format!("grid {} and the grids under it", clean(grid)),
            None => "the whole corp".to_owned(),
        };
        sections.push(format!(
            "{family} orders of {whose}:\n{}",
            counts(&[
                (
                    "to_be_assigned",
                    "待分配 reported, not taken",
                    corp.to_be_assigned
                ),
                ("pending", "待受理 reported, not taken", corp.pending),
                ("processing", "办理中 taken, open", Some(corp.processing)),
                (
                    "added_today",
                    "今日上报 reported today",
                    Some(corp.added_today)
                ),
                (
                    "solved_today",
                    "今日办结 done today",
                    Some(corp.solved_today)
                ),
                ("total_case", "累计上报 all", Some(corp.total_case)),
                ("total_accepted", "累计受理 ever taken", corp.total_accepted),
                ("total_solved", "累计办结 done", Some(corp.total_solved)),
            ])
        ));
    }
    if let (Some(user), Some(userid)) = (&read.user, &args.user) {
        sections.push(format!(
            "{family} orders of user {}:\n{}",
            clean(userid),
            counts(&[
                ("processing", "open, the user to act", Some(user.processing)),
                ("pending", "of those, not taken", user.pending),
                (
                    "added_today",
                    "reported today by the user",
                    Some(user.added_today)
                ),
                (
                    "solved_today",
                    "done today by the user",
                    Some(user.solved_today)
                ),
            ])
        ));
    }
    if let Some(rows) = &read.categories {
        let whose = match &args.category {
            Some(category) => format!("category {}", clean(category)),
            None => "every level-1 category".to_owned(),
        };
        let body = if rows.is_empty() {
            "no categories and no orders\n".to_owned()
        } else {
            let rows: Vec<Vec<String>> = rows
                .iter()
                .map(|row| {
                    vec![
                        if row.category_id.is_empty() {
                            "-".to_owned()
                        } else {
                            clean(&row.category_id)
                        },
                        clean(&row.category_name),
                        row.category_level.to_string(),
                        row.total_case.to_string(),
                        row.total_solved.to_string(),
                    ]
                })
                .collect();
            table(&["CATEGORY ID", "NAME", "LEVEL", "ORDERS", "SOLVED"], &rows)
        };
        sections.push(format!("{family} orders per category, {whose}:\n{body}"));
    }
    sections.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: StatsArgs,
    }

    fn args(flags: &[&str]) -> StatsArgs {
        Cli::try_parse_from(std::iter::once("stats").chain(flags.iter().copied()))
            .unwrap()
            .args
    }

    #[test]
    fn the_flags_choose_the_calls() {
        assert_eq!(args(&[]).calls(), (true, false, true));
        assert_eq!(args(&["--grid", "g"]).calls(), (true, false, false));
        assert_eq!(args(&["--user", "u"]).calls(), (false, true, false));
        assert_eq!(args(&["--category", "c"]).calls(), (false, false, true));
        assert_eq!(
            args(&["--user", "u", "--grid", "g", "--category", "c"]).calls(),
            (true, true, true)
        );
    }

    #[test]
    fn the_tables_show_the_familys_counts_only() {
        let read = Read {
            corp: Some(CorpStatus {
                pending: Some(3),
                total_accepted: Some(5),
                total_case: 9,
                ..CorpStatus::default()
            }),
            user: None,
            categories: Some(vec![CategoryDashboard {
                category_name: "其他".into(),
                category_level: 1,
                total_case: 2,
                ..CategoryDashboard::default()
            }]),
        };
        let text = tables(Family::Resident, &args(&[]), &read);
        assert!(
            text.starts_with("resident orders of the whole corp:\n"),
            "{text}"
        );
        assert!(text.contains("\npending "), "{text}");
        assert!(text.contains("\ntotal_accepted "), "{text}");
        assert!(!text.contains("to_be_assigned"), "{text}");
        assert!(
            text.contains("\n-            其他  1      2       0\n"),
            "{text}"
        );
    }

    #[test]
    fn the_json_keeps_wecoms_field_order() {
        let read = Read {
            corp: Some(CorpStatus {
                to_be_assigned: Some(1),
                ..CorpStatus::default()
            }),
            ..Read::default()
        };
        let text = serde_json::to_string(&printed(Family::Patrol, &args(&["--grid", "g1"]), &read))
            .unwrap();
        assert_eq!(
            text,
            r#"{"family":"patrol","grid_id":"g1","corp_status":{"to_be_assigned":1,"processing":0,"added_today":0,"solved_today":0,"total_case":0,"total_solved":0}}"#
        );
    }
}
