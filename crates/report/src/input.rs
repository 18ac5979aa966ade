//! What a report is drawn from.

use chrono::{DateTime, Utc};
use qbench_domain::report::RunReport;
use qbench_domain::study::StudyReport;
use qbench_domain::{ExperimentSpec, Run};

/// A completed run, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRun {
    /// Its id.
    pub id: String,
    /// What the reader calls it (the experiment's name).
    pub label: String,
    /// When it was triggered.
    pub created_at: Option<DateTime<Utc>>,
    /// The settings it ran, when stored.
    pub settings: Option<ExperimentSpec>,
    /// What it measured.
    pub report: RunReport,
}

impl ReportRun {
    /// `run` with `report`, what it measured: labelled by its experiment's name as it ran (its id
    /// for runs stored before runs kept their settings).
    pub fn of(run: &Run, report: RunReport) -> Self {
        let settings = run.settings().cloned();
        Self {
            id: run.id().to_string(),
            label: settings.as_ref().map_or_else(|| run.id().to_string(), |settings| settings.name.clone()),
            created_at: Some(run.created_at()),
            settings,
            report,
        }
    }
}

/// A finished study, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportStudy {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it found.
    pub report: StudyReport,
}
