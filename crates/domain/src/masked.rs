//! Objects holding secrets as lists show them: each secret as its mask only ([`mask_secret`]), so
//! a list is read without opening a single secret.

use chrono::{DateTime, Utc};

use crate::{
    Connection, ConnectionId, EMBEDDED_CONNECTION_NAME, EMBEDDED_CONNECTION_URL, ObjectStorage, StorageId, mask_secret,
};

/// A connection as lists show it: the API key as its mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSummary {
    /// Identifier.
    pub id: ConnectionId,
    /// Unique name.
    pub name: String,
    /// Server URL.
    pub url: String,
    /// The API key's mask, or `None` without a key.
    pub api_key: Option<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl ConnectionSummary {
    /// Whether this is the built-in embedded connection (as [`Connection::is_builtin`]).
    pub fn is_builtin(&self) -> bool {
        self.name == EMBEDDED_CONNECTION_NAME && self.url == EMBEDDED_CONNECTION_URL
    }
}

impl From<&Connection> for ConnectionSummary {
    fn from(connection: &Connection) -> Self {
        Self {
            id: connection.id,
            name: connection.spec.name.clone(),
            url: connection.spec.url.clone(),
            api_key: connection.spec.api_key.as_ref().map(mask_secret),
            created_at: connection.created_at,
            updated_at: connection.updated_at,
        }
    }
}

/// An object storage as lists show it: both keys as their masks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageSummary {
    /// Identifier.
    pub id: StorageId,
    /// Name, if given.
    pub name: Option<String>,
    /// Bucket.
    pub bucket: String,
    /// Region.
    pub region: String,
    /// Endpoint, if not AWS.
    pub endpoint_url: Option<String>,
    /// The access key's mask, or `None` without one.
    pub access_key: Option<String>,
    /// The secret key's mask, or `None` without one.
    pub secret_key: Option<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&ObjectStorage> for StorageSummary {
    fn from(storage: &ObjectStorage) -> Self {
        let spec = &storage.spec;
        Self {
            id: storage.id,
            name: spec.name.clone(),
            bucket: spec.bucket.clone(),
            region: spec.region.clone(),
            endpoint_url: spec.endpoint_url.clone(),
            access_key: spec.access_key.as_ref().map(mask_secret),
            secret_key: spec.secret_key.as_ref().map(mask_secret),
            created_at: storage.created_at,
            updated_at: storage.updated_at,
        }
    }
}
