//! The directory of a corp in PostgreSQL: corps, apps, users, grids and categories. WeCom's
//! limits are `patrol_domain::limits`'; this module loads what they need and stores what passes,
//! as the SQLite backend does, in the same order, with the same errors.
//!
//! Every write runs in [`PostgresStore::write`], under its corp's row lock. An app is its agentid
//! within its corp (`App::key` is the agentid). Lists come out in the SQLite backend's orders,
//! but users: PostgreSQL's `users` has no creation order, so they are listed by userid.

use patrol_domain::limits::{self, GridRole};
use patrol_domain::{
    App, AppKind, AppPatch, Category, CategoryPatch, Corp, CorpPatch, Grid, GridPatch, NewApp,
    NewCategory, NewCorp, NewGrid, NewUser, Rejection, User,
};
use patrol_store::credentials::secret_hash;
use patrol_store::{Clash, ConstraintKind, CorpSetup, Result, StoreError};
use tokio_postgres::{GenericClient, Row, Transaction};

use crate::error::{Error, conflict, constraint_kind, not_found};
use crate::{Counter, PostgresStore, take};

type Fallible<T> = crate::error::Result<T>;

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
fn sibling_name(what: impl FnOnce() -> String) -> impl FnOnce(tokio_postgres::Error) -> Error {
    move |error| match constraint_kind(&error) {
        Some(ConstraintKind::Unique) => {
            clash(Clash::SiblingName, format!("{} already exists", what()))
        }
        _ => Error::Postgres(error),
    }
}

/// Whether PostgreSQL can hold this text: a `text` value has no NUL character, and PostgreSQL
/// refuses a parameter holding one. An id with a NUL names nothing stored (as in SQLite, which
/// finds nothing): lookups answer so without asking the database.
fn storable(text: &str) -> bool {
    !text.contains('\0')
}

/// A count (`count(*)`, a `bigint`) as the domain's `usize`.
fn count(row: &Row) -> usize {
    usize::try_from(row.get::<_, i64>(0)).unwrap_or(usize::MAX)
}

/// A category's level (an `integer` column) as the domain's `i64`, and back.
fn level_of(row: &Row, index: usize) -> i64 {
    i64::from(row.get::<_, i32>(index))
}

fn level_column(level: i64) -> i32 {
    // 1 or 2 (`limits::category_level`); anything else fails the column's check.
    i32::try_from(level).unwrap_or(i32::MAX)
}

// Corps.

async fn create_corp(tx: &Transaction<'_>, corp: NewCorp) -> Fallible<Corp> {
    limits::check_display_name("corp", &corp.name)?;
    let row = tx
        .query_one(
            "INSERT INTO corps (corpid, name, created_at) VALUES ($1, $2, $3) RETURNING id",
            &[&corp.corpid.as_str(), &corp.name, &corp.created_at],
        )
        .await
        .map_err(conflict(|| format!("corp {}", corp.corpid)))?;
    tx.execute(
        "INSERT INTO corp_counters (corp_id) VALUES ($1)",
        &[&row.get::<_, i64>(0)],
    )
    .await?;
    Ok(Corp {
        key: row.get(0),
        corpid: corp.corpid.into_string(),
        name: corp.name,
        created_at: corp.created_at,
    })
}

async fn update_corp(tx: &Transaction<'_>, corp_key: i64, patch: CorpPatch) -> Fallible<Corp> {
    if let Some(name) = &patch.name {
        limits::check_display_name("corp", name)?;
    }
    let row = tx
        .query_opt(
            "UPDATE corps SET name = coalesce($2, name), created_at = coalesce($3, created_at)
             WHERE id = $1 RETURNING id, corpid, name, created_at",
            &[&corp_key, &patch.name, &patch.created_at],
        )
        .await?
        .ok_or_else(|| not_found(format!("corp {corp_key}")))?;
    Ok(corp_from_row(&row))
}

fn corp_from_row(r: &Row) -> Corp {
    Corp {
        key: r.get(0),
        corpid: r.get(1),
        name: r.get(2),
        created_at: r.get(3),
    }
}

// Users.

async fn create_user(tx: &Transaction<'_>, corp_key: i64, user: NewUser) -> Fallible<()> {
    limits::check_display_name("user", &user.name)?;
    let id = take(tx, corp_key, Counter::User, 1).await?;
    tx.execute(
        "INSERT INTO users (corp_id, userid, name, id) VALUES ($1, $2, $3, $4)",
        &[&corp_key, &user.userid.as_str(), &user.name, &id],
    )
    .await
    .map_err(conflict(|| format!("user {}", user.userid)))?;
    Ok(())
}

async fn update_user(
    tx: &Transaction<'_>,
    corp_key: i64,
    userid: &str,
    name: &str,
) -> Fallible<User> {
    limits::check_display_name("user", name)?;
    let changed = if storable(userid) {
        tx.execute(
            "UPDATE users SET name = $1 WHERE corp_id = $2 AND userid = $3",
            &[&name, &corp_key, &userid],
        )
        .await?
    } else {
        0
    };
    if changed == 0 {
        return Err(not_found(format!("user {userid}")));
    }
    Ok(User {
        userid: userid.to_owned(),
        name: name.to_owned(),
    })
}

async fn delete_user(tx: &Transaction<'_>, corp_key: i64, userid: &str) -> Fallible<()> {
    let exists = storable(userid)
        && tx
            .query_opt(
                "SELECT 1 FROM users WHERE corp_id = $1 AND userid = $2",
                &[&corp_key, &userid],
            )
            .await?
            .is_some();
    if !exists {
        return Err(not_found(format!("user {userid}")));
    }
    // The first grid by its key, admin before member: the row SQLite's scan finds first.
    let in_grid = tx
        .query_opt(
            "SELECT g.grid_id, gu.role FROM grid_users gu
             JOIN grids g ON g.corp_id = gu.corp_id AND g.id = gu.grid_id
             WHERE gu.corp_id = $1 AND gu.userid = $2
             ORDER BY gu.grid_id, gu.role LIMIT 1",
            &[&corp_key, &userid],
        )
        .await?;
    if let Some(row) = in_grid {
        let (grid_id, role): (String, String) = (row.get(0), row.get(1));
        return Err(conflict_error(format!(
            "user {userid} is still {role} of grid {grid_id}"
        )));
    }
    // A user holds an order while a current processor of it (only open orders have any):
    // deleting them would leave the order with a processor who cannot act.
    let (named, count) = held_orders(tx, corp_key, userid).await?;
    if count > 0 {
        return Err(conflict_error(limits::held_orders_message(
            userid, &named, count,
        )));
    }
    tx.execute(
        "DELETE FROM users WHERE corp_id = $1 AND userid = $2",
        &[&corp_key, &userid],
    )
    .await?;
    Ok(())
}

/// The first [`limits::MAX_NAMED_ORDERS`] orders (oldest first) of which `userid` is a current
/// processor, and how many there are in all.
async fn held_orders(
    tx: &Transaction<'_>,
    corp_key: i64,
    userid: &str,
) -> Fallible<(Vec<String>, usize)> {
    // `order_processors` holds the processors of open orders, by (corp, family, user).
    let named = i64::try_from(limits::MAX_NAMED_ORDERS).unwrap_or(i64::MAX);
    let rows = tx
        .query(
            "SELECT o.order_id, count(*) OVER () FROM order_processors p
             JOIN orders o ON o.corp_id = p.corp_id AND o.seq = p.order_seq
             WHERE p.corp_id = $1 AND p.family IN (0, 1) AND p.userid = $2
             ORDER BY o.seq LIMIT $3",
            &[&corp_key, &userid, &named],
        )
        .await?;
    let count = rows.first().map_or(0, |row| {
        usize::try_from(row.get::<_, i64>(1)).unwrap_or(usize::MAX)
    });
    Ok((rows.iter().map(|row| row.get(0)).collect(), count))
}

/// Which of `userids` are no user of the corp, in the order given (duplicates kept).
async fn missing<C: GenericClient + Sync>(
    client: &C,
    corp_key: i64,
    userids: Vec<String>,
) -> Fallible<Vec<String>> {
    let asked: Vec<&String> = userids.iter().filter(|u| storable(u)).collect();
    let found: std::collections::HashSet<String> = if asked.is_empty() {
        std::collections::HashSet::new()
    } else {
        client
            .query(
                "SELECT userid FROM users WHERE corp_id = $1 AND userid = ANY($2::text[])",
                &[&corp_key, &asked],
            )
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect()
    };
    Ok(userids
        .into_iter()
        .filter(|userid| !found.contains(userid))
        .collect())
}

// Apps.

const APP_COLUMNS: &str = "corp_id, agentid, name, kind, patrol_enabled, enabled, \
                           resident_enabled, contact_enabled";

fn app_from_row(r: &Row) -> App {
    let kind: String = r.get(3);
    let agentid: i64 = r.get(1);
    App {
        // An app is its agentid within its corp.
        key: agentid,
        corp_key: r.get(0),
        agentid,
        name: r.get(2),
        kind: AppKind::parse(&kind).unwrap_or(AppKind::Custom),
        patrol_enabled: r.get(4),
        enabled: r.get(5),
        resident_enabled: r.get(6),
        contact_enabled: r.get(7),
    }
}

async fn app(tx: &Transaction<'_>, corp_key: i64, agentid: i64) -> Fallible<App> {
    tx.query_opt(
        &format!("SELECT {APP_COLUMNS} FROM apps WHERE corp_id = $1 AND agentid = $2"),
        &[&corp_key, &agentid],
    )
    .await?
    .map(|row| app_from_row(&row))
    .ok_or_else(|| not_found(format!("app {agentid}")))
}

async fn create_app(tx: &Transaction<'_>, corp_key: i64, app: NewApp) -> Fallible<App> {
    limits::check_display_name("app", &app.name)?;
    let agentid: i64 = match app.agentid {
        Some(agentid) => agentid.get(),
        // The arithmetic is the domain's, in i64.
        None => limits::next_agentid(
            tx.query_one(
                "SELECT max(agentid) FROM apps WHERE corp_id = $1",
                &[&corp_key],
            )
            .await?
            .get(0),
        )?,
    };
    tx.execute(
        "INSERT INTO apps (corp_id, agentid, name, kind, patrol_enabled, enabled, secret_hash,
            created_at, resident_enabled, contact_enabled)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &corp_key,
            &agentid,
            &app.name,
            &app.kind.as_str(),
            &app.patrol_enabled,
            &app.enabled,
            &secret_hash(&app.secret).as_slice(),
            &app.created_at,
            &app.resident_enabled,
            &app.contact_enabled,
        ],
    )
    .await
    .map_err(conflict(|| format!("app {agentid}")))?;
    self::app(tx, corp_key, agentid).await
}

async fn update_app(
    tx: &Transaction<'_>,
    corp_key: i64,
    agentid: i64,
    patch: AppPatch,
) -> Fallible<App> {
    let current = app(tx, corp_key, agentid).await?;
    if let Some(name) = &patch.name {
        limits::check_display_name("app", name)?;
    }
    tx.execute(
        "UPDATE apps SET name = $1, kind = $2, patrol_enabled = $3, enabled = $4,
            resident_enabled = $5, contact_enabled = $6
         WHERE corp_id = $7 AND agentid = $8",
        &[
            &patch.name.unwrap_or(current.name),
            &patch.kind.unwrap_or(current.kind).as_str(),
            &patch.patrol_enabled.unwrap_or(current.patrol_enabled),
            &patch.enabled.unwrap_or(current.enabled),
            &patch.resident_enabled.unwrap_or(current.resident_enabled),
            &patch.contact_enabled.unwrap_or(current.contact_enabled),
            &corp_key,
            &agentid,
        ],
    )
    .await?;
    app(tx, corp_key, agentid).await
}

/// Replaces an app's secret and revokes its tokens.
async fn set_app_secret(
    tx: &Transaction<'_>,
    corp_key: i64,
    agentid: i64,
    secret_hash: [u8; 32],
) -> Fallible<App> {
    let app = app(tx, corp_key, agentid).await?;
    tx.execute(
        "UPDATE apps SET secret_hash = $1 WHERE corp_id = $2 AND agentid = $3",
        &[&secret_hash.as_slice(), &corp_key, &agentid],
    )
    .await?;
    tx.execute(
        "DELETE FROM tokens WHERE corp_id = $1 AND agentid = $2",
        &[&corp_key, &agentid],
    )
    .await?;
    Ok(app)
}

async fn delete_app(tx: &Transaction<'_>, corp_key: i64, agentid: i64) -> Fallible<()> {
    app(tx, corp_key, agentid).await?;
    tx.execute(
        "DELETE FROM tokens WHERE corp_id = $1 AND agentid = $2",
        &[&corp_key, &agentid],
    )
    .await?;
    tx.execute(
        "DELETE FROM apps WHERE corp_id = $1 AND agentid = $2",
        &[&corp_key, &agentid],
    )
    .await?;
    Ok(())
}

// Grids.

/// Refuses a name already taken by a sibling (same parent), in `grids` or `categories`;
/// `parent.1` says where, for the message.
async fn check_sibling_name(
    tx: &Transaction<'_>,
    table: &str,
    corp_key: i64,
    parent: (Option<i64>, &str),
    name: &str,
) -> Fallible<()> {
    let taken = tx
        .query_opt(
            &format!(
                "SELECT 1 FROM {table}
                 WHERE corp_id = $1 AND coalesce(parent_id, 0) = $2 AND name = $3"
            ),
            &[&corp_key, &parent.0.unwrap_or(0), &name],
        )
        .await?
        .is_some();
    if taken {
        let thing = &table[..table.len() - 1].replace("categorie", "category");
        return Err(clash(
            Clash::SiblingName,
            format!("a {thing} named {name} already exists {}", parent.1),
        ));
    }
    Ok(())
}

/// The key of a grid of the corp.
async fn grid_key(tx: &Transaction<'_>, corp_key: i64, grid_id: &str) -> Fallible<i64> {
    let row = if storable(grid_id) {
        tx.query_opt(
            "SELECT id FROM grids WHERE corp_id = $1 AND grid_id = $2",
            &[&corp_key, &grid_id],
        )
        .await?
    } else {
        None
    };
    row.map(|row| row.get(0))
        .ok_or_else(|| not_found(format!("grid {grid_id}")))
}

/// Levels from the root down to this grid: a root is at 1.
async fn grid_depth(tx: &Transaction<'_>, corp_key: i64, key: i64) -> Fallible<usize> {
    let depth: Option<i64> = tx
        .query_one(
            "WITH RECURSIVE up (id, parent_id, depth) AS (
                 SELECT id, parent_id, 1 FROM grids WHERE corp_id = $1 AND id = $2
                 UNION ALL
                 SELECT g.id, g.parent_id, up.depth + 1
                 FROM grids g JOIN up ON g.corp_id = $1 AND g.id = up.parent_id
             )
             SELECT max(depth)::bigint FROM up",
            &[&corp_key, &key],
        )
        .await?
        .get(0);
    Ok(usize::try_from(depth.unwrap_or(0)).unwrap_or(usize::MAX))
}

/// Whether grid `other` is grid `key` or one of its descendants, and the height of `key`'s
/// subtree (1 for a leaf).
async fn grid_subtree(
    tx: &Transaction<'_>,
    corp_key: i64,
    key: i64,
    other: i64,
) -> Fallible<(bool, usize)> {
    let row = tx
        .query_one(
            "WITH RECURSIVE down (id, depth) AS (
                 SELECT id, 1 FROM grids WHERE corp_id = $1 AND id = $2
                 UNION ALL
                 SELECT g.id, down.depth + 1
                 FROM grids g JOIN down ON g.corp_id = $1 AND g.parent_id = down.id
             )
             SELECT coalesce(bool_or(id = $3), false), coalesce(max(depth), 0)::bigint
             FROM down",
            &[&corp_key, &key, &other],
        )
        .await?;
    let height: i64 = row.get(1);
    Ok((row.get(0), usize::try_from(height).unwrap_or(usize::MAX)))
}

/// Checks a grid's user lists against WeCom's limits and returns the users, duplicates dropped,
/// order kept; the first one who is no user of the corp is a rejection of the call.
async fn grid_users_checked(
    tx: &Transaction<'_>,
    corp_key: i64,
    role: GridRole,
    users: &[String],
) -> Fallible<Vec<String>> {
    let users: Vec<String> = limits::grid_users(role, users)?
        .into_iter()
        .cloned()
        .collect();
    if let Some(unknown) = missing(tx, corp_key, users.clone())
        .await?
        .into_iter()
        .next()
    {
        return Err(Rejection::UnknownUser(unknown).into());
    }
    Ok(users)
}

/// Refuses admins who would manage more than [`limits::MAX_MANAGED_GRIDS`] grids with this one
/// (`grid_key`, or a new grid when `None`).
async fn check_managed_grids(
    tx: &Transaction<'_>,
    corp_key: i64,
    grid_key: Option<i64>,
    admins: &[String],
) -> Fallible<()> {
    let rows = tx
        .query(
            "SELECT a.userid,
                    (SELECT count(*) FROM grid_users gu
                     WHERE gu.corp_id = $1 AND gu.userid = a.userid AND gu.role = 'admin'
                       AND gu.grid_id <> $3)
             FROM unnest($2::text[]) WITH ORDINALITY AS a (userid, n)
             ORDER BY a.n",
            &[&corp_key, &admins, &grid_key.unwrap_or(0)],
        )
        .await?;
    for row in &rows {
        let managed = usize::try_from(row.get::<_, i64>(1)).unwrap_or(usize::MAX);
        limits::check_managed_grids(row.get(0), managed)?;
    }
    Ok(())
}

async fn write_grid_users(
    tx: &Transaction<'_>,
    corp_key: i64,
    grid_key: i64,
    role: GridRole,
    users: &[String],
) -> Fallible<()> {
    tx.execute(
        "DELETE FROM grid_users WHERE corp_id = $1 AND grid_id = $2 AND role = $3",
        &[&corp_key, &grid_key, &role.as_str()],
    )
    .await?;
    if !users.is_empty() {
        tx.execute(
            "INSERT INTO grid_users (corp_id, grid_id, role, position, userid)
             SELECT $1, $2, $3, (u.n - 1)::integer, u.userid
             FROM unnest($4::text[]) WITH ORDINALITY AS u (userid, n)",
            &[&corp_key, &grid_key, &role.as_str(), &users],
        )
        .await?;
    }
    Ok(())
}

async fn create_grid(tx: &Transaction<'_>, corp_key: i64, grid: NewGrid) -> Fallible<()> {
    limits::check_name("grid", &grid.name)?;
    let parent_key = match &grid.parent {
        Some(parent) => {
            let key = grid_key(tx, corp_key, parent).await?;
            limits::check_new_grid_depth(parent, grid_depth(tx, corp_key, key).await?)?;
            Some(key)
        }
        None => None,
    };
    let admins = grid_users_checked(tx, corp_key, GridRole::Admin, &grid.admins).await?;
    let members = grid_users_checked(tx, corp_key, GridRole::Member, &grid.members).await?;
    check_managed_grids(tx, corp_key, None, &admins).await?;
    let exists = tx
        .query_opt(
            "SELECT 1 FROM grids WHERE corp_id = $1 AND grid_id = $2",
            &[&corp_key, &grid.grid_id.as_str()],
        )
        .await?
        .is_some();
    if exists {
        return Err(conflict_error(format!(
            "grid {} already exists",
            grid.grid_id
        )));
    }
    let place = limits::place(grid.parent.as_deref());
    check_sibling_name(tx, "grids", corp_key, (parent_key, &place), &grid.name).await?;
    let key = take(tx, corp_key, Counter::Grid, 1).await?;
    tx.execute(
        "INSERT INTO grids (corp_id, id, grid_id, parent_id, name) VALUES ($1, $2, $3, $4, $5)",
        &[
            &corp_key,
            &key,
            &grid.grid_id.as_str(),
            &parent_key,
            &grid.name,
        ],
    )
    .await
    .map_err(conflict(|| format!("grid {}", grid.grid_id)))?;
    write_grid_users(tx, corp_key, key, GridRole::Admin, &admins).await?;
    write_grid_users(tx, corp_key, key, GridRole::Member, &members).await?;
    Ok(())
}

async fn update_grid(
    tx: &Transaction<'_>,
    corp_key: i64,
    grid_id: &str,
    patch: GridPatch,
) -> Fallible<Grid> {
    let key = grid_key(tx, corp_key, grid_id).await?;
    if let Some(name) = &patch.name {
        limits::check_name("grid", name)?;
    }
    // The new parent, checked: `None` keeps the parent, `Some(None)` makes the grid a root.
    let new_parent = match &patch.parent {
        Some(parent) => Some(match parent {
            Some(parent) => {
                let parent_key = grid_key(tx, corp_key, parent).await?;
                let (in_subtree, height) = grid_subtree(tx, corp_key, key, parent_key).await?;
                limits::check_grid_move(
                    grid_id,
                    parent,
                    in_subtree,
                    grid_depth(tx, corp_key, parent_key).await?,
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
            "UPDATE grids SET name = coalesce($1::text, name),
                 parent_id = CASE WHEN $2::boolean THEN $3::bigint ELSE parent_id END
             WHERE corp_id = $4 AND id = $5",
            &[
                &patch.name,
                &new_parent.is_some(),
                &new_parent.flatten(),
                &corp_key,
                &key,
            ],
        )
        .await
        .map_err(sibling_name(|| match &patch.name {
            Some(name) => format!("a sibling of grid {grid_id} named {name}"),
            None => format!("a grid named like {grid_id} under its new parent"),
        }))?;
    }
    if let Some(admins) = &patch.admins {
        let admins = grid_users_checked(tx, corp_key, GridRole::Admin, admins).await?;
        check_managed_grids(tx, corp_key, Some(key), &admins).await?;
        write_grid_users(tx, corp_key, key, GridRole::Admin, &admins).await?;
    }
    if let Some(members) = &patch.members {
        let members = grid_users_checked(tx, corp_key, GridRole::Member, members).await?;
        write_grid_users(tx, corp_key, key, GridRole::Member, &members).await?;
    }
    load_grid(tx, corp_key, grid_id)
        .await?
        .ok_or_else(|| not_found(format!("grid {grid_id}")))
}

async fn delete_grid(tx: &Transaction<'_>, corp_key: i64, grid_id: &str) -> Fallible<()> {
    let key = grid_key(tx, corp_key, grid_id).await?;
    let members = count(
        &tx.query_one(
            "SELECT count(*) FROM grid_users
             WHERE corp_id = $1 AND grid_id = $2 AND role = 'member'",
            &[&corp_key, &key],
        )
        .await?,
    );
    if members > 0 {
        return Err(clash(
            Clash::HasMembers,
            format!("grid {grid_id} still has {members} members"),
        ));
    }
    let children = count(
        &tx.query_one(
            "SELECT count(*) FROM grids WHERE corp_id = $1 AND parent_id = $2",
            &[&corp_key, &key],
        )
        .await?,
    );
    if children > 0 {
        return Err(clash(
            Clash::HasChildren,
            format!("grid {grid_id} still has {children} child grids"),
        ));
    }
    let orders = count(
        &tx.query_one(
            "SELECT count(*) FROM orders WHERE corp_id = $1 AND grid_id = $2",
            &[&corp_key, &key],
        )
        .await?,
    );
    if orders > 0 {
        return Err(clash(
            Clash::HasOrders,
            format!("grid {grid_id} has {orders} orders"),
        ));
    }
    tx.execute(
        "DELETE FROM grids WHERE corp_id = $1 AND id = $2",
        &[&corp_key, &key],
    )
    .await?;
    Ok(())
}

/// A grid's columns, `g` its row and `p` its parent's (left joined): its id, name, parent's id,
/// admins and members (each list in its order), read in one statement.
const GRID_COLUMNS: &str = "g.grid_id, g.name, p.grid_id,
    ARRAY(SELECT gu.userid FROM grid_users gu
          WHERE gu.corp_id = g.corp_id AND gu.grid_id = g.id AND gu.role = 'admin'
          ORDER BY gu.position),
    ARRAY(SELECT gu.userid FROM grid_users gu
          WHERE gu.corp_id = g.corp_id AND gu.grid_id = g.id AND gu.role = 'member'
          ORDER BY gu.position)";

fn grid_from_row(r: &Row) -> Grid {
    Grid {
        grid_id: r.get(0),
        name: r.get(1),
        parent: r.get(2),
        admins: r.get(3),
        members: r.get(4),
    }
}

async fn load_grid<C: GenericClient + Sync>(
    client: &C,
    corp_key: i64,
    grid_id: &str,
) -> Fallible<Option<Grid>> {
    if !storable(grid_id) {
        return Ok(None);
    }
    let row = client
        .query_opt(
            &format!(
                "SELECT {GRID_COLUMNS} FROM grids g
                 LEFT JOIN grids p ON p.corp_id = g.corp_id AND p.id = g.parent_id
                 WHERE g.corp_id = $1 AND g.grid_id = $2"
            ),
            &[&corp_key, &grid_id],
        )
        .await?;
    Ok(row.as_ref().map(grid_from_row))
}

/// Every grid of a corp, parents before children, siblings in creation order (by key), in one
/// statement.
async fn list_grids(client: &tokio_postgres::Client, corp_key: i64) -> Fallible<Vec<Grid>> {
    let rows = client
        .query(
            &format!(
                "WITH RECURSIVE tree (id, path) AS (
                     SELECT id, ARRAY[id] FROM grids WHERE corp_id = $1 AND parent_id IS NULL
                     UNION ALL
                     SELECT g.id, tree.path || g.id
                     FROM grids g JOIN tree ON g.corp_id = $1 AND g.parent_id = tree.id
                 )
                 SELECT {GRID_COLUMNS} FROM tree
                 JOIN grids g ON g.corp_id = $1 AND g.id = tree.id
                 LEFT JOIN grids p ON p.corp_id = g.corp_id AND p.id = g.parent_id
                 ORDER BY tree.path"
            ),
            &[&corp_key],
        )
        .await?;
    Ok(rows.iter().map(grid_from_row).collect())
}

// Categories.

/// The key and level of a category of the corp, if it has it.
async fn category_key(
    tx: &Transaction<'_>,
    corp_key: i64,
    category_id: &str,
) -> Fallible<Option<(i64, i64)>> {
    if !storable(category_id) {
        return Ok(None);
    }
    Ok(tx
        .query_opt(
            "SELECT id, level FROM categories WHERE corp_id = $1 AND category_id = $2",
            &[&corp_key, &category_id],
        )
        .await?
        .map(|row| (row.get(0), level_of(&row, 1))))
}

async fn rename_category(
    tx: &Transaction<'_>,
    corp_key: i64,
    category_id: &str,
    name: &str,
) -> Fallible<()> {
    limits::check_name("category", name)?;
    let changed = if storable(category_id) {
        tx.execute(
            "UPDATE categories SET name = $1 WHERE corp_id = $2 AND category_id = $3",
            &[&name, &corp_key, &category_id],
        )
        .await
        .map_err(sibling_name(|| {
            format!("category name {name} among its siblings")
        }))?
    } else {
        0
    };
    if changed == 0 {
        return Err(not_found(format!("category {category_id}")));
    }
    Ok(())
}

async fn create_category(
    tx: &Transaction<'_>,
    corp_key: i64,
    category: NewCategory,
) -> Fallible<()> {
    limits::check_name("category", &category.name)?;
    let parent = match &category.parent {
        Some(parent) => {
            let (key, level) = category_key(tx, corp_key, parent)
                .await?
                .ok_or_else(|| Rejection::UnknownCategory(parent.clone()))?;
            Some((key, parent.as_str(), level))
        }
        None => None,
    };
    let level = limits::category_level(parent.map(|(_, id, level)| (id, level)))?;
    let parent_key = parent.map(|(key, _, _)| key);
    let exists = tx
        .query_opt(
            "SELECT 1 FROM categories WHERE corp_id = $1 AND category_id = $2",
            &[&corp_key, &category.category_id.as_str()],
        )
        .await?
        .is_some();
    if exists {
        return Err(conflict_error(format!(
            "category {} already exists",
            category.category_id
        )));
    }
    let place = limits::place(category.parent.as_deref());
    check_sibling_name(
        tx,
        "categories",
        corp_key,
        (parent_key, &place),
        &category.name,
    )
    .await?;
    let key = take(tx, corp_key, Counter::Category, 1).await?;
    tx.execute(
        "INSERT INTO categories (corp_id, id, category_id, parent_id, level, name)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &corp_key,
            &key,
            &category.category_id.as_str(),
            &parent_key,
            &level_column(level),
            &category.name,
        ],
    )
    .await
    .map_err(conflict(|| format!("category {}", category.category_id)))?;
    Ok(())
}

const CATEGORY_SELECT: &str = "SELECT c.category_id, c.name, c.level, p.category_id
     FROM categories c LEFT JOIN categories p ON p.corp_id = c.corp_id AND p.id = c.parent_id
     WHERE c.corp_id = $1";

fn category_from_row(r: &Row) -> Category {
    Category {
        category_id: r.get(0),
        name: r.get(1),
        level: level_of(r, 2),
        parent: r.get(3),
    }
}

pub(crate) async fn list_categories(
    client: &tokio_postgres::Client,
    corp_key: i64,
) -> Fallible<Vec<Category>> {
    let rows = client
        .query(
            &format!("{CATEGORY_SELECT} ORDER BY coalesce(c.parent_id, c.id), c.level, c.id"),
            &[&corp_key],
        )
        .await?;
    Ok(rows.iter().map(category_from_row).collect())
}

async fn delete_category(tx: &Transaction<'_>, corp_key: i64, category_id: &str) -> Fallible<()> {
    let (key, _) = category_key(tx, corp_key, category_id)
        .await?
        .ok_or_else(|| not_found(format!("category {category_id}")))?;
    let children = count(
        &tx.query_one(
            "SELECT count(*) FROM categories WHERE corp_id = $1 AND parent_id = $2",
            &[&corp_key, &key],
        )
        .await?,
    );
    if children > 0 {
        return Err(clash(
            Clash::HasChildren,
            format!("category {category_id} still has {children} child categories"),
        ));
    }
    let orders = count(
        &tx.query_one(
            "SELECT count(*) FROM orders WHERE corp_id = $1 AND category_id = $2",
            &[&corp_key, &key],
        )
        .await?,
    );
    if orders > 0 {
        return Err(clash(
            Clash::HasOrders,
            format!("category {category_id} has {orders} orders"),
        ));
    }
    tx.execute(
        "DELETE FROM categories WHERE corp_id = $1 AND id = $2",
        &[&corp_key, &key],
    )
    .await?;
    Ok(())
}

async fn category_row(
    tx: &Transaction<'_>,
    corp_key: i64,
    category_id: &str,
) -> Fallible<Category> {
    let row = if storable(category_id) {
        tx.query_opt(
            &format!("{CATEGORY_SELECT} AND c.category_id = $2"),
            &[&corp_key, &category_id],
        )
        .await?
    } else {
        None
    };
    row.as_ref()
        .map(category_from_row)
        .ok_or_else(|| not_found(format!("category {category_id}")))
}

async fn update_category(
    tx: &Transaction<'_>,
    corp_key: i64,
    category_id: &str,
    patch: CategoryPatch,
) -> Fallible<Category> {
    let current = category_row(tx, corp_key, category_id).await?;
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
            let (key, level) = category_key(tx, corp_key, parent)
                .await?
                .ok_or_else(|| Rejection::UnknownCategory(parent.clone()))?;
            let level = if parent == category_id { 2 } else { level };
            limits::category_level(Some((parent, level)))?;
            let children = count(
                &tx.query_one(
                    "SELECT count(*) FROM categories c
                     JOIN categories p ON p.corp_id = c.corp_id AND p.id = c.parent_id
                     WHERE p.corp_id = $1 AND p.category_id = $2",
                    &[&corp_key, &category_id],
                )
                .await?,
            );
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
    let level: i32 = if parent_key.is_some() { 2 } else { 1 };
    let name = patch.name.unwrap_or(current.name);
    tx.execute(
        "UPDATE categories SET name = $1, parent_id = $2, level = $3
         WHERE corp_id = $4 AND category_id = $5",
        &[&name, &parent_key, &level, &corp_key, &category_id],
    )
    .await
    .map_err(sibling_name(|| {
        format!(
            "a category named {name} {}",
            limits::place(parent.as_deref())
        )
    }))?;
    category_row(tx, corp_key, category_id).await
}

#[async_trait::async_trait]
impl patrol_store::DirectoryStore for PostgresStore {
    async fn create_corp(&self, corp: NewCorp) -> Result<Corp> {
        self.write(None, move |tx| Box::pin(create_corp(tx, corp)))
            .await
    }

    async fn create_corp_with(&self, setup: CorpSetup) -> Result<Corp> {
        self.write(None, move |tx| {
            Box::pin(async move {
                let corp = create_corp(tx, setup.corp).await?;
                for app in setup.apps {
                    create_app(tx, corp.key, app).await?;
                }
                for user in setup.users {
                    create_user(tx, corp.key, user).await?;
                }
                for grid in setup.grids {
                    create_grid(tx, corp.key, grid).await?;
                }
                for category in setup.categories {
                    create_category(tx, corp.key, category).await?;
                }
                if !setup.orders.is_empty() {
                    crate::orders::insert_orders_tx(tx, corp.key, setup.orders).await?;
                }
                Ok(corp)
            })
        })
        .await
    }

    async fn corp(&self, corpid: &str) -> Result<Option<Corp>> {
        if !storable(corpid) {
            return Ok(None);
        }
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT id, corpid, name, created_at FROM corps WHERE corpid = $1",
                &[&corpid],
            )
            .await
            .map_err(Error::from)?;
        Ok(row.as_ref().map(corp_from_row))
    }

    async fn list_corps(&self) -> Result<Vec<Corp>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, corpid, name, created_at FROM corps ORDER BY id",
                &[],
            )
            .await
            .map_err(Error::from)?;
        Ok(rows.iter().map(corp_from_row).collect())
    }

    async fn create_app(&self, corp_key: i64, app: NewApp) -> Result<App> {
        self.write(Some(corp_key), move |tx| {
            Box::pin(create_app(tx, corp_key, app))
        })
        .await
    }

    async fn list_apps(&self, corp_key: i64) -> Result<Vec<App>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!("SELECT {APP_COLUMNS} FROM apps WHERE corp_id = $1 ORDER BY agentid"),
                &[&corp_key],
            )
            .await
            .map_err(Error::from)?;
        Ok(rows.iter().map(app_from_row).collect())
    }

    async fn update_corp(&self, corp_key: i64, patch: CorpPatch) -> Result<Corp> {
        let corp = self
            .write(Some(corp_key), move |tx| {
                Box::pin(update_corp(tx, corp_key, patch))
            })
            .await;
        crate::tokens::revoked(self);
        corp
    }

    async fn update_app(&self, corp_key: i64, agentid: i64, patch: AppPatch) -> Result<App> {
        let app = self
            .write(Some(corp_key), move |tx| {
                Box::pin(update_app(tx, corp_key, agentid, patch))
            })
            .await;
        crate::tokens::revoked(self);
        app
    }

    async fn set_app_secret(&self, corp_key: i64, agentid: i64, secret: &str) -> Result<App> {
        let hash = secret_hash(secret);
        let app = self
            .write(Some(corp_key), move |tx| {
                Box::pin(set_app_secret(tx, corp_key, agentid, hash))
            })
            .await;
        crate::tokens::revoked(self);
        app
    }

    async fn delete_app(&self, corp_key: i64, agentid: i64) -> Result<()> {
        let deleted = self
            .write(Some(corp_key), move |tx| {
                Box::pin(delete_app(tx, corp_key, agentid))
            })
            .await;
        crate::tokens::revoked(self);
        deleted
    }

    async fn create_user(&self, corp_key: i64, user: NewUser) -> Result<()> {
        self.write(Some(corp_key), move |tx| {
            Box::pin(create_user(tx, corp_key, user))
        })
        .await
    }

    /// Every user of the corp, by userid (bytewise): PostgreSQL's `users` keeps no creation
    /// order, which SQLite lists them in.
    async fn list_users(&self, corp_key: i64) -> Result<Vec<User>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT userid, name FROM users WHERE corp_id = $1 ORDER BY id",
                &[&corp_key],
            )
            .await
            .map_err(Error::from)?;
        Ok(rows
            .iter()
            .map(|row| User {
                userid: row.get(0),
                name: row.get(1),
            })
            .collect())
    }

    async fn update_user(&self, corp_key: i64, userid: &str, name: &str) -> Result<User> {
        let (userid, name) = (userid.to_owned(), name.to_owned());
        self.write(Some(corp_key), move |tx| {
            Box::pin(async move { update_user(tx, corp_key, &userid, &name).await })
        })
        .await
    }

    async fn delete_user(&self, corp_key: i64, userid: &str) -> Result<()> {
        let userid = userid.to_owned();
        self.write(Some(corp_key), move |tx| {
            Box::pin(async move { delete_user(tx, corp_key, &userid).await })
        })
        .await
    }

    async fn create_grid(&self, corp_key: i64, grid: NewGrid) -> Result<()> {
        self.write(Some(corp_key), move |tx| {
            Box::pin(create_grid(tx, corp_key, grid))
        })
        .await
    }

    async fn grid(&self, corp_key: i64, grid_id: &str) -> Result<Option<Grid>> {
        let client = self.client().await?;
        Ok(load_grid(&**client, corp_key, grid_id).await?)
    }

    async fn list_grids(&self, corp_key: i64) -> Result<Vec<Grid>> {
        let client = self.client().await?;
        Ok(list_grids(&client, corp_key).await?)
    }

    async fn update_grid(&self, corp_key: i64, grid_id: &str, patch: GridPatch) -> Result<Grid> {
        let grid_id = grid_id.to_owned();
        self.write(Some(corp_key), move |tx| {
            Box::pin(async move { update_grid(tx, corp_key, &grid_id, patch).await })
        })
        .await
    }

    async fn delete_grid(&self, corp_key: i64, grid_id: &str) -> Result<()> {
        let grid_id = grid_id.to_owned();
        self.write(Some(corp_key), move |tx| {
            Box::pin(async move { delete_grid(tx, corp_key, &grid_id).await })
        })
        .await
    }

    async fn create_category(&self, corp_key: i64, category: NewCategory) -> Result<()> {
        self.write(Some(corp_key), move |tx| {
            Box::pin(create_category(tx, corp_key, category))
        })
        .await
    }

    async fn list_categories(&self, corp_key: i64) -> Result<Vec<Category>> {
        let client = self.client().await?;
        Ok(list_categories(&client, corp_key).await?)
    }

    async fn rename_category(&self, corp_key: i64, category_id: &str, name: &str) -> Result<()> {
        let (category_id, name) = (category_id.to_owned(), name.to_owned());
        self.write(Some(corp_key), move |tx| {
            Box::pin(async move { rename_category(tx, corp_key, &category_id, &name).await })
        })
        .await
    }

    async fn delete_category(&self, corp_key: i64, category_id: &str) -> Result<()> {
        let category_id = category_id.to_owned();
        self.write(Some(corp_key), move |tx| {
            Box::pin(async move { delete_category(tx, corp_key, &category_id).await })
        })
        .await
    }

    async fn missing_users(&self, corp_key: i64, userids: Vec<String>) -> Result<Vec<String>> {
        let client = self.client().await?;
        Ok(missing(&**client, corp_key, userids).await?)
    }

    async fn update_category(
        &self,
        corp_key: i64,
        category_id: &str,
        patch: CategoryPatch,
    ) -> Result<Category> {
        let category_id = category_id.to_owned();
        self.write(Some(corp_key), move |tx| {
            Box::pin(async move { update_category(tx, corp_key, &category_id, patch).await })
        })
        .await
    }
}
