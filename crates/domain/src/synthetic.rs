//! Synthetic clustered datasets: reproducible data with realistic structure for tests, benchmarks
//! and first tries, generated from a seed.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};

use crate::{Distance, VectorName, VectorSpec};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticSpec {
    /// Points.
    pub rows: usize,
    /// Queries (drawn from the same distribution, not from the points).
    pub queries: usize,
    /// The named vectors.
    pub vectors: BTreeMap<VectorName, VectorSpec>,
    /// Clusters per vector; points spread around their cluster's centre.
    pub clusters: usize,
    /// Seed: the same spec and seed give the same data, bit for bit.
    pub seed: u64,
}

/// Generated vectors, laid row after row.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticVectors {
    /// Each vector's point values (`rows × dim`).
    pub points: BTreeMap<VectorName, Vec<f32>>,
    /// Each vector's query values (`queries × dim`).
    pub queries: BTreeMap<VectorName, Vec<f32>>,
    /// The cluster of each point (of the first vector), a payload field for filtering tests.
    pub point_clusters: Vec<u32>,
}

/// Spread of points around their centre, relative to the spread of the centres.
const CLUSTER_SPREAD: f64 = 0.35;

/// Generates the vectors of `spec`.
pub fn generate(spec: &SyntheticSpec) -> SyntheticVectors {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let clusters = spec.clusters.max(1);
    let point_clusters: Vec<u32> = (0..spec.rows).map(|_| rng.random_range(0..clusters as u32)).collect();
    let query_clusters: Vec<u32> = (0..spec.queries).map(|_| rng.random_range(0..clusters as u32)).collect();
    let mut points = BTreeMap::new();
    let mut queries = BTreeMap::new();
    for (name, vector) in &spec.vectors {
        let dim = vector.dim.get() as usize;
        let centres = normal_values(&mut rng, clusters * dim, 1.0);
        let around = |rng: &mut StdRng, assigned: &[u32]| {
            let mut values = normal_values(rng, assigned.len() * dim, CLUSTER_SPREAD);
            for (row, cluster) in values.chunks_exact_mut(dim).zip(assigned) {
                let centre = &centres[*cluster as usize * dim..(*cluster as usize + 1) * dim];
                for (value, offset) in row.iter_mut().zip(centre) {
                    *value += offset;
                }
                if vector.distance == Distance::Dot {
                    normalise(row);
                }
            }
            values
        };
        points.insert(name.clone(), around(&mut rng, &point_clusters));
        queries.insert(name.clone(), around(&mut rng, &query_clusters));
    }
    SyntheticVectors { points, queries, point_clusters }
}

fn normal_values(rng: &mut StdRng, count: usize, std_dev: f64) -> Vec<f32> {
    // A positive, finite standard deviation is always a valid normal distribution.
    let normal = Normal::new(0.0, std_dev).unwrap_or_else(|_| unreachable!("std_dev is a positive constant"));
    (0..count).map(|_| normal.sample(rng) as f32).collect()
}

/// Scales a row to unit length, so dot products behave like cosine similarities (as real
/// embedding models trained for `Dot` produce).
fn normalise(row: &mut [f32]) {
    let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        row.iter_mut().for_each(|v| *v /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dimension;

    fn spec(seed: u64) -> SyntheticSpec {
        SyntheticSpec {
            rows: 200,
            queries: 10,
            vectors: [
                ("text".parse().unwrap(), VectorSpec::new(Dimension::new(8).unwrap(), Distance::Cosine)),
                ("image".parse().unwrap(), VectorSpec::new(Dimension::new(4).unwrap(), Distance::Dot)),
            ]
            .into(),
            clusters: 5,
            seed,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_data_and_another_seed_other_data() {
        assert_eq!(generate(&spec(7)), generate(&spec(7)));
        assert_ne!(generate(&spec(7)), generate(&spec(8)));
    }

    #[test]
    fn shapes_follow_the_spec_and_dot_vectors_are_unit_length() {
        let data = generate(&spec(1));
        let text: VectorName = "text".parse().unwrap();
        let image: VectorName = "image".parse().unwrap();
        assert_eq!(data.points[&text].len(), 200 * 8);
        assert_eq!(data.queries[&image].len(), 10 * 4);
        assert_eq!(data.point_clusters.len(), 200);
        for row in data.points[&image].chunks_exact(4) {
            let norm: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5);
        }
    }
}
