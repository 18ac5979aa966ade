//! Recall (x) against another figure (y), one point per measured setting, the Pareto front drawn
//! and the points it dominates faded — the chart ann-benchmarks and VectorDBBench put first.

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;

use qbench_domain::study::front_of;

use crate::ReportError;
use crate::charts::{FONT, SIZE, failed, log_range, padded_range, series_colour};

/// One point of a scatter.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterPoint {
    /// Its series (colour and legend line).
    pub series: usize,
    /// Recall, the x axis.
    pub recall: f64,
    /// The y figure.
    pub value: f64,
}

/// What the y axis shows and which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YAxis {
    /// Queries per second, log scale, higher is better.
    Qps,
    /// 99th-percentile latency in seconds (drawn in ms), log scale, lower is better.
    P99,
    /// RAM in bytes (drawn in MiB), lower is better.
    Memory,
}

impl YAxis {
    fn description(self, log: bool) -> &'static str {
        match (self, log) {
            (Self::Qps, true) => "queries per second (log)",
            (Self::Qps, false) => "queries per second",
            (Self::P99, true) => "p99 latency, ms (log)",
            (Self::P99, false) => "p99 latency, ms",
            (Self::Memory, _) => "RAM, MiB",
        }
    }

    /// The value as drawn.
    fn drawn(self, value: f64) -> f64 {
        match self {
            Self::Qps => value,
            Self::P99 => value * 1000.0,
            Self::Memory => value / (1024.0 * 1024.0),
        }
    }

    /// The value turned so that higher is better, for the front.
    fn better_higher(self, value: f64) -> f64 {
        match self {
            Self::Qps => value,
            Self::P99 | Self::Memory => -value,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Qps => "recall-qps",
            Self::P99 => "recall-p99",
            Self::Memory => "recall-memory",
        }
    }
}

/// A drawn scatter.
#[derive(Debug, Clone, PartialEq)]
pub struct Scatter {
    /// The SVG document.
    pub svg: String,
    /// Indexes of the points on the Pareto front, by ascending recall.
    pub front: Vec<usize>,
}

/// Draws `points` with recall on x and `axis` on y; the front over every point is a line, and the
/// points off it are faded.
pub fn scatter(points: &[ScatterPoint], axis: YAxis) -> Result<Scatter, ReportError> {
    let coordinates: Vec<Option<(f64, f64)>> =
        points.iter().map(|point| Some((point.recall, axis.better_higher(point.value)))).collect();
    let front = front_of(&coordinates);
    let drawn: Vec<(f64, f64)> = points.iter().map(|point| (point.recall, axis.drawn(point.value))).collect();
    let (x_low, x_high) = padded_range(drawn.iter().map(|(x, _)| *x), Some(0.0));
    let x_high = x_high.min(1.0).max(x_low + 1e-6).max(drawn.iter().map(|(x, _)| *x).fold(0.0, f64::max) + 0.005);
    let line: Vec<(f64, f64)> = front.iter().map(|&index| drawn[index]).collect();
    let dots = dots(points, &drawn, &front);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let fail = failed(axis.name());
        root.fill(&WHITE).map_err(&fail)?;
        let mut builder = ChartBuilder::on(&root);
        builder.margin(14).x_label_area_size(44).y_label_area_size(70);
        let (y_low, y_high) = log_range(drawn.iter().map(|(_, y)| *y));
        // A log axis over less than a decade shows one label or none: linear reads better there.
        if axis != YAxis::Memory && y_high / y_low >= 20.0 {
            let mut chart = builder.build_cartesian_2d(x_low..x_high, (y_low..y_high).log_scale()).map_err(&fail)?;
            draw(&mut chart, axis.description(true), line, dots).map_err(&fail)?;
        } else {
            let (y_low, y_high) = padded_range(drawn.iter().map(|(_, y)| *y), Some(0.0));
            let mut chart = builder.build_cartesian_2d(x_low..x_high, y_low..y_high).map_err(&fail)?;
            draw(&mut chart, axis.description(false), line, dots).map_err(&fail)?;
        }
        root.present().map_err(&fail)?;
    }
    Ok(Scatter { svg, front })
}

type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// The mesh, the front's line and the points, on either kind of y axis.
fn draw<Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, Y>>,
    y_description: &str,
    line: Vec<(f64, f64)>,
    dots: Vec<Circle<(f64, f64), u32>>,
) -> Drawn
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc("recall")
        .y_desc(y_description)
        .axis_desc_style((FONT, 14))
        .label_style((FONT, 13))
        .x_label_formatter(&|x| format!("{x:.3}"))
        .y_label_formatter(&|y| compact(*y))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    chart.draw_series(LineSeries::new(line, BLACK.mix(0.55).stroke_width(2)))?;
    chart.draw_series(dots)?;
    Ok(())
}

/// One circle per point: solid on the front, faded off it.
fn dots(points: &[ScatterPoint], drawn: &[(f64, f64)], front: &[usize]) -> Vec<Circle<(f64, f64), u32>> {
    points
        .iter()
        .zip(drawn)
        .enumerate()
        .map(|(index, (point, &at))| {
            let colour = series_colour(point.series);
            let style = if front.contains(&index) { colour.filled() } else { colour.mix(0.3).filled() };
            Circle::new(at, 5, style)
        })
        .collect()
}

/// An axis label: few digits, thousands as `k`.
pub(crate) fn compact(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 10_000.0 {
        format!("{:.0}k", value / 1000.0)
    } else if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 1.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
    }
}
