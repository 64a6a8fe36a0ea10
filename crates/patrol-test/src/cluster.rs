//! [`PgCluster`]: a throwaway PostgreSQL cluster of a test's own, from Debian's packages (the
//! newest `/usr/lib/postgresql/*/bin`): a fresh data directory, a free port on 127.0.0.1, trust
//! authentication on 127.0.0.1 only, stopped (`-m immediate`) and removed when dropped.
//!
//! For the tests that need clusters of their own (several servers, replicas, failover, moving a
//! database), beside [`TestDatabase`](crate::TestDatabase), whose PostgreSQL databases live on the
//! server `PATROL_TEST_DATABASE_URL` names. Without the binaries it panics, naming what to
//! install: a test that needs PostgreSQL fails, it never skips. When the tests run as root the
//! cluster runs as `postgres` (PostgreSQL refuses root), through `runuser`.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// A running PostgreSQL cluster, stopped and removed when dropped.
#[derive(Debug)]
pub struct PgCluster {
    dir: TempDir,
    port: u16,
    bin: PathBuf,
}

/// The directory of the newest PostgreSQL server binaries installed from Debian's packages.
///
/// # Panics
/// When there is none, naming the package to install.
pub fn pg_bin() -> PathBuf {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    dirs.sort();
    match dirs.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: this test needs them \
             (apt-get install postgresql; .ci/run installs it)"
        ),
    }
}

/// Whether this process runs as root (then clusters run as `postgres`).
fn is_root() -> bool {
    static ROOT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ROOT.get_or_init(|| {
        Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
    })
}

/// `program` with `args`, run as the owner of the clusters: `postgres` when we are root.
pub fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Runs `command`, panicking with its output (and `log`, when given) when it fails.
pub fn run(command: &mut Command, log: Option<&Path>) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    if !output.status.success() {
        let log = log
            .and_then(|path| std::fs::read_to_string(path).ok())
            .unwrap_or_default();
        panic!(
            "{command:?} failed ({}):\n{}{}\n{log}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// A free TCP port on 127.0.0.1 (free when asked; a cluster binds it right after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// A temporary directory the cluster's owner may write in.
pub fn owned_tempdir() -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix("patrol-pg-")
        .tempdir()
        .expect("a temporary directory");
    if is_root() {
        run(Command::new("chown").arg("postgres").arg(dir.path()), None);
    }
    dir
}

impl PgCluster {
    /// Makes and starts a fresh cluster. fsync is off (the cluster is thrown away); `settings`
    /// are more `-c name=value` server settings.
    ///
    /// # Panics
    /// When PostgreSQL is not installed or the cluster does not start, with its log.
    pub fn start(settings: &[&str]) -> PgCluster {
        let bin = pg_bin();
        let dir = owned_tempdir();
        let data = dir.path().join("data");
        run(
            as_owner(&bin.join("initdb")).arg("-D").arg(&data).args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ]),
            None,
        );
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\n\
             host  all all 127.0.0.1/32 trust\n\
             local replication all trust\n\
             host  replication all 127.0.0.1/32 trust\n",
        )
        .expect("pg_hba.conf");
        let cluster = PgCluster::at(dir, free_port(), bin);
        let mut conf = String::from(
            "listen_addresses = '127.0.0.1'\nmax_connections = 200\nfsync = off\n\
             full_page_writes = off\n",
        );
        for setting in settings {
            conf.push_str(setting);
            conf.push('\n');
        }
        std::fs::write(data.join("postgresql.auto.conf"), conf).expect("postgresql.auto.conf");
        cluster.start_again();
        cluster
    }

    /// A streaming standby of `primary`, started: a base backup (`pg_basebackup -R`, so it
    /// follows the primary) in a directory of its own, on a free port, answering reads (hot
    /// standby). Its settings are the primary's.
    ///
    /// # Panics
    /// When the backup or the start fails, with the output and log.
    pub fn standby_of(primary: &PgCluster) -> PgCluster {
        let dir = owned_tempdir();
        let data = dir.path().join("data");
        run(
            as_owner(&primary.program("pg_basebackup"))
                .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
                .arg(primary.port.to_string())
                .arg("-D")
                .arg(&data)
                .args(["-R", "-X", "stream", "--no-sync", "-c", "fast"]),
            None,
        );
        let standby = PgCluster::at(dir, free_port(), primary.bin.clone());
        standby.start_again();
        standby
    }

    /// Waits until this standby has replayed everything `primary` wrote so far.
    ///
    /// # Panics
    /// After a minute, with both logs.
    pub async fn wait_for_replay(&self, primary: &PgCluster) {
        let written: String =
            query(&primary.url(), "SELECT pg_current_wal_lsn()::text").await[0].get(0);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let caught_up: bool = query(
                &self.url(),
                &format!("SELECT coalesce(pg_last_wal_replay_lsn() >= '{written}'::pg_lsn, false)"),
            )
            .await[0]
                .get(0);
            if caught_up {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the standby did not replay up to {written} in a minute\nprimary log:\n{}\nstandby log:\n{}",
                primary.log(),
                self.log()
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// A cluster over `dir/data` (already made) on `port`, not started.
    pub fn at(dir: TempDir, port: u16, bin: PathBuf) -> PgCluster {
        PgCluster { dir, port, bin }
    }

    /// Starts the cluster (again), waiting until it accepts connections.
    pub fn start_again(&self) {
        let log = self.dir.path().join("log");
        run(
            as_owner(&self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.data_dir())
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o"])
                .arg(format!("-p {} -k {}", self.port, self.dir.path().display()))
                .arg("start"),
            Some(&log),
        );
    }

    /// Stops the cluster at once, as a crash would (`pg_ctl -m immediate`).
    pub fn kill(&self) {
        let _ = as_owner(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }

    /// The URL of database `name` on this cluster, as user `postgres`.
    pub fn url_of(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// The URL of the `postgres` database.
    pub fn url(&self) -> String {
        self.url_of("postgres")
    }

    /// The port the cluster listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The directory of the cluster (its data, log and socket).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A program of the PostgreSQL installation (`psql`, `pg_basebackup`, …).
    pub fn program(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

/// Runs one statement on the database `url` names, over a connection of its own, and returns
/// its rows.
///
/// # Panics
/// When it cannot connect or the statement fails.
pub async fn query(url: &str, statement: &str) -> Vec<tokio_postgres::Row> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    tokio::spawn(connection);
    client
        .query(statement, &[])
        .await
        .unwrap_or_else(|e| panic!("{statement} on {url}: {e:?}"))
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::PgCluster;

    #[tokio::test]
    async fn a_cluster_starts_answers_and_restarts() {
        let cluster = PgCluster::start(&[]);
        let select = |url: String| async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("a connection");
            tokio::spawn(connection);
            let one: i32 = client
                .query_one("SELECT 1", &[])
                .await
                .expect("SELECT 1")
                .get(0);
            one
        };
        assert_eq!(select(cluster.url()).await, 1);
        cluster.kill();
        assert!(
            tokio_postgres::connect(&cluster.url(), tokio_postgres::NoTls)
                .await
                .is_err()
        );
        cluster.start_again();
        assert_eq!(select(cluster.url()).await, 1);
    }
}
