//! A run's report: every figure a completed run measured, typed, so that clients read numbers from
//! a documented shape rather than from free-form JSON.
//!
//! The report is stored as JSON with the run. Every field added after the first stored runs has a
//! default, so runs stored before it stay readable.

mod compare;
mod figures;
mod headline;
mod run_report;
mod setting;
mod subject;

pub use compare::{ComparedFigures, ComparedSetting, Gates, Significance, compare, failed_gates};
pub use figures::{LatencyFigures, PassReport};
pub use headline::{Headline, HeadlineRule, choose_headline};
pub use run_report::{
    DatasetReport, IndexSourceReport, MemoryEstimateReport, ProvenanceReport, ResultFiles, RunReport, TruthCheckReport,
    TruthReport, UploadReport,
};
pub use setting::SettingReport;
pub use subject::{MAX_REPORT_RUNS, MAX_REPORT_TITLE, ReportPayload, ReportSubject};
