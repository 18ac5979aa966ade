//! Contract checks of `StorageRepository`.

use chrono::Duration;
use qbench_domain::{Secret, StorageId};
use qbench_repository::Entity;

use super::RepositoryUnderTest;
use super::fixtures::{assert_duplicate_name, assert_not_found, assert_same_storage, now, ok, storage, unique};

/// A storage reads back as written, both keys included; so does one without name or keys.
pub async fn check_storage_round_trip(repos: &RepositoryUnderTest) {
    let full = storage(true);
    ok(repos.storages.insert(&full).await, "insert storage");
    assert_same_storage(&ok(repos.storages.get(full.id).await, "get storage"), &full, "get");

    let mut bare = storage(false);
    bare.spec.endpoint_url = None;
    bare.spec.access_key = None;
    bare.spec.secret_key = None;
    ok(repos.storages.insert(&bare).await, "insert bare storage");
    assert_same_storage(&ok(repos.storages.get(bare.id).await, "get bare storage"), &bare, "get bare");
}

/// Names are unique when given; any number of storages may have none.
pub async fn check_storage_names_are_unique_when_given(repos: &RepositoryUnderTest) {
    let unnamed = [storage(false), storage(false)];
    for storage in &unnamed {
        ok(repos.storages.insert(storage).await, "insert an unnamed storage");
    }

    let named = storage(true);
    ok(repos.storages.insert(&named).await, "insert named storage");
    let taken = named.spec.name.clone().unwrap_or_default();
    let mut clash = storage(false);
    clash.spec.name = Some(taken.clone());
    assert_duplicate_name(repos.storages.insert(&clash).await, Entity::Storage, &taken, "insert with a taken name");

    let mut renamed = unnamed[0].clone();
    renamed.spec.name = Some(taken.clone());
    assert_duplicate_name(repos.storages.update(&renamed).await, Entity::Storage, &taken, "rename to a taken name");
    assert_eq!(ok(repos.storages.get(renamed.id).await, "get").spec.name, None, "a refused rename changes nothing");

    renamed.spec.name = Some(unique("storage"));
    ok(repos.storages.update(&renamed).await, "rename to a free name");
    renamed.spec.name = None;
    ok(repos.storages.update(&renamed).await, "remove the name again");
}

/// Updates replace everything, keys included; unknown ids are `NotFound`; a deleted storage is
/// gone.
pub async fn check_storage_update_and_delete(repos: &RepositoryUnderTest) {
    let mut stored = storage(true);
    ok(repos.storages.insert(&stored).await, "insert storage");

    stored.spec.bucket = "other-bucket".to_owned();
    stored.spec.region = "us-east-1".to_owned();
    stored.spec.endpoint_url = None;
    stored.spec.access_key = Some(Secret::from(unique("rotated-access")));
    stored.spec.secret_key = None;
    stored.updated_at = now() + Duration::seconds(5);
    ok(repos.storages.update(&stored).await, "update storage");
    assert_same_storage(&ok(repos.storages.get(stored.id).await, "get"), &stored, "after update");

    let unknown = StorageId::new();
    assert_not_found(repos.storages.get(unknown).await, Entity::Storage, unknown, "get unknown");
    let mut ghost = storage(true);
    ghost.id = unknown;
    assert_not_found(repos.storages.update(&ghost).await, Entity::Storage, unknown, "update unknown");
    assert_not_found(repos.storages.delete(unknown).await, Entity::Storage, unknown, "delete unknown");

    ok(repos.storages.delete(stored.id).await, "delete storage");
    assert_not_found(repos.storages.get(stored.id).await, Entity::Storage, stored.id, "get deleted");
}
