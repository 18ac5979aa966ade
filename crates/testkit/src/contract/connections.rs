//! Contract checks of `ConnectionRepository`.

use chrono::Duration;
use qbench_domain::{ConnectionId, Secret};
use qbench_repository::Entity;

use super::RepositoryUnderTest;
use super::fixtures::{assert_duplicate_name, assert_not_found, assert_same_connection, connection, now, ok, unique};

/// A connection reads back as written, API key included, by id and by name.
pub async fn check_connection_round_trip(repos: &RepositoryUnderTest) {
    let with_key = connection();
    ok(repos.connections.insert(&with_key).await, "insert connection");
    let read = ok(repos.connections.get(with_key.id).await, "get connection");
    assert_same_connection(&read, &with_key, "get");
    let found = ok(repos.connections.find_by_name(&with_key.spec.name).await, "find_by_name");
    match found {
        Some(found) => assert_same_connection(&found, &with_key, "find_by_name"),
        None => panic!("find_by_name did not find `{}`", with_key.spec.name),
    }
    let missing = ok(repos.connections.find_by_name(&unique("no-such-connection")).await, "find_by_name");
    assert!(missing.is_none(), "find_by_name of an unknown name must be None");

    let mut without_key = connection();
    without_key.spec.api_key = None;
    ok(repos.connections.insert(&without_key).await, "insert connection without key");
    let read = ok(repos.connections.get(without_key.id).await, "get connection without key");
    assert_same_connection(&read, &without_key, "get without key");
}

/// Two connections never share a name, neither on insert nor on update.
pub async fn check_connection_names_are_unique(repos: &RepositoryUnderTest) {
    let first = connection();
    ok(repos.connections.insert(&first).await, "insert first connection");

    let mut clash = connection();
    clash.spec.name = first.spec.name.clone();
    assert_duplicate_name(
        repos.connections.insert(&clash).await,
        Entity::Connection,
        &first.spec.name,
        "insert with a taken name",
    );
    assert_not_found(repos.connections.get(clash.id).await, Entity::Connection, clash.id, "refused insert");

    let mut second = connection();
    ok(repos.connections.insert(&second).await, "insert second connection");
    let own_name = second.spec.name.clone();
    second.spec.name = first.spec.name.clone();
    assert_duplicate_name(
        repos.connections.update(&second).await,
        Entity::Connection,
        &first.spec.name,
        "rename to a taken name",
    );
    let stored = ok(repos.connections.get(second.id).await, "get after refused rename");
    assert_eq!(stored.spec.name, own_name, "a refused rename must change nothing");
}

/// Updates replace everything (the key can be changed and removed); unknown ids are `NotFound`;
/// a deleted connection is gone.
pub async fn check_connection_update_and_delete(repos: &RepositoryUnderTest) {
    let mut stored = connection();
    ok(repos.connections.insert(&stored).await, "insert connection");

    stored.spec.name = unique("renamed");
    stored.spec.url = "https://qdrant.example.org:6334".to_owned();
    stored.spec.api_key = Some(Secret::from(unique("rotated-key")));
    stored.updated_at = now() + Duration::seconds(5);
    ok(repos.connections.update(&stored).await, "update connection");
    assert_same_connection(&ok(repos.connections.get(stored.id).await, "get"), &stored, "after update");

    stored.spec.api_key = None;
    ok(repos.connections.update(&stored).await, "remove the key");
    assert_same_connection(&ok(repos.connections.get(stored.id).await, "get"), &stored, "after removing the key");

    let unknown = ConnectionId::new();
    assert_not_found(repos.connections.get(unknown).await, Entity::Connection, unknown, "get unknown");
    let mut ghost = connection();
    ghost.id = unknown;
    assert_not_found(repos.connections.update(&ghost).await, Entity::Connection, unknown, "update unknown");
    assert_not_found(repos.connections.delete(unknown).await, Entity::Connection, unknown, "delete unknown");

    ok(repos.connections.delete(stored.id).await, "delete connection");
    assert_not_found(repos.connections.get(stored.id).await, Entity::Connection, stored.id, "get deleted");
    let found = ok(repos.connections.find_by_name(&stored.spec.name).await, "find deleted by name");
    assert!(found.is_none(), "a deleted connection must not be found by name");
    assert_not_found(repos.connections.delete(stored.id).await, Entity::Connection, stored.id, "delete twice");

    let mut successor = connection();
    successor.spec.name = stored.spec.name.clone();
    ok(repos.connections.insert(&successor).await, "a deleted connection's name is free again");
}
