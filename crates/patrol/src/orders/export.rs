//! `patrol orders export`: every matching order into a file, as JSON lines, one JSON array or
//! CSV, written under `FILE.partial` and renamed to `FILE` once complete.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use futures_util::StreamExt;
use indicatif::ProgressBar;
use patrol_client::{Family, FamilyClient, Order};

use super::{Filters, MAX_PAGE, describe, output};

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    filters: Filters,
    /// jsonl: one order per line; json: one array of orders; csv: a header and one row per order
    /// (times in Unix seconds, lists joined by ';' or spaces) [default: from FILE's extension].
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<Format>,
    /// The file to write. It appears only once complete: the export goes to FILE.partial first.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Do not show a progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One order per line, as WeCom sends it.
    Jsonl,
    /// One JSON array of the orders as WeCom sends them.
    Json,
    /// A header, then one row per order.
    Csv,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }

    fn from_extension(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// Where the orders go while the export runs.
enum Sink {
    Jsonl(BufWriter<File>),
    Json {
        out: BufWriter<File>,
        count: u64,
    },
    Csv {
        writer: Box<csv::Writer<File>>,
        resident: bool,
    },
}

impl Sink {
    /// A sink of `format` into `file`; a CSV of `resident` orders has their reporter columns.
    fn new(format: Format, file: File, resident: bool) -> anyhow::Result<Sink> {
        Ok(match format {
            Format::Jsonl => Sink::Jsonl(BufWriter::new(file)),
            Format::Json => {
                let mut out = BufWriter::new(file);
                out.write_all(b"[")?;
                Sink::Json { out, count: 0 }
            }
            Format::Csv => {
                let mut writer = csv::Writer::from_writer(file);
                writer.write_record(output::csv_header(resident))?;
                Sink::Csv {
                    writer: Box::new(writer),
                    resident,
                }
            }
        })
    }

    fn write(&mut self, order: &Order) -> anyhow::Result<()> {
        match self {
            Sink::Jsonl(out) => {
                serde_json::to_writer(&mut *out, order)?;
                out.write_all(b"\n")?;
            }
            Sink::Json { out, count } => {
                out.write_all(if *count == 0 { b"\n" } else { b",\n" })?;
                serde_json::to_writer(&mut *out, order)?;
                *count += 1;
            }
            Sink::Csv { writer, resident } => {
                writer.write_record(output::csv_row(order, *resident))?;
            }
        }
        Ok(())
    }

    /// Ends the file and makes sure it is on disk.
    fn finish(self) -> anyhow::Result<()> {
        let file = match self {
            Sink::Jsonl(out) => out.into_inner()?,
            Sink::Json { mut out, count } => {
                out.write_all(if count == 0 { b"]\n" } else { b"\n]\n" })?;
                out.into_inner()?
            }
            Sink::Csv { writer, .. } => writer.into_inner()?,
        };
        file.sync_all()?;
        Ok(())
    }
}

/// `FILE.partial`, next to `FILE`.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = OsString::from(out.as_os_str());
    name.push(".partial");
    PathBuf::from(name)
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(client: &FamilyClient, args: ExportArgs) -> anyhow::Result<()> {
    let out = &args.out;
    let Some(format) = args.format.or_else(|| Format::from_extension(out)) else {
        anyhow::bail!(
            "which format? pass --format jsonl, json or csv (or name the file *.jsonl, *.json \
             or *.csv)"
        );
    };
    anyhow::ensure!(!out.as_os_str().is_empty(), "--out names no file");
    anyhow::ensure!(
        !out.is_dir(),
        "cannot export to {}: it is a directory",
        out.display()
    );
    let partial = partial_path(out);
    let file =
        File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;

    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    bar.set_style(crate::progress::style(
        "{spinner} [{elapsed_precise}] {human_pos} orders ({rate}) to {msg}",
    ));
    bar.set_message(out.display().to_string());
    bar.enable_steady_tick(Duration::from_millis(100));

    let started = Instant::now();
    let export = write_orders(client, &args.filters, format, file, &bar);
    let outcome = tokio::select! {
        outcome = export => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    bar.finish_and_clear();
    let outcome = outcome.and_then(|count| {
        std::fs::rename(&partial, out)
            .with_context(|| format!("cannot rename {} to {}", partial.display(), out.display()))
            .map(|()| count)
    });
    let count = match outcome {
        Ok(count) => count,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error.context(format!(
                "the export failed; {} was not written",
                out.display()
            )));
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "exported {count} orders to {} ({}) in {seconds:.1} s, {:.0} orders/s",
        out.display(),
        format.name(),
        count as f64 / seconds.max(f64::EPSILON),
    );
    Ok(())
}

/// Walks the matching orders page by page into `file`; how many there were.
async fn write_orders(
    client: &FamilyClient,
    filters: &Filters,
    format: Format,
    file: File,
    bar: &ProgressBar,
) -> anyhow::Result<u64> {
    let mut sink = Sink::new(format, file, client.family() == Family::Resident)?;
    let mut pages = Box::pin(client.pages(filters.query(MAX_PAGE)));
    let mut count = 0;
    while let Some(page) = pages.next().await {
        let page = page.map_err(describe).with_context(|| match count {
            0 => "cannot read the orders".to_owned(),
            _ => format!("cannot read the orders after the first {count}"),
        })?;
        for order in &page.orders {
            sink.write(order)?;
        }
        count += page.orders.len() as u64;
        bar.inc(page.orders.len() as u64);
    }
    sink.finish()?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_follows_the_extension() {
        assert_eq!(
            Format::from_extension(Path::new("a/orders.JSONL")),
            Some(Format::Jsonl)
        );
        assert_eq!(
            Format::from_extension(Path::new("o.ndjson")),
            Some(Format::Jsonl)
        );
        assert_eq!(
            Format::from_extension(Path::new("o.json")),
            Some(Format::Json)
        );
        assert_eq!(
            Format::from_extension(Path::new("o.csv")),
            Some(Format::Csv)
        );
        assert_eq!(Format::from_extension(Path::new("o.txt")), None);
        assert_eq!(Format::from_extension(Path::new("orders")), None);
    }

    #[test]
    fn the_partial_file_sits_next_to_the_file() {
        assert_eq!(
            partial_path(Path::new("/tmp/x/orders.csv")),
            Path::new("/tmp/x/orders.csv.partial")
        );
    }
}
