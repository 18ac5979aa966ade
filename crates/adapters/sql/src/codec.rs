//! Column encodings shared by the repositories: JSON documents, sealed secrets and timestamps.

use chrono::{DateTime, SubsecRound, Utc};
use qbench_repository::{Entity, RepositoryError};
use secrecy::SecretString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::{CipherError, SecretCipher};

/// Identifies the stored row a column value belongs to, for errors and for sealing secrets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowRef {
    /// The kind of row.
    pub(crate) entity: Entity,
    /// Its table.
    pub(crate) table: &'static str,
    /// Its id.
    pub(crate) id: Uuid,
}

impl RowRef {
    /// A `Corrupt` error for this row.
    pub(crate) fn corrupt(&self, reason: impl Into<String>) -> RepositoryError {
        RepositoryError::Corrupt { entity: self.entity, id: self.id.to_string(), reason: reason.into() }
    }

    /// A domain value as a JSON column.
    pub(crate) fn encode_json<T: Serialize>(
        &self,
        column: &str,
        value: &T,
    ) -> Result<serde_json::Value, RepositoryError> {
        serde_json::to_value(value).map_err(|error| {
            RepositoryError::Internal(format!(
                "cannot encode {}.{column} of {} {}: {error}",
                self.table, self.entity, self.id
            ))
        })
    }

    /// A JSON column as a domain value; `Corrupt` when it no longer fits the type.
    pub(crate) fn decode_json<T: DeserializeOwned>(
        &self,
        column: &str,
        value: serde_json::Value,
    ) -> Result<T, RepositoryError> {
        serde_json::from_value(value).map_err(|error| self.corrupt(format!("column `{column}` is not valid: {error}")))
    }

    /// Seals `secret` for this row's `column`, so the ciphertext only opens in that place.
    pub(crate) fn seal(
        &self,
        cipher: &SecretCipher,
        column: &str,
        secret: Option<&SecretString>,
    ) -> Result<Option<Vec<u8>>, RepositoryError> {
        secret
            .map(|secret| {
                cipher.encrypt(secret, &self.secret_context(column)).map_err(|error| {
                    RepositoryError::Internal(format!(
                        "cannot encrypt {}.{column} of {} {}: {error}",
                        self.table, self.entity, self.id
                    ))
                })
            })
            .transpose()
    }

    /// Opens this row's sealed `column`; `SecretKeyMismatch` when the key does not match, `Corrupt`
    /// when the value is not a sealed secret.
    pub(crate) fn open(
        &self,
        cipher: &SecretCipher,
        column: &str,
        stored: Option<&[u8]>,
    ) -> Result<Option<SecretString>, RepositoryError> {
        stored
            .map(|stored| {
                cipher.decrypt(stored, &self.secret_context(column)).map_err(|error| match error {
                    CipherError::KeyMismatch => {
                        RepositoryError::SecretKeyMismatch { stored: format!("{} {}", self.entity, self.id) }
                    }
                    CipherError::InvalidKey(_) | CipherError::UnknownFormat | CipherError::Encrypt => {
                        self.corrupt(format!("secret `{column}`: {error}"))
                    }
                })
            })
            .transpose()
    }

    /// The associated data binding a ciphertext to its table, column and row.
    fn secret_context(&self, column: &str) -> String {
        format!("{}.{column}:{}", self.table, self.id)
    }
}

/// A timestamp at the precision both backends keep (PostgreSQL stores microseconds), so that a
/// stored value reads back equal whatever the backend.
pub(crate) fn stored_time(time: DateTime<Utc>) -> DateTime<Utc> {
    time.trunc_subsecs(6)
}
