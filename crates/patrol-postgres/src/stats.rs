//! The statistics in PostgreSQL (placeholder: ported from patrol-sqlite's stats.rs).
