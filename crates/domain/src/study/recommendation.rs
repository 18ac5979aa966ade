//! The recommendation of a study: the best setting that meets the target and the constraints, or,
//! when none does, the one that comes closest and by how much it misses.

use std::cmp::Ordering;
use std::fmt;

use crate::study::{BuildConfig, Constraints, Objective, Optimise, QualityMetric, SearchSettingChoice, TrialPoint};

/// How close a mean quality must come to the target to reach it, so that a mean equal to the
/// target up to float rounding (0.9499999999 for 0.95) is not a miss.
pub const QUALITY_EPSILON: f64 = 1e-9;

/// How one point misses the target or a constraint.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shortfall {
    /// The quality is below the target.
    Quality {
        /// The metric of the target.
        metric: QualityMetric,
        /// The measured quality.
        value: f64,
        /// The target.
        target: f64,
    },
    /// The 99th-percentile latency is above the limit.
    P99 {
        /// The measured p99, in milliseconds.
        p99_ms: f64,
        /// The limit, in milliseconds.
        max_ms: f64,
    },
    /// The throughput is below the limit.
    Qps {
        /// The measured queries per second.
        qps: f64,
        /// The limit.
        min: f64,
    },
    /// The memory footprint is above the limit.
    Memory {
        /// The measured footprint, in bytes.
        bytes: u64,
        /// The limit, in bytes.
        max: u64,
    },
    /// Memory is limited but the point's footprint was not measured.
    MemoryUnknown {
        /// The limit, in bytes.
        max: u64,
    },
}

impl Shortfall {
    /// How far the point misses, relative to the limit it misses (0.1 is 10 % short or over).
    ///
    /// A figure that was not measured, or is not a finite number, misses by 1: as much as a
    /// quality of zero. Summed over a point's shortfalls, this is how far it is from meeting.
    pub fn relative(&self) -> f64 {
        let relative = match *self {
            Self::Quality { value, target, .. } => (target - value) / target,
            Self::P99 { p99_ms, max_ms } => (p99_ms - max_ms) / max_ms,
            Self::Qps { qps, min } => (min - qps) / min,
            Self::Memory { bytes, max } => bytes.saturating_sub(max) as f64 / max as f64,
            Self::MemoryUnknown { .. } => 1.0,
        };
        if relative.is_finite() { relative } else { 1.0 }
    }
}

impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Quality { metric, value, target } => {
                write!(f, "{metric} short by {:.3} ({value:.3} < {target})", target - value)
            }
            Self::P99 { p99_ms, max_ms } => {
                write!(f, "p99 over by {:.1} ms ({p99_ms:.1} ms > {max_ms} ms)", p99_ms - max_ms)
            }
            Self::Qps { qps, min } => write!(f, "qps short by {:.1} ({qps:.1} < {min})", min - qps),
            Self::Memory { bytes, max } => {
                write!(f, "memory over by {} bytes ({bytes} > {max})", bytes.saturating_sub(max))
            }
            Self::MemoryUnknown { max } => write!(f, "memory not measured (limit {max} bytes)"),
        }
    }
}

/// Every way `point` misses the objective's target or a constraint, in the order quality, p99,
/// QPS, memory; empty when it meets them all.
pub fn shortfalls(point: &TrialPoint, objective: &Objective, constraints: &Constraints) -> Vec<Shortfall> {
    let mut misses = Vec::new();
    let value = point.quality.get(objective.metric);
    if !at_least(value + QUALITY_EPSILON, objective.target) {
        misses.push(Shortfall::Quality { metric: objective.metric, value, target: objective.target });
    }
    let p99_ms = point.p99_seconds * 1000.0;
    if let Some(max_ms) = constraints.max_p99_ms
        && !at_least(max_ms, p99_ms)
    {
        misses.push(Shortfall::P99 { p99_ms, max_ms });
    }
    if let Some(min) = constraints.min_qps
        && !at_least(point.qps, min)
    {
        misses.push(Shortfall::Qps { qps: point.qps, min });
    }
    if let Some(max) = constraints.max_memory_bytes {
        match point.memory_bytes {
            None => misses.push(Shortfall::MemoryUnknown { max }),
            Some(bytes) if bytes > max => misses.push(Shortfall::Memory { bytes, max }),
            Some(_) => {}
        }
    }
    misses
}

/// Whether `value` is at least `floor`; a figure that is not a number never meets a limit.
fn at_least(value: f64, floor: f64) -> bool {
    value >= floor
}

/// Why a point meeting everything ranks below the best.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RankedLower {
    /// Its objective figure is worse; `value` is `None` when it was not measured (memory).
    Objective {
        /// This point's figure.
        value: Option<f64>,
        /// The best point's figure.
        best: f64,
    },
    /// Its objective figure equals the best's; it lost the tie-break (lower quality, then a
    /// costlier build or setting).
    TieBreak,
}

/// A point that meets everything but ranks below the best.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunnerUp {
    /// Its index among the points.
    pub index: usize,
    /// Why it ranks lower.
    pub why: RankedLower,
}

/// What a study recommends.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recommendation {
    /// Some points meet the target and every constraint.
    Meets {
        /// The index of the best of them.
        best: usize,
        /// The others, best first.
        runners_up: Vec<RunnerUp>,
    },
    /// No point meets them.
    NothingMeets {
        /// The index of the point with the smallest total relative shortfall.
        closest: usize,
        /// How it misses.
        misses: Vec<Shortfall>,
    },
}

/// Recommends among `points`; `None` when there are none.
///
/// The best point meets the target and the constraints with the best objective figure (most QPS,
/// least p99, least memory; a point whose figure is unknown or not a number ranks last). Ties,
/// compared exactly, go to the higher quality on the objective's metric, then to the cheaper
/// build (smaller Σ m, then Σ `ef_construct`), then to the cheaper search (approximate before
/// exact, smaller `hnsw_ef`, smaller oversampling, no re-scoring), then to fewer clients, then to
/// the earlier point, so that the same points always give the same answer.
///
/// When nothing meets, the closest point is the one whose [`Shortfall::relative`] misses add up
/// to the least (10 % short of the target weighs as much as 10 % over the p99 limit), with the
/// same tie-breaks after the quality.
pub fn recommend(points: &[TrialPoint], objective: &Objective, constraints: &Constraints) -> Option<Recommendation> {
    let misses: Vec<Vec<Shortfall>> = points.iter().map(|point| shortfalls(point, objective, constraints)).collect();
    let mut meeting: Vec<usize> = (0..points.len()).filter(|&index| misses[index].is_empty()).collect();
    if meeting.is_empty() {
        let total = |index: usize| misses[index].iter().map(Shortfall::relative).sum::<f64>();
        let closest = (0..points.len())
            .min_by(|&a, &b| total(a).total_cmp(&total(b)).then_with(|| tie_break(points, objective.metric, a, b)))?;
        let misses = misses.into_iter().nth(closest).unwrap_or_default();
        return Some(Recommendation::NothingMeets { closest, misses });
    }
    let figure = |index: usize| objective_figure(&points[index], objective.optimise);
    meeting.sort_by(|&a, &b| {
        compare_figures(figure(a), figure(b), objective.optimise)
            .then_with(|| tie_break(points, objective.metric, a, b))
    });
    let best = meeting[0];
    let best_figure = figure(best);
    let runners_up = meeting[1..]
        .iter()
        .map(|&index| {
            let value = figure(index);
            let why = match best_figure {
                Some(best) if value != Some(best) => RankedLower::Objective { value, best },
                Some(_) | None => RankedLower::TieBreak,
            };
            RunnerUp { index, why }
        })
        .collect();
    Some(Recommendation::Meets { best, runners_up })
}

/// The figure `optimise` makes best, when measured and a finite number.
pub(crate) fn objective_figure(point: &TrialPoint, optimise: Optimise) -> Option<f64> {
    let figure = match optimise {
        Optimise::Qps => point.qps,
        Optimise::P99Latency => point.p99_seconds * 1000.0,
        Optimise::Memory => point.memory_bytes? as f64,
    };
    figure.is_finite().then_some(figure)
}

/// Orders figures best first; a missing figure last.
fn compare_figures(a: Option<f64>, b: Option<f64>, optimise: Optimise) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => match optimise {
            Optimise::Qps => b.total_cmp(&a),
            Optimise::P99Latency | Optimise::Memory => a.total_cmp(&b),
        },
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Orders points with the same objective figure: higher quality, cheaper build, cheaper search,
/// fewer clients, earlier index.
fn tie_break(points: &[TrialPoint], metric: QualityMetric, a: usize, b: usize) -> Ordering {
    let (pa, pb) = (&points[a], &points[b]);
    pb.quality
        .get(metric)
        .total_cmp(&pa.quality.get(metric))
        .then_with(|| build_cost(&pa.build).cmp(&build_cost(&pb.build)))
        .then_with(|| compare_search_cost(&pa.setting, &pb.setting))
        .then_with(|| pa.parallel.cmp(&pb.parallel))
        .then_with(|| a.cmp(&b))
}

/// The cost of a build for tie-breaks: Σ m, then Σ `ef_construct`.
pub(crate) fn build_cost(build: &BuildConfig) -> (u64, u64) {
    build
        .vectors
        .values()
        .fold((0, 0), |(m, ef), vector| (m + u64::from(vector.m), ef + u64::from(vector.ef_construct)))
}

fn compare_search_cost(a: &SearchSettingChoice, b: &SearchSettingChoice) -> Ordering {
    let oversampling = |s: &SearchSettingChoice| s.quantization.and_then(|q| q.oversampling).unwrap_or(1.0);
    let rescore = |s: &SearchSettingChoice| s.quantization.and_then(|q| q.rescore).unwrap_or(false);
    a.exact
        .cmp(&b.exact)
        .then_with(|| a.hnsw_ef.cmp(&b.hnsw_ef))
        .then_with(|| oversampling(a).total_cmp(&oversampling(b)))
        .then_with(|| rescore(a).cmp(&rescore(b)))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::study::testing::point;

    fn recall(target: f64, optimise: Optimise) -> Objective {
        Objective { metric: QualityMetric::Recall, target, optimise }
    }

    fn best_and_runners_up(recommendation: Option<Recommendation>) -> (usize, Vec<RunnerUp>) {
        match recommendation {
            Some(Recommendation::Meets { best, runners_up }) => (best, runners_up),
            other => panic!("expected a point that meets, got {other:?}"),
        }
    }

    #[test]
    fn the_fastest_point_reaching_the_target_is_best() {
        let points = [
            point(16, 0.93, 3000.0, 1.0, None), // fastest, but short of the target
            point(16, 0.96, 1500.0, 3.0, None),
            point(32, 0.98, 1800.0, 2.5, None),
            point(64, 0.99, 900.0, 5.0, None),
        ];
        let (best, runners_up) =
            best_and_runners_up(recommend(&points, &recall(0.95, Optimise::Qps), &Constraints::default()));
        assert_eq!(best, 2);
        assert_eq!(
            runners_up,
            [
                RunnerUp { index: 1, why: RankedLower::Objective { value: Some(1500.0), best: 1800.0 } },
                RunnerUp { index: 3, why: RankedLower::Objective { value: Some(900.0), best: 1800.0 } },
            ]
        );
    }

    #[test]
    fn lowest_p99_and_least_memory_objectives_minimise() {
        let points = [point(16, 0.96, 1500.0, 3.0, Some(500)), point(32, 0.98, 1800.0, 2.5, Some(900))];
        let (best, _) =
            best_and_runners_up(recommend(&points, &recall(0.95, Optimise::P99Latency), &Constraints::default()));
        assert_eq!(best, 1);
        let (best, _) =
            best_and_runners_up(recommend(&points, &recall(0.95, Optimise::Memory), &Constraints::default()));
        assert_eq!(best, 0);
    }

    #[test]
    fn constraints_rule_out_points_that_reach_the_target() {
        let points = [point(16, 0.96, 2500.0, 12.0, Some(100)), point(32, 0.97, 1800.0, 4.0, Some(100))];
        let constraints = Constraints { max_p99_ms: Some(10.0), ..Constraints::default() };
        let (best, runners_up) = best_and_runners_up(recommend(&points, &recall(0.95, Optimise::Qps), &constraints));
        assert_eq!((best, runners_up.len()), (1, 0));
    }

    #[test]
    fn a_tie_goes_to_higher_quality_then_the_smaller_graph() {
        let points = [
            point(32, 0.96, 1000.0, 2.0, None),
            point(16, 0.96, 1000.0, 2.0, None),
            point(64, 0.97, 1000.0, 2.0, None),
        ];
        let (best, runners_up) =
            best_and_runners_up(recommend(&points, &recall(0.95, Optimise::Qps), &Constraints::default()));
        assert_eq!(best, 2);
        assert_eq!(
            runners_up,
            [RunnerUp { index: 1, why: RankedLower::TieBreak }, RunnerUp { index: 0, why: RankedLower::TieBreak }]
        );
    }

    #[test]
    fn a_tie_on_the_same_build_goes_to_the_smaller_hnsw_ef_then_fewer_clients() {
        let mut points = [
            point(16, 0.96, 1000.0, 2.0, None),
            point(16, 0.96, 1000.0, 2.0, None),
            point(16, 0.96, 1000.0, 2.0, None),
        ];
        points[0].setting.hnsw_ef = Some(128);
        points[1].parallel = 4;
        let (best, runners_up) =
            best_and_runners_up(recommend(&points, &recall(0.95, Optimise::Qps), &Constraints::default()));
        assert_eq!(best, 2);
        assert_eq!(runners_up.iter().map(|r| r.index).collect::<Vec<_>>(), [1, 0]);
    }

    #[test]
    fn unknown_memory_ranks_last_when_memory_is_the_objective() {
        let points = [point(16, 0.96, 1000.0, 2.0, None), point(16, 0.96, 1000.0, 2.0, Some(10_000))];
        let (best, runners_up) =
            best_and_runners_up(recommend(&points, &recall(0.95, Optimise::Memory), &Constraints::default()));
        assert_eq!(best, 1);
        assert_eq!(runners_up, [RunnerUp { index: 0, why: RankedLower::Objective { value: None, best: 10_000.0 } }]);
    }

    #[test]
    fn a_mean_at_the_target_up_to_rounding_reaches_it() {
        let points = [point(16, 0.95 - 1e-12, 1000.0, 2.0, None)];
        assert!(matches!(
            recommend(&points, &recall(0.95, Optimise::Qps), &Constraints::default()),
            Some(Recommendation::Meets { best: 0, .. })
        ));
    }

    #[test]
    fn when_nothing_meets_the_closest_point_and_its_misses_are_named() {
        let points = [
            // 0.938 is 1.3 % short of 0.95, and 12.4 ms is 3.3 % over 12 ms: 4.6 % in all.
            point(16, 0.938, 1500.0, 12.4, Some(100)),
            // 0.90 is 5.3 % short.
            point(32, 0.90, 2000.0, 5.0, Some(100)),
            // Meets the quality, but its memory is 50 % over.
            point(64, 0.99, 800.0, 8.0, Some(150)),
        ];
        let constraints = Constraints { max_p99_ms: Some(12.0), min_qps: None, max_memory_bytes: Some(100) };
        let Some(Recommendation::NothingMeets { closest, misses }) =
            recommend(&points, &recall(0.95, Optimise::Qps), &constraints)
        else {
            panic!("no point should meet");
        };
        assert_eq!(closest, 0);
        let described: Vec<String> = misses.iter().map(ToString::to_string).collect();
        expect![[r#"["recall short by 0.012 (0.938 < 0.95)", "p99 over by 0.4 ms (12.4 ms > 12 ms)"]"#]]
            .assert_eq(&format!("{described:?}"));
    }

    #[test]
    fn shortfalls_cover_every_constraint_and_unknown_memory() {
        let constraints = Constraints { max_p99_ms: Some(1.0), min_qps: Some(1000.0), max_memory_bytes: Some(64) };
        let misses = shortfalls(&point(16, 0.5, 800.0, 2.0, None), &recall(0.9, Optimise::Qps), &constraints);
        let described: Vec<String> = misses.iter().map(ToString::to_string).collect();
        expect![[r#"["recall short by 0.400 (0.500 < 0.9)", "p99 over by 1.0 ms (2.0 ms > 1 ms)", "qps short by 200.0 (800.0 < 1000)", "memory not measured (limit 64 bytes)"]"#]]
            .assert_eq(&format!("{described:?}"));
        assert_eq!(misses.iter().map(Shortfall::relative).collect::<Vec<_>>().len(), 4);
        assert!((misses[0].relative() - 0.4 / 0.9).abs() < 1e-12);
        assert_eq!(misses[3].relative(), 1.0);
    }

    #[test]
    fn a_p99_that_is_not_a_number_misses_a_p99_limit_by_one() {
        let constraints = Constraints { max_p99_ms: Some(10.0), ..Constraints::default() };
        let misses = shortfalls(&point(16, 0.99, 1000.0, f64::NAN, None), &recall(0.9, Optimise::Qps), &constraints);
        assert!(matches!(misses[..], [Shortfall::P99 { max_ms: 10.0, .. }]), "{misses:?}");
        assert_eq!(misses[0].relative(), 1.0);
    }

    #[test]
    fn no_points_recommend_nothing() {
        assert_eq!(recommend(&[], &recall(0.9, Optimise::Qps), &Constraints::default()), None);
    }
}
