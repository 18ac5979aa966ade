//! Contract checks of `ApiKeyRepository`.

use chrono::Duration;
use qbench_domain::{ApiKey, ApiKeyId, Role};
use qbench_repository::{Entity, RepositoryError};

use super::RepositoryUnderTest;
use super::fixtures::{assert_not_found, err, far_future, now, ok, unique};

/// A stored key record for `user` (a digest of a fresh random string, as the repository never
/// sees a key).
fn api_key(user: &str) -> ApiKey {
    let plaintext = unique("qb_contract");
    ApiKey {
        id: ApiKeyId::new(),
        user: user.to_owned(),
        role: Role::Editor,
        prefix: plaintext.chars().take(7).collect(),
        hash: ApiKey::digest(&plaintext),
        created_at: now(),
        expires_at: Some(now() + Duration::days(30)),
        revoked_at: None,
    }
}

/// A key reads back as written by its digest and in the list, oldest first; an unknown digest is
/// `None`; digests are unique.
pub async fn check_api_key_round_trip(repos: &RepositoryUnderTest) {
    let user = unique("ci");
    let mut first = api_key(&user);
    first.created_at = far_future();
    let mut second = api_key(&user);
    second.role = Role::Admin;
    second.expires_at = None;
    second.created_at = far_future() + Duration::seconds(1);
    ok(repos.api_keys.insert(&first).await, "insert API key");
    ok(repos.api_keys.insert(&second).await, "insert second API key");

    let found = ok(repos.api_keys.find_by_hash(&first.hash).await, "find_by_hash");
    assert_eq!(found.as_ref(), Some(&first), "find_by_hash answers the key as stored");
    let found = ok(repos.api_keys.find_by_hash(&second.hash).await, "find_by_hash");
    assert_eq!(found.as_ref(), Some(&second), "a key without expiry reads back without one");
    let missing = ok(repos.api_keys.find_by_hash(&ApiKey::digest(&unique("qb_nobody"))).await, "find_by_hash");
    assert!(missing.is_none(), "an unknown digest finds nothing");

    let listed: Vec<ApiKey> =
        ok(repos.api_keys.list().await, "list API keys").into_iter().filter(|key| key.user == user).collect();
    assert_eq!(listed, vec![first.clone(), second.clone()], "list, oldest first");

    let mut clash = api_key(&user);
    clash.hash = first.hash.clone();
    let error = err(repos.api_keys.insert(&clash).await, "insert a taken digest");
    assert!(
        matches!(error, RepositoryError::Duplicate { entity: Entity::ApiKey, field: "hash", .. }),
        "a taken digest is Duplicate {{ field: \"hash\" }}: {error:?}"
    );
    let error = err(repos.api_keys.insert(&first).await, "insert a taken id");
    assert!(matches!(error, RepositoryError::Duplicate { entity: Entity::ApiKey, .. }), "{error:?}");
}

/// Revoking marks the key with its first revocation time and answers it; an unknown id is
/// `NotFound`.
pub async fn check_api_key_revocation(repos: &RepositoryUnderTest) {
    let key = api_key(&unique("ci"));
    ok(repos.api_keys.insert(&key).await, "insert API key");
    let revoked_at = now();
    let revoked = ok(repos.api_keys.revoke(key.id, revoked_at).await, "revoke");
    assert_eq!(revoked.revoked_at, Some(revoked_at), "revoke answers the revoked key");
    let again = ok(repos.api_keys.revoke(key.id, revoked_at + Duration::seconds(60)).await, "revoke again");
    assert_eq!(again.revoked_at, Some(revoked_at), "a second revocation keeps the first time");
    let stored = ok(repos.api_keys.find_by_hash(&key.hash).await, "find_by_hash");
    assert_eq!(stored.and_then(|key| key.revoked_at), Some(revoked_at), "the revocation is stored");
    let unknown = ApiKeyId::new();
    assert_not_found(repos.api_keys.revoke(unknown, now()).await, Entity::ApiKey, unknown, "revoke unknown");
}
