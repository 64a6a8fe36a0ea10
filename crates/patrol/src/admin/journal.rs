//! `patrol admin journal`: the server's request journal, read, exported as JSONL, followed live,
//! or cleared.

use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Deserialize;

use super::client::Client;
use super::output;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct JournalArgs {
    #[command(subcommand)]
    command: Option<JournalCommand>,
    /// Only entries after this id (the oldest first); without it, the newest.
    #[arg(long, value_name = "ID")]
    since: Option<u64>,
    /// Only calls at or after this time on the server's clock (Unix seconds).
    #[arg(long, value_name = "UNIX")]
    since_time: Option<i64>,
    /// Only paths matching this pattern (`*` any characters, `?` one), e.g. '/cgi-bin/*'.
    #[arg(long, value_name = "GLOB")]
    path: Option<String>,
    /// Only calls of this corp.
    #[arg(long, value_name = "CORPID")]
    corp: Option<String>,
    /// Only calls of this app.
    #[arg(long, value_name = "AGENTID")]
    agentid: Option<i64>,
    /// Only WeCom answers with this errcode (0: successes).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    errcode: Option<i64>,
    /// Only answers with this HTTP status.
    #[arg(long, value_name = "N")]
    status: Option<u16>,
    /// Only the call of this WeCom request id (the one in an errmsg's hint).
    #[arg(long, value_name = "ID")]
    request_id: Option<String>,
    /// Only calls to this API: wecom, admin or other.
    #[arg(long, value_name = "API")]
    api: Option<String>,
    /// At most this many entries (1–1000) [default: 100; with --jsonl, all].
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Print the entries as JSON lines, one an entry.
    #[arg(long)]
    jsonl: bool,
    /// Keep printing entries as calls come, until the server stops (or Ctrl-C).
    #[arg(long, conflicts_with = "limit")]
    follow: bool,
}

#[derive(Debug, Subcommand)]
enum JournalCommand {
    /// Forget every entry.
    Clear,
}

/// The fields of an entry a row shows.
#[derive(Debug, Deserialize)]
struct Row {
    id: u64,
    time: i64,
    method: String,
    path: String,
    corp: Option<String>,
    agentid: Option<i64>,
    status: Option<u16>,
    errcode: Option<i64>,
    latency_us: u64,
    request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Page {
    entries: Vec<Row>,
    missed: u64,
    held: usize,
    bytes: usize,
    dropped: u64,
    limit_entries: usize,
    limit_bytes: usize,
}

const HEADERS: [&str; 9] = [
    "ID", "TIME", "METHOD", "PATH", "CORP", "AGENTID", "STATUS", "ERRCODE", "LATENCY",
];

fn optional<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

impl Row {
    fn cells(self) -> Vec<String> {
        let errcode = match (self.errcode, self.request_id) {
            (Some(code), Some(id)) => format!("{code} [{id}]"),
            (code, _) => optional(code),
        };
        vec![
            self.id.to_string(),
            output::time(self.time),
            self.method,
            self.path,
            optional(self.corp),
            optional(self.agentid),
            optional(self.status),
            errcode,
            format!("{:.1} ms", self.latency_us as f64 / 1000.0),
        ]
    }
}

impl JournalArgs {
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        let mut add = |name: &'static str, value: Option<String>| {
            if let Some(value) = value {
                query.push((name, value));
            }
        };
        add("since", self.since.map(|v| v.to_string()));
        add("since_time", self.since_time.map(|v| v.to_string()));
        add("path", self.path.clone());
        add("corp", self.corp.clone());
        add("agentid", self.agentid.map(|v| v.to_string()));
        add("errcode", self.errcode.map(|v| v.to_string()));
        add("status", self.status.map(|v| v.to_string()));
        add("request_id", self.request_id.clone());
        add("api", self.api.clone());
        query
    }
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(client: &Client, args: JournalArgs) -> anyhow::Result<()> {
    if let Some(JournalCommand::Clear) = args.command {
        client.delete(&["journal"]).await?;
        println!("the journal is cleared");
        return Ok(());
    }
    if args.follow {
        return follow(client, &args).await;
    }
    let mut query = args.query();
    if let Some(limit) = args.limit {
        query.push(("limit", limit.to_string()));
    }
    if args.jsonl {
        query.push(("format", "jsonl".to_owned()));
        print!("{}", client.get_text(&["journal"], &query).await?);
        return Ok(());
    }
    let text = client.get_text(&["journal"], &query).await?;
    if client.prints_json() {
        println!("{text}");
        return Ok(());
    }
    let page: Page = serde_json::from_str(&text)
        .context("cannot read the journal: is the server a patrol of this version?")?;
    if page.missed > 0 {
        println!(
            "({} entries after {} are no longer held)",
            page.missed,
            args.since.unwrap_or(0)
        );
    }
    let rows: Vec<Vec<String>> = page.entries.into_iter().map(Row::cells).collect();
    output::print_table(&HEADERS, &rows, "no entries");
    println!(
        "{} of {} entries held, {} of {} bytes; {} dropped",
        page.held, page.limit_entries, page.bytes, page.limit_bytes, page.dropped
    );
    Ok(())
}

/// Prints entries as the server files them, from its server-sent events.
#[allow(clippy::print_stdout, clippy::print_stderr)]
async fn follow(client: &Client, args: &JournalArgs) -> anyhow::Result<()> {
    let mut response = client
        .open_stream(&["journal", "stream"], &args.query())
        .await?;
    let raw = args.jsonl || client.prints_json();
    let mut events = EventReader::default();
    while let Some(chunk) = response
        .chunk()
        .await
        .context("the journal's stream broke off")?
    {
        for (event, data) in events.push(&chunk)? {
            match event.as_str() {
                "entry" if raw => println!("{data}"),
                "entry" => {
                    let row: Row = serde_json::from_str(&data)
                        .context("cannot read an entry of the journal's stream")?;
                    println!("{}", row.cells().join("  "));
                }
                "missed" => eprintln!("({data}: entries evicted before they were read)"),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Server-sent events out of the bytes of a stream: `(event, data)` of each complete one.
#[derive(Debug, Default)]
struct EventReader {
    buffer: Vec<u8>,
}

/// The longest event read: an entry is far smaller.
const MAX_EVENT: usize = 4 * 1024 * 1024;

impl EventReader {
    fn push(&mut self, bytes: &[u8]) -> anyhow::Result<Vec<(String, String)>> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
            let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&block);
            let mut event = "message".to_owned();
            let mut data: Vec<&str> = Vec::new();
            for line in text.lines() {
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "event" => event = value.to_owned(),
                    "data" => data.push(value),
                    _ => {}
                }
            }
            if !data.is_empty() {
                events.push((event, data.join("\n")));
            }
        }
        anyhow::ensure!(
            self.buffer.len() <= MAX_EVENT,
            "the journal's stream sent an event over {MAX_EVENT} bytes"
        );
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_read_across_chunks() {
        let mut reader = EventReader::default();
        assert!(
            reader
                .push(b": keep-alive\n\nevent: en")
                .unwrap()
                .is_empty()
        );
        let events = reader
            .push(b"try\nid: 7\ndata: {\"id\":7}\n\nevent: missed\ndata: {\"missed\":3}\n\n")
            .unwrap();
        assert_eq!(
            events,
            vec![
                ("entry".to_owned(), "{\"id\":7}".to_owned()),
                ("missed".to_owned(), "{\"missed\":3}".to_owned())
            ]
        );
    }
}
