//! Where each run's time went: preparation, upload, index build and search, as stacked
//! horizontal bars on one time axis.

use plotters::prelude::*;

use crate::ReportError;
use crate::charts::scatter::compact;
use crate::charts::{FONT, failed, series_colour};

/// The phases drawn, in order, with their palette index.
pub const PHASES: [(&str, usize); 4] = [("prepare and clean up", 7), ("upload", 0), ("index", 1), ("search", 2)];

/// One run's phases, in seconds, in the order of [`PHASES`].
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    /// The run's label.
    pub label: String,
    /// Seconds per phase.
    pub seconds: [f64; 4],
}

/// Draws one bar per row.
pub fn timeline(rows: &[TimelineRow]) -> Result<String, ReportError> {
    let total = rows.iter().map(|row| row.seconds.iter().filter(|s| s.is_finite()).sum::<f64>()).fold(0.0, f64::max);
    let total = if total > 0.0 { total * 1.05 } else { 1.0 };
    let height = 90 + 46 * rows.len().max(1) as u32;
    let count = rows.len().max(1) as i32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, height)).into_drawing_area();
        let fail = failed("timeline");
        root.fill(&WHITE).map_err(&fail)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(150)
            .build_cartesian_2d(0.0..total, (0..count).into_segmented())
            .map_err(&fail)?;
        let label = |value: &SegmentValue<i32>| match value {
            SegmentValue::CenterOf(row) => rows.get(*row as usize).map(|row| row.label.clone()).unwrap_or_default(),
            SegmentValue::Exact(_) | SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows.len() + 1)
            .y_label_formatter(&label)
            .x_desc("seconds")
            .axis_desc_style((FONT, 14))
            .x_label_formatter(&|x| compact(*x))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(&fail)?;
        for (index, row) in rows.iter().enumerate() {
            let mut start = 0.0;
            let bars =
                row.seconds.iter().zip(PHASES).filter(|(seconds, _)| seconds.is_finite() && **seconds > 0.0).map(
                    |(seconds, (_, palette))| {
                        let bar = Rectangle::new(
                            [
                                (start, SegmentValue::Exact(index as i32)),
                                (start + seconds, SegmentValue::Exact(index as i32 + 1)),
                            ],
                            series_colour(palette).filled(),
                        );
                        start += seconds;
                        bar
                    },
                );
            let bars: Vec<_> = bars.collect();
            chart.draw_series(bars).map_err(&fail)?;
        }
        root.present().map_err(&fail)?;
    }
    Ok(svg)
}
