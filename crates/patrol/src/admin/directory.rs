//! `patrol admin user …`, `grid …` and `category …`: who may report and act, where, and on what.

use std::collections::HashMap;

use clap::{ArgGroup, Args, Subcommand};
use patrol_wire::admin::{
    CategoryList, CategoryView, CreateCategory, CreateGrid, CreateUser, GridList, GridView,
    UpdateCategory, UpdateGrid, UpdateUser, UserList, UserView,
};

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

#[allow(clippy::print_stdout)]
pub(crate) async fn run_user(client: &Client, args: UserArgs) -> anyhow::Result<()> {
    let corpid = args.scope.corpid()?;
    match args.command {
        UserCommand::Add { userid, name } => {
            let body = CreateUser { userid, name };
            if let Some(user) = client
                .post::<UserView>(&["corps", corpid, "users"], &body)
                .await?
            {
                println!("added user {} ({}) to {corpid}", user.userid, user.name);
            }
        }
        UserCommand::List => {
            if let Some(list) = client.get::<UserList>(&["corps", corpid, "users"]).await? {
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
            if let Some(user) = client
                .patch::<UserView>(&path, &UpdateUser { name })
                .await?
            {
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
            let body = CreateGrid {
                grid_id,
                name,
                parent_id: parent,
                admins,
                members,
            };
            if let Some(grid) = client
                .post::<GridView>(&["corps", corpid, "grids"], &body)
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
            if let Some(list) = client.get::<GridList>(&["corps", corpid, "grids"]).await? {
                print_grids(&list.grids, corpid);
            }
        }
        GridCommand::Show { grid_id } => {
            if let Some(grid) = client
                .get::<GridView>(&["corps", corpid, "grids", &grid_id])
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
            // `Some(None)` moves the grid to the top level (`"parent_id": null`).
            let parent_id = if top_level {
                Some(None)
            } else {
                parent.map(Some)
            };
            let body = UpdateGrid {
                name,
                parent_id,
                admins: (!admins.is_empty()).then_some(admins),
                members: (no_members || !members.is_empty()).then_some(members),
            };
            let path = ["corps", corpid, "grids", &grid_id];
            if let Some(grid) = client.patch::<GridView>(&path, &body).await? {
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
fn print_people(grid: &GridView) {
    println!("admins   {}", output::list(&grid.admins));
    println!("members  {}", output::list(&grid.members));
}

/// The grids as a table, each name indented by its depth.
fn print_grids(grids: &[GridView], corpid: &str) {
    let parents: HashMap<&str, Option<&str>> = grids
        .iter()
        .map(|g| (g.grid_id.as_str(), g.parent_id.as_deref()))
        .collect();
    let depth = |grid: &GridView| {
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

#[allow(clippy::print_stdout)]
pub(crate) async fn run_category(client: &Client, args: CategoryArgs) -> anyhow::Result<()> {
    let corpid = args.scope.corpid()?;
    match args.command {
        CategoryCommand::Add {
            name,
            category_id,
            parent,
        } => {
            let body = CreateCategory {
                category_id,
                name,
                parent_id: parent,
            };
            if let Some(category) = client
                .post::<CategoryView>(&["corps", corpid, "categories"], &body)
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
                .get::<CategoryList>(&["corps", corpid, "categories"])
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
                .patch::<CategoryView>(&path, &UpdateCategory { name })
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
