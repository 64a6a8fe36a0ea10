//! `patrol admin user …`, `grid …` and `category …`: who may report and act, where, and on what.

use std::collections::HashMap;

use clap::{ArgGroup, Args, Subcommand};
use serde::{Deserialize, Serialize};

use super::CorpScope;
use super::client::Client;
use super::output;

#[derive(Debug, Args)]
pub(crate) struct UserArgs {
    #[command(flatten)]
    scope: CorpScope,
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user.
    Add {
        /// The userid: 1–64 letters, digits, `-`, `_`, `.` or `@`.
        #[arg(long, value_name = "U")]
        userid: String,
        /// The user's name.
        #[arg(long)]
        name: String,
    },
    /// List the users.
    List,
    /// Rename a user.
    Update {
        /// The userid.
        userid: String,
        /// The new name.
        #[arg(long)]
        name: String,
    },
    /// Delete a user who is in no grid.
    Delete {
        /// The userid.
        userid: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct User {
    userid: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct Users {
    users: Vec<User>,
}

#[derive(Debug, Serialize)]
struct Rename<'a> {
    name: &'a str,
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run_user(client: &Client, args: UserArgs) -> anyhow::Result<()> {
    let corpid = args.scope.corpid()?;
    match args.command {
        UserCommand::Add { userid, name } => {
            let body = User { userid, name };
            if let Some(user) = client
                .post::<User>(&["corps", corpid, "users"], &body)
                .await?
            {
                println!("added user {} ({}) to {corpid}", user.userid, user.name);
            }
        }
        UserCommand::List => {
            if let Some(list) = client.get::<Users>(&["corps", corpid, "users"]).await? {
                let rows: Vec<Vec<String>> = list
                    .users
                    .into_iter()
                    .map(|u| vec![u.userid, u.name])
                    .collect();
                output::print_table(&["USERID", "NAME"], &rows, &format!("no users in {corpid}"));
            }
        }
        UserCommand::Update { userid, name } => {
            let path = ["corps", corpid, "users", &userid];
            if let Some(user) = client.patch::<User>(&path, &Rename { name: &name }).await? {
                println!("renamed user {} in {corpid} to {}", user.userid, user.name);
            }
        }
        UserCommand::Delete { userid } => {
            client.delete(&["corps", corpid, "users", &userid]).await?;
            if !client.prints_json() {
                println!("deleted user {userid} from {corpid}");
            }
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct GridArgs {
    #[command(flatten)]
    scope: CorpScope,
    #[command(subcommand)]
    command: GridCommand,
}

#[derive(Debug, Subcommand)]
enum GridCommand {
    /// Add a grid.
    Add {
        /// The grid's name: 1–30 characters, unique among its siblings.
        #[arg(long)]
        name: String,
        /// Its id [default: chosen by the server].
        #[arg(long, value_name = "G")]
        grid_id: Option<String>,
        /// The grid it is part of [default: none, a top-level grid].
        #[arg(long, value_name = "P")]
        parent: Option<String>,
        /// An admin (1–20): repeat the flag or separate userids with commas.
        #[arg(
            long = "admin",
            value_name = "U",
            required = true,
            value_delimiter = ','
        )]
        admins: Vec<String>,
        /// A member (up to 100): repeat the flag or separate userids with commas.
        #[arg(long = "member", value_name = "U", value_delimiter = ',')]
        members: Vec<String>,
    },
    /// List the grids, parents before children.
    List,
    /// Show one grid.
    Show {
        /// The grid's id.
        grid_id: String,
    },
    /// Rename a grid, move it, or replace its admins or members.
    #[command(group(
        ArgGroup::new("changes")
            .required(true)
            .multiple(true)
            .args(["name", "parent", "top_level", "admins", "members", "no_members"])
    ))]
    Update {
        /// The grid's id.
        grid_id: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// Move it under this grid.
        #[arg(long, value_name = "P", conflicts_with = "top_level")]
        parent: Option<String>,
        /// Move it to the top level.
        #[arg(long)]
        top_level: bool,
        /// Replace the admins with these: repeat the flag or separate userids with commas.
        #[arg(long = "admin", value_name = "U", value_delimiter = ',')]
        admins: Vec<String>,
        /// Replace the members with these: repeat the flag or separate userids with commas.
        #[arg(
            long = "member",
            value_name = "U",
            value_delimiter = ',',
            conflicts_with = "no_members"
        )]
        members: Vec<String>,
        /// Remove all members.
        #[arg(long)]
        no_members: bool,
    },
    /// Delete a grid without members, child grids or orders.
    Delete {
        /// The grid's id.
        grid_id: String,
    },
}

#[derive(Debug, Deserialize)]
struct Grid {
    grid_id: String,
    name: String,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    admins: Vec<String>,
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Grids {
    grids: Vec<Grid>,
}

#[derive(Debug, Serialize)]
struct NewGrid<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    grid_id: Option<&'a str>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<&'a str>,
    admins: &'a [String],
    members: &'a [String],
}

#[derive(Debug, Serialize)]
struct GridChanges<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    /// `Some(None)` moves the grid to the top level (`"parent_id": null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    admins: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<&'a [String]>,
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run_grid(client: &Client, args: GridArgs) -> anyhow::Result<()> {
    let corpid = args.scope.corpid()?;
    match args.command {
        GridCommand::Add {
            name,
            grid_id,
            parent,
            admins,
            members,
        } => {
            let body = NewGrid {
                grid_id: grid_id.as_deref(),
                name: &name,
                parent_id: parent.as_deref(),
                admins: &admins,
                members: &members,
            };
            if let Some(grid) = client
                .post::<Grid>(&["corps", corpid, "grids"], &body)
                .await?
            {
                println!(
                    "added grid {} ({}) to {corpid}{}",
                    grid.grid_id,
                    grid.name,
                    grid.parent_id
                        .as_deref()
                        .map(|p| format!(" under {p}"))
                        .unwrap_or_default()
                );
                print_people(&grid);
            }
        }
        GridCommand::List => {
            if let Some(list) = client.get::<Grids>(&["corps", corpid, "grids"]).await? {
                print_grids(&list.grids, corpid);
            }
        }
        GridCommand::Show { grid_id } => {
            if let Some(grid) = client
                .get::<Grid>(&["corps", corpid, "grids", &grid_id])
                .await?
            {
                println!("grid_id  {}", grid.grid_id);
                println!("name     {}", grid.name);
                println!("parent   {}", grid.parent_id.as_deref().unwrap_or("-"));
                print_people(&grid);
            }
        }
        GridCommand::Update {
            grid_id,
            name,
            parent,
            top_level,
            admins,
            members,
            no_members,
        } => {
            let parent_id = if top_level {
                Some(None)
            } else {
                parent.as_deref().map(Some)
            };
            let body = GridChanges {
                name: name.as_deref(),
                parent_id,
                admins: (!admins.is_empty()).then_some(admins.as_slice()),
                members: (no_members || !members.is_empty()).then_some(members.as_slice()),
            };
            let path = ["corps", corpid, "grids", &grid_id];
            if let Some(grid) = client.patch::<Grid>(&path, &body).await? {
                println!(
                    "updated grid {} ({}) in {corpid}, {}",
                    grid.grid_id,
                    grid.name,
                    grid.parent_id
                        .as_deref()
                        .map_or_else(|| "top level".to_owned(), |p| format!("under {p}"))
                );
                print_people(&grid);
            }
        }
        GridCommand::Delete { grid_id } => {
            client.delete(&["corps", corpid, "grids", &grid_id]).await?;
            if !client.prints_json() {
                println!("deleted grid {grid_id} from {corpid}");
            }
        }
    }
    Ok(())
}

/// `admins   a, b` and `members  c`.
#[allow(clippy::print_stdout)]
fn print_people(grid: &Grid) {
    println!("admins   {}", output::list(&grid.admins));
    println!("members  {}", output::list(&grid.members));
}

/// The grids as a table, each name indented by its depth.
fn print_grids(grids: &[Grid], corpid: &str) {
    let parents: HashMap<&str, Option<&str>> = grids
        .iter()
        .map(|g| (g.grid_id.as_str(), g.parent_id.as_deref()))
        .collect();
    let depth = |grid: &Grid| {
        let mut depth = 0;
        let mut parent = grid.parent_id.as_deref();
        // Bounded, in case the answer holds a cycle.
        while let Some(p) = parent {
            depth += 1;
            if depth > grids.len() {
                break;
            }
            parent = parents.get(p).copied().flatten();
        }
        depth
    };
    let rows: Vec<Vec<String>> = grids
        .iter()
        .map(|g| {
            vec![
                g.grid_id.clone(),
                format!("{}{}", "  ".repeat(depth(g)), g.name),
                g.parent_id.clone().unwrap_or_else(|| "-".to_owned()),
                output::list(&g.admins),
                output::list(&g.members),
            ]
        })
        .collect();
    output::print_table(
        &["GRID_ID", "NAME", "PARENT", "ADMINS", "MEMBERS"],
        &rows,
        &format!("no grids in {corpid}"),
    );
}

#[derive(Debug, Args)]
pub(crate) struct CategoryArgs {
    #[command(flatten)]
    scope: CorpScope,
    #[command(subcommand)]
    command: CategoryCommand,
}

#[derive(Debug, Subcommand)]
enum CategoryCommand {
    /// Add a category: a level-1 category, or with --parent a level-2 one under it.
    Add {
        /// The category's name: 1–30 characters, unique among its siblings.
        #[arg(long)]
        name: String,
        /// Its id [default: chosen by the server].
        #[arg(long, value_name = "C")]
        category_id: Option<String>,
        /// The level-1 category it belongs to.
        #[arg(long, value_name = "P")]
        parent: Option<String>,
    },
    /// List the categories, parents before children.
    List,
    /// Rename a category (orders keep the name they were reported under).
    Update {
        /// The category's id.
        category_id: String,
        /// The new name.
        #[arg(long)]
        name: String,
    },
    /// Delete a category without children or orders.
    Delete {
        /// The category's id.
        category_id: String,
    },
}

#[derive(Debug, Deserialize)]
struct Category {
    category_id: String,
    name: String,
    level: i64,
    #[serde(default)]
    parent_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Categories {
    categories: Vec<Category>,
}

#[derive(Debug, Serialize)]
struct NewCategory<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    category_id: Option<&'a str>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<&'a str>,
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run_category(client: &Client, args: CategoryArgs) -> anyhow::Result<()> {
    let corpid = args.scope.corpid()?;
    match args.command {
        CategoryCommand::Add {
            name,
            category_id,
            parent,
        } => {
            let body = NewCategory {
                category_id: category_id.as_deref(),
                name: &name,
                parent_id: parent.as_deref(),
            };
            if let Some(category) = client
                .post::<Category>(&["corps", corpid, "categories"], &body)
                .await?
            {
                println!(
                    "added category {} ({}, level {}) to {corpid}{}",
                    category.category_id,
                    category.name,
                    category.level,
                    category
                        .parent_id
                        .as_deref()
                        .map(|p| format!(" under {p}"))
                        .unwrap_or_default()
                );
            }
        }
        CategoryCommand::List => {
            if let Some(list) = client
                .get::<Categories>(&["corps", corpid, "categories"])
                .await?
            {
                let rows: Vec<Vec<String>> = list
                    .categories
                    .into_iter()
                    .map(|c| {
                        let indent = "  ".repeat(usize::try_from(c.level - 1).unwrap_or(0));
                        vec![
                            c.category_id,
                            format!("{indent}{}", c.name),
                            c.level.to_string(),
                            c.parent_id.unwrap_or_else(|| "-".to_owned()),
                        ]
                    })
                    .collect();
                output::print_table(
                    &["CATEGORY_ID", "NAME", "LEVEL", "PARENT"],
                    &rows,
                    &format!("no categories in {corpid}"),
                );
            }
        }
        CategoryCommand::Update { category_id, name } => {
            let path = ["corps", corpid, "categories", &category_id];
            if let Some(category) = client
                .patch::<Category>(&path, &Rename { name: &name })
                .await?
            {
                println!(
                    "renamed category {} in {corpid} to {}",
                    category.category_id, category.name
                );
            }
        }
        CategoryCommand::Delete { category_id } => {
            client
                .delete(&["corps", corpid, "categories", &category_id])
                .await?;
            if !client.prints_json() {
                println!("deleted category {category_id} from {corpid}");
            }
        }
    }
    Ok(())
}
