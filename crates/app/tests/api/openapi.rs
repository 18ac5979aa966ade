//! The OpenAPI document is the contract: it lists exactly the routes the app serves, every
//! reference in it resolves, every request body has an example, and its viewers are served.

use std::collections::BTreeSet;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

/// Every route of the contract, as registered in `api::configure` and `api::health_routes`.
const ROUTES: [(&str, &str); 68] = [
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/health/ready"),
    ("GET", "/api/v1/metadata/version"),
    ("GET", "/api/v1/metadata/capabilities"),
    ("GET", "/api/v1/connections"),
    ("POST", "/api/v1/connections"),
    ("GET", "/api/v1/connections/{id}"),
    ("PATCH", "/api/v1/connections/{id}"),
    ("DELETE", "/api/v1/connections/{id}"),
    ("GET", "/api/v1/storage"),
    ("POST", "/api/v1/storage"),
    ("GET", "/api/v1/storage/{id}"),
    ("PATCH", "/api/v1/storage/{id}"),
    ("DELETE", "/api/v1/storage/{id}"),
    ("GET", "/api/v1/datasets"),
    ("POST", "/api/v1/datasets"),
    ("GET", "/api/v1/datasets/{id}"),
    ("PATCH", "/api/v1/datasets/{id}"),
    ("DELETE", "/api/v1/datasets/{id}"),
    ("GET", "/api/v1/experiments"),
    ("POST", "/api/v1/experiments"),
    ("POST", "/api/v1/experiments/validate"),
    ("GET", "/api/v1/experiments/{id}"),
    ("PATCH", "/api/v1/experiments/{id}"),
    ("DELETE", "/api/v1/experiments/{id}"),
    ("POST", "/api/v1/experiments/{id}/runs"),
    ("GET", "/api/v1/runs"),
    ("GET", "/api/v1/runs/compare"),
    ("GET", "/api/v1/runs/{id}"),
    ("DELETE", "/api/v1/runs/{id}"),
    ("POST", "/api/v1/runs/bulk-delete"),
    ("POST", "/api/v1/runs/{id}/cancel"),
    ("POST", "/api/v1/runs/{id}/pause"),
    ("GET", "/api/v1/runs/{id}/result"),
    ("GET", "/api/v1/artifacts/{run_id}/{file}"),
    ("GET", "/api/v1/jobs"),
    ("POST", "/api/v1/jobs/noop"),
    ("GET", "/api/v1/jobs/{id}"),
    ("POST", "/api/v1/jobs/{id}/cancel"),
    ("POST", "/api/v1/jobs/{id}/pause"),
    ("POST", "/api/v1/jobs/{id}/resume"),
    ("GET", "/api/v1/metadata/system"),
    ("GET", "/api/v1/studies"),
    ("POST", "/api/v1/studies"),
    ("POST", "/api/v1/studies/validate"),
    ("GET", "/api/v1/studies/{id}"),
    ("POST", "/api/v1/studies/{id}/cancel"),
    ("POST", "/api/v1/datasets/{id}/inspect"),
    ("POST", "/api/v1/reports"),
    ("GET", "/api/v1/reports/{id}"),
    ("GET", "/api/v1/snapshots"),
    ("POST", "/api/v1/snapshots"),
    ("GET", "/api/v1/snapshots/{id}"),
    ("DELETE", "/api/v1/snapshots/{id}"),
    ("POST", "/api/v1/snapshots/{id}/restore"),
    ("POST", "/api/v1/snapshots/bulk-delete"),
    ("POST", "/api/v1/experiments/bulk-delete"),
    ("POST", "/api/v1/connections/{id}/test"),
    ("GET", "/api/v1/connections/{id}/health"),
    ("GET", "/api/v1/connections/{id}/stats"),
    ("GET", "/api/v1/backfills"),
    ("POST", "/api/v1/backfills"),
    ("GET", "/api/v1/backfills/{id}"),
    ("GET", "/api/v1/backfills/{id}/work-items"),
    ("POST", "/api/v1/backfills/{id}/commands"),
];

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

async fn spec(app: &TestApp) -> Value {
    let reply = app.get("/openapi.json").await;
    reply.expect(200);
    assert_eq!(reply.media_type(), "application/json");
    reply.body
}

/// Every (method, path, operation) of the document.
fn operations(spec: &Value) -> Vec<(String, String, &Value)> {
    let paths = spec["paths"].as_object().expect("`paths` is an object");
    let mut operations = Vec::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("a path item is an object") {
            if METHODS.contains(&method.as_str()) {
                operations.push((method.to_uppercase(), path.clone(), operation));
            }
        }
    }
    operations
}

/// Follows `value` if it is a `$ref`.
fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => spec
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("unresolved reference {reference}")),
        None => value,
    }
}

fn collect_refs<'a>(value: &'a Value, at: String, found: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref" {
                    if let Some(reference) = child.as_str() {
                        found.push((at.clone(), reference));
                    }
                } else {
                    collect_refs(child, format!("{at}/{key}"), found);
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                collect_refs(child, format!("{at}/{index}"), found);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}

#[actix_web::test]
async fn the_document_is_openapi_3_0_and_lists_exactly_the_served_routes() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    let version = spec["openapi"].as_str().expect("an `openapi` version");
    assert!(version.starts_with("3.0."), "OpenAPI 3.0.x, got {version}");
    assert_eq!(spec["info"]["title"], "qbench");
    assert_eq!(spec["info"]["version"], env!("CARGO_PKG_VERSION"));

    let documented: BTreeSet<(String, String)> =
        operations(&spec).into_iter().map(|(method, path, _)| (method, path)).collect();
    let expected: BTreeSet<(String, String)> =
        ROUTES.iter().map(|(method, path)| ((*method).to_owned(), (*path).to_owned())).collect();
    let missing: Vec<_> = expected.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "not documented: {missing:?}; documented but not in the contract: {extra:?}"
    );
}

#[actix_web::test]
async fn every_documented_route_is_served() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    let mut unserved = Vec::new();
    for (method, path, _) in operations(&spec) {
        // A malformed id reaches the handler's extractor (400) when the route exists, and can
        // never be confused with an object that does not exist (404).
        let uri = path.replace("{id}", "dummy-id");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let reply = app.send(TestRequest::default().method(method.clone()).uri(&uri)).await;
        if matches!(reply.status.as_u16(), 404 | 405) {
            unserved.push(format!("{method} {uri} answered {}", reply.status));
        }
    }
    assert!(unserved.is_empty(), "documented but not served:\n{}", unserved.join("\n"));
}

#[actix_web::test]
async fn every_reference_resolves() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    let mut references = Vec::new();
    collect_refs(&spec, String::new(), &mut references);
    assert!(!references.is_empty());
    let dangling: Vec<String> = references
        .iter()
        .filter(|(_, reference)| {
            !reference.starts_with("#/") || spec.pointer(reference.trim_start_matches('#')).is_none()
        })
        .map(|(at, reference)| format!("{at}: {reference}"))
        .collect();
    assert!(dangling.is_empty(), "references to nothing:\n{}", dangling.join("\n"));
}

/// OpenAPI 3.0: "The id MUST be unique among all operations described in the API"; code
/// generators name client methods after it.
#[actix_web::test]
async fn every_operation_has_a_unique_operation_id() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    let mut seen: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for (method, path, operation) in operations(&spec) {
        let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        seen.entry(id.to_owned()).or_default().push(format!("{method} {path}"));
    }
    let shared: Vec<String> = seen
        .into_iter()
        .filter(|(_, operations)| operations.len() > 1)
        .map(|(id, operations)| format!("{id}: {}", operations.join(", ")))
        .collect();
    assert!(shared.is_empty(), "operationIds used by more than one operation:\n{}", shared.join("\n"));
}

#[actix_web::test]
async fn every_request_body_has_an_example() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    let mut bodies = 0;
    let mut without = Vec::new();
    for (method, path, operation) in operations(&spec) {
        let Some(body) = operation.get("requestBody") else { continue };
        let body = resolve(&spec, body);
        let content = body["content"].as_object().unwrap_or_else(|| panic!("{method} {path}: a body without content"));
        for (media_type, media) in content {
            bodies += 1;
            let schema = resolve(&spec, &media["schema"]);
            let has_example = media.get("example").is_some()
                || media.get("examples").is_some()
                || schema.get("example").is_some()
                || schema.get("examples").is_some();
            if !has_example {
                without.push(format!("{method} {path} ({media_type}, schema {})", media["schema"]));
            }
        }
    }
    assert!(bodies >= 9, "the create, validate and patch operations document their bodies ({bodies} found)");
    assert!(without.is_empty(), "request bodies without an example:\n{}", without.join("\n"));
}

#[actix_web::test]
async fn errors_are_documented_as_problem_json() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    let mut undocumented = Vec::new();
    for (method, path, operation) in operations(&spec) {
        let responses = operation["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}: no responses"));
        for (status, response) in responses {
            if !status.starts_with('4') && !status.starts_with('5') {
                continue;
            }
            // The probes answer 503 with their own health body, documented as such.
            if status == "503" && operation["tags"] == serde_json::json!(["operations"]) {
                continue;
            }
            let response = resolve(&spec, response);
            if response["content"].get("application/problem+json").is_none() {
                undocumented.push(format!("{method} {path} {status}"));
            }
        }
    }
    assert!(undocumented.is_empty(), "error responses not documented as problem+json:\n{}", undocumented.join("\n"));
}

#[actix_web::test]
async fn the_documentation_viewers_are_served() {
    let app = spawn_app().await;
    for path in ["/docs", "/redoc"] {
        let reply = app.get(path).await;
        // Swagger UI may redirect `/docs` to `/docs/`; follow one hop.
        let reply = if reply.status.is_redirection() {
            let target = reply.header("location").to_owned();
            app.get(&target).await
        } else {
            reply
        };
        reply.expect(200);
        assert_eq!(reply.media_type(), "text/html", "{path}");
        assert!(reply.text.to_lowercase().contains("<html"), "{path}: {}", reply.text);
        assert!(reply.text.contains("/openapi.json"), "{path} loads the document");
        // Offline: nothing from a CDN, every script and style from qbench itself.
        assert!(!reply.text.contains("http://") && !reply.text.contains("https://"), "{path}: {}", reply.text);
        let assets: Vec<&str> =
            reply.text.split(['"', '\'']).filter(|part| part.starts_with(&format!("{path}/assets/"))).collect();
        assert!(!assets.is_empty(), "{path}: {}", reply.text);
        for asset in assets {
            let served = app.get(asset).await;
            served.expect(200);
            let expected = if asset.ends_with(".css") { "text/css" } else { "text/javascript" };
            assert_eq!(served.media_type(), expected, "{asset}");
            assert!(served.text.len() > 100, "{asset}");
        }
    }
    assert_eq!(app.get("/docs/assets/secret.key").await.status.as_u16(), 404);
}
