//! Bars grouped by category, one bar per series in each group: latency percentiles per setting,
//! the spread of per-query recall per run.

use plotters::prelude::*;

use crate::ReportError;
use crate::charts::scatter::compact;
use crate::charts::{FONT, SIZE, failed, series_colour};

/// What to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedBars<'a> {
    /// The chart's name (for errors).
    pub name: &'static str,
    /// The categories along x.
    pub groups: &'a [String],
    /// Each series' value per group, and its palette index.
    pub series: &'a [(usize, Vec<f64>)],
    /// The y axis' description.
    pub y_description: &'a str,
}

/// Draws `bars`: each group takes one slot per series plus a gap.
pub fn grouped_bars(bars: &GroupedBars<'_>) -> Result<String, ReportError> {
    let slots = bars.series.len() + 1;
    let width = (bars.groups.len() * slots).max(1) as i32;
    let high =
        bars.series.iter().flat_map(|(_, values)| values.iter().copied()).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let high = if high > 0.0 { high * 1.1 } else { 1.0 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let fail = failed(bars.name);
        root.fill(&WHITE).map_err(&fail)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(14)
            .x_label_area_size(56)
            .y_label_area_size(70)
            .build_cartesian_2d((0..width).into_segmented(), 0.0..high)
            .map_err(&fail)?;
        let label = |value: &SegmentValue<i32>| match value {
            SegmentValue::CenterOf(slot) if (*slot as usize) % slots == (slots - 1) / 2 => {
                bars.groups.get(*slot as usize / slots).cloned().unwrap_or_default()
            }
            SegmentValue::CenterOf(_) | SegmentValue::Exact(_) | SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(width as usize + 1)
            .x_label_formatter(&label)
            .y_desc(bars.y_description)
            .axis_desc_style((FONT, 14))
            .y_label_formatter(&|y| compact(*y))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(&fail)?;
        for (position, (palette, values)) in bars.series.iter().enumerate() {
            let colour = series_colour(*palette);
            let rectangles = values.iter().enumerate().filter(|(_, value)| value.is_finite()).map(|(group, value)| {
                let slot = (group * slots + position) as i32;
                Rectangle::new(
                    [(SegmentValue::Exact(slot), 0.0), (SegmentValue::Exact(slot + 1), *value)],
                    colour.filled(),
                )
            });
            chart.draw_series(rectangles).map_err(&fail)?;
        }
        root.present().map_err(&fail)?;
    }
    Ok(svg)
}
