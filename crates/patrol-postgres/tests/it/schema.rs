//! The schema distributes by corp (issue 11, "ready for a sharded engine"), checked mechanically:
//! over the catalog of a freshly migrated database, over a database migrated from version 1 with
//! data in it, and over every SQL statement of this crate's source.
//!
//! The rules (ARCHITECTURE.md, "Scaling out"): every table but the reference tables is keyed by
//! the corp first; every unique constraint and every foreign key between corp tables includes
//! it; no sequence serves a corp table; and every statement that names a corp table names
//! `corp_id`, so that it is routed to one shard.

use std::collections::BTreeSet;

use patrol_domain::{CategoryId, GridId, NewCategory, NewGrid, NewUser, UserId};
use patrol_postgres::PostgresStore;
use patrol_store::DirectoryStore;
use patrol_test::PgCluster;

/// The tables every worker of a Citus cluster would hold whole: small, written rarely.
const REFERENCE_TABLES: &[&str] = &["meta", "corps", "moved_tokens", "schema_version"];

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("a connection");
    tokio::spawn(connection);
    client
}

async fn strings(client: &tokio_postgres::Client, sql: &str) -> Vec<String> {
    client
        .query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Every rule, over the catalog of the database `url` names; the list of what breaks one.
async fn violations(url: &str) -> Vec<String> {
    let client = connect(url).await;
    let mut broken = Vec::new();
    let tables = strings(
        &client,
        "SELECT relname::text FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY 1",
    )
    .await;
    let corp_tables: Vec<&String> = tables
        .iter()
        .filter(|t| !REFERENCE_TABLES.contains(&t.as_str()))
        .collect();
    assert!(corp_tables.len() >= 10, "corp tables: {corp_tables:?}");

    // Keyed by the corp first.
    broken.extend(
        strings(
            &client,
            "SELECT c.relname || ': primary key (' || pg_get_indexdef(i.indexrelid) || ')'
             FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
             WHERE c.relnamespace = 'public'::regnamespace AND i.indisprimary
               AND a.attname <> 'corp_id'
               AND c.relname::text <> ALL (ARRAY['meta', 'corps', 'moved_tokens', 'schema_version'])",
        )
        .await,
    );
    for table in &corp_tables {
        let keyed: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = $1::text::regclass
                                AND i.indisprimary)",
                &[table],
            )
            .await
            .expect("primary key")
            .get(0);
        if !keyed {
            broken.push(format!("{table}: no primary key"));
        }
    }
    // Every unique index (constraints and unique indexes) includes the corp.
    broken.extend(
        strings(
            &client,
            "SELECT c.relname || ': unique without corp_id: ' || pg_get_indexdef(i.indexrelid)
             FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
             WHERE c.relnamespace = 'public'::regnamespace AND i.indisunique
               AND c.relname::text <> ALL (ARRAY['meta', 'corps', 'moved_tokens', 'schema_version'])
               AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                               WHERE a.attrelid = c.oid AND a.attname = 'corp_id'
                                 AND a.attnum = ANY (i.indkey))",
        )
        .await,
    );
    // Every foreign key between corp tables joins corp_id to corp_id; a corp table may
    // reference a reference table freely (Citus allows that).
    broken.extend(
        strings(
            &client,
            "SELECT c.relname || ': foreign key without corp_id on both sides: '
                    || pg_get_constraintdef(k.oid)
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
             JOIN pg_class r ON r.oid = k.confrelid
             WHERE k.contype = 'f' AND c.relnamespace = 'public'::regnamespace
               AND r.relname::text <> ALL (ARRAY['meta', 'corps', 'moved_tokens', 'schema_version'])
               AND NOT EXISTS (
                   SELECT 1 FROM generate_subscripts(k.conkey, 1) AS n
                   JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[n]
                   JOIN pg_attribute b ON b.attrelid = k.confrelid AND b.attnum = k.confkey[n]
                   WHERE a.attname = 'corp_id' AND b.attname = 'corp_id')",
        )
        .await,
    );
    // No sequence serves a corp table: no identity column, no nextval default.
    broken.extend(
        strings(
            &client,
            "SELECT c.relname || '.' || a.attname || ': takes values from a sequence'
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
               AND a.attnum > 0 AND NOT a.attisdropped
               AND c.relname::text <> ALL (ARRAY['meta', 'corps', 'moved_tokens', 'schema_version'])
               AND (a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) LIKE '%nextval%')",
        )
        .await,
    );
    // The only sequences are those of reference tables.
    broken.extend(
        strings(
            &client,
            "SELECT s.relname || ': a sequence not owned by a reference table'
             FROM pg_class s
             LEFT JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
                                   AND d.refclassid = 'pg_class'::regclass
             LEFT JOIN pg_class t ON t.oid = d.refobjid
             WHERE s.relkind = 'S' AND s.relnamespace = 'public'::regnamespace
               AND coalesce(t.relname::text, '') <> ALL (ARRAY['meta', 'corps', 'moved_tokens', 'schema_version'])",
        )
        .await,
    );
    broken
}

#[tokio::test]
async fn every_corp_table_distributes_by_corp() {
    let cluster = PgCluster::start(&[]);
    PostgresStore::open(&cluster.url()).await.expect("opened");
    let broken = violations(&cluster.url()).await;
    assert!(
        broken.is_empty(),
        "the schema breaks the rules:\n{}",
        broken.join("\n")
    );
}

#[tokio::test]
async fn the_rules_catch_a_table_that_breaks_them() {
    // The checks are not vacuous: a table keyed without the corp, a global unique, a foreign key
    // between corp tables without the corp and an identity column are each reported.
    let cluster = PgCluster::start(&[]);
    PostgresStore::open(&cluster.url()).await.expect("opened");
    connect(&cluster.url())
        .await
        .batch_execute(
            "CREATE TABLE notes (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                                 corp_id bigint NOT NULL, order_id text NOT NULL UNIQUE,
                                 grid_key bigint,
                                 FOREIGN KEY (corp_id, grid_key) REFERENCES grids (corp_id, id));
             CREATE TABLE marks (corp_id bigint NOT NULL, seq bigint NOT NULL,
                                 PRIMARY KEY (corp_id, seq),
                                 FOREIGN KEY (seq, corp_id) REFERENCES orders (corp_id, seq));",
        )
        .await
        .expect("the bad tables");
    let broken = violations(&cluster.url()).await.join("\n");
    for expected in [
        "notes: primary key",
        "notes: unique without corp_id",
        "notes.id: takes values from a sequence",
        "notes_id_seq: a sequence not owned by a reference table",
        "marks: foreign key without corp_id on both sides",
    ] {
        assert!(broken.contains(expected), "{expected:?} not in:\n{broken}");
    }
    assert!(!broken.contains("notes: foreign key"), "{broken}");
}

#[tokio::test]
async fn a_version_1_database_keeps_its_ids_and_counters() {
    // A database made by version 1 (identity columns, counters in `corps`) with a corp in it:
    // migration 2 carries its counters over, and new users, grids, categories and orders take
    // the next values of the corp's own counters.
    let cluster = PgCluster::start(&[]);
    let client = connect(&cluster.url()).await;
    client
        .batch_execute(include_str!("../../migrations/0001_init.sql"))
        .await
        .expect("version 1");
    client
        .batch_execute(
            "CREATE TABLE schema_version (one boolean PRIMARY KEY DEFAULT true CHECK (one),
                                          version integer NOT NULL);
             INSERT INTO schema_version (version) VALUES (1);
             INSERT INTO corps (corpid, name, created_at, mod_seq, order_seq)
                 VALUES ('wwold', 'Old', 1700000000, 41, 17), ('wwother', 'Other', 1700000000, 3, 2);
             INSERT INTO users (corp_id, userid, name) VALUES (1, 'a', 'A'), (2, 'x', 'X'),
                                                              (1, 'b', 'B');
             INSERT INTO grids (corp_id, grid_id, name) VALUES (1, 'g1', 'G1'), (2, 'g2', 'G2');
             INSERT INTO categories (corp_id, category_id, level, name)
                 VALUES (2, 'c2', 1, 'C2'), (1, 'c1', 1, 'C1');",
        )
        .await
        .expect("a version 1 corp");
    let store = PostgresStore::open(&cluster.url()).await.expect("migrated");
    store
        .create_user(
            1,
            NewUser {
                userid: UserId::parse("c").expect("a userid"),
                name: "C".into(),
            },
        )
        .await
        .expect("a new user");
    store
        .create_grid(
            1,
            NewGrid {
                grid_id: GridId::parse("g3").expect("a grid id"),
                name: "G3".into(),
                parent: Some("g1".into()),
                admins: vec!["c".into()],
                members: vec!["a".into()],
            },
        )
        .await
        .expect("a new grid");
    store
        .create_category(
            2,
            NewCategory {
                category_id: CategoryId::parse("c3").expect("a category id"),
                name: "C3".into(),
                parent: Some("c2".into()),
            },
        )
        .await
        .expect("a new category");
    let users: Vec<String> = store
        .list_users(1)
        .await
        .expect("users")
        .into_iter()
        .map(|u| u.userid)
        .collect();
    assert_eq!(users, ["a", "b", "c"], "in creation order");
    let ids: Vec<String> = strings(
        &client,
        "SELECT 'users ' || corp_id || ' ' || id FROM users WHERE userid = 'c'
         UNION ALL SELECT 'grids ' || corp_id || ' ' || id FROM grids WHERE grid_id = 'g3'
         UNION ALL SELECT 'categories ' || corp_id || ' ' || id FROM categories
                   WHERE category_id = 'c3'",
    )
    .await;
    assert_eq!(ids, ["users 1 4", "grids 1 2", "categories 2 2"]);
    let counters: Vec<(String, i64, i64, i64, i64, i64)> = client
        .query(
            "SELECT c.corpid, k.mod_seq, k.order_seq, k.user_seq, k.grid_seq, k.category_seq
             FROM corp_counters k JOIN corps c ON c.id = k.corp_id ORDER BY c.id",
            &[],
        )
        .await
        .expect("counters")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect();
    assert_eq!(
        counters,
        [
            ("wwold".to_owned(), 41, 17, 4, 2, 2),
            ("wwother".to_owned(), 3, 2, 2, 2, 2)
        ]
    );
    assert!(violations(&cluster.url()).await.is_empty());
}

/// The string literals of a Rust source file (plain and raw strings; good enough for SQL).
fn literals(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut chars = source.chars().peekable();
    let mut in_comment = false;
    let mut previous = ' ';
    while let Some(c) = chars.next() {
        if in_comment {
            if c == '\n' {
                in_comment = false;
            }
        } else if c == '/' && chars.peek() == Some(&'/') {
            in_comment = true;
        } else if c == '\'' && previous != '\\' {
            // A char literal ('"' in particular) or a lifetime: skip a quoted char.
            let rest: String = chars.clone().take(3).collect();
            if rest.starts_with("\"'") || rest.starts_with("\\\"'") {
                chars.nth(rest.find('\'').unwrap_or(0));
            }
        } else if c == '"' {
            let mut literal = String::new();
            let mut escaped = false;
            for c in chars.by_ref() {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    break;
                }
                literal.push(c);
            }
            found.push(literal);
        }
        previous = c;
    }
    found
}

#[test]
fn every_statement_on_a_corp_table_names_the_corp() {
    // Each endpoint's queries stay on one shard only when they filter (or join) by the corp:
    // every SQL statement of this crate that names a corp table names corp_id.
    let corp_tables = [
        "apps",
        "tokens",
        "users",
        "grids",
        "grid_users",
        "categories",
        "orders",
        "steps",
        "order_tallies",
        "order_processors",
        "user_tallies",
        "order_quarters",
        "seed_runs",
        "media",
        "corp_counters",
    ];
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut statements = 0;
    let mut broken = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("src") {
        let path = entry.expect("an entry").path();
        let source = std::fs::read_to_string(&path).expect("a source file");
        for literal in literals(&source) {
            let words: Vec<&str> = literal
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty())
                .collect();
            let is_statement = words.windows(2).any(|w| {
                matches!(
                    (w[0], w[1]),
                    ("FROM" | "JOIN" | "INTO" | "UPDATE", _) | (_, "SET")
                )
            });
            let names_corp_table = words.windows(2).any(|w| {
                matches!(w[0], "FROM" | "JOIN" | "INTO" | "UPDATE") && corp_tables.contains(&w[1])
            });
            if is_statement && names_corp_table {
                statements += 1;
                if !words.contains(&"corp_id") {
                    broken.insert(format!("{}: {literal}", path.display()));
                }
            }
        }
    }
    assert!(statements > 50, "only {statements} statements found");
    assert!(
        broken.is_empty(),
        "statements on corp tables without corp_id:\n{}",
        broken.into_iter().collect::<Vec<_>>().join("\n---\n")
    );
}
