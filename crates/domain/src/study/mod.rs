//! Tuning studies: find the Qdrant settings that reach a quality target at the best speed, memory
//! or latency.
//!
//! A [`StudySpec`] names a dataset, a [`StudySpace`] of builds (HNSW graph and quantization) and
//! search settings, an [`Objective`] with [`Constraints`], and a [`Strategy`]: `grid` measures the
//! whole space, `auto` bisects `hnsw_ef` per build ([`EfBisection`]) after trying every build on
//! sample data ([`SuccessiveHalving`]). The measured [`TrialPoint`]s give a [`pareto_front`] and a
//! [`recommend`]ation, which [`CollectionBody`] and [`SearchParamsBody`] turn into JSON ready for
//! Qdrant's REST API. Everything here is pure: the service measures, this module decides.

mod auto;
mod limits;
mod objective;
mod pareto;
mod payload;
mod qdrant_json;
mod recommendation;
mod report;
mod space;
mod spec;
#[cfg(test)]
mod testing;
mod validate;

pub use auto::{
    CostComparison, DEFAULT_MIN_SAMPLE_POINTS, EfBisection, EfOutcome, SuccessiveHalving, grid_cost, sample_rounds,
    sample_score, sample_target, strongest_graphs,
};
pub use limits::StudyLimits;
pub use objective::{Constraints, Objective, Optimise, QualityMetric};
pub use pareto::{ParetoAxis, TrialPoint, TrialQuality, front_of, pareto_front};
pub use payload::StudyPayload;
pub use qdrant_json::{
    BinaryQuantizationBody, CollectionBody, HnswConfigBody, ProductQuantizationBody, QuantizationConfigBody,
    QuantizationSearchParamsBody, ScalarQuantizationBody, SearchParamsBody, VectorParamsBody, VectorsBody,
};
pub use recommendation::{QUALITY_EPSILON, RankedLower, Recommendation, RunnerUp, Shortfall, recommend, shortfalls};
pub use report::{Fronts, QdrantConfig, RecommendationReport, StudyPoint, StudyReport, TrialReport, TrialSnapshot};
pub use space::{
    BuildConfig, BuildSpace, EfValues, QuantizationChoice, SearchQuantizationChoice, SearchSettingChoice, SearchSpace,
    SpaceSize, StudySpace, VectorBuild, VectorBuildSpace,
};
pub use spec::{Budget, Strategy, StudySpec};
pub use validate::StudyValidator;
