//! The tables, as sea-orm entities: the single source of the schema.
//!
//! [`crate::SqlDatabase::connect`] registers every entity with sea-orm's schema builder, which
//! creates missing tables, columns and indexes and never drops anything. A column added to an
//! entity therefore reaches existing databases on the next start, as long as it is nullable (or
//! has a default), since existing rows need a value for it.
//!
//! Indexes over several columns, which entity attributes cannot declare, are listed beside their
//! entity (`snapshots::indexes`, `backfill_items::indexes`) and created if missing after the sync.
//!
//! Reference columns (`datasets.storage_id`, `experiments.dataset_id`, `snapshots.connection_id`,
//! …) are indexed but carry no foreign-key constraint (schema sync never alters an existing
//! table, so older databases would never gain one): the repositories check references inside
//! their write transactions, holding the referenced row, and report `InUse`/`NotFound`
//! themselves. Newer tables (`snapshots`) do the same, so every reference is checked one way.

pub(crate) mod api_keys;
pub(crate) mod backfill_items;
pub(crate) mod connections;
pub(crate) mod datasets;
pub(crate) mod experiments;
pub(crate) mod jobs;
pub(crate) mod runs;
pub(crate) mod settings;
pub(crate) mod snapshots;
pub(crate) mod storages;
pub(crate) mod workers;
