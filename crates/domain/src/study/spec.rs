//! What a user says about a study: the dataset, the space to search, the objective and how much
//! may be spent finding it.

use crate::study::{Constraints, Objective, StudySpace};
use crate::{ConnectionId, DatasetId, SearchConfig, VectorName};

/// How the space is explored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Measure every build with every search setting.
    Grid,
    /// Try every build on sample data, keep the best, and bisect `hnsw_ef` on the full data.
    Auto,
}

/// Limits on what a study spends; `None` is no limit beyond [`crate::study::StudyLimits`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Budget {
    /// Collections built at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_builds: Option<u32>,
    /// Wall-clock seconds at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_seconds: Option<u64>,
}

/// What a user says about a study.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StudySpec {
    /// Human-chosen name.
    pub name: String,
    /// The dataset to load.
    pub dataset_id: DatasetId,
    /// The Qdrant to load it into.
    pub connection_id: ConnectionId,
    /// Results per query, and the `k` of the quality metrics.
    pub k: u32,
    /// The vectors queried; `None` means every vector of the space.
    pub vectors: Option<Vec<VectorName>>,
    /// The settings to try.
    pub space: StudySpace,
    /// The target and the figure to make best.
    pub objective: Objective,
    /// Hard limits on the recommendation.
    pub constraints: Constraints,
    /// Grid or auto.
    pub strategy: Strategy,
    /// What the study may spend.
    pub budget: Budget,
    /// Runs of each measurement, giving the confidence intervals of QPS and p99.
    pub repetitions: u32,
    /// Where to keep each configuration built on all the points as a snapshot, so that a later
    /// study of the same dataset restores it instead of building it again; `None` keeps none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_snapshots: Option<crate::SnapshotVault>,
}

impl StudySpec {
    /// The default repetitions: three, the fewest that give a confidence interval worth reading.
    pub const DEFAULT_REPETITIONS: u32 = 3;

    /// A grid study with default `k`, no constraints, no budget and default repetitions.
    pub fn new(
        name: impl Into<String>,
        dataset_id: DatasetId,
        connection_id: ConnectionId,
        space: StudySpace,
        objective: Objective,
    ) -> Self {
        Self {
            name: name.into(),
            dataset_id,
            connection_id,
            k: SearchConfig::DEFAULT_K,
            vectors: None,
            space,
            objective,
            constraints: Constraints::default(),
            strategy: Strategy::Grid,
            budget: Budget::default(),
            repetitions: Self::DEFAULT_REPETITIONS,
            keep_snapshots: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::{EfValues, Optimise, QualityMetric, SearchSpace};

    #[test]
    fn a_new_study_is_a_grid_with_three_repetitions_and_no_limits() {
        let space = StudySpace {
            vectors: Default::default(),
            quantization: Vec::new(),
            search: SearchSpace::ef(EfValues::List(vec![64])),
            parallel: vec![1],
        };
        let objective = Objective { metric: QualityMetric::Recall, target: 0.9, optimise: Optimise::Qps };
        let spec = StudySpec::new("s", DatasetId::new(), ConnectionId::new(), space, objective);
        assert_eq!(spec.strategy, Strategy::Grid);
        assert_eq!(spec.repetitions, 3);
        assert_eq!(spec.k, 10);
        assert_eq!(spec.budget, Budget::default());
        assert_eq!(spec.constraints, Constraints::default());
    }
}
