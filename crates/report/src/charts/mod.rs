//! The charts of a report, each an SVG document drawn by plotters (its SVG backend writes text as
//! `<text>`, so no font file is needed and the page stays self-contained).
//!
//! Every chart answers its SVG and the series it drew, so that the page writes the legend in HTML
//! (readable, selectable) instead of inside the picture.

mod bars;
mod clients;
mod palette;
mod scatter;
pub mod timeline;

pub use bars::{GroupedBars, grouped_bars};
pub use clients::{ClientLine, qps_by_clients};
pub use palette::{series_colour, series_css};
pub use scatter::{Scatter, ScatterPoint, YAxis, scatter};
pub use timeline::{TimelineRow, timeline};

use plotters::drawing::DrawingAreaErrorKind;

use crate::ReportError;

/// Width and height of every chart, in SVG pixels (the page scales it to its column).
pub(crate) const SIZE: (u32, u32) = (720, 400);

/// The font every label uses.
pub(crate) const FONT: &str = "sans-serif";

/// Wraps a plotters error with the chart it came from.
pub(crate) fn failed(chart: &'static str) -> impl Fn(DrawingAreaErrorKind<std::io::Error>) -> ReportError {
    move |source| ReportError::Chart { chart, source }
}

/// A range around `values` with a little room on each side; `(0, 1)` when there are none.
pub(crate) fn padded_range(values: impl Iterator<Item = f64>, floor: Option<f64>) -> (f64, f64) {
    let (low, high) = values
        .filter(|value| value.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), value| (low.min(value), high.max(value)));
    if !low.is_finite() {
        return (0.0, 1.0);
    }
    let room = ((high - low) * 0.08).max(high.abs() * 0.02).max(1e-9);
    let low = floor.map_or(low - room, |floor| (low - room).max(floor));
    (low, high + room)
}

/// A range for a log axis around positive `values`: a factor of 1.3 of room each side.
pub(crate) fn log_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values
        .filter(|value| value.is_finite() && *value > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), value| (low.min(value), high.max(value)));
    if !low.is_finite() { (1.0, 10.0) } else { (low / 1.3, high * 1.3) }
}
