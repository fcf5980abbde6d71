//! A chart's legend: one entry per distinct series, interval, shaded window and mark,
//! drawn in its own column beside the plot areas, long entries wrapped.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::chart::{Body, Chart, Draw, Look, XAxis};
use super::render::{Area, RUG, Result2, SHADE, anchored, draw_marker, marked};
use super::text;

/// A legend line's height, and the gap between entries.
const LEGEND_LINE: u32 = 18;
const LEGEND_GAP: u32 = 6;
/// The widest a legend's text may be before it wraps.
const LEGEND_TEXT: u32 = 290;

/// A legend entry's swatch: how the thing it names is drawn.
#[derive(Clone, Debug)]
pub(super) enum Swatch {
    Series(Look, Draw, bool),
    /// An interval: a shaded band, or an error bar on a categorical axis.
    Band(RGBColor, bool),
    Shade,
    Rug,
    Fill(RGBColor),
}

impl Chart {
    /// The legend: one entry per distinct series name, band, shaded window and mark.
    pub(super) fn legend(&self) -> Vec<(Swatch, String)> {
        let mut out: Vec<(Swatch, String)> = Vec::new();
        let mut push = |swatch: Swatch, text: &str| {
            if !text.is_empty() && !out.iter().any(|(_, t)| t == text) {
                out.push((swatch, text.to_owned()));
            }
        };
        match &self.body {
            Body::Panels { x, panels, .. } => {
                let categorical = matches!(x, XAxis::Categories(_));
                for p in panels {
                    for s in &p.series {
                        push(
                            Swatch::Series(Look::line(s.look), s.draw, marked(s, categorical)),
                            &s.name,
                        );
                    }
                }
                for p in panels {
                    for s in p.series.iter().filter(|s| !s.band.is_empty()) {
                        push(
                            Swatch::Band(Look::line(s.look).color, categorical),
                            &s.band_label,
                        );
                    }
                    for shade in &p.shades {
                        push(Swatch::Shade, &shade.label);
                    }
                    if !p.rug.0.is_empty() {
                        push(Swatch::Rug, &p.rug.1);
                    }
                }
            }
            Body::Bars { parts, .. } => {
                for (i, (name, _)) in parts.iter().enumerate() {
                    push(Swatch::Fill(Look::fill(i)), name);
                }
            }
        }
        out
    }

    pub(super) fn legend_width(legend: &[(Swatch, String)]) -> u32 {
        if legend.is_empty() {
            return 0;
        }
        let widest = legend
            .iter()
            .flat_map(|(_, t)| wrap(t, LEGEND_TEXT))
            .map(|line| text::width(&line, 14.0, false))
            .max()
            .unwrap_or(0);
        widest.max(80) + 60
    }

    pub(super) fn legend_height(legend: &[(Swatch, String)]) -> u32 {
        24 + legend
            .iter()
            .map(|(_, t)| LEGEND_LINE * wrap(t, LEGEND_TEXT).len() as u32 + LEGEND_GAP)
            .sum::<u32>()
    }
}

pub(super) fn draw_legend<DB: DrawingBackend>(
    area: &Area<DB>,
    legend: &[(Swatch, String)],
) -> Result2<DB> {
    let mut y = 24;
    for (swatch, label) in legend {
        let (x0, x1) = (6, 34);
        match swatch {
            Swatch::Series(look, draw, markers) => {
                if *draw != Draw::Markers {
                    area.draw(&PathElement::new(
                        vec![(x0, y), (x1, y)],
                        look.color.stroke_width(2),
                    ))?;
                }
                if *markers {
                    draw_marker(area, ((x0 + x1) / 2, y), *look)?;
                }
            }
            Swatch::Band(c, false) => {
                area.draw(&Rectangle::new(
                    [(x0, y - 7), (x1, y + 7)],
                    c.mix(0.2).filled(),
                ))?;
            }
            Swatch::Band(c, true) => {
                let (m, line) = ((x0 + x1) / 2, c.stroke_width(2));
                area.draw(&PathElement::new(vec![(m, y - 7), (m, y + 7)], line))?;
                for end in [y - 7, y + 7] {
                    area.draw(&PathElement::new(vec![(m - 5, end), (m + 5, end)], line))?;
                }
            }
            Swatch::Shade => {
                area.draw(&Rectangle::new([(x0, y - 7), (x1, y + 7)], SHADE.filled()))?;
            }
            Swatch::Rug => {
                let m = (x0 + x1) / 2;
                area.draw(&Polygon::new(
                    vec![(m - 4, y - 4), (m + 4, y - 4), (m, y + 3)],
                    RUG.filled(),
                ))?;
            }
            Swatch::Fill(c) => {
                area.draw(&Rectangle::new(
                    [(x0 + 4, y - 7), (x1 - 4, y + 7)],
                    c.filled(),
                ))?;
            }
        }
        for line in wrap(label, LEGEND_TEXT) {
            area.draw(&Text::new(
                fit(&line, LEGEND_TEXT),
                (x1 + 10, y),
                anchored(14, HPos::Left, VPos::Center),
            ))?;
            y += LEGEND_LINE as i32;
        }
        y += LEGEND_GAP as i32;
    }
    Ok(())
}

/// `text` in lines of at most `width` pixels, broken between words.
fn wrap(text: &str, width: u32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if text::width(&format!("{line} {word}"), 14.0, false) <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

/// `text`, cut with an ellipsis to at most `width` pixels.
fn fit(text: &str, width: u32) -> String {
    if text::width(text, 14.0, false) <= width {
        return text.to_owned();
    }
    let mut out: String = text.to_owned();
    while !out.is_empty() && text::width(&format!("{out}…"), 14.0, false) > width {
        out.pop();
    }
    format!("{out}…")
}
