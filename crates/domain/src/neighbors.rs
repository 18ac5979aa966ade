//! Exact nearest neighbours: the ground truth a run is scored against.
//!
//! Distances are oriented so that lower is closer for every metric (`Cosine` as `1 − cos`, `Dot`
//! as `−dot`), which lets one top-k structure serve all four.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::{Distance, PointId};

/// The distance between `a` and `b` under `distance`, lower meaning closer.
pub fn oriented_distance(distance: Distance, a: &[f32], b: &[f32]) -> f64 {
    let pairs = a.iter().zip(b).map(|(x, y)| (f64::from(*x), f64::from(*y)));
    match distance {
        Distance::Euclid => pairs.map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt(),
        Distance::Manhattan => pairs.map(|(x, y)| (x - y).abs()).sum(),
        Distance::Dot => -pairs.map(|(x, y)| x * y).sum::<f64>(),
        Distance::Cosine => {
            let (mut dot, mut norm_a, mut norm_b) = (0.0, 0.0, 0.0);
            for (x, y) in pairs {
                dot += x * y;
                norm_a += x * x;
                norm_b += y * y;
            }
            let norms = norm_a.sqrt() * norm_b.sqrt();
            if norms == 0.0 { 1.0 } else { 1.0 - dot / norms }
        }
    }
}

/// A candidate ordered by distance (then id, so results are deterministic under ties).
#[derive(Debug, Clone, Copy)]
struct Candidate {
    distance: f64,
    id: PointId,
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.distance.total_cmp(&other.distance).then_with(|| self.id.cmp(&other.id))
    }
}

/// The `k` closest points seen so far for one query.
#[derive(Debug, Clone)]
pub struct TopK {
    k: usize,
    worst_first: BinaryHeap<Candidate>,
}

impl TopK {
    /// An empty top-`k`.
    pub fn new(k: usize) -> Self {
        Self { k, worst_first: BinaryHeap::with_capacity(k + 1) }
    }

    /// Offers a point at `distance`; it is kept if it is among the `k` closest so far.
    pub fn offer(&mut self, id: PointId, distance: f64) {
        let candidate = Candidate { distance, id };
        if self.worst_first.len() < self.k {
            self.worst_first.push(candidate);
        } else if let Some(worst) = self.worst_first.peek()
            && candidate < *worst
        {
            self.worst_first.pop();
            self.worst_first.push(candidate);
        }
    }

    /// Merges another top-`k` of the same query (computed over other points).
    pub fn merge(&mut self, other: TopK) {
        for candidate in other.worst_first {
            self.offer(candidate.id, candidate.distance);
        }
    }

    /// The kept points, closest first, with their distances.
    pub fn into_sorted(self) -> Vec<(PointId, f64)> {
        self.worst_first.into_sorted_vec().into_iter().map(|c| (c.id, c.distance)).collect()
    }
}

/// Offers every point of a batch (`ids` with their vectors laid row after row in `vectors`) to
/// each query's top-k. Call it batch after batch to compute exact neighbours in one streaming pass;
/// split `queries`/`tops` across threads to use every core.
pub fn offer_batch(
    distance: Distance,
    dim: usize,
    ids: &[PointId],
    vectors: &[f32],
    queries: &[&[f32]],
    tops: &mut [TopK],
) {
    for (query, top) in queries.iter().zip(tops.iter_mut()) {
        for (id, vector) in ids.iter().zip(vectors.chunks_exact(dim)) {
            top.offer(*id, oriented_distance(distance, query, vector));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_oriented_lower_is_closer() {
        let (a, b) = ([1.0, 0.0], [0.0, 1.0]);
        assert_eq!(oriented_distance(Distance::Euclid, &a, &b), 2f64.sqrt());
        assert_eq!(oriented_distance(Distance::Manhattan, &a, &b), 2.0);
        assert_eq!(oriented_distance(Distance::Dot, &[1.0, 2.0], &[3.0, 4.0]), -11.0);
        assert!((oriented_distance(Distance::Cosine, &a, &b) - 1.0).abs() < 1e-12);
        assert!(oriented_distance(Distance::Cosine, &[2.0, 0.0], &[5.0, 0.0]).abs() < 1e-12);
    }

    #[test]
    fn top_k_keeps_the_closest_in_order_and_merges() {
        let mut left = TopK::new(2);
        let mut right = TopK::new(2);
        for (id, distance) in [(1, 0.9), (2, 0.1), (3, 0.5)] {
            left.offer(PointId::Num(id), distance);
        }
        right.offer(PointId::Num(4), 0.2);
        left.merge(right);
        assert_eq!(left.into_sorted(), vec![(PointId::Num(2), 0.1), (PointId::Num(4), 0.2)]);
    }

    #[test]
    fn a_batch_pass_finds_the_exact_neighbours_for_every_metric() {
        // Points on a line at 0, 1, 2, 3; the query at 1.2: nearest 1 then 2 (Euclid, Manhattan).
        let ids: Vec<PointId> = (0..4).map(PointId::Num).collect();
        let vectors = [0.0, 1.0, 2.0, 3.0];
        for distance in [Distance::Euclid, Distance::Manhattan] {
            let mut tops = vec![TopK::new(2)];
            offer_batch(distance, 1, &ids, &vectors, &[&[1.2]], &mut tops);
            let found: Vec<PointId> = tops.remove(0).into_sorted().into_iter().map(|(id, _)| id).collect();
            assert_eq!(found, [PointId::Num(1), PointId::Num(2)], "{distance}");
        }
        // Dot prefers the largest product: 3 then 2.
        let mut tops = vec![TopK::new(2)];
        offer_batch(Distance::Dot, 1, &ids, &vectors, &[&[1.0]], &mut tops);
        let found: Vec<PointId> = tops.remove(0).into_sorted().into_iter().map(|(id, _)| id).collect();
        assert_eq!(found, [PointId::Num(3), PointId::Num(2)]);
    }
}
