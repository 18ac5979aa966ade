//! Typed identifiers, so a dataset id can never be passed where an experiment id is expected.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! entity_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered identifier (UUIDv7), so ids sort by creation time.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

entity_id!(
    /// Identifies a [`crate::Connection`].
    ConnectionId
);
entity_id!(
    /// Identifies an [`crate::ObjectStorage`].
    StorageId
);
entity_id!(
    /// Identifies a [`crate::Dataset`].
    DatasetId
);
entity_id!(
    /// Identifies an [`crate::Experiment`].
    ExperimentId
);
entity_id!(
    /// Identifies a [`crate::Run`].
    RunId
);
entity_id!(
    /// Identifies a [`crate::ApiKey`].
    ApiKeyId
);
entity_id!(
    /// Identifies a [`crate::Job`]; a benchmark job shares the UUID of its [`crate::Run`].
    JobId
);
entity_id!(
    /// Identifies a [`crate::Snapshot`].
    SnapshotId
);
