//! A seeded sample of a dataset's points: each point is in or out by a hash of its id and the
//! seed, so every pass over the data (upload, ground truth) keeps the same points, whatever the
//! order or batching it reads them in.

use crate::PointId;

/// Keep about `fraction` of the train points, chosen by `seed`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PointSample {
    /// The share of points kept, in `(0, 1]`.
    pub fraction: f64,
    /// Chooses which points; the same seed keeps the same points.
    pub seed: u32,
}

impl PointSample {
    /// About how many of `points` points the sample keeps (rounded up), for progress and estimates.
    pub fn expected(&self, points: u64) -> u64 {
        (points as f64 * self.fraction).ceil() as u64
    }

    /// Whether the point `id` is in the sample.
    pub fn keeps(&self, id: &PointId) -> bool {
        let key = match id {
            PointId::Num(number) => *number,
            PointId::Uuid(uuid) => {
                let (high, low) = uuid.as_u64_pair();
                high ^ mix(low)
            }
        };
        // The top 53 bits as a uniform number in [0, 1).
        let uniform = (mix(key ^ mix(u64::from(self.seed))) >> 11) as f64 / (1_u64 << 53) as f64;
        uniform < self.fraction
    }
}

/// SplitMix64's finaliser: neighbouring ids land far apart.
fn mix(mut value: u64) -> u64 {
    value = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    value ^ (value >> 31)
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn kept(sample: PointSample, ids: impl Iterator<Item = PointId>) -> Vec<PointId> {
        ids.filter(|id| sample.keeps(id)).collect()
    }

    #[test]
    fn about_the_fraction_of_consecutive_ids_is_kept() {
        for fraction in [0.01, 0.111, 0.5, 0.9] {
            let count = kept(PointSample { fraction, seed: 7 }, (0..100_000).map(PointId::Num)).len();
            let share = count as f64 / 100_000.0;
            assert!((share - fraction).abs() < 0.01, "{fraction}: {share}");
        }
    }

    #[test]
    fn the_expected_count_rounds_up() {
        assert_eq!(PointSample { fraction: 0.1, seed: 0 }.expected(1_005), 101);
        assert_eq!(PointSample { fraction: 1.0, seed: 0 }.expected(7), 7);
    }

    #[test]
    fn the_whole_fraction_keeps_everything() {
        let sample = PointSample { fraction: 1.0, seed: 3 };
        assert_eq!(kept(sample, (0..10_000).map(PointId::Num)).len(), 10_000);
    }

    #[test]
    fn the_same_seed_keeps_the_same_points_and_another_seed_others() {
        let ids = || (0..5_000).map(PointId::Num);
        let first = kept(PointSample { fraction: 0.2, seed: 1 }, ids());
        assert_eq!(first, kept(PointSample { fraction: 0.2, seed: 1 }, ids()));
        assert_ne!(first, kept(PointSample { fraction: 0.2, seed: 2 }, ids()));
    }

    #[test]
    fn a_smaller_fraction_keeps_a_subset() {
        let ids = || (0..5_000).map(PointId::Num);
        let small = kept(PointSample { fraction: 0.1, seed: 9 }, ids());
        let large = kept(PointSample { fraction: 0.3, seed: 9 }, ids());
        assert!(small.iter().all(|id| large.contains(id)));
    }

    #[test]
    fn uuid_ids_are_sampled_too() {
        let ids = (0..20_000_u128).map(|n| PointId::Uuid(Uuid::from_u128(n << 64 | n)));
        let share = kept(PointSample { fraction: 0.25, seed: 5 }, ids).len() as f64 / 20_000.0;
        assert!((share - 0.25).abs() < 0.02, "{share}");
    }
}
