//! Export and import of whole corps in PostgreSQL (`patrol_store::transfer`, `patrol migrate`).
//!
//! The import keeps the source's key of the corp when it is free (tokens carry it) and the
//! source's creation sequence of every order (cursors carry it); the directory gets new keys,
//! in the order it was listed, so it lists in the same order. Orders, steps, processors and the
//! counters go in one statement per table and chunk (`unnest` of arrays), not one round trip
//! per row. The counters are recomputed from the chunk's orders by
//! `patrol_domain::stats::Counters`; an import only adds to them, so they are written as
//! increments, all keys of a table at once.

use std::collections::HashMap;

use patrol_domain::stats::Counters;
use patrol_store::transfer::{
    AppRecord, CategoryRecord, CorpHoldings, CorpImport, CorpRecord, DeletedCorp, GridRecord,
    ImportMarks, MediaRecord, OrderRecord, OrderSpan, RECORD_VERSION, Secrets, SeedRunRecord,
    StepRecord, TokenRecord, UserRecord, corp_mark_key, corp_mark_value,
};
use patrol_store::{DirectoryStore, StoreError};
use tokio_postgres::{GenericClient, Transaction};

use crate::PostgresStore;
use crate::error::{Error, Result};
use crate::orders::{OrderRows, ProcessorRows, StepRows, write_counters};

fn json_array(items: &[String]) -> String {
    serde_json::to_string(items).expect("strings always serialize")
}

fn parse_array(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn small(value: i64) -> Result<i16> {
    i16::try_from(value)
        .map_err(|_| StoreError::Corrupt(format!("code {value} does not fit a smallint")).into())
}

async fn import_marks(client: &impl GenericClient) -> Result<ImportMarks> {
    let rows = client
        .query("SELECT key, value FROM meta WHERE key LIKE 'import/%'", &[])
        .await?;
    Ok(ImportMarks::from_meta(
        rows.iter().map(|row| (row.get(0), row.get(1))),
    )?)
}

async fn put_mark(tx: &Transaction<'_>, corpid: &str, mark: &CorpImport) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&corp_mark_key(corpid), &corp_mark_value(mark)],
    )
    .await?;
    Ok(())
}

/// Deletes corp `corpid` with everything of it and its import mark; its key, or `None` when
/// there was none. The tables whose rows other rows of the corp refer to without cascading
/// (users from grid memberships, grids and categories from orders) are emptied in order first;
/// the rest cascades.
async fn delete_corp_tx(tx: &Transaction<'_>, corpid: &str) -> Result<Option<i64>> {
    let key = tx
        .query_opt("SELECT id FROM corps WHERE corpid = $1", &[&corpid])
        .await?
        .map(|row| row.get::<_, i64>(0));
    if let Some(key) = key {
        for table in [
            "orders",
            "grid_users",
            "grids",
            "categories",
            "users",
            "corps",
        ] {
            let column = if table == "corps" { "id" } else { "corp_id" };
            tx.execute(&format!("DELETE FROM {table} WHERE {column} = $1"), &[&key])
                .await?;
        }
    }
    tx.execute("DELETE FROM meta WHERE key = $1", &[&corp_mark_key(corpid)])
        .await?;
    Ok(key)
}

/// Deletes a corp (as [`delete_corp_tx`]), then writes `corp`.
async fn replace_corp_tx(tx: &Transaction<'_>, corp: CorpRecord) -> Result<CorpImport> {
    delete_corp_tx(tx, &corp.corpid).await?;
    import_corp_tx(tx, corp).await
}

/// Deletes corp `corpid` whole (`TransferStore::delete_corp`): refused while it holds anything
/// unless `force`; the blobs of its media that no other corp's medium names are returned.
async fn delete_corp_whole_tx(
    tx: &Transaction<'_>,
    corpid: &str,
    force: bool,
) -> Result<DeletedCorp> {
    let key: i64 = tx
        .query_opt("SELECT id FROM corps WHERE corpid = $1", &[&corpid])
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("corp {corpid}")))?
        .get(0);
    let row = tx
        .query_one(
            "SELECT (SELECT count(*) FROM apps WHERE corp_id = $1),
                    (SELECT count(*) FROM users WHERE corp_id = $1),
                    (SELECT count(*) FROM grids WHERE corp_id = $1),
                    (SELECT count(*) FROM categories WHERE corp_id = $1),
                    (SELECT count(*) FROM orders WHERE corp_id = $1),
                    (SELECT count(*) FROM media WHERE corp_id = $1)",
            &[&key],
        )
        .await?;
    let count = |i: usize| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
    let held = CorpHoldings {
        apps: count(0),
        users: count(1),
        grids: count(2),
        categories: count(3),
        orders: count(4),
        media: count(5),
    };
    if !force && !held.is_empty() {
        return Err(held.refusal(corpid).into());
    }
    let blobs: Vec<Vec<u8>> = tx
        .query(
            "SELECT DISTINCT blob FROM media WHERE corp_id = $1",
            &[&key],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    delete_corp_tx(tx, corpid).await?;
    let named: Vec<Vec<u8>> = tx
        .query(
            "SELECT DISTINCT blob FROM media WHERE corp_id <> $1 AND blob = ANY($2)",
            &[&key, &blobs],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let unreferenced_blobs = blobs
        .into_iter()
        .filter(|blob| !named.contains(blob))
        .filter_map(|blob| <[u8; 32]>::try_from(blob.as_slice()).ok())
        .collect();
    Ok(DeletedCorp {
        held,
        unreferenced_blobs,
    })
}

async fn import_corp_tx(tx: &Transaction<'_>, corp: CorpRecord) -> Result<CorpImport> {
    if corp.version > RECORD_VERSION {
        return Err(StoreError::open(format!(
            "records of version {} are newer than this patrol knows ({RECORD_VERSION})",
            corp.version
        ))
        .into());
    }
    let key_taken = tx
        .query_opt("SELECT 1 FROM corps WHERE id = $1", &[&corp.key])
        .await?
        .is_some();
    let OrderSpan { last_seq, .. } = corp.orders;
    let corp_key: i64 = if key_taken {
        tx.query_one(
            "INSERT INTO corps (corpid, name, created_at) VALUES ($1, $2, $3) RETURNING id",
            &[&corp.corpid, &corp.name, &corp.created_at],
        )
        .await?
        .get(0)
    } else {
        tx.execute(
            "INSERT INTO corps (id, corpid, name, created_at) VALUES ($1, $2, $3, $4)",
            &[&corp.key, &corp.corpid, &corp.name, &corp.created_at],
        )
        .await?;
        // The identity goes on after the largest key given.
        tx.execute(
            "SELECT setval(pg_get_serial_sequence('corps', 'id'), max(id)) FROM corps",
            &[],
        )
        .await?;
        corp.key
    };
    // The corp's counters go on after what it brings; users, grids and categories are numbered
    // 1, 2, … in the order listed (their keys order them).
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    tx.execute(
        "INSERT INTO corp_counters (corp_id, mod_seq, order_seq, user_seq, grid_seq, category_seq)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &corp_key,
            &corp.mod_seq,
            &last_seq,
            &count(corp.users.len()),
            &count(corp.grids.len()),
            &count(corp.categories.len()),
        ],
    )
    .await?;
    for app in &corp.apps {
        tx.execute(
            "INSERT INTO apps (corp_id, agentid, name, kind, patrol_enabled, resident_enabled,
                contact_enabled, enabled, secret_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &corp_key,
                &app.agentid,
                &app.name,
                &app.kind,
                &app.patrol_enabled,
                &app.resident_enabled,
                &app.contact_enabled,
                &app.enabled,
                &app.secret_hash,
                &app.created_at,
            ],
        )
        .await?;
    }
    let column = |f: fn(&TokenRecord) -> Vec<u8>| corp.tokens.iter().map(f).collect::<Vec<_>>();
    tx.execute(
        "INSERT INTO tokens (corp_id, agentid, token_hash, expires_at, nonce)
         SELECT $1::bigint, * FROM unnest($2::bigint[], $3::bytea[], $4::bigint[], $5::bytea[])",
        &[
            &corp_key,
            &corp.tokens.iter().map(|t| t.agentid).collect::<Vec<_>>(),
            &column(|t| t.token_hash.clone()),
            &corp.tokens.iter().map(|t| t.expires_at).collect::<Vec<_>>(),
            &column(|t| t.nonce.clone()),
        ],
    )
    .await?;
    // A token without the corp's prefix (issued by SQLite) is found through `moved_tokens`;
    // every moved token is listed there, as the record does not say which kind it is.
    tx.execute(
        "INSERT INTO moved_tokens (token_hash, corp_id, expires_at)
         SELECT t.hash, $1::bigint, t.expires_at
         FROM unnest($2::bytea[], $3::bigint[]) AS t (hash, expires_at)
         ON CONFLICT DO NOTHING",
        &[
            &corp_key,
            &column(|t| t.token_hash.clone()),
            &corp.tokens.iter().map(|t| t.expires_at).collect::<Vec<_>>(),
        ],
    )
    .await?;
    // In the order listed: their keys (the order users are listed in) follow it.
    tx.execute(
        "INSERT INTO users (corp_id, userid, name, id)
         SELECT $1::bigint, u.userid, u.name, u.n
         FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u (userid, name, n)
         ORDER BY u.n",
        &[
            &corp_key,
            &corp
                .users
                .iter()
                .map(|u| u.userid.as_str())
                .collect::<Vec<_>>(),
            &corp
                .users
                .iter()
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>(),
        ],
    )
    .await?;
    let mut grid_keys: HashMap<&str, i64> = HashMap::new();
    let insert_grid = tx
        .prepare(
            "INSERT INTO grids (corp_id, id, grid_id, parent_id, name)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    let (mut gu_grid, mut gu_role, mut gu_position, mut gu_user) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for grid in &corp.grids {
        let parent = match &grid.parent {
            Some(parent) => Some(*grid_keys.get(parent.as_str()).ok_or_else(|| {
                StoreError::Corrupt(format!("grid {} listed before its parent", grid.grid_id))
            })?),
            None => None,
        };
        let key = count(grid_keys.len() + 1);
        tx.execute(
            &insert_grid,
            &[&corp_key, &key, &grid.grid_id, &parent, &grid.name],
        )
        .await?;
        grid_keys.insert(grid.grid_id.as_str(), key);
        for (role, users) in [("admin", &grid.admins), ("member", &grid.members)] {
            for (position, userid) in users.iter().enumerate() {
                gu_grid.push(key);
                gu_role.push(role);
                gu_position.push(i32::try_from(position).unwrap_or(i32::MAX));
                gu_user.push(userid.as_str());
            }
        }
    }
    tx.execute(
        "INSERT INTO grid_users (corp_id, grid_id, role, position, userid)
         SELECT $1::bigint, * FROM unnest($2::bigint[], $3::text[], $4::int[], $5::text[])",
        &[&corp_key, &gu_grid, &gu_role, &gu_position, &gu_user],
    )
    .await?;
    let mut category_keys: HashMap<&str, i64> = HashMap::new();
    let insert_category = tx
        .prepare(
            "INSERT INTO categories (corp_id, id, category_id, parent_id, level, name)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await?;
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
        let level = i32::try_from(category.level).unwrap_or(i32::MAX);
        let key = count(category_keys.len() + 1);
        tx.execute(
            &insert_category,
            &[
                &corp_key,
                &key,
                &category.category_id,
                &parent,
                &level,
                &category.name,
            ],
        )
        .await?;
        category_keys.insert(category.category_id.as_str(), key);
    }
    for run in &corp.seed_runs {
        tx.execute(
            "INSERT INTO seed_runs (corp_id, seed, orders, anchor, landed)
             VALUES ($1, $2, $3, $4, $5)",
            &[&corp_key, &run.seed, &run.orders, &run.anchor, &run.landed],
        )
        .await?;
    }
    let media = &corp.media;
    tx.execute(
        "INSERT INTO media (corp_id, media_id, media_type, blob, size, file_name, content_type,
            created_at, expires_at)
         SELECT $1::bigint, * FROM unnest($2::text[], $3::text[], $4::bytea[], $5::bigint[],
            $6::text[], $7::text[], $8::bigint[], $9::bigint[])",
        &[
            &corp_key,
            &media
                .iter()
                .map(|m| m.media_id.as_str())
                .collect::<Vec<_>>(),
            &media
                .iter()
                .map(|m| m.media_type.as_str())
                .collect::<Vec<_>>(),
            &media.iter().map(|m| m.blob.to_vec()).collect::<Vec<_>>(),
            &media.iter().map(|m| m.size).collect::<Vec<_>>(),
            &media
                .iter()
                .map(|m| m.file_name.as_str())
                .collect::<Vec<_>>(),
            &media
                .iter()
                .map(|m| m.content_type.as_str())
                .collect::<Vec<_>>(),
            &media.iter().map(|m| m.created_at).collect::<Vec<_>>(),
            &media.iter().map(|m| m.expires_at).collect::<Vec<_>>(),
        ],
    )
    .await?;
    // Creation sequences are the corp's own here: the source's are always free.
    let mark = CorpImport {
        corp_key,
        last_seq: 0,
        seq_offset: 0,
        done: corp.orders.count == 0,
    };
    put_mark(tx, &corp.corpid, &mark).await?;
    Ok(mark)
}

async fn import_orders_tx(
    tx: &Transaction<'_>,
    corpid: &str,
    orders: Vec<OrderRecord>,
    done: bool,
) -> Result<CorpImport> {
    let marks = import_marks(tx).await?;
    let mut mark = *marks.corps.get(corpid).ok_or_else(|| {
        StoreError::NotFound(format!("an import of corp {corpid} in this database"))
    })?;
    let corp_key = mark.corp_key;
    tx.query_one(
        "SELECT 1 FROM corp_counters WHERE corp_id = $1 FOR UPDATE",
        &[&corp_key],
    )
    .await?;
    let mut grids: HashMap<String, i64> = HashMap::new();
    for row in tx
        .query(
            "SELECT grid_id, id FROM grids WHERE corp_id = $1",
            &[&corp_key],
        )
        .await?
    {
        grids.insert(row.get(0), row.get(1));
    }
    let mut categories: HashMap<String, i64> = HashMap::new();
    for row in tx
        .query(
            "SELECT category_id, id FROM categories WHERE corp_id = $1",
            &[&corp_key],
        )
        .await?
    {
        categories.insert(row.get(0), row.get(1));
    }
    let mut o = OrderRows::default();
    let mut s = StepRows::default();
    let mut processors = ProcessorRows::default();
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
        let seq = order.seq + mark.seq_offset;
        let state = order.state();
        processors.add(seq, &state);
        counters.count(&state, grid_key, category_key, 1);
        counters.reported(&state, grid_key);
        for (position, step) in order.steps.iter().enumerate() {
            s.order_seq.push(seq);
            s.position.push(i32::try_from(position).unwrap_or(i32::MAX));
            s.process_type.push(small(step.process_type)?);
            s.actor.push(step.actor.clone());
            s.acted_time.push(step.acted_time);
            s.solve_userid.push(step.solve_userid.clone());
            s.process_desc.push(step.process_desc.clone());
            s.status.push(small(step.status)?);
            s.solved_time.push(step.solved_time);
            s.image_urls.push(json_array(&step.image_urls));
            s.video_media_ids.push(json_array(&step.video_media_ids));
        }
        mark.last_seq = order.seq;
        o.seq.push(seq);
        o.order_id.push(order.order_id);
        o.family.push(small(order.family)?);
        o.description.push(order.description);
        o.urge_type.push(small(order.urge_type)?);
        o.category_id.push(category_key);
        o.case_name.push(order.case_name);
        o.grid_id.push(grid_key);
        o.grid_name.push(order.grid_name);
        o.reporter.push(order.reporter);
        o.reporter_name.push(order.reporter_name);
        o.reporter_mobile.push(order.reporter_mobile);
        o.unionid.push(order.unionid);
        o.location_name.push(order.location_name);
        o.location_address.push(order.location_address);
        o.latitude.push(order.latitude);
        o.longitude.push(order.longitude);
        o.image_urls.push(json_array(&order.image_urls));
        o.video_media_ids.push(json_array(&order.video_media_ids));
        o.processor_userids
            .push(json_array(&order.processor_userids));
        o.closed.push(order.closed);
        o.stage.push(small(order.stage)?);
        o.accepted.push(order.accepted);
        o.solved_time.push(order.solved_time);
        o.solver.push(order.solver);
        o.create_time.push(order.create_time);
        o.modify_time.push(order.modify_time);
        o.mod_seq.push(order.mod_seq);
        o.body.push(order.body);
        o.served.push(order.served);
    }
    // The same statements as reporting's (`orders`): one per table, and the counters.
    o.insert(tx, corp_key).await?;
    s.insert(tx, corp_key).await?;
    processors.insert(tx, corp_key).await?;
    write_counters(counters, tx, corp_key).await?;
    mark.done = done;
    put_mark(tx, corpid, &mark).await?;
    Ok(mark)
}

#[async_trait::async_trait]
impl patrol_store::TransferStore for PostgresStore {
    async fn secrets(&self) -> patrol_store::Result<Secrets> {
        let client = self.client().await?;
        Ok(Secrets {
            cursor_secret: crate::secret(&client, "cursor_secret").await?,
            token_key: crate::secret(&client, "token_key").await?,
        })
    }

    async fn export_corp(&self, corpid: &str) -> patrol_store::Result<Option<CorpRecord>> {
        if corpid.contains('\0') {
            return Ok(None);
        }
        let client = self.client().await?;
        let Some(row) = client
            .query_opt(
                "SELECT c.id, c.name, c.created_at, k.mod_seq
                 FROM corps c JOIN corp_counters k ON k.corp_id = c.id WHERE c.corpid = $1",
                &[&corpid],
            )
            .await
            .map_err(Error::from)?
        else {
            return Ok(None);
        };
        let key: i64 = row.get(0);
        let (name, created_at, mod_seq) = (row.get(1), row.get(2), row.get(3));
        let query = |sql: &'static str| {
            let client = &client;
            async move {
                client
                    .query(sql, &[&key])
                    .await
                    .map_err(|e| StoreError::from(Error::from(e)))
            }
        };
        let apps = query(
            "SELECT agentid, name, kind, patrol_enabled, resident_enabled, contact_enabled,
                    enabled, secret_hash, created_at
             FROM apps WHERE corp_id = $1 ORDER BY agentid",
        )
        .await?
        .iter()
        .map(|r| AppRecord {
            agentid: r.get(0),
            name: r.get(1),
            kind: r.get(2),
            patrol_enabled: r.get(3),
            resident_enabled: r.get(4),
            contact_enabled: r.get(5),
            enabled: r.get(6),
            secret_hash: r.get(7),
            created_at: r.get(8),
        })
        .collect();
        let tokens = query(
            "SELECT agentid, token_hash, expires_at, nonce FROM tokens WHERE corp_id = $1
             ORDER BY agentid, expires_at, token_hash",
        )
        .await?
        .iter()
        .map(|r| TokenRecord {
            agentid: r.get(0),
            token_hash: r.get(1),
            expires_at: r.get(2),
            nonce: r.get(3),
        })
        .collect();
        let seed_runs = query(
            "SELECT seed, orders, anchor, landed FROM seed_runs WHERE corp_id = $1 ORDER BY seed COLLATE \"C\"",
        )
        .await?
        .iter()
        .map(|r| SeedRunRecord {
            seed: r.get(0),
            orders: r.get(1),
            anchor: r.get(2),
            landed: r.get(3),
        })
        .collect();
        let media = query(
            "SELECT media_id, media_type, blob, size, file_name, content_type, created_at,
                    expires_at
             FROM media WHERE corp_id = $1 ORDER BY media_id COLLATE \"C\"",
        )
        .await?
        .iter()
        .map(|r| {
            let media_id: String = r.get(0);
            let blob: Vec<u8> = r.get(2);
            let blob = blob.try_into().map_err(|_| {
                StoreError::Corrupt(format!("media {media_id}: a blob name is 32 bytes"))
            })?;
            Ok(MediaRecord {
                media_id,
                media_type: r.get(1),
                blob,
                size: r.get(3),
                file_name: r.get(4),
                content_type: r.get(5),
                created_at: r.get(6),
                expires_at: r.get(7),
            })
        })
        .collect::<patrol_store::Result<Vec<_>>>()?;
        let span = query(
            "SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM orders
             WHERE corp_id = $1",
        )
        .await?;
        let orders = OrderSpan {
            count: span[0].get::<_, i64>(0).unsigned_abs(),
            first_seq: span[0].get(1),
            last_seq: span[0].get(2),
        };
        drop(client);
        let users = self
            .list_users(key)
            .await?
            .into_iter()
            .map(|user| UserRecord {
                userid: user.userid,
                name: user.name,
            })
            .collect();
        let grids = self
            .list_grids(key)
            .await?
            .into_iter()
            .map(|grid| GridRecord {
                grid_id: grid.grid_id,
                parent: grid.parent,
                name: grid.name,
                admins: grid.admins,
                members: grid.members,
            })
            .collect();
        let categories = self
            .list_categories(key)
            .await?
            .into_iter()
            .map(|category| CategoryRecord {
                category_id: category.category_id,
                parent: category.parent,
                level: category.level,
                name: category.name,
            })
            .collect();
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
            orders,
        }))
    }

    async fn export_orders(
        &self,
        corp_key: i64,
        after: i64,
        limit: usize,
    ) -> patrol_store::Result<Vec<OrderRecord>> {
        let client = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = client
            .query(
                "SELECT o.seq, o.order_id, o.family, o.description, o.urge_type, c.category_id,
                        o.case_name, g.grid_id, o.grid_name, o.reporter, o.reporter_name,
                        o.reporter_mobile, o.unionid, o.location_name, o.location_address,
                        o.latitude, o.longitude, o.image_urls, o.video_media_ids,
                        o.processor_userids, o.closed, o.stage, o.accepted, o.solved_time,
                        o.solver, o.create_time, o.modify_time, o.mod_seq, o.body, o.served
                 FROM orders o
                 JOIN grids g ON g.corp_id = o.corp_id AND g.id = o.grid_id
                 LEFT JOIN categories c ON c.corp_id = o.corp_id AND c.id = o.category_id
                 WHERE o.corp_id = $1 AND o.seq > $2
                 ORDER BY o.seq LIMIT $3",
                &[&corp_key, &after, &limit],
            )
            .await
            .map_err(Error::from)?;
        let mut orders: Vec<OrderRecord> = rows
            .iter()
            .map(|r| OrderRecord {
                seq: r.get(0),
                order_id: r.get(1),
                family: i64::from(r.get::<_, i16>(2)),
                description: r.get(3),
                urge_type: i64::from(r.get::<_, i16>(4)),
                category_id: r.get(5),
                case_name: r.get(6),
                grid_id: r.get(7),
                grid_name: r.get(8),
                reporter: r.get(9),
                reporter_name: r.get(10),
                reporter_mobile: r.get(11),
                unionid: r.get(12),
                location_name: r.get(13),
                location_address: r.get(14),
                latitude: r.get(15),
                longitude: r.get(16),
                image_urls: parse_array(r.get(17)),
                video_media_ids: parse_array(r.get(18)),
                processor_userids: parse_array(r.get(19)),
                closed: r.get(20),
                stage: i64::from(r.get::<_, i16>(21)),
                accepted: r.get(22),
                solved_time: r.get(23),
                solver: r.get(24),
                create_time: r.get(25),
                modify_time: r.get(26),
                mod_seq: r.get(27),
                body: r.get(28),
                served: r.get(29),
                steps: Vec::new(),
            })
            .collect();
        let (Some(first), Some(last)) = (orders.first(), orders.last()) else {
            return Ok(orders);
        };
        let steps = client
            .query(
                "SELECT order_seq, process_type, actor, acted_time, solve_userid, process_desc,
                        status, solved_time, image_urls, video_media_ids
                 FROM steps WHERE corp_id = $1 AND order_seq BETWEEN $2 AND $3
                 ORDER BY order_seq, position",
                &[&corp_key, &first.seq, &last.seq],
            )
            .await
            .map_err(Error::from)?;
        let index: HashMap<i64, usize> = orders
            .iter()
            .enumerate()
            .map(|(i, order)| (order.seq, i))
            .collect();
        for r in &steps {
            if let Some(&i) = index.get(&r.get::<_, i64>(0)) {
                orders[i].steps.push(StepRecord {
                    process_type: i64::from(r.get::<_, i16>(1)),
                    actor: r.get(2),
                    acted_time: r.get(3),
                    solve_userid: r.get(4),
                    process_desc: r.get(5),
                    status: i64::from(r.get::<_, i16>(6)),
                    solved_time: r.get(7),
                    image_urls: parse_array(r.get(8)),
                    video_media_ids: parse_array(r.get(9)),
                });
            }
        }
        Ok(orders)
    }

    async fn import_marks(&self) -> patrol_store::Result<ImportMarks> {
        let client = self.client().await?;
        Ok(import_marks(&**client).await?)
    }

    async fn import_secrets(&self, secrets: Secrets) -> patrol_store::Result<()> {
        self.write(None, move |tx| {
            Box::pin(async move {
                tx.execute("LOCK TABLE corps IN SHARE MODE", &[]).await?;
                let corps: i64 = tx
                    .query_one("SELECT count(*) FROM corps", &[])
                    .await?
                    .get(0);
                if corps > 0 {
                    return Err(StoreError::Conflict(format!(
                        "the database holds {corps} corp(s): secrets are only imported into an \
                         empty one"
                    ))
                    .into());
                }
                let put = tx
                    .prepare(
                        "INSERT INTO meta (key, value) VALUES ($1, $2)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    )
                    .await?;
                for (key, value) in [
                    ("cursor_secret", &secrets.cursor_secret),
                    ("token_key", &secrets.token_key),
                    ("import/source", &secrets.cursor_secret),
                ] {
                    tx.execute(&put, &[&key, &value.to_vec()]).await?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn import_corp(&self, corp: CorpRecord) -> patrol_store::Result<CorpImport> {
        self.write(None, move |tx| Box::pin(import_corp_tx(tx, corp)))
            .await
    }

    async fn replace_corp(&self, corp: CorpRecord) -> patrol_store::Result<CorpImport> {
        let replaced = self
            .write(None, move |tx| Box::pin(replace_corp_tx(tx, corp)))
            .await;
        crate::tokens::revoked(self);
        replaced
    }

    async fn delete_corp(&self, corpid: &str, force: bool) -> patrol_store::Result<DeletedCorp> {
        if corpid.contains('\0') {
            return Err(StoreError::NotFound(format!("corp {corpid}")));
        }
        let corpid = corpid.to_owned();
        let deleted = self
            .write(None, move |tx| {
                Box::pin(async move { delete_corp_whole_tx(tx, &corpid, force).await })
            })
            .await;
        crate::tokens::revoked(self);
        deleted
    }

    async fn import_orders(
        &self,
        corpid: &str,
        orders: Vec<OrderRecord>,
        done: bool,
    ) -> patrol_store::Result<CorpImport> {
        let corpid = corpid.to_owned();
        self.write(None, move |tx| {
            Box::pin(async move { import_orders_tx(tx, &corpid, orders, done).await })
        })
        .await
    }
}
