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
