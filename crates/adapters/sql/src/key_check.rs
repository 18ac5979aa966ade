//! The database's record of the secret key its secrets are sealed with.
//!
//! Every process of one deployment must use the same key. At first start the database stores a
//! known value sealed with the key (the *key check*); every later [`SqlDatabase::connect`] opens
//! it and refuses a key it does not open with, so a process started with another or a generated
//! key stops at once, instead of reading every stored credential as damaged. The sealed value is
//! AEAD ciphertext of a public constant under a random nonce: it reveals nothing about the key.
//!
//! A database from before the check was stored is checked against one of its sealed secrets
//! first: the key is recorded only when that secret opens with it.

use chrono::Utc;
use qbench_repository::RepositoryError;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};
use secrecy::{ExposeSecret, SecretString};

use crate::codec::stored_time;
use crate::entity::{connections, settings, storages};
use crate::error::db_error;
use crate::{CipherError, SqlDatabase};

/// The `settings` row holding the key check.
const KEY_CHECK: &str = "secret_key_check";
/// The value sealed in the key check; public, only the key that sealed it opens it.
const KNOWN_VALUE: &str = "qbench secret key check v1";
/// The associated data binding the key check to its row.
const CONTEXT: &str = "settings.value:secret_key_check";
/// How a refusal names the key check.
const KEY_CHECK_NAME: &str = "the secret-key check stored at the database's first start";

impl SqlDatabase {
    /// Refuses this process's key unless it is the deployment's key (see the module docs),
    /// recording it when the database has no key check yet.
    ///
    /// # Errors
    /// `SecretKeyMismatch` when the key check, or the sealed secret a database without one is
    /// checked against, does not open with this key.
    pub(crate) async fn verify_secret_key(&self) -> Result<(), RepositoryError> {
        if let Some(check) = self.key_check().await? {
            return self.open_key_check(&check);
        }
        if let Some(mismatch) = self.probe_stored_secret().await? {
            return Err(mismatch);
        }
        let sealed = self
            .cipher
            .encrypt(&SecretString::from(KNOWN_VALUE), CONTEXT)
            .map_err(|error| RepositoryError::Internal(format!("cannot seal the secret-key check: {error}")))?;
        let row = settings::ActiveModel {
            name: sea_orm::Set(KEY_CHECK.to_owned()),
            value: sea_orm::Set(sealed),
            created_at: sea_orm::Set(stored_time(Utc::now())),
        };
        // Two processes starting at once both find no check; the first one's stays, and the
        // second is held to it below.
        settings::Entity::insert(row)
            .on_conflict(OnConflict::column(settings::Column::Name).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await
            .map_err(db_error)?;
        let check = self
            .key_check()
            .await?
            .ok_or_else(|| RepositoryError::Internal("the secret-key check was not stored".to_owned()))?;
        self.open_key_check(&check)?;
        tracing::info!("recorded the secret key's check in the database");
        Ok(())
    }

    async fn key_check(&self) -> Result<Option<Vec<u8>>, RepositoryError> {
        let row = settings::Entity::find_by_id(KEY_CHECK.to_owned()).one(&self.db).await.map_err(db_error)?;
        Ok(row.map(|row| row.value))
    }

    fn open_key_check(&self, sealed: &[u8]) -> Result<(), RepositoryError> {
        match self.cipher.decrypt(sealed, CONTEXT) {
            Ok(value) if value.expose_secret() == KNOWN_VALUE => Ok(()),
            Ok(_) | Err(CipherError::KeyMismatch) => {
                Err(RepositoryError::SecretKeyMismatch { stored: KEY_CHECK_NAME.to_owned() })
            }
            Err(error @ (CipherError::InvalidKey(_) | CipherError::UnknownFormat | CipherError::Encrypt)) => {
                Err(RepositoryError::Internal(format!("the stored secret-key check is unreadable: {error}")))
            }
        }
    }

    /// The mismatch of the oldest sealed secret stored before the key check existed, if there is
    /// one and it does not open with this key. A secret that is damaged in another way is left
    /// for its own reads to report.
    async fn probe_stored_secret(&self) -> Result<Option<RepositoryError>, RepositoryError> {
        let connection = connections::Entity::find()
            .filter(connections::Column::ApiKey.is_not_null())
            .order_by_asc(connections::Column::CreatedAt)
            .one(&self.db)
            .await
            .map_err(db_error)?;
        let probe = match connection {
            Some(row) => self.connection_from_row(row).err(),
            None => storages::Entity::find()
                .filter(
                    Condition::any()
                        .add(storages::Column::AccessKey.is_not_null())
                        .add(storages::Column::SecretKey.is_not_null()),
                )
                .order_by_asc(storages::Column::CreatedAt)
                .one(&self.db)
                .await
                .map_err(db_error)?
                .and_then(|row| self.storage_from_row(row).err()),
        };
        Ok(probe.filter(|error| matches!(error, RepositoryError::SecretKeyMismatch { .. })))
    }
}
