//! [`ApiKeyRepository`] on the `api_keys` table.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use qbench_domain::{ApiKey, ApiKeyId, Role};
use qbench_repository::{ApiKeyRepository, Entity, RepositoryError};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, SqlErr};

use crate::SqlDatabase;
use crate::codec::{RowRef, stored_time};
use crate::entity::api_keys;
use crate::error::db_error;

fn key_row(key: &ApiKey) -> api_keys::Model {
    api_keys::Model {
        id: key.id.as_uuid(),
        hash: key.hash.clone(),
        prefix: key.prefix.clone(),
        user: key.user.clone(),
        role: key.role.as_str().to_owned(),
        created_at: stored_time(key.created_at),
        expires_at: key.expires_at.map(stored_time),
        revoked_at: key.revoked_at.map(stored_time),
    }
}

fn key_from_row(row: api_keys::Model) -> Result<ApiKey, RepositoryError> {
    let role = row.role.parse::<Role>().map_err(|error| {
        RowRef { entity: Entity::ApiKey, table: "api_keys", id: row.id }.corrupt(format!("column `role`: {error}"))
    })?;
    Ok(ApiKey {
        id: row.id.into(),
        user: row.user,
        role,
        prefix: row.prefix,
        hash: row.hash,
        created_at: row.created_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
    })
}

/// The error of an insert: a unique violation on the digest is `Duplicate { field: "hash" }`
/// (without repeating the digest), one on the id `Duplicate { field: "id" }`.
fn insert_error(error: DbErr, key: &ApiKey) -> RepositoryError {
    let Some(SqlErr::UniqueConstraintViolation(message)) = error.sql_err() else {
        return db_error(error);
    };
    if message.contains("hash") {
        RepositoryError::Duplicate { entity: Entity::ApiKey, field: "hash", value: key.prefix.clone() }
    } else {
        RepositoryError::Duplicate { entity: Entity::ApiKey, field: "id", value: key.id.to_string() }
    }
}

#[async_trait]
impl ApiKeyRepository for SqlDatabase {
    #[tracing::instrument(skip_all, fields(api_key_id = %key.id, user = %key.user))]
    async fn insert(&self, key: &ApiKey) -> Result<(), RepositoryError> {
        api_keys::Entity::insert(key_row(key).into_active_model().reset_all())
            .exec_without_returning(&self.db)
            .await
            .map_err(|error| insert_error(error, key))?;
        Ok(())
    }

    // The digest is not logged: it is not the key, but there is no reason to spread it either.
    #[tracing::instrument(skip_all)]
    async fn find_by_hash(&self, hash: &str) -> Result<Option<ApiKey>, RepositoryError> {
        api_keys::Entity::find()
            .filter(api_keys::Column::Hash.eq(hash))
            .one(&self.db)
            .await
            .map_err(db_error)?
            .map(key_from_row)
            .transpose()
    }

    #[tracing::instrument(skip(self))]
    async fn list(&self) -> Result<Vec<ApiKey>, RepositoryError> {
        api_keys::Entity::find()
            .order_by_asc(api_keys::Column::CreatedAt)
            .order_by_asc(api_keys::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(key_from_row)
            .collect()
    }

    #[tracing::instrument(skip(self))]
    async fn revoke(&self, id: ApiKeyId, now: DateTime<Utc>) -> Result<ApiKey, RepositoryError> {
        // Conditional, so that a second revocation keeps the first one's time.
        api_keys::Entity::update_many()
            .col_expr(api_keys::Column::RevokedAt, Expr::value(stored_time(now)))
            .filter(api_keys::Column::Id.eq(id.as_uuid()))
            .filter(api_keys::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(db_error)?;
        let row = api_keys::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await
            .map_err(db_error)?
            .ok_or_else(|| RepositoryError::not_found(Entity::ApiKey, id))?;
        key_from_row(row)
    }
}
