//! What a built collection occupies, measured on the engine's files.

use qbench_domain::{Distance, IndexConfig, Quantization, ScalarType};
use qbench_vector_store::VectorStore;

use crate::support::{Data, Fixture, load, spec, vector};

const ROWS: u64 = 3_000;

#[tokio::test]
async fn vectors_graph_and_quantized_data_are_measured_per_vector() {
    let fixture = Fixture::new();
    let int8 = Quantization::Scalar { scalar_type: ScalarType::Int8, quantile: None, always_ram: None };
    let mut on_disk = IndexConfig::hnsw(16, 100);
    on_disk.on_disk = Some(true);
    let spec = spec(
        "measured",
        &[("text", vector(64, Distance::Cosine)), ("image", vector(16, Distance::Euclid))],
        &[("image", on_disk)],
        Some(int8),
    );
    load(&fixture.engine, &Data::generate(&spec, ROWS as usize, 10, 3)).await;

    let storage = fixture.engine.collection_info("measured").await.unwrap().storage.unwrap();
    let text = storage.vectors["text"];
    // 3,000 × 64 f32 at least; the engine may round its storage up to whole pages or chunks.
    assert!(text.vectors.disk_bytes >= ROWS * 64 * 4, "{text:?}");
    assert_eq!(text.vectors.ram_bytes, text.vectors.disk_bytes);
    // int8: one byte per component.
    assert!(text.quantized.disk_bytes >= ROWS * 64, "{text:?}");
    assert!(text.quantized.disk_bytes < text.vectors.disk_bytes, "{text:?}");
    assert!(text.index.ram_bytes > 0, "{text:?}");
    let image = storage.vectors["image"];
    assert!(image.index.disk_bytes > 0, "{image:?}");
    assert_eq!(image.index.ram_bytes, 0, "an on_disk graph is not counted in RAM: {image:?}");
    assert!(storage.total().disk_bytes >= storage.total().ram_bytes);
}

#[tokio::test]
async fn a_larger_m_measures_a_larger_graph() {
    let fixture = Fixture::new();
    let mut graphs = Vec::new();
    for m in [8, 32] {
        let collection = format!("m{m}");
        let spec =
            spec(&collection, &[("text", vector(32, Distance::Cosine))], &[("text", IndexConfig::hnsw(m, 100))], None);
        load(&fixture.engine, &Data::generate(&spec, ROWS as usize, 10, 5)).await;
        let storage = fixture.engine.collection_info(&collection).await.unwrap().storage.unwrap();
        graphs.push(storage.vectors["text"].index.ram_bytes);
    }
    assert!(graphs[1] > graphs[0], "m 32 should need a larger graph than m 8: {graphs:?}");
}
