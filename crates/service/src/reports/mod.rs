//! Reports: a `report` job reads stored results (runs' `result.json`, a study's report), renders
//! one self-contained page with `qbench-report` and stores it beside them as `<job id>/report.html`.

mod handler;
mod service;

pub use handler::ReportHandler;
pub use service::ReportService;
