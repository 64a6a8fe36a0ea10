//! Export and import of whole corps in SQLite (`patrol_store::transfer`, `patrol migrate`).
//!
//! The import writes what the export of any backend read: the directory in the order it was
//! listed (so the new internal keys list in the same order), orders with their own creation
//! sequence as their key (`orders.id`; offset above the file's largest when another corp's
//! orders took those values), and the statistics' counters recomputed from each chunk's orders
//! by `patrol_domain::stats::Counters`, written by the same functions as every order write.

use std::collections::HashMap;

use patrol_domain::stats::Counters;
use patrol_store::StoreError;
use patrol_store::transfer::{
    AppRecord, CategoryRecord, CorpHoldings, CorpImport, CorpRecord, DeletedCorp, GridRecord,
    ImportMarks, MediaRecord, OrderRecord, OrderSpan, RECORD_VERSION, Secrets, SeedRunRecord,
    StepRecord, TokenRecord, UserRecord, corp_mark_key, corp_mark_value,
};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::directory;
use crate::error::Result;
use crate::orders::{insert_steps, json_array, write_counters, write_processors};

fn parse_array(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

pub(crate) fn secrets(conn: &Connection) -> Result<Secrets> {
    Ok(Secrets {
        cursor_secret: crate::tokens::cursor_secret(conn)?,
        token_key: crate::tokens::token_key(conn)?,
    })
}

pub(crate) fn export_corp(conn: &Connection, corpid: &str) -> Result<Option<CorpRecord>> {
    let Some((key, name, created_at, mod_seq)) = conn
        .query_row(
            "SELECT id, name, created_at, mod_seq FROM corps WHERE corpid = ?1",
            [corpid],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?
    else {
        return Ok(None);
    };
    let apps = conn
        .prepare(
            "SELECT agentid, name, kind, patrol_enabled, resident_enabled, contact_enabled,
                    enabled, secret_hash, created_at
             FROM apps WHERE corp_id = ?1 ORDER BY agentid",
        )?
        .query_map([key], |r| {
            Ok(AppRecord {
                agentid: r.get(0)?,
                name: r.get(1)?,
                kind: r.get(2)?,
                patrol_enabled: r.get(3)?,
                resident_enabled: r.get(4)?,
                contact_enabled: r.get(5)?,
                enabled: r.get(6)?,
                secret_hash: r.get(7)?,
                created_at: r.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let tokens = conn
        .prepare(
            "SELECT a.agentid, t.token_hash, t.expires_at, t.nonce
             FROM tokens t JOIN apps a ON a.id = t.app_id
             WHERE a.corp_id = ?1 ORDER BY a.agentid, t.expires_at, t.token_hash",
        )?
        .query_map([key], |r| {
            Ok(TokenRecord {
                agentid: r.get(0)?,
                token_hash: r.get(1)?,
                expires_at: r.get(2)?,
                nonce: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let users = directory::list_users(conn, key)?
        .into_iter()
        .map(|user| UserRecord {
            userid: user.userid,
            name: user.name,
        })
        .collect();
    let grids = directory::list_grids(conn, key)?
        .into_iter()
        .map(|grid| GridRecord {
            grid_id: grid.grid_id,
            parent: grid.parent,
            name: grid.name,
            admins: grid.admins,
            members: grid.members,
        })
        .collect();
    let categories = directory::list_categories(conn, key)?
        .into_iter()
        .map(|category| CategoryRecord {
            category_id: category.category_id,
            parent: category.parent,
            level: category.level,
            name: category.name,
        })
        .collect();
    let seed_runs = conn
        .prepare(
            "SELECT seed, orders, anchor, landed FROM seed_runs WHERE corp_id = ?1 ORDER BY seed",
        )?
        .query_map([key], |r| {
            Ok(SeedRunRecord {
                seed: r.get(0)?,
                orders: r.get(1)?,
                anchor: r.get(2)?,
                landed: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let media = conn
        .prepare(
            "SELECT media_id, media_type, blob, size, file_name, content_type, created_at,
                    expires_at
             FROM media WHERE corp_id = ?1 ORDER BY media_id",
        )?
        .query_map([key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, Option<i64>>(7)?,
            ))
        })?
        .map(|row| {
            let (media_id, media_type, blob, size, file_name, content_type, created_at, expires) =
                row?;
            let blob = blob.try_into().map_err(|_| {
                StoreError::Corrupt(format!("media {media_id}: a blob name is 32 bytes"))
            })?;
            Ok(MediaRecord {
                media_id,
                media_type,
                blob,
                size,
                file_name,
                content_type,
                created_at,
                expires_at: expires,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (count, first_seq, last_seq): (i64, i64, i64) = conn.query_row(
        "SELECT count(*), ifnull(min(id), 0), ifnull(max(id), 0) FROM orders WHERE corp_id = ?1",
        [key],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok(Some(CorpRecord {
        version: RECORD_VERSION,
        key,
        corpid: corpid.to_owned(),
        name,
        created_at,
        mod_seq,
        apps,
        tokens,
        users,
        grids,
        categories,
        seed_runs,
        media,
        orders: OrderSpan {
            count: count.unsigned_abs(),
            first_seq,
            last_seq,
        },
    }))
}

pub(crate) fn export_orders(
    conn: &Connection,
    corp_key: i64,
    after: i64,
    limit: usize,
) -> Result<Vec<OrderRecord>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut orders = conn
        .prepare_cached(
            "SELECT o.id, o.order_id, o.family, o.description, o.urge_type, c.category_id,
                    o.case_name, g.grid_id, o.grid_name, o.reporter, o.reporter_name,
                    o.reporter_mobile, o.unionid, o.location_name, o.location_address,
                    o.latitude, o.longitude, o.image_urls, o.video_media_ids,
                    o.processor_userids, o.closed, o.stage, o.accepted, o.solved_time, o.solver,
                    o.create_time, o.modify_time, o.mod_seq, o.body, o.served
             FROM orders o
             JOIN grids g ON g.id = o.grid_id
             LEFT JOIN categories c ON c.id = o.category_id
             WHERE o.corp_id = ?1 AND o.id > ?2
             ORDER BY o.id LIMIT ?3",
        )?
        .query_map(params![corp_key, after, limit], |r| {
            Ok(OrderRecord {
                seq: r.get(0)?,
                order_id: r.get(1)?,
                family: r.get(2)?,
                description: r.get(3)?,
                urge_type: r.get(4)?,
                category_id: r.get(5)?,
                case_name: r.get(6)?,
                grid_id: r.get(7)?,
                grid_name: r.get(8)?,
                reporter: r.get(9)?,
                reporter_name: r.get(10)?,
                reporter_mobile: r.get(11)?,
                unionid: r.get(12)?,
                location_name: r.get(13)?,
                location_address: r.get(14)?,
                latitude: r.get(15)?,
                longitude: r.get(16)?,
                image_urls: parse_array(&r.get::<_, String>(17)?),
                video_media_ids: parse_array(&r.get::<_, String>(18)?),
                processor_userids: parse_array(&r.get::<_, String>(19)?),
                closed: r.get(20)?,
                stage: r.get(21)?,
                accepted: r.get(22)?,
                solved_time: r.get(23)?,
                solver: r.get(24)?,
                create_time: r.get(25)?,
                modify_time: r.get(26)?,
                mod_seq: r.get(27)?,
                body: r.get(28)?,
                served: r.get(29)?,
                steps: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut steps = conn.prepare_cached(
        "SELECT process_type, actor, acted_time, solve_userid, process_desc, status,
                solved_time, image_urls, video_media_ids
         FROM steps WHERE order_id = ?1 ORDER BY position",
    )?;
    for order in &mut orders {
        order.steps = steps
            .query_map([order.seq], |r| {
                Ok(StepRecord {
                    process_type: r.get(0)?,
                    actor: r.get(1)?,
                    acted_time: r.get(2)?,
                    solve_userid: r.get(3)?,
                    process_desc: r.get(4)?,
                    status: r.get(5)?,
                    solved_time: r.get(6)?,
                    image_urls: parse_array(&r.get::<_, String>(7)?),
                    video_media_ids: parse_array(&r.get::<_, String>(8)?),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
    }
    Ok(orders)
}

pub(crate) fn import_marks(conn: &Connection) -> Result<ImportMarks> {
    let rows = conn
        .prepare("SELECT key, value FROM meta WHERE key LIKE 'import/%'")?
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ImportMarks::from_meta(rows)?)
}

pub(crate) fn import_secrets(tx: &Transaction<'_>, secrets: Secrets) -> Result<()> {
    let corps: i64 = tx.query_row("SELECT count(*) FROM corps", [], |r| r.get(0))?;
    if corps > 0 {
        return Err(StoreError::Conflict(format!(
            "the database holds {corps} corp(s): secrets are only imported into an empty one"
        ))
        .into());
    }
    let mut put = tx.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?;
    put.execute(params!["cursor_secret", secrets.cursor_secret.as_slice()])?;
    put.execute(params!["token_key", secrets.token_key.as_slice()])?;
    put.execute(params!["import/source", secrets.cursor_secret.as_slice()])?;
    Ok(())
}

fn put_mark(tx: &Connection, corpid: &str, mark: &CorpImport) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
        params![corp_mark_key(corpid), corp_mark_value(mark)],
    )?;
    Ok(())
}

/// Deletes a corp with everything of it (the foreign keys cascade) and its import mark.
pub(crate) fn delete_corp(tx: &Transaction<'_>, corpid: &str) -> Result<()> {
    tx.execute("DELETE FROM corps WHERE corpid = ?1", [corpid])?;
    tx.execute("DELETE FROM meta WHERE key = ?1", [corp_mark_key(corpid)])?;
    Ok(())
}

/// Deletes corp `corpid` whole (`TransferStore::delete_corp`): refused while it holds anything
/// unless `force`; the blobs of its media that no other corp's medium names are returned.
pub(crate) fn delete_corp_whole(
    tx: &Transaction<'_>,
    corpid: &str,
    force: bool,
) -> Result<DeletedCorp> {
    let key: i64 = tx
        .query_row("SELECT id FROM corps WHERE corpid = ?1", [corpid], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| crate::error::not_found(format!("corp {corpid}")))?;
    let count = |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<u64> {
        Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
    };
    let held = tx.query_row(
        "SELECT (SELECT count(*) FROM apps WHERE corp_id = ?1),
                (SELECT count(*) FROM users WHERE corp_id = ?1),
                (SELECT count(*) FROM grids WHERE corp_id = ?1),
                (SELECT count(*) FROM categories WHERE corp_id = ?1),
                (SELECT count(*) FROM orders WHERE corp_id = ?1),
                (SELECT count(*) FROM media WHERE corp_id = ?1)",
        [key],
        |r| {
            Ok(CorpHoldings {
                apps: count(r, 0)?,
                users: count(r, 1)?,
                grids: count(r, 2)?,
                categories: count(r, 3)?,
                orders: count(r, 4)?,
                media: count(r, 5)?,
            })
        },
    )?;
    if !force && !held.is_empty() {
        return Err(held.refusal(corpid).into());
    }
    let blobs = tx
        .prepare("SELECT DISTINCT blob FROM media WHERE corp_id = ?1")?
        .query_map([key], |r| r.get::<_, Vec<u8>>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    delete_corp(tx, corpid)?;
    let mut named = tx.prepare("SELECT 1 FROM media WHERE blob = ?1 LIMIT 1")?;
    let mut unreferenced_blobs = Vec::new();
    for blob in blobs {
        if !named.exists([&blob])?
            && let Ok(id) = <[u8; 32]>::try_from(blob.as_slice())
        {
            unreferenced_blobs.push(id);
        }
    }
    Ok(DeletedCorp {
        held,
        unreferenced_blobs,
    })
}

pub(crate) fn import_corp(tx: &Transaction<'_>, corp: CorpRecord) -> Result<CorpImport> {
    if corp.version > RECORD_VERSION {
        return Err(StoreError::open(format!(
            "records of version {} are newer than this patrol knows ({RECORD_VERSION})",
            corp.version
        ))
        .into());
    }
    // The source's key of the corp when it is free here.
    let key_taken = tx
        .query_row("SELECT 1 FROM corps WHERE id = ?1", [corp.key], |_| Ok(()))
        .optional()?
        .is_some();
    tx.execute(
        "INSERT INTO corps (id, corpid, name, created_at, mod_seq) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            (!key_taken).then_some(corp.key),
            corp.corpid,
            corp.name,
            corp.created_at,
            corp.mod_seq
        ],
    )?;
    let corp_key = tx.last_insert_rowid();
    let mut app_keys = HashMap::new();
    for app in &corp.apps {
        tx.execute(
            "INSERT INTO apps (corp_id, agentid, name, kind, patrol_enabled, resident_enabled,
                contact_enabled, enabled, secret_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                corp_key,
                app.agentid,
                app.name,
                app.kind,
                app.patrol_enabled,
                app.resident_enabled,
                app.contact_enabled,
                app.enabled,
                app.secret_hash,
                app.created_at
            ],
        )?;
        app_keys.insert(app.agentid, tx.last_insert_rowid());
    }
    for token in &corp.tokens {
        let app_key = app_keys.get(&token.agentid).ok_or_else(|| {
            StoreError::Corrupt(format!("a token of app {} of no app", token.agentid))
        })?;
        tx.execute(
            "INSERT INTO tokens (token_hash, app_id, expires_at, nonce) VALUES (?1, ?2, ?3, ?4)",
            params![token.token_hash, app_key, token.expires_at, token.nonce],
        )?;
    }
    let mut user_keys = HashMap::new();
    for user in &corp.users {
        tx.execute(
            "INSERT INTO users (corp_id, userid, name) VALUES (?1, ?2, ?3)",
            params![corp_key, user.userid, user.name],
        )?;
        user_keys.insert(user.userid.as_str(), tx.last_insert_rowid());
    }
    let mut grid_keys: HashMap<&str, i64> = HashMap::new();
    for grid in &corp.grids {
        let parent = match &grid.parent {
            Some(parent) => Some(*grid_keys.get(parent.as_str()).ok_or_else(|| {
                StoreError::Corrupt(format!("grid {} listed before its parent", grid.grid_id))
            })?),
            None => None,
        };
        tx.execute(
            "INSERT INTO grids (corp_id, grid_id, parent_id, name) VALUES (?1, ?2, ?3, ?4)",
            params![corp_key, grid.grid_id, parent, grid.name],
        )?;
        let grid_key = tx.last_insert_rowid();
        grid_keys.insert(grid.grid_id.as_str(), grid_key);
        for (role, users) in [("admin", &grid.admins), ("member", &grid.members)] {
            for (position, userid) in users.iter().enumerate() {
                let user_key = user_keys.get(userid.as_str()).ok_or_else(|| {
                    StoreError::Corrupt(format!("grid {}: no user {userid}", grid.grid_id))
                })?;
                tx.execute(
                    "INSERT INTO grid_users (grid_id, role, position, user_id)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![grid_key, role, position as i64, user_key],
                )?;
            }
        }
    }
    let mut category_keys: HashMap<&str, i64> = HashMap::new();
    for category in &corp.categories {
        let parent = match &category.parent {
            Some(parent) => Some(*category_keys.get(parent.as_str()).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "category {} listed before its parent",
                    category.category_id
                ))
            })?),
            None => None,
        };
        tx.execute(
            "INSERT INTO categories (corp_id, category_id, parent_id, level, name)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                corp_key,
                category.category_id,
                parent,
                category.level,
                category.name
            ],
        )?;
        category_keys.insert(category.category_id.as_str(), tx.last_insert_rowid());
    }
    for run in &corp.seed_runs {
        tx.execute(
            "INSERT INTO seed_runs (corp_id, seed, orders, anchor, landed)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![corp_key, run.seed, run.orders, run.anchor, run.landed],
        )?;
    }
    for media in &corp.media {
        tx.execute(
            "INSERT INTO media (corp_id, media_id, media_type, blob, size, file_name,
                content_type, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                corp_key,
                media.media_id,
                media.media_type,
                media.blob.as_slice(),
                media.size,
                media.file_name,
                media.content_type,
                media.created_at,
                media.expires_at
            ],
        )?;
    }
    // Order keys are unique across corps here: keep the source's creation sequence unless
    // another corp's orders hold some of its values.
    let span = corp.orders;
    let clash = span.count > 0
        && tx
            .query_row(
                "SELECT 1 FROM orders WHERE id BETWEEN ?1 AND ?2 LIMIT 1",
                params![span.first_seq, span.last_seq],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
    let seq_offset = if clash {
        let largest: i64 =
            tx.query_row("SELECT ifnull(max(id), 0) FROM orders", [], |r| r.get(0))?;
        largest + 1 - span.first_seq
    } else {
        0
    };
    let mark = CorpImport {
        corp_key,
        last_seq: 0,
        seq_offset,
        done: span.count == 0,
    };
    put_mark(tx, &corp.corpid, &mark)?;
    Ok(mark)
}

pub(crate) fn import_orders(
    tx: &Transaction<'_>,
    corpid: &str,
    orders: Vec<OrderRecord>,
    done: bool,
) -> Result<CorpImport> {
    let marks = import_marks(tx)?;
    let mut mark = *marks.corps.get(corpid).ok_or_else(|| {
        StoreError::NotFound(format!("an import of corp {corpid} in this database"))
    })?;
    let corp_key = mark.corp_key;
    let keys = |table: &str, column: &str| -> Result<HashMap<String, i64>> {
        Ok(tx
            .prepare(&format!(
                "SELECT {column}, id FROM {table} WHERE corp_id = ?1"
            ))?
            .query_map([corp_key], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    };
    let grids = keys("grids", "grid_id")?;
    let categories = keys("categories", "category_id")?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO orders (id, corp_id, order_id, description, urge_type, category_id,
            case_name, grid_id, grid_name, reporter, location_name, location_address, latitude,
            longitude, image_urls, video_media_ids, processor_userids, closed, create_time,
            modify_time, mod_seq, body, served, family, reporter_name, reporter_mobile, unionid,
            stage, accepted, solved_time, solver)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
            ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31)",
    )?;
    let mut counters = Counters::default();
    for order in orders {
        if order.seq <= mark.last_seq {
            return Err(StoreError::Conflict(format!(
                "order {} (sequence {}) is not after the last imported ({})",
                order.order_id, order.seq, mark.last_seq
            ))
            .into());
        }
        let grid_key = *grids.get(&order.grid_id).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "order {}: no grid {}",
                order.order_id, order.grid_id
            ))
        })?;
        let category_key = match &order.category_id {
            Some(id) => Some(*categories.get(id).ok_or_else(|| {
                StoreError::Corrupt(format!("order {}: no category {id}", order.order_id))
            })?),
            None => None,
        };
        let order_key = order.seq + mark.seq_offset;
        insert.execute(params![
            order_key,
            corp_key,
            order.order_id,
            order.description,
            order.urge_type,
            category_key,
            order.case_name,
            grid_key,
            order.grid_name,
            order.reporter,
            order.location_name,
            order.location_address,
            order.latitude,
            order.longitude,
            json_array(&order.image_urls),
            json_array(&order.video_media_ids),
            json_array(&order.processor_userids),
            order.closed,
            order.create_time,
            order.modify_time,
            order.mod_seq,
            order.body,
            order.served,
            order.family,
            order.reporter_name,
            order.reporter_mobile,
            order.unionid,
            order.stage,
            order.accepted,
            order.solved_time,
            order.solver,
        ])?;
        let state = order.state();
        insert_steps(tx, order_key, &state)?;
        write_processors(tx, corp_key, order_key, &[], &state)?;
        counters.count(&state, grid_key, category_key, 1);
        counters.reported(&state, grid_key);
        mark.last_seq = order.seq;
    }
    write_counters(counters, tx, corp_key)?;
    mark.done = done;
    put_mark(tx, corpid, &mark)?;
    Ok(mark)
}
