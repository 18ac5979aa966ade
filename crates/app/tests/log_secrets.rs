//! The logs of a whole session never hold a secret: `qbench serve` in JWT and API-key mode, JSON
//! logs, a session that registers a connection with an API key and a storage with S3 keys, updates
//! the key, authenticates with valid, invalid and expired tokens, and with a qbench API key made
//! by `qbench admin api-key create` before and after its revocation. The logs (the server's and
//! the CLI's) must show the session (users, audit events, refusals) and none of the secrets,
//! tokens or keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use support::{Process, http, wait_for};

const JWT_SECRET: &str = "log-test-secret-of-at-least-32-characters";
const CONNECTION_KEY: &str = "connection-api-key-3f9a1c";
const NEW_CONNECTION_KEY: &str = "rotated-api-key-7d2e4b";
const S3_ACCESS_KEY: &str = "AKIALOGTEST4D8E2";
const S3_SECRET_KEY: &str = "s3-secret-key-9b7c5a3e1f";

fn token(user: &str, roles: &[&str], expires_in: i64, secret: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": user, "roles": roles, "iat": now, "exp": now + expires_in});
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

#[test]
fn a_sessions_logs_hold_no_secret_token_or_key() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let config = logs.path().join("qbench.toml");
    std::fs::write(&config, "[log]\nformat = \"json\"\nlevel = \"debug,h2=info,hyper=info\"\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let env = [("QBENCH_AUTH_MODE", "jwt,api-key"), ("QBENCH_JWT_SECRET", JWT_SECRET)];
    let mut server =
        Process::start("serve", data.path(), &config, logs.path(), &env, &["serve", "--port", &port.to_string()]);
    wait_for(Duration::from_secs(60), "qbench serve to listen", || {
        server.assert_running();
        let output = server.output();
        if output.contains("listening") { Ok(()) } else { Err(output) }
    });

    let admin = token("root@example.com", &["admin"], 3600, JWT_SECRET);
    let expired = token("root@example.com", &["admin"], -3600, JWT_SECRET);
    let forged = token("root@example.com", &["admin"], 3600, "another-secret-of-at-least-32-characters");
    let bearer = |token: &str| format!("Bearer {token}");
    let as_admin = [("Authorization", bearer(&admin))];
    let as_admin: Vec<(&str, &str)> = as_admin.iter().map(|(name, value)| (*name, value.as_str())).collect();

    let (status, connection) = http(
        port,
        "POST",
        "/api/v1/connections",
        &as_admin,
        Some(&json!({"name": "prod", "url": "http://qdrant.test:6333", "api_key": CONNECTION_KEY})),
    );
    assert_eq!(status, 201, "{connection:#}");
    let path = format!("/api/v1/connections/{}", connection["id"].as_str().unwrap());
    let (status, _) = http(port, "PATCH", &path, &as_admin, Some(&json!({"api_key": NEW_CONNECTION_KEY})));
    assert_eq!(status, 200);
    let (status, storage) = http(
        port,
        "POST",
        "/api/v1/storage",
        &as_admin,
        Some(&json!({"bucket": "datasets", "endpoint_url": "http://minio.test:9000",
                     "access_key": S3_ACCESS_KEY, "secret_key": S3_SECRET_KEY})),
    );
    assert_eq!(status, 201, "{storage:#}");
    for (token, expected) in [(&expired, "token expired"), (&forged, "invalid token")] {
        let (status, problem) = http(port, "GET", "/api/v1/connections", &[("Authorization", &bearer(token))], None);
        assert_eq!((status, problem["detail"].as_str()), (401, Some(expected)));
    }
    let (status, _) = http(port, "GET", "/api/v1/connections", &[], None);
    assert_eq!(status, 401);

    // An API key, made, used and revoked by the operator's CLI on the server's data dir.
    let cli = |name: &'static str, args: &[&str]| {
        let mut process = Process::start(name, data.path(), &config, logs.path(), &env, args);
        wait_for(Duration::from_secs(30), name, || match process.exited() {
            Some(0) => Ok(()),
            Some(code) => panic!("qbench {name} exited with {code}:\n{}", process.output()),
            None => Err(process.output()),
        });
        process.output()
    };
    let created = cli("api-key-create", &["admin", "api-key", "create", "--user", "ci@example.com", "--role", "admin"]);
    let api_key =
        created.split_whitespace().find(|word| word.starts_with("qb_") && word.len() > 20).unwrap().to_owned();
    let id = created.lines().find_map(|line| line.strip_prefix("id")).unwrap().trim().to_owned();
    let (status, _) = http(port, "GET", "/api/v1/connections", &[("X-Api-Key", &api_key)], None);
    assert_eq!(status, 200);
    cli("api-key-revoke", &["admin", "api-key", "revoke", &id]);
    let (status, problem) = http(port, "GET", "/api/v1/connections", &[("Authorization", &bearer(&api_key))], None);
    assert_eq!((status, problem["detail"].as_str()), (401, Some("invalid API key")));
    let listed = cli("api-key-list", &["admin", "api-key", "list"]);
    assert!(listed.contains(&id) && !listed.contains(&api_key), "{listed}");
    drop(server);

    let output = std::fs::read_to_string(logs.path().join("serve.log")).unwrap();
    assert!(output.contains("ci@example.com"), "the API key's requests name its user:\n{output}");
    // The CLI's own log lines (its audit events) are on stderr, beside the key on stdout: only
    // its non-key lines are searched.
    let cli_logs: String = ["api-key-create", "api-key-revoke", "api-key-list"]
        .iter()
        .map(|name| std::fs::read_to_string(logs.path().join(format!("{name}.log"))).unwrap())
        .flat_map(|log| log.lines().filter(|line| line.starts_with('{')).map(str::to_owned).collect::<Vec<_>>())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(cli_logs.contains("\"action\":\"create\"") && cli_logs.contains("\"action\":\"revoke\""), "{cli_logs}");
    assert!(!cli_logs.contains(&api_key), "the CLI's log shows the API key:\n{cli_logs}");
    let lines: Vec<Value> = output.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    assert!(lines.len() >= 8, "the session was logged as JSON lines:\n{output}");
    assert!(output.contains("root@example.com"), "requests name their user:\n{output}");
    let audited = lines.iter().filter(|line| line["target"] == "audit").count();
    assert!(audited >= 3, "create, update and create were audited:\n{output}");
    for secret in [
        JWT_SECRET,
        CONNECTION_KEY,
        NEW_CONNECTION_KEY,
        S3_ACCESS_KEY,
        S3_SECRET_KEY,
        &admin,
        &expired,
        &forged,
        &api_key,
    ] {
        assert!(!output.contains(secret), "the log shows `{secret}`:\n{output}");
    }
    // Nor any recognisable part of a token (its signature alone would let nobody in, but its
    // payload names the user and roles: the whole token stays out).
    for token in [&admin, &expired, &forged] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!output.contains(signature), "a token signature is in the log");
    }
}
