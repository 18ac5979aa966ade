//! The phases of a run, in order.

use std::fmt;

/// A phase of a run; progress and failures name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Resolve the experiment, inspect the dataset, load queries and ground truth.
    Prepare,
    /// Create the collection with the experiment's settings.
    CreateCollection,
    /// Or restore it from a snapshot (checksum verified): nothing is uploaded or indexed.
    Restore,
    /// Upload the points, indexing deferred.
    Upload,
    /// Build the index until every vector is indexed.
    Index,
    /// Fire the test queries for every vector and search setting.
    Search,
    /// Drop the collection and store the results.
    Cleanup,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 7] =
        [Self::Prepare, Self::CreateCollection, Self::Restore, Self::Upload, Self::Index, Self::Search, Self::Cleanup];

    /// The phase of a wire name, as [`Phase::as_str`] writes it.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|phase| phase.as_str() == name)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Prepare => "prepare",
            Self::CreateCollection => "create_collection",
            Self::Restore => "restore",
            Self::Upload => "upload",
            Self::Index => "index",
            Self::Search => "search",
            Self::Cleanup => "cleanup",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for Phase {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}
