//! qbench's reports: one self-contained HTML page per run, group of runs or study, its charts
//! drawn as inline SVG by plotters and its markup written with maud. Nothing is loaded from the
//! network (no script, font or stylesheet), so a report can be mailed, archived or opened offline.
//!
//! Pure: it turns stored results into text. The render job (`qbench-service`) reads and writes
//! them; the dashboard (`qbench-app`) embeds the same charts in its pages.

pub mod charts;
mod error;
pub mod format;
mod html;
mod input;

pub use error::ReportError;
pub use html::{RunSections, STYLE, SettingRow, render_runs, render_study, run_sections, settings_rows, study_body};
pub use input::{ReportRun, ReportStudy};
