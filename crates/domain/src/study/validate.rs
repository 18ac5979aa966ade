//! Validation of a study against its dataset, Qdrant's ranges and the deployment's [`StudyLimits`].
//!
//! Like [`crate::ExperimentValidator`], it returns *every* violation at once, each naming its dotted
//! field path, and uses the same ranges ([`Limits`]) and wording for the settings both share.

use std::collections::BTreeSet;
use std::fmt::Display;

use crate::dataset::display_name;
use crate::study::{Budget, Constraints, EfValues, QuantizationChoice, Strategy, StudyLimits, StudySpace, StudySpec};
use crate::validation::{check_name, check_range, vector_field};
use crate::{Limits, SchemaConfig, ValidationReport, VectorName};

/// Checks a study against the dataset it loads, Qdrant's ranges and the study limits.
#[derive(Debug, Clone, Copy)]
pub struct StudyValidator<'a> {
    dataset: &'a SchemaConfig,
    limits: StudyLimits,
}

impl<'a> StudyValidator<'a> {
    /// A validator for studies on a dataset with this schema, within `limits`.
    pub fn new(dataset: &'a SchemaConfig, limits: StudyLimits) -> Self {
        Self { dataset, limits }
    }

    /// Every error and warning of `spec`.
    pub fn validate(&self, spec: &StudySpec) -> ValidationReport {
        let mut report = ValidationReport::default();
        check_name(&mut report, "name", &spec.name);
        if !Limits::K.contains(&spec.k) {
            report.error("k", format!("k {} is outside {}..={}", spec.k, Limits::K.start(), Limits::K.end()));
        }
        self.check_builds(&mut report, &spec.space);
        check_quantization(&mut report, &spec.space);
        check_search(&mut report, spec);
        check_parallel(&mut report, &spec.space.parallel);
        check_searched_vectors(&mut report, spec);
        check_objective(&mut report, spec);
        check_constraints(&mut report, &spec.constraints);
        let repetitions = 1..=self.limits.max_repetitions;
        check_range(&mut report, "repetitions", "repetitions", Some(spec.repetitions), &repetitions);
        self.check_size(&mut report, spec);
        report
    }

    fn dataset_has(&self) -> String {
        if self.dataset.vectors.is_empty() {
            "the dataset has no vectors".to_owned()
        } else {
            format!("the dataset has {}", self.dataset.vector_names())
        }
    }

    fn check_builds(&self, report: &mut ValidationReport, space: &StudySpace) {
        if space.vectors.is_empty() {
            report.error("space.vectors", "must name at least one vector to build");
        }
        for (name, vector) in &space.vectors {
            let field = vector_field("space.vectors", name);
            if !self.dataset.vectors.contains_key(name) {
                report.error(
                    &field,
                    format!("vector {} is not in the dataset: {}", display_name(name), self.dataset_has()),
                );
            }
            check_values(report, &format!("{field}.m"), "m", &vector.m, |report, item, m| {
                check_range(report, item, "m", Some(m), &Limits::M);
                if m == 0 {
                    report.warning(item, "m 0 disables the HNSW graph: every search scans");
                }
            });
            check_values(
                report,
                &format!("{field}.ef_construct"),
                "ef_construct",
                &vector.ef_construct,
                |r, item, ef| {
                    check_range(r, item, "ef_construct", Some(ef), &Limits::EF_CONSTRUCT);
                },
            );
            check_values(report, &format!("{field}.on_disk"), "on_disk", &vector.on_disk, |_, _, _| {});
        }
    }

    fn check_size(&self, report: &mut ValidationReport, spec: &StudySpec) {
        let size = spec.space.count();
        if size.builds > self.limits.max_builds {
            report
                .error("space", format!("expands to {} builds; the limit is {}", size.builds, self.limits.max_builds));
        }
        if size.measurements > self.limits.max_measurements {
            report.error(
                "space",
                format!(
                    "expands to {} measurements (build × search setting × client count); the limit is {}",
                    size.measurements, self.limits.max_measurements
                ),
            );
        }
        check_budget(report, &spec.budget, spec.strategy, size.builds);
    }
}

/// Checks a list that must not be empty: each value with `check` (its field is `field[index]`),
/// and a warning for a value listed twice.
fn check_values<T: PartialEq + Copy + Display>(
    report: &mut ValidationReport,
    field: &str,
    name: &str,
    values: &[T],
    check: impl Fn(&mut ValidationReport, &str, T),
) {
    if values.is_empty() {
        report.error(field, "must list at least one value");
    }
    for (index, &value) in values.iter().enumerate() {
        let item = format!("{field}[{index}]");
        check(report, &item, value);
        if values[..index].contains(&value) {
            report.warning(&item, format!("{name} {value} is listed twice"));
        }
    }
}

fn check_quantization(report: &mut ValidationReport, space: &StudySpace) {
    if space.quantization.is_empty() {
        report.error("space.quantization", "must list at least one choice; `none` builds without quantization");
    }
    let quantized = space.quantization.iter().any(|choice| *choice != QuantizationChoice::None);
    let search = &space.search;
    if !quantized {
        for (field, given) in [
            ("space.search.rescore", !search.rescore.is_empty()),
            ("space.search.oversampling", !search.oversampling.is_empty()),
            ("space.search.ignore", !search.ignore.is_empty()),
        ] {
            if given {
                report.warning(field, "has no effect: space.quantization has no quantized choice");
            }
        }
    }
}

fn check_search(report: &mut ValidationReport, spec: &StudySpec) {
    let search = &spec.space.search;
    match &search.hnsw_ef {
        EfValues::List(values) => {
            check_values(report, "space.search.hnsw_ef", "hnsw_ef", values, |report, item, ef| {
                check_ef(report, item, ef, spec.k);
            });
            if spec.strategy == Strategy::Auto && !values.is_empty() {
                report.warning(
                    "space.search.hnsw_ef",
                    "auto measures every listed value on each kept build; give {min, max} to let it bisect",
                );
            }
        }
        EfValues::Range { min, max } => {
            check_ef(report, "space.search.hnsw_ef.min", *min, spec.k);
            check_range(report, "space.search.hnsw_ef.max", "hnsw_ef", Some(*max), &Limits::HNSW_EF);
            if min > max {
                report.error("space.search.hnsw_ef", format!("min {min} is greater than max {max}"));
            }
        }
    }
    for (index, &oversampling) in search.oversampling.iter().enumerate() {
        if !Limits::OVERSAMPLING.contains(&oversampling) {
            report.error(
                format!("space.search.oversampling[{index}]"),
                format!(
                    "oversampling {oversampling} is outside {}..={}",
                    Limits::OVERSAMPLING.start(),
                    Limits::OVERSAMPLING.end()
                ),
            );
        }
    }
}

fn check_ef(report: &mut ValidationReport, field: &str, ef: u32, k: u32) {
    check_range(report, field, "hnsw_ef", Some(ef), &Limits::HNSW_EF);
    if ef < k {
        report.error(field, format!("hnsw_ef {ef} is smaller than k {k}"));
    }
}

fn check_parallel(report: &mut ValidationReport, parallel: &[u32]) {
    check_values(report, "space.parallel", "parallel", parallel, |report, item, clients| {
        check_range(report, item, "parallel", Some(clients), &Limits::PARALLEL);
    });
}

fn check_searched_vectors(report: &mut ValidationReport, spec: &StudySpec) {
    let Some(names) = &spec.vectors else {
        return;
    };
    if names.is_empty() {
        report.error("vectors", "must name at least one vector; omit it to query every vector of the space");
    }
    let built: BTreeSet<&VectorName> = spec.space.vectors.keys().collect();
    for (index, name) in names.iter().enumerate() {
        if !built.contains(name) {
            let listed: Vec<String> = built.iter().map(|name| display_name(name)).collect();
            let has = if listed.is_empty() {
                "the space builds no vectors".to_owned()
            } else {
                format!("the space builds {}", listed.join(", "))
            };
            report.error(
                format!("vectors[{index}]"),
                format!("vector {} is not among the study's vectors: {has}", display_name(name)),
            );
        }
    }
}

fn check_objective(report: &mut ValidationReport, spec: &StudySpec) {
    let target = spec.objective.target;
    if !(target > 0.0 && target <= 1.0) {
        report.error("objective.target", format!("target {target} is outside (0, 1]"));
    }
}

fn check_constraints(report: &mut ValidationReport, constraints: &Constraints) {
    for (field, value) in
        [("constraints.max_p99_ms", constraints.max_p99_ms), ("constraints.min_qps", constraints.min_qps)]
    {
        if let Some(value) = value
            && !(value.is_finite() && value > 0.0)
        {
            report.error(field, format!("{value} is not a positive number"));
        }
    }
    if constraints.max_memory_bytes == Some(0) {
        report.error("constraints.max_memory_bytes", "must be positive");
    }
}

fn check_budget(report: &mut ValidationReport, budget: &Budget, strategy: Strategy, builds: u64) {
    if budget.max_builds == Some(0) {
        report.error("budget.max_builds", "must be at least 1");
    }
    if budget.max_seconds == Some(0) {
        report.error("budget.max_seconds", "must be at least 1");
    }
    if let Some(max_builds) = budget.max_builds
        && max_builds > 0
        && strategy == Strategy::Grid
        && builds > u64::from(max_builds)
    {
        report.warning(
            "budget.max_builds",
            format!("the grid needs {builds} builds; the study stops after {max_builds}"),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use expect_test::{Expect, expect};

    use super::*;
    use crate::study::{BuildSpace, Objective, Optimise, QualityMetric, SearchSpace, VectorBuildSpace};
    use crate::{ConnectionId, DatasetId, Dimension, Distance, ScalarType, VectorSpec};

    fn name(name: &str) -> VectorName {
        name.parse().unwrap()
    }

    /// The dataset: a 768-dimensional `text` and a 512-dimensional `image` vector.
    fn dataset() -> SchemaConfig {
        SchemaConfig::from_vectors([
            ("text", VectorSpec::new(Dimension::new(768).unwrap(), Distance::Cosine)),
            ("image", VectorSpec::new(Dimension::new(512).unwrap(), Distance::Euclid)),
        ])
        .unwrap()
    }

    fn text(m: &[u32], ef_construct: &[u32]) -> BuildSpace {
        [(name("text"), VectorBuildSpace::new(m, ef_construct))].into()
    }

    /// A valid study of `text`, changed by `edit`.
    fn study(edit: impl FnOnce(&mut StudySpec)) -> StudySpec {
        let space = StudySpace {
            vectors: text(&[16, 32], &[128]),
            quantization: vec![QuantizationChoice::None],
            search: SearchSpace::ef(EfValues::List(vec![32, 64, 128])),
            parallel: vec![1],
        };
        let objective = Objective { metric: QualityMetric::Recall, target: 0.95, optimise: Optimise::Qps };
        let mut spec = StudySpec::new("tune-text", DatasetId::new(), ConnectionId::new(), space, objective);
        edit(&mut spec);
        spec
    }

    fn check_with(limits: StudyLimits, spec: &StudySpec, expected: Expect) {
        let dataset = dataset();
        let report = StudyValidator::new(&dataset, limits).validate(spec);
        let mut lines: Vec<String> =
            report.errors.iter().map(|v| format!("error   {}: {}", v.field, v.message)).collect();
        lines.extend(report.warnings.iter().map(|v| format!("warning {}: {}", v.field, v.message)));
        let actual = if lines.is_empty() { "valid".to_owned() } else { lines.join("\n") };
        expected.assert_eq(&actual);
    }

    fn check(spec: &StudySpec, expected: Expect) {
        check_with(StudyLimits::default(), spec, expected);
    }

    #[test]
    fn a_small_grid_on_a_known_vector_is_valid() {
        check(&study(|_| {}), expect!["valid"]);
    }

    #[test]
    fn an_empty_space_names_every_empty_list() {
        check(
            &study(|spec| {
                spec.space.vectors = BuildSpace::new();
                spec.space.quantization = Vec::new();
                spec.space.search.hnsw_ef = EfValues::List(Vec::new());
                spec.space.parallel = Vec::new();
            }),
            expect![[r#"
                error   space.vectors: must name at least one vector to build
                error   space.quantization: must list at least one choice; `none` builds without quantization
                error   space.search.hnsw_ef: must list at least one value
                error   space.parallel: must list at least one value"#]],
        );
    }

    #[test]
    fn empty_graph_lists_of_a_vector_are_named_by_path() {
        check(
            &study(|spec| {
                spec.space.vectors =
                    [(name("text"), VectorBuildSpace { m: vec![], ef_construct: vec![], on_disk: vec![] })].into();
            }),
            expect![[r#"
                error   space.vectors.text.m: must list at least one value
                error   space.vectors.text.ef_construct: must list at least one value
                error   space.vectors.text.on_disk: must list at least one value"#]],
        );
    }

    #[test]
    fn an_unknown_vector_names_the_datasets_vectors() {
        check(
            &study(|spec| {
                spec.space.vectors.insert(name("audio"), VectorBuildSpace::new([16], [128]));
            }),
            expect![[r#"
                error   space.vectors.audio: vector `audio` is not in the dataset: the dataset has `image` (512, Euclid), `text` (768, Cosine)"#]],
        );
    }

    #[test]
    fn graph_settings_outside_qdrants_ranges_are_errors_for_each_value() {
        check(
            &study(|spec| spec.space.vectors = text(&[16, 600, 0, 16], &[2, 128, 5000])),
            expect![[r#"
                error   space.vectors.text.m[1]: m 600 is outside 0..=512
                error   space.vectors.text.ef_construct[0]: ef_construct 2 is outside 4..=4096
                error   space.vectors.text.ef_construct[2]: ef_construct 5000 is outside 4..=4096
                warning space.vectors.text.m[2]: m 0 disables the HNSW graph: every search scans
                warning space.vectors.text.m[3]: m 16 is listed twice"#]],
        );
    }

    #[test]
    fn hnsw_ef_values_must_be_in_range_and_at_least_k() {
        check(
            &study(|spec| {
                spec.k = 20;
                spec.space.search.hnsw_ef = EfValues::List(vec![10, 64, 70_000]);
            }),
            expect![[r#"
                error   space.search.hnsw_ef[0]: hnsw_ef 10 is smaller than k 20
                error   space.search.hnsw_ef[2]: hnsw_ef 70000 is outside 1..=65536"#]],
        );
    }

    #[test]
    fn a_range_with_min_above_max_is_an_error() {
        check(
            &study(|spec| spec.space.search.hnsw_ef = EfValues::Range { min: 512, max: 64 }),
            expect!["error   space.search.hnsw_ef: min 512 is greater than max 64"],
        );
    }

    #[test]
    fn a_range_below_k_or_above_qdrants_maximum_is_an_error() {
        check(
            &study(|spec| spec.space.search.hnsw_ef = EfValues::Range { min: 5, max: 100_000 }),
            expect![[r#"
                error   space.search.hnsw_ef.min: hnsw_ef 5 is smaller than k 10
                error   space.search.hnsw_ef.max: hnsw_ef 100000 is outside 1..=65536"#]],
        );
    }

    #[test]
    fn oversampling_below_one_is_an_error() {
        check(
            &study(|spec| {
                spec.space.quantization = vec![QuantizationChoice::Scalar(ScalarType::Int8)];
                spec.space.search.oversampling = vec![0.5, 2.0, f64::NAN];
            }),
            expect![[r#"
                error   space.search.oversampling[0]: oversampling 0.5 is outside 1..=100
                error   space.search.oversampling[2]: oversampling NaN is outside 1..=100"#]],
        );
    }

    #[test]
    fn quantization_search_parameters_without_a_quantized_build_are_warned_about() {
        check(
            &study(|spec| {
                spec.space.search.rescore = vec![true];
                spec.space.search.ignore = vec![false];
            }),
            expect![[r#"
                warning space.search.rescore: has no effect: space.quantization has no quantized choice
                warning space.search.ignore: has no effect: space.quantization has no quantized choice"#]],
        );
    }

    #[test]
    fn client_counts_outside_the_accepted_range_are_errors() {
        check(
            &study(|spec| spec.space.parallel = vec![0, 8, 300]),
            expect![[r#"
                error   space.parallel[0]: parallel 0 is outside 1..=256
                error   space.parallel[2]: parallel 300 is outside 1..=256"#]],
        );
    }

    #[test]
    fn searched_vectors_must_be_built() {
        check(
            &study(|spec| spec.vectors = Some(vec![name("text"), name("image")])),
            expect!["error   vectors[1]: vector `image` is not among the study's vectors: the space builds `text`"],
        );
        check(
            &study(|spec| spec.vectors = Some(Vec::new())),
            expect!["error   vectors: must name at least one vector; omit it to query every vector of the space"],
        );
    }

    #[test]
    fn target_k_and_repetitions_out_of_range_are_errors() {
        check(
            &study(|spec| {
                spec.k = 0;
                spec.space.search.hnsw_ef = EfValues::List(vec![64]);
                spec.objective.target = 1.2;
                spec.repetitions = 11;
            }),
            expect![[r#"
                error   k: k 0 is outside 1..=10000
                error   objective.target: target 1.2 is outside (0, 1]
                error   repetitions: repetitions 11 is outside 1..=10"#]],
        );
        check(
            &study(|spec| {
                spec.objective.target = 0.0;
                spec.repetitions = 0;
            }),
            expect![[r#"
                error   objective.target: target 0 is outside (0, 1]
                error   repetitions: repetitions 0 is outside 1..=10"#]],
        );
    }

    #[test]
    fn constraints_and_budget_must_be_positive() {
        check(
            &study(|spec| {
                spec.constraints =
                    Constraints { max_p99_ms: Some(-1.0), min_qps: Some(f64::INFINITY), max_memory_bytes: Some(0) };
                spec.budget = Budget { max_builds: Some(0), max_seconds: Some(0) };
            }),
            expect![[r#"
                error   constraints.max_p99_ms: -1 is not a positive number
                error   constraints.min_qps: inf is not a positive number
                error   constraints.max_memory_bytes: must be positive
                error   budget.max_builds: must be at least 1
                error   budget.max_seconds: must be at least 1"#]],
        );
    }

    #[test]
    fn a_space_larger_than_the_limits_says_how_large_it_is() {
        let limits = StudyLimits { max_builds: 4, max_measurements: 20, max_repetitions: 10 };
        check_with(
            limits,
            // 3 m × 2 ef_construct = 6 builds, × 3 hnsw_ef × 2 client counts = 36 measurements.
            &study(|spec| {
                spec.space.vectors = text(&[8, 16, 32], &[64, 128]);
                spec.space.parallel = vec![1, 8];
            }),
            expect![[r#"
                error   space: expands to 6 builds; the limit is 4
                error   space: expands to 36 measurements (build × search setting × client count); the limit is 20"#]],
        );
    }

    #[test]
    fn a_grid_larger_than_the_build_budget_is_warned_about() {
        check(
            &study(|spec| spec.budget.max_builds = Some(1)),
            expect!["warning budget.max_builds: the grid needs 2 builds; the study stops after 1"],
        );
    }

    #[test]
    fn auto_with_a_list_of_hnsw_ef_is_warned_that_it_cannot_bisect() {
        check(
            &study(|spec| spec.strategy = Strategy::Auto),
            expect![
                "warning space.search.hnsw_ef: auto measures every listed value on each kept build; give {min, max} to let it bisect"
            ],
        );
        check(
            &study(|spec| {
                spec.strategy = Strategy::Auto;
                spec.space.search.hnsw_ef = EfValues::Range { min: 16, max: 1024 };
            }),
            expect!["valid"],
        );
    }

    #[test]
    fn the_unnamed_vector_is_named_space_vector() {
        let dataset = SchemaConfig {
            scalar_fields: Vec::new(),
            vectors: [(VectorName::unnamed(), VectorSpec::new(Dimension::new(4).unwrap(), Distance::Dot))].into(),
        };
        let spec = study(|spec| {
            spec.space.vectors = [(VectorName::unnamed(), VectorBuildSpace::new([700], [64]))].into();
        });
        let report = StudyValidator::new(&dataset, StudyLimits::default()).validate(&spec);
        assert_eq!(report.errors.len(), 1, "{report:?}");
        assert_eq!(report.errors[0].field, "space.vector.m[0]");
    }
}
