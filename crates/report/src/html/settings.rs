//! Every setting of a group of runs, one row per setting, marking those that differ: what the
//! reader compares first when two runs disagree.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::ReportRun;

/// One setting across runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingRow {
    /// Its path (`optimizer_config.hnsw_config.m`).
    pub key: String,
    /// Its value in each run, in order (`—` where a run has none).
    pub values: Vec<String>,
    /// Whether the runs disagree on it.
    pub differs: bool,
}

/// The settings of `runs` (the experiment's, then the engine and what it measured with), each
/// flattened to a path, in path order.
pub fn settings_rows(runs: &[ReportRun]) -> Vec<SettingRow> {
    let per_run: Vec<BTreeMap<String, String>> = runs.iter().map(flattened).collect();
    let mut keys: Vec<&String> = per_run.iter().flat_map(BTreeMap::keys).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|key| {
            let values: Vec<String> =
                per_run.iter().map(|run| run.get(key).cloned().unwrap_or_else(|| "—".to_owned())).collect();
            let differs = values.iter().any(|value| value != &values[0]);
            SettingRow { key: key.clone(), values, differs }
        })
        .collect()
}

/// One run's settings as path → value. Ids of the dataset and connection are kept (a different
/// dataset is the first difference to see); the name is not a setting.
fn flattened(run: &ReportRun) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(settings) = &run.settings
        && let Ok(value) = serde_json::to_value(settings)
    {
        flatten("", &value, &mut out);
        out.remove("name");
    }
    let provenance = &run.report.provenance;
    out.insert("engine".to_owned(), format!("{} {}", provenance.engine, provenance.engine_version));
    out.insert("engine.cores".to_owned(), provenance.cores.to_string());
    out.insert("engine.quantization".to_owned(), provenance.quantization.clone());
    out.insert("dataset.fingerprint".to_owned(), run.report.dataset.fingerprint.clone());
    out.insert(
        "dataset.queries".to_owned(),
        format!("{} ({})", run.report.dataset.queries, run.report.dataset.queries_from),
    );
    out.insert("dataset.ground_truth".to_owned(), run.report.dataset.ground_truth.clone());
    out.insert("qbench".to_owned(), provenance.qbench_version.clone());
    out
}

fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields {
                let key = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
                flatten(&key, field, out);
            }
        }
        Value::Null => {}
        Value::String(text) => {
            out.insert(prefix.to_owned(), text.clone());
        }
        Value::Bool(_) | Value::Number(_) | Value::Array(_) => {
            out.insert(prefix.to_owned(), value.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use qbench_domain::report::RunReport;
    use qbench_domain::{ConnectionId, DatasetId, ExperimentSpec};

    use super::*;

    fn run(batch_size: u32) -> ReportRun {
        let mut settings = ExperimentSpec::new("x", DatasetId::new(), ConnectionId::new());
        settings.upload_config.batch_size = Some(batch_size);
        ReportRun {
            id: "r".into(),
            label: "r".into(),
            created_at: None,
            settings: Some(settings),
            report: RunReport::default(),
        }
    }

    #[test]
    fn runs_that_differ_in_one_setting_mark_that_row_only() {
        let mut runs = vec![run(64), run(256)];
        runs[1].settings.as_mut().unwrap().dataset_id = runs[0].settings.as_ref().unwrap().dataset_id;
        runs[1].settings.as_mut().unwrap().connection_id = runs[0].settings.as_ref().unwrap().connection_id;
        let rows = settings_rows(&runs);
        let differing: Vec<&str> = rows.iter().filter(|row| row.differs).map(|row| row.key.as_str()).collect();
        assert_eq!(differing, ["upload_config.batch_size"]);
        let batch = rows.iter().find(|row| row.key == "upload_config.batch_size").unwrap();
        assert_eq!(batch.values, ["64", "256"]);
        assert!(rows.iter().all(|row| row.key != "name"), "the name is not a setting");
    }
}
