//! Whether a snapshot can stand in for building an experiment's index: only when what it holds is
//! exactly what the experiment would have built from (the same dataset, every point, the same
//! vectors with the same distances), so the ground truth the run measures against is the right
//! one.

use crate::{ExperimentSpec, OptimizerConfig, Snapshot, SnapshotStatus, Violation};

/// Every reason `snapshot` cannot be `spec`'s index source. `building` is the settings of the run
/// whose collection the snapshot holds (`None` when that run is unknown or kept none).
pub fn source_violations(
    spec: &ExperimentSpec,
    snapshot: &Snapshot,
    building: Option<&ExperimentSpec>,
) -> Vec<Violation> {
    let field = "source.snapshot_id";
    let id = snapshot.id;
    let mut violations = Vec::new();
    if snapshot.status != SnapshotStatus::Ready {
        violations.push(Violation::new(
            field,
            format!("snapshot {id} is {}: only a READY snapshot can be restored", snapshot.status),
        ));
    }
    if spec.optimizer_config != OptimizerConfig::default() {
        violations.push(Violation::new(
            "optimizer_config",
            "the index comes from the snapshot: leave optimizer_config out (the settings that built it are reported)",
        ));
    }
    if spec.upload_config.sample.is_some() {
        violations.push(Violation::new(
            "upload_config.sample",
            "a snapshot holds every point it was built from: a sample cannot be taken from it",
        ));
    }
    let Some(building) = building else {
        violations.push(Violation::new(
            field,
            format!(
                "snapshot {id} holds `{}`, which no known run of qbench built: what data it holds cannot be checked \
                 against this experiment's ground truth",
                snapshot.spec.collection
            ),
        ));
        return violations;
    };
    if building.dataset_id != spec.dataset_id {
        violations.push(Violation::new(
            field,
            format!(
                "snapshot {id} was built from dataset {}, this experiment measures dataset {}: its ground truth would \
                 not match",
                building.dataset_id, spec.dataset_id
            ),
        ));
    }
    if building.vector_config != spec.vector_config {
        violations.push(Violation::new(
            "vector_config",
            format!("snapshot {id} was built with other vectors: give the vector_config of the run that built it"),
        ));
    }
    if building.upload_config.sample.is_some() {
        violations.push(Violation::new(
            field,
            format!("snapshot {id} holds a sample of the dataset, not every point: the ground truth would not match"),
        ));
    }
    if building.search_config.queries_limit != spec.search_config.queries_limit {
        // A dataset without its own queries holds out a seeded sample of its rows, sized by the
        // limit; the snapshot's points lack exactly the building run's held-out rows.
        violations.push(Violation::new(
            "search_config.queries_limit",
            format!(
                "snapshot {id} was built with queries_limit {:?}: use the same, so that the rows held out as queries \
                 are the ones its collection lacks",
                building.search_config.queries_limit
            ),
        ));
    }
    violations
}
