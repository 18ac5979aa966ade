//! What a report is drawn from.

use chrono::{DateTime, Utc};
use qbench_domain::ExperimentSpec;
use qbench_domain::report::RunReport;
use qbench_domain::study::StudyReport;

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
