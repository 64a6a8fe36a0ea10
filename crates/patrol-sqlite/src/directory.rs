//! The directory of a corp in SQLite: corps, apps, users, grids and categories. WeCom's limits
//! are `patrol_domain::limits`'; this module loads what they need and stores what passes.

use std::collections::HashSet;

use patrol_domain::limits::{self, GridRole};
use patrol_domain::{
    App, AppKind, AppPatch, Category, CategoryPatch, Corp, CorpPatch, Grid, GridPatch, NewApp,
    NewCategory, NewCorp, NewGrid, NewUser, Rejection, User,
};
use patrol_store::{Clash, ConstraintKind, StoreError};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::{Error, Result, conflict, not_found};

/// A [`StoreError::Conflict`] as this module's error.
fn conflict_error(message: String) -> Error {
    Error::Store(StoreError::Conflict(message))
}

/// A [`StoreError::Clash`] as this module's error.
fn clash(clash: Clash, message: String) -> Error {
    Error::Store(StoreError::Clash { clash, message })
}

/// Turns the failure of the sibling-names unique index into [`Clash::SiblingName`]: "`what`
/// already exists".
fn sibling_name(what: impl FnOnce() -> String) -> impl FnOnce(rusqlite::Error) -> Error {
    move |error| match crate::error::constraint_kind(&error) {
        Some(ConstraintKind::Unique) => {
            clash(Clash::SiblingName, format!("{} already exists", what()))
        }
        _ => Error::Sqlite(error),
    }
}

pub(crate) fn create_corp(tx: &Transaction<'_>, corp: NewCorp) -> Result<Corp> {
    limits::check_display_name("corp", &corp.name)?;
    tx.execute(
        "INSERT INTO corps (corpid, name, created_at) VALUES (?1, ?2, ?3)",
        params![corp.corpid.as_str(), corp.name, corp.created_at],
    )
    .map_err(conflict(|| format!("corp {}", corp.corpid)))?;
    Ok(Corp {
        key: tx.last_insert_rowid(),
        corpid: corp.corpid.into_string(),
        name: corp.name,
        created_at: corp.created_at,
    })
}

fn corp_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Corp> {
    Ok(Corp {
        key: r.get(0)?,
        corpid: r.get(1)?,
        name: r.get(2)?,
        created_at: r.get(3)?,
    })
}

pub(crate) fn corp(conn: &Connection, corpid: &str) -> Result<Option<Corp>> {
    Ok(conn
        .prepare_cached("SELECT id, corpid, name, created_at FROM corps WHERE corpid = ?1")?
        .query_row([corpid], corp_from_row)
        .optional()?)
}

pub(crate) fn list_corps(conn: &Connection) -> Result<Vec<Corp>> {
    let mut stmt = conn.prepare("SELECT id, corpid, name, created_at FROM corps ORDER BY id")?;
    let corps = stmt.query_map([], corp_from_row)?;
    Ok(corps.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn update_corp(tx: &Transaction<'_>, corp_key: i64, patch: CorpPatch) -> Result<Corp> {
    if let Some(name) = &patch.name {
        limits::check_display_name("corp", name)?;
    }
    tx.execute(
        "UPDATE corps SET name = ifnull(?2, name), created_at = ifnull(?3, created_at)
         WHERE id = ?1",
        params![corp_key, patch.name, patch.created_at],
    )?;
    tx.prepare_cached("SELECT id, corpid, name, created_at FROM corps WHERE id = ?1")?
        .query_row([corp_key], corp_from_row)
        .optional()?
        .ok_or_else(|| not_found(format!("corp {corp_key}")))
}

pub(crate) fn create_user(tx: &Transaction<'_>, corp_key: i64, user: NewUser) -> Result<()> {
    limits::check_display_name("user", &user.name)?;
    tx.execute(
        "INSERT INTO users (corp_id, userid, name) VALUES (?1, ?2, ?3)",
        params![corp_key, user.userid.as_str(), user.name],
    )
    .map_err(conflict(|| format!("user {}", user.userid)))?;
    Ok(())
}

/// The key of a user of the corp; an unknown user is a rejection of the call.
pub(crate) fn user_key(tx: &Connection, corp_key: i64, userid: &str) -> Result<i64> {
    tx.query_row(
        "SELECT id FROM users WHERE corp_id = ?1 AND userid = ?2",
        params![corp_key, userid],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| Rejection::UnknownUser(userid.to_owned()).into())
}

pub(crate) fn rename_category(
    tx: &Transaction<'_>,
    corp_key: i64,
    category_id: &str,
    name: &str,
) -> Result<()> {
    limits::check_name("category", name)?;
    let changed = tx
        .execute(
            "UPDATE categories SET name = ?1 WHERE corp_id = ?2 AND category_id = ?3",
            params![name, corp_key, category_id],
        )
        .map_err(sibling_name(|| {
            format!("category name {name} among its siblings")
        }))?;
    if changed == 0 {
        return Err(not_found(format!("category {category_id}")));
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
        return Err(clash(
            Clash::SiblingName,
            format!("a {thing} named {name} already exists {}", parent.1),
        ));
    }
    Ok(())
}

pub(crate) fn app_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<App> {
    let kind: String = r.get(4)?;
    Ok(App {
        key: r.get(0)?,
        corp_key: r.get(1)?,
        agentid: r.get(2)?,
        name: r.get(3)?,
        kind: AppKind::parse(&kind).unwrap_or(AppKind::Custom),
        patrol_enabled: r.get(5)?,
        enabled: r.get(6)?,
        resident_enabled: r.get(7)?,
        contact_enabled: r.get(8)?,
    })
}

const APP_COLUMNS: &str =
    "id, corp_id, agentid, name, kind, patrol_enabled, enabled, resident_enabled, contact_enabled";

pub(crate) fn app(tx: &Connection, corp_key: i64, agentid: i64) -> Result<App> {
    tx.query_row(
        &format!("SELECT {APP_COLUMNS} FROM apps WHERE corp_id = ?1 AND agentid = ?2"),
        params![corp_key, agentid],
        app_from_row,
    )
    .optional()?
    .ok_or_else(|| not_found(format!("app {agentid}")))
}

pub(crate) fn list_apps(conn: &Connection, corp_key: i64) -> Result<Vec<App>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {APP_COLUMNS} FROM apps WHERE corp_id = ?1 ORDER BY agentid"
    ))?;
    let apps = stmt.query_map([corp_key], app_from_row)?;
    Ok(apps.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn create_app(tx: &Transaction<'_>, corp_key: i64, app: NewApp) -> Result<App> {
    limits::check_display_name("app", &app.name)?;
    let agentid: i64 = match app.agentid {
        Some(agentid) => agentid.get(),
        // The arithmetic is the domain's, in i64: SQLite's `max(agentid) + 1` turns into a
        // float past i64's range.
        None => limits::next_agentid(tx.query_row(
            "SELECT max(agentid) FROM apps WHERE corp_id = ?1",
            [corp_key],
            |r| r.get(0),
        )?)?,
    };
    tx.execute(
        "INSERT INTO apps (corp_id, agentid, name, kind, patrol_enabled, enabled, secret_hash,
            created_at, resident_enabled, contact_enabled)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            corp_key,
            agentid,
            app.name,
            app.kind.as_str(),
            app.patrol_enabled,
            app.enabled,
            crate::tokens::secret_hash(&app.secret).as_slice(),
            app.created_at,
            app.resident_enabled,
            app.contact_enabled,
        ],
    )
    .map_err(conflict(|| format!("app {agentid}")))?;
    self::app(tx, corp_key, agentid)
}

pub(crate) fn update_app(
    tx: &Transaction<'_>,
    corp_key: i64,
    agentid: i64,
    patch: AppPatch,
) -> Result<App> {
    let current = app(tx, corp_key, agentid)?;
    if let Some(name) = &patch.name {
        limits::check_display_name("app", name)?;
    }
    tx.execute(
        "UPDATE apps SET name = ?1, kind = ?2, patrol_enabled = ?3, enabled = ?4,
            resident_enabled = ?6, contact_enabled = ?7 WHERE id = ?5",
        params![
            patch.name.unwrap_or(current.name),
            patch.kind.unwrap_or(current.kind).as_str(),
            patch.patrol_enabled.unwrap_or(current.patrol_enabled),
            patch.enabled.unwrap_or(current.enabled),
            current.key,
            patch.resident_enabled.unwrap_or(current.resident_enabled),
            patch.contact_enabled.unwrap_or(current.contact_enabled),
        ],
    )?;
    app(tx, corp_key, agentid)
}

/// Replaces an app's secret and revokes its tokens.
pub(crate) fn set_app_secret(
    tx: &Transaction<'_>,
    corp_key: i64,
    agentid: i64,
    secret_hash: [u8; 32],
) -> Result<App> {
    let app = app(tx, corp_key, agentid)?;
    tx.execute(
        "UPDATE apps SET secret_hash = ?1 WHERE id = ?2",
        params![secret_hash.as_slice(), app.key],
    )?;
    tx.execute("DELETE FROM tokens WHERE app_id = ?1", [app.key])?;
    Ok(app)
}

pub(crate) fn delete_app(tx: &Transaction<'_>, corp_key: i64, agentid: i64) -> Result<()> {
    let app = app(tx, corp_key, agentid)?;
    tx.execute("DELETE FROM tokens WHERE app_id = ?1", [app.key])?;
    tx.execute("DELETE FROM apps WHERE id = ?1", [app.key])?;
    Ok(())
}

pub(crate) fn list_users(conn: &Connection, corp_key: i64) -> Result<Vec<User>> {
    let mut stmt = conn.prepare("SELECT userid, name FROM users WHERE corp_id = ?1 ORDER BY id")?;
    let users = stmt.query_map([corp_key], |r| {
        Ok(User {
            userid: r.get(0)?,
            name: r.get(1)?,
        })
    })?;
    Ok(users.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn update_user(
    tx: &Transaction<'_>,
    corp_key: i64,
    userid: &str,
    name: &str,
) -> Result<User> {
    limits::check_display_name("user", name)?;
    let changed = tx.execute(
        "UPDATE users SET name = ?1 WHERE corp_id = ?2 AND userid = ?3",
        params![name, corp_key, userid],
    )?;
    if changed == 0 {
        return Err(not_found(format!("user {userid}")));
    }
    Ok(User {
        userid: userid.to_owned(),
        name: name.to_owned(),
    })
}

pub(crate) fn delete_user(tx: &Transaction<'_>, corp_key: i64, userid: &str) -> Result<()> {
    let key = tx
        .query_row(
            "SELECT id FROM users WHERE corp_id = ?1 AND userid = ?2",
            params![corp_key, userid],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .ok_or_else(|| not_found(format!("user {userid}")))?;
    let in_grid: Option<(String, String)> = tx
        .query_row(
            "SELECT g.grid_id, gu.role FROM grid_users gu JOIN grids g ON g.id = gu.grid_id
             WHERE gu.user_id = ?1 LIMIT 1",
            [key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((grid_id, role)) = in_grid {
        return Err(conflict_error(format!(
            "user {userid} is still {role} of grid {grid_id}"
        )));
    }
    // A user holds an order while a current processor of it (only open orders have any):
    // deleting them would leave the order with a processor who cannot act.
    let (named, count) = held_orders(tx, corp_key, userid)?;
    if count > 0 {
        return Err(conflict_error(limits::held_orders_message(
            userid, &named, count,
        )));
    }
    tx.execute("DELETE FROM users WHERE id = ?1", [key])?;
    Ok(())
}

/// The first [`limits::MAX_NAMED_ORDERS`] orders (oldest first) of which `userid` is a current
/// processor, and how many there are in all.
fn held_orders(tx: &Connection, corp_key: i64, userid: &str) -> Result<(Vec<String>, usize)> {
    // `order_processors` holds the processors of open orders, by (corp, family, user).
    let mut stmt = tx.prepare(
        "SELECT o.order_id FROM order_processors p JOIN orders o ON o.id = p.order_id
         WHERE p.corp_id = ?1 AND p.family IN (0, 1) AND p.userid = ?2
         ORDER BY o.id",
    )?;
    let mut rows = stmt.query(params![corp_key, userid])?;
    let (mut named, mut count) = (Vec::new(), 0);
    while let Some(row) = rows.next()? {
        if named.len() < limits::MAX_NAMED_ORDERS {
            named.push(row.get(0)?);
        }
        count += 1;
    }
    Ok((named, count))
}

fn grid_key(conn: &Connection, corp_key: i64, grid_id: &str) -> Result<i64> {
    conn.query_row(
        "SELECT id FROM grids WHERE corp_id = ?1 AND grid_id = ?2",
        params![corp_key, grid_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| not_found(format!("grid {grid_id}")))
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

/// Checks a grid's user lists against WeCom's limits and returns the users' keys, duplicates
/// dropped, order kept.
fn grid_user_keys(
    tx: &Connection,
    corp_key: i64,
    role: GridRole,
    users: &[String],
) -> Result<Vec<i64>> {
    limits::grid_users(role, users)?
        .into_iter()
        .map(|u| user_key(tx, corp_key, u))
        .collect()
}

/// Refuses admins who would manage more than [`limits::MAX_MANAGED_GRIDS`] grids with this one
/// (`grid_key`, or a new grid when `None`).
fn check_managed_grids(
    tx: &Connection,
    grid_key: Option<i64>,
    admins: &[i64],
    userids: &[String],
) -> Result<()> {
    let userids = limits::grid_users(GridRole::Admin, userids)?;
    let mut stmt = tx.prepare_cached(
        "SELECT count(*) FROM grid_users WHERE user_id = ?1 AND role = 'admin' AND grid_id != ?2",
    )?;
    for (user, userid) in admins.iter().zip(userids) {
        let managed: i64 = stmt.query_row(params![user, grid_key.unwrap_or(0)], |r| r.get(0))?;
        limits::check_managed_grids(userid, managed as usize)?;
    }
    Ok(())
}

fn write_grid_users(tx: &Connection, grid_key: i64, role: GridRole, users: &[i64]) -> Result<()> {
    tx.execute(
        "DELETE FROM grid_users WHERE grid_id = ?1 AND role = ?2",
        params![grid_key, role.as_str()],
    )?;
    for (position, user) in users.iter().enumerate() {
        tx.execute(
            "INSERT INTO grid_users (grid_id, role, position, user_id) VALUES (?1, ?2, ?3, ?4)",
            params![grid_key, role.as_str(), position as i64, user],
        )?;
    }
    Ok(())
}

pub(crate) fn create_grid(tx: &Transaction<'_>, corp_key: i64, grid: NewGrid) -> Result<()> {
    limits::check_name("grid", &grid.name)?;
    let parent_key = match &grid.parent {
        Some(parent) => {
            let key = grid_key(tx, corp_key, parent)?;
            limits::check_new_grid_depth(parent, grid_depth(tx, key)?)?;
            Some(key)
        }
        None => None,
    };
    let admins = grid_user_keys(tx, corp_key, GridRole::Admin, &grid.admins)?;
    let members = grid_user_keys(tx, corp_key, GridRole::Member, &grid.members)?;
    check_managed_grids(tx, None, &admins, &grid.admins)?;
    if grid_key(tx, corp_key, grid.grid_id.as_str()).is_ok() {
        return Err(conflict_error(format!(
            "grid {} already exists",
            grid.grid_id
        )));
    }
    let place = limits::place(grid.parent.as_deref());
    check_sibling_name(tx, "grids", corp_key, (parent_key, &place), &grid.name)?;
    tx.execute(
        "INSERT INTO grids (corp_id, grid_id, parent_id, name) VALUES (?1, ?2, ?3, ?4)",
        params![corp_key, grid.grid_id.as_str(), parent_key, grid.name],
    )
    .map_err(conflict(|| format!("grid {}", grid.grid_id)))?;
    let key = tx.last_insert_rowid();
    write_grid_users(tx, key, GridRole::Admin, &admins)?;
    write_grid_users(tx, key, GridRole::Member, &members)?;
    Ok(())
}

pub(crate) fn update_grid(
    tx: &Transaction<'_>,
    corp_key: i64,
    grid_id: &str,
    patch: GridPatch,
) -> Result<Grid> {
    let key = grid_key(tx, corp_key, grid_id)?;
    if let Some(name) = &patch.name {
        limits::check_name("grid", name)?;
    }
    // The new parent, checked: `None` keeps the parent, `Some(None)` makes the grid a root.
    let new_parent = match &patch.parent {
        Some(parent) => Some(match parent {
            Some(parent) => {
                let parent_key = grid_key(tx, corp_key, parent)?;
                let (subtree, height) = grid_subtree(tx, key)?;
                limits::check_grid_move(
                    grid_id,
                    parent,
                    subtree.contains(&parent_key),
                    grid_depth(tx, parent_key)?,
                    height,
                )?;
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
        .map_err(sibling_name(|| match &patch.name {
            Some(name) => format!("a sibling of grid {grid_id} named {name}"),
            None => format!("a grid named like {grid_id} under its new parent"),
        }))?;
    }
    if let Some(admins) = &patch.admins {
        let keys = grid_user_keys(tx, corp_key, GridRole::Admin, admins)?;
        check_managed_grids(tx, Some(key), &keys, admins)?;
        write_grid_users(tx, key, GridRole::Admin, &keys)?;
    }
    if let Some(members) = &patch.members {
        let members = grid_user_keys(tx, corp_key, GridRole::Member, members)?;
        write_grid_users(tx, key, GridRole::Member, &members)?;
    }
    grid(tx, corp_key, grid_id)?.ok_or_else(|| not_found(format!("grid {grid_id}")))
}

pub(crate) fn delete_grid(tx: &Transaction<'_>, corp_key: i64, grid_id: &str) -> Result<()> {
    let key = grid_key(tx, corp_key, grid_id)?;
    let count = |sql: &str| -> Result<i64> { Ok(tx.query_row(sql, [key], |r| r.get(0))?) };
    let members = count("SELECT count(*) FROM grid_users WHERE grid_id = ?1 AND role = 'member'")?;
    if members > 0 {
        return Err(clash(
            Clash::HasMembers,
            format!("grid {grid_id} still has {members} members"),
        ));
    }
    let children = count("SELECT count(*) FROM grids WHERE parent_id = ?1")?;
    if children > 0 {
        return Err(clash(
            Clash::HasChildren,
            format!("grid {grid_id} still has {children} child grids"),
        ));
    }
    let orders = count("SELECT count(*) FROM orders WHERE grid_id = ?1")?;
    if orders > 0 {
        return Err(clash(
            Clash::HasOrders,
            format!("grid {grid_id} has {orders} orders"),
        ));
    }
    tx.execute("DELETE FROM grids WHERE id = ?1", [key])?;
    Ok(())
}

fn grid_users(conn: &Connection, key: i64, role: GridRole) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.userid FROM grid_users gu JOIN users u ON u.id = gu.user_id
         WHERE gu.grid_id = ?1 AND gu.role = ?2 ORDER BY gu.position",
    )?;
    let users = stmt.query_map(params![key, role.as_str()], |r| r.get(0))?;
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
        admins: grid_users(conn, key, GridRole::Admin)?,
        members: grid_users(conn, key, GridRole::Member)?,
    })
}

pub(crate) fn grid(conn: &Connection, corp_key: i64, grid_id: &str) -> Result<Option<Grid>> {
    match grid_key(conn, corp_key, grid_id) {
        Ok(key) => Ok(Some(grid_from_key(conn, key)?)),
        Err(Error::Store(StoreError::NotFound(_))) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Every grid of a corp, parents before children, siblings in creation order.
pub(crate) fn list_grids(conn: &Connection, corp_key: i64) -> Result<Vec<Grid>> {
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

pub(crate) fn create_category(
    tx: &Transaction<'_>,
    corp_key: i64,
    category: NewCategory,
) -> Result<()> {
    limits::check_name("category", &category.name)?;
    let parent = match &category.parent {
        Some(parent) => {
            let (key, level): (i64, i64) = tx
                .query_row(
                    "SELECT id, level FROM categories WHERE corp_id = ?1 AND category_id = ?2",
                    params![corp_key, parent],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| Rejection::UnknownCategory(parent.clone()))?;
            Some((key, parent.as_str(), level))
        }
        None => None,
    };
    let level = limits::category_level(parent.map(|(_, id, level)| (id, level)))?;
    let parent_key = parent.map(|(key, _, _)| key);
    let exists = tx
        .prepare("SELECT 1 FROM categories WHERE corp_id = ?1 AND category_id = ?2")?
        .exists(params![corp_key, category.category_id.as_str()])?;
    if exists {
        return Err(conflict_error(format!(
            "category {} already exists",
            category.category_id
        )));
    }
    let parent = (parent_key, limits::place(category.parent.as_deref()));
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
            category.category_id.as_str(),
            parent_key,
            level,
            category.name
        ],
    )
    .map_err(conflict(|| format!("category {}", category.category_id)))?;
    Ok(())
}

pub(crate) fn list_categories(conn: &Connection, corp_key: i64) -> Result<Vec<Category>> {
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

pub(crate) fn delete_category(
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
        .ok_or_else(|| not_found(format!("category {category_id}")))?;
    let children: i64 = tx.query_row(
        "SELECT count(*) FROM categories WHERE parent_id = ?1",
        [key],
        |r| r.get(0),
    )?;
    if children > 0 {
        return Err(clash(
            Clash::HasChildren,
            format!("category {category_id} still has {children} child categories"),
        ));
    }
    let orders: i64 = tx.query_row(
        "SELECT count(*) FROM orders WHERE category_id = ?1",
        [key],
        |r| r.get(0),
    )?;
    if orders > 0 {
        return Err(clash(
            Clash::HasOrders,
            format!("category {category_id} has {orders} orders"),
        ));
    }
    tx.execute("DELETE FROM categories WHERE id = ?1", [key])?;
    Ok(())
}

pub(crate) fn missing_users(
    conn: &Connection,
    corp_key: i64,
    userids: Vec<String>,
) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM users WHERE corp_id = ?1 AND userid = ?2")?;
    let mut missing = Vec::new();
    for userid in userids {
        if !stmt.exists(params![corp_key, userid])? {
            missing.push(userid);
        }
    }
    Ok(missing)
}

fn category_row(conn: &Connection, corp_key: i64, category_id: &str) -> Result<Category> {
    conn.query_row(
        "SELECT c.category_id, c.name, c.level, p.category_id
         FROM categories c LEFT JOIN categories p ON p.id = c.parent_id
         WHERE c.corp_id = ?1 AND c.category_id = ?2",
        params![corp_key, category_id],
        |r| {
            Ok(Category {
                category_id: r.get(0)?,
                name: r.get(1)?,
                level: r.get(2)?,
                parent: r.get(3)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| not_found(format!("category {category_id}")))
}

pub(crate) fn update_category(
    tx: &Transaction<'_>,
    corp_key: i64,
    category_id: &str,
    patch: CategoryPatch,
) -> Result<Category> {
    let current = category_row(tx, corp_key, category_id)?;
    if let Some(name) = &patch.name {
        limits::check_name("category", name)?;
    }
    let parent = limits::category_parent(
        category_id,
        current.parent.as_deref(),
        patch.level,
        patch.parent.as_deref(),
    )?;
    let parent_key = match &parent {
        Some(parent) => {
            let (key, level): (i64, i64) = tx
                .query_row(
                    "SELECT id, level FROM categories WHERE corp_id = ?1 AND category_id = ?2",
                    params![corp_key, parent],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| Rejection::UnknownCategory(parent.clone()))?;
            let level = if parent == category_id { 2 } else { level };
            limits::category_level(Some((parent, level)))?;
            let children: i64 = tx.query_row(
                "SELECT count(*) FROM categories c JOIN categories p ON p.id = c.parent_id
                 WHERE p.corp_id = ?1 AND p.category_id = ?2",
                params![corp_key, category_id],
                |r| r.get(0),
            )?;
            if children > 0 {
                return Err(clash(
                    Clash::HasChildren,
                    format!(
                        "category {category_id} has {children} child categories: it stays at \
                         level 1"
                    ),
                ));
            }
            Some(key)
        }
        None => None,
    };
    let level = if parent_key.is_some() { 2 } else { 1 };
    let name = patch.name.unwrap_or(current.name);
    tx.execute(
        "UPDATE categories SET name = ?1, parent_id = ?2, level = ?3
         WHERE corp_id = ?4 AND category_id = ?5",
        params![name, parent_key, level, corp_key, category_id],
    )
    .map_err(sibling_name(|| {
        format!(
            "a category named {name} {}",
            limits::place(parent.as_deref())
        )
    }))?;
    category_row(tx, corp_key, category_id)
}
