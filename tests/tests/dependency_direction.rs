//! Dependency direction: the domain, the ports and the service must never
//! depend (transitively, through normal dependencies) on an adapter crate or
//! on an adapter technology (ORMs, HTTP frameworks, storage/vector clients).
//!
//! The check runs `cargo metadata` and walks `resolve.nodes`, following only
//! edges whose `dep_kinds` contain a normal (`kind: null`) entry.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

/// Workspace crates that must stay free of adapters and adapter technology.
const CORE_CRATES: &[&str] =
    &["qbench-domain", "qbench-repository", "qbench-storage", "qbench-vector-store", "qbench-report", "qbench-service"];

/// Adapter crates and adapter technologies (package names). In addition, any
/// workspace package whose manifest lives under `crates/adapters/` counts as
/// forbidden (see [`violations`]).
const FORBIDDEN: &[&str] = &[
    // adapter crates
    "qbench-sql",
    "qbench-app",
    // adapter technology
    "sea-orm",
    "sea-query",
    "sqlx",
    "actix-web",
    "actix-rt",
    "actix-http",
    "apistos",
    "qdrant-client",
    "qdrant-edge",
    "object_store",
    "reqwest",
    "hyper",
    "tonic",
];

/// Directory (relative to the workspace root) holding adapter crates.
const ADAPTERS_DIR: &str = "crates/adapters";

/// Returns one message per forbidden package reachable from the workspace
/// package `crate_name` through normal (non-dev) dependencies, in the form
/// `a -> b -> forbidden`. A package is forbidden if its name is in `forbidden`
/// or if it is a workspace member whose manifest is under `crates/adapters/`.
fn violations(metadata: &Value, crate_name: &str, forbidden: &[&str]) -> Vec<String> {
    let empty = Vec::new();
    let packages = metadata["packages"].as_array().unwrap_or(&empty);
    let members = metadata["workspace_members"].as_array().unwrap_or(&empty);
    let workspace_root = metadata["workspace_root"].as_str().map(PathBuf::from);

    // package id -> (name, manifest path)
    let by_id: HashMap<&str, (&str, &str)> = packages
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, (p["name"].as_str()?, p["manifest_path"].as_str().unwrap_or("")))))
        .collect();
    let name_of = |id: &str| by_id.get(id).map_or(id, |(name, _)| name).to_owned();

    let is_adapter_member = |id: &str| -> bool {
        let (Some(root), Some((_, manifest))) = (&workspace_root, by_id.get(id)) else {
            return false;
        };
        members.iter().any(|m| m.as_str() == Some(id)) && Path::new(manifest).starts_with(root.join(ADAPTERS_DIR))
    };
    let is_forbidden = |id: &str| forbidden.contains(&name_of(id).as_str()) || is_adapter_member(id);

    let Some(start) = members.iter().filter_map(Value::as_str).find(|id| name_of(id) == crate_name) else {
        return vec![format!("{crate_name}: not a workspace member in cargo metadata")];
    };

    // package id -> ids of its normal dependencies
    let nodes = metadata["resolve"]["nodes"].as_array().unwrap_or(&empty);
    let normal_deps: HashMap<&str, Vec<&str>> = nodes
        .iter()
        .filter_map(|node| {
            let deps = node["deps"]
                .as_array()
                .unwrap_or(&empty)
                .iter()
                .filter(|dep| {
                    dep["dep_kinds"].as_array().is_some_and(|kinds| kinds.iter().any(|k| k["kind"].is_null()))
                })
                .filter_map(|dep| dep["pkg"].as_str())
                .collect();
            Some((node["id"].as_str()?, deps))
        })
        .collect();

    // Breadth-first search, remembering the parent to rebuild shortest paths.
    let mut parent: HashMap<&str, Option<&str>> = HashMap::from([(start, None)]);
    let mut queue = VecDeque::from([start]);
    let mut found: BTreeMap<String, String> = BTreeMap::new();
    while let Some(id) = queue.pop_front() {
        if id != start && is_forbidden(id) {
            let mut path = vec![name_of(id)];
            let mut cursor = parent.get(id).copied().flatten();
            while let Some(p) = cursor {
                path.push(name_of(p));
                cursor = parent.get(p).copied().flatten();
            }
            path.reverse();
            found.entry(id.to_owned()).or_insert_with(|| path.join(" -> "));
        }
        for &dep in normal_deps.get(id).map_or(&[][..], Vec::as_slice) {
            if !parent.contains_key(dep) {
                parent.insert(dep, Some(id));
                queue.push_back(dep);
            }
        }
    }
    found.into_values().collect()
}

fn cargo_metadata() -> Value {
    // The manifest directory as the test runner reports it now, so a test binary built in another
    // checkout of the workspace (sharing the build cache) still inspects this one.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    let workspace_root = Path::new(&manifest_dir).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(&cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(&workspace_root)
        .output()
        .unwrap_or_else(|e| panic!("failed to run `{cargo} metadata`: {e}"));
    assert!(output.status.success(), "`{cargo} metadata` failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("`cargo metadata` printed invalid JSON: {e}"))
}

#[test]
fn core_crates_do_not_depend_on_adapters() {
    let metadata = cargo_metadata();
    let mut all = Vec::new();
    for krate in CORE_CRATES {
        all.extend(violations(&metadata, krate, FORBIDDEN));
    }
    all.extend(violations(&metadata, "qbench-domain", &["tokio"]));
    assert!(
        all.is_empty(),
        "forbidden dependency paths (core crates must not depend on adapters, \
         adapter technology, or — for the domain — tokio):\n  {}",
        all.join("\n  ")
    );
}

/// Proves the checker can fail: a port that reaches sea-orm, directly and
/// through an adapter crate, is reported with its path; a dev-dependency is not.
#[test]
fn checker_reports_a_port_depending_on_sea_orm() {
    let pkg = |name: &str, manifest: &str| {
        let id = format!("{name} 0.1.0");
        json!({ "id": id, "name": name, "manifest_path": manifest })
    };
    let dep = |name: &str, kind: Value| {
        let kinds = json!([{ "kind": kind, "target": null }]);
        json!({ "pkg": format!("{name} 0.1.0"), "dep_kinds": kinds })
    };
    let metadata = json!({
        "workspace_root": "/ws",
        "workspace_members": [
            "qbench-domain 0.1.0", "qbench-repository 0.1.0",
            "qbench-service 0.1.0", "qbench-pg 0.1.0"
        ],
        "packages": [
            pkg("qbench-domain", "/ws/crates/domain/Cargo.toml"),
            pkg("qbench-repository", "/ws/crates/ports/repository/Cargo.toml"),
            pkg("qbench-service", "/ws/crates/service/Cargo.toml"),
            pkg("qbench-pg", "/ws/crates/adapters/pg/Cargo.toml"),
            pkg("sea-orm", "/registry/sea-orm/Cargo.toml"),
            pkg("sqlx", "/registry/sqlx/Cargo.toml"),
        ],
        "resolve": { "nodes": [
            { "id": "qbench-domain 0.1.0", "deps": [dep("sqlx", json!("dev"))] },
            { "id": "qbench-repository 0.1.0",
              "deps": [dep("qbench-domain", Value::Null), dep("sea-orm", Value::Null)] },
            { "id": "qbench-service 0.1.0", "deps": [dep("qbench-pg", Value::Null)] },
            { "id": "qbench-pg 0.1.0", "deps": [dep("sea-orm", Value::Null)] },
            { "id": "sea-orm 0.1.0", "deps": [dep("sqlx", Value::Null)] },
            { "id": "sqlx 0.1.0", "deps": [] },
        ]},
    });

    assert_eq!(
        violations(&metadata, "qbench-repository", FORBIDDEN),
        ["qbench-repository -> sea-orm", "qbench-repository -> sea-orm -> sqlx"]
    );
    // `qbench-pg` is not in FORBIDDEN by name: it is caught by its manifest path.
    assert_eq!(
        violations(&metadata, "qbench-service", FORBIDDEN),
        [
            "qbench-service -> qbench-pg",
            "qbench-service -> qbench-pg -> sea-orm",
            "qbench-service -> qbench-pg -> sea-orm -> sqlx",
        ]
    );
    // Dev-dependencies are allowed.
    assert!(violations(&metadata, "qbench-domain", FORBIDDEN).is_empty());
    // Unknown crates are reported rather than silently passing.
    assert_eq!(violations(&metadata, "qbench-nope", FORBIDDEN).len(), 1);
}
