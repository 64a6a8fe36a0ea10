//! How a store is opened: options every backend reads the same way.

/// When a write is acknowledged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// A write is acknowledged once it is on stable storage: it survives a crash of patrol, of
    /// the operating system and a power cut (SQLite `synchronous=FULL`).
    #[default]
    Full,
    /// A write is acknowledged once it is in the operating system's hands: it survives a crash
    /// of patrol, but a power cut or an operating-system crash may roll back the last
    /// acknowledged writes (SQLite `synchronous=NORMAL` in WAL mode). Cheaper per write.
    Normal,
}

impl Durability {
    /// The names of the settings, for messages.
    pub const NAMES: &'static str = "full, normal";

    /// `full` or `normal` (any case).
    pub fn parse(name: &str) -> Option<Durability> {
        if name.eq_ignore_ascii_case("full") {
            Some(Durability::Full)
        } else if name.eq_ignore_ascii_case("normal") {
            Some(Durability::Normal)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Durability::Full => "full",
            Durability::Normal => "normal",
        }
    }
}

/// Options of [`crate`]'s backends when they open a database.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    pub durability: Durability,
    /// Start on an empty database: what the URL names is removed first, once this process holds
    /// the database's lock (so never while another patrol process has it open).
    pub fresh: bool,
    /// Read replicas (PostgreSQL only): URLs of streaming standbys of the database, in the forms
    /// of the database URL. Reads that may lag (the order list, order bodies, the statistics)
    /// go to them; everything else to the database itself. A SQLite database refuses them.
    pub replicas: Vec<String>,
}

/// A database URL as it may be shown in messages, logs and banners: a password in its user
/// information (`user:password@`) or in a `password=` parameter is replaced by `***`. Anything
/// else (hosts, ports, parameters, SQLite paths) is kept, so the URL still says where it points.
pub fn redacted_url(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let mut shown = String::with_capacity(url.len());
    match head.split_once("://") {
        // The user information ends at the last '@' (a password may hold '/', '@' or ':').
        Some((scheme, rest)) => {
            shown.push_str(scheme);
            shown.push_str("://");
            match rest.rsplit_once('@') {
                Some((userinfo, hosts)) => {
                    match userinfo.split_once(':') {
                        Some((user, _password)) => {
                            shown.push_str(user);
                            shown.push_str(":***");
                        }
                        None => shown.push_str(userinfo),
                    }
                    shown.push('@');
                    shown.push_str(hosts);
                }
                None => shown.push_str(rest),
            }
        }
        None => shown.push_str(head),
    }
    if let Some(query) = query {
        shown.push('?');
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => param.to_owned(),
            })
            .collect();
        shown.push_str(&params.join("&"));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::redacted_url;

    #[test]
    fn passwords_are_never_shown_and_the_rest_is() {
        for (url, shown) in [
            (
                "postgres://patrol:s3cret@db1:5432/patrol",
                "postgres://patrol:***@db1:5432/patrol",
            ),
            (
                "postgresql://u:p/a@ss:w@h1:5432,h2:5433/db?target_session_attrs=read-write",
                "postgresql://u:***@h1:5432,h2:5433/db?target_session_attrs=read-write",
            ),
            (
                "postgres://u@h/db?sslmode=disable&password=hunter2",
                "postgres://u@h/db?sslmode=disable&password=***",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
            (
                "sqlite:///var/lib/patrol/patrol.db",
                "sqlite:///var/lib/patrol/patrol.db",
            ),
            ("patrol.db", "patrol.db"),
        ] {
            assert_eq!(redacted_url(url), shown, "{url}");
        }
    }
}
