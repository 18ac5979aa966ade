//! The SQL adapter: every repository port on SQLite or PostgreSQL, through sea-orm.
//!
//! [`SqlDatabase`] is one pooled database handle implementing `ConnectionRepository`,
//! `StorageRepository`, `DatasetRepository`, `ExperimentRepository`, `RunRepository`,
//! `ApiKeyRepository`, `SnapshotRepository` and `DatabaseHealth`. [`SqlDatabase::connect`] picks
//! the backend from the URL and brings the schema up to date with sea-orm's entity-first schema
//! sync: the entities under `entity/` are the only description of the tables (with the indexes
//! over several columns each lists beside it), and sync only ever adds what is missing, so
//! columns added later reach existing databases without a migration step. API keys are stored as
//! their SHA-256 digests, so the `api_keys` table holds nothing to seal.
//!
//! [`SecretCipher`] seals the secrets the domain carries (connection API keys, storage keys) with
//! XChaCha20-Poly1305 before they reach a statement; the database stores ciphertext bound to its
//! row and column. The database records which key that is at first start (`key_check`), and
//! [`SqlDatabase::connect`] refuses any other key with `SecretKeyMismatch`; a single secret that
//! does not open (moved to another row) reads back as `SecretKeyMismatch` too, never a panic or a
//! wrong secret.
//!
//! Driver errors are translated here and nowhere else: unique violations become `Duplicate`,
//! unreachable or busy databases `Unavailable`, everything else `Internal`; no sea-orm or sqlx type
//! crosses the port boundary.
#![deny(missing_docs)]

mod cipher;
mod codec;
mod database;
mod entity;
mod error;
mod key_check;
mod masks;
mod notify;
mod repo;
mod url;

pub use cipher::{CipherError, SecretCipher};
pub use database::SqlDatabase;
pub use notify::JOBS_CHANNEL;
