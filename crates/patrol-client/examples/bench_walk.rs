//! Walks every order of a corp as fast as the client can, for the benchmark harness
//! (`bench/run.sh`): prints the count, the time and the rate, and can save the cursor found at a
//! given depth.
//!
//! ```sh
//! cargo run --release -p patrol-client --example bench_walk -- BASE_URL CORPID SECRET [DEPTH CURSOR_FILE]
//! ```

#![allow(clippy::print_stdout)]

use std::time::Instant;

use futures_util::StreamExt;

/// As in the patrol binary: allocation-heavy decoding is faster with mimalloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use patrol_client::{Client, OrderQuery};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 3 && args.len() != 5 {
        eprintln!("usage: bench_walk BASE_URL CORPID SECRET [DEPTH CURSOR_FILE]");
        std::process::exit(2);
    }
    let client = Client::builder()
        .base_url(&args[0])
        .corpid(&args[1])
        .secret(&args[2])
        .build()?;
    let depth: Option<u64> = args.get(3).map(|d| d.parse()).transpose()?;
    let started = Instant::now();
    let mut pages = Box::pin(client.pages(OrderQuery {
        limit: Some(50),
        ..OrderQuery::default()
    }));
    let mut count: u64 = 0;
    while let Some(page) = pages.next().await {
        let page = page?;
        count += page.orders.len() as u64;
        if Some(count) == depth {
            std::fs::write(&args[4], &page.next_cursor)?;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "walked {count} orders in {seconds:.2} s: {:.0} orders/s",
        count as f64 / seconds
    );
    Ok(())
}
