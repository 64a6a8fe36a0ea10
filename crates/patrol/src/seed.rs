//! `patrol seed`: a reproducible dataset of generated orders in the demo corp.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use indicatif::ProgressBar;
use patrol_demo::{self as demo, Generator};
use patrol_domain::Clock;
use patrol_store::SeedRun;

use crate::settings::{CommonArgs, Layer, Settings};

/// The most orders one run writes.
const MAX_ORDERS: u64 = 1_000_000_000;

#[derive(Debug, Args)]
pub(crate) struct SeedArgs {
    /// How many orders to write.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(0..=MAX_ORDERS))]
    orders: u64,
    /// The seed: the same seed and count give the same orders.
    #[arg(long, default_value_t = 1, value_name = "S")]
    seed: u64,
    /// Anchor of the dataset's 30 days, in Unix seconds [default: the current hour].
    #[arg(long, value_name = "UNIX_SECONDS")]
    anchor: Option<i64>,
    /// Orders written per transaction: an interrupted run keeps every whole batch it wrote,
    /// and running it again writes the rest.
    #[arg(long, default_value_t = 20_000, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    batch: u64,
    /// Do not show a progress bar.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    common: CommonArgs,
}

impl SeedArgs {
    /// These flags, with their environment variables, as a layer of settings.
    pub(crate) fn flags(&self) -> Layer {
        self.common.layer()
    }
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(args: SeedArgs, settings: Settings) -> anyhow::Result<()> {
    let (database, store, blobs) = settings.open_database().await?;
    let clock = Clock::system();
    // The corp, and the pool of images and videos its orders show.
    let (corp, _) = demo::ensure_corp(store.as_ref(), blobs.as_ref(), &clock).await?;
    // The run is recorded before its first order, so that running it again (after Ctrl-C, a
    // crash, a power cut) finishes it with the same anchor: see the README.
    let asked = SeedRun {
        seed: args.seed,
        orders: args.orders,
        anchor: args.anchor.unwrap_or_else(|| demo::anchor(clock.now())),
        landed: 0,
    };
    let run = store.begin_seed_run(corp.key, asked.clone()).await?;
    if run.orders != asked.orders || args.anchor.is_some_and(|anchor| anchor != run.anchor) {
        anyhow::bail!(
            "seed {} was run before in this database with --orders {} --anchor {} ({} of its orders \
             landed); run it again with those values to finish it, or choose another --seed",
            run.seed,
            run.orders,
            run.anchor,
            run.landed
        );
    }
    if run.landed == run.orders {
        println!(
            "seed {} is already in {}: {} orders (anchor {}); nothing to do",
            run.seed, database, run.orders, run.anchor
        );
        return Ok(());
    }
    if run.landed > 0 {
        println!(
            "resuming seed {}: {} of {} orders landed before (anchor {})",
            run.seed, run.landed, run.orders, run.anchor
        );
    }
    let anchor = run.anchor;
    let generator = Arc::new(Generator::new(args.seed, args.orders, anchor));

    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(args.orders)
    };
    bar.set_position(run.landed);
    bar.set_style(
        crate::progress::style(
            "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} orders ({rate}, {eta} left)",
        ),
    );
    let started = Instant::now();
    // Generation of the next batch overlaps the writing of the current one.
    let (sender, mut receiver) = tokio::sync::mpsc::channel(2);
    let producer = {
        let generator = generator.clone();
        let (total, size) = (args.orders, args.batch);
        let mut start = run.landed;
        tokio::task::spawn_blocking(move || {
            while start < total {
                let end = start.saturating_add(size).min(total);
                let batch: Vec<_> = (start..end).map(|i| generator.order(i)).collect();
                if sender.blocking_send((start, batch)).is_err() {
                    break;
                }
                start = end;
            }
        })
    };
    while let Some((from, batch)) = receiver.recv().await {
        let count = batch.len() as u64;
        store
            .insert_seed_batch(corp.key, args.seed, from, batch)
            .await
            .with_context(|| {
                format!(
                    "cannot write the orders of seed {} (did a patrol older than this one seed it \
                     before?)",
                    args.seed
                )
            })?;
        bar.inc(count);
    }
    producer.await.context("the generator failed")?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let written = args.orders - run.landed;
    println!(
        "seeded {} orders (seed {}, anchor {anchor}) into corp {} in {seconds:.1} s ({:.0} orders/s); database {}",
        written,
        args.seed,
        corp.corpid,
        written as f64 / seconds.max(f64::EPSILON),
        database,
    );
    Ok(())
}
