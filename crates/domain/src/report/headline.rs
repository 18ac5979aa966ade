//! Which setting a run's headline figures (`f1`, `p_95_latency`, `qps`) describe.

use crate::report::SettingReport;

/// How the headline setting was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadlineRule {
    /// The `hnsw_ef` the experiment marks primary (`search_config.primary_hnsw_ef`), on the first
    /// vector searched.
    Primary,
    /// No setting is marked: the one with the best F1 (ties: the higher QPS, then the earlier).
    BestF1,
    /// A run stored before the rule: its first setting.
    First,
}

/// The setting the headline figures describe.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Headline {
    /// Its vector.
    pub vector: String,
    /// Its setting's name.
    pub setting: String,
    /// Its client count.
    pub parallel: u32,
    /// Why this one.
    pub rule: HeadlineRule,
}

/// The index in `results` of the setting the headline describes: the first with the primary
/// `hnsw_ef` when one is given and measured, else the best F1 — never silently the worst.
pub fn choose_headline(results: &[SettingReport], primary_hnsw_ef: Option<u32>) -> Option<(usize, HeadlineRule)> {
    if let Some(primary) = primary_hnsw_ef
        && let Some(index) = results.iter().position(|result| result.hnsw_ef == Some(primary))
    {
        return Some((index, HeadlineRule::Primary));
    }
    let mut best: Option<usize> = None;
    for (index, result) in results.iter().enumerate() {
        let better = match best.and_then(|best| results.get(best)) {
            None => true,
            Some(current) => result.f1 > current.f1 || (result.f1 == current.f1 && result.qps > current.qps),
        };
        if better {
            best = Some(index);
        }
    }
    best.map(|index| (index, HeadlineRule::BestF1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(hnsw_ef: u32, f1: f64, qps: f64) -> SettingReport {
        SettingReport { hnsw_ef: Some(hnsw_ef), f1, qps, ..SettingReport::default() }
    }

    #[test]
    fn the_primary_setting_is_the_headline_even_when_another_scores_better() {
        let results = [setting(32, 0.80, 900.0), setting(64, 0.95, 700.0), setting(128, 0.99, 500.0)];
        assert_eq!(choose_headline(&results, Some(64)), Some((1, HeadlineRule::Primary)));
    }

    #[test]
    fn without_a_primary_the_best_f1_is_the_headline_not_the_first() {
        let results = [setting(32, 0.80, 900.0), setting(128, 0.99, 500.0), setting(64, 0.95, 700.0)];
        assert_eq!(choose_headline(&results, None), Some((1, HeadlineRule::BestF1)));
        // A primary that was not measured falls back to the rule, and ties go to the faster.
        let tied = [setting(64, 0.99, 700.0), setting(128, 0.99, 800.0)];
        assert_eq!(choose_headline(&tied, Some(256)), Some((1, HeadlineRule::BestF1)));
        assert_eq!(choose_headline(&[], None), None);
    }
}
