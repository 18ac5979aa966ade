//! The remote adapter: what it sends and how it reads answers, checked without a server; the
//! whole gRPC path against an in-process fake Qdrant (`fake`), whose optimizer is scripted; and a
//! round trip against a real Qdrant when `QDRANT_URL` (and, if the server needs one,
//! `QDRANT_API_KEY`) is set. Without `QDRANT_URL` the real-server tests print
//! `skipped: QDRANT_URL is not set` and pass, the project's rule for this adapter.
// A test that meets an unexpected error variant prints it and fails: `other => panic!` is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::wildcard_enum_match_arm)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use qbench_domain::{
    Connection, ConnectionSpec, Dimension, Distance, IndexConfig, IndexKind, PointId, ProductCompression, Quantization,
    RunId, ScalarType, SearchQuantization, VectorName, VectorSpec,
};
use qbench_qdrant::{
    RemoteOptions, RemoteProvider, RemoteQdrant, check_collection_name, collection_info, config_json,
    create_collection_request, enable_indexing_request, from_point_id, from_qdrant, from_status, grpc_url,
    index_progress, point_id, query_request, redact, search_response, upsert_request,
};
use qbench_vector_store::{
    CollectionSpec, Point, SearchParams, SearchRequest, VectorStore, VectorStoreError, VectorStoreProvider,
};
use qdrant_client::QdrantError;
use qdrant_client::qdrant::{
    self, CollectionStatus, OptimizerStatus, QueryResponse, quantization_config, vectors, vectors_config,
};
use secrecy::SecretString;
use tonic::{Code, Status};

mod fake;
mod rest_fake;

fn name(name: &str) -> VectorName {
    name.parse().unwrap()
}

fn vector(dim: u32, distance: Distance) -> VectorSpec {
    VectorSpec::new(Dimension::new(dim).unwrap(), distance)
}

/// Two vectors: `dense` (32-d Cosine, HNSW m 32 / ef_construct 200, on disk) and `small` (8-d
/// Euclid, plain), scalar-quantized.
fn spec() -> CollectionSpec {
    CollectionSpec {
        name: "qbench-run-1".to_owned(),
        vectors: [(name("dense"), vector(32, Distance::Cosine)), (name("small"), vector(8, Distance::Euclid))].into(),
        indexing: [
            (
                name("dense"),
                IndexConfig { full_scan_threshold: Some(20), on_disk: Some(true), ..IndexConfig::hnsw(32, 200) },
            ),
            (name("small"), IndexConfig::plain()),
        ]
        .into(),
        quantization: Some(Quantization::Scalar {
            scalar_type: ScalarType::Int8,
            quantile: Some(0.99),
            always_ram: Some(true),
        }),
    }
}

fn connection(url: &str, api_key: Option<&str>) -> Connection {
    Connection::new(
        ConnectionSpec { name: "remote".to_owned(), url: url.to_owned(), api_key: api_key.map(SecretString::from) },
        Utc::now(),
    )
}

/// A URL where nothing listens: connections are refused at once.
const NOWHERE: &str = "http://127.0.0.1:1";

fn quick() -> RemoteOptions {
    RemoteOptions {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

mod urls {
    use super::*;

    #[test]
    fn the_rest_port_6333_becomes_the_grpc_port_6334() {
        assert_eq!(grpc_url("http://localhost:6333").unwrap(), "http://localhost:6334");
        assert_eq!(grpc_url("http://10.0.0.7:6333/").unwrap(), "http://10.0.0.7:6334");
        assert_eq!(grpc_url("  http://qdrant:6333  ").unwrap(), "http://qdrant:6334");
    }

    #[test]
    fn an_explicit_grpc_port_or_any_other_port_is_used_as_is() {
        assert_eq!(grpc_url("http://localhost:6334").unwrap(), "http://localhost:6334");
        assert_eq!(grpc_url("http://localhost:8080").unwrap(), "http://localhost:8080");
        // The default port of the scheme, written out, is a proxy's port, not "no port".
        assert_eq!(grpc_url("https://proxy.example:443").unwrap(), "https://proxy.example:443");
        assert_eq!(grpc_url("http://proxy.example:80").unwrap(), "http://proxy.example:80");
    }

    #[test]
    fn a_url_without_a_port_gets_qdrants_grpc_port() {
        assert_eq!(grpc_url("http://qdrant").unwrap(), "http://qdrant:6334");
        assert_eq!(grpc_url("https://xyz.cloud.qdrant.io").unwrap(), "https://xyz.cloud.qdrant.io:6334");
    }

    #[test]
    fn https_is_kept_and_ipv6_hosts_keep_their_brackets() {
        assert_eq!(grpc_url("https://xyz.cloud.qdrant.io:6333").unwrap(), "https://xyz.cloud.qdrant.io:6334");
        assert_eq!(grpc_url("HTTPS://Qdrant.Example:6334").unwrap(), "https://qdrant.example:6334");
        assert_eq!(grpc_url("http://[::1]:6333").unwrap(), "http://[::1]:6334");
        assert_eq!(grpc_url("http://[::1]").unwrap(), "http://[::1]:6334");
        assert_eq!(grpc_url("http://[::1]:7000").unwrap(), "http://[::1]:7000");
    }

    #[test]
    fn bad_urls_are_refused() {
        for (url, expected) in [
            ("", "not a valid URL"),
            ("not a url", "not a valid URL"),
            ("http://", "not a valid URL"),
            ("http://qdrant:99999", "not a valid URL"),
            ("localhost:6333", "not http(s)://host:port"),
            ("embedded://", "not http(s)://host:port"),
            ("grpc://qdrant:6334", "not http(s)://host:port"),
            ("ftp://qdrant:6333", "not http(s)://host:port"),
            ("http://qdrant:6333/collections", "path, query or fragment"),
            ("http://qdrant:6333?timeout=5", "path, query or fragment"),
            ("http://qdrant:6333#top", "path, query or fragment"),
        ] {
            match grpc_url(url) {
                Err(VectorStoreError::Rejected(message)) => assert!(message.contains(expected), "{url}: {message}"),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn credentials_in_a_url_are_refused_without_being_echoed() {
        for url in ["http://admin:hunter2-secret@qdrant:6333", "https://hunter2-secret@qdrant:6333"] {
            let Err(VectorStoreError::Rejected(message)) = grpc_url(url) else { panic!("{url} accepted") };
            assert!(message.contains("credentials"), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }
}

mod collection_config {
    use super::*;

    fn params(request: &qdrant::CreateCollection) -> &std::collections::HashMap<String, qdrant::VectorParams> {
        match request.vectors_config.as_ref().and_then(|config| config.config.as_ref()) {
            Some(vectors_config::Config::ParamsMap(map)) => &map.map,
            other => panic!("not named vectors: {other:?}"),
        }
    }

    #[test]
    #[allow(deprecated)]
    fn a_spec_becomes_named_vectors_with_their_own_hnsw_and_deferred_indexing() {
        let request = create_collection_request(&spec()).unwrap();
        assert_eq!(request.collection_name, "qbench-run-1");
        let vectors = params(&request);
        assert_eq!(vectors.len(), 2);

        let dense = &vectors["dense"];
        assert_eq!(dense.size, 32);
        assert_eq!(dense.distance, qdrant::Distance::Cosine as i32);
        let hnsw = dense.hnsw_config.unwrap();
        assert_eq!(
            (hnsw.m, hnsw.ef_construct, hnsw.full_scan_threshold, hnsw.on_disk),
            (Some(32), Some(200), Some(20), Some(true))
        );

        let small = &vectors["small"];
        assert_eq!((small.size, small.distance), (8, qdrant::Distance::Euclid as i32));
        // Plain is HNSW without a graph.
        assert_eq!(small.hnsw_config.unwrap().m, Some(0));

        let optimizers = request.optimizers_config.unwrap();
        assert_eq!(optimizers.indexing_threshold, Some(0));
        assert_eq!(qbench_qdrant::INDEXING_OFF_KB, 0);
    }

    #[test]
    fn every_distance_is_mapped() {
        for (distance, expected) in [
            (Distance::Cosine, qdrant::Distance::Cosine),
            (Distance::Euclid, qdrant::Distance::Euclid),
            (Distance::Dot, qdrant::Distance::Dot),
            (Distance::Manhattan, qdrant::Distance::Manhattan),
        ] {
            let mut spec = spec();
            spec.vectors.insert(name("dense"), vector(32, distance));
            let request = create_collection_request(&spec).unwrap();
            assert_eq!(params(&request)["dense"].distance, expected as i32, "{distance}");
        }
    }

    #[test]
    #[allow(deprecated)]
    fn an_unlisted_vector_gets_qdrants_graph_defaults_and_the_lowest_full_scan_threshold() {
        let mut spec = spec();
        spec.indexing.clear();
        let request = create_collection_request(&spec).unwrap();
        for vector in ["dense", "small"] {
            let hnsw = params(&request)[vector].hnsw_config.unwrap();
            assert_eq!(
                (hnsw.m, hnsw.ef_construct, hnsw.full_scan_threshold, hnsw.on_disk),
                (Some(16), Some(100), Some(10), None),
                "{vector}"
            );
        }
        // An HNSW entry without m or ef_construct gets the defaults too.
        spec.indexing.insert(
            name("dense"),
            IndexConfig {
                kind: IndexKind::Hnsw,
                m: None,
                ef_construct: None,
                full_scan_threshold: None,
                on_disk: None,
            },
        );
        let hnsw = params(&create_collection_request(&spec).unwrap())["dense"].hnsw_config.unwrap();
        assert_eq!((hnsw.m, hnsw.ef_construct), (Some(16), Some(100)));
    }

    #[test]
    fn a_collection_of_only_the_unnamed_vector_uses_the_single_vector_form() {
        let spec = CollectionSpec {
            name: "qbench-single".to_owned(),
            vectors: [(VectorName::unnamed(), vector(4, Distance::Dot))].into(),
            indexing: BTreeMap::new(),
            quantization: None,
        };
        let request = create_collection_request(&spec).unwrap();
        match request.vectors_config.and_then(|config| config.config) {
            Some(vectors_config::Config::Params(params)) => {
                assert_eq!((params.size, params.distance), (4, qdrant::Distance::Dot as i32));
            }
            other => panic!("not the single-vector form: {other:?}"),
        }
        assert_eq!(request.quantization_config, None);
    }

    #[test]
    #[allow(deprecated)]
    fn quantization_is_set_on_the_collection() {
        let mut spec = spec();
        let quantization = |spec: &CollectionSpec| {
            create_collection_request(spec).unwrap().quantization_config.and_then(|config| config.quantization)
        };

        match quantization(&spec) {
            Some(quantization_config::Quantization::Scalar(scalar)) => {
                assert_eq!(scalar.r#type, qdrant::QuantizationType::Int8 as i32);
                assert_eq!(scalar.quantile, Some(0.99));
                assert_eq!(scalar.always_ram, Some(true));
            }
            other => panic!("{other:?}"),
        }

        spec.quantization = Some(Quantization::Product { compression: ProductCompression::X16, always_ram: None });
        match quantization(&spec) {
            Some(quantization_config::Quantization::Product(product)) => {
                assert_eq!(product.compression, qdrant::CompressionRatio::X16 as i32);
                assert_eq!(product.always_ram, None);
            }
            other => panic!("{other:?}"),
        }

        spec.quantization = Some(Quantization::Binary { always_ram: Some(false) });
        match quantization(&spec) {
            Some(quantization_config::Quantization::Binary(binary)) => {
                assert_eq!(binary.always_ram, Some(false));
                assert_eq!(binary.encoding, Some(qdrant::BinaryQuantizationEncoding::OneBit as i32));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_problem_of_a_spec_is_named_at_once() {
        let mut spec = spec();
        spec.name = "my-collection".to_owned();
        spec.indexing.insert(
            name("audio"),
            IndexConfig { ef_construct: Some(2), full_scan_threshold: Some(5), ..IndexConfig::hnsw(16, 100) },
        );
        let Err(VectorStoreError::Rejected(message)) = create_collection_request(&spec) else { panic!("accepted") };
        assert!(message.contains("`my-collection` was not created by qbench"), "{message}");
        assert!(message.contains("`audio`, which the collection does not have"), "{message}");
        assert!(message.contains("ef_construct 2"), "{message}");
        assert!(message.contains("full_scan_threshold 5 is outside 10..=100000000"), "{message}");

        let empty = CollectionSpec {
            name: "qbench-empty".to_owned(),
            vectors: BTreeMap::new(),
            indexing: BTreeMap::new(),
            quantization: None,
        };
        let Err(VectorStoreError::Rejected(message)) = create_collection_request(&empty) else { panic!("accepted") };
        assert!(message.contains("at least one vector"), "{message}");
    }

    #[test]
    fn indexing_is_switched_on_with_the_smallest_threshold() {
        let request = enable_indexing_request("qbench-run-1");
        assert_eq!(request.collection_name, "qbench-run-1");
        assert_eq!(request.optimizers_config.and_then(|optimizers| optimizers.indexing_threshold), Some(1));
        assert_eq!(qbench_qdrant::INDEXING_ON_KB, 1);
    }
}

mod indexing {
    use super::*;

    /// What the server reports about the collection of `spec()` with `points` points.
    fn info(status: CollectionStatus, points: u64, indexed: u64) -> qdrant::CollectionInfo {
        let request = create_collection_request(&spec()).unwrap();
        qdrant::CollectionInfo {
            status: status as i32,
            optimizer_status: Some(OptimizerStatus { ok: true, error: String::new() }),
            points_count: Some(points),
            indexed_vectors_count: Some(indexed),
            segments_count: 2,
            config: Some(qdrant::CollectionConfig {
                params: Some(qdrant::CollectionParams {
                    shard_number: 1,
                    vectors_config: request.vectors_config,
                    ..Default::default()
                }),
                hnsw_config: Some(qdrant::HnswConfigDiff { m: Some(16), ..Default::default() }),
                optimizer_config: Some(qdrant::OptimizersConfigDiff {
                    indexing_threshold: Some(1),
                    ..Default::default()
                }),
                quantization_config: request.quantization_config,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_index_is_complete_when_green_and_every_graph_vector_is_indexed() {
        // Only `dense` has a graph: 1,000 points means 1,000 indexed vectors.
        let done = index_progress(&info(CollectionStatus::Green, 1_000, 1_000)).unwrap();
        assert_eq!((done.points, done.indexed, done.expected), (1_000, 1_000, 1_000));
        assert!(done.is_complete());
        // Graph-less vectors the server counts as well do no harm.
        assert!(index_progress(&info(CollectionStatus::Green, 1_000, 2_000)).unwrap().is_complete());
    }

    #[test]
    fn an_optimizing_or_partly_indexed_collection_is_not_complete() {
        let optimizing = index_progress(&info(CollectionStatus::Yellow, 1_000, 1_000)).unwrap();
        assert!(!optimizing.green && !optimizing.is_complete());
        let pending = index_progress(&info(CollectionStatus::Grey, 1_000, 0)).unwrap();
        assert!(!pending.is_complete());
        let partly = index_progress(&info(CollectionStatus::Green, 1_000, 600)).unwrap();
        assert!(partly.green && !partly.is_complete());
        let mut queued = info(CollectionStatus::Green, 1_000, 1_000);
        queued.update_queue = Some(qdrant::UpdateQueueInfo { length: 3, ..Default::default() });
        let queued = index_progress(&queued).unwrap();
        assert!(!queued.green && !queued.is_complete());
    }

    #[test]
    fn a_collection_below_the_lowest_threshold_expects_nothing_indexed() {
        // 32 components × 4 bytes × 8 points = 1 KB: indexed; 7 points are not.
        assert_eq!(index_progress(&info(CollectionStatus::Green, 8, 0)).unwrap().expected, 8);
        let tiny = index_progress(&info(CollectionStatus::Green, 7, 0)).unwrap();
        assert_eq!(tiny.expected, 0);
        assert!(tiny.is_complete());
    }

    #[test]
    fn a_failed_optimizer_is_an_internal_error_with_its_message() {
        let mut failed = info(CollectionStatus::Red, 1_000, 0);
        failed.optimizer_status = Some(OptimizerStatus { ok: false, error: "No space left on device".to_owned() });
        match index_progress(&failed) {
            Err(VectorStoreError::Internal(message)) => {
                assert!(message.contains("No space left on device"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        let mut red = info(CollectionStatus::Red, 1_000, 0);
        red.optimizer_status = None;
        assert!(matches!(index_progress(&red), Err(VectorStoreError::Internal(_))));
    }

    #[test]
    fn collection_info_reports_counts_and_the_configuration_as_json() {
        let reported = collection_info(&info(CollectionStatus::Green, 1_000, 1_000));
        assert_eq!((reported.points, reported.indexed_vectors, reported.segments), (1_000, 1_000, 2));
        let config = &reported.config;
        assert_eq!(config["params"]["vectors"]["dense"]["size"], 32);
        assert_eq!(config["params"]["vectors"]["dense"]["distance"], "Cosine");
        assert_eq!(config["params"]["vectors"]["dense"]["hnsw_config"]["m"], 32);
        assert_eq!(config["params"]["vectors"]["dense"]["hnsw_config"]["on_disk"], true);
        assert_eq!(config["params"]["vectors"]["small"]["distance"], "Euclid");
        assert_eq!(config["params"]["vectors"]["small"]["hnsw_config"]["m"], 0);
        assert_eq!(config["hnsw_config"]["m"], 16);
        assert_eq!(config["optimizer_config"]["indexing_threshold"], 1);
        assert_eq!(config["quantization_config"]["scalar"]["type"], "int8");
        assert_eq!(config["quantization_config"]["scalar"]["always_ram"], true);
        // Fields the server leaves unset are left out.
        assert!(config["hnsw_config"].get("ef_construct").is_none());
        assert_eq!(
            config_json(&qdrant::CollectionConfig::default()),
            serde_json::json!({ "quantization_config": null })
        );
    }
}

mod points_and_searches {
    use super::*;

    #[test]
    fn an_upsert_waits_and_carries_ids_named_vectors_and_the_payload() {
        let uuid = uuid::Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
        let points = [
            Point {
                id: PointId::Num(7),
                vectors: vec![(name("dense"), vec![0.5; 32]), (name("small"), vec![1.0; 8])],
                payload: serde_json::json!({ "cluster": 3, "label": "cat", "score": 0.25, "tags": ["a"] })
                    .as_object()
                    .cloned()
                    .unwrap(),
            },
            Point {
                id: PointId::Uuid(uuid),
                vectors: vec![(VectorName::unnamed(), vec![1.0, 2.0])],
                payload: serde_json::Map::new(),
            },
        ];
        let request = upsert_request("qbench-run-1", &points);
        assert_eq!(request.collection_name, "qbench-run-1");
        assert_eq!(request.wait, Some(true));
        assert_eq!(request.points.len(), 2);

        let first = &request.points[0];
        assert_eq!(first.id, Some(point_id(PointId::Num(7))));
        match first.vectors.as_ref().and_then(|vectors| vectors.vectors_options.as_ref()) {
            Some(vectors::VectorsOptions::Vectors(named)) => {
                assert_eq!(named.vectors.len(), 2);
                assert_eq!(named.vectors["dense"], qdrant::Vector::new_dense(vec![0.5; 32]));
                assert_eq!(named.vectors["small"], qdrant::Vector::new_dense(vec![1.0; 8]));
            }
            other => panic!("not named vectors: {other:?}"),
        }
        let payload = serde_json::to_value(&first.payload).unwrap();
        assert_eq!(payload, serde_json::json!({ "cluster": 3, "label": "cat", "score": 0.25, "tags": ["a"] }));

        let second = &request.points[1];
        assert_eq!(from_point_id(second.id.as_ref()).unwrap(), PointId::Uuid(uuid));
        assert!(matches!(
            second.vectors.as_ref().and_then(|vectors| vectors.vectors_options.as_ref()),
            Some(vectors::VectorsOptions::Vector(_))
        ));
        assert!(second.payload.is_empty());
    }

    #[test]
    fn a_query_names_its_vector_limit_and_search_parameters() {
        let dense = name("dense");
        let params = SearchParams {
            hnsw_ef: Some(128),
            exact: false,
            quantization: Some(SearchQuantization { ignore: None, rescore: Some(true), oversampling: Some(2.0) }),
        };
        let request = query_request(
            "qbench-run-1",
            SearchRequest { vector: &dense, query: &[0.1, 0.2, 0.3], k: 10, params: &params },
        );
        assert_eq!(request.collection_name, "qbench-run-1");
        assert_eq!(request.using.as_deref(), Some("dense"));
        assert_eq!(request.limit, Some(10));
        assert_eq!(
            request.query,
            Some(qdrant::Query::new_nearest(qdrant::VectorInput::new_dense(vec![0.1, 0.2, 0.3])))
        );
        let sent = request.params.unwrap();
        assert_eq!((sent.hnsw_ef, sent.exact), (Some(128), Some(false)));
        let quantization = sent.quantization.unwrap();
        assert_eq!((quantization.rescore, quantization.oversampling), (Some(true), Some(2.0)));
        assert_eq!(request.with_payload, Some(false.into()));
        assert_eq!(request.with_vectors, Some(false.into()));

        let unnamed = VectorName::unnamed();
        let exact = SearchParams { exact: true, ..SearchParams::default() };
        let request =
            query_request("qbench-run-1", SearchRequest { vector: &unnamed, query: &[1.0], k: 3, params: &exact });
        assert_eq!(request.using, None);
        let sent = request.params.unwrap();
        assert_eq!((sent.hnsw_ef, sent.exact, sent.quantization), (None, Some(true), None));
    }

    #[test]
    fn a_response_gives_ids_scores_best_first_and_the_servers_time() {
        let uuid = uuid::Uuid::now_v7();
        let response = QueryResponse {
            result: vec![
                qdrant::ScoredPoint { id: Some(point_id(PointId::Num(4))), score: 0.9, ..Default::default() },
                qdrant::ScoredPoint { id: Some(point_id(PointId::Uuid(uuid))), score: 0.7, ..Default::default() },
            ],
            time: 0.0015,
            usage: None,
        };
        let answer = search_response(&response).unwrap();
        let points: Vec<(PointId, f32)> = answer.points.iter().map(|point| (point.id, point.score)).collect();
        assert_eq!(points, [(PointId::Num(4), 0.9), (PointId::Uuid(uuid), 0.7)]);
        assert_eq!(answer.server_time, Some(Duration::from_micros(1_500)));

        let no_time = QueryResponse { time: -1.0, ..Default::default() };
        assert_eq!(search_response(&no_time).unwrap().server_time, None);
    }

    #[test]
    fn an_unreadable_point_id_is_an_internal_error() {
        let bad = qdrant::PointId::from("not-a-uuid");
        assert!(matches!(from_point_id(Some(&bad)), Err(VectorStoreError::Internal(_))));
        assert!(matches!(from_point_id(None), Err(VectorStoreError::Internal(_))));
    }
}

mod errors {
    use super::*;

    fn sorted(status: Status) -> VectorStoreError {
        from_status(&status, Some("qbench-run-1"))
    }

    #[test]
    fn connection_failures_and_timeouts_are_unreachable() {
        for status in [
            Status::unavailable("tcp connect error: Connection refused (os error 111)"),
            Status::deadline_exceeded("Deadline expired"),
            Status::cancelled("Timeout expired"),
            Status::internal("Failed to connect to http://qdrant:6334/: tonic::transport::Error(Transport, ...)"),
            Status::internal("Failed to create TLS config: invalid certificate"),
            Status::unknown("transport error"),
        ] {
            let message = status.message().to_owned();
            assert!(matches!(sorted(status), VectorStoreError::Unreachable(_)), "{message}");
        }
    }

    #[test]
    fn not_found_is_the_collection_of_the_call() {
        match sorted(Status::not_found("Collection `qbench-run-1` doesn't exist!")) {
            VectorStoreError::CollectionNotFound(collection) => assert_eq!(collection, "qbench-run-1"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(from_status(&Status::not_found("?"), None), VectorStoreError::Internal(_)));
    }

    #[test]
    fn a_failed_connection_reads_as_the_server_and_the_root_cause() {
        let status = Status::internal(
            "Failed to connect to http://127.0.0.1:1/: tonic::transport::Error(Transport, ConnectError(\"tcp connect \
             error\", 127.0.0.1:1, Os { code: 111, kind: ConnectionRefused, message: \"Connection refused\" }))",
        );
        match sorted(status) {
            VectorStoreError::Unreachable(message) => {
                assert_eq!(message, "Failed to connect to http://127.0.0.1:1/: connection refused");
            }
            other => panic!("{other:?}"),
        }
        let dns = Status::internal("Failed to connect to http://nowhere.invalid:6334/: dns error: failed to lookup");
        assert_eq!(
            sorted(dns).to_string(),
            "vector database unreachable: Failed to connect to http://nowhere.invalid:6334/: the host name does not resolve"
        );
    }

    #[test]
    fn refusals_are_rejected() {
        for status in [
            Status::invalid_argument("Wrong input: Collection `qbench-run-1` already exists!"),
            Status::already_exists("Collection `qbench-run-1` already exists!"),
            Status::permission_denied("Access denied"),
            Status::unauthenticated("Must provide an API key or an Authorization bearer token"),
            Status::failed_precondition("Strict mode"),
            Status::out_of_range("limit"),
        ] {
            let code = status.code();
            match sorted(status) {
                VectorStoreError::Rejected(message) => assert!(message.contains(&format!("{code:?}")), "{message}"),
                other => panic!("{code:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn everything_else_is_internal() {
        for code in
            [Code::Internal, Code::Unknown, Code::ResourceExhausted, Code::Aborted, Code::Unimplemented, Code::DataLoss]
        {
            assert!(matches!(sorted(Status::new(code, "boom")), VectorStoreError::Internal(_)), "{code:?}");
        }
        let conversion = QdrantError::ConversionError("bad".to_owned());
        assert!(matches!(from_qdrant(&conversion, None), VectorStoreError::Internal(_)));
        let exhausted = QdrantError::from(Status::resource_exhausted("rate limited"));
        assert!(matches!(from_qdrant(&exhausted, None), VectorStoreError::Internal(_)));
    }

    #[test]
    fn a_client_error_is_sorted_by_its_status_without_the_metadata() {
        let mut metadata = tonic::metadata::MetadataMap::new();
        metadata.insert("x-echoed-header", "leaky-secret-value".parse().unwrap());
        let err = QdrantError::from(Status::with_metadata(Code::Unauthenticated, "Invalid API key", metadata));
        assert!(err.to_string().contains("leaky-secret-value"), "the client's own text shows metadata");
        match from_qdrant(&err, Some("qbench-run-1")) {
            VectorStoreError::Rejected(message) => {
                assert!(message.contains("Invalid API key"), "{message}");
                assert!(!message.contains("leaky-secret-value"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_api_key_is_scrubbed_from_messages() {
        let key = SecretString::from("k3y-0123456789");
        let err = VectorStoreError::Rejected("invalid api-key k3y-0123456789 for k3y-0123456789".to_owned());
        assert_eq!(redact(err, &key).to_string(), "vector database refused the request: invalid api-key **** for ****");
        let untouched = VectorStoreError::Internal("boom".to_owned());
        assert_eq!(redact(untouched, &SecretString::from("")).to_string(), "vector database error: boom");
    }
}

mod guard {
    use super::*;

    #[test]
    fn only_names_with_the_qbench_prefix_pass() {
        assert!(check_collection_name("qbench-0190a4c2-7d2e-7c1a-9e1f-0a1b2c3d4e5f").is_ok());
        assert!(check_collection_name("qbench-x").is_ok());
        for name in ["", "qbench-", "qbench", "QBENCH-x", "production", "my-qbench-x", " qbench-x"] {
            assert!(matches!(check_collection_name(name), Err(VectorStoreError::Rejected(_))), "`{name}`");
        }
    }

    /// The store points at a port where nothing listens: a request that was sent would come back
    /// `Unreachable`, so `Rejected` proves the guard answered before any I/O.
    #[tokio::test]
    async fn a_foreign_collection_is_refused_before_anything_is_sent() {
        let store = RemoteQdrant::new(NOWHERE, None, quick()).unwrap();
        let foreign = "users";
        let vector = name("dense");
        let params = SearchParams::default();
        let request = SearchRequest { vector: &vector, query: &[1.0], k: 1, params: &params };
        let mut foreign_spec = spec();
        foreign_spec.name = foreign.to_owned();
        let results = [
            store.create_collection(&foreign_spec).await.err(),
            store.upsert(foreign, &[]).await.err(),
            store.build_index(foreign).await.err(),
            store.search(foreign, request).await.err(),
            store.drop_collection(foreign).await.err(),
        ];
        for (call, result) in results.into_iter().enumerate() {
            match result {
                Some(VectorStoreError::Rejected(message)) => {
                    assert!(message.contains("not created by qbench"), "{message}")
                }
                other => panic!("call {call}: {other:?}"),
            }
        }
        // Reading is allowed (it changes nothing): it goes out, and finds nobody listening.
        assert!(matches!(store.collection_info(foreign).await, Err(VectorStoreError::Unreachable(_))));
    }
}

mod provider {
    use super::*;

    fn same(a: &Arc<dyn VectorStore>, b: &Arc<dyn VectorStore>) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
    }

    #[tokio::test]
    async fn the_embedded_connection_and_bad_urls_are_refused() {
        let provider = RemoteProvider::new(quick());
        let embedded = Connection::embedded(Utc::now());
        match provider.open(&embedded, RunId::new()).await {
            Err(VectorStoreError::Rejected(message)) => assert!(message.contains("embedded"), "{message}"),
            other => panic!("{:?}", other.map(|_| ())),
        }
        let bad = connection("ftp://qdrant:6333", None);
        assert!(matches!(provider.open(&bad, RunId::new()).await, Err(VectorStoreError::Rejected(_))));
    }

    #[tokio::test]
    async fn one_client_per_connection_rebuilt_when_its_url_or_key_changes() {
        let provider = RemoteProvider::new(quick());
        let mut remote = connection("http://qdrant:6333", Some("key-one"));
        let first = provider.open(&remote, RunId::new()).await.unwrap();
        let again = provider.open(&remote, RunId::new()).await.unwrap();
        assert!(same(&first, &again));

        let other = connection("http://qdrant:6333", Some("key-one"));
        assert!(!same(&first, &provider.open(&other, RunId::new()).await.unwrap()), "another connection id");

        remote.spec.api_key = Some(SecretString::from("key-two"));
        let rekeyed = provider.open(&remote, RunId::new()).await.unwrap();
        assert!(!same(&first, &rekeyed));
        remote.spec.url = "http://qdrant:6334".to_owned();
        let moved = provider.open(&remote, RunId::new()).await.unwrap();
        assert!(!same(&rekeyed, &moved));

        provider.forget(remote.id);
        assert!(!same(&moved, &provider.open(&remote, RunId::new()).await.unwrap()));
    }

    #[tokio::test]
    async fn an_unreachable_server_is_unreachable_and_the_key_shows_nowhere() {
        let secret = "s3cr3t-api-key-value";
        let provider = RemoteProvider::new(quick());
        let store = provider.open(&connection(NOWHERE, Some(secret)), RunId::new()).await.unwrap();
        let err = store.engine().await.unwrap_err();
        assert!(matches!(err, VectorStoreError::Unreachable(_)), "{err:?}");
        assert!(err.is_transient());
        assert!(!err.to_string().contains(secret), "{err}");
        let err = store.collection_info("qbench-missing").await.unwrap_err();
        assert!(matches!(err, VectorStoreError::Unreachable(_)), "{err:?}");

        let direct = RemoteQdrant::new(NOWHERE, Some(SecretString::from(secret)), quick()).unwrap();
        assert_eq!(direct.endpoint(), "http://127.0.0.1:1");
        let debug = format!("{direct:?} {provider:?}");
        assert!(!debug.contains(secret), "{debug}");
        assert!(debug.contains("****"), "{debug}");
    }
}

/// The whole gRPC path, against the in-process fake.
mod wire {
    use std::time::Instant;

    use qbench_domain::neighbors::{TopK, offer_batch};

    use super::*;
    use crate::fake::{self, Running, Script};

    const KEY: &str = "wire-api-key-0042";
    const ROWS: usize = 80;

    fn fast() -> RemoteOptions {
        RemoteOptions {
            poll_interval: Duration::from_millis(10),
            index_settle: Duration::from_millis(100),
            index_timeout: Duration::from_secs(10),
            ..quick()
        }
    }

    /// Point `row` of `spec()`: `dense` and `small` filled from the row number.
    fn point(row: usize) -> Point {
        let dense: Vec<f32> = (0..32).map(|i| ((row * 31 + i * 7) % 17) as f32 - 8.0).collect();
        let small: Vec<f32> = (0..8).map(|i| ((row * 13 + i * 5) % 11) as f32).collect();
        Point {
            id: PointId::Num(row as u64),
            vectors: vec![(name("dense"), dense), (name("small"), small)],
            payload: serde_json::json!({ "row": row }).as_object().cloned().unwrap(),
        }
    }

    /// A fake following `script` with `spec()` created as `qbench-wire` and `ROWS` points in it.
    async fn loaded(script: Script, options: RemoteOptions) -> (Running, RemoteQdrant, String) {
        let api_key = script.api_key.clone().map(SecretString::from);
        let running = fake::start(script).await;
        let store = RemoteQdrant::new(&running.url, api_key, options).unwrap();
        let mut spec = spec();
        spec.name = "qbench-wire".to_owned();
        store.create_collection(&spec).await.unwrap();
        let points: Vec<Point> = (0..ROWS).map(point).collect();
        for batch in points.chunks(32) {
            store.upsert(&spec.name, batch).await.unwrap();
        }
        (running, store, spec.name)
    }

    #[tokio::test]
    async fn a_round_trip_sends_the_api_key_and_reads_every_answer() {
        let script = Script { api_key: Some(KEY.to_owned()), optimizing_polls: 3, ..Script::default() };
        let (running, store, collection) = loaded(script, fast()).await;

        let engine = store.engine().await.unwrap();
        assert_eq!((engine.engine.as_str(), engine.version.as_str()), ("qdrant", fake::VERSION));

        let mut again = spec();
        again.name = collection.clone();
        match store.create_collection(&again).await {
            Err(VectorStoreError::Rejected(message)) => assert!(message.contains("already exists"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert!(running.fake.upsert_waits.lock().unwrap().iter().all(|wait| *wait == Some(true)));

        let loaded = store.collection_info(&collection).await.unwrap();
        assert_eq!((loaded.points, loaded.indexed_vectors), (ROWS as u64, 0));
        assert_eq!(loaded.config["optimizer_config"]["indexing_threshold"], 0);
        assert_eq!(loaded.config["params"]["vectors"]["dense"]["size"], 32);

        store.build_index(&collection).await.unwrap();
        // Three yellow answers, then the green one.
        assert_eq!(*running.fake.polls.lock().unwrap(), 4);
        let indexed = store.collection_info(&collection).await.unwrap();
        assert_eq!(indexed.indexed_vectors, ROWS as u64, "only `dense` has a graph");
        assert_eq!(indexed.config["optimizer_config"]["indexing_threshold"], 1);

        let dense = name("dense");
        let query: Vec<f32> = (0..32).map(|i| (i % 5) as f32).collect();
        let exact = SearchParams { exact: true, ..SearchParams::default() };
        let answer = store
            .search(&collection, SearchRequest { vector: &dense, query: &query, k: 5, params: &exact })
            .await
            .unwrap();
        let ids: Vec<PointId> = (0..ROWS as u64).map(PointId::Num).collect();
        let values: Vec<f32> = (0..ROWS).flat_map(|row| point(row).vectors[0].1.clone()).collect();
        let mut truth = vec![TopK::new(5)];
        offer_batch(Distance::Cosine, 32, &ids, &values, &[&query], &mut truth);
        let expected: Vec<PointId> = truth.remove(0).into_sorted().into_iter().map(|(id, _)| id).collect();
        let found: Vec<PointId> = answer.points.iter().map(|point| point.id).collect();
        assert_eq!(found, expected);
        assert_eq!(answer.server_time, Some(Duration::from_millis(2)));

        let wrong_dimension =
            store.search(&collection, SearchRequest { vector: &dense, query: &[1.0], k: 5, params: &exact }).await;
        assert!(matches!(wrong_dimension, Err(VectorStoreError::Rejected(_))), "{wrong_dimension:?}");

        store.drop_collection(&collection).await.unwrap();
        assert!(matches!(
            store.collection_info(&collection).await,
            Err(VectorStoreError::CollectionNotFound(name)) if name == collection
        ));
        store.drop_collection(&collection).await.unwrap();
        assert!(matches!(store.upsert(&collection, &[point(0)]).await, Err(VectorStoreError::CollectionNotFound(_))));
        assert!(matches!(store.build_index(&collection).await, Err(VectorStoreError::CollectionNotFound(_))));
    }

    #[tokio::test]
    async fn the_real_server_suite_passes_against_the_fake() {
        let running = fake::start(Script { optimizing_polls: 2, ..Script::default() }).await;
        let store = Arc::new(RemoteQdrant::new(&running.url, None, fast()).unwrap());
        crate::server::round_trip(store.clone()).await;
        crate::server::missing_collection(&store).await;
    }

    #[tokio::test]
    async fn a_wrong_or_missing_api_key_is_rejected_and_never_shown() {
        let running = fake::start(Script { api_key: Some(KEY.to_owned()), ..Script::default() }).await;
        let wrong = "wrong-api-key-9876";
        for api_key in [Some(SecretString::from(wrong)), None] {
            let store = RemoteQdrant::new(&running.url, api_key, quick()).unwrap();
            match store.engine().await {
                Err(VectorStoreError::Rejected(message)) => {
                    assert!(message.contains("Unauthenticated"), "{message}");
                    assert!(!message.contains(wrong) && !message.contains(KEY), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn an_api_key_a_header_cannot_carry_is_refused_up_front() {
        let running = fake::start(Script::default()).await;
        let key = "line-one\nline-two-secret";
        match RemoteQdrant::new(&running.url, Some(SecretString::from(key)), quick()) {
            Err(VectorStoreError::Rejected(message)) => assert!(!message.contains("line-two-secret"), "{message}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_failed_optimizer_fails_build_index_with_its_message() {
        let script = Script { optimizer_error: Some("No space left on device".to_owned()), ..Script::default() };
        let (_running, store, collection) = loaded(script, fast()).await;
        match store.build_index(&collection).await {
            Err(VectorStoreError::Internal(message)) => {
                assert!(message.contains("No space left on device"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn build_index_gives_up_after_the_index_timeout() {
        let options = RemoteOptions { index_timeout: Duration::from_millis(150), ..fast() };
        let (_running, store, collection) = loaded(Script { never_green: true, ..Script::default() }, options).await;
        let started = Instant::now();
        match store.build_index(&collection).await {
            Err(VectorStoreError::Internal(message)) => {
                assert!(message.contains("was not built within"), "{message}");
                assert!(message.contains("still optimizing"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() >= Duration::from_millis(150));
    }

    #[tokio::test]
    async fn a_green_collection_short_of_its_count_is_taken_as_indexed_once_it_settles() {
        let (running, store, collection) = loaded(Script { half_indexed: true, ..Script::default() }, fast()).await;
        let started = Instant::now();
        store.build_index(&collection).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(100));
        // Polled every 10 ms for the 100 ms of settling, not once.
        assert!(*running.fake.polls.lock().unwrap() >= 5);
        assert_eq!(store.collection_info(&collection).await.unwrap().indexed_vectors, ROWS as u64 / 2);
    }
}

/// Against a real Qdrant: `QDRANT_URL` (REST or gRPC URL) and, if needed, `QDRANT_API_KEY`.
mod server {
    use qbench_domain::metrics::{Returned, query_quality};
    use qbench_domain::neighbors::{TopK, offer_batch, oriented_distance};
    use qbench_domain::synthetic::{SyntheticSpec, generate};

    use super::*;

    const ROWS: usize = 600;
    const QUERIES: usize = 20;
    const K: u32 = 10;

    /// The store of the server under test, or `None` (with the skip notice) without one.
    fn server() -> Option<Arc<RemoteQdrant>> {
        let Ok(url) = std::env::var("QDRANT_URL") else {
            eprintln!("skipped: QDRANT_URL is not set");
            return None;
        };
        let api_key = std::env::var("QDRANT_API_KEY").ok().filter(|key| !key.is_empty()).map(SecretString::from);
        let options = RemoteOptions { index_timeout: Duration::from_secs(300), ..RemoteOptions::default() };
        Some(Arc::new(RemoteQdrant::new(&url, api_key, options).unwrap()))
    }

    fn collection_name() -> String {
        format!("qbench-test-{}", uuid::Uuid::new_v4())
    }

    /// Runs `body` on a fresh collection name and drops the collection afterwards, even when
    /// `body` panics.
    async fn with_collection<F, Fut>(store: Arc<RemoteQdrant>, body: F)
    where
        F: FnOnce(Arc<RemoteQdrant>, String) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let collection = collection_name();
        let outcome = tokio::spawn(body(store.clone(), collection.clone())).await;
        store.drop_collection(&collection).await.unwrap();
        if let Err(err) = outcome {
            std::panic::resume_unwind(err.into_panic());
        }
    }

    /// Mean recall@K of `params` on `vector`, against the domain's brute force.
    async fn recall(
        store: &RemoteQdrant,
        collection: &str,
        vector: &VectorName,
        spec: &VectorSpec,
        points: &[f32],
        queries: &[f32],
        params: &SearchParams,
    ) -> f64 {
        let dim = spec.dim.get() as usize;
        let ids: Vec<PointId> = (0..ROWS as u64).map(PointId::Num).collect();
        let query_rows: Vec<&[f32]> = queries.chunks_exact(dim).collect();
        let mut tops: Vec<TopK> = query_rows.iter().map(|_| TopK::new(K as usize)).collect();
        offer_batch(spec.distance, dim, &ids, points, &query_rows, &mut tops);
        let mut total = 0.0;
        for (query, top) in query_rows.iter().zip(tops) {
            let answer = store.search(collection, SearchRequest { vector, query, k: K, params }).await.unwrap();
            assert!(answer.server_time.is_some());
            let returned: Vec<Returned<PointId>> = answer
                .points
                .iter()
                .map(|point| {
                    let PointId::Num(row) = point.id else { panic!("unexpected id {}", point.id) };
                    let row = row as usize;
                    let distance = oriented_distance(spec.distance, query, &points[row * dim..(row + 1) * dim]);
                    Returned { id: point.id, distance: Some(distance) }
                })
                .collect();
            total += query_quality(&returned, &top.into_sorted(), K as usize).recall;
        }
        total / query_rows.len() as f64
    }

    #[tokio::test]
    async fn the_engine_reports_qdrant_and_its_version() {
        let Some(store) = server() else { return };
        let engine = store.engine().await.unwrap();
        assert_eq!(engine.engine, "qdrant");
        assert!(!engine.version.is_empty());
    }

    #[tokio::test]
    async fn create_upsert_index_search_exactly_with_recall_one_and_drop() {
        let Some(store) = server() else { return };
        round_trip(store).await;
    }

    #[tokio::test]
    async fn a_missing_collection_is_not_found() {
        let Some(store) = server() else { return };
        missing_collection(&store).await;
    }

    /// A fresh collection's vectors read back as created; its shards are placed (one local
    /// replica at least, holding its points) with no transfer; the memory, when the server
    /// reports it, is plausible.
    #[tokio::test]
    async fn a_collections_vectors_and_shards_and_the_servers_memory_are_read() {
        let Some(store) = server() else { return };
        with_collection(store, |store, collection| async move {
            let mut spec = spec();
            spec.name = collection.clone();
            store.create_collection(&spec).await.unwrap();
            assert_eq!(store.collection_vectors(&collection).await.unwrap(), Some(spec.vectors.clone()));

            let listed = store.collections().await.unwrap();
            let ours = listed.iter().find(|c| c.name == collection).unwrap();
            let shards = ours.shards.as_ref().expect("Qdrant answers /collections/{name}/cluster");
            assert!(shards.shard_count >= 1, "{shards:?}");
            assert!(shards.placement.iter().any(|shard| shard.local && shard.peer_id.is_some()), "{shards:?}");
            assert!(shards.transfers.is_empty(), "{shards:?}");

            match store.memory().await.unwrap() {
                Some(memory) => assert!(memory.resident_bytes > 0 && memory.allocated_bytes > 0, "{memory:?}"),
                None => eprintln!("the server reports no memory (no jemalloc, or a key limited to collections)"),
            }
        })
        .await;
    }

    /// Create and fill a collection, snapshot it, restore the archive under another name (refused
    /// onto an existing collection without overwrite), and find the same points there.
    #[tokio::test]
    async fn a_snapshot_restored_under_another_name_holds_the_same_points() {
        let Some(store) = server() else { return };
        with_collection(store, |store, source| async move {
            with_collection(store, |store, copy| async move {
                let mut spec = spec();
                spec.name = source.clone();
                store.create_collection(&spec).await.unwrap();
                let points: Vec<Point> = (0..25_u64)
                    .map(|row| Point {
                        id: PointId::Num(row),
                        vectors: vec![
                            (name("dense"), (0..32).map(|i| ((row as usize * 7 + i) % 13) as f32 + 1.0).collect()),
                            (name("small"), (0..8).map(|i| ((row as usize + i) % 5) as f32).collect()),
                        ],
                        payload: serde_json::Map::new(),
                    })
                    .collect();
                store.upsert(&source, &points).await.unwrap();

                let mut reader = store.snapshot(&source).await.unwrap();
                let mut archive = Vec::new();
                while let Some(chunk) = reader.next_chunk().await.unwrap() {
                    archive.extend_from_slice(&chunk);
                }
                assert!(!archive.is_empty());

                match store.restore(&source, false).await.err() {
                    Some(VectorStoreError::Rejected(message)) => {
                        assert!(message.contains("already exists"), "{message}")
                    }
                    other => panic!("{other:?}"),
                }
                let mut writer = store.restore(&copy, false).await.unwrap();
                for piece in archive.chunks(100_000) {
                    writer.write(piece).await.unwrap();
                }
                assert_eq!(writer.finish().await.unwrap(), 25);
                assert_eq!(store.collection_info(&copy).await.unwrap().points, 25);
                assert_eq!(store.collection_info(&source).await.unwrap().points, 25);
            })
            .await;
        })
        .await;
    }

    /// Create (twice: the second is refused) → upsert → build_index → exact search with recall 1
    /// on every vector, HNSW with recall ≥ 0.9 → drop (twice). Also run against the fake, so the
    /// suite itself is known to work.
    pub(super) async fn round_trip(store: Arc<RemoteQdrant>) {
        with_collection(store, |store, collection| async move {
            let mut spec = spec();
            spec.name = collection.clone();
            store.create_collection(&spec).await.unwrap();
            assert!(matches!(store.create_collection(&spec).await, Err(VectorStoreError::Rejected(_))));

            let data = generate(&SyntheticSpec {
                rows: ROWS,
                queries: QUERIES,
                vectors: spec.vectors.clone(),
                clusters: 8,
                seed: 7,
            });
            let points: Vec<Point> = (0..ROWS)
                .map(|row| Point {
                    id: PointId::Num(row as u64),
                    vectors: spec
                        .vectors
                        .iter()
                        .map(|(vector, vector_spec)| {
                            let dim = vector_spec.dim.get() as usize;
                            (vector.clone(), data.points[vector][row * dim..(row + 1) * dim].to_vec())
                        })
                        .collect(),
                    payload: serde_json::json!({ "cluster": data.point_clusters[row] }).as_object().cloned().unwrap(),
                })
                .collect();
            for batch in points.chunks(250) {
                store.upsert(&collection, batch).await.unwrap();
            }
            let loaded = store.collection_info(&collection).await.unwrap();
            assert_eq!(loaded.points, ROWS as u64);
            assert_eq!(loaded.config["optimizer_config"]["indexing_threshold"], 0);

            store.build_index(&collection).await.unwrap();
            let indexed = store.collection_info(&collection).await.unwrap();
            assert_eq!(indexed.points, ROWS as u64);
            assert_eq!(indexed.config["optimizer_config"]["indexing_threshold"], 1);
            assert_eq!(indexed.config["params"]["vectors"]["dense"]["hnsw_config"]["m"], 32);
            assert!(indexed.segments > 0);

            let exact = SearchParams { exact: true, ..SearchParams::default() };
            for (vector, vector_spec) in &spec.vectors {
                let recall = recall(
                    &store,
                    &collection,
                    vector,
                    vector_spec,
                    &data.points[vector],
                    &data.queries[vector],
                    &exact,
                )
                .await;
                assert_eq!(recall, 1.0, "exact search on `{vector}`");
            }
            let dense = name("dense");
            let hnsw = SearchParams {
                hnsw_ef: Some(128),
                exact: false,
                quantization: Some(SearchQuantization { ignore: None, rescore: Some(true), oversampling: Some(2.0) }),
            };
            let recall = recall(
                &store,
                &collection,
                &dense,
                &spec.vectors[&dense],
                &data.points[&dense],
                &data.queries[&dense],
                &hnsw,
            )
            .await;
            assert!(recall >= 0.9, "HNSW recall {recall}");

            store.drop_collection(&collection).await.unwrap();
            assert!(matches!(
                store.collection_info(&collection).await,
                Err(VectorStoreError::CollectionNotFound(name)) if name == collection
            ));
            // Dropping what is gone is fine.
            store.drop_collection(&collection).await.unwrap();
        })
        .await;
    }

    /// Every call about a collection that does not exist answers `CollectionNotFound`, except
    /// `drop_collection`, which succeeds.
    pub(super) async fn missing_collection(store: &RemoteQdrant) {
        let missing = collection_name();
        let vector = name("dense");
        let params = SearchParams::default();
        let request = SearchRequest { vector: &vector, query: &[0.0; 32], k: 1, params: &params };
        for result in [
            store.search(&missing, request).await.err(),
            store.collection_info(&missing).await.err(),
            store.build_index(&missing).await.err(),
        ] {
            assert!(
                matches!(result, Some(VectorStoreError::CollectionNotFound(ref name)) if *name == missing),
                "{result:?}"
            );
        }
        store.drop_collection(&missing).await.unwrap();
    }
}

/// Testing a connection: each failure is named by its step (reachable, TLS, authentication, not
/// Qdrant), against the fake and against listeners that are not Qdrant.
mod check {
    use qbench_vector_store::{CheckStep, ConnectionCheck, StepOutcome};

    use super::*;

    fn failed(check: &ConnectionCheck) -> (CheckStep, String) {
        check.failure().map(|(step, why)| (step, why.to_owned())).unwrap_or_else(|| panic!("passed: {check:?}"))
    }

    #[tokio::test]
    async fn a_qdrant_answers_its_version_and_round_trip() {
        let running = fake::start(fake::Script { api_key: Some("right-key".into()), ..fake::Script::default() }).await;
        let check = RemoteProvider::new(quick()).check(&connection(&running.url, Some("right-key"))).await;
        assert!(check.is_ok(), "{check:?}");
        assert_eq!(check.engine.as_ref().unwrap().version, fake::VERSION);
        assert!(check.round_trip.is_some());
        assert_eq!(check.steps[1], (CheckStep::Tls, StepOutcome::Skipped), "no TLS over http://");
    }

    #[tokio::test]
    async fn a_wrong_api_key_fails_authentication_without_showing_the_key() {
        let running = fake::start(fake::Script { api_key: Some("right-key".into()), ..fake::Script::default() }).await;
        let check = RemoteProvider::new(quick()).check(&connection(&running.url, Some("wrong-key-123"))).await;
        let (step, why) = failed(&check);
        assert_eq!(step, CheckStep::Authenticate, "{why}");
        assert!(why.contains("refused") && !why.contains("wrong-key-123"), "{why}");
        assert_eq!(check.steps[0], (CheckStep::Reach, StepOutcome::Passed));
    }

    #[tokio::test]
    async fn nothing_listening_fails_reaching_it() {
        let check = RemoteProvider::new(quick()).check(&connection(NOWHERE, None)).await;
        assert_eq!(failed(&check).0, CheckStep::Reach, "{check:?}");
    }

    #[tokio::test]
    async fn https_to_a_plain_server_fails_the_tls_handshake() {
        let running = fake::start(fake::Script::default()).await;
        let url = running.url.replace("http://", "https://");
        let check = RemoteProvider::new(quick()).check(&connection(&url, None)).await;
        let (step, why) = failed(&check);
        assert_eq!(step, CheckStep::Tls, "{why}");
    }

    #[tokio::test]
    async fn a_server_that_is_not_grpc_is_not_qdrant() {
        // An HTTP/1.1 server (Qdrant's REST port, say, or any web server): it answers, but not gRPC.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buffer = [0_u8; 1024];
                let _ = socket.read(&mut buffer).await;
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
            }
        });
        let check = RemoteProvider::new(quick()).check(&connection(&url, None)).await;
        let (step, why) = failed(&check);
        assert_eq!(step, CheckStep::Identify, "{why}");
    }
}

/// Health over Qdrant's REST API, against the REST stand-in (`rest_fake`), which answers
/// `/healthz`, `/readyz` and `/cluster` like a node of a two-peer cluster.
mod health {
    use qbench_qdrant::{health, rest_url};
    use qbench_vector_store::PeerHealth;

    use super::*;
    use crate::rest_fake::{RestQdrant, RestScript};

    /// A REST stand-in whose `/readyz` answers `ready_status` and whose every path but the probes
    /// needs `api-key: key`, as Qdrant's do. Its base URL.
    async fn rest_stand_in(ready_status: u16, key: &'static str) -> String {
        RestQdrant::start(RestScript { ready_status, api_key: Some(key.to_owned()), ..RestScript::default() }).await.url
    }

    #[tokio::test]
    async fn a_cluster_node_answers_live_ready_and_its_peers() {
        let base = rest_stand_in(200, "k-1").await;
        let key = SecretString::from("k-1");
        let answered = health(&base, Some(&key), Duration::from_secs(5)).await.unwrap();
        assert!(answered.live && answered.ready && answered.distributed, "{answered:?}");
        assert_eq!(
            answered.peers,
            [
                PeerHealth { id: 7, uri: "http://node-a:6335/".into(), this: true },
                PeerHealth { id: 9, uri: "http://node-b:6335/".into(), this: false }
            ]
        );
        // Not caught up yet: alive, not ready.
        let base = rest_stand_in(503, "k-1").await;
        let catching_up = health(&base, Some(&key), Duration::from_secs(5)).await.unwrap();
        assert!(catching_up.live && !catching_up.ready);
    }

    #[tokio::test]
    async fn a_refused_key_or_no_server_is_said() {
        let base = rest_stand_in(200, "k-1").await;
        let wrong = SecretString::from("wrong-key-77");
        match health(&base, Some(&wrong), Duration::from_secs(5)).await {
            Err(VectorStoreError::Rejected(why)) => {
                assert!(why.contains("refused") && !why.contains("wrong-key-77"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(health(NOWHERE, None, Duration::from_secs(2)).await, Err(VectorStoreError::Unreachable(_))));
    }

    #[test]
    fn the_rest_port_is_the_grpc_ports_neighbour_and_a_proxys_port_is_kept() {
        assert_eq!(rest_url("http://qdrant:6334").unwrap(), "http://qdrant:6333");
        assert_eq!(rest_url("http://qdrant").unwrap(), "http://qdrant:6333");
        assert_eq!(rest_url("https://qdrant:6333").unwrap(), "https://qdrant:6333");
        assert_eq!(rest_url("https://proxy.example:443").unwrap(), "https://proxy.example:443");
        assert!(rest_url("http://user:pw@qdrant:6333").is_err());
    }
}

/// A remote engine's collections: every name, the figures of qbench's own only.
mod listing {
    use super::*;

    #[tokio::test]
    async fn every_collection_is_listed_and_only_qbench_ones_are_read() {
        let running = fake::start(fake::Script::default()).await;
        let store = RemoteQdrant::new(&running.url, None, quick()).unwrap();
        store.create_collection(&spec()).await.unwrap();
        // Somebody else's collection, made behind qbench's back.
        let client = qdrant_client::Qdrant::from_url(&running.url).skip_compatibility_check().build().unwrap();
        let theirs = qdrant::CreateCollection { collection_name: "production".to_owned(), ..Default::default() };
        client.create_collection(theirs).await.unwrap();

        let collections = store.collections().await.unwrap();
        let names: Vec<&str> = collections.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["production", "qbench-run-1"]);
        assert!(collections[0].info.is_none(), "another's collection is not read");
        assert_eq!(collections[1].info.as_ref().unwrap().points, 0);
    }
}

/// What a remote engine says beyond its collections' figures: each `qbench-` collection's shard
/// placement and transfers, the server's memory (REST, against the stand-in, with the gRPC fake
/// listing the collections), and a collection's vectors (gRPC).
mod cluster_stats {
    use qbench_vector_store::{EngineMemory, ShardLayout, ShardPlacement, ShardTransfer};

    use super::*;
    use crate::rest_fake::{Memory, OTHER_PEER, RestQdrant, RestScript, THIS_PEER};

    const KEY: &str = "stats-key-4711";

    /// The gRPC fake holding `qbench-run-1` (qbench's, from [`spec`]) and `production` (not), and
    /// a store on it whose REST API is the stand-in `script` starts, both needing `KEY`.
    async fn engine(script: RestScript) -> (fake::Running, RestQdrant, RemoteQdrant) {
        let running = fake::start(fake::Script { api_key: Some(KEY.to_owned()), ..fake::Script::default() }).await;
        let collections = [("qbench-run-1".to_owned(), 12), ("production".to_owned(), 99)].into();
        let stand_in = RestQdrant::start(RestScript { collections, ..script }).await;
        let store = RemoteQdrant::new(&running.url, Some(SecretString::from(KEY)), quick())
            .unwrap()
            .with_rest_url(&stand_in.url)
            .unwrap();
        store.create_collection(&spec()).await.unwrap();
        let client =
            qdrant_client::Qdrant::from_url(&running.url).api_key(KEY).skip_compatibility_check().build().unwrap();
        let theirs = qdrant::CreateCollection { collection_name: "production".to_owned(), ..Default::default() };
        client.create_collection(theirs).await.unwrap();
        (running, stand_in, store)
    }

    fn keyed(api_key: Option<&str>) -> RestScript {
        RestScript { api_key: api_key.map(str::to_owned), ..RestScript::default() }
    }

    #[tokio::test]
    async fn a_two_peer_collections_shards_and_transfer_and_the_servers_memory_are_read() {
        let memory = Memory { resident_bytes: 512 << 20, allocated_bytes: 300 << 20 };
        let script = RestScript { shard_layout: true, telemetry: Some(Some(memory)), ..keyed(Some(KEY)) };
        let (_running, stand_in, store) = engine(script).await;

        let collections = store.collections().await.unwrap();
        let names: Vec<&str> = collections.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["production", "qbench-run-1"]);
        assert_eq!(collections[0].shards, None, "another's collection is not read");
        let placement = |shard_id, peer, state: &str, points, local| ShardPlacement {
            shard_id,
            peer_id: Some(peer),
            state: state.to_owned(),
            points,
            local,
        };
        assert_eq!(
            collections[1].shards,
            Some(ShardLayout {
                shard_count: 2,
                placement: vec![
                    placement(0, THIS_PEER, "Active", Some(12), true),
                    placement(0, OTHER_PEER, "Partial", None, false),
                    placement(1, OTHER_PEER, "Active", None, false),
                ],
                transfers: vec![ShardTransfer {
                    shard_id: 0,
                    from: THIS_PEER,
                    to: OTHER_PEER,
                    sync: true,
                    method: Some("stream_records".to_owned()),
                }],
            })
        );

        assert_eq!(
            store.memory().await.unwrap(),
            Some(EngineMemory { resident_bytes: 512 << 20, allocated_bytes: 300 << 20 })
        );
        let state = stand_in.state();
        let cluster_reads: Vec<&String> = state.requests.iter().filter(|r| r.ends_with("/cluster")).collect();
        assert_eq!(cluster_reads, ["GET /collections/qbench-run-1/cluster"], "only qbench's collection is asked");
        let telemetry = state.requests.iter().position(|r| r == "GET /telemetry").unwrap();
        assert_eq!(state.queries[telemetry].get("details_level").map(String::as_str), Some("1"));
    }

    #[tokio::test]
    async fn a_server_without_those_endpoints_or_without_jemalloc_answers_without_them() {
        let (_running, _stand_in, store) = engine(keyed(Some(KEY))).await;
        let collections = store.collections().await.unwrap();
        assert!(collections.iter().all(|c| c.shards.is_none()), "{collections:?}");
        assert_eq!(collections[1].info.as_ref().unwrap().points, 0, "the figures are still read");
        assert_eq!(store.memory().await.unwrap(), None);

        let (_running, _stand_in, store) = engine(RestScript { telemetry: Some(None), ..keyed(Some(KEY)) }).await;
        assert_eq!(store.memory().await.unwrap(), None, "telemetry without `memory`");
    }

    #[tokio::test]
    async fn a_refused_rest_api_is_asked_once_and_the_collections_are_still_listed() {
        // Another key on the REST side: its first 401 stops the shard reads.
        let (_running, stand_in, store) = engine(RestScript { shard_layout: true, ..keyed(Some("another-key")) }).await;
        store.create_collection(&CollectionSpec { name: "qbench-run-2".to_owned(), ..spec() }).await.unwrap();
        let collections = store.collections().await.unwrap();
        assert_eq!(collections.len(), 3);
        assert!(collections.iter().all(|c| c.shards.is_none()), "{collections:?}");
        assert_eq!(stand_in.state().requests.iter().filter(|r| r.ends_with("/cluster")).count(), 1);
        match store.memory().await {
            Err(VectorStoreError::Rejected(why)) => assert!(!why.contains(KEY), "{why}"),
            other => panic!("{other:?}"),
        }

        // No REST API at all: listed, without shards.
        let running = fake::start(fake::Script::default()).await;
        let store = RemoteQdrant::new(&running.url, None, quick()).unwrap().with_rest_url(NOWHERE).unwrap();
        store.create_collection(&spec()).await.unwrap();
        let collections = store.collections().await.unwrap();
        assert_eq!((collections.len(), &collections[0].shards), (1, &None));
        assert!(matches!(store.memory().await, Err(VectorStoreError::Unreachable(_))));
    }

    #[tokio::test]
    async fn collection_vectors_reads_the_servers_configuration() {
        let running = fake::start(fake::Script::default()).await;
        let store = RemoteQdrant::new(&running.url, None, quick()).unwrap();
        store.create_collection(&spec()).await.unwrap();
        assert_eq!(store.collection_vectors("qbench-run-1").await.unwrap(), Some(spec().vectors));

        let single = CollectionSpec {
            name: "qbench-single".to_owned(),
            vectors: [(VectorName::unnamed(), vector(4, Distance::Dot))].into(),
            indexing: BTreeMap::new(),
            quantization: None,
        };
        store.create_collection(&single).await.unwrap();
        assert_eq!(store.collection_vectors("qbench-single").await.unwrap(), Some(single.vectors));

        match store.collection_vectors("qbench-missing").await {
            Err(VectorStoreError::CollectionNotFound(name)) => assert_eq!(name, "qbench-missing"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_vector_qbench_cannot_hold_is_an_internal_error() {
        let request = create_collection_request(&spec()).unwrap();
        let mut params = request.vectors_config.unwrap();
        if let Some(vectors_config::Config::ParamsMap(map)) = &mut params.config {
            map.map.get_mut("dense").unwrap().distance = qdrant::Distance::UnknownDistance as i32;
        }
        let info = qdrant::CollectionInfo {
            config: Some(qdrant::CollectionConfig {
                params: Some(qdrant::CollectionParams { vectors_config: Some(params), ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        };
        match qbench_qdrant::collection_vectors(&info) {
            Err(VectorStoreError::Internal(why)) => assert!(why.contains("`dense`"), "{why}"),
            other => panic!("{other:?}"),
        }
        // Sparse vectors only: no dense vector.
        assert_eq!(qbench_qdrant::collection_vectors(&qdrant::CollectionInfo::default()).unwrap(), BTreeMap::new());
    }
}

/// Snapshots over Qdrant's REST API, against the REST stand-in (`rest_fake`): the archive
/// streamed out in chunks and the server's copy deleted; a restore spooled, uploaded only on
/// `finish`, counted, and its spool file gone however it ends.
mod snapshots {
    use std::path::{Path, PathBuf};

    use qbench_qdrant::SNAPSHOT_CHUNK_BYTES;
    use qbench_vector_store::{SnapshotReader, SnapshotWriter};
    use sha2::{Digest, Sha256};

    use super::*;
    use crate::rest_fake::{RestQdrant, RestScript};

    const KEY: &str = "snapshot-key-0815";

    /// `len` bytes that repeat nowhere, so a chunk out of place shows.
    fn archive(len: usize) -> Vec<u8> {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect()
    }

    /// A stand-in needing `KEY`, holding `collections`, serving an archive of three chunks (the
    /// last one short) and recovering uploads as 42 points.
    fn script(collections: &[(&str, u64)]) -> RestScript {
        RestScript {
            api_key: Some(KEY.to_owned()),
            collections: collections.iter().map(|(name, points)| ((*name).to_owned(), *points)).collect(),
            archive: archive(2 * SNAPSHOT_CHUNK_BYTES + 12_345),
            restored_points: 42,
            ..RestScript::default()
        }
    }

    /// A store on `stand_in` with `KEY`, spooling restores into `spool`.
    fn store(stand_in: &RestQdrant, spool: &Path) -> RemoteQdrant {
        let options = RemoteOptions { spool_dir: Some(spool.to_owned()), ..quick() };
        RemoteQdrant::new(&stand_in.url, Some(SecretString::from(KEY)), options).unwrap()
    }

    /// The files in the spool directory.
    fn spooled(spool: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(spool).unwrap().map(|entry| entry.unwrap().path()).collect()
    }

    async fn read_all(reader: &mut Box<dyn SnapshotReader>) -> Vec<Vec<u8>> {
        let mut chunks = Vec::new();
        while let Some(chunk) = reader.next_chunk().await.unwrap() {
            chunks.push(chunk);
        }
        chunks
    }

    /// Writes `bytes` in uneven pieces, as a repository hands them over.
    async fn write_all(writer: &mut Box<dyn SnapshotWriter>, bytes: &[u8]) {
        for piece in bytes.chunks(700_001) {
            writer.write(piece).await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_snapshot_streams_the_servers_archive_in_chunks_and_deletes_it_afterwards() {
        let stand_in = RestQdrant::start(script(&[("qbench-source", 5)])).await;
        let spool = tempfile::tempdir().unwrap();
        let store = store(&stand_in, spool.path());

        let mut reader = store.snapshot("qbench-source").await.unwrap();
        let chunks = read_all(&mut reader).await;
        let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
        assert_eq!(sizes, [SNAPSHOT_CHUNK_BYTES, SNAPSHOT_CHUNK_BYTES, 12_345]);
        assert!(chunks.concat() == stand_in.archive(), "the bytes differ from the server's archive");
        assert!(reader.next_chunk().await.unwrap().is_none(), "the end stays the end");
        // Deleted before the end was reported: nothing stays on the server's disk.
        let state = stand_in.state();
        assert_eq!(state.deleted, ["qbench-source-1-2026-12-01-10-00-00.snapshot"]);
        assert!(state.snapshots.is_empty(), "{:?}", state.snapshots);
        assert_eq!(
            state.requests,
            [
                "POST /collections/qbench-source/snapshots",
                "GET /collections/qbench-source/snapshots/qbench-source-1-2026-12-01-10-00-00.snapshot",
                "DELETE /collections/qbench-source/snapshots/qbench-source-1-2026-12-01-10-00-00.snapshot",
            ]
        );
    }

    #[tokio::test]
    async fn a_snapshot_reader_dropped_half_way_still_deletes_the_servers_copy() {
        let stand_in = RestQdrant::start(script(&[("qbench-source", 5)])).await;
        let spool = tempfile::tempdir().unwrap();
        let mut reader = store(&stand_in, spool.path()).snapshot("qbench-source").await.unwrap();
        assert_eq!(reader.next_chunk().await.unwrap().unwrap().len(), SNAPSHOT_CHUNK_BYTES);
        drop(reader);
        assert_eq!(stand_in.next_deletion().await, "qbench-source-1-2026-12-01-10-00-00.snapshot");
        assert!(stand_in.state().snapshots.is_empty());
    }

    #[tokio::test]
    async fn a_download_that_differs_from_the_announced_checksum_fails_and_is_deleted() {
        let stand_in =
            RestQdrant::start(RestScript { corrupt_download: true, ..script(&[("qbench-source", 5)]) }).await;
        let spool = tempfile::tempdir().unwrap();
        let mut reader = store(&stand_in, spool.path()).snapshot("qbench-source").await.unwrap();
        let failure = loop {
            match reader.next_chunk().await {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("a damaged download was taken as complete"),
                Err(err) => break err,
            }
        };
        match &failure {
            VectorStoreError::Internal(message) => assert!(message.contains("SHA-256"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert!(stand_in.state().snapshots.is_empty(), "the server's copy was left");
        assert!(reader.next_chunk().await.is_err(), "a failed download does not end cleanly later");
    }

    #[tokio::test]
    async fn an_unknown_collection_is_not_found_and_nothing_is_left_on_the_server() {
        let stand_in = RestQdrant::start(script(&[])).await;
        let spool = tempfile::tempdir().unwrap();
        match store(&stand_in, spool.path()).snapshot("qbench-missing").await.err() {
            Some(VectorStoreError::CollectionNotFound(name)) => assert_eq!(name, "qbench-missing"),
            other => panic!("{other:?}"),
        }
        assert!(stand_in.state().snapshots.is_empty());
    }

    #[tokio::test]
    async fn a_restore_uploads_exactly_the_bytes_written_and_answers_the_point_count() {
        let stand_in = RestQdrant::start(script(&[])).await;
        let spool = tempfile::tempdir().unwrap();
        let bytes = archive(2 * SNAPSHOT_CHUNK_BYTES + 777);
        let mut writer = store(&stand_in, spool.path()).restore("qbench-restored", false).await.unwrap();
        write_all(&mut writer, &bytes).await;
        assert_eq!(spooled(spool.path()).len(), 1, "spooled to a file");
        assert!(!stand_in.state().uploaded(), "nothing is sent before finish");

        assert_eq!(writer.finish().await.unwrap(), 42);

        let state = stand_in.state();
        let [upload] = state.uploads.as_slice() else { panic!("{} uploads", state.uploads.len()) };
        assert_eq!(upload.collection, "qbench-restored");
        assert!(upload.archive == bytes, "the upload differs from the bytes written");
        assert_eq!(upload.field, "snapshot");
        assert!(upload.content_length.is_some(), "the body was not sized in advance");
        assert_eq!(upload.query["priority"], "snapshot");
        assert_eq!(upload.query["wait"], "true");
        let sha256: String = Sha256::digest(&bytes).iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(upload.query["checksum"], sha256);
        // The archive Qdrant keeps after recovering is deleted, and the count is exact.
        let file_name = upload.file_name.clone().unwrap();
        assert!(file_name.starts_with("qbench-restore-"), "{file_name}");
        assert_eq!(state.deleted, [file_name]);
        assert!(state.snapshots.is_empty(), "{:?}", state.snapshots);
        assert_eq!(state.requests.last().unwrap(), "POST /collections/qbench-restored/points/count");
        assert_eq!(state.collections["qbench-restored"], 42);
        assert!(spooled(spool.path()).is_empty(), "the spool file stayed");
    }

    #[tokio::test]
    async fn a_restore_onto_an_existing_collection_without_overwrite_is_rejected_and_uploads_nothing() {
        let stand_in = RestQdrant::start(script(&[("qbench-taken", 3)])).await;
        let spool = tempfile::tempdir().unwrap();
        let store = store(&stand_in, spool.path());
        match store.restore("qbench-taken", false).await.err() {
            Some(VectorStoreError::Rejected(message)) => assert!(message.contains("already exists"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert!(spooled(spool.path()).is_empty());

        // A collection created while the archive was written is not replaced either.
        let mut late = store.restore("qbench-late", false).await.unwrap();
        write_all(&mut late, &archive(1_000)).await;
        stand_in.state().collections.insert("qbench-late".to_owned(), 9);
        match late.finish().await {
            Err(VectorStoreError::Rejected(message)) => assert!(message.contains("already exists"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert!(!stand_in.state().uploaded(), "something was uploaded");
        assert!(spooled(spool.path()).is_empty(), "the spool file stayed");

        // With overwrite, Qdrant's recovery replaces it.
        let mut writer = store.restore("qbench-taken", true).await.unwrap();
        write_all(&mut writer, &archive(1_000)).await;
        assert_eq!(writer.finish().await.unwrap(), 42);
        assert_eq!(stand_in.state().collections["qbench-taken"], 42);
    }

    #[tokio::test]
    async fn an_archive_qdrant_refuses_is_rejected_with_its_message_and_no_spool_file_stays() {
        let refusal = "Wrong input: Snapshot is not a valid tar archive";
        let stand_in =
            RestQdrant::start(RestScript { upload_refusal: Some((400, refusal.to_owned())), ..script(&[]) }).await;
        let spool = tempfile::tempdir().unwrap();
        let store = store(&stand_in, spool.path());
        let mut writer = store.restore("qbench-restored", false).await.unwrap();
        write_all(&mut writer, &archive(5_000)).await;
        match writer.finish().await {
            Err(VectorStoreError::Rejected(message)) => {
                assert!(message.contains(refusal), "{message}");
                assert!(!message.contains(KEY), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(spooled(spool.path()).is_empty(), "the spool file stayed after a refusal");
        assert!(!stand_in.state().collections.contains_key("qbench-restored"));

        // Aborted, or dropped without finish: the spool file goes, nothing is sent.
        let requests = stand_in.state().requests.len();
        let mut aborted = store.restore("qbench-aborted", false).await.unwrap();
        write_all(&mut aborted, &archive(5_000)).await;
        assert_eq!(spooled(spool.path()).len(), 1);
        aborted.abort().await;
        assert!(spooled(spool.path()).is_empty(), "the spool file stayed after abort");
        let mut dropped = store.restore("qbench-dropped", false).await.unwrap();
        write_all(&mut dropped, &archive(5_000)).await;
        drop(dropped);
        assert!(spooled(spool.path()).is_empty(), "the spool file stayed after a drop");
        // Only the two existence checks.
        assert_eq!(stand_in.state().requests.len(), requests + 2);
    }

    #[tokio::test]
    async fn any_collection_may_be_named_the_service_decides_who_may() {
        let stand_in = RestQdrant::start(script(&[("production", 7)])).await;
        let spool = tempfile::tempdir().unwrap();
        let store = store(&stand_in, spool.path());
        let mut reader = store.snapshot("production").await.unwrap();
        assert_eq!(read_all(&mut reader).await.concat().len(), stand_in.archive().len());
        let mut writer = store.restore("users", false).await.unwrap();
        write_all(&mut writer, &archive(1_000)).await;
        assert_eq!(writer.finish().await.unwrap(), 42);
    }

    #[tokio::test]
    async fn a_refused_key_is_rejected_without_showing_it_and_no_server_is_unreachable() {
        let stand_in = RestQdrant::start(script(&[("qbench-source", 5)])).await;
        let spool = tempfile::tempdir().unwrap();
        let wrong = "wrong-key-4711";
        let options = RemoteOptions { spool_dir: Some(spool.path().to_owned()), ..quick() };
        let store = RemoteQdrant::new(&stand_in.url, Some(SecretString::from(wrong)), options.clone()).unwrap();
        let refused = [store.snapshot("qbench-source").await.err(), store.restore("qbench-new", false).await.err()];
        for err in refused {
            match err {
                Some(VectorStoreError::Rejected(message)) => {
                    assert!(message.contains("refused") && !message.contains(wrong), "{message}")
                }
                other => panic!("{other:?}"),
            }
        }
        let nowhere = RemoteQdrant::new(NOWHERE, Some(SecretString::from(wrong)), options).unwrap();
        assert_eq!(nowhere.rest_endpoint(), NOWHERE, "a port other than 6334 is kept for REST too");
        let unreachable =
            [nowhere.snapshot("qbench-source").await.err(), nowhere.restore("qbench-new", false).await.err()];
        for err in unreachable {
            match err {
                Some(VectorStoreError::Unreachable(message)) => assert!(!message.contains(wrong), "{message}"),
                other => panic!("{other:?}"),
            }
        }
        assert!(spooled(spool.path()).is_empty());
    }
}
