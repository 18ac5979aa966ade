//! Two runs side by side: each setting aligned by vector, setting and client count, with the
//! differences and whether each exceeds the measured noise; and the gates a team's CI checks.

use crate::metrics::MeanInterval;
use crate::report::{RunReport, SettingReport};

/// One setting's figures in one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComparedFigures {
    /// Mean recall@k.
    pub recall: f64,
    /// Mean QPS.
    pub qps: f64,
    /// p99 latency, in seconds.
    pub p99: f64,
    /// QPS over the passes.
    pub qps_interval: Option<MeanInterval>,
    /// p99 over the passes.
    pub p99_interval: Option<MeanInterval>,
}

impl From<&SettingReport> for ComparedFigures {
    fn from(setting: &SettingReport) -> Self {
        Self {
            recall: setting.recall,
            qps: setting.qps,
            p99: setting.latency.p99,
            qps_interval: setting.qps_interval,
            p99_interval: setting.p99_interval,
        }
    }
}

/// Whether a difference exceeds the measured noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Significance {
    /// The two 95 % intervals do not overlap.
    Beyond,
    /// They overlap: the difference is within the noise.
    Within,
    /// A side has no interval (one pass): the noise is unknown.
    Unknown,
}

fn significance(baseline: Option<MeanInterval>, candidate: Option<MeanInterval>) -> Significance {
    match (baseline.filter(MeanInterval::is_known), candidate.filter(MeanInterval::is_known)) {
        (Some(a), Some(b)) if a.high < b.low || b.high < a.low => Significance::Beyond,
        (Some(_), Some(_)) => Significance::Within,
        _ => Significance::Unknown,
    }
}

/// One aligned setting.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparedSetting {
    /// The vector searched.
    pub vector: String,
    /// The setting.
    pub setting: String,
    /// Concurrent clients.
    pub parallel: u32,
    /// The baseline's figures, when it measured this setting.
    pub baseline: Option<ComparedFigures>,
    /// The candidate's figures, when it measured this setting.
    pub candidate: Option<ComparedFigures>,
}

impl ComparedSetting {
    /// Candidate recall minus baseline recall.
    pub fn recall_delta(&self) -> Option<f64> {
        Some(self.candidate?.recall - self.baseline?.recall)
    }

    /// Candidate QPS over baseline QPS.
    pub fn qps_ratio(&self) -> Option<f64> {
        let (baseline, candidate) = (self.baseline?, self.candidate?);
        (baseline.qps > 0.0).then(|| candidate.qps / baseline.qps)
    }

    /// Candidate p99 over baseline p99.
    pub fn p99_ratio(&self) -> Option<f64> {
        let (baseline, candidate) = (self.baseline?, self.candidate?);
        (baseline.p99 > 0.0).then(|| candidate.p99 / baseline.p99)
    }

    /// Whether the QPS difference exceeds the noise.
    pub fn qps_significance(&self) -> Significance {
        match (self.baseline, self.candidate) {
            (Some(a), Some(b)) => significance(a.qps_interval, b.qps_interval),
            _ => Significance::Unknown,
        }
    }

    /// Whether the p99 difference exceeds the noise.
    pub fn p99_significance(&self) -> Significance {
        match (self.baseline, self.candidate) {
            (Some(a), Some(b)) => significance(a.p99_interval, b.p99_interval),
            _ => Significance::Unknown,
        }
    }
}

/// Aligns the settings of `baseline` and `candidate` by vector, setting and client count: the
/// baseline's order first, then settings only the candidate measured.
pub fn compare(baseline: &RunReport, candidate: &RunReport) -> Vec<ComparedSetting> {
    let key = |setting: &SettingReport| (setting.vector.clone(), setting.setting.clone(), setting.parallel);
    let mut rows: Vec<ComparedSetting> = baseline
        .results
        .iter()
        .map(|setting| ComparedSetting {
            vector: setting.vector.clone(),
            setting: setting.setting.clone(),
            parallel: setting.parallel,
            baseline: Some(ComparedFigures::from(setting)),
            candidate: candidate.results.iter().find(|other| key(other) == key(setting)).map(ComparedFigures::from),
        })
        .collect();
    for setting in &candidate.results {
        if !baseline.results.iter().any(|other| key(other) == key(setting)) {
            rows.push(ComparedSetting {
                vector: setting.vector.clone(),
                setting: setting.setting.clone(),
                parallel: setting.parallel,
                baseline: None,
                candidate: Some(ComparedFigures::from(setting)),
            });
        }
    }
    rows
}

/// What a candidate may lose against its baseline.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Gates {
    /// Largest recall drop allowed (absolute, e.g. 0.005).
    pub max_recall_drop: Option<f64>,
    /// Largest p99 increase allowed, as a fraction (0.10 for 10 %).
    pub max_p99_increase: Option<f64>,
    /// Smallest candidate/baseline QPS ratio allowed (0.9).
    pub min_qps_ratio: Option<f64>,
}

/// Every gate a comparison fails, one line each naming the setting and the figures; a setting the
/// candidate did not measure fails too (a gate cannot pass on a missing figure).
pub fn failed_gates(rows: &[ComparedSetting], gates: &Gates) -> Vec<String> {
    let mut failures = Vec::new();
    for row in rows.iter().filter(|row| row.baseline.is_some()) {
        let name = format!("{} {} ×{}", row.vector, row.setting, row.parallel);
        if row.candidate.is_none() {
            failures.push(format!("{name}: not measured by the candidate"));
            continue;
        }
        if let (Some(limit), Some(delta)) = (gates.max_recall_drop, row.recall_delta())
            && -delta > limit
        {
            failures.push(format!("{name}: recall dropped by {:.4} (more than {limit})", -delta));
        }
        if let (Some(limit), Some(ratio)) = (gates.max_p99_increase, row.p99_ratio())
            && ratio - 1.0 > limit
        {
            failures.push(format!(
                "{name}: p99 rose by {:.1} % (more than {:.1} %)",
                (ratio - 1.0) * 100.0,
                limit * 100.0
            ));
        }
        if let (Some(limit), Some(ratio)) = (gates.min_qps_ratio, row.qps_ratio())
            && ratio < limit
        {
            failures.push(format!("{name}: QPS ratio {ratio:.3} (below {limit})"));
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::LatencyFigures;

    fn setting(name: &str, recall: f64, qps: f64, p99: f64, spread: Option<f64>) -> SettingReport {
        let interval =
            |mean: f64| spread.map(|s| MeanInterval { mean, low: mean - s * mean, high: mean + s * mean, samples: 3 });
        SettingReport {
            vector: "text".to_owned(),
            setting: name.to_owned(),
            parallel: 1,
            recall,
            qps,
            latency: LatencyFigures { p99, ..LatencyFigures::default() },
            qps_interval: interval(qps),
            p99_interval: interval(p99),
            ..SettingReport::default()
        }
    }

    fn report(results: Vec<SettingReport>) -> RunReport {
        RunReport { results, ..RunReport::default() }
    }

    #[test]
    fn settings_are_aligned_by_name_with_those_of_one_side_only_kept() {
        let baseline = report(vec![
            setting("hnsw_ef=64", 0.95, 1000.0, 0.001, None),
            setting("hnsw_ef=128", 0.99, 800.0, 0.002, None),
        ]);
        let candidate = report(vec![
            setting("hnsw_ef=128", 0.98, 900.0, 0.002, None),
            setting("hnsw_ef=256", 1.0, 500.0, 0.003, None),
        ]);
        let rows = compare(&baseline, &candidate);
        let names: Vec<(&str, bool, bool)> =
            rows.iter().map(|row| (row.setting.as_str(), row.baseline.is_some(), row.candidate.is_some())).collect();
        assert_eq!(names, [("hnsw_ef=64", true, false), ("hnsw_ef=128", true, true), ("hnsw_ef=256", false, true)]);
        assert!((rows[1].recall_delta().unwrap() + 0.01).abs() < 1e-12);
        assert!((rows[1].qps_ratio().unwrap() - 1.125).abs() < 1e-12);
    }

    #[test]
    fn a_difference_is_beyond_the_noise_only_when_the_intervals_do_not_overlap() {
        let rows = compare(
            &report(vec![setting("a", 0.9, 1000.0, 0.001, Some(0.02)), setting("b", 0.9, 1000.0, 0.001, Some(0.02))]),
            &report(vec![setting("a", 0.9, 1100.0, 0.001, Some(0.02)), setting("b", 0.9, 1010.0, 0.001, None)]),
        );
        assert_eq!(rows[0].qps_significance(), Significance::Beyond, "980–1020 against 1078–1122");
        assert_eq!(rows[0].p99_significance(), Significance::Within);
        assert_eq!(rows[1].qps_significance(), Significance::Unknown, "one side has one pass");
    }

    #[test]
    fn gates_name_each_setting_and_figure_that_fails() {
        let rows = compare(
            &report(vec![setting("a", 0.99, 1000.0, 0.0010, None), setting("b", 0.95, 1000.0, 0.0010, None)]),
            &report(vec![setting("a", 0.98, 850.0, 0.0012, None)]),
        );
        let gates = Gates { max_recall_drop: Some(0.005), max_p99_increase: Some(0.10), min_qps_ratio: Some(0.9) };
        let failures = failed_gates(&rows, &gates);
        assert_eq!(failures.len(), 4, "{failures:?}");
        assert!(failures[0].contains("text a ×1: recall dropped by 0.0100"), "{failures:?}");
        assert!(failures[1].contains("p99 rose by 20.0 %"), "{failures:?}");
        assert!(failures[2].contains("QPS ratio 0.850"), "{failures:?}");
        assert!(failures[3].contains("text b ×1: not measured by the candidate"), "{failures:?}");
        let lenient = Gates { max_recall_drop: Some(0.02), max_p99_increase: Some(0.25), min_qps_ratio: Some(0.8) };
        assert_eq!(failed_gates(&rows[..1], &lenient), Vec::<String>::new());
    }
}
