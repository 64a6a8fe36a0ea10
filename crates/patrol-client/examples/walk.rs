//! Walks every order of a corp and prints one line each.
//!
//! ```sh
//! patrol serve --demo &
//! cargo run -p patrol-client --example walk -- http://127.0.0.1:8080 wwpatroldemo000001 patrol-demo-secret-0123456789abcdefghijklmno
//! ```

#![allow(clippy::print_stdout)]

use futures_util::StreamExt;
use patrol_client::{Client, OrderQuery};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(base_url), Some(corpid), Some(secret)) = (args.next(), args.next(), args.next())
    else {
        eprintln!("usage: walk BASE_URL CORPID SECRET");
        std::process::exit(2);
    };
    let client = Client::builder()
        .base_url(base_url)
        .corpid(corpid)
        .secret(secret)
        .build()?;
    let mut orders = Box::pin(client.orders(OrderQuery::default()));
    let mut count = 0;
    while let Some(order) = orders.next().await {
        let order = order?;
        count += 1;
        println!(
            "{}\t{}\t{}\t{}",
            order.order_id, order.create_time, order.grid_name, order.desc
        );
    }
    eprintln!("{count} orders");
    Ok(())
}
