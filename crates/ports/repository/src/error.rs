//! The error contract every repository adapter honours.

use std::fmt;

/// The kinds of stored object, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A Qdrant connection.
    Connection,
    /// An object storage.
    Storage,
    /// A dataset.
    Dataset,
    /// An experiment.
    Experiment,
    /// A run.
    Run,
    /// A job.
    Job,
    /// An API key.
    ApiKey,
    /// A snapshot.
    Snapshot,
    /// A backfill (its work items).
    Backfill,
}

impl Entity {
    /// The lowercase name used in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connection => "connection",
            Self::Storage => "storage",
            Self::Dataset => "dataset",
            Self::Experiment => "experiment",
            Self::Run => "run",
            Self::Job => "job",
            Self::ApiKey => "API key",
            Self::Snapshot => "snapshot",
            Self::Backfill => "backfill",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong in a repository.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// No object with that id.
    #[error("{entity} {id} not found")]
    NotFound {
        /// Kind of object.
        entity: Entity,
        /// The id asked for.
        id: String,
    },
    /// A unique field already holds that value.
    #[error("a {entity} with {field} `{value}` already exists")]
    Duplicate {
        /// Kind of object.
        entity: Entity,
        /// The unique field.
        field: &'static str,
        /// The clashing value.
        value: String,
    },
    /// The object is referenced by others and cannot be deleted.
    #[error("{entity} {id} is used by {count} {by}(s), the first of them {by} {first}: delete those first")]
    InUse {
        /// Kind of object.
        entity: Entity,
        /// Its id.
        id: String,
        /// The kind of object that references it.
        by: Entity,
        /// How many reference it.
        count: u64,
        /// The id of the oldest of them, so a message names one referrer.
        first: String,
    },
    /// The object changed since it was read (a concurrent update won).
    #[error("{entity} {id} was changed concurrently")]
    Conflict {
        /// Kind of object.
        entity: Entity,
        /// Its id.
        id: String,
    },
    /// The database cannot be reached now; the same call may succeed later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be read back (corrupt row, undecryptable secret).
    #[error("stored {entity} {id} is unreadable: {reason}")]
    Corrupt {
        /// Kind of object.
        entity: Entity,
        /// Its id.
        id: String,
        /// Why.
        reason: String,
    },
    /// A stored secret does not open with this process's secret key: the key differs from the one
    /// it was stored with (a process started with another `QBENCH_SECRET_KEY`, or with a generated
    /// key). A configuration fault of the process, not damage: every secret of the deployment reads
    /// the same.
    #[error(
        "{stored} does not open with this process's secret key: start every qbench process of the deployment \
         with the QBENCH_SECRET_KEY the secrets were stored with"
    )]
    SecretKeyMismatch {
        /// What did not open: a stored object (`connection <id>`) or the database's key check.
        stored: String,
    },
    /// Any other database failure.
    #[error("database error: {0}")]
    Internal(String),
}

impl RepositoryError {
    /// Whether retrying the same call may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Conflict { .. })
    }

    /// A `NotFound` for `entity` with `id`.
    pub fn not_found(entity: Entity, id: impl fmt::Display) -> Self {
        Self::NotFound { entity, id: id.to_string() }
    }
}
