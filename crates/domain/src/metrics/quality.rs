//! Precision, recall and F1 of one query against its ground truth, and their averages.

/// How close a returned point's distance must be to the k-th true distance to count as a tie.
///
/// Relative to the k-th distance's magnitude, as ann-benchmarks compares with `1e-3` slack; float
/// distances computed by two engines rarely agree to the last bit.
pub const TIE_EPSILON: f64 = 1e-3;

/// One returned point: its id and, when known, its true distance to the query (lower is closer;
/// similarities are turned into distances by the caller, e.g. `1 - cosine`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Returned<Id> {
    /// The point's id.
    pub id: Id,
    /// Its exact distance to the query, if computed.
    pub distance: Option<f64>,
}

/// Quality of one query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueryQuality {
    /// Correct results / results returned (0 when nothing is returned).
    pub precision: f64,
    /// Correct results / results expected (`min(k, ground truth size)`).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
}

/// Scores one query's results `returned` against `truth`, the exact nearest neighbours in order
/// with their distances, at depth `k`.
///
/// A returned point is correct when it is among the first `k` of `truth`, or when its true distance
/// is no greater than the k-th true distance (within [`TIE_EPSILON`]): with ties at the k-th place
/// any of the tied points is a right answer, as in ann-benchmarks. Each id counts once.
pub fn query_quality<Id: PartialEq + Copy>(returned: &[Returned<Id>], truth: &[(Id, f64)], k: usize) -> QueryQuality {
    let expected = truth.len().min(k);
    let top = &truth[..expected];
    let threshold = top.last().map(|(_, distance)| distance + TIE_EPSILON * distance.abs().max(1.0));
    let mut counted: Vec<Id> = Vec::with_capacity(returned.len());
    let mut correct = 0usize;
    for point in returned.iter().take(k) {
        if counted.contains(&point.id) {
            continue;
        }
        counted.push(point.id);
        let in_truth = top.iter().any(|(id, _)| *id == point.id);
        let tied = matches!((point.distance, threshold), (Some(distance), Some(limit)) if distance <= limit);
        if in_truth || tied {
            correct += 1;
        }
    }
    let returned_count = returned.len().min(k);
    let precision = ratio(correct, returned_count);
    let recall = if expected == 0 { 1.0 } else { ratio(correct, expected).min(1.0) };
    QueryQuality { precision, recall, f1: harmonic_mean(precision, recall) }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

fn harmonic_mean(a: f64, b: f64) -> f64 {
    if a + b == 0.0 { 0.0 } else { 2.0 * a * b / (a + b) }
}

/// The mean quality over a set of queries.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QualitySummary {
    /// Mean precision.
    pub precision: f64,
    /// Mean recall.
    pub recall: f64,
    /// Mean of the per-query F1 scores.
    pub f1: f64,
    /// Queries averaged.
    pub queries: usize,
}

impl QualitySummary {
    /// Averages per-query qualities (all zero for no queries).
    pub fn mean(qualities: &[QueryQuality]) -> Self {
        let queries = qualities.len();
        if queries == 0 {
            return Self::default();
        }
        let sum = |get: fn(&QueryQuality) -> f64| qualities.iter().map(get).sum::<f64>() / queries as f64;
        Self { precision: sum(|q| q.precision), recall: sum(|q| q.recall), f1: sum(|q| q.f1), queries }
    }
}

/// Queries counted by their recall in tenths: `[0, 0.1)`, `[0.1, 0.2)` … `[0.9, 1)`, then exactly 1
/// (eleven buckets); a recall that is not a finite number in `[0, 1]` is not counted.
///
/// How recall is spread over the queries: a mean of 0.95 may be every query at 0.95 or one query
/// in twenty finding nothing, which a reader choosing a setting needs to tell apart.
pub fn recall_tenths(recalls: impl IntoIterator<Item = f64>) -> Vec<u64> {
    let mut buckets = vec![0_u64; 11];
    for recall in recalls.into_iter().filter(|recall| (0.0..=1.0).contains(recall)) {
        // A recall of k hits in k is exactly 1; anything below falls in its tenth. The epsilon
        // keeps 0.3 (3 of 10, computed as 0.30000000000000004 or 0.29999999999999999) in its own.
        let bucket = if recall >= 1.0 { 10 } else { ((recall + 1e-9) * 10.0).floor().min(9.0) as usize };
        buckets[bucket] += 1;
    }
    buckets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recall_tenths_counts_each_query_in_its_tenth_and_perfect_ones_apart() {
        let counts = recall_tenths([0.0, 0.05, 0.3, 0.7 * 3.0 / 7.0, 0.99, 1.0, 1.0, f64::NAN, 1.5]);
        assert_eq!(counts, [2, 0, 0, 2, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(recall_tenths([]).len(), 11);
    }

    fn returned(ids: &[u64]) -> Vec<Returned<u64>> {
        ids.iter().map(|&id| Returned { id, distance: None }).collect()
    }

    const TRUTH: [(u64, f64); 5] = [(1, 0.1), (2, 0.2), (3, 0.3), (4, 0.4), (5, 0.5)];

    #[test]
    fn a_perfect_answer_scores_one() {
        let quality = query_quality(&returned(&[1, 2, 3]), &TRUTH, 3);
        assert_eq!(quality, QueryQuality { precision: 1.0, recall: 1.0, f1: 1.0 });
    }

    #[test]
    fn two_of_three_right_is_two_thirds_everywhere() {
        // Hand-checked: R = {1, 2, 9}, G = {1, 2, 3}: |R∩G| = 2, precision = recall = F1 = 2/3.
        let quality = query_quality(&returned(&[1, 2, 9]), &TRUTH, 3);
        assert!((quality.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((quality.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((quality.f1 - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn fewer_results_than_k_keep_precision_but_lose_recall() {
        // Hand-checked: R = {1, 2}, k = 4: precision 2/2 = 1, recall 2/4 = 0.5, F1 = 2·1·0.5/1.5 = 2/3.
        let quality = query_quality(&returned(&[1, 2]), &TRUTH, 4);
        assert_eq!(quality.precision, 1.0);
        assert_eq!(quality.recall, 0.5);
        assert!((quality.f1 - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_point_tied_with_the_kth_distance_counts_as_correct() {
        // Point 42 is not in the ground truth's top 3 but lies exactly as far as the 3rd (0.3).
        let tied = [
            Returned { id: 1, distance: Some(0.1) },
            Returned { id: 2, distance: Some(0.2) },
            Returned { id: 42, distance: Some(0.3) },
        ];
        assert_eq!(query_quality(&tied, &TRUTH, 3).recall, 1.0);
        let farther = [
            Returned { id: 1, distance: Some(0.1) },
            Returned { id: 2, distance: Some(0.2) },
            Returned { id: 42, distance: Some(0.31) },
        ];
        assert!((query_quality(&farther, &TRUTH, 3).recall - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn duplicates_count_once_and_nothing_returned_scores_zero() {
        let quality = query_quality(&returned(&[1, 1, 1]), &TRUTH, 3);
        assert!((quality.recall - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(query_quality(&returned(&[]), &TRUTH, 3), QueryQuality { precision: 0.0, recall: 0.0, f1: 0.0 });
    }

    #[test]
    fn the_mean_is_per_query() {
        let summary = QualitySummary::mean(&[
            QueryQuality { precision: 1.0, recall: 1.0, f1: 1.0 },
            QueryQuality { precision: 0.5, recall: 0.0, f1: 0.0 },
        ]);
        assert_eq!((summary.precision, summary.recall, summary.f1, summary.queries), (0.75, 0.5, 0.5, 2));
    }
}
