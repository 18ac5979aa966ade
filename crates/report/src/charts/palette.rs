//! The colours of series, the same in every chart and in the HTML legends.

use plotters::style::{Color, Palette, Palette99, RGBColor};

/// The colour of series `index` (plotters' 99-colour palette, which keeps neighbours apart).
pub fn series_colour(index: usize) -> RGBColor {
    let (r, g, b) = Palette99::pick(index).to_rgba().rgb();
    RGBColor(r, g, b)
}

/// `colour` as a CSS colour.
pub(crate) fn css(colour: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", colour.0, colour.1, colour.2)
}

/// The CSS colour of series `index`.
pub fn series_css(index: usize) -> String {
    css(series_colour(index))
}
