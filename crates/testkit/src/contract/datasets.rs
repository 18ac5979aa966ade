//! Contract checks of `DatasetRepository`.

use chrono::Duration;
use qbench_domain::{DatasetId, Dimension, Distance, InspectedColumn, InspectedFile, Inspection, VectorSpec};
use qbench_repository::Entity;

use super::RepositoryUnderTest;
use super::fixtures::{assert_not_found, dataset, now, ok, storage, unique};

/// A dataset reads back equal, schema included; updates replace it; unknown ids are `NotFound`.
pub async fn check_dataset_round_trip(repos: &RepositoryUnderTest) {
    let source = storage(true);
    ok(repos.storages.insert(&source).await, "insert storage");
    let mut stored = dataset(Some(source.id));
    ok(repos.datasets.insert(&stored).await, "insert dataset");
    assert_eq!(ok(repos.datasets.get(stored.id).await, "get dataset"), stored, "get");

    stored.spec.name = unique("renamed-dataset");
    stored.spec.source_uri = ok("https://example.org/data/test.parquet".parse(), "source uri");
    stored.spec.storage_id = None;
    stored.spec.schema_config.scalar_fields.clear();
    let dim = ok(Dimension::new(3), "dimension");
    stored.spec.schema_config.vectors.insert(ok("tiny".parse(), "vector name"), VectorSpec::new(dim, Distance::Euclid));
    stored.updated_at = now() + Duration::seconds(5);
    stored.inspection = Some(Inspection {
        layout: "directory".to_owned(),
        files: vec![InspectedFile {
            location: "https://example.org/data/train-00.parquet".to_owned(),
            role: "train".to_owned(),
            bytes: 1 << 20,
            rows: 1_000,
            row_groups: 2,
        }],
        columns: vec![InspectedColumn {
            name: "tiny".to_owned(),
            data_type: "FixedSizeList(3 x Float32)".to_owned(),
            nullable: false,
        }],
        train_rows: 1_000,
        test_rows: 10,
        bytes: 1 << 20,
        inspected_at: now(),
    });
    ok(repos.datasets.update(&stored).await, "update dataset");
    assert_eq!(ok(repos.datasets.get(stored.id).await, "get dataset"), stored, "after update");

    let unknown = DatasetId::new();
    assert_not_found(repos.datasets.get(unknown).await, Entity::Dataset, unknown, "get unknown");
    let mut ghost = dataset(None);
    ghost.id = unknown;
    assert_not_found(repos.datasets.update(&ghost).await, Entity::Dataset, unknown, "update unknown");
    assert_not_found(repos.datasets.delete(unknown).await, Entity::Dataset, unknown, "delete unknown");

    ok(repos.datasets.delete(stored.id).await, "delete dataset");
    assert_not_found(repos.datasets.get(stored.id).await, Entity::Dataset, stored.id, "get deleted");
}
