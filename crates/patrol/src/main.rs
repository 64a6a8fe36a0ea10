//! `patrol`: the command line. `serve` runs the server, `seed` writes a generated dataset,
//! `admin` manages a running server, `orders` reads orders from WeCom or a patrol server.

mod admin;
mod orders;
mod seed;
mod serve;
mod settings;
mod table;

use std::process::ExitCode;

/// mimalloc: allocation-heavy paths (a page of 50 orders decoded or rendered) spend a quarter of
/// their time in glibc's malloc and free; see bench/README.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// A WeCom-compatible patrol-report (巡查上报) server and its tools.
#[derive(Debug, Parser)]
#[command(name = "patrol", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve WeCom's gettoken and report/patrol API.
    Serve(serve::ServeArgs),
    /// Write a reproducible dataset of generated orders into the demo corp.
    Seed(seed::SeedArgs),
    /// Manage a running server: corps, apps, users, grids, categories and orders.
    Admin(admin::AdminArgs),
    /// Read orders through WeCom's patrol API, from WeCom or a patrol server: list, show, export.
    Orders(orders::OrdersArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Seed(args) => seed::run(args).await,
            Command::Admin(args) => admin::run(args).await,
            Command::Orders(args) => orders::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
