//! Connections: the Qdrant instances a run can target.

use chrono::{DateTime, Utc};

use crate::{ConnectionId, Secret};

/// Name of the built-in connection to the in-process Qdrant engine.
pub const EMBEDDED_CONNECTION_NAME: &str = "embedded";
/// URL of the built-in connection to the in-process Qdrant engine.
pub const EMBEDDED_CONNECTION_URL: &str = "embedded://";

/// What a user says about a connection.
#[derive(Clone, Debug)]
pub struct ConnectionSpec {
    /// Unique, human-chosen name.
    pub name: String,
    /// `http(s)://host:port` of a Qdrant server (REST or gRPC port), or `embedded://`.
    pub url: String,
    /// API key sent to Qdrant, if the server requires one.
    pub api_key: Option<Secret>,
}

/// A registered Qdrant connection.
#[derive(Clone, Debug)]
pub struct Connection {
    /// Identifier.
    pub id: ConnectionId,
    /// The user's description of it.
    pub spec: ConnectionSpec,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Connection {
    /// A new connection, registered at `now`.
    pub fn new(spec: ConnectionSpec, now: DateTime<Utc>) -> Self {
        Self { id: ConnectionId::new(), spec, created_at: now, updated_at: now }
    }

    /// The built-in connection to the in-process engine, which always exists.
    pub fn embedded(now: DateTime<Utc>) -> Self {
        Self::new(
            ConnectionSpec {
                name: EMBEDDED_CONNECTION_NAME.to_owned(),
                url: EMBEDDED_CONNECTION_URL.to_owned(),
                api_key: None,
            },
            now,
        )
    }

    /// Whether this is the built-in embedded connection, which cannot be changed or deleted.
    pub fn is_builtin(&self) -> bool {
        self.spec.name == EMBEDDED_CONNECTION_NAME && self.is_embedded()
    }

    /// Whether its URL asks for TLS (`https://`).
    pub fn uses_tls(&self) -> bool {
        self.spec.url.trim().to_ascii_lowercase().starts_with("https://")
    }

    /// Whether it points at the in-process engine (`embedded://`) rather than a Qdrant server.
    pub fn is_embedded(&self) -> bool {
        self.spec.url == EMBEDDED_CONNECTION_URL
    }
}
