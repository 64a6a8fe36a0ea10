//! `patrol seed` runs in PostgreSQL (placeholder: ported from patrol-sqlite's seeds.rs).
