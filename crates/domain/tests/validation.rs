//! The validation matrix: every rule of `validation.rs`, each in its own small test, as data.
//!
//! Each feature has one `check_*` helper, the only caller of the API under test. It validates its
//! input and renders the outcome as text, one line per violation (`error   field: message` or
//! `warning field: message`), or `valid` when there is nothing to say, and compares that text with
//! an `expect!` snapshot. Refresh the snapshots with
//! `UPDATE_EXPECT=1 cargo test -p qbench-domain --test validation`, then read every one of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use expect_test::{Expect, expect};
use qbench_domain::Distance::{Cosine, Dot, Euclid};
use qbench_domain::{
    ConnectionId, ConnectionSpec, DatasetId, DatasetSpec, Dimension, Distance, ExperimentSpec, ExperimentValidator,
    IndexConfig, ProductCompression, Quantization, ScalarType, SchemaConfig, SearchQuantization, Secret, StorageSpec,
    VectorName, VectorSpec, Violation, validate_connection, validate_dataset, validate_storage,
};

// Builders: small, so that each test shows only what it is about.

/// A vector name; `""` is Qdrant's unnamed vector.
fn vname(name: &str) -> VectorName {
    if name.is_empty() { VectorName::unnamed() } else { name.parse().unwrap() }
}

fn vector(dim: u32, distance: Distance) -> VectorSpec {
    VectorSpec::new(Dimension::new(dim).unwrap(), distance)
}

fn vector_map<const N: usize>(vectors: [(&str, u32, Distance); N]) -> BTreeMap<VectorName, VectorSpec> {
    vectors.into_iter().map(|(name, dim, distance)| (vname(name), vector(dim, distance))).collect()
}

/// A dataset schema with these vectors (each in the column of its own name) and no scalar fields.
fn schema<const N: usize>(vectors: [(&str, u32, Distance); N]) -> SchemaConfig {
    SchemaConfig { scalar_fields: Vec::new(), vectors: vector_map(vectors) }
}

/// The seed's dataset: one 1536-dimensional Cosine vector named `dense`.
fn dense_1536() -> SchemaConfig {
    schema([("dense", 1536, Cosine)])
}

/// A dataset with a text and an image embedding.
fn text_and_image() -> SchemaConfig {
    schema([("text_embedding", 768, Cosine), ("image_embedding", 512, Euclid)])
}

/// An experiment with default settings, changed by `edit`.
fn experiment(edit: impl FnOnce(&mut ExperimentSpec)) -> ExperimentSpec {
    let mut spec = ExperimentSpec::new("hnsw-sweep", DatasetId::new(), ConnectionId::new());
    edit(&mut spec);
    spec
}

fn indexing<const N: usize>(indexes: [(&str, IndexConfig); N]) -> BTreeMap<VectorName, IndexConfig> {
    indexes.into_iter().map(|(name, index)| (vname(name), index)).collect()
}

fn hnsw(edit: impl FnOnce(&mut IndexConfig)) -> IndexConfig {
    let mut index = IndexConfig::hnsw(IndexConfig::DEFAULT_M, IndexConfig::DEFAULT_EF_CONSTRUCT);
    edit(&mut index);
    index
}

fn scalar_int8(quantile: Option<f64>) -> Quantization {
    Quantization::Scalar { scalar_type: ScalarType::Int8, quantile, always_ram: None }
}

fn oversampling(value: f64) -> Option<SearchQuantization> {
    Some(SearchQuantization { ignore: None, rescore: Some(true), oversampling: Some(value) })
}

/// A dataset named `wiki` in S3 with this schema, changed by `edit`.
fn dataset(schema: SchemaConfig, edit: impl FnOnce(&mut DatasetSpec)) -> DatasetSpec {
    let mut spec = DatasetSpec {
        name: "wiki".to_owned(),
        source_uri: "s3://datasets/wiki.parquet".parse().unwrap(),
        storage_id: None,
        schema_config: schema,
    };
    edit(&mut spec);
    spec
}

fn connection(name: &str, url: &str) -> ConnectionSpec {
    ConnectionSpec { name: name.to_owned(), url: url.to_owned(), api_key: None }
}

/// A MinIO storage for `bucket` with both keys, changed by `edit`.
fn storage(bucket: &str, edit: impl FnOnce(&mut StorageSpec)) -> StorageSpec {
    let mut spec = StorageSpec {
        name: Some("minio".to_owned()),
        bucket: bucket.to_owned(),
        region: StorageSpec::DEFAULT_REGION.to_owned(),
        endpoint_url: Some("http://localhost:9000".to_owned()),
        access_key: Some(secret("minioadmin")),
        secret_key: Some(secret("minioadmin-secret")),
    };
    edit(&mut spec);
    spec
}

fn secret(value: &str) -> Secret {
    Secret::from(value.to_owned())
}

// The check helpers: the only callers of the validation API.

fn render(errors: &[Violation], warnings: &[Violation]) -> String {
    if errors.is_empty() && warnings.is_empty() {
        return "valid\n".to_owned();
    }
    let errors = errors.iter().map(|v| ("error", v));
    let warnings = warnings.iter().map(|v| ("warning", v));
    errors.chain(warnings).map(|(kind, v)| format!("{kind:<8}{}: {}\n", v.field, v.message)).collect()
}

fn check_experiment(dataset: &SchemaConfig, spec: ExperimentSpec, expect: Expect) {
    let report = ExperimentValidator::new(dataset).validate(&spec);
    assert_eq!(report.is_valid(), report.errors.is_empty());
    expect.assert_eq(&render(&report.errors, &report.warnings));
}

fn check_dataset(spec: DatasetSpec, expect: Expect) {
    expect.assert_eq(&render(&validate_dataset(&spec), &[]));
}

fn check_connection(spec: ConnectionSpec, expect: Expect) {
    expect.assert_eq(&render(&validate_connection(&spec), &[]));
}

fn check_storage(spec: StorageSpec, expect: Expect) {
    expect.assert_eq(&render(&validate_storage(&spec), &[]));
}

// Experiments: the seed and multi-vector cases.

#[test]
fn seed_dataset_dense_1536_rejects_experiment_indexing_embedding_768() {
    check_experiment(
        &dense_1536(),
        experiment(|e| {
            e.vector_config = Some(vector_map([("embedding", 768, Cosine)]));
            e.optimizer_config.indexing = indexing([("embedding", IndexConfig::hnsw(16, 100))]);
        }),
        expect![[r#"
            error   vector_config.embedding: vector `embedding` (768, Cosine) is not in the dataset: the dataset has `dense` (1536, Cosine)
            error   optimizer_config.indexing.embedding: vector `embedding` is not in the dataset: the dataset has `dense` (1536, Cosine)
        "#]],
    );
}

#[test]
fn experiment_with_defaults_uses_every_dataset_vector_and_is_valid() {
    check_experiment(
        &dense_1536(),
        experiment(|_| {}),
        expect![[r#"
        valid
    "#]],
    );
}

#[test]
fn multi_vector_hnsw_per_vector_with_scalar_int8_is_valid() {
    check_experiment(
        &text_and_image(),
        experiment(|e| {
            e.vector_config = Some(vector_map([("text_embedding", 768, Cosine), ("image_embedding", 512, Euclid)]));
            e.optimizer_config.indexing = indexing([
                ("text_embedding", IndexConfig::hnsw(16, 100)),
                ("image_embedding", IndexConfig::hnsw(32, 200)),
            ]);
            e.optimizer_config.quantization = Some(scalar_int8(Some(0.99)));
            e.search_config.hnsw_ef = vec![64, 128];
            e.search_config.vectors = Some(vec![vname("text_embedding"), vname("image_embedding")]);
        }),
        expect![[r#"
            valid
        "#]],
    );
}

#[test]
fn multi_vector_wrong_distance_and_wrong_dim_are_reported_together() {
    check_experiment(
        &text_and_image(),
        experiment(|e| {
            e.vector_config = Some(vector_map([("text_embedding", 768, Dot), ("image_embedding", 768, Euclid)]));
            e.optimizer_config.indexing = indexing([
                ("text_embedding", IndexConfig::hnsw(16, 100)),
                ("image_embedding", IndexConfig::hnsw(32, 200)),
            ]);
            e.optimizer_config.quantization = Some(scalar_int8(None));
        }),
        expect![[r#"
            error   vector_config.image_embedding.dim: dim 768 differs from the dataset's vector `image_embedding`, which has dim 512
            error   vector_config.text_embedding.distance: distance Dot differs from the dataset's vector `text_embedding`, which uses Cosine
        "#]],
    );
}

#[test]
fn every_violation_of_an_experiment_is_returned_at_once() {
    check_experiment(
        &text_and_image(),
        experiment(|e| {
            e.name = String::new();
            e.vector_config = Some(vector_map([("text_embedding", 1024, Cosine)]));
            e.optimizer_config.indexing = indexing([
                ("image_embedding", hnsw(|i| i.ef_construct = Some(2))),
                ("audio", IndexConfig::hnsw(16, 100)),
            ]);
            e.optimizer_config.quantization = Some(scalar_int8(Some(0.2)));
            e.search_config.k = 0;
            e.search_config.parallel = 0;
            e.search_config.queries_limit = Some(0);
            e.search_config.quantization = oversampling(0.5);
        }),
        expect![[r#"
            error   name: must not be empty
            error   vector_config.text_embedding.dim: dim 1024 differs from the dataset's vector `text_embedding`, which has dim 768
            error   optimizer_config.indexing.audio: vector `audio` is not in the dataset: the dataset has `image_embedding` (512, Euclid), `text_embedding` (768, Cosine)
            error   optimizer_config.indexing.image_embedding: vector `image_embedding` is not among the experiment's vector_config
            error   optimizer_config.indexing.image_embedding.ef_construct: ef_construct 2 is outside 4..=4096
            error   optimizer_config.quantization.scalar.quantile: quantile 0.2 is outside 0.5..=1
            error   search_config.k: k 0 is outside 1..=10000
            error   search_config.parallel: parallel 0 is outside 1..=256
            error   search_config.queries_limit: queries_limit 0 is outside 1..=1000000
            error   search_config.quantization.oversampling: oversampling 0.5 is outside 1..=100
        "#]],
    );
}

// Experiments: names.

#[test]
fn experiment_name_must_not_be_empty() {
    check_experiment(
        &dense_1536(),
        experiment(|e| e.name = " ".to_owned()),
        expect![[r#"
        error   name: must not be empty
    "#]],
    );
}

#[test]
fn experiment_name_is_at_most_255_characters() {
    check_experiment(
        &dense_1536(),
        experiment(|e| e.name = "é".repeat(255)),
        expect![[r#"
        valid
    "#]],
    );
    check_experiment(
        &dense_1536(),
        experiment(|e| e.name = "é".repeat(256)),
        expect![[r#"
        error   name: must be at most 255 characters
    "#]],
    );
}

#[test]
fn experiment_name_must_not_contain_control_characters() {
    check_experiment(
        &dense_1536(),
        experiment(|e| e.name = "hnsw\nsweep".to_owned()),
        expect![[r#"
        error   name: must not contain control characters
    "#]],
    );
}

// Experiments: vector_config against the dataset.

#[test]
fn vector_config_must_not_be_empty() {
    check_experiment(
        &dense_1536(),
        experiment(|e| e.vector_config = Some(BTreeMap::new())),
        expect![[r#"
            error   vector_config: must name at least one vector; omit it to use every vector of the dataset
        "#]],
    );
}

#[test]
fn vector_config_vector_must_be_in_the_dataset() {
    check_experiment(
        &text_and_image(),
        experiment(|e| e.vector_config = Some(vector_map([("audio", 128, Dot)]))),
        expect![[r#"
            error   vector_config.audio: vector `audio` (128, Dot) is not in the dataset: the dataset has `image_embedding` (512, Euclid), `text_embedding` (768, Cosine)
        "#]],
    );
}

#[test]
fn vector_config_against_a_dataset_without_vectors() {
    check_experiment(
        &schema([]),
        experiment(|e| e.vector_config = Some(vector_map([("dense", 1536, Cosine)]))),
        expect![[r#"
            error   vector_config.dense: vector `dense` (1536, Cosine) is not in the dataset: the dataset has no vectors
        "#]],
    );
}

#[test]
fn vector_config_dim_must_match_the_dataset() {
    check_experiment(
        &dense_1536(),
        experiment(|e| e.vector_config = Some(vector_map([("dense", 768, Cosine)]))),
        expect![[r#"
            error   vector_config.dense.dim: dim 768 differs from the dataset's vector `dense`, which has dim 1536
        "#]],
    );
}

#[test]
fn vector_config_distance_must_match_the_dataset() {
    check_experiment(
        &dense_1536(),
        experiment(|e| e.vector_config = Some(vector_map([("dense", 1536, Dot)]))),
        expect![[r#"
            error   vector_config.dense.distance: distance Dot differs from the dataset's vector `dense`, which uses Cosine
        "#]],
    );
}

#[test]
fn vector_config_may_pick_a_subset_of_the_dataset_vectors() {
    check_experiment(
        &text_and_image(),
        experiment(|e| e.vector_config = Some(vector_map([("image_embedding", 512, Euclid)]))),
        expect![[r#"
            valid
        "#]],
    );
}

#[test]
fn unnamed_vector_fields_have_no_vector_segment() {
    check_experiment(
        &schema([("", 768, Cosine)]),
        experiment(|e| {
            e.vector_config = Some(vector_map([("", 512, Dot)]));
            e.optimizer_config.indexing = indexing([("", hnsw(|i| i.ef_construct = Some(1)))]);
        }),
        expect![[r#"
            error   vector_config.dim: dim 512 differs from the dataset's vector (unnamed), which has dim 768
            error   vector_config.distance: distance Dot differs from the dataset's vector (unnamed), which uses Cosine
            error   optimizer_config.indexing.ef_construct: ef_construct 1 is outside 4..=4096
        "#]],
    );
}

// Experiments: optimizer_config.indexing.

#[test]
fn indexing_vector_must_be_in_the_dataset() {
    check_experiment(
        &text_and_image(),
        experiment(|e| e.optimizer_config.indexing = indexing([("audio", IndexConfig::hnsw(16, 100))])),
        expect![[r#"
            error   optimizer_config.indexing.audio: vector `audio` is not in the dataset: the dataset has `image_embedding` (512, Euclid), `text_embedding` (768, Cosine)
        "#]],
    );
}

#[test]
fn indexing_vector_must_be_in_vector_config() {
    check_experiment(
        &text_and_image(),
        experiment(|e| {
            e.vector_config = Some(vector_map([("text_embedding", 768, Cosine)]));
            e.optimizer_config.indexing = indexing([("image_embedding", IndexConfig::hnsw(16, 100))]);
        }),
        expect![[r#"
            error   optimizer_config.indexing.image_embedding: vector `image_embedding` is not among the experiment's vector_config
        "#]],
    );
}

#[test]
fn hnsw_m_0_is_a_warning_only() {
    check_experiment(
        &dense_1536(),
        experiment(|e| e.optimizer_config.indexing = indexing([("dense", IndexConfig::hnsw(0, 100))])),
        expect![[r#"
            warning optimizer_config.indexing.dense.m: m 0 disables the HNSW graph: every search scans
        "#]],
    );
}

#[test]
fn hnsw_ef_construct_is_at_least_4() {
    check_experiment(
        &dense_1536(),
        experiment(|e| e.optimizer_config.indexing = indexing([("dense", IndexConfig::hnsw(16, 3))])),
        expect![[r#"
            error   optimizer_config.indexing.dense.ef_construct: ef_construct 3 is outside 4..=4096
        "#]],
    );
    check_experiment(
        &dense_1536(),
        experiment(|e| e.optimizer_config.indexing = indexing([("dense", IndexConfig::hnsw(16, 4))])),
        expect![[r#"
            valid
        "#]],
    );
}

#[test]
fn full_scan_threshold_is_at_least_10() {
    check_experiment(
        &dense_1536(),
        experiment(|e| {
            e.optimizer_config.indexing = indexing([("dense", hnsw(|i| i.full_scan_threshold = Some(9)))]);
        }),
        expect![[r#"
            error   optimizer_config.indexing.dense.full_scan_threshold: full_scan_threshold 9 is outside 10..=100000000
        "#]],
    );
    check_experiment(
        &dense_1536(),
        experiment(|e| {
            e.optimizer_config.indexing = indexing([("dense", hnsw(|i| i.full_scan_threshold = Some(10)))]);
        }),
        expect![[r#"
            valid
        "#]],
    );
}

#[test]
fn full_scan_threshold_is_checked_for_plain_indexes_too() {
    let mut plain = IndexConfig::plain();
    plain.full_scan_threshold = Some(0);
    check_experiment(
        &dense_1536(),
        experiment(|e| e.optimizer_config.indexing = indexing([("dense", plain)])),
        expect![[r#"
            error   optimizer_config.indexing.dense.full_scan_threshold: full_scan_threshold 0 is outside 10..=100000000
        "#]],
    );
}

#[test]
fn plain_index_ignores_m_and_ef_construct() {
    let mut plain_with_m = IndexConfig::plain();
    plain_with_m.m = Some(16);
    check_experiment(
        &dense_1536(),
        experiment(|e| e.optimizer_config.indexing = indexing([("dense", plain_with_m)])),
        expect![[r#"
            warning optimizer_config.indexing.dense: m and ef_construct are ignored for a plain index
        "#]],
    );
    let mut plain_with_ef_construct = IndexConfig::plain();
    plain_with_ef_construct.ef_construct = Some(2);
    check_experiment(
        &dense_1536(),
        experiment(|e| e.optimizer_config.indexing = indexing([("dense", plain_with_ef_construct)])),
        expect![[r#"
            error   optimizer_config.indexing.dense.ef_construct: ef_construct 2 is outside 4..=4096
            warning optimizer_config.indexing.dense: m and ef_construct are ignored for a plain index
        "#]],
    );
    check_experiment(
        &dense_1536(),
        experiment(|e| e.optimizer_config.indexing = indexing([("dense", IndexConfig::plain())])),
        expect![[r#"
            valid
        "#]],
    );
}

// Experiments: optimizer_config.quantization.

#[test]
fn scalar_quantile_is_within_0_5_and_1() {
    for (quantile, expect) in [
        (
            0.49,
            expect![[r#"
            error   optimizer_config.quantization.scalar.quantile: quantile 0.49 is outside 0.5..=1
        "#]],
        ),
        (
            0.5,
            expect![[r#"
            valid
        "#]],
        ),
        (
            1.0,
            expect![[r#"
            valid
        "#]],
        ),
        (
            1.01,
            expect![[r#"
            error   optimizer_config.quantization.scalar.quantile: quantile 1.01 is outside 0.5..=1
        "#]],
        ),
        (
            f64::NAN,
            expect![[r#"
            error   optimizer_config.quantization.scalar.quantile: quantile NaN is outside 0.5..=1
        "#]],
        ),
    ] {
        check_experiment(
            &dense_1536(),
            experiment(|e| e.optimizer_config.quantization = Some(scalar_int8(Some(quantile)))),
            expect,
        );
    }
}

#[test]
fn product_and_binary_quantization_have_no_parameters_to_check() {
    check_experiment(
        &dense_1536(),
        experiment(|e| {
            e.optimizer_config.quantization =
                Some(Quantization::Product { compression: ProductCompression::X16, always_ram: Some(true) });
        }),
        expect![[r#"
            valid
        "#]],
    );
    check_experiment(
        &dense_1536(),
        experiment(|e| e.optimizer_config.quantization = Some(Quantization::Binary { always_ram: None })),
        expect![[r#"
            valid
        "#]],
    );
}

// Experiments: search_config.

#[test]
fn k_is_within_1_and_10000() {
    for (k, expect) in [
        (
            0,
            expect![[r#"
            error   search_config.k: k 0 is outside 1..=10000
        "#]],
        ),
        (
            1,
            expect![[r#"
            valid
        "#]],
        ),
        (
            10_000,
            expect![[r#"
            valid
        "#]],
        ),
        (
            10_001,
            expect![[r#"
            error   search_config.k: k 10001 is outside 1..=10000
        "#]],
        ),
    ] {
        check_experiment(&dense_1536(), experiment(|e| e.search_config.k = k), expect);
    }
}

#[test]
fn hnsw_ef_below_k_is_an_error_naming_its_index() {
    check_experiment(
        &dense_1536(),
        experiment(|e| {
            e.search_config.k = 100;
            e.search_config.hnsw_ef = vec![128, 64, 256];
        }),
        expect![[r#"
            error   search_config.hnsw_ef[1]: hnsw_ef 64 is smaller than k 100
        "#]],
    );
}

#[test]
fn hnsw_ef_equal_to_k_is_valid() {
    check_experiment(
        &dense_1536(),
        experiment(|e| {
            e.search_config.k = 100;
            e.search_config.hnsw_ef = vec![100];
        }),
        expect![[r#"
            valid
        "#]],
    );
}

#[test]
fn hnsw_ef_listed_twice_is_a_warning() {
    check_experiment(
        &dense_1536(),
        experiment(|e| e.search_config.hnsw_ef = vec![64, 128, 64]),
        expect![[r#"
            warning search_config.hnsw_ef[2]: hnsw_ef 64 is listed twice
        "#]],
    );
}

#[test]
fn exact_search_ignores_hnsw_ef() {
    check_experiment(
        &dense_1536(),
        experiment(|e| {
            e.search_config.exact = true;
            e.search_config.hnsw_ef = vec![64];
        }),
        expect![[r#"
            warning search_config.hnsw_ef: is ignored when exact is true
        "#]],
    );
    check_experiment(
        &dense_1536(),
        experiment(|e| e.search_config.exact = true),
        expect![[r#"
        valid
    "#]],
    );
}

#[test]
fn parallel_is_within_1_and_256() {
    for (parallel, expect) in [
        (
            0,
            expect![[r#"
            error   search_config.parallel: parallel 0 is outside 1..=256
        "#]],
        ),
        (
            1,
            expect![[r#"
            valid
        "#]],
        ),
        (
            256,
            expect![[r#"
            valid
        "#]],
        ),
        (
            257,
            expect![[r#"
            error   search_config.parallel: parallel 257 is outside 1..=256
        "#]],
        ),
    ] {
        check_experiment(&dense_1536(), experiment(|e| e.search_config.parallel = parallel), expect);
    }
}

#[test]
fn upload_batch_size_and_parallel_are_within_qdrant_request_limits() {
    check_experiment(
        &dense_1536(),
        experiment(|e| {
            e.upload_config.batch_size = Some(0);
            e.upload_config.parallel = Some(65);
        }),
        expect![[r#"
            error   upload_config.batch_size: batch_size 0 is outside 1..=65536
            error   upload_config.parallel: parallel 65 is outside 1..=64
        "#]],
    );
    check_experiment(
        &dense_1536(),
        experiment(|e| {
            e.upload_config.batch_size = Some(65_536);
            e.upload_config.parallel = Some(1);
        }),
        expect![[r#"
            valid
        "#]],
    );
}

#[test]
fn queries_limit_is_at_least_1() {
    check_experiment(
        &dense_1536(),
        experiment(|e| e.search_config.queries_limit = Some(0)),
        expect![[r#"
            error   search_config.queries_limit: queries_limit 0 is outside 1..=1000000
        "#]],
    );
    check_experiment(
        &dense_1536(),
        experiment(|e| e.search_config.queries_limit = Some(1)),
        expect![[r#"
            valid
        "#]],
    );
}

#[test]
fn oversampling_is_a_finite_number_of_at_least_1() {
    for (value, expect) in [
        (
            0.5,
            expect![[r#"
                error   search_config.quantization.oversampling: oversampling 0.5 is outside 1..=100
            "#]],
        ),
        (
            1.0,
            expect![[r#"
            valid
        "#]],
        ),
        (
            f64::NAN,
            expect![[r#"
                error   search_config.quantization.oversampling: oversampling NaN is outside 1..=100
            "#]],
        ),
        (
            f64::INFINITY,
            expect![[r#"
                error   search_config.quantization.oversampling: oversampling inf is outside 1..=100
            "#]],
        ),
    ] {
        check_experiment(
            &dense_1536(),
            experiment(|e| {
                e.optimizer_config.quantization = Some(scalar_int8(None));
                e.search_config.quantization = oversampling(value);
            }),
            expect,
        );
    }
}

#[test]
fn search_quantization_without_optimizer_quantization_is_a_warning() {
    check_experiment(
        &dense_1536(),
        experiment(|e| e.search_config.quantization = Some(SearchQuantization::default())),
        expect![[r#"
            warning search_config.quantization: has no effect without optimizer_config.quantization
        "#]],
    );
}

#[test]
fn search_vectors_must_not_be_empty() {
    check_experiment(
        &dense_1536(),
        experiment(|e| e.search_config.vectors = Some(Vec::new())),
        expect![[r#"
            error   search_config.vectors: must name at least one vector; omit it to query every vector
        "#]],
    );
}

#[test]
fn search_vectors_must_be_in_the_dataset() {
    check_experiment(
        &text_and_image(),
        experiment(|e| e.search_config.vectors = Some(vec![vname("text_embedding"), vname("audio")])),
        expect![[r#"
            error   search_config.vectors[1]: vector `audio` is not among the experiment's vectors: the experiment has `image_embedding`, `text_embedding`
        "#]],
    );
}

// Regression: the message listed the dataset's vectors, so it named `image_embedding` as missing
// and then as present.
#[test]
fn search_vectors_must_be_among_the_experiment_vectors() {
    check_experiment(
        &text_and_image(),
        experiment(|e| {
            e.vector_config = Some(vector_map([("text_embedding", 768, Cosine)]));
            e.search_config.vectors = Some(vec![vname("image_embedding")]);
        }),
        expect![[r#"
            error   search_config.vectors[0]: vector `image_embedding` is not among the experiment's vectors: the experiment has `text_embedding`
        "#]],
    );
}

#[test]
fn search_vectors_against_an_empty_vector_config() {
    check_experiment(
        &dense_1536(),
        experiment(|e| {
            e.vector_config = Some(BTreeMap::new());
            e.search_config.vectors = Some(vec![vname("dense")]);
        }),
        expect![[r#"
            error   vector_config: must name at least one vector; omit it to use every vector of the dataset
            error   search_config.vectors[0]: vector `dense` is not among the experiment's vectors: the experiment has no vectors
        "#]],
    );
}

// Datasets.

#[test]
fn dataset_with_vectors_and_scalar_fields_is_valid() {
    check_dataset(
        dataset(text_and_image(), |d| {
            d.schema_config.scalar_fields = vec!["title".to_owned(), "url".to_owned()];
        }),
        expect![[r#"
            valid
        "#]],
    );
}

#[test]
fn dataset_name_must_not_be_empty() {
    check_dataset(
        dataset(dense_1536(), |d| d.name = String::new()),
        expect![[r#"
        error   name: must not be empty
    "#]],
    );
}

#[test]
fn dataset_needs_at_least_one_vector() {
    check_dataset(
        dataset(schema([]), |_| {}),
        expect![[r#"
        error   schema_config.vectors: a dataset needs at least one vector
    "#]],
    );
}

#[test]
fn dataset_unnamed_vector_cannot_be_combined_with_named_vectors() {
    let mut schema = schema([("", 768, Cosine), ("dense", 1536, Cosine)]);
    schema.vectors.get_mut(&VectorName::unnamed()).unwrap().column = Some("embedding".to_owned());
    check_dataset(
        dataset(schema, |_| {}),
        expect![[r#"
        error   schema_config.vector: an unnamed vector cannot be combined with named vectors
    "#]],
    );
}

#[test]
fn dataset_unnamed_vector_alone_with_a_column_is_valid() {
    let mut schema = schema([("", 768, Cosine)]);
    schema.vectors.get_mut(&VectorName::unnamed()).unwrap().column = Some("embedding".to_owned());
    check_dataset(
        dataset(schema, |_| {}),
        expect![[r#"
        valid
    "#]],
    );
}

#[test]
fn dataset_unnamed_vector_reads_the_column_named_vector_by_default() {
    check_dataset(
        dataset(schema([("", 768, Cosine)]), |d| d.schema_config.scalar_fields = vec!["vector".to_owned()]),
        expect![[r#"
        error   schema_config.scalar_fields[0]: `vector` is the vector column of schema_config.vector
    "#]],
    );
    check_dataset(
        dataset(schema([("", 768, Cosine)]), |_| {}),
        expect![[r#"
        valid
    "#]],
    );
}

#[test]
fn dataset_vector_column_must_not_be_empty() {
    let mut schema = dense_1536();
    schema.vectors.get_mut(&vname("dense")).unwrap().column = Some(" ".to_owned());
    check_dataset(
        dataset(schema, |_| {}),
        expect![[r#"
        error   schema_config.vectors.dense.column: must not be empty
    "#]],
    );
}

#[test]
fn dataset_vector_columns_must_be_distinct() {
    let mut schema = text_and_image();
    schema.vectors.get_mut(&vname("text_embedding")).unwrap().column = Some("image_embedding".to_owned());
    check_dataset(
        dataset(schema, |_| {}),
        expect![[r#"
        error   schema_config.vectors.text_embedding.column: column `image_embedding` is already used by schema_config.vectors.image_embedding
    "#]],
    );
}

#[test]
fn dataset_scalar_field_must_not_be_empty() {
    check_dataset(
        dataset(dense_1536(), |d| d.schema_config.scalar_fields = vec!["title".to_owned(), String::new()]),
        expect![[r#"
            error   schema_config.scalar_fields[1]: must not be empty
        "#]],
    );
}

#[test]
fn dataset_scalar_field_must_not_be_listed_twice() {
    check_dataset(
        dataset(dense_1536(), |d| {
            d.schema_config.scalar_fields = vec!["title".to_owned(), "url".to_owned(), "title".to_owned()];
        }),
        expect![[r#"
            error   schema_config.scalar_fields[2]: `title` is listed twice
        "#]],
    );
}

#[test]
fn dataset_scalar_field_must_not_be_a_vector_column() {
    check_dataset(
        dataset(dense_1536(), |d| d.schema_config.scalar_fields = vec!["dense".to_owned()]),
        expect![[r#"
            error   schema_config.scalar_fields[0]: `dense` is the vector column of schema_config.vectors.dense
        "#]],
    );
    let mut schema = dense_1536();
    schema.vectors.get_mut(&vname("dense")).unwrap().column = Some("emb".to_owned());
    check_dataset(
        dataset(schema, |d| d.schema_config.scalar_fields = vec!["dense".to_owned(), "emb".to_owned()]),
        expect![[r#"
            error   schema_config.scalar_fields[1]: `emb` is the vector column of schema_config.vectors.dense
        "#]],
    );
}

#[test]
fn every_violation_of_a_dataset_is_returned_at_once() {
    let mut schema = schema([("", 768, Cosine), ("dense", 1536, Cosine), ("sparse", 30, Dot)]);
    schema.vectors.get_mut(&vname("sparse")).unwrap().column = Some("dense".to_owned());
    check_dataset(
        dataset(schema, |d| {
            d.name = String::new();
            d.schema_config.scalar_fields = vec!["dense".to_owned(), " ".to_owned(), "dense".to_owned()];
        }),
        expect![[r#"
            error   name: must not be empty
            error   schema_config.vector: an unnamed vector cannot be combined with named vectors
            error   schema_config.vectors.sparse.column: column `dense` is already used by schema_config.vectors.dense
            error   schema_config.scalar_fields[0]: `dense` is the vector column of schema_config.vectors.sparse
            error   schema_config.scalar_fields[1]: must not be empty
            error   schema_config.scalar_fields[2]: `dense` is listed twice
        "#]],
    );
}

// Connections.

#[test]
fn connection_to_an_http_or_https_qdrant_is_valid() {
    check_connection(
        connection("local", "http://localhost:6333"),
        expect![[r#"
        valid
    "#]],
    );
    check_connection(
        connection("cloud", "https://xyz.cloud.qdrant.io:6334"),
        expect![[r#"
        valid
    "#]],
    );
}

#[test]
fn connection_name_must_not_be_empty() {
    check_connection(
        connection("", "http://localhost:6333"),
        expect![[r#"
        error   name: must not be empty
    "#]],
    );
}

#[test]
fn connection_embedded_url_is_reserved_for_the_builtin_connection() {
    check_connection(
        connection("mine", "embedded://"),
        expect![[r#"
        error   url: `embedded://` belongs to the built-in connection `embedded`; use that connection
    "#]],
    );
}

#[test]
fn connection_url_scheme_must_be_http_or_https() {
    check_connection(
        connection("ftp", "ftp://x"),
        expect![[r#"
        error   url: `ftp://x`: scheme `ftp` is not http or https
    "#]],
    );
}

#[test]
fn connection_url_must_be_a_url() {
    check_connection(
        connection("local", "localhost 6333"),
        expect![[r#"
        error   url: `localhost 6333` is not a URL: relative URL without a base
    "#]],
    );
    check_connection(
        connection("local", "http://"),
        expect![[r#"
        error   url: `http://` is not a URL: empty host
    "#]],
    );
}

// Object storages.

#[test]
fn storage_with_a_name_endpoint_and_both_keys_is_valid() {
    check_storage(
        storage("datasets", |_| {}),
        expect![[r#"
        valid
    "#]],
    );
}

#[test]
fn storage_on_aws_without_name_or_keys_is_valid() {
    check_storage(
        storage("datasets", |s| {
            s.name = None;
            s.endpoint_url = None;
            s.access_key = None;
            s.secret_key = None;
        }),
        expect![[r#"
            valid
        "#]],
    );
}

#[test]
fn storage_name_when_given_must_not_be_empty() {
    check_storage(
        storage("datasets", |s| s.name = Some(String::new())),
        expect![[r#"
        error   name: must not be empty
    "#]],
    );
}

#[test]
fn storage_bucket_follows_s3_naming_rules() {
    for (bucket, expect) in [
        (
            "ab",
            expect![[r#"
                error   bucket: `ab` is not a valid bucket name: 3 to 63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit, no `..`
            "#]],
        ),
        (
            "abc",
            expect![[r#"
            valid
        "#]],
        ),
        (
            "My_Bucket",
            expect![[r#"
                error   bucket: `My_Bucket` is not a valid bucket name: 3 to 63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit, no `..`
            "#]],
        ),
        (
            "-bucket",
            expect![[r#"
                error   bucket: `-bucket` is not a valid bucket name: 3 to 63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit, no `..`
            "#]],
        ),
        (
            "bucket-",
            expect![[r#"
                error   bucket: `bucket-` is not a valid bucket name: 3 to 63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit, no `..`
            "#]],
        ),
        (
            "datasets",
            expect![[r#"
            valid
        "#]],
        ),
        (
            "qbench.datasets-2024",
            expect![[r#"
            valid
        "#]],
        ),
    ] {
        check_storage(storage(bucket, |_| {}), expect);
    }
}

#[test]
fn storage_bucket_is_at_most_63_characters() {
    check_storage(
        storage(&"b".repeat(63), |_| {}),
        expect![[r#"
        valid
    "#]],
    );
    check_storage(
        storage(&"b".repeat(64), |_| {}),
        expect![[r#"
            error   bucket: `bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb` is not a valid bucket name: 3 to 63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit, no `..`
        "#]],
    );
}

#[test]
fn storage_region_must_not_be_empty() {
    check_storage(
        storage("datasets", |s| s.region = String::new()),
        expect![[r#"
        error   region: must not be empty
    "#]],
    );
}

#[test]
fn storage_endpoint_url_must_be_an_http_url() {
    check_storage(
        storage("datasets", |s| s.endpoint_url = Some("not a url".to_owned())),
        expect![[r#"
            error   endpoint_url: `not a url` is not a URL: relative URL without a base
        "#]],
    );
    check_storage(
        storage("datasets", |s| s.endpoint_url = Some("s3://minio:9000".to_owned())),
        expect![[r#"
            error   endpoint_url: `s3://minio:9000`: scheme `s3` is not http or https
        "#]],
    );
}

#[test]
fn storage_access_key_requires_secret_key() {
    check_storage(
        storage("datasets", |s| s.secret_key = None),
        expect![[r#"
        error   secret_key: is required when access_key is given
    "#]],
    );
}

#[test]
fn storage_secret_key_requires_access_key() {
    check_storage(
        storage("datasets", |s| s.access_key = None),
        expect![[r#"
        error   access_key: is required when secret_key is given
    "#]],
    );
}

// Hardening (issue 11): every numeric setting is bounded, names and credentials are clean.

#[test]
fn regression_m_4294967295_killed_the_server_and_is_now_refused() {
    check_experiment(
        &dense_1536(),
        experiment(|e| {
            e.optimizer_config.indexing = indexing([("dense", IndexConfig::hnsw(u32::MAX, u32::MAX))]);
        }),
        expect![[r#"
            error   optimizer_config.indexing.dense.m: m 4294967295 is outside 0..=512
            error   optimizer_config.indexing.dense.ef_construct: ef_construct 4294967295 is outside 4..=4096
        "#]],
    );
}

#[test]
fn m_ef_construct_and_full_scan_threshold_at_their_maxima_are_valid_and_one_more_is_not() {
    let at = |m, ef, threshold| {
        experiment(move |e| {
            e.optimizer_config.indexing = indexing([(
                "dense",
                hnsw(|i| {
                    i.m = Some(m);
                    i.ef_construct = Some(ef);
                    i.full_scan_threshold = Some(threshold);
                }),
            )]);
        })
    };
    check_experiment(
        &dense_1536(),
        at(512, 4096, 100_000_000),
        expect![[r#"
        valid
    "#]],
    );
    check_experiment(
        &dense_1536(),
        at(513, 4097, 100_000_001),
        expect![[r#"
        error   optimizer_config.indexing.dense.m: m 513 is outside 0..=512
        error   optimizer_config.indexing.dense.ef_construct: ef_construct 4097 is outside 4..=4096
        error   optimizer_config.indexing.dense.full_scan_threshold: full_scan_threshold 100000001 is outside 10..=100000000
    "#]],
    );
}

#[test]
fn hnsw_ef_oversampling_and_queries_limit_have_upper_bounds() {
    check_experiment(
        &dense_1536(),
        experiment(|e| {
            e.search_config.hnsw_ef = vec![65_536, 65_537];
            e.search_config.queries_limit = Some(1_000_001);
            e.optimizer_config.quantization = Some(scalar_int8(None));
            e.search_config.quantization = oversampling(100.5);
        }),
        expect![[r#"
            error   search_config.hnsw_ef[1]: hnsw_ef 65537 is outside 1..=65536
            error   search_config.queries_limit: queries_limit 1000001 is outside 1..=1000000
            error   search_config.quantization.oversampling: oversampling 100.5 is outside 1..=100
        "#]],
    );
}

#[test]
fn names_of_only_zero_width_spaces_or_with_rtl_override_are_refused() {
    check_connection(
        connection("\u{200B}\u{200B}", "http://qdrant:6333"),
        expect![[r#"
        error   name: must contain a visible character
    "#]],
    );
    check_connection(
        connection("invoice\u{202E}fdp.exe", "http://qdrant:6333"),
        expect![[r#"
        error   name: must not contain bidirectional control characters
    "#]],
    );
    check_dataset(
        dataset(dense_1536(), |d| d.name = "\u{FEFF}".to_owned()),
        expect![[r#"
        error   name: must contain a visible character
    "#]],
    );
}

#[test]
fn nul_and_crlf_in_api_key_region_and_scalar_fields_are_refused() {
    let mut with_key = connection("q", "http://qdrant:6333");
    with_key.api_key = Some(secret("key\r\nX-Injected: 1"));
    check_connection(
        with_key,
        expect![[r#"
        error   api_key: must not contain control characters
    "#]],
    );
    check_storage(
        storage("datasets", |s| {
            s.region = "us-east-1\0".to_owned();
            s.access_key = Some(secret("AKIA\n"));
        }),
        expect![[r#"
            error   region: `us-east-1\0` is not a region: at most 64 lowercase letters, digits and hyphens
            error   access_key: must not contain control characters
        "#]],
    );
    check_dataset(
        dataset(dense_1536(), |d| d.schema_config.scalar_fields = vec!["title\0".to_owned(), "a\r\nb".to_owned()]),
        expect![[r#"
            error   schema_config.scalar_fields[0]: must not contain control characters
            error   schema_config.scalar_fields[1]: must not contain control characters
        "#]],
    );
}

#[test]
fn empty_secret_key_is_refused() {
    check_storage(
        storage("datasets", |s| s.secret_key = Some(secret(""))),
        expect![[r#"
        error   secret_key: must not be empty; omit it instead
    "#]],
    );
}

#[test]
fn urls_and_keys_of_500000_characters_are_refused() {
    let long = format!("http://qdrant:6333/{}", "a".repeat(500_000));
    check_connection(
        connection("q", &long),
        expect![[r#"
        error   url: must be at most 2048 characters
    "#]],
    );
    check_storage(
        storage("datasets", |s| s.secret_key = Some(secret(&"k".repeat(500_000)))),
        expect![[r#"
        error   secret_key: must be at most 4096 characters
    "#]],
    );
    let source = format!("s3://datasets/{}.parquet", "a".repeat(500_000));
    let refused = source.parse::<qbench_domain::SourceUri>().unwrap_err().to_string();
    assert!(refused.contains("at most 2048 characters"), "{refused}");
}

#[test]
fn s3_source_with_bucket_dot_dot_is_refused() {
    for uri in ["s3://../secret.parquet", "s3://a..b/x.parquet", "s3://UPPER/x.parquet"] {
        let refused = uri.parse::<qbench_domain::SourceUri>().unwrap_err().to_string();
        assert!(refused.contains("not a valid bucket name"), "{uri}: {refused}");
    }
    assert!("s3://my.bucket-1/x.parquet".parse::<qbench_domain::SourceUri>().is_ok());
}
