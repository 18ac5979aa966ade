//! What can go wrong drawing a report.

use plotters::drawing::DrawingAreaErrorKind;

/// An error drawing a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// plotters refused to draw a chart.
    #[error("drawing the {chart} chart")]
    Chart {
        /// Which chart.
        chart: &'static str,
        /// Why.
        #[source]
        source: DrawingAreaErrorKind<std::io::Error>,
    },
    /// Nothing to report on.
    #[error("a report needs at least one run or a study")]
    Empty,
}
