//! Docs that run: every `sh` block of README.md and docs/admin-api.md, read from the repository
//! as it stands, runs in order in one shell session per document against a fresh
//! `patrol serve --demo`, and each answer is checked against what the document shows.
//!
//! The conventions (README, "Writing examples"; docs/decisions.md, "Docs that run"):
//! - `sh` (or `bash`, `shell`) blocks run; `console`, `text` and the others are shown only.
//! - A block runs unless the line before its fence is `<!-- docs-run: skip (REASON) -->`; a skip
//!   without a reason is an error.
//! - Blocks run with `bash`, one process per block with `set -e`; the variables and functions a
//!   block leaves and its working directory carry to the next block of the document.
//! - `http://127.0.0.1:8080`, the documented address, is replaced by the test server's; `patrol`
//!   is the binary under test; `PATROL_ADMIN_KEY` holds the server's admin key and
//!   `PATROL_SERVER` its URL, as a reader's shell would after set-up.
//! - Every `curl` must end well (exit 0, an HTTP status 2xx or the one the document states); a
//!   `/cgi-bin/` answer must carry errcode 0 or the one the document states.
//! - What a document shows as an answer is compared with the answer: a `json` block right after
//!   the `sh` block (one line per printed `curl` answer in order, or the whole block as one
//!   answer), or a comment `# {…}` after the command (`# HTTP 409 {…}` states a status too).
//!   `...` and `…` stand for anything; tokens, cursors, ids patrol draws at random (16 hex
//!   digits), times and the counts of "today" are not compared.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{PATROL, Served};

/// The admin key the test server runs with, given to the shell as `PATROL_ADMIN_KEY`.
const ADMIN_KEY: &str = "docs-run-admin-key-0123456789";

/// The address the documents name, replaced by the test server's.
const DOCUMENTED_URL: &str = "http://127.0.0.1:8080";

/// The time a block may take, `curl`'s own limit (20 s a call) within it.
const BLOCK_TIMEOUT_SECONDS: u32 = 60;

/// The keys whose values differ from run to run: never compared.
const VOLATILE: &[&str] = &[
    "access_token",
    "next_cursor",
    "cursor",
    "media_id",
    "secret",
    "expires_in",
    "created_at",
    "create_time",
    "solved_time",
    "last_step_time",
    "time",
    "wall_time",
    "now",
    "offset",
    "until",
    "id",
    "last_id",
    "request_id",
    "latency_us",
    "git_commit",
    "added_today",
    "solved_today",
];

#[test]
fn readme_examples_run() {
    run_document("README.md");
}

#[test]
fn admin_api_examples_run() {
    run_document("docs/admin-api.md");
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fenced block of a document.
#[derive(Debug)]
struct Block {
    /// Its language (the word after the fence).
    lang: String,
    /// The 1-based line of its opening fence.
    line: usize,
    text: String,
    /// The reason of a `<!-- docs-run: skip (REASON) -->` before it (`""` without a reason), or
    /// what is wrong with another `<!-- docs-run: … -->`.
    skip: Option<Result<String, String>>,
    /// The `json` block that follows it with nothing but blank lines between.
    answer: Option<String>,
}

/// The fenced blocks of a markdown text, in order.
fn blocks(markdown: &str) -> Vec<Block> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut blocks: Vec<Block> = Vec::new();
    // The index in `blocks` of the last block and the line its fence closed on.
    let mut last_end: Option<usize> = None;
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        let Some(lang) = trimmed.strip_prefix("```") else {
            i += 1;
            continue;
        };
        let indent = lines[i].len() - trimmed.len();
        let start = i;
        let mut text = String::new();
        i += 1;
        while i < lines.len() && !lines[i].trim_start().starts_with("```") {
            let line = lines[i];
            let cut = line.len() - line.trim_start().len();
            text.push_str(&line[cut.min(indent)..]);
            text.push('\n');
            i += 1;
        }
        let mut previous = start;
        while previous > 0 && lines[previous - 1].trim().is_empty() {
            previous -= 1;
        }
        let skip = previous
            .checked_sub(1)
            .and_then(|p| lines[p].trim().strip_prefix("<!-- docs-run:"))
            .map(|rest| {
                let rest = rest.trim_end_matches("-->").trim();
                let reason = rest.strip_prefix("skip").map(str::trim);
                match reason {
                    Some("") => Ok(String::new()),
                    Some(reason) if reason.starts_with('(') && reason.ends_with(')') => {
                        Ok(reason[1..reason.len() - 1].trim().to_owned())
                    }
                    _ => Err(format!(
                        "an unknown annotation `docs-run: {rest}` (only `skip (REASON)` is)"
                    )),
                }
            });
        let lang = lang.trim().to_owned();
        let follows =
            last_end.is_some_and(|end| lines[end + 1..start].iter().all(|l| l.trim().is_empty()));
        if lang == "json" && follows && blocks.last().is_some_and(|b| runs(&b.lang)) {
            blocks.last_mut().unwrap().answer = Some(text.clone());
        }
        blocks.push(Block {
            lang,
            line: start + 1,
            text,
            skip,
            answer: None,
        });
        last_end = Some(i.min(lines.len() - 1));
        i += 1;
    }
    blocks
}

/// Whether a block of this language runs: shell blocks (`sh`, `bash`, `shell`); `console`,
/// `text` and the others are shown, not run.
fn runs(lang: &str) -> bool {
    matches!(lang, "sh" | "bash" | "shell")
}

/// What the shell wrapper of `curl` recorded of one call.
#[derive(Debug)]
struct Call {
    /// curl's exit status.
    exit: i32,
    /// The line of the block bash reports for the command: its first, or the last of an
    /// assignment from `$(…)`.
    line: usize,
    /// Whether its answer was printed (not captured by `$(…)` or a pipe, not written to a file).
    printed: bool,
    /// The first URL among its arguments.
    url: String,
    args: String,
    /// The last HTTP status of its head, 0 when none came.
    status: u16,
    /// The answer, when curl wrote it to its standard output.
    body: Option<String>,
}

/// The bash functions every block runs with: `curl` recording each call, and the saving of the
/// session's state for the next block.
const PRELUDE: &str = r#"
curl() {
  local __n __h __b __rc=0 __out=1 __a __url=
  echo . >> "$__DOCS_RUN/seq"; __n=$(wc -l < "$__DOCS_RUN/seq"); __n=${__n// /}
  __h="$__DOCS_RUN/call-$__n.trace"; __b="$__DOCS_RUN/call-$__n.body"
  for __a in "$@"; do
    case $__a in -o|--output|-o?*) __out=0;; http://*|https://*) [ -n "$__url" ] || __url=$__a;; esac
  done
  command curl --max-time 20 --trace-ascii "$__h" "$@" > "$__b" || __rc=$?
  printf '%s\n%s\n%s\n%s\n%s\n%s\n' "$__rc" "${BASH_LINENO[0]}" "$__out" "$((BASH_SUBSHELL == 0 && __out))" "$__url" "$*" > "$__DOCS_RUN/call-$__n.meta"
  cat "$__b"
  return $__rc
}
__docs_run_save() {
  local __rc=$? __v
  {
    for __v in $(compgen -v); do
      case " $__DOCS_RUN_BASE " in *" $__v "*) continue;; esac
      case $__v in __*) continue;; esac
      declare -p "$__v" 2>/dev/null || true
    done
    declare -f
  } > "$__DOCS_RUN/state.sh"
  pwd > "$__DOCS_RUN/cwd"
  exit $__rc
}
"#;

/// The shell session of one document: its directory, and what its blocks leave to the next.
struct Session {
    /// Where the blocks run (their files land here), and the session's own files in `.docs-run`.
    dir: tempfile::TempDir,
    server: String,
    path: String,
    calls_seen: usize,
}

/// How one block ran.
struct Ran {
    exit: Option<i32>,
    stdout: String,
    stderr: String,
    calls: Vec<Call>,
}

impl Session {
    fn new(server: &str) -> Session {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join(".docs-run");
        std::fs::create_dir(&own).unwrap();
        std::fs::write(own.join("cwd"), format!("{}\n", dir.path().display())).unwrap();
        std::fs::write(own.join("state.sh"), "").unwrap();
        let patrol_dir = Path::new(PATROL).parent().unwrap();
        let path = format!(
            "{}:{}",
            patrol_dir.display(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into())
        );
        Session {
            dir,
            server: server.to_owned(),
            path,
            calls_seen: 0,
        }
    }

    fn own(&self) -> PathBuf {
        self.dir.path().join(".docs-run")
    }

    /// Runs `text` as the next block of the session.
    fn run(&mut self, index: usize, text: &str) -> Ran {
        let own = self.own();
        let block = own.join(format!("block-{index}.sh"));
        std::fs::write(&block, text).unwrap();
        let runner = own.join(format!("run-{index}.sh"));
        let script = format!(
            "__DOCS_RUN_BASE=\"$(compgen -v | tr '\\n' ' ') __DOCS_RUN_BASE\"\n\
             . \"$__DOCS_RUN/state.sh\"\n\
             cd \"$(cat \"$__DOCS_RUN/cwd\")\"\n\
             {PRELUDE}\n\
             trap __docs_run_save EXIT\n\
             set -e\n\
             . \"{}\"\n",
            block.display()
        );
        std::fs::write(&runner, script).unwrap();
        let stdout = own.join(format!("out-{index}"));
        let stderr = own.join(format!("err-{index}"));
        let status = Command::new("timeout")
            .args(["-k", "5", &BLOCK_TIMEOUT_SECONDS.to_string(), "bash"])
            .arg(&runner)
            .env_clear()
            .env("PATH", &self.path)
            .env("HOME", self.dir.path())
            .env("LANG", "C.UTF-8")
            .env("TERM", "dumb")
            .env("RUST_LOG", "warn")
            .env("PATROL_ADMIN_KEY", ADMIN_KEY)
            .env("PATROL_SERVER", &self.server)
            .env("__DOCS_RUN", &own)
            .current_dir(self.dir.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .status()
            .expect("bash and timeout run");
        let read =
            |path: &Path| String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        let mut calls = Vec::new();
        loop {
            let n = self.calls_seen + 1;
            let meta = own.join(format!("call-{n}.meta"));
            let Ok(meta) = std::fs::read_to_string(&meta) else {
                break;
            };
            self.calls_seen = n;
            let mut fields = meta.splitn(6, '\n');
            let exit = fields.next().unwrap().trim().parse().unwrap();
            let line = fields.next().unwrap().trim().parse().unwrap();
            let to_stdout = fields.next().unwrap().trim() == "1";
            let printed = fields.next().unwrap().trim() == "1";
            let url = fields.next().unwrap().to_owned();
            let args = fields.next().unwrap_or("").trim_end().to_owned();
            // The status lines in curl's trace (`0000: HTTP/1.1 200 OK`): the last is the
            // answer's (a 100 Continue may come before it).
            let trace = std::fs::read(own.join(format!("call-{n}.trace"))).unwrap_or_default();
            let status = String::from_utf8_lossy(&trace)
                .lines()
                .filter_map(|l| l.strip_prefix("0000: HTTP/"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
                .next_back()
                .unwrap_or(0);
            let body = to_stdout.then(|| read(&own.join(format!("call-{n}.body"))));
            calls.push(Call {
                exit,
                line,
                printed,
                url,
                args,
                status,
                body,
            });
        }
        Ran {
            exit: status.code(),
            stdout: read(&stdout),
            stderr: read(&stderr),
            calls,
        }
    }
}

/// Runs every `sh` block of the document at `relative` (from the repository's root) against a
/// fresh demo server, and panics naming the first block that fails.
fn run_document(relative: &str) {
    let markdown = std::fs::read_to_string(root().join(relative)).unwrap();
    let ran = run_markdown(relative, &markdown).unwrap_or_else(|problem| panic!("{problem}"));
    // The count, on stderr as the other tests' reports (shown with `--nocapture`).
    eprintln!(
        "{relative}: {} blocks ran ({} curl calls), {} skipped:",
        ran.blocks,
        ran.calls,
        ran.skipped.len()
    );
    for skip in &ran.skipped {
        eprintln!("  {skip}");
    }
    assert!(
        ran.blocks > 0 && ran.calls > 0,
        "{relative}: no example ran"
    );
}

/// What a document's run did.
#[derive(Debug)]
struct DocumentRun {
    blocks: usize,
    calls: usize,
    /// `FILE:LINE (REASON)` of each block skipped.
    skipped: Vec<String>,
}

/// Runs the shell blocks of `markdown` (named `name`) in order against a fresh demo server: what
/// ran, or what failed first, naming the block's line, the problem and the block's output.
fn run_markdown(name: &str, markdown: &str) -> Result<DocumentRun, String> {
    let blocks = blocks(markdown);
    let served = Served::start(
        &[
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "{dir}/data",
        ],
        &[("PATROL_ADMIN_KEY", ADMIN_KEY)],
    );
    let mut session = Session::new(&served.url);
    let mut run = DocumentRun {
        blocks: 0,
        calls: 0,
        skipped: Vec::new(),
    };
    for (index, block) in blocks.iter().enumerate() {
        if !runs(&block.lang) {
            continue;
        }
        let place = format!("{name}:{}", block.line);
        match block.skip.as_ref().map(|s| s.as_deref()) {
            Some(Err(problem)) => return Err(format!("{place}: {problem}")),
            Some(Ok("")) => {
                return Err(format!(
                    "{place}: `<!-- docs-run: skip -->` without a reason: give one in parentheses"
                ));
            }
            Some(Ok(reason)) => {
                run.skipped.push(format!("{place} ({reason})"));
                continue;
            }
            None => {}
        }
        let text = block.text.replace(DOCUMENTED_URL, &served.url);
        let outcome = session.run(index, &text);
        run.calls += outcome.calls.len();
        if let Err(problem) =
            check(block, &text, &outcome, &served.url).and_then(|()| left_alone(&served.url))
        {
            return Err(format!(
                "{place}: the ```sh block fails: {problem}\n--- the block, as run ---\n{text}--- its output ---\n{}\n--- its errors ---\n{}",
                cut(&outcome.stdout),
                cut(&outcome.stderr)
            ));
        }
        run.blocks += 1;
    }
    Ok(run)
}

/// Checks one block's run: it ended well, and every call answered as the document shows.
fn check(block: &Block, text: &str, ran: &Ran, url: &str) -> Result<(), String> {
    match ran.exit {
        Some(0) => {}
        Some(124 | 137) | None => {
            return Err(format!("it did not end within {BLOCK_TIMEOUT_SECONDS} s"));
        }
        Some(code) => return Err(format!("it exited with {code}")),
    }
    // The answers shown: comments after a command, then a `json` block's.
    let mut expected: Vec<(usize, Expected)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(shown) = comment_expectation(line) {
            let call = ran
                .calls
                .iter()
                .rposition(|c| c.line <= n + 1)
                .ok_or_else(|| {
                    format!("line {} shows an answer, but no curl ran before it", n + 1)
                })?;
            expected.push((call, shown));
        }
    }
    if let Some(answer) = &block.answer {
        let answer = answer.replace(DOCUMENTED_URL, url);
        let shown: Vec<String> = if answer
            .lines()
            .filter(|l| !l.trim().is_empty())
            .all(|l| l.starts_with('{'))
        {
            answer
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned)
                .collect()
        } else {
            vec![answer.lines().map(str::trim).collect::<Vec<_>>().join("")]
        };
        let printed: Vec<usize> = (0..ran.calls.len())
            .filter(|&i| ran.calls[i].printed)
            .collect();
        if shown.len() > printed.len() {
            return Err(format!(
                "the ```json block after it shows {} answers, but only {} curl answers were printed",
                shown.len(),
                printed.len()
            ));
        }
        for (body, call) in shown.into_iter().zip(printed) {
            expected.push((
                call,
                Expected {
                    status: None,
                    body: Some(body),
                },
            ));
        }
    }
    for (i, call) in ran.calls.iter().enumerate() {
        let shown: Vec<&Expected> = expected
            .iter()
            .filter(|(c, _)| *c == i)
            .map(|(_, e)| e)
            .collect();
        let what = format!("`curl {}` (line {})", call.args, call.line);
        if call.exit != 0 {
            return Err(format!("{what} exited with {}", call.exit));
        }
        let status = shown.iter().find_map(|e| e.status);
        match status {
            Some(s) if s != call.status => {
                return Err(format!(
                    "{what} answered HTTP {}, the document says {s}",
                    call.status
                ));
            }
            None if !(200..300).contains(&call.status) => {
                return Err(format!(
                    "{what} answered HTTP {}: {}",
                    call.status,
                    call.body.as_deref().unwrap_or("")
                ));
            }
            _ => {}
        }
        let Some(body) = &call.body else { continue };
        let shown_body = shown.iter().find_map(|e| e.body.as_deref());
        if is_wecom(&call.url) && body.starts_with('{') {
            let want = shown_body.and_then(errcode).unwrap_or(0);
            let got = errcode(body);
            if got != Some(want) {
                return Err(format!(
                    "{what} answered errcode {got:?}, expected {want}: {body}"
                ));
            }
        }
        if let Some(shown) = shown_body
            && !matches(shown, body)
        {
            return Err(format!(
                "{what} answered\n  {}\nbut the document shows\n  {shown}\n(`...` and `…` match anything; {} and 16-hex-digit ids are not compared)",
                cut(body),
                VOLATILE.join(", ")
            ));
        }
    }
    Ok(())
}

/// Checks that a block left no state a later example would trip on: no fault rule, the clock
/// real.
fn left_alone(url: &str) -> Result<(), String> {
    for (path, clean) in [("faults", r#""faults":[]"#), ("clock", r#""mode":"real""#)] {
        let output = Command::new("curl")
            .args(["-s", "--max-time", "20", "-H"])
            .arg(format!("Authorization: Bearer {ADMIN_KEY}"))
            .arg(format!("{url}/admin/v1/{path}"))
            .output()
            .expect("curl runs");
        let answer = String::from_utf8_lossy(&output.stdout);
        if !answer.contains(clean) {
            return Err(format!(
                "it leaves the server's {path} so ({answer}): undo it within the block, or later \
                 examples meet it"
            ));
        }
    }
    Ok(())
}

/// A text cut to its first 3000 bytes for a message.
fn cut(text: &str) -> String {
    if text.len() <= 3000 {
        return text.to_owned();
    }
    let end = (0..=3000)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap();
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

/// Whether a URL's path is under WeCom's `/cgi-bin/`.
fn is_wecom(url: &str) -> bool {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme
        .find('/')
        .is_some_and(|slash| after_scheme[slash..].starts_with("/cgi-bin/"))
}

/// An answer a document shows for a call.
struct Expected {
    status: Option<u16>,
    body: Option<String>,
}

/// The answer a `# HTTP 409 {…}` or `# {…}` comment at the end of a shell line shows.
fn comment_expectation(line: &str) -> Option<Expected> {
    let at = line.find("# ")?;
    // A `#` inside quotes is no comment: count the quotes before it.
    let before = &line[..at];
    if before.matches('\'').count() % 2 == 1 || before.matches('"').count() % 2 == 1 {
        return None;
    }
    let mut rest = line[at + 2..].trim();
    let mut status = None;
    if let Some(after) = rest.strip_prefix("HTTP ") {
        let code: String = after.chars().take_while(char::is_ascii_digit).collect();
        status = Some(code.parse().ok()?);
        rest = after[code.len()..].trim();
    }
    // Only a status and an answer: a comment that goes on in words after `HTTP 503` is prose.
    let body = match rest.chars().next() {
        None => None,
        Some('{') => Some(rest[..=rest.rfind('}')?].to_owned()),
        Some(_) => return None,
    };
    (status.is_some() || body.is_some()).then_some(Expected { status, body })
}

/// The errcode of a `{"errcode":N,…}` text.
fn errcode(text: &str) -> Option<i64> {
    let rest = &text[text.find("\"errcode\":")? + "\"errcode\":".len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok()
}

/// The text with the value of every volatile key replaced by `~`, and the request id and IP of a
/// WeCom error message by `~`.
fn normalized(text: &str) -> String {
    let mut out = text.to_owned();
    for key in VOLATILE {
        let needle = format!("\"{key}\":");
        let mut from = 0;
        while let Some(found) = out[from..].find(&needle) {
            let start = from + found + needle.len();
            let value_start = start + (out[start..].len() - out[start..].trim_start().len());
            let value = &out[value_start..];
            let len = if let Some(inner) = value.strip_prefix('"') {
                // A string: up to its closing quote, or a wildcard inside it.
                match inner.find('"') {
                    Some(end) => end + 2,
                    None => value.len(),
                }
            } else {
                value
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
                    .unwrap_or(value.len())
            };
            out.replace_range(value_start..value_start + len, "~");
            from = value_start + 1;
        }
    }
    // Grid and category ids patrol draws: 16 hex digits.
    let mut from = 0;
    while let Some(found) = out[from..].find('"') {
        let start = from + found + 1;
        let id = out[start..]
            .bytes()
            .take_while(u8::is_ascii_hexdigit)
            .count();
        if id == 16 && out[start + id..].starts_with('"') {
            out.replace_range(start..start + id, "~");
            from = start + 2;
        } else {
            from = start;
        }
    }
    for (open, close) in [("hint: [", "]"), ("from ip: ", ",")] {
        let mut from = 0;
        while let Some(found) = out[from..].find(open) {
            let start = from + found + open.len();
            let Some(end) = out[start..].find(close) else {
                break;
            };
            out.replace_range(start..start + end, "~");
            from = start + 1;
        }
    }
    out
}

/// Whether `actual` is what `shown` shows: the same text once normalized, where `...` or `…` in
/// `shown` stands for any text.
fn matches(shown: &str, actual: &str) -> bool {
    let shown = normalized(shown.trim()).replace('…', "...");
    let actual = normalized(actual.trim());
    let parts: Vec<&str> = shown.split("...").collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return shown == actual;
    }
    if !actual.starts_with(first)
        || actual.len() < first.len() + last.len()
        || !actual.ends_with(last)
    {
        return false;
    }
    let mut at = first.len();
    let end = actual.len() - last.len();
    for part in &parts[1..parts.len() - 1] {
        match actual[at..end].find(part) {
            Some(found) => at += found + part.len(),
            None => return false,
        }
    }
    true
}

/// The harness on documents made for it: what carries from block to block, the forms of `curl`
/// the documents use, the answers shown, and the failures it must report.
#[test]
fn the_harness_runs_and_fails_as_documented() {
    let good = r#"# A document

```sh
TOKEN=$(curl -s 'http://127.0.0.1:8080/cgi-bin/gettoken?corpid=wwpatroldemo000001&corpsecret=patrol-demo-secret-0123456789abcdefghijklmno' \
  | sed -E 's/.*"access_token":"([^"]*)".*/\1/')
A=(-H "Authorization: Bearer $PATROL_ADMIN_KEY"); B=http://127.0.0.1:8080/admin/v1
mkdir -p work && cd work
```

Prose between.

```sh
curl -s "${A[@]}" $B/corps/wwnobody   # HTTP 404 {"error":{"code":"not_found",…}}
curl -s -X POST "http://127.0.0.1:8080/cgi-bin/report/patrol/get_order_list?access_token=wrong" -d '{}'
# {"errcode":40014,"errmsg":"invalid access_token, hint: [1], from ip: 10.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=40014"}
curl -s -D - -o /dev/null "${A[@]}" $B/clock | grep -qi '^content-type: application/json'
until curl -sf "${A[@]}" $B/clock >/dev/null; do false; done
MODE=$(curl -s "${A[@]}" $B/clock | sed -E 's/.*"mode":"([a-z]+)".*/\1/')   # {"now":1,"mode":"real",…}
curl -s -o corps.json "${A[@]}" $B/corps
```

```sh
curl -s -X POST "http://127.0.0.1:8080/cgi-bin/report/patrol/get_corp_status?access_token=$TOKEN" -d '{}'
curl -s "${A[@]}" $B/clock
test -s corps.json && [ "${#A[@]}" = 2 ] && [ "$MODE" = real ]
```

```json
{"errcode":0,"errmsg":"ok","to_be_assigned":22,"processing":98,"added_today":0,"solved_today":0,"total_case":240,"total_solved":88}
{"now":1,"mode":"real","offset":0}
```

<!-- docs-run: skip (starts a server) -->
```sh
patrol serve --demo
```

```console
$ not run
```
"#;
    let run = run_markdown("good.md", good).unwrap();
    assert_eq!((run.blocks, run.calls), (3, 9), "{run:?}");
    assert_eq!(run.skipped, ["good.md:34 (starts a server)"]);

    let failing = [
        // An answer that differs from the one shown.
        (
            "```sh\ncurl -s -X POST http://127.0.0.1:8080/admin/v1/clock -H \"Authorization: Bearer $PATROL_ADMIN_KEY\" -d '{\"advance\": 60}'\n\
             curl -s -X POST http://127.0.0.1:8080/admin/v1/clock -H \"Authorization: Bearer $PATROL_ADMIN_KEY\" -d '{\"release\": true}'   # {\"mode\":\"offset\",…}\n```\n",
            "x.md:1: the ```sh block fails: `curl",
            "but the document shows",
        ),
        // A captured answer unlike the one shown.
        (
            "```sh\nX=$(curl -s -H \"Authorization: Bearer $PATROL_ADMIN_KEY\" http://127.0.0.1:8080/admin/v1/clock)   # {\"mode\":\"frozen\",…}\n```\n",
            "x.md:1:",
            "but the document shows",
        ),
        // An errcode that is not 0, not shown.
        (
            "\n```sh\ncurl -s http://127.0.0.1:8080/cgi-bin/gettoken\n```\n",
            "x.md:2: the ```sh block fails:",
            "answered errcode Some(41004), expected 0",
        ),
        // A status that is not 2xx, not shown.
        (
            "```sh\ncurl -s http://127.0.0.1:8080/admin/v1/corps\n```\n",
            "x.md:1:",
            "answered HTTP 401",
        ),
        // A command that fails.
        (
            "```sh\npatrol admin clock frieze\n```\n",
            "x.md:1:",
            "it exited with 2",
        ),
        // A variable nobody set (`set -u` is not on: the JSON is then wrong, and the server says so).
        (
            "```sh\ncurl -s \"http://127.0.0.1:8080/cgi-bin/report/patrol/get_order_list?access_token=$TOKEN\" -d '{}'\n```\n",
            "x.md:1:",
            "answered errcode Some(41001), expected 0",
        ),
        // A fault rule left behind.
        (
            "```sh\ncurl -s -H \"Authorization: Bearer $PATROL_ADMIN_KEY\" http://127.0.0.1:8080/admin/v1/faults -d '{\"action\": \"reset\"}'\n```\n",
            "x.md:1:",
            "leaves the server's faults so",
        ),
        // A json block that shows more answers than were printed.
        (
            "```sh\nX=$(curl -s http://127.0.0.1:8080/cgi-bin/gettoken)\n```\n\n```json\n{\"errcode\":41004,…}\n```\n",
            "x.md:1:",
            "shows 1 answers, but only 0 curl answers were printed",
        ),
        // A skip without a reason, and an unknown annotation.
        (
            "<!-- docs-run: skip -->\n```sh\ntrue\n```\n",
            "x.md:2:",
            "without a reason",
        ),
        (
            "<!-- docs-run: skip-it -->\n```sh\ntrue\n```\n",
            "x.md:2:",
            "an unknown annotation",
        ),
    ];
    for (markdown, start, inside) in failing {
        let problem = run_markdown("x.md", markdown).expect_err(markdown);
        assert!(
            problem.starts_with(start) && problem.contains(inside),
            "{markdown}\ngave\n{problem}"
        );
    }
}

#[test]
fn the_matcher_reads_wildcards_and_volatile_fields() {
    let answer = r#"{"errcode":0,"errmsg":"ok","access_token":"abc","expires_in":7190}"#;
    assert!(matches(
        r#"{"errcode":0,"errmsg":"ok","access_token":"cJz1…","expires_in":7200}"#,
        answer
    ));
    assert!(matches(r#"{"errcode":0,...}"#, answer));
    assert!(!matches(r#"{"errcode":40014,...}"#, answer));
    assert!(!matches(r#"{"errcode":0,"errmsg":"ok"}"#, answer));
    let list = r#"{"grids":[{"grid_id":"g1","name":"一"},{"grid_id":"g2","name":"二"}]}"#;
    assert!(matches(r#"{"grids":[{"grid_id":"g1",…},…]}"#, list));
    assert!(!matches(r#"{"grids":[{"grid_id":"g3",…},…]}"#, list));
    let error = r#"{"errcode":45009,"errmsg":"api freq out of limit, hint: [1796102739000], from ip: 127.0.0.1, more"}"#;
    assert!(matches(
        r#"{"errcode":45009,"errmsg":"api freq out of limit, hint: [42], from ip: 10.0.0.1, more"}"#,
        error
    ));
}

#[test]
fn blocks_read_skips_and_answers() {
    let markdown = "text\n\n<!-- docs-run: skip (needs PostgreSQL) -->\n```sh\ncreatedb x\n```\n\n\
                    ```sh\ncurl -s x\n```\n\n```json\n{\"a\":1}\n```\n\n- item\n\n  ```sh\n  patrol orders list\n  ```\n\
                    \n<!-- docs-run: skip -->\n```sh\nx\n```\n\
                    <!-- docs-run: skp (x) -->\n```bash\ny\n```\n";
    let blocks = blocks(markdown);
    let sh: Vec<&Block> = blocks.iter().filter(|b| runs(&b.lang)).collect();
    assert_eq!(sh.len(), 5, "{blocks:?}");
    assert!(sh[4].skip.as_ref().unwrap().is_err());
    assert_eq!(sh[0].skip, Some(Ok("needs PostgreSQL".into())));
    assert_eq!(sh[0].line, 4);
    assert_eq!(sh[1].skip, None);
    assert_eq!(sh[1].answer.as_deref(), Some("{\"a\":1}\n"));
    assert_eq!(sh[2].text, "patrol orders list\n");
    assert_eq!(sh[2].answer, None);
    assert_eq!(sh[3].skip, Some(Ok(String::new())));
    let shown =
        comment_expectation(r#"curl -s "$B/x" -d '{"a": 1}'   # HTTP 409 {"error": …}"#).unwrap();
    assert_eq!(shown.status, Some(409));
    assert_eq!(shown.body.as_deref(), Some(r#"{"error": …}"#));
    assert!(comment_expectation(r#"curl -s "$B/x#frag"   # the first"#).is_none());
    assert!(comment_expectation("# HTTP 503 otherwise, e.g. {\"status\":\"not ready\"}").is_none());
    let status = comment_expectation("curl -s -X DELETE $B/corps/x   # HTTP 204").unwrap();
    assert_eq!((status.status, status.body), (Some(204), None));
}
