//! `patrol seed`: a reproducible dataset of generated orders in the demo corp.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use patrol_demo::{self as demo, Generator};
use patrol_domain::Clock;
use patrol_store::Store;

use crate::settings::{self, CommonArgs, Layer, Settings};

/// Orders written per transaction.
const BATCH: u64 = 20_000;

#[derive(Debug, Args)]
pub(crate) struct SeedArgs {
    /// How many orders to write.
    #[arg(long, value_name = "N")]
    orders: u64,
    /// The seed: the same seed and count give the same orders.
    #[arg(long, default_value_t = 1, value_name = "S")]
    seed: u64,
    /// Anchor of the dataset's 30 days, in Unix seconds [default: the current hour].
    #[arg(long, value_name = "UNIX_SECONDS")]
    anchor: Option<i64>,
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
    let database = match settings.database.clone() {
        Some(url) => url,
        None => settings::sqlite_url(&settings.data_dir()?, "patrol.db"),
    };
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.listen));
    let store: Arc<dyn Store> =
        patrol_server::open_store(&database).with_context(|| format!("cannot open {database}"))?;
    let clock = Clock::system();
    let (corp, _) = demo::ensure_corp(store.as_ref(), &clock).await?;
    let anchor = args.anchor.unwrap_or_else(|| demo::anchor(clock.now()));
    let generator = Arc::new(Generator::new(args.seed, args.orders, anchor, &public_url));

    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(args.orders)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} orders ({per_sec}, {eta} left)",
        )
        .expect("the template is valid"),
    );
    let started = Instant::now();
    // Generation of the next batch overlaps the writing of the current one.
    let (sender, mut receiver) = tokio::sync::mpsc::channel(2);
    let producer = {
        let generator = generator.clone();
        let total = args.orders;
        tokio::task::spawn_blocking(move || {
            let mut start = 0;
            while start < total {
                let end = (start + BATCH).min(total);
                let batch: Vec<_> = (start..end).map(|i| generator.order(i)).collect();
                if sender.blocking_send(batch).is_err() {
                    break;
                }
                start = end;
            }
        })
    };
    while let Some(batch) = receiver.recv().await {
        let count = batch.len() as u64;
        store
            .insert_orders(corp.key, batch)
            .await
            .with_context(|| {
                format!(
                    "cannot write the orders of seed {} (were they written before?)",
                    args.seed
                )
            })?;
        bar.inc(count);
    }
    producer.await.context("the generator failed")?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "seeded {} orders (seed {}, anchor {anchor}) into corp {} in {seconds:.1} s ({:.0} orders/s); database {database}",
        args.orders,
        args.seed,
        corp.corpid,
        args.orders as f64 / seconds.max(f64::EPSILON),
    );
    Ok(())
}
