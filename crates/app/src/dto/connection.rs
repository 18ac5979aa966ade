//! Connections on the wire.

use apistos::ApiComponent;
use chrono::{DateTime, Utc};
use qbench_domain::{Connection, ConnectionSpec, ConnectionSummary, Secret, Violation};
use schemars::JsonSchema;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dto::bounds;

/// A Qdrant connection to register (also the shape a PATCH merges into).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(deny_unknown_fields)]
#[schemars(example = "ConnectionRequest::example")]
pub struct ConnectionRequest {
    /// Unique name.
    #[schemars(length(min = 1, max = "bounds::NAME_LENGTH"))]
    pub name: String,
    /// `http(s)://host:port` of the Qdrant server (REST 6333 or gRPC 6334).
    #[schemars(length(min = 1, max = "bounds::URL_LENGTH"))]
    pub url: String,
    /// API key of the Qdrant server; stored encrypted, never shown again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = "bounds::SECRET_LENGTH"))]
    pub api_key: Option<String>,
}

impl ConnectionRequest {
    fn example() -> Self {
        Self {
            name: "local-qdrant".to_owned(),
            url: "http://localhost:6333".to_owned(),
            api_key: Some("my-qdrant-api-key".to_owned()),
        }
    }

    /// The write form of a stored connection, for merging a PATCH (never sent to clients).
    pub fn from_domain(connection: &Connection) -> Self {
        Self {
            name: connection.spec.name.clone(),
            url: connection.spec.url.clone(),
            api_key: connection.spec.api_key.as_ref().map(|key| key.expose_secret().to_owned()),
        }
    }
}

impl TryFrom<ConnectionRequest> for ConnectionSpec {
    type Error = Vec<Violation>;

    fn try_from(request: ConnectionRequest) -> Result<Self, Self::Error> {
        Ok(Self { name: request.name, url: request.url, api_key: request.api_key.map(Secret::from) })
    }
}

/// A registered connection; the API key is masked.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[schemars(example = "ConnectionResponse::example")]
pub struct ConnectionResponse {
    /// Identifier.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// Server URL, or `embedded://` for the in-process engine.
    pub url: String,
    /// The API key, masked (`****3y`), or null.
    pub api_key: Option<String>,
    /// Whether this is the built-in `embedded` connection.
    pub builtin: bool,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl ConnectionResponse {
    fn example() -> Self {
        Self {
            id: Uuid::nil(),
            name: "local-qdrant".to_owned(),
            url: "http://localhost:6333".to_owned(),
            api_key: Some("****ey".to_owned()),
            builtin: false,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }
}

impl From<ConnectionSummary> for ConnectionResponse {
    fn from(connection: ConnectionSummary) -> Self {
        Self {
            builtin: connection.is_builtin(),
            id: connection.id.as_uuid(),
            name: connection.name,
            url: connection.url,
            api_key: connection.api_key,
            created_at: connection.created_at,
            updated_at: connection.updated_at,
        }
    }
}

impl From<&Connection> for ConnectionResponse {
    fn from(connection: &Connection) -> Self {
        ConnectionSummary::from(connection).into()
    }
}
