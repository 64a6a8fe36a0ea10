//! [`AutoFailover`]: a pg_auto_failover formation of a test's own, from Debian's packages
//! (`pg-auto-failover-cli`, `postgresql-NN-auto-failover`): a monitor and two PostgreSQL nodes on
//! free ports of 127.0.0.1 (trust authentication, no TLS), each run by its `pg_autoctl run`
//! service, with synchronous replication between the nodes (pg_auto_failover's default with one
//! standby). Stopped (`pg_autoctl stop --immediate`) and removed when dropped.
//!
//! The monitor's timeouts are shortened (health checks every second, a node unhealthy after 3 s,
//! the old primary given 3 s to demote) so that a failover takes seconds rather than a minute;
//! pg_auto_failover's defaults suit real networks, not a test.
//!
//! Without `pg_autoctl` it panics, naming the packages: a test that needs it fails, never skips.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::cluster::{as_owner, free_port, owned_tempdir, pg_bin, query, run};

/// The monitor's settings for a quick failover (milliseconds).
const MONITOR_SETTINGS: &[&str] = &[
    "pgautofailover.health_check_period = 1000",
    "pgautofailover.health_check_timeout = 1000",
    "pgautofailover.health_check_retry_delay = 500",
    "pgautofailover.node_considered_unhealthy_timeout = 3000",
    "pgautofailover.primary_demote_timeout = 3000",
];

/// A running pg_auto_failover formation: a monitor and two nodes.
#[derive(Debug)]
pub struct AutoFailover {
    dir: TempDir,
    /// The database the nodes hold.
    dbname: String,
    monitor_port: u16,
    /// The nodes' ports, in the order they joined (the first starts as the primary).
    node_ports: Vec<u16>,
    /// The `pg_autoctl run` services, with the data directory each runs.
    services: Vec<(PathBuf, Child)>,
}

/// The `pg_autoctl` program.
///
/// # Panics
/// When it is not installed, naming the packages.
fn pg_autoctl() -> PathBuf {
    let path = PathBuf::from("/usr/bin/pg_autoctl");
    assert!(
        path.exists(),
        "no /usr/bin/pg_autoctl: this test needs pg_auto_failover (apt-get install \
         pg-auto-failover-cli postgresql-{}-auto-failover; .ci/run installs them)",
        pg_bin()
            .parent()
            .and_then(Path::file_name)
            .map_or_else(|| "NN".into(), |v| v.to_string_lossy().into_owned())
    );
    path
}

impl AutoFailover {
    /// Starts a monitor and two nodes holding database `dbname`, and waits until the first is
    /// the primary and the second its synchronous standby.
    ///
    /// # Panics
    /// When a step fails or the formation is not ready within two minutes, with the logs.
    pub async fn start(dbname: &str) -> AutoFailover {
        let dir = owned_tempdir();
        let mut formation = AutoFailover {
            dir,
            dbname: dbname.to_owned(),
            monitor_port: free_port(),
            node_ports: Vec::new(),
            services: Vec::new(),
        };
        let pgctl = pg_bin().join("pg_ctl");
        let monitor = formation.dir.path().join("monitor");
        let port = formation.monitor_port.to_string();
        let mut create = formation.autoctl(&["create", "monitor", "--pgdata"]);
        create.arg(&monitor).arg("--pgctl").arg(&pgctl);
        create.args(["--pgport", &port, "--hostname", "127.0.0.1"]);
        create.args(["--auth", "trust", "--no-ssl"]);
        formation.create(&mut create, "monitor");
        formation.spawn_service(&monitor, "monitor");
        formation
            .wait("the monitor to accept connections", || async {
                tokio_postgres::connect(&formation.monitor_url(), tokio_postgres::NoTls)
                    .await
                    .is_ok()
            })
            .await;
        for setting in MONITOR_SETTINGS {
            query(
                &formation.monitor_url(),
                &format!("ALTER SYSTEM SET {setting}"),
            )
            .await;
        }
        query(&formation.monitor_url(), "SELECT pg_reload_conf()").await;
        for name in ["node1", "node2"] {
            let data = formation.dir.path().join(name);
            let port = free_port();
            let mut create = formation.autoctl(&["create", "postgres", "--pgdata"]);
            create.arg(&data).arg("--pgctl").arg(&pgctl);
            create.args(["--pgport", &port.to_string(), "--hostname", "127.0.0.1"]);
            create.args(["--name", name, "--dbname", dbname, "--username", "postgres"]);
            create.args(["--auth", "trust", "--no-ssl", "--monitor"]);
            create.arg(formation.monitor_url_of("pg_auto_failover", "autoctl_node"));
            formation.create(&mut create, name);
            formation.node_ports.push(port);
            formation.spawn_service(&data, name);
            // The first node is the primary before the second joins.
            let want = if name == "node1" {
                "single"
            } else {
                "secondary"
            };
            formation
                .wait(&format!("{name} to be {want}"), || async {
                    formation.state_of(port).await == Some((want.into(), want.into()))
                })
                .await;
        }
        let primary = formation.node_ports[0];
        formation
            .wait("node1 to be the primary", || async {
                formation.state_of(primary).await == Some(("primary".into(), "primary".into()))
            })
            .await;
        formation
    }

    /// `pg_autoctl ARGS…` as the clusters' owner, its configuration and state kept in this
    /// formation's directory (never the owner's home, which other formations share).
    fn autoctl(&self, args: &[&str]) -> Command {
        let mut command = as_owner(&pg_autoctl());
        command.args(args);
        for (variable, dir) in [
            ("XDG_CONFIG_HOME", "config"),
            ("XDG_DATA_HOME", "share"),
            ("XDG_RUNTIME_DIR", "run"),
        ] {
            command.env(variable, self.dir.path().join(dir));
        }
        command
    }

    /// Runs a `pg_autoctl create …`, its output kept in `NAME-create.log`.
    fn create(&self, command: &mut Command, name: &str) {
        let log = self.dir.path().join(format!("{name}-create.log"));
        let file = std::fs::File::create(&log).expect("a log file");
        command
            .stdout(file.try_clone().expect("a log file"))
            .stderr(file);
        let status = command
            .status()
            .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
        assert!(
            status.success(),
            "{command:?} failed ({status}):\n{}",
            self.logs()
        );
    }

    /// Starts `pg_autoctl run` on a data directory, its output in `NAME.log`.
    fn spawn_service(&mut self, data: &Path, name: &str) {
        let log = self.dir.path().join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("a log file");
        let mut command = self.autoctl(&["run", "--pgdata"]);
        command
            .arg(data)
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("a log file"))
            .stderr(file);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
        self.services.push((data.to_owned(), child));
    }

    /// Polls `ready` every 200 ms for up to two minutes.
    ///
    /// # Panics
    /// When it never holds, with the formation's state and logs.
    pub async fn wait<F, Fut>(&self, what: &str, ready: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !ready().await {
            assert!(
                Instant::now() < deadline,
                "waited two minutes for {what}; the formation: {:?}\n{}",
                self.states().await,
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The monitor's database as user `postgres`.
    fn monitor_url(&self) -> String {
        self.monitor_url_of("pg_auto_failover", "postgres")
    }

    fn monitor_url_of(&self, database: &str, user: &str) -> String {
        format!(
            "postgres://{user}@127.0.0.1:{}/{database}?sslmode=disable",
            self.monitor_port
        )
    }

    /// Every node as the monitor sees it: (port, reported state, assigned state); empty when the
    /// monitor cannot be asked.
    pub async fn states(&self) -> Vec<(u16, String, String)> {
        let Ok((client, connection)) =
            tokio_postgres::connect(&self.monitor_url(), tokio_postgres::NoTls).await
        else {
            return Vec::new();
        };
        tokio::spawn(connection);
        client
            .query(
                "SELECT nodeport, reportedstate::text, goalstate::text
                 FROM pgautofailover.node ORDER BY nodeid",
                &[],
            )
            .await
            .map(|rows| {
                rows.iter()
                    .map(|row| {
                        let port: i32 = row.get(0);
                        (u16::try_from(port).unwrap_or(0), row.get(1), row.get(2))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The (reported, assigned) state of the node on `port`.
    pub async fn state_of(&self, port: u16) -> Option<(String, String)> {
        self.states()
            .await
            .into_iter()
            .find(|(node, _, _)| *node == port)
            .map(|(_, reported, assigned)| (reported, assigned))
    }

    /// The nodes' ports, the first node's first.
    pub fn node_ports(&self) -> &[u16] {
        &self.node_ports
    }

    /// The URL servers use: every node, and only the one that takes writes
    /// (`target_session_attrs=read-write`), so a new connection finds the primary wherever it is.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .node_ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        format!(
            "postgres://postgres@{}/{}?target_session_attrs=read-write",
            hosts.join(","),
            self.dbname
        )
    }

    /// The URL of database `dbname` on one node.
    pub fn node_url(&self, port: u16) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/{}", self.dbname)
    }

    /// Stops a node at once, as a crash would: its `pg_autoctl` service and its PostgreSQL
    /// (`pg_autoctl stop --immediate`), then waits until its port refuses connections.
    pub async fn crash_node(&self, port: u16) {
        let index = self
            .node_ports
            .iter()
            .position(|node| *node == port)
            .expect("a node of this formation");
        let data = self.dir.path().join(format!("node{}", index + 1));
        let mut stop = self.autoctl(&["stop", "--immediate", "--pgdata"]);
        stop.arg(&data);
        run(&mut stop, None);
        self.wait(&format!("the node on port {port} to stop"), || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_err()
        })
        .await;
    }

    /// Every log of the formation (the services' and the creations'), for failure messages.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        let mut entries: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
            .collect();
        entries.sort();
        for path in entries {
            let log = std::fs::read_to_string(&path).unwrap_or_default();
            // The ends of the logs say what went wrong.
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            text.push_str(&format!("--- {} (last lines)\n", path.display()));
            for line in tail.into_iter().rev() {
                text.push_str(line);
                text.push('\n');
            }
        }
        text
    }
}

impl Drop for AutoFailover {
    fn drop(&mut self) {
        // The nodes first, the monitor last; each service stops its PostgreSQL.
        for (data, _) in self.services.iter().rev() {
            let mut stop = self.autoctl(&["stop", "--immediate", "--pgdata"]);
            let _ = stop.arg(data).output();
        }
        for (data, child) in &mut self.services {
            let deadline = Instant::now() + Duration::from_secs(20);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
            // Whatever survived its service.
            let _ = as_owner(&pg_bin().join("pg_ctl"))
                .arg("-D")
                .arg(&*data)
                .args(["-m", "immediate", "-w", "stop"])
                .output();
        }
    }
}
