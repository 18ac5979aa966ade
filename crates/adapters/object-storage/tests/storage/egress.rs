//! The egress policy of HTTP(S) sources: a user-supplied URL never reaches a loopback, private or
//! metadata address in any spelling, not even through a redirect, unless the operator allows it;
//! a refusal reads the same whether or not something listens; a silent server fails after the
//! idle timeout; a server that ignores range requests is refused rather than an internal error.

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use qbench_object_storage::{EgressPolicy, ParquetStorage, ParquetStorageConfig};
use qbench_storage::{DatasetLayout, DatasetPart, DatasetReader, DatasetWriter, StorageError};

use crate::http_server::{Answer, HttpServer, assert_never_connected};
use crate::support::{Env, assert_refused, dataset, dataset_schema, dense, file_source, read_merged, source};

const REFUSED: &str = "is not allowed by the egress policy";

/// An adapter whose egress policy allows `cidrs` and `hosts`, with the default idle timeout.
fn storage_allowing(cidrs: &[&str], hosts: &[&str]) -> ParquetStorage {
    ParquetStorage::new(ParquetStorageConfig {
        egress: EgressPolicy::new(cidrs, hosts).unwrap(),
        ..ParquetStorageConfig::default()
    })
    .unwrap()
}

/// The message of a refused inspection of `uri`.
async fn refusal(storage: &ParquetStorage, uri: &str) -> String {
    let result = storage.inspect(&source(uri), &dataset_schema()).await;
    let message = match &result {
        Err(error @ StorageError::Refused { .. }) => error.to_string(),
        other => panic!("{uri}: expected Refused, got {other:?}"),
    };
    assert!(message.contains(REFUSED), "{uri}: {message}");
    message
}

/// The files of a small directory dataset, by name.
async fn dataset_files() -> HashMap<String, Vec<u8>> {
    let env = Env::new();
    env.storage.write_dataset(&file_source(&env.root.join("d")), &dataset(30, 3)).await.unwrap();
    ["train.parquet", "test.parquet", "neighbors.parquet"]
        .into_iter()
        .map(|name| (format!("d/{name}"), std::fs::read(env.root.join("d").join(name)).unwrap()))
        .collect()
}

#[tokio::test]
async fn ssrf_spellings_never_reach_a_local_listener() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let storage = ParquetStorage::new(ParquetStorageConfig::default()).unwrap();
    let schema = dataset_schema();
    for host in [
        "127.0.0.1",
        "localhost",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "2130706433",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "127.1",
        "0.0.0.0",
    ] {
        for uri in [format!("http://{host}:{port}/x.parquet"), format!("https://{host}:{port}/sets/d/")] {
            refusal(&storage, &uri).await;
            assert_refused(
                storage.open_points(&source(&uri), &schema, DatasetPart::Train, 10).await.map(|_| ()),
                &[REFUSED],
            );
            assert_refused(storage.read_neighbors(&source(&uri), &dense(), 10).await, &[REFUSED]);
        }
    }
    for uri in [
        "http://169.254.169.254/latest/meta-data/x.parquet",
        "http://[::ffff:169.254.169.254]/x.parquet",
        "http://[fd00:ec2::254]/x.parquet",
        "http://metadata.google.internal/computeMetadata/v1/x.parquet",
        "http://metadata/x.parquet",
        "http://10.0.0.1/x.parquet",
        "http://100.100.100.200/x.parquet",
    ] {
        refusal(&storage, uri).await;
    }
    assert_never_connected(&listener);
}

#[tokio::test]
async fn a_refusal_reads_the_same_whether_or_not_something_listens() {
    let storage = ParquetStorage::new(ParquetStorageConfig::default()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let uris = [format!("http://127.0.0.1:{port}/x.parquet"), format!("http://localhost:{port}/x.parquet")];
    let mut open = Vec::new();
    for uri in &uris {
        open.push(refusal(&storage, uri).await);
    }
    assert_never_connected(&listener);
    drop(listener);
    for (uri, open) in uris.iter().zip(&open) {
        assert_eq!(&refusal(&storage, uri).await, open, "a closed port answers like an open one");
    }
    assert_eq!(open[0], format!("http://127.0.0.1:{port}/x.parquet: refused: host `127.0.0.1` {REFUSED}"));
    assert_eq!(open[1], format!("http://localhost:{port}/x.parquet: refused: host `localhost` {REFUSED}"));
}

#[tokio::test]
async fn redirects_to_a_refused_address_are_not_followed() {
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let target_port = target.local_addr().unwrap().port();
    // The operator trusts the name `localhost`, not the address 127.0.0.1.
    let storage = storage_allowing(&[], &["localhost"]);
    for (location, host) in [
        (format!("http://127.0.0.1:{target_port}/x.parquet"), "127.0.0.1"),
        (format!("http://[::ffff:127.0.0.1]:{target_port}/x.parquet"), "[::ffff:7f00:1]"),
        (format!("http://2130706433:{target_port}/x.parquet"), "127.0.0.1"),
        ("http://169.254.169.254/latest/meta-data/x.parquet".to_owned(), "169.254.169.254"),
        ("http://metadata.google.internal/x.parquet".to_owned(), "metadata.google.internal"),
    ] {
        let redirecting = HttpServer::start(Answer::Redirect(location.clone()));
        let message = refusal(&storage, &format!("http://localhost:{}/x.parquet", redirecting.port)).await;
        assert!(redirecting.connections() > 0, "the allowed server was asked: {message}");
        assert!(message.ends_with(&format!("host `{host}` {REFUSED}")), "{location}: {message}");
    }
    assert_never_connected(&target);
}

#[tokio::test]
async fn allowed_cidrs_and_hosts_let_a_local_server_through() {
    let server = HttpServer::start(Answer::Files { files: dataset_files().await, ranges: true });
    let uri = format!("http://127.0.0.1:{}/d/train.parquet", server.port);
    let schema = dataset_schema();
    refusal(&ParquetStorage::new(ParquetStorageConfig::default()).unwrap(), &uri).await;
    assert_eq!(server.connections(), 0);

    let storage = storage_allowing(&["127.0.0.1/32"], &[]);
    let inspection = storage.inspect(&source(&uri), &schema).await.unwrap();
    assert_eq!((inspection.layout, inspection.train_rows), (DatasetLayout::SingleFile, 30));
    let train = read_merged(&storage, &source(&uri), &schema, DatasetPart::Train).await.unwrap();
    assert_eq!(train.ids.len(), 30);
    // Another loopback address is still refused: the allowance is the range, not "loopback".
    refusal(&storage, &format!("http://127.0.0.2:{}/d/train.parquet", server.port)).await;

    let by_name = storage_allowing(&[], &["localhost"]);
    let inspection =
        by_name.inspect(&source(&format!("http://localhost:{}/d/train.parquet", server.port)), &schema).await.unwrap();
    assert_eq!(inspection.train_rows, 30);
}

#[tokio::test]
async fn a_server_that_never_answers_fails_after_the_idle_timeout() {
    let server = HttpServer::start(Answer::Silent);
    let storage = ParquetStorage::new(ParquetStorageConfig {
        egress: EgressPolicy::new(["127.0.0.1/32"], [""; 0]).unwrap(),
        http_idle_timeout: Duration::from_millis(200),
        ..ParquetStorageConfig::default()
    })
    .unwrap();
    let started = Instant::now();
    let error = storage
        .inspect(&source(&format!("http://127.0.0.1:{}/x.parquet", server.port)), &dataset_schema())
        .await
        .unwrap_err();
    assert!(matches!(error, StorageError::Unreachable { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(20), "failed after {:?}", started.elapsed());
    assert!(server.connections() > 0);
}

#[tokio::test]
async fn a_server_without_range_requests_is_refused_not_an_internal_error() {
    let server = HttpServer::start(Answer::Files { files: dataset_files().await, ranges: false });
    let storage = storage_allowing(&["127.0.0.1/32"], &[]);
    let uri = format!("http://127.0.0.1:{}/d/train.parquet", server.port);
    assert_refused(
        storage.inspect(&source(&uri), &dataset_schema()).await,
        &["the server does not support range requests", &uri],
    );
}
