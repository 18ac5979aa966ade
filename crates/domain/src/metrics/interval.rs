//! The confidence interval of a mean over repeated measurements (QPS or p99 of repeated runs).
//!
//! A study repeats each measurement a few times; the interval says how far the mean can be trusted
//! and flags settings whose figures are too noisy to rank.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// The confidence level of [`mean_interval`].
pub const CONFIDENCE: f64 = 0.95;

/// Half width, relative to the mean, above which an interval is flagged as wide (±10 %).
pub const WIDE_INTERVAL: f64 = 0.10;

/// The mean of repeated measurements with its 95 % confidence interval.
///
/// With fewer than two samples the spread is unknown: the interval is then represented as
/// `low == high == mean` and [`MeanInterval::is_known`] is false, so that a single run neither
/// shows a fake certainty of zero width nor an infinite one.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MeanInterval {
    /// Arithmetic mean of the samples (0 when there are none).
    pub mean: f64,
    /// Lower bound of the interval.
    pub low: f64,
    /// Upper bound of the interval.
    pub high: f64,
    /// Samples measured.
    pub samples: usize,
}

impl MeanInterval {
    /// Whether the interval was estimated, which needs at least two samples.
    pub fn is_known(&self) -> bool {
        self.samples >= 2
    }

    /// Half the width of the interval (0 when unknown).
    pub fn half_width(&self) -> f64 {
        (self.high - self.low) / 2.0
    }

    /// Half width relative to `|mean|`: 0.05 means "± 5 %".
    ///
    /// 0 when the interval is unknown (see [`MeanInterval::is_known`]); infinite when the mean is 0
    /// but the samples spread, since no relative precision can be claimed then.
    pub fn half_width_ratio(&self) -> f64 {
        let half = self.half_width();
        if !self.is_known() || half == 0.0 {
            0.0
        } else if self.mean == 0.0 {
            f64::INFINITY
        } else {
            half / self.mean.abs()
        }
    }

    /// Whether the interval is wider than ±[`WIDE_INTERVAL`] of the mean: the figure is too noisy
    /// to rank on. An unknown interval is not wide; check [`MeanInterval::is_known`] for that.
    pub fn is_wide(&self) -> bool {
        self.half_width_ratio() > WIDE_INTERVAL
    }
}

/// The mean of `samples` with its 95 % confidence interval, from Student's t with `n - 1`
/// degrees of freedom (the samples are taken as independent runs of one setting).
///
/// No samples give a zero mean; one sample gives an unknown interval (`low == high == mean`).
pub fn mean_interval(samples: &[f64]) -> MeanInterval {
    let n = samples.len();
    if n == 0 {
        return MeanInterval { mean: 0.0, low: 0.0, high: 0.0, samples: 0 };
    }
    let mean = samples.iter().sum::<f64>() / n as f64;
    let unknown = MeanInterval { mean, low: mean, high: mean, samples: n };
    if n < 2 {
        return unknown;
    }
    let variance = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let Ok(t) = StudentsT::new(0.0, 1.0, (n - 1) as f64) else {
        return unknown;
    };
    let quantile = t.inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0);
    let half = quantile * (variance / n as f64).sqrt();
    MeanInterval { mean, low: mean - half, high: mean + half, samples: n }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn three_samples_use_t_with_two_degrees_of_freedom() {
        // mean 12, s = 2, t(0.975, 2) = 4.3027, half width = 4.3027 × 2 / √3 = 4.9683.
        let interval = mean_interval(&[10.0, 12.0, 14.0]);
        assert_eq!(interval.mean, 12.0);
        assert_eq!(interval.samples, 3);
        assert!(close(interval.half_width(), 4.9683, 1e-3), "{interval:?}");
        assert!(close(interval.low, 7.0317, 1e-3), "{interval:?}");
        assert!(close(interval.high, 16.9683, 1e-3), "{interval:?}");
        assert!(interval.is_known());
    }

    #[test]
    fn ten_samples_use_t_with_nine_degrees_of_freedom() {
        // 1..=10: mean 5.5, s = 3.0277, t(0.975, 9) = 2.2622, half width = 2.2622 × 3.0277 / √10 = 2.1659.
        let samples: Vec<f64> = (1..=10).map(f64::from).collect();
        let interval = mean_interval(&samples);
        assert_eq!(interval.mean, 5.5);
        assert!(close(interval.half_width(), 2.1659, 1e-3), "{interval:?}");
    }

    #[test]
    fn one_sample_gives_an_unknown_interval_at_the_mean() {
        let interval = mean_interval(&[1234.5]);
        assert_eq!(interval, MeanInterval { mean: 1234.5, low: 1234.5, high: 1234.5, samples: 1 });
        assert!(!interval.is_known());
        assert_eq!(interval.half_width_ratio(), 0.0);
        assert!(!interval.is_wide());
    }

    #[test]
    fn no_samples_give_zero_and_unknown() {
        let interval = mean_interval(&[]);
        assert_eq!(interval, MeanInterval { mean: 0.0, low: 0.0, high: 0.0, samples: 0 });
        assert!(!interval.is_known());
    }

    #[test]
    fn identical_samples_give_a_zero_width_interval() {
        let interval = mean_interval(&[3.0, 3.0, 3.0, 3.0]);
        assert_eq!((interval.low, interval.high), (3.0, 3.0));
        assert_eq!(interval.half_width_ratio(), 0.0);
    }

    #[test]
    fn an_interval_wider_than_ten_percent_is_wide() {
        // Half width 4.97 around 12 is ±41 %.
        let noisy = mean_interval(&[10.0, 12.0, 14.0]);
        assert!(close(noisy.half_width_ratio(), 4.9683 / 12.0, 1e-3));
        assert!(noisy.is_wide());
        // 1000 ± 1: half width 4.3027 × 1 / √3 = 2.48, i.e. ±0.25 %.
        let steady = mean_interval(&[999.0, 1000.0, 1001.0]);
        assert!(close(steady.half_width_ratio(), 0.00248, 1e-4));
        assert!(!steady.is_wide());
    }

    #[test]
    fn a_zero_mean_with_spread_has_an_infinite_ratio() {
        let interval = mean_interval(&[-1.0, 1.0]);
        assert_eq!(interval.half_width_ratio(), f64::INFINITY);
        assert!(interval.is_wide());
    }
}
