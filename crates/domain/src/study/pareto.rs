//! Measured points of a study and the Pareto front among them: the settings for which no other
//! setting is at least as good on both axes and better on one.

use crate::metrics::MeanInterval;
use crate::study::{BuildConfig, QualityMetric, SearchSettingChoice};

/// Mean retrieval quality of one measurement.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrialQuality {
    /// Mean recall@k.
    pub recall: f64,
    /// Mean precision@k.
    pub precision: f64,
    /// Mean F1.
    pub f1: f64,
}

impl TrialQuality {
    /// The value of `metric`.
    pub fn get(&self, metric: QualityMetric) -> f64 {
        match metric {
            QualityMetric::Recall => self.recall,
            QualityMetric::Precision => self.precision,
            QualityMetric::F1 => self.f1,
        }
    }
}

/// One measured setting: a build searched with one setting by `parallel` clients.
///
/// QPS and p99 are means over the repetitions; their intervals are there when the measurement was
/// repeated, so a report can flag figures too noisy to rank on.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrialPoint {
    /// The collection searched.
    pub build: BuildConfig,
    /// The search setting.
    pub setting: SearchSettingChoice,
    /// Concurrent clients.
    pub parallel: u32,
    /// Retrieval quality.
    pub quality: TrialQuality,
    /// Queries per second.
    pub qps: f64,
    /// 99th-percentile latency, in seconds.
    pub p99_seconds: f64,
    /// RAM the built collection holds, as measured on the engine (else the estimate made before
    /// the build), when known.
    pub memory_bytes: Option<u64>,
    /// Confidence interval of `qps` over the repetitions.
    pub qps_interval: Option<MeanInterval>,
    /// Confidence interval of `p99_seconds` over the repetitions.
    pub p99_interval: Option<MeanInterval>,
}

/// The two figures a front trades off; recall is always maximised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParetoAxis {
    /// Recall against throughput (both maximised).
    RecallVsQps,
    /// Recall against 99th-percentile latency (minimised).
    RecallVsP99,
    /// Recall against memory footprint (minimised).
    RecallVsMemory,
}

impl ParetoAxis {
    /// The point's (recall, other) with the other axis turned so that higher is better; `None`
    /// when a figure is missing or not a finite number.
    fn coordinates(self, point: &TrialPoint) -> Option<(f64, f64)> {
        let other = match self {
            Self::RecallVsQps => point.qps,
            Self::RecallVsP99 => -point.p99_seconds,
            Self::RecallVsMemory => -(point.memory_bytes? as f64),
        };
        let recall = point.quality.recall;
        (recall.is_finite() && other.is_finite()).then_some((recall, other))
    }
}

/// Whether `a` is at least as good as `b` on both axes and better on one.
fn dominates(a: (f64, f64), b: (f64, f64)) -> bool {
    a.0 >= b.0 && a.1 >= b.1 && (a.0 > b.0 || a.1 > b.1)
}

/// The indices of the points on the Pareto front of `axis`, by ascending recall (then the better
/// other figure first, then index).
///
/// A point without a figure for the axis (memory unknown, a figure not finite) is left out. Equal
/// points do not dominate each other, so both stay on the front: they are different settings with
/// the same outcome, and the choice between them is [`crate::study::recommend`]'s.
pub fn pareto_front(points: &[TrialPoint], axis: ParetoAxis) -> Vec<usize> {
    let coordinates: Vec<Option<(f64, f64)>> = points.iter().map(|point| axis.coordinates(point)).collect();
    front_of(&coordinates)
}

/// The indices of `coordinates` that no other one dominates, by ascending recall (then the better
/// other figure first, then index): each is (recall, another figure turned so that higher is
/// better), `None` or not finite when unknown (left out). The rule of [`pareto_front`], for
/// callers whose points are not trials (a report's settings).
pub fn front_of(coordinates: &[Option<(f64, f64)>]) -> Vec<usize> {
    let eligible: Vec<(usize, (f64, f64))> = coordinates
        .iter()
        .enumerate()
        .filter_map(|(index, point)| point.filter(|(a, b)| a.is_finite() && b.is_finite()).map(|point| (index, point)))
        .collect();
    let mut front: Vec<(usize, (f64, f64))> = eligible
        .iter()
        .filter(|(_, point)| !eligible.iter().any(|(_, other)| dominates(*other, *point)))
        .copied()
        .collect();
    front
        .sort_by(|(a_index, a), (b_index, b)| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a_index.cmp(b_index)));
    front.into_iter().map(|(index, _)| index).collect()
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    use super::*;
    use crate::study::testing::point;

    #[test]
    fn the_front_keeps_the_best_trade_offs_sorted_by_recall() {
        let points = [
            point(16, 0.90, 2000.0, 2.0, Some(100)),
            point(16, 0.95, 1500.0, 3.0, Some(200)),
            point(16, 0.93, 1400.0, 4.0, Some(300)), // dominated by the 0.95 at 1500 QPS
            point(32, 0.99, 800.0, 5.0, Some(50)),
            point(32, 0.85, 1900.0, 1.0, Some(400)), // dominated by the 0.90 at 2000 QPS
        ];
        assert_eq!(pareto_front(&points, ParetoAxis::RecallVsQps), [0, 1, 3]);
        // Lower p99 is better: the 0.85 at 1 ms now trades off.
        assert_eq!(pareto_front(&points, ParetoAxis::RecallVsP99), [4, 0, 1, 3]);
        // The 0.99 needs the least memory and dominates everything else.
        assert_eq!(pareto_front(&points, ParetoAxis::RecallVsMemory), [3]);
    }

    #[test]
    fn points_without_memory_are_left_out_of_the_memory_front_only() {
        let points = [point(16, 0.99, 2000.0, 2.0, None), point(16, 0.90, 1000.0, 3.0, Some(100))];
        assert_eq!(pareto_front(&points, ParetoAxis::RecallVsMemory), [1]);
        assert_eq!(pareto_front(&points, ParetoAxis::RecallVsQps), [0]);
    }

    #[test]
    fn equal_points_both_stay_on_the_front() {
        let points = [point(16, 0.95, 1000.0, 2.0, None), point(32, 0.95, 1000.0, 2.0, None)];
        assert_eq!(pareto_front(&points, ParetoAxis::RecallVsQps), [0, 1]);
    }

    #[test]
    fn figures_that_are_not_numbers_are_left_out() {
        let points = [point(16, f64::NAN, 5000.0, 2.0, None), point(16, 0.9, 1000.0, f64::INFINITY, None)];
        assert_eq!(pareto_front(&points, ParetoAxis::RecallVsQps), [1]);
        assert!(pareto_front(&points, ParetoAxis::RecallVsP99).is_empty());
    }

    #[test]
    fn an_empty_set_has_an_empty_front() {
        assert!(pareto_front(&[], ParetoAxis::RecallVsQps).is_empty());
    }

    /// On random points (with ties, from a coarse grid), the front is exactly the set of
    /// non-dominated eligible points, sorted by recall.
    #[test]
    fn the_front_is_the_non_dominated_set_on_random_points() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let count = rng.random_range(0..40);
            let points: Vec<TrialPoint> = (0..count)
                .map(|_| {
                    let memory = rng.random_bool(0.8).then(|| rng.random_range(1..20u64) * 1000);
                    point(
                        16,
                        f64::from(rng.random_range(0..20u32)) / 20.0,
                        f64::from(rng.random_range(1..30u32)) * 100.0,
                        f64::from(rng.random_range(1..30u32)),
                        memory,
                    )
                })
                .collect();
            for axis in [ParetoAxis::RecallVsQps, ParetoAxis::RecallVsP99, ParetoAxis::RecallVsMemory] {
                let front = pareto_front(&points, axis);
                let eligible: Vec<usize> =
                    (0..points.len()).filter(|&i| axis.coordinates(&points[i]).is_some()).collect();
                let at = |i: usize| axis.coordinates(&points[i]).unwrap_or((f64::NAN, f64::NAN));
                for &i in &front {
                    assert!(eligible.contains(&i), "{axis:?}: front point {i} lacks a figure");
                    assert!(!eligible.iter().any(|&j| dominates(at(j), at(i))), "{axis:?}: {i} is dominated");
                }
                for &i in eligible.iter().filter(|i| !front.contains(i)) {
                    assert!(front.iter().any(|&j| dominates(at(j), at(i))), "{axis:?}: {i} left out undominated");
                }
                assert!(front.windows(2).all(|pair| at(pair[0]).0 <= at(pair[1]).0), "{axis:?}: not sorted");
            }
        }
    }
}
