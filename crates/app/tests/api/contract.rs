//! The findings of the Schemathesis run against the server (issue 11): each test is named after
//! what disagreed between `/openapi.json` and the answers, and checks both sides of the contract.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, dense_dataset, fields, message_for, seed_storage, spawn_app};

async fn spec(app: &TestApp) -> Value {
    let reply = app.get("/openapi.json").await;
    reply.expect(200);
    reply.body
}

/// Follows `value` if it is a `$ref`.
fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => spec.pointer(reference.trim_start_matches('#')).unwrap_or_else(|| panic!("{reference}")),
        None => value,
    }
}

/// The component schema `name`.
fn component<'a>(spec: &'a Value, name: &str) -> &'a Value {
    spec.pointer(&format!("/components/schemas/{name}")).unwrap_or_else(|| panic!("no component {name}"))
}

/// The (resolved) request body schema of `method path`.
fn body_schema<'a>(spec: &'a Value, method: &str, path: &str) -> &'a Value {
    let operation = &spec["paths"][path][method];
    resolve(spec, &operation["requestBody"]["content"]["application/json"]["schema"])
}

/// The schema of query parameter `name` of `GET path`.
fn query_parameter<'a>(spec: &'a Value, path: &str, name: &str) -> &'a Value {
    spec["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("GET {path} has no parameters"))
        .iter()
        .find(|parameter| parameter["name"] == name)
        .map(|parameter| &parameter["schema"])
        .unwrap_or_else(|| panic!("GET {path} has no parameter {name}"))
}

const LISTS: [(&str, &str); 5] = [
    ("/api/v1/connections", "ConnectionResponse"),
    ("/api/v1/storage", "StorageResponse"),
    ("/api/v1/datasets", "DatasetResponse"),
    ("/api/v1/experiments", "ExperimentResponse"),
    ("/api/v1/runs", "RunResponse"),
];

#[actix_web::test]
async fn list_endpoints_were_documented_as_objects_but_return_arrays() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    for (path, item) in LISTS {
        let ok = &spec["paths"][path]["get"]["responses"]["200"];
        let schema = &ok["content"]["application/json"]["schema"];
        assert_eq!(schema["type"], "array", "GET {path}: {schema:#}");
        assert_eq!(schema["items"]["$ref"], format!("#/components/schemas/{item}"), "GET {path}");
        for header in ["X-Total-Count", "Link"] {
            assert!(ok["headers"][header]["schema"].is_object(), "GET {path} documents {header}: {ok:#}");
        }
        let reply = app.get(path).await;
        reply.expect(200);
        assert!(reply.body.is_array(), "GET {path} answers an array: {reply:#?}");
        reply.header("x-total-count");
        reply.header("link");
    }
}

#[actix_web::test]
async fn page_parameters_were_documented_with_minimum_0_although_0_is_refused() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    let max_offset = 1_000_000_000_000_000_u64;
    let max_page = max_offset / 1000 + 1;
    for (path, _) in LISTS {
        for (name, minimum, maximum) in
            [("limit", 1, 1000), ("page_size", 1, 1000), ("page", 1, max_page), ("offset", 0, max_offset)]
        {
            let schema = query_parameter(&spec, path, name);
            assert_eq!(schema["minimum"].as_f64(), Some(minimum as f64), "{path} {name}: {schema:#}");
            assert_eq!(schema["maximum"].as_f64(), Some(maximum as f64), "{path} {name}: {schema:#}");
            // The bound is exact as a JSON number: what the document says is what is checked.
            assert_eq!(schema["maximum"].as_f64().map(|max| max as u64), Some(maximum), "{path} {name}");
            for (value, status) in [(minimum, 200), (maximum, 200), (maximum + 1, 400)] {
                let reply = app.get(&format!("{path}?{name}={value}")).await;
                if status == 400 {
                    assert_problem(&reply, 400);
                    assert_eq!(fields(&reply.body["errors"]), [name], "{path}?{name}={value}");
                } else {
                    reply.expect(status);
                }
            }
            if minimum > 0 {
                let zero = app.get(&format!("{path}?{name}=0")).await;
                assert_problem(&zero, 400);
                assert_eq!(fields(&zero.body["errors"]), [name], "{path}?{name}=0");
            }
        }
    }
    // The largest page at the largest page size is still answered.
    app.get(&format!("/api/v1/connections?page={max_page}&page_size=1000")).await.expect(200);
}

#[actix_web::test]
async fn the_run_status_filter_was_documented_as_any_string() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    let status = resolve(&spec, query_parameter(&spec, "/api/v1/runs", "status"));
    let status = match status.get("allOf") {
        Some(all_of) => resolve(&spec, &all_of[0]),
        None => status,
    };
    let values: Vec<&Value> = status["oneOf"]
        .as_array()
        .unwrap_or_else(|| panic!("{status:#}"))
        .iter()
        .flat_map(|variant| variant["enum"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(values, ["CREATED", "RUNNING", "COMPLETED", "FAILED", "CANCELED"], "{status:#}");
    app.get("/api/v1/runs?status=CANCELED").await.expect(200);
    let lowercase = app.get("/api/v1/runs?status=canceled").await;
    assert_problem(&lowercase, 400);
    assert_eq!(fields(&lowercase.body["errors"]), ["status"]);
}

/// The write form each PATCH merges into.
const PATCHES: [(&str, &str, &str); 4] = [
    ("/api/v1/connections/{id}", "ConnectionRequest", "ConnectionPatch"),
    ("/api/v1/storage/{id}", "StorageRequest", "StoragePatch"),
    ("/api/v1/datasets/{id}", "DatasetRequest", "DatasetPatch"),
    ("/api/v1/experiments/{id}", "ExperimentRequest", "ExperimentPatch"),
];

#[actix_web::test]
async fn patch_bodies_were_documented_as_free_form_objects() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    for (path, write_form, patch) in PATCHES {
        let operation = &spec["paths"][path]["patch"];
        let reference = &operation["requestBody"]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(reference, &json!(format!("#/components/schemas/{patch}")), "PATCH {path}");
        let schema = body_schema(&spec, "patch", path);
        let write = component(&spec, write_form);
        assert_eq!(schema["type"], "object", "{patch}");
        assert_eq!(schema["additionalProperties"], json!(false), "{patch} refuses unknown fields: {schema:#}");
        assert!(schema.get("required").is_none(), "every field of a merge patch is optional: {schema:#}");
        let names =
            |schema: &Value| -> Vec<String> { schema["properties"].as_object().unwrap().keys().cloned().collect() };
        assert_eq!(names(schema), names(write), "{patch} has the fields of {write_form}");
        // A field the write form requires cannot be removed; every other one takes null.
        let required: Vec<&str> =
            write["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        for (name, property) in schema["properties"].as_object().unwrap() {
            let nullable = property["nullable"] == json!(true);
            assert_eq!(nullable, !required.contains(&name.as_str()), "{patch}.{name}: {property:#}");
        }
    }

    // The server agrees: an unknown field is refused naming it, a known one is merged.
    let storage = app.create("/api/v1/storage", seed_storage()).await;
    let path = format!("/api/v1/storage/{}", storage["id"].as_str().unwrap());
    let unknown = app.patch_json(&path, &json!({"bukket": "other"})).await;
    assert_problem(&unknown, 422);
    assert_eq!(fields(&unknown.body["errors"]), ["bukket"]);
    // Removing a field that does not exist is no less unknown, at the top or nested.
    let removed = app.patch_json(&path, &json!({"": null})).await;
    assert_problem(&removed, 422);
    assert_eq!(fields(&removed.body["errors"]), [""]);
    let renamed = app.patch_json(&path, &json!({"name": "renamed", "endpoint_url": null})).await;
    renamed.expect(200);
    assert_eq!((&renamed.body["name"], &renamed.body["endpoint_url"]), (&json!("renamed"), &Value::Null));
    let required_removed = app.patch_json(&path, &json!({"bucket": null})).await;
    assert_problem(&required_removed, 422);
    assert_eq!(fields(&required_removed.body["errors"]), ["bucket"]);
}

#[actix_web::test]
async fn an_empty_secret_key_was_accepted() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    for (schema, secret) in
        [("StorageRequest", "secret_key"), ("StorageRequest", "access_key"), ("ConnectionRequest", "api_key")]
    {
        let property = &component(&spec, schema)["properties"][secret];
        assert_eq!(property["minLength"], json!(1), "{schema}.{secret}: {property:#}");
        assert_eq!(property["maxLength"], json!(4096), "{schema}.{secret}: {property:#}");
    }

    let empty =
        app.post_json("/api/v1/storage", &json!({"bucket": "datasets", "access_key": "a", "secret_key": ""})).await;
    assert_problem(&empty, 422);
    assert!(message_for(&empty.body["errors"], "secret_key").contains("must not be empty"), "{:#}", empty.body);
    let empty_key =
        app.post_json("/api/v1/connections", &json!({"name": "q", "url": "http://q:6333", "api_key": ""})).await;
    assert_problem(&empty_key, 422);
    assert_eq!(fields(&empty_key.body["errors"]), ["api_key"]);

    // Nor can a PATCH empty a stored secret.
    let storage = app.create("/api/v1/storage", seed_storage()).await;
    let path = format!("/api/v1/storage/{}", storage["id"].as_str().unwrap());
    let emptied = app.patch_json(&path, &json!({"secret_key": ""})).await;
    assert_problem(&emptied, 422);
    assert_eq!(fields(&emptied.body["errors"]), ["secret_key"]);
}

/// Sets the field at `path` (object keys, or array indexes as numbers) of `body`, creating
/// objects on the way.
fn set(body: &mut Value, path: &str, value: Value) {
    let mut target = body;
    for key in path.split('/') {
        target = match key.parse::<usize>() {
            Ok(index) => &mut target[index],
            Err(_) => &mut target[key],
        };
    }
    *target = value;
}

/// A valid experiment on the `dense` vector of a `dense_dataset`, registered in `app`.
async fn dense_experiment_body(app: &TestApp) -> Value {
    let dataset = app.create("/api/v1/datasets", dense_dataset("dense")).await;
    let connection_id = app.builtin_connection_id().await;
    crate::helpers::dense_experiment("e", dataset["id"].as_str().unwrap(), &connection_id)
}

#[actix_web::test]
async fn upload_config_as_an_array_was_accepted() {
    let app = spawn_app().await;
    let experiment = dense_experiment_body(&app).await;

    // Every object of a request body, given as an array of its fields, is refused naming it.
    let with = |path: &str, value: Value| {
        let mut body = experiment.clone();
        set(&mut body, path, value);
        body
    };
    let cases = [
        (with("upload_config", json!([null, null])), "upload_config"),
        (with("upload_config", json!([256, 2])), "upload_config"),
        (with("search_config", json!([10, [32], null, false, null, 1, [], null, null])), "search_config"),
        (
            with("optimizer_config/indexing/dense", json!(["hnsw", 16, 100, null, null])),
            "optimizer_config.indexing.dense",
        ),
        (with("search_config/quantization", json!([true, 2.0])), "search_config.quantization"),
        (
            with("optimizer_config/quantization", json!({"product": ["x4", null]})),
            "optimizer_config.quantization.product",
        ),
    ];
    for (body, field) in cases {
        for path in ["/api/v1/experiments/validate", "/api/v1/experiments"] {
            let reply = app.post_json(path, &body).await;
            assert_problem(&reply, 422);
            assert_eq!(fields(&reply.body["errors"]), [field], "{path}: {:#}", reply.body);
            assert!(message_for(&reply.body["errors"], field).contains("sequence"), "{:#}", reply.body);
        }
    }

    // A whole body as an array, and the objects of the other bodies.
    let whole = app.post_json("/api/v1/connections", &json!(["q", "http://q:6333", null])).await;
    assert_problem(&whole, 422);
    let dataset_cases = [
        (json!({"name": "d", "source_uri": "d/", "schema_config": [[], null, null]}), "schema_config"),
        (
            json!({"name": "d", "source_uri": "d/", "schema_config": {"vector": [4, "Dot", null]}}),
            "schema_config.vector",
        ),
        (
            json!({"name": "d", "source_uri": "d/", "schema_config": {"vectors": {"v": [4, "Dot", null]}}}),
            "schema_config.vectors.v",
        ),
    ];
    for (body, field) in dataset_cases {
        let reply = app.post_json("/api/v1/datasets", &body).await;
        assert_problem(&reply, 422);
        assert_eq!(fields(&reply.body["errors"]), [field], "{:#}", reply.body);
    }

    // A PATCH cannot slip one in through the merge either.
    let created = app.create("/api/v1/experiments", experiment.clone()).await;
    let path = format!("/api/v1/experiments/{}", created["id"].as_str().unwrap());
    let patched = app.patch_json(&path, &json!({"upload_config": [512, 4]})).await;
    assert_problem(&patched, 422);
    assert_eq!(fields(&patched.body["errors"]), ["upload_config"]);
    // The object form is still fine.
    app.patch_json(&path, &json!({"upload_config": {"batch_size": 512}})).await.expect(200);
    let nested_unknown = app.patch_json(&path, &json!({"search_config": {"typo": null}})).await;
    assert_problem(&nested_unknown, 422);
    assert_eq!(fields(&nested_unknown.body["errors"]), ["search_config.typo"]);
    app.patch_json(&path, &json!({"search_config": {"queries_limit": null}, "upload_config": null})).await.expect(200);
}

/// `(schema, property, minimum, maximum)`: every bounded number of the request bodies, as
/// `qbench_domain::Limits` has it.
const RANGES: [(&str, &str, f64, f64); 14] = [
    ("VectorParams", "dim", 1.0, 65_536.0),
    ("IndexBody", "m", 0.0, 512.0),
    ("IndexBody", "ef_construct", 4.0, 4_096.0),
    ("IndexBody", "full_scan_threshold", 10.0, 100_000_000.0),
    ("ScalarBody", "quantile", 0.5, 1.0),
    ("SearchConfigBody", "k", 1.0, 10_000.0),
    ("SearchConfigBody", "parallel", 1.0, 256.0),
    ("SearchConfigBody", "queries_limit", 1.0, 1_000_000.0),
    ("SearchQuantizationBody", "oversampling", 1.0, 100.0),
    ("UploadConfigBody", "batch_size", 1.0, 65_536.0),
    ("UploadConfigBody", "parallel", 1.0, 64.0),
    ("PointSampleBody", "fraction", 0.0001, 1.0),
    ("OneOrMany", "", 1.0, 65_536.0),
    ("VectorInput", "", 1.0, 65_536.0),
];

#[actix_web::test]
async fn bounded_numbers_were_documented_without_their_ranges() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    for (schema, property, minimum, maximum) in RANGES {
        let documented = if property.is_empty() {
            // The number alternative of a one-of.
            &component(&spec, schema)["anyOf"][0]
        } else {
            &component(&spec, schema)["properties"][property]
        };
        assert_eq!(documented["minimum"].as_f64(), Some(minimum), "{schema}.{property}: {documented:#}");
        assert_eq!(documented["maximum"].as_f64(), Some(maximum), "{schema}.{property}: {documented:#}");
    }
    let each_ef = &component(&spec, "OneOrMany")["anyOf"][1]["items"];
    assert_eq!((each_ef["minimum"].as_f64(), each_ef["maximum"].as_f64()), (Some(1.0), Some(65_536.0)));
    for (schema, property, max_length) in [
        ("ConnectionRequest", "name", 255),
        ("ConnectionRequest", "url", 2048),
        ("StorageRequest", "endpoint_url", 2048),
        ("StorageRequest", "region", 64),
        ("StorageRequest", "bucket", 63),
        ("DatasetRequest", "name", 255),
        ("DatasetRequest", "source_uri", 2048),
        ("ExperimentRequest", "name", 255),
    ] {
        let documented = &component(&spec, schema)["properties"][property];
        assert_eq!(documented["maxLength"], json!(max_length), "{schema}.{property}: {documented:#}");
    }

    // The server agrees at both ends of each range: the bound is accepted, one past it refused.
    let experiment = dense_experiment_body(&app).await;
    let checks: [(&str, f64, f64, &str); 10] = [
        ("/optimizer_config/indexing/dense/m", 0.0, 512.0, "optimizer_config.indexing.dense.m"),
        ("/optimizer_config/indexing/dense/ef_construct", 4.0, 4096.0, "optimizer_config.indexing.dense.ef_construct"),
        (
            "/optimizer_config/indexing/dense/full_scan_threshold",
            10.0,
            100_000_000.0,
            "optimizer_config.indexing.dense.full_scan_threshold",
        ),
        ("/search_config/parallel", 1.0, 256.0, "search_config.parallel"),
        ("/search_config/queries_limit", 1.0, 1_000_000.0, "search_config.queries_limit"),
        ("/search_config/quantization/oversampling", 1.0, 100.0, "search_config.quantization.oversampling"),
        ("/upload_config/batch_size", 1.0, 65_536.0, "upload_config.batch_size"),
        ("/upload_config/parallel", 1.0, 64.0, "upload_config.parallel"),
        ("/upload_config/sample/fraction", 0.0001, 1.0, "upload_config.sample.fraction"),
        ("/search_config/hnsw_ef/0", 10.0, 65_536.0, "search_config.hnsw_ef[0]"),
    ];
    let integer = |value: f64| if value.fract() == 0.0 { json!(value as u64) } else { json!(value) };
    for (pointer, low, high, field) in checks {
        let step = match pointer {
            _ if pointer.ends_with("oversampling") => 0.5,
            _ if pointer.ends_with("fraction") => 0.00005,
            _ => 1.0,
        };
        for (value, valid) in [(low, true), (high, true), (low - step, false), (high + step, false)] {
            if value < 0.0 {
                continue;
            }
            let mut body = experiment.clone();
            set(&mut body, pointer.trim_start_matches('/'), integer(value));
            let reply = app.post_json("/api/v1/experiments/validate", &body).await;
            reply.expect(200);
            let errors = fields(&reply.body["errors"]);
            assert_eq!(errors.contains(&field.to_owned()), !valid, "{pointer} = {value}: {:#}", reply.body);
        }
    }
}
