//! Indexing and searching: exact search, HNSW, quantization, every distance, plain indexes.

use qbench_domain::{Distance, IndexConfig, PointId, ProductCompression, Quantization, ScalarType, VectorName};
use qbench_vector_store::{SearchRequest, VectorStore};

use crate::support::{Data, Fixture, K, exact, hnsw, load, recall, rescored, search_all, spec, vector};

fn two_vectors(collection: &str, quantization: Option<Quantization>) -> Data {
    let spec = spec(
        collection,
        &[("text", vector(32, Distance::Cosine)), ("image", vector(16, Distance::Euclid))],
        &[],
        quantization,
    );
    Data::generate(&spec, 3_000, 50, 7)
}

#[tokio::test]
async fn two_named_vectors_are_fully_indexed_and_searched_exactly_and_through_hnsw() {
    let fixture = Fixture::new();
    let data = two_vectors("two-vectors", None);
    load(&fixture.engine, &data).await;

    let info = fixture.engine.collection_info("two-vectors").await.unwrap();
    assert_eq!(info.points, 3_000);
    assert_eq!(info.indexed_vectors, 2 * 3_000);
    assert!(info.segments >= 1);
    assert_eq!(info.config["vectors"]["text"]["hnsw_config"]["m"], 16);
    assert_eq!(info.config["vectors"]["image"]["distance"], "Euclid");

    for vector in ["text", "image"] {
        assert_eq!(recall(&fixture.engine, &data, vector, &exact()).await, 1.0, "{vector} exact");
        let hnsw_recall = recall(&fixture.engine, &data, vector, &hnsw(64)).await;
        assert!(hnsw_recall >= 0.9, "{vector}: HNSW recall {hnsw_recall}");
    }
}

#[tokio::test]
async fn scalar_int8_quantization_with_rescoring_keeps_recall() {
    let fixture = Fixture::new();
    let scalar = Quantization::Scalar { scalar_type: ScalarType::Int8, quantile: Some(0.99), always_ram: Some(true) };
    let data = two_vectors("scalar", Some(scalar));
    load(&fixture.engine, &data).await;

    let info = fixture.engine.collection_info("scalar").await.unwrap();
    assert_eq!(info.indexed_vectors, 2 * 3_000);
    assert!(info.config["vectors"]["text"]["quantization_config"]["scalar"].is_object(), "{}", info.config);
    for vector in ["text", "image"] {
        let quantized = recall(&fixture.engine, &data, vector, &rescored(64, 2.0)).await;
        assert!(quantized >= 0.85, "{vector}: recall {quantized} with int8 and rescoring");
        // Exact search ignores quantization: it stays a valid ground truth.
        assert_eq!(recall(&fixture.engine, &data, vector, &exact()).await, 1.0, "{vector} exact");
    }
}

#[tokio::test]
async fn product_and_binary_quantization_build_and_search() {
    let fixture = Fixture::new();
    let quantizations = [
        ("product", Quantization::Product { compression: ProductCompression::X8, always_ram: Some(true) }),
        ("binary", Quantization::Binary { always_ram: Some(true) }),
    ];
    for (collection, quantization) in quantizations {
        let spec = spec(collection, &[("text", vector(32, Distance::Cosine))], &[], Some(quantization));
        let data = Data::generate(&spec, 1_000, 20, 11);
        load(&fixture.engine, &data).await;
        let info = fixture.engine.collection_info(collection).await.unwrap();
        assert_eq!(info.indexed_vectors, 1_000, "{collection}");
        assert!(info.config["vectors"]["text"]["quantization_config"][collection].is_object(), "{}", info.config);
        // Answers have the right shape; how close they are is what a benchmark measures.
        let quantized = recall(&fixture.engine, &data, "text", &rescored(64, 4.0)).await;
        assert!(quantized > 0.0, "{collection}: recall {quantized}");
        assert_eq!(recall(&fixture.engine, &data, "text", &exact()).await, 1.0, "{collection} exact");
    }
}

#[tokio::test]
async fn every_distance_is_searchable_exactly_and_through_hnsw() {
    let fixture = Fixture::new();
    let vectors = [
        ("cosine", vector(24, Distance::Cosine)),
        ("euclid", vector(16, Distance::Euclid)),
        ("dot", vector(24, Distance::Dot)),
        ("manhattan", vector(8, Distance::Manhattan)),
    ];
    let data = Data::generate(&spec("distances", &vectors, &[], None), 2_000, 30, 3);
    load(&fixture.engine, &data).await;

    assert_eq!(fixture.engine.collection_info("distances").await.unwrap().indexed_vectors, 4 * 2_000);
    for (vector, _) in vectors {
        assert_eq!(recall(&fixture.engine, &data, vector, &exact()).await, 1.0, "{vector} exact");
        let hnsw_recall = recall(&fixture.engine, &data, vector, &hnsw(64)).await;
        assert!(hnsw_recall >= 0.9, "{vector}: HNSW recall {hnsw_recall}");
    }
}

#[tokio::test]
async fn a_plain_vector_has_no_graph_and_is_scanned_exactly() {
    let fixture = Fixture::new();
    let spec = spec(
        "plain",
        &[("text", vector(32, Distance::Cosine)), ("image", vector(16, Distance::Euclid))],
        &[("image", IndexConfig::plain())],
        None,
    );
    let data = Data::generate(&spec, 2_000, 30, 5);
    load(&fixture.engine, &data).await;

    let info = fixture.engine.collection_info("plain").await.unwrap();
    // The engine counts a vector as indexed once its segment is optimized, graph or not.
    assert_eq!(info.indexed_vectors, 2 * 2_000);
    assert_eq!(info.config["vectors"]["image"]["hnsw_config"]["m"], 0);
    // Without a graph every search is a full scan, so even a small `ef` finds the exact answer.
    assert_eq!(recall(&fixture.engine, &data, "image", &hnsw(4)).await, 1.0);
    assert!(recall(&fixture.engine, &data, "text", &hnsw(64)).await >= 0.9);
}

#[tokio::test]
async fn uuid_and_numeric_ids_round_trip() {
    let fixture = Fixture::new();
    let spec = spec("ids", &[("text", vector(16, Distance::Euclid))], &[], None);
    let ids: Vec<PointId> = (0..300u64)
        .map(|row| {
            if row % 2 == 0 {
                PointId::Num(row * 1_000_003)
            } else {
                PointId::Uuid(uuid::Uuid::from_u128(row as u128 * 0x9e37_79b9_7f4a_7c15))
            }
        })
        .collect();
    let data = Data::generate(&spec, 300, 10, 13).with_ids(ids.clone());
    load(&fixture.engine, &data).await;

    // Each point's own vector finds the point itself first, under the id it was stored with.
    let text: VectorName = "text".parse().unwrap();
    for (point, id) in data.points().iter().zip(&ids) {
        let request = SearchRequest { vector: &text, query: &point.vectors[0].1, k: 1, params: &exact() };
        let found = fixture.engine.search("ids", request).await.unwrap();
        assert_eq!(found.points.first().map(|hit| hit.id), Some(*id));
    }
    let found = search_all(&fixture.engine, &data, "text", &hnsw(64)).await;
    assert!(found.iter().flatten().all(|id| ids.contains(id)));
    assert_eq!(found.len(), 10);
    assert!(found.iter().all(|ids| ids.len() == K as usize));
}

#[tokio::test]
async fn the_graph_is_searched_unless_the_full_scan_threshold_says_otherwise() {
    let fixture = Fixture::new();
    // A deliberately poor graph, so searching it shows; the same graph behind a threshold of
    // 1 GB of vectors is never walked: the engine scans the segment and finds the exact answer.
    let poor = IndexConfig { m: Some(2), ef_construct: Some(4), ..IndexConfig::hnsw(16, 100) };
    let spec = spec(
        "thresholds",
        &[("graph", vector(32, Distance::Euclid)), ("scanned", vector(32, Distance::Euclid))],
        &[("graph", poor.clone()), ("scanned", IndexConfig { full_scan_threshold: Some(1_000_000), ..poor })],
        None,
    );
    let data = Data::generate(&spec, 3_000, 50, 17);
    load(&fixture.engine, &data).await;

    let graph = recall(&fixture.engine, &data, "graph", &hnsw(10)).await;
    // Measured 0.17 to 0.22; a full scan would give 1.0.
    assert!(graph < 0.9, "a graph with m = 2 found almost every neighbour: was it searched? recall {graph}");
    assert_eq!(recall(&fixture.engine, &data, "scanned", &hnsw(10)).await, 1.0);
}
