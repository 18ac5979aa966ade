//! The pages: a layout with inline style, figures with HTML legends, and the report bodies.

mod runs;
mod settings;
mod study;

pub use runs::{RunSections, render_runs, run_sections};
pub use settings::{SettingRow, settings_rows};
pub use study::{render_study, study_body};

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::charts::series_css;

/// The stylesheet of reports and dashboard pages (inline: nothing is fetched).
pub const STYLE: &str = include_str!("style.css");

/// A complete page around `body`.
pub(crate) fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                link rel="icon" href="data:,";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { main { (body) } }
        }
    }
}

/// A chart with its legend: `svg` is plotters' output (trusted: drawn from numbers and the labels
/// it escapes itself), `chart` names it for tests and styles, `points` is how many data points it
/// draws.
pub(crate) fn figure(
    chart: &str,
    title: &str,
    svg: &str,
    legend: &[(usize, String)],
    points: usize,
    caption: &str,
) -> Markup {
    html! {
        figure.chart data-chart=(chart) data-points=(points) {
            h3 { (title) }
            (PreEscaped(svg))
            @if !legend.is_empty() {
                ul.legend {
                    @for (palette, label) in legend {
                        li { span.swatch style={ "background:" (series_css(*palette)) } {} (label) }
                    }
                }
            }
            @if !caption.is_empty() { figcaption { (caption) } }
        }
    }
}
