//! QPS against the number of concurrent clients, one line per setting: where throughput stops
//! growing with clients.

use plotters::prelude::*;

use crate::ReportError;
use crate::charts::scatter::compact;
use crate::charts::{FONT, SIZE, failed, padded_range, series_colour};

/// One setting's QPS at each client count.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientLine {
    /// Its palette index.
    pub series: usize,
    /// (clients, QPS), by ascending clients.
    pub points: Vec<(u32, f64)>,
}

/// Draws `lines` with clients on x and QPS on y.
pub fn qps_by_clients(lines: &[ClientLine]) -> Result<String, ReportError> {
    let clients = lines.iter().flat_map(|line| line.points.iter().map(|(clients, _)| f64::from(*clients)));
    let (x_low, x_high) = padded_range(clients, Some(0.0));
    let qps = lines.iter().flat_map(|line| line.points.iter().map(|(_, qps)| *qps));
    let (y_low, y_high) = padded_range(qps, Some(0.0));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let fail = failed("qps-clients");
        root.fill(&WHITE).map_err(&fail)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(x_low..x_high, y_low..y_high)
            .map_err(&fail)?;
        chart
            .configure_mesh()
            .x_desc("concurrent clients")
            .y_desc("queries per second")
            .axis_desc_style((FONT, 14))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| compact(*y))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(&fail)?;
        for line in lines {
            let colour = series_colour(line.series);
            let at: Vec<(f64, f64)> = line.points.iter().map(|(clients, qps)| (f64::from(*clients), *qps)).collect();
            chart.draw_series(LineSeries::new(at.clone(), colour.stroke_width(2))).map_err(&fail)?;
            chart.draw_series(at.into_iter().map(|point| Circle::new(point, 4, colour.filled()))).map_err(&fail)?;
        }
        root.present().map_err(&fail)?;
    }
    Ok(svg)
}
