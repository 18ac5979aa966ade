//! API keys: created, listed and revoked by the operator, presented by scripts and CI.

use std::sync::Arc;
use std::time::Duration;

use qbench_domain::{ApiKey, ApiKeyId, Caller, Role, Secret, Violation};
use qbench_repository::ApiKeyRepository;
use rand::SeedableRng;
use rand::rngs::{StdRng, SysRng};

use crate::ServiceError;
use crate::clock::now;
use crate::error::ensure_valid;

/// Use cases on API keys.
///
/// `create`, `list` and `revoke` are the operator's (the `qbench admin api-key` commands, run
/// with access to the database), not a caller's: they take no [`Caller`]. `authenticate` turns a
/// presented key into the caller it acts as.
#[derive(Clone)]
pub struct ApiKeyService {
    keys: Arc<dyn ApiKeyRepository>,
}

impl ApiKeyService {
    /// A service over `keys`.
    pub fn new(keys: Arc<dyn ApiKeyRepository>) -> Self {
        Self { keys }
    }

    /// A new key for `user` with `role`, valid for `expires_in` (for ever when `None`): the stored
    /// record and the key itself, which exists nowhere else and must be shown once.
    ///
    /// # Errors
    /// `Invalid` for an empty user or a zero or unrepresentably long validity; `Internal` when
    /// the operating system gives no randomness; repository errors.
    #[tracing::instrument(skip(self), fields(role = %role))]
    pub async fn create(
        &self,
        user: &str,
        role: Role,
        expires_in: Option<Duration>,
    ) -> Result<(ApiKey, Secret), ServiceError> {
        let user = user.trim();
        let mut violations = Vec::new();
        if user.is_empty() {
            violations.push(Violation::new("user", "must not be empty"));
        }
        let created_at = now();
        let expires_at = match expires_in {
            None => None,
            Some(expires_in) if expires_in.is_zero() => {
                violations.push(Violation::new("expires", "must be longer than zero"));
                None
            }
            Some(expires_in) => {
                let expires_at = chrono::Duration::from_std(expires_in)
                    .ok()
                    .and_then(|expires_in| created_at.checked_add_signed(expires_in));
                if expires_at.is_none() {
                    violations.push(Violation::new("expires", "is too far in the future"));
                }
                expires_at
            }
        };
        ensure_valid(violations)?;
        let mut rng = StdRng::try_from_rng(&mut SysRng)
            .map_err(|error| ServiceError::Internal(format!("no randomness for an API key: {error}")))?;
        let (key, plaintext) = ApiKey::generate(user, role, created_at, expires_at, &mut rng);
        self.keys.insert(&key).await?;
        Ok((key, plaintext))
    }

    /// Every key, oldest first (digests included: the edge shows none of them).
    ///
    /// # Errors
    /// Repository errors.
    pub async fn list(&self) -> Result<Vec<ApiKey>, ServiceError> {
        Ok(self.keys.list().await?)
    }

    /// Revokes the key with `id`: from now on it identifies nobody. Revoking a revoked key
    /// changes nothing.
    ///
    /// # Errors
    /// `NotFound` for an unknown id; repository errors.
    #[tracing::instrument(skip(self))]
    pub async fn revoke(&self, id: ApiKeyId) -> Result<ApiKey, ServiceError> {
        Ok(self.keys.revoke(id, now()).await?)
    }

    /// The caller `plaintext` acts as: `None` for an unknown, revoked or expired key. The key is
    /// looked up by its digest, so no comparison of secrets happens here whose timing could tell
    /// anything.
    ///
    /// # Errors
    /// Repository errors (a database that is down is not an invalid key).
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, plaintext: &str) -> Result<Option<Caller>, ServiceError> {
        if !ApiKey::looks_like(plaintext) {
            return Ok(None);
        }
        let key = self.keys.find_by_hash(&ApiKey::digest(plaintext)).await?;
        Ok(key.filter(|key| key.is_active(now())).map(|key| key.caller()))
    }
}

#[cfg(test)]
mod tests {
    use qbench_testkit::memory::in_memory_repositories;
    use secrecy::ExposeSecret;

    use super::*;

    fn service() -> ApiKeyService {
        ApiKeyService::new(in_memory_repositories().0.api_keys)
    }

    #[tokio::test]
    async fn a_created_key_authenticates_as_its_user_and_role_until_revoked() {
        let keys = service();
        let (key, plaintext) = keys.create(" ci@example.com ", Role::Editor, None).await.unwrap();
        assert_eq!((key.user.as_str(), key.role, key.expires_at), ("ci@example.com", Role::Editor, None));
        let caller = keys.authenticate(plaintext.expose_secret()).await.unwrap().unwrap();
        assert_eq!((caller.user(), caller.role()), ("ci@example.com", Some(Role::Editor)));

        let listed = keys.list().await.unwrap();
        assert_eq!(listed, vec![key.clone()]);

        let revoked = keys.revoke(key.id).await.unwrap();
        assert!(revoked.revoked_at.is_some());
        assert_eq!(keys.authenticate(plaintext.expose_secret()).await.unwrap(), None, "a revoked key");
        assert!(matches!(keys.revoke(ApiKeyId::new()).await, Err(ServiceError::NotFound { .. })));
    }

    #[tokio::test]
    async fn unknown_malformed_and_expired_keys_identify_nobody() {
        let keys = service();
        let (_, plaintext) = keys.create("ci", Role::Viewer, None).await.unwrap();
        let mut wrong = plaintext.expose_secret().to_owned();
        wrong.pop();
        wrong.push('!');
        assert_eq!(keys.authenticate(&wrong).await.unwrap(), None, "an unknown key");
        assert_eq!(keys.authenticate("not-a-key").await.unwrap(), None);
        assert_eq!(keys.authenticate("").await.unwrap(), None);

        let (key, plaintext) = keys.create("ci", Role::Viewer, Some(Duration::from_millis(1))).await.unwrap();
        assert!(key.expires_at.is_some_and(|expires_at| expires_at > key.created_at));
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(keys.authenticate(plaintext.expose_secret()).await.unwrap(), None, "an expired key");

        let (_, fresh) = keys.create("ci", Role::Viewer, Some(Duration::from_secs(3600))).await.unwrap();
        assert!(keys.authenticate(fresh.expose_secret()).await.unwrap().is_some(), "a key before its expiry");
    }

    #[tokio::test]
    async fn a_key_needs_a_user_and_a_positive_validity() {
        let keys = service();
        let Err(ServiceError::Invalid(violations)) = keys.create("  ", Role::Admin, Some(Duration::ZERO)).await else {
            panic!("an empty user and a zero validity must be refused");
        };
        let fields: Vec<&str> = violations.iter().map(|violation| violation.field.as_str()).collect();
        assert_eq!(fields, ["user", "expires"]);
        assert!(keys.list().await.unwrap().is_empty(), "nothing was stored");
        assert!(matches!(keys.create("ci", Role::Admin, Some(Duration::MAX)).await, Err(ServiceError::Invalid(_))));
    }
}
