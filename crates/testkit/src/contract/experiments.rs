//! Contract checks of `ExperimentRepository`.

use chrono::Duration;
use qbench_domain::{ExperimentId, ProductCompression, Quantization};
use qbench_repository::Entity;

use super::RepositoryUnderTest;
use super::fixtures::{assert_not_found, experiment, now, ok, seed_experiment, unique};

/// An experiment reads back equal, every configuration included; updates replace it; unknown ids
/// are `NotFound`.
pub async fn check_experiment_round_trip(repos: &RepositoryUnderTest) {
    let (connection, dataset, mut stored) = seed_experiment(repos).await;
    assert_eq!(ok(repos.experiments.get(stored.id).await, "get experiment"), stored, "get");

    stored.spec.name = unique("renamed-experiment");
    stored.spec.optimizer_config.quantization =
        Some(Quantization::Product { compression: ProductCompression::X16, always_ram: None });
    stored.spec.optimizer_config.indexing.clear();
    stored.spec.vector_config = None;
    stored.spec.search_config.exact = true;
    stored.spec.search_config.hnsw_ef.clear();
    stored.spec.search_config.quantization = None;
    stored.spec.search_config.vectors = None;
    stored.updated_at = now() + Duration::seconds(5);
    ok(repos.experiments.update(&stored).await, "update experiment");
    assert_eq!(ok(repos.experiments.get(stored.id).await, "get experiment"), stored, "after update");

    let unknown = ExperimentId::new();
    assert_not_found(repos.experiments.get(unknown).await, Entity::Experiment, unknown, "get unknown");
    let mut ghost = experiment(&dataset, connection.id);
    ghost.id = unknown;
    assert_not_found(repos.experiments.update(&ghost).await, Entity::Experiment, unknown, "update unknown");
    for cascade in [false, true] {
        assert_not_found(
            repos.experiments.delete(unknown, cascade).await,
            Entity::Experiment,
            unknown,
            "delete unknown",
        );
    }

    ok(repos.experiments.delete(stored.id, false).await, "delete experiment without runs");
    assert_not_found(repos.experiments.get(stored.id).await, Entity::Experiment, stored.id, "get deleted");
}
