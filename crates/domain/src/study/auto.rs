//! The `auto` strategy as pure planners that the service drives: it asks what to measure next,
//! measures, and records the result.
//!
//! Every build is first tried on sample data and [`SuccessiveHalving`] keeps the most promising;
//! on each kept build [`EfBisection`] finds the smallest `hnsw_ef` that reaches the target.
//! [`CostComparison`] sets what was spent next to what the grid would have needed.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::DomainError;
use crate::study::recommendation::{build_cost, objective_figure};
use crate::study::{
    BuildConfig, Constraints, Objective, Optimise, QUALITY_EPSILON, Recommendation, SpaceSize, StudySpace, TrialPoint,
    recommend,
};

/// Where an [`EfBisection`] stands.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EfOutcome {
    /// More measurements are needed: ask [`EfBisection::next`].
    Pending,
    /// The smallest `hnsw_ef` found that reaches the target, with its measured quality.
    Reached {
        /// The `hnsw_ef`.
        ef: u32,
        /// Its quality.
        quality: f64,
    },
    /// Even the largest `hnsw_ef` misses the target: this build cannot reach it.
    Unreachable {
        /// The `hnsw_ef` with the best quality measured.
        best_ef: u32,
        /// That quality.
        best_quality: f64,
    },
}

/// The builds `auto` makes out of `builds`: among builds that differ only in `ef_construct`, the
/// one with the largest `ef_construct` (of every vector; the sum decides otherwise), in the order
/// given.
///
/// A larger `ef_construct` considers more neighbours while building, so it builds a graph at least
/// as good with the same `m`: the same links to follow per search step, the same memory, and no
/// more `hnsw_ef` needed to reach a target. It costs indexing time only, which no objective
/// weighs, so the builds with a smaller `ef_construct` cannot beat it and are not made.
pub fn strongest_graphs(builds: &[BuildConfig]) -> Vec<BuildConfig> {
    let shape = |build: &BuildConfig| {
        let mut shape = build.clone();
        for vector in shape.vectors.values_mut() {
            vector.ef_construct = 0;
        }
        shape
    };
    let strength =
        |build: &BuildConfig| build.vectors.values().map(|vector| u64::from(vector.ef_construct)).sum::<u64>();
    // Per shape, the index of its strongest build so far.
    let mut strongest: Vec<(BuildConfig, usize)> = Vec::new();
    for (index, build) in builds.iter().enumerate() {
        let key = shape(build);
        match strongest.iter_mut().find(|(shape, _)| *shape == key) {
            Some((_, kept)) => {
                if strength(build) > strength(&builds[*kept]) {
                    *kept = index;
                }
            }
            None => strongest.push((key, index)),
        }
    }
    let mut kept: Vec<usize> = strongest.into_iter().map(|(_, index)| index).collect();
    kept.sort_unstable();
    kept.into_iter().map(|index| builds[index].clone()).collect()
}

/// The smallest sample `auto` builds a graph on. Small samples mislead: on 100,000 × 768 points,
/// every graph reached recall 0.95 at the smallest `hnsw_ef` on samples of 11,111 and 33,333
/// points, so the rounds kept the cheapest graphs (m 8), which needed three times the `hnsw_ef`
/// of the grid's choice on all the points (`docs/BENCHMARKS.md`).
pub const DEFAULT_MIN_SAMPLE_POINTS: u64 = 250_000;

/// The sample rounds `auto` runs before building on the full data, as fractions of the points,
/// smallest first.
///
/// Successive halving keeping a third: `builds` builds need `r = ⌈log₃ builds⌉` rounds to come
/// down to one, and round `i` of `r` measures on `3^(i - r)` of the data, so each round costs
/// about one full build (`builds / 3^(r - i)` builds on that share) and the full data builds only
/// the survivor. Rounds whose sample would hold fewer than `min_points` of `points` are left out
/// (more builds then reach the full data); none are needed for a single build.
pub fn sample_rounds(builds: usize, points: u64, min_points: u64) -> Vec<f64> {
    let mut rounds = 0_u32;
    let mut left = builds;
    while left > 1 {
        left = left.div_ceil(3);
        rounds += 1;
    }
    (1..=rounds)
        .rev()
        .map(|power| 1.0 / f64::from(3_u32.saturating_pow(power)))
        .filter(|fraction| (points as f64 * fraction).floor() as u64 >= min_points.max(1))
        .collect()
}

/// The quality a build must reach on `fraction` of the points to be credited with `target` on all
/// of them: the allowed miss rate `1 - target` shrinks with the sample, `1 - (1 - target) ×
/// fraction`.
///
/// A sample is easier than the full data (fewer points compete for each true neighbour), so at
/// the full target every build reaches it with the smallest `hnsw_ef` and the round ranks graphs
/// by their search cost alone, which favours the smallest graphs. Asking the sample for a
/// proportionally smaller miss rate keeps the round discriminating graph quality. The model is a
/// heuristic, checked by the study benchmark in `docs/BENCHMARKS.md`.
pub fn sample_target(target: f64, fraction: f64) -> f64 {
    1.0 - (1.0 - target) * fraction.clamp(0.0, 1.0)
}

/// What a round on sample data scores a build by: the best `objective` figure among its points
/// that reach the target (constraints are not applied: latency and memory on a sample are not
/// those of the full data). `None` when no point reaches the target.
pub fn sample_score(points: &[TrialPoint], objective: &Objective) -> Option<f64> {
    match recommend(points, objective, &Constraints::default())? {
        Recommendation::Meets { best, .. } => objective_figure(points.get(best)?, objective.optimise),
        Recommendation::NothingMeets { .. } => None,
    }
}

/// Finds the smallest `hnsw_ef` in `min..=max` whose quality reaches a target, assuming quality
/// does not decrease as `hnsw_ef` grows.
///
/// `max` is measured first: if it misses, no smaller value will reach the target and the build is
/// [`EfOutcome::Unreachable`] after one measurement. Otherwise the bracket between the largest
/// value measured to miss (or `min - 1`) and the smallest measured to reach is halved on integers
/// until it is within the tolerance: at most `max(1, ⌊tolerance × ef⌋)` wide, so with the default
/// 5 % the answer is within 5 % of the true smallest value, in about `log2(max - min)` steps.
///
/// Measurements are noisy, so quality need not be monotone. The bracket is always taken from what
/// was measured (the smallest reaching value, the largest miss below it), so the process still
/// ends, and the answer is always a value that was measured to reach the target, just above one
/// measured to miss it; with noise it may be a local threshold rather than the smallest. A `max`
/// that misses by noise makes the build unreachable. A value recorded twice keeps its last result;
/// values outside `min..=max` are ignored.
#[derive(Clone, Debug, PartialEq)]
pub struct EfBisection {
    min: u32,
    max: u32,
    target: f64,
    tolerance: f64,
    results: BTreeMap<u32, f64>,
}

/// The next step of a bisection.
enum Step {
    Measure(u32),
    Done(EfOutcome),
}

impl EfBisection {
    /// The default relative tolerance: stop within 5 % of the smallest reaching `hnsw_ef`.
    pub const DEFAULT_TOLERANCE: f64 = 0.05;

    /// A bisection of `min..=max` towards quality `target`, with the default tolerance.
    ///
    /// # Errors
    ///
    /// `Invalid` when `min` is 0 or greater than `max`.
    pub fn new(min: u32, max: u32, target: f64) -> Result<Self, DomainError> {
        if min == 0 || min > max {
            return Err(DomainError::invalid("hnsw_ef", format!("{min}..={max} is not a range of hnsw_ef values")));
        }
        Ok(Self { min, max, target, tolerance: Self::DEFAULT_TOLERANCE, results: BTreeMap::new() })
    }

    /// The same bisection with a relative `tolerance`, clamped to `0..=1`; 0 finds the exact
    /// smallest value.
    pub fn with_tolerance(self, tolerance: f64) -> Self {
        Self { tolerance: if tolerance.is_nan() { 0.0 } else { tolerance.clamp(0.0, 1.0) }, ..self }
    }

    /// Records the quality measured with `ef`.
    pub fn record(&mut self, ef: u32, quality: f64) {
        self.results.insert(ef, quality);
    }

    /// The `hnsw_ef` to measure next, or `None` when the outcome is known.
    pub fn next(&self) -> Option<u32> {
        match self.step() {
            Step::Measure(ef) => Some(ef),
            Step::Done(_) => None,
        }
    }

    /// Where the bisection stands.
    pub fn outcome(&self) -> EfOutcome {
        match self.step() {
            Step::Measure(_) => EfOutcome::Pending,
            Step::Done(outcome) => outcome,
        }
    }

    /// The measurements recorded in `min..=max`.
    pub fn measured(&self) -> usize {
        self.results.range(self.min..=self.max).count()
    }

    fn reaches(&self, quality: f64) -> bool {
        quality + QUALITY_EPSILON >= self.target
    }

    fn step(&self) -> Step {
        let in_range = || self.results.range(self.min..=self.max);
        let Some((&high, &quality)) = in_range().find(|(_, quality)| self.reaches(**quality)) else {
            if !self.results.contains_key(&self.max) {
                return Step::Measure(self.max);
            }
            let (best_ef, best_quality) = in_range()
                .filter(|(_, quality)| !quality.is_nan())
                .max_by(|(a_ef, a), (b_ef, b)| a.total_cmp(b).then(b_ef.cmp(a_ef)))
                .map_or((self.max, f64::NAN), |(ef, quality)| (*ef, *quality));
            return Step::Done(EfOutcome::Unreachable { best_ef, best_quality });
        };
        // The largest miss below `high`, or `min - 1` when none was measured.
        let low = self.results.range(self.min..high).rev().find(|(_, quality)| !self.reaches(**quality));
        let low = low.map_or(i64::from(self.min) - 1, |(ef, _)| i64::from(*ef));
        let gap = i64::from(high) - low;
        let tolerance = ((f64::from(high) * self.tolerance).floor() as i64).max(1);
        if gap <= tolerance {
            return Step::Done(EfOutcome::Reached { ef: high, quality });
        }
        // Strictly between `low` and `high`, so never a value measured before.
        u32::try_from(low + gap / 2).map_or(Step::Done(EfOutcome::Reached { ef: high, quality }), Step::Measure)
    }
}

/// Keeps the most promising builds after a round on sample data.
///
/// Each build's score is the best objective figure among its settings that reach the target on
/// the sample (`None` when none does). The builds with the best scores survive, `keep` of them
/// rounded up and at least one; ties go to the smaller graph (Σ m, then Σ `ef_construct`), then
/// to the earlier build. A build that reached nothing, or was not recorded, never survives: when
/// no build reaches the target on the sample, none survives, and the service can report the target
/// as out of reach rather than spend a full-data round on guesses.
#[derive(Clone, Debug, PartialEq)]
pub struct SuccessiveHalving {
    builds: Vec<BuildConfig>,
    keep: f64,
    optimise: Optimise,
    scores: Vec<Option<Option<f64>>>,
}

impl SuccessiveHalving {
    /// Keep a third: three rounds of this shrink 27 builds to one.
    pub const KEEP_THIRD: f64 = 1.0 / 3.0;

    /// A round over `builds` keeping the fraction `keep` of them, scored by `optimise`.
    ///
    /// # Errors
    ///
    /// `Invalid` when `keep` is not in `(0, 1]`.
    pub fn new(builds: Vec<BuildConfig>, keep: f64, optimise: Optimise) -> Result<Self, DomainError> {
        if !(keep > 0.0 && keep <= 1.0) {
            return Err(DomainError::invalid("keep", format!("keep {keep} is outside (0, 1]")));
        }
        let scores = vec![None; builds.len()];
        Ok(Self { builds, keep, optimise, scores })
    }

    /// The builds of the round.
    pub fn builds(&self) -> &[BuildConfig] {
        &self.builds
    }

    /// Records the score of build `build` (an index into [`SuccessiveHalving::builds`]); a score
    /// that is not a finite number counts as `None`.
    ///
    /// # Errors
    ///
    /// `Invalid` when there is no such build.
    pub fn record(&mut self, build: usize, score: Option<f64>) -> Result<(), DomainError> {
        let count = self.scores.len();
        let slot = self.scores.get_mut(build).ok_or_else(|| {
            DomainError::invalid("build", format!("build {build} is not among the {count} builds of the round"))
        })?;
        *slot = Some(score.filter(|score| score.is_finite()));
        Ok(())
    }

    /// The builds not recorded yet.
    pub fn pending(&self) -> Vec<usize> {
        (0..self.scores.len()).filter(|&index| self.scores[index].is_none()).collect()
    }

    /// How many builds survive at most.
    pub fn keep_count(&self) -> usize {
        if self.builds.is_empty() {
            return 0;
        }
        ((self.builds.len() as f64 * self.keep).ceil() as usize).clamp(1, self.builds.len())
    }

    /// The surviving builds, best first.
    pub fn survivors(&self) -> Vec<usize> {
        let mut scored: Vec<(usize, f64)> =
            self.scores.iter().enumerate().filter_map(|(index, score)| Some((index, (*score)??))).collect();
        scored.sort_by(|(a, a_score), (b, b_score)| {
            let better = match self.optimise {
                Optimise::Qps => b_score.total_cmp(a_score),
                Optimise::P99Latency | Optimise::Memory => a_score.total_cmp(b_score),
            };
            better.then_with(|| self.cheaper(*a, *b))
        });
        scored.into_iter().take(self.keep_count()).map(|(index, _)| index).collect()
    }

    fn cheaper(&self, a: usize, b: usize) -> Ordering {
        build_cost(&self.builds[a]).cmp(&build_cost(&self.builds[b])).then(a.cmp(&b))
    }
}

/// What the grid of `space` would build and measure.
pub fn grid_cost(space: &StudySpace) -> SpaceSize {
    space.count()
}

/// What a study spent next to what the full grid would have needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CostComparison {
    /// Builds made and measurements taken.
    pub made: SpaceSize,
    /// What the grid of the space needs.
    pub grid: SpaceSize,
}

impl CostComparison {
    /// `made` next to the grid of `space`.
    pub fn new(space: &StudySpace, made: SpaceSize) -> Self {
        Self { made, grid: grid_cost(space) }
    }

    /// Builds the grid would have made beyond those made (0 when more were made).
    pub fn builds_saved(&self) -> u64 {
        self.grid.builds.saturating_sub(self.made.builds)
    }

    /// Measurements the grid would have taken beyond those taken (0 when more were taken).
    pub fn measurements_saved(&self) -> u64 {
        self.grid.measurements.saturating_sub(self.made.measurements)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    use super::*;
    use crate::study::{
        BuildConfig, EfValues, QualityMetric, QuantizationChoice, SearchSpace, VectorBuild, VectorBuildSpace,
    };

    /// Runs `bisection` against `quality` until it stops, at most 64 steps; returns the steps.
    fn run(bisection: &mut EfBisection, mut quality: impl FnMut(u32) -> f64) -> usize {
        let mut steps = 0;
        while let Some(ef) = bisection.next() {
            bisection.record(ef, quality(ef));
            steps += 1;
            assert!(steps <= 64, "the bisection does not end");
        }
        steps
    }

    fn step_at(threshold: u32) -> impl Fn(u32) -> f64 {
        move |ef| if ef >= threshold { 0.96 } else { 0.90 }
    }

    #[test]
    fn sample_rounds_cut_builds_by_three_down_to_one_on_growing_samples() {
        assert_eq!(sample_rounds(9, 100_000, 2_000), [1.0 / 9.0, 1.0 / 3.0]);
        assert_eq!(sample_rounds(27, 1_000_000, 2_000), [1.0 / 27.0, 1.0 / 9.0, 1.0 / 3.0]);
        // 10 builds: 10 → 4 → 2 → 1.
        assert_eq!(sample_rounds(10, 1_000_000, 2_000).len(), 3);
        assert_eq!(sample_rounds(2, 100_000, 2_000), [1.0 / 3.0]);
        assert!(sample_rounds(1, 100_000, 2_000).is_empty());
        assert!(sample_rounds(0, 100_000, 2_000).is_empty());
    }

    #[test]
    fn only_the_largest_ef_construct_of_each_graph_shape_is_built() {
        let space = StudySpace {
            vectors: [("dense".parse().unwrap(), VectorBuildSpace::new(vec![8, 16, 32], vec![64, 256, 128]))].into(),
            quantization: vec![QuantizationChoice::None, QuantizationChoice::Binary],
            search: SearchSpace::ef(EfValues::List(vec![64])),
            parallel: vec![1],
        };
        let builds = space.builds();
        assert_eq!(builds.len(), 18);
        let kept = strongest_graphs(&builds);
        let labels: Vec<String> = kept.iter().map(BuildConfig::label).collect();
        assert_eq!(
            labels,
            [
                "m=8,ef_construct=256",
                "m=8,ef_construct=256,binary",
                "m=16,ef_construct=256",
                "m=16,ef_construct=256,binary",
                "m=32,ef_construct=256",
                "m=32,ef_construct=256,binary"
            ],
            "{labels:?}"
        );
    }

    #[test]
    fn with_several_vectors_the_build_strongest_in_every_vector_is_kept() {
        let build = |text: u32, image: u32| BuildConfig {
            vectors: [
                ("text".parse().unwrap(), VectorBuild { m: 16, ef_construct: text, on_disk: false }),
                ("image".parse().unwrap(), VectorBuild { m: 16, ef_construct: image, on_disk: false }),
            ]
            .into(),
            quantization: None,
        };
        let builds = [build(64, 64), build(64, 128), build(128, 64), build(128, 128)];
        assert_eq!(strongest_graphs(&builds), [build(128, 128)]);
    }

    #[test]
    fn a_sample_is_asked_for_a_miss_rate_shrunk_with_it() {
        assert!((sample_target(0.95, 1.0 / 9.0) - (1.0 - 0.05 / 9.0)).abs() < 1e-12);
        assert!((sample_target(0.9, 1.0 / 3.0) - (1.0 - 0.1 / 3.0)).abs() < 1e-12);
        assert_eq!(sample_target(0.95, 1.0), 0.95);
    }

    #[test]
    fn sample_rounds_too_small_to_mean_anything_are_left_out() {
        // 1/9 of 10,000 is 1,111 points, under 2,000; 1/3 is 3,333.
        assert_eq!(sample_rounds(9, 10_000, 2_000), [1.0 / 3.0]);
        assert!(sample_rounds(9, 5_000, 2_000).is_empty());
    }

    #[test]
    fn a_sample_scores_a_build_by_its_best_point_reaching_the_target() {
        use crate::study::testing::point;
        let objective = Objective { metric: QualityMetric::Recall, target: 0.9, optimise: Optimise::Qps };
        let points = [
            point(16, 0.85, 9_000.0, 1.0, None),
            point(16, 0.92, 5_000.0, 2.0, None),
            point(16, 0.97, 3_000.0, 3.0, None),
        ];
        assert_eq!(sample_score(&points, &objective), Some(5_000.0));
        assert_eq!(sample_score(&points[..1], &objective), None, "nothing reaches 0.9");
        let p99 = Objective { optimise: Optimise::P99Latency, ..objective };
        assert_eq!(sample_score(&points, &p99), Some(2.0));
    }

    #[test]
    fn max_is_measured_first() {
        let bisection = EfBisection::new(16, 1024, 0.95).unwrap();
        assert_eq!(bisection.next(), Some(1024));
        assert_eq!(bisection.outcome(), EfOutcome::Pending);
    }

    #[test]
    fn zero_tolerance_finds_the_exact_threshold_in_logarithmic_steps() {
        let mut bisection = EfBisection::new(16, 1024, 0.95).unwrap().with_tolerance(0.0);
        let steps = run(&mut bisection, step_at(137));
        assert_eq!(bisection.outcome(), EfOutcome::Reached { ef: 137, quality: 0.96 });
        // One for max, then ⌈log2(1024 - 15)⌉ = 10 halvings.
        assert!(steps <= 11, "{steps} steps");
        assert_eq!(bisection.measured(), steps);
    }

    #[test]
    fn the_default_tolerance_stops_within_five_percent() {
        for threshold in [17, 100, 137, 500, 1000] {
            let mut bisection = EfBisection::new(16, 1024, 0.95).unwrap();
            let exact_steps =
                run(&mut EfBisection::new(16, 1024, 0.95).unwrap().with_tolerance(0.0), step_at(threshold));
            let steps = run(&mut bisection, step_at(threshold));
            let EfOutcome::Reached { ef, .. } = bisection.outcome() else {
                panic!("threshold {threshold}: {:?}", bisection.outcome());
            };
            assert!(
                ef >= threshold && f64::from(ef - threshold) <= (f64::from(ef) * 0.05).max(1.0),
                "{threshold}: {ef}"
            );
            assert!(steps <= exact_steps, "{threshold}: {steps} > {exact_steps}");
        }
    }

    #[test]
    fn a_min_that_reaches_is_the_answer() {
        let mut bisection = EfBisection::new(16, 1024, 0.95).unwrap();
        run(&mut bisection, step_at(1));
        assert_eq!(bisection.outcome(), EfOutcome::Reached { ef: 16, quality: 0.96 });
    }

    #[test]
    fn a_max_that_misses_makes_the_build_unreachable_after_one_measurement() {
        let mut bisection = EfBisection::new(16, 1024, 0.95).unwrap();
        let steps = run(&mut bisection, |_| 0.80);
        assert_eq!(steps, 1);
        assert_eq!(bisection.outcome(), EfOutcome::Unreachable { best_ef: 1024, best_quality: 0.80 });
    }

    #[test]
    fn a_single_value_range_is_decided_by_one_measurement() {
        let mut bisection = EfBisection::new(64, 64, 0.95).unwrap();
        assert_eq!(run(&mut bisection, step_at(10)), 1);
        assert_eq!(bisection.outcome(), EfOutcome::Reached { ef: 64, quality: 0.96 });
    }

    #[test]
    fn an_empty_or_zero_range_is_refused() {
        assert!(EfBisection::new(128, 64, 0.9).is_err());
        assert!(EfBisection::new(0, 64, 0.9).is_err());
    }

    #[test]
    fn a_non_monotone_dip_still_ends_on_a_measured_reach_above_a_measured_miss() {
        // Reaches from 100, except in a noisy dip between 200 and 300.
        let quality = |ef: u32| if ef >= 100 && !(200..300).contains(&ef) { 0.96 } else { 0.90 };
        let mut bisection = EfBisection::new(16, 1024, 0.95).unwrap().with_tolerance(0.0);
        run(&mut bisection, quality);
        let EfOutcome::Reached { ef, quality: reached } = bisection.outcome() else {
            panic!("{:?}", bisection.outcome());
        };
        assert!(reached >= 0.95);
        assert!(ef == 100 || ef == 300, "a local threshold, got {ef}");
        assert_eq!(bisection.results.get(&(ef - 1)), Some(&0.90), "the value below was measured to miss");
    }

    #[test]
    fn random_noise_never_stops_the_bisection_nor_returns_a_miss() {
        let mut rng = StdRng::seed_from_u64(11);
        for _ in 0..100 {
            let threshold = rng.random_range(16..=1024u32);
            let mut bisection = EfBisection::new(16, 1024, 0.95).unwrap().with_tolerance(0.0);
            let steps = run(&mut bisection, |ef| {
                let clean = if ef >= threshold { 0.955 } else { 0.945 };
                clean + rng.random_range(-0.01..0.01)
            });
            assert!(steps <= 11, "{steps} steps");
            match bisection.outcome() {
                EfOutcome::Reached { ef, quality } => {
                    assert!(quality >= 0.95);
                    assert!(ef == 16 || bisection.results.get(&(ef - 1)).is_some_and(|q| *q < 0.95));
                }
                EfOutcome::Unreachable { .. } => assert!(bisection.results.get(&1024).is_some_and(|q| *q < 0.95)),
                EfOutcome::Pending => panic!("stopped while pending"),
            }
        }
    }

    fn builds(ms: &[u32]) -> Vec<BuildConfig> {
        ms.iter()
            .map(|&m| BuildConfig {
                vectors: [("dense".parse().unwrap(), VectorBuild { m, ef_construct: 128, on_disk: false })].into(),
                quantization: None,
            })
            .collect()
    }

    #[test]
    fn halving_keeps_the_best_third_rounded_up() {
        let mut round =
            SuccessiveHalving::new(builds(&[8, 16, 32, 48, 64, 96, 128]), SuccessiveHalving::KEEP_THIRD, Optimise::Qps)
                .unwrap();
        for (index, score) in [Some(900.0), Some(1500.0), None, Some(1200.0), Some(1400.0), Some(700.0), Some(1000.0)]
            .into_iter()
            .enumerate()
        {
            round.record(index, score).unwrap();
        }
        assert_eq!(round.keep_count(), 3);
        assert_eq!(round.survivors(), [1, 4, 3]);
        assert!(round.pending().is_empty());
    }

    #[test]
    fn halving_on_latency_keeps_the_lowest_and_breaks_ties_by_the_smaller_graph() {
        let mut round = SuccessiveHalving::new(builds(&[64, 16, 32, 8]), 0.5, Optimise::P99Latency).unwrap();
        for (index, score) in [Some(2.0), Some(2.0), Some(1.0), Some(5.0)].into_iter().enumerate() {
            round.record(index, score).unwrap();
        }
        assert_eq!(round.survivors(), [2, 1]);
    }

    #[test]
    fn builds_that_reach_nothing_or_are_not_recorded_never_survive() {
        let mut round = SuccessiveHalving::new(builds(&[8, 16, 32]), 1.0, Optimise::Qps).unwrap();
        round.record(0, None).unwrap();
        round.record(1, Some(f64::NAN)).unwrap();
        assert_eq!(round.pending(), [2]);
        assert!(round.survivors().is_empty());
        round.record(2, Some(10.0)).unwrap();
        assert_eq!(round.survivors(), [2]);
    }

    #[test]
    fn halving_refuses_a_bad_fraction_or_build() {
        assert!(SuccessiveHalving::new(builds(&[8]), 0.0, Optimise::Qps).is_err());
        assert!(SuccessiveHalving::new(builds(&[8]), 1.5, Optimise::Qps).is_err());
        let mut round = SuccessiveHalving::new(builds(&[8]), 1.0, Optimise::Qps).unwrap();
        assert!(round.record(1, Some(1.0)).is_err());
        assert_eq!(SuccessiveHalving::new(Vec::new(), 0.5, Optimise::Qps).unwrap().keep_count(), 0);
    }

    #[test]
    fn the_comparison_sets_what_was_made_next_to_the_grid() {
        let space = StudySpace {
            vectors: [("dense".parse().unwrap(), VectorBuildSpace::new([8, 16, 32], [64, 128]))].into(),
            quantization: vec![QuantizationChoice::None],
            search: SearchSpace::ef(EfValues::Range { min: 16, max: 1024 }),
            parallel: vec![1],
        };
        // 6 builds × 7 hnsw_ef values (16, 32, …, 1024).
        assert_eq!(grid_cost(&space), SpaceSize { builds: 6, measurements: 42 });
        let comparison = CostComparison::new(&space, SpaceSize { builds: 6, measurements: 20 });
        assert_eq!((comparison.builds_saved(), comparison.measurements_saved()), (0, 22));
        let more = CostComparison::new(&space, SpaceSize { builds: 8, measurements: 50 });
        assert_eq!((more.builds_saved(), more.measurements_saved()), (0, 0));
    }
}
