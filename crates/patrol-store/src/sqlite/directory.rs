//! The directory of a corp in SQLite: apps, users, grids and categories, with WeCom's limits.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{conflict, secret_hash, user_key};
use crate::domain::limits::{MAX_GRID_ADMINS, MAX_GRID_DEPTH, MAX_GRID_MEMBERS, MAX_NAME_CHARS};
use crate::domain::*;
use crate::workflow::Rejection;
use crate::{Result, StoreError};

/// The first agentid handed out when none is asked for.
const FIRST_AGENTID: i64 = 1_000_002;

fn invalid(message: String) -> StoreError {
    StoreError::Rejected(Rejection::Invalid(message))
}

/// A grid or category name: 1 to 30 characters, not blank.
pub(super) fn check_name(what: &str, name: &str) -> Result<()> {
    let chars = name.chars().count();
    if name.trim().is_empty() || chars > MAX_NAME_CHARS {
        return Err(invalid(format!(
            "{what} name must be 1 to {MAX_NAME_CHARS} characters, got {chars}"
        )));
    }
    Ok(())
}

/// Refuses a name already taken by a sibling (same parent), in `grids` or
/// `categories`; `parent.1` says where, for the message.
fn check_sibling_name(
    tx: &Connection,
    table: &str,
    corp_key: i64,
    parent: (Option<i64>, &str),
    name: &str,
) -> Result<()> {
    let taken: bool = tx
        .prepare(&format!(
            "SELECT 1 FROM {table} WHERE corp_id = ?1 AND ifnull(parent_id, 0) = ?2 AND name = ?3"
        ))?
        .exists(params![corp_key, parent.0.unwrap_or(0), name])?;
    if taken {
        let thing = &table[..table.len() - 1].replace("categorie", "category");
        return Err(StoreError::Conflict(format!(
            "a {thing} named {name} already exists {}",
            parent.1
        )));
    }
    Ok(())
}

fn place(parent: Option<&str>) -> String {
    match parent {
        Some(parent) => format!("under {parent}"),
        None => "at the top level".to_owned(),
    }
}

pub(super) fn app_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<App> {
    let kind: String = r.get(4)?;
    Ok(App {
        key: r.get(0)?,
        corp_key: r.get(1)?,
        agentid: r.get(2)?,
        name: r.get(3)?,
        kind: AppKind::parse(&kind).unwrap_or(AppKind::Custom),
        patrol_enabled: r.get(5)?,
        enabled: r.get(6)?,
    })
}

const APP_COLUMNS: &str = "id, corp_id, agentid, name, kind, patrol_enabled, enabled";

pub(super) fn app(tx: &Connection, corp_key: i64, agentid: i64) -> Result<App> {
    tx.query_row(
        &format!("SELECT {APP_COLUMNS} FROM apps WHERE corp_id = ?1 AND agentid = ?2"),
        params![corp_key, agentid],
        app_from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("app {agentid}")))
}

pub(super) fn list_apps(conn: &Connection, corp_key: i64) -> Result<Vec<App>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {APP_COLUMNS} FROM apps WHERE corp_id = ?1 ORDER BY agentid"
    ))?;
    let apps = stmt.query_map([corp_key], app_from_row)?;
    Ok(apps.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn create_app(
    tx: &Transaction<'_>,
    corp_key: i64,
    app: NewApp,
    now: i64,
) -> Result<App> {
    let agentid = if app.agentid == 0 {
        tx.query_row(
            "SELECT max(coalesce(max(agentid) + 1, ?2), ?2) FROM apps WHERE corp_id = ?1",
            params![corp_key, FIRST_AGENTID],
            |r| r.get(0),
        )?
    } else {
        app.agentid
    };
    if app.name.trim().is_empty() {
        return Err(invalid("app name is empty".into()));
    }
    tx.execute(
        "INSERT INTO apps (corp_id, agentid, name, kind, patrol_enabled, enabled, secret_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            corp_key,
            agentid,
            app.name,
            app.kind.as_str(),
            app.patrol_enabled,
            app.enabled,
            secret_hash(&app.secret).as_slice(),
            now
        ],
    )
    .map_err(conflict(|| format!("app {agentid}")))?;
    self::app(tx, corp_key, agentid)
}

pub(super) fn update_app(
    tx: &Transaction<'_>,
    corp_key: i64,
    agentid: i64,
    patch: AppPatch,
) -> Result<App> {
    let current = app(tx, corp_key, agentid)?;
    if patch.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(invalid("app name is empty".into()));
    }
    tx.execute(
        "UPDATE apps SET name = ?1, kind = ?2, patrol_enabled = ?3, enabled = ?4 WHERE id = ?5",
        params![
            patch.name.unwrap_or(current.name),
            patch.kind.unwrap_or(current.kind).as_str(),
            patch.patrol_enabled.unwrap_or(current.patrol_enabled),
            patch.enabled.unwrap_or(current.enabled),
            current.key
        ],
    )?;
    app(tx, corp_key, agentid)
}

/// Replaces an app's secret and revokes its tokens.
pub(super) fn set_app_secret(
    tx: &Transaction<'_>,
    corp_key: i64,
    agentid: i64,
    secret: &str,
) -> Result<App> {
    let app = app(tx, corp_key, agentid)?;
    tx.execute(
        "UPDATE apps SET secret_hash = ?1 WHERE id = ?2",
        params![secret_hash(secret).as_slice(), app.key],
    )?;
    tx.execute("DELETE FROM tokens WHERE app_id = ?1", [app.key])?;
    Ok(app)
}

pub(super) fn delete_app(tx: &Transaction<'_>, corp_key: i64, agentid: i64) -> Result<()> {
    let app = app(tx, corp_key, agentid)?;
    tx.execute("DELETE FROM tokens WHERE app_id = ?1", [app.key])?;
    tx.execute("DELETE FROM apps WHERE id = ?1", [app.key])?;
    Ok(())
}

pub(super) fn list_users(conn: &Connection, corp_key: i64) -> Result<Vec<User>> {
    let mut stmt = conn.prepare("SELECT userid, name FROM users WHERE corp_id = ?1 ORDER BY id")?;
    let users = stmt.query_map([corp_key], |r| {
        Ok(User {
            userid: r.get(0)?,
            name: r.get(1)?,
        })
    })?;
    Ok(users.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn update_user(
    tx: &Transaction<'_>,
    corp_key: i64,
    userid: &str,
    name: &str,
) -> Result<User> {
    let changed = tx.execute(
        "UPDATE users SET name = ?1 WHERE corp_id = ?2 AND userid = ?3",
        params![name, corp_key, userid],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound(format!("user {userid}")));
    }
    Ok(User {
        userid: userid.to_owned(),
        name: name.to_owned(),
    })
}

pub(super) fn delete_user(tx: &Transaction<'_>, corp_key: i64, userid: &str) -> Result<()> {
    let key = tx
        .query_row(
            "SELECT id FROM users WHERE corp_id = ?1 AND userid = ?2",
            params![corp_key, userid],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("user {userid}")))?;
    let in_grid: Option<(String, String)> = tx
        .query_row(
            "SELECT g.grid_id, gu.role FROM grid_users gu JOIN grids g ON g.id = gu.grid_id
             WHERE gu.user_id = ?1 LIMIT 1",
            [key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((grid_id, role)) = in_grid {
        return Err(StoreError::Conflict(format!(
            "user {userid} is still {role} of grid {grid_id}"
        )));
    }
    tx.execute("DELETE FROM users WHERE id = ?1", [key])?;
    Ok(())
}

fn grid_key(conn: &Connection, corp_key: i64, grid_id: &str) -> Result<i64> {
    conn.query_row(
        "SELECT id FROM grids WHERE corp_id = ?1 AND grid_id = ?2",
        params![corp_key, grid_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("grid {grid_id}")))
}

/// Levels from the root down to this grid: a root is at 1.
fn grid_depth(conn: &Connection, key: i64) -> Result<usize> {
    let depth: i64 = conn.query_row(
        "WITH RECURSIVE up (id, parent_id, depth) AS (
             SELECT id, parent_id, 1 FROM grids WHERE id = ?1
             UNION ALL
             SELECT g.id, g.parent_id, up.depth + 1 FROM grids g JOIN up ON g.id = up.parent_id
         )
         SELECT max(depth) FROM up",
        [key],
        |r| r.get(0),
    )?;
    Ok(depth as usize)
}

/// The grid and its descendants, with the height of that subtree (1 for a leaf).
fn grid_subtree(conn: &Connection, key: i64) -> Result<(HashSet<i64>, usize)> {
    let mut stmt = conn.prepare(
        "WITH RECURSIVE down (id, depth) AS (
             SELECT id, 1 FROM grids WHERE id = ?1
             UNION ALL
             SELECT g.id, down.depth + 1 FROM grids g JOIN down ON g.parent_id = down.id
         )
         SELECT id, depth FROM down",
    )?;
    let mut keys = HashSet::new();
    let mut height = 0;
    for row in stmt.query_map([key], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (id, depth) = row?;
        keys.insert(id);
        height = height.max(depth as usize);
    }
    Ok((keys, height))
}

/// Checks a grid's user lists and returns the users' keys, duplicates dropped, order kept.
fn grid_user_keys(
    tx: &Connection,
    corp_key: i64,
    role: &str,
    users: &[String],
) -> Result<Vec<i64>> {
    let mut seen = HashSet::new();
    let unique: Vec<&String> = users.iter().filter(|u| seen.insert(*u)).collect();
    let (low, high) = match role {
        "admin" => (1, MAX_GRID_ADMINS),
        _ => (0, MAX_GRID_MEMBERS),
    };
    if unique.len() < low || unique.len() > high {
        return Err(invalid(format!(
            "a grid has {low} to {high} {role}s, got {}",
            unique.len()
        )));
    }
    unique
        .into_iter()
        .map(|u| user_key(tx, corp_key, u))
        .collect()
}

fn write_grid_users(tx: &Connection, grid_key: i64, role: &str, users: &[i64]) -> Result<()> {
    tx.execute(
        "DELETE FROM grid_users WHERE grid_id = ?1 AND role = ?2",
        params![grid_key, role],
    )?;
    for (position, user) in users.iter().enumerate() {
        tx.execute(
            "INSERT INTO grid_users (grid_id, role, position, user_id) VALUES (?1, ?2, ?3, ?4)",
            params![grid_key, role, position as i64, user],
        )?;
    }
    Ok(())
}

pub(super) fn create_grid(tx: &Transaction<'_>, corp_key: i64, grid: NewGrid) -> Result<()> {
    check_name("grid", &grid.name)?;
    let parent_key = match &grid.parent {
        Some(parent) => {
            let key = grid_key(tx, corp_key, parent)?;
            if grid_depth(tx, key)? + 1 > MAX_GRID_DEPTH {
                return Err(invalid(format!(
                    "grids are at most {MAX_GRID_DEPTH} levels deep: {parent} is at the last level"
                )));
            }
            Some(key)
        }
        None => None,
    };
    let admins = grid_user_keys(tx, corp_key, "admin", &grid.admins)?;
    let members = grid_user_keys(tx, corp_key, "member", &grid.members)?;
    if grid_key(tx, corp_key, &grid.grid_id).is_ok() {
        return Err(StoreError::Conflict(format!(
            "grid {} already exists",
            grid.grid_id
        )));
    }
    let place = place(grid.parent.as_deref());
    check_sibling_name(tx, "grids", corp_key, (parent_key, &place), &grid.name)?;
    tx.execute(
        "INSERT INTO grids (corp_id, grid_id, parent_id, name) VALUES (?1, ?2, ?3, ?4)",
        params![corp_key, grid.grid_id, parent_key, grid.name],
    )
    .map_err(conflict(|| format!("grid {}", grid.grid_id)))?;
    let key = tx.last_insert_rowid();
    write_grid_users(tx, key, "admin", &admins)?;
    write_grid_users(tx, key, "member", &members)?;
    Ok(())
}

pub(super) fn update_grid(
    tx: &Transaction<'_>,
    corp_key: i64,
    grid_id: &str,
    patch: GridPatch,
) -> Result<Grid> {
    let key = grid_key(tx, corp_key, grid_id)?;
    if let Some(name) = &patch.name {
        check_name("grid", name)?;
    }
    // The new parent, checked: `None` keeps the parent, `Some(None)` makes the grid a root.
    let new_parent = match &patch.parent {
        Some(parent) => Some(match parent {
            Some(parent) => {
                let parent_key = grid_key(tx, corp_key, parent)?;
                let (subtree, height) = grid_subtree(tx, key)?;
                if subtree.contains(&parent_key) {
                    return Err(invalid(format!(
                        "grid {grid_id} cannot move under itself or its descendant {parent}"
                    )));
                }
                if grid_depth(tx, parent_key)? + height > MAX_GRID_DEPTH {
                    return Err(invalid(format!(
                        "grids are at most {MAX_GRID_DEPTH} levels deep: grid {grid_id} and its \
                         {height} levels do not fit under {parent}"
                    )));
                }
                Some(parent_key)
            }
            None => None,
        }),
        None => None,
    };
    if patch.name.is_some() || new_parent.is_some() {
        // One statement, so that the name is unique among the siblings it ends up with.
        tx.execute(
            "UPDATE grids SET name = coalesce(?1, name),
                 parent_id = CASE WHEN ?2 THEN ?3 ELSE parent_id END
             WHERE id = ?4",
            params![patch.name, new_parent.is_some(), new_parent.flatten(), key],
        )
        .map_err(conflict(|| match &patch.name {
            Some(name) => format!("a sibling of grid {grid_id} named {name}"),
            None => format!("a grid named like {grid_id} under its new parent"),
        }))?;
    }
    if let Some(admins) = &patch.admins {
        let admins = grid_user_keys(tx, corp_key, "admin", admins)?;
        write_grid_users(tx, key, "admin", &admins)?;
    }
    if let Some(members) = &patch.members {
        let members = grid_user_keys(tx, corp_key, "member", members)?;
        write_grid_users(tx, key, "member", &members)?;
    }
    grid(tx, corp_key, grid_id)?.ok_or_else(|| StoreError::NotFound(format!("grid {grid_id}")))
}

pub(super) fn delete_grid(tx: &Transaction<'_>, corp_key: i64, grid_id: &str) -> Result<()> {
    let key = grid_key(tx, corp_key, grid_id)?;
    let count = |sql: &str| -> Result<i64> { Ok(tx.query_row(sql, [key], |r| r.get(0))?) };
    let members = count("SELECT count(*) FROM grid_users WHERE grid_id = ?1 AND role = 'member'")?;
    if members > 0 {
        return Err(StoreError::Conflict(format!(
            "grid {grid_id} still has {members} members"
        )));
    }
    let children = count("SELECT count(*) FROM grids WHERE parent_id = ?1")?;
    if children > 0 {
        return Err(StoreError::Conflict(format!(
            "grid {grid_id} still has {children} child grids"
        )));
    }
    let orders = count("SELECT count(*) FROM orders WHERE grid_id = ?1")?;
    if orders > 0 {
        return Err(StoreError::Conflict(format!(
            "grid {grid_id} has {orders} orders"
        )));
    }
    tx.execute("DELETE FROM grids WHERE id = ?1", [key])?;
    Ok(())
}

fn grid_users(conn: &Connection, key: i64, role: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.userid FROM grid_users gu JOIN users u ON u.id = gu.user_id
         WHERE gu.grid_id = ?1 AND gu.role = ?2 ORDER BY gu.position",
    )?;
    let users = stmt.query_map(params![key, role], |r| r.get(0))?;
    Ok(users.collect::<rusqlite::Result<_>>()?)
}

fn grid_from_key(conn: &Connection, key: i64) -> Result<Grid> {
    let (grid_id, name, parent) = conn.query_row(
        "SELECT g.grid_id, g.name, p.grid_id FROM grids g LEFT JOIN grids p ON p.id = g.parent_id
         WHERE g.id = ?1",
        [key],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok(Grid {
        grid_id,
        name,
        parent,
        admins: grid_users(conn, key, "admin")?,
        members: grid_users(conn, key, "member")?,
    })
}

pub(super) fn grid(conn: &Connection, corp_key: i64, grid_id: &str) -> Result<Option<Grid>> {
    match grid_key(conn, corp_key, grid_id) {
        Ok(key) => Ok(Some(grid_from_key(conn, key)?)),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Every grid of a corp, parents before children, siblings in creation order.
pub(super) fn list_grids(conn: &Connection, corp_key: i64) -> Result<Vec<Grid>> {
    let mut stmt = conn.prepare(
        "WITH RECURSIVE tree (id, path) AS (
             SELECT id, printf('%012d', id) FROM grids WHERE corp_id = ?1 AND parent_id IS NULL
             UNION ALL
             SELECT g.id, tree.path || '/' || printf('%012d', g.id)
             FROM grids g JOIN tree ON g.parent_id = tree.id
         )
         SELECT id FROM tree ORDER BY path",
    )?;
    let keys = stmt
        .query_map([corp_key], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    keys.into_iter()
        .map(|key| grid_from_key(conn, key))
        .collect()
}

pub(super) fn create_category(
    tx: &Transaction<'_>,
    corp_key: i64,
    category: NewCategory,
) -> Result<()> {
    check_name("category", &category.name)?;
    let (parent_key, level) = match &category.parent {
        Some(parent) => {
            let (key, level): (i64, i64) = tx
                .query_row(
                    "SELECT id, level FROM categories WHERE corp_id = ?1 AND category_id = ?2",
                    params![corp_key, parent],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| Rejection::UnknownCategory(parent.clone()))?;
            if level != 1 {
                return Err(invalid(format!(
                    "category {parent} is not a level-1 category: categories have two levels"
                )));
            }
            (Some(key), 2)
        }
        None => (None, 1),
    };
    let exists = tx
        .prepare("SELECT 1 FROM categories WHERE corp_id = ?1 AND category_id = ?2")?
        .exists(params![corp_key, category.category_id])?;
    if exists {
        return Err(StoreError::Conflict(format!(
            "category {} already exists",
            category.category_id
        )));
    }
    let parent = (parent_key, place(category.parent.as_deref()));
    check_sibling_name(
        tx,
        "categories",
        corp_key,
        (parent.0, &parent.1),
        &category.name,
    )?;
    tx.execute(
        "INSERT INTO categories (corp_id, category_id, parent_id, level, name)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            corp_key,
            category.category_id,
            parent_key,
            level,
            category.name
        ],
    )
    .map_err(conflict(|| format!("category {}", category.category_id)))?;
    Ok(())
}

pub(super) fn list_categories(conn: &Connection, corp_key: i64) -> Result<Vec<Category>> {
    let mut stmt = conn.prepare(
        "SELECT c.category_id, c.name, c.level, p.category_id
         FROM categories c LEFT JOIN categories p ON p.id = c.parent_id
         WHERE c.corp_id = ?1
         ORDER BY coalesce(c.parent_id, c.id), c.level, c.id",
    )?;
    let categories = stmt.query_map([corp_key], |r| {
        Ok(Category {
            category_id: r.get(0)?,
            name: r.get(1)?,
            level: r.get(2)?,
            parent: r.get(3)?,
        })
    })?;
    Ok(categories.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn delete_category(
    tx: &Transaction<'_>,
    corp_key: i64,
    category_id: &str,
) -> Result<()> {
    let key: i64 = tx
        .query_row(
            "SELECT id FROM categories WHERE corp_id = ?1 AND category_id = ?2",
            params![corp_key, category_id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("category {category_id}")))?;
    let children: i64 = tx.query_row(
        "SELECT count(*) FROM categories WHERE parent_id = ?1",
        [key],
        |r| r.get(0),
    )?;
    if children > 0 {
        return Err(StoreError::Conflict(format!(
            "category {category_id} still has {children} child categories"
        )));
    }
    let orders: i64 = tx.query_row(
        "SELECT count(*) FROM orders WHERE category_id = ?1",
        [key],
        |r| r.get(0),
    )?;
    if orders > 0 {
        return Err(StoreError::Conflict(format!(
            "category {category_id} has {orders} orders"
        )));
    }
    tx.execute("DELETE FROM categories WHERE id = ?1", [key])?;
    Ok(())
}
