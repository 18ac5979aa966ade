//! The masks stored beside sealed secrets, filled once for rows written before they were.
//!
//! Lists show each secret as its mask (`mask_secret`), read from a column of its own so that a
//! list opens no secret. Schema sync adds the mask columns to an older database with NULLs; at
//! start-up [`SqlDatabase::fill_masks`] opens each such secret once and stores its mask. A
//! secret that does not open is left as it is: a list then reports it as a read of it would.

use qbench_domain::mask_secret;
use qbench_repository::{Entity, RepositoryError};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

use crate::SqlDatabase;
use crate::codec::RowRef;
use crate::entity::{connections, storages};
use crate::error::db_error;

impl SqlDatabase {
    /// Stores the mask of every sealed secret that has none yet; answers how many rows changed.
    ///
    /// # Errors
    /// `Unavailable` or `Internal` when the rows cannot be read or written.
    pub(crate) async fn fill_masks(&self) -> Result<u64, RepositoryError> {
        let mut filled = 0;
        let unmasked = connections::Entity::find()
            .filter(connections::Column::ApiKey.is_not_null())
            .filter(connections::Column::ApiKeyMask.is_null())
            .all(&self.db)
            .await
            .map_err(db_error)?;
        for row in unmasked {
            let stored = RowRef { entity: Entity::Connection, table: "connections", id: row.id };
            let Some(mask) = self.mask_of(stored, "api_key", row.api_key.as_deref()) else { continue };
            // Only while the secret is still the one masked: a concurrent update wrote its own.
            let updated = connections::Entity::update_many()
                .col_expr(connections::Column::ApiKeyMask, Expr::value(mask))
                .filter(connections::Column::Id.eq(row.id))
                .filter(connections::Column::ApiKey.eq(row.api_key))
                .exec(&self.db)
                .await
                .map_err(db_error)?;
            filled += updated.rows_affected;
        }
        let unmasked = storages::Entity::find()
            .filter(
                Condition::any()
                    .add(storages::Column::AccessKey.is_not_null().and(storages::Column::AccessKeyMask.is_null()))
                    .add(storages::Column::SecretKey.is_not_null().and(storages::Column::SecretKeyMask.is_null())),
            )
            .all(&self.db)
            .await
            .map_err(db_error)?;
        for row in unmasked {
            filled += self.fill_storage_masks(row).await?;
        }
        if filled > 0 {
            tracing::info!(rows = filled, "stored the masks of secrets written before masks were stored");
        }
        Ok(filled)
    }

    async fn fill_storage_masks(&self, row: storages::Model) -> Result<u64, RepositoryError> {
        let stored = RowRef { entity: Entity::Storage, table: "storages", id: row.id };
        let access = self.mask_of(stored, "access_key", row.access_key.as_deref());
        let secret = self.mask_of(stored, "secret_key", row.secret_key.as_deref());
        if (row.access_key.is_some() && access.is_none()) || (row.secret_key.is_some() && secret.is_none()) {
            return Ok(0);
        }
        let same_secret = |column: storages::Column, value: Option<Vec<u8>>| match value {
            Some(value) => column.eq(value),
            None => column.is_null(),
        };
        let updated = storages::Entity::update_many()
            .col_expr(storages::Column::AccessKeyMask, Expr::value(access))
            .col_expr(storages::Column::SecretKeyMask, Expr::value(secret))
            .filter(storages::Column::Id.eq(row.id))
            .filter(same_secret(storages::Column::AccessKey, row.access_key))
            .filter(same_secret(storages::Column::SecretKey, row.secret_key))
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        Ok(updated.rows_affected)
    }

    /// The mask of `stored`'s sealed `column`; `None` without a secret or when it does not open
    /// (logged; its reads report it).
    fn mask_of(&self, stored: RowRef, column: &str, sealed: Option<&[u8]>) -> Option<String> {
        match stored.open(&self.cipher, column, sealed) {
            Ok(secret) => secret.as_ref().map(mask_secret),
            Err(error) => {
                tracing::warn!(%error, id = %stored.id, column, "a stored secret does not open: its mask is not stored");
                None
            }
        }
    }
}
