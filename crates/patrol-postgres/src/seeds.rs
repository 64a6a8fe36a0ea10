//! Runs of `patrol seed` in PostgreSQL: each batch of orders and the run's progress commit
//! together.

use patrol_domain::NewOrder;
use patrol_store::{SeedRun, StoreError};
use tokio_postgres::Transaction;

use crate::error::Result;

fn count(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value)
        .map_err(|_| StoreError::Conflict(format!("{what} {value} is too large")).into())
}

fn uncount(value: i64) -> Result<u64> {
    u64::try_from(value)
        .map_err(|_| StoreError::Corrupt(format!("a seed run counts {value} orders")).into())
}

/// See [`patrol_store::OrderStore::begin_seed_run`].
pub(crate) async fn begin_seed_run(
    tx: &Transaction<'_>,
    corp_key: i64,
    run: SeedRun,
) -> Result<SeedRun> {
    let seed = run.seed.to_string();
    tx.execute(
        "INSERT INTO seed_runs (corp_id, seed, orders, anchor, landed)
         VALUES ($1, $2, $3, $4, 0) ON CONFLICT (corp_id, seed) DO NOTHING",
        &[
            &corp_key,
            &seed,
            &count(run.orders, "--orders")?,
            &run.anchor,
        ],
    )
    .await?;
    let row = tx
        .query_one(
            "SELECT orders, anchor, landed FROM seed_runs WHERE corp_id = $1 AND seed = $2",
            &[&corp_key, &seed],
        )
        .await?;
    Ok(SeedRun {
        seed: run.seed,
        orders: uncount(row.get(0))?,
        anchor: row.get(1),
        landed: uncount(row.get(2))?,
    })
}

/// See [`patrol_store::OrderStore::insert_seed_batch`].
pub(crate) async fn insert_seed_batch(
    tx: &Transaction<'_>,
    corp_key: i64,
    seed: u64,
    from: u64,
    orders: Vec<NewOrder>,
) -> Result<()> {
    let seed = seed.to_string();
    let from = count(from, "a seed run's position")?;
    let to = from
        .checked_add(count(orders.len() as u64, "a batch")?)
        .ok_or_else(|| StoreError::Conflict("a seed run's position overflows".into()))?;
    let moved = tx
        .execute(
            "UPDATE seed_runs SET landed = $1 WHERE corp_id = $2 AND seed = $3 AND landed = $4
               AND $1 <= orders",
            &[&to, &corp_key, &seed, &from],
        )
        .await?;
    if moved != 1 {
        let landed: Option<i64> = tx
            .query_opt(
                "SELECT landed FROM seed_runs WHERE corp_id = $1 AND seed = $2",
                &[&corp_key, &seed],
            )
            .await?
            .map(|row| row.get(0));
        return Err(StoreError::Conflict(match landed {
            None => format!("seed {seed} has no run recorded"),
            Some(landed) => {
                format!("seed {seed} has {landed} orders landed, not {from}: is another run going?")
            }
        })
        .into());
    }
    crate::orders::insert_orders_tx(tx, corp_key, orders).await
}
