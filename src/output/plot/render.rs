//! Drawing a [`Chart`] into PNG or SVG: the title and its note on top, the panels (or
//! bars) on the left, the legend in a column of its own on the right, so no legend ever
//! covers data. plotters draws the axes and grids and maps values to pixels; the marks
//! themselves (lines, bands, markers, shades, bars) are drawn here in pixels.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::bars::draw_bars;
use super::chart::{Axis, Body, Chart, Draw, Look, Marker, Panel, Scale, Series, Ticks, XAxis};
use super::legend::draw_legend;
use super::text::{self, Glyphs, Recorded};
use super::{ImageFormat, PlotError};
use crate::output::report::{OutputError, temp_file_in, write_atomic};

pub(super) const FONT: &str = "sans-serif";
/// Width of the panels' column; the legend's is added to it.
pub(super) const MAIN_WIDTH: u32 = 900;
const TITLE_HEIGHT: u32 = 40;
const NOTE_HEIGHT: u32 = 24;
/// Series with more points than this are drawn without a marker on every point.
const MARKED_POINTS: usize = 40;
pub(super) const GRID: RGBAColor = RGBAColor(0, 0, 0, 0.14);
const LIGHT_GRID: RGBAColor = RGBAColor(0, 0, 0, 0.05);
pub(super) const SHADE: RGBAColor = RGBAColor(0, 0, 0, 0.13);
pub(super) const INK: RGBColor = RGBColor(40, 40, 40);

pub(super) type Area<DB> = DrawingArea<DB, Shift>;
pub(super) type Result2<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// plotters lays text out (its label areas, captions) with its own registered fonts; the
/// same faces are drawn by [`text`].
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (style, bytes) in [
            (FontStyle::Normal, dejavu::sans::regular()),
            (FontStyle::Bold, dejavu::sans::bold()),
        ] {
            // The embedded font is valid; a failure here would be a packaging bug.
            if plotters::style::register_font(FONT, style, bytes).is_err() {
                panic!("the embedded DejaVu Sans font does not load");
            }
        }
    });
}

pub(super) fn font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&INK)
}

pub(super) fn anchored(size: u32, h: HPos, v: VPos) -> TextStyle<'static> {
    font(size).pos(Pos::new(h, v))
}

/// Whether a series gets a marker on each point: on a categorical axis or when marks
/// are all it is, and on a line of few points.
pub(super) fn marked(s: &Series, categorical: bool) -> bool {
    categorical
        || s.draw == Draw::Markers
        || (s.draw == Draw::Line && s.points.len() <= MARKED_POINTS)
}

impl Chart {
    fn head_height(&self) -> u32 {
        TITLE_HEIGHT + if self.note.is_empty() { 0 } else { NOTE_HEIGHT }
    }

    fn panel_height(panels: usize) -> u32 {
        if panels <= 1 { 420 } else { 320 }
    }

    fn bar_row_height(rows: usize) -> u32 {
        if rows <= 40 { 28 } else { 20 }
    }

    /// The image size: the body's, or the legend's if that is taller.
    pub(super) fn size(&self) -> (u32, u32) {
        let legend = self.legend();
        let body = match &self.body {
            Body::Panels { panels, .. } => {
                Self::panel_height(panels.len()) * panels.len().max(1) as u32
            }
            Body::Bars { rows, .. } => 110 + Self::bar_row_height(rows.len()) * rows.len() as u32,
        };
        let legend_height = Self::legend_height(&legend);
        (
            MAIN_WIDTH + Self::legend_width(&legend),
            self.head_height() + body.max(legend_height) + 8,
        )
    }

    /// Writes the chart into `dir` as `<file>.png` and/or `<file>.svg`, atomically.
    pub(super) fn render(
        &self,
        dir: &Path,
        format: ImageFormat,
    ) -> Result<Vec<PathBuf>, PlotError> {
        register_font();
        let size = self.size();
        let mut written = Vec::new();
        if format != ImageFormat::Svg {
            let path = dir.join(format!("{}.png", self.file));
            let draw_err = |message: String| PlotError::Draw {
                path: path.clone(),
                message,
            };
            let io = |source| OutputError::Io {
                path: path.clone(),
                source,
            };
            // The bitmap backend encodes by file name; draw into a temporary .png beside
            // the target and rename it, so a reader never sees half an image.
            let tmp = temp_file_in(dir, ".png").map_err(io)?;
            {
                let root = Glyphs::raster(BitMapBackend::new(tmp.path(), size)).into_drawing_area();
                self.draw(&root).map_err(|e| draw_err(e.to_string()))?;
                root.present().map_err(|e| draw_err(e.to_string()))?;
            }
            tmp.persist(&path).map_err(|e| io(e.error))?;
            written.push(path);
        }
        if format != ImageFormat::Png {
            let path = dir.join(format!("{}.svg", self.file));
            let svg = self.svg(&path)?;
            write_atomic(&path, svg.as_bytes())?;
            written.push(path);
        }
        Ok(written)
    }

    /// The chart as an SVG document; `path` names it in an error.
    pub(super) fn svg(&self, path: &Path) -> Result<String, PlotError> {
        register_font();
        let draw_err = |message: String| PlotError::Draw {
            path: path.to_owned(),
            message,
        };
        let mut svg = String::new();
        let runs = Recorded::default();
        {
            let root = Glyphs::record(SVGBackend::with_string(&mut svg, self.size()), &runs)
                .into_drawing_area();
            self.draw(&root).map_err(|e| draw_err(e.to_string()))?;
            root.present().map_err(|e| draw_err(e.to_string()))?;
        }
        text::embed_text(&mut svg, &runs);
        Ok(svg)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result2<DB> {
        root.fill(&WHITE)?;
        let (width, _) = root.dim_in_pixel();
        let legend = self.legend();
        let legend_width = Self::legend_width(&legend);
        root.draw(&Text::new(
            self.title.clone(),
            (width as i32 / 2, 10),
            (FONT, 22)
                .into_font()
                .style(FontStyle::Bold)
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        if !self.note.is_empty() {
            root.draw(&Text::new(
                self.note.clone(),
                (width as i32 / 2, TITLE_HEIGHT as i32 + 2),
                anchored(14, HPos::Center, VPos::Top),
            ))?;
        }
        let (_, below) = root.split_vertically(self.head_height());
        let (main, side) = below.split_horizontally(width - legend_width);
        match &self.body {
            Body::Panels { x, x_label, panels } => {
                let areas = main.split_evenly((panels.len().max(1), 1));
                let y_width = y_label_width(panels);
                let xt = x_ticks(x, &panels.iter().collect::<Vec<_>>());
                for (i, (panel, area)) in panels.iter().zip(&areas).enumerate() {
                    let last = i + 1 == panels.len();
                    let x_label = if last { x_label.as_str() } else { "" };
                    draw_panel(root, area, (x, &xt), x_label, y_width, panel)?;
                }
            }
            Body::Bars {
                rows,
                row_label,
                x_label,
                parts,
            } => draw_bars(root, &main, rows, row_label, x_label, parts)?,
        }
        draw_legend(&side, &legend)
    }
}

/// The x ticks of a panel set: numeric from every series' points, categories at 0..n.
fn x_ticks(x: &XAxis, panels: &[&Panel]) -> Ticks {
    match x {
        XAxis::Categories(names) => Ticks {
            range: (-0.5, names.len().max(1) as f64 - 0.5),
            at: (0..names.len()).map(|i| i as f64).collect(),
            light: Vec::new(),
        },
        XAxis::Numeric(axis) => {
            let xs = panels.iter().flat_map(|p| {
                p.series
                    .iter()
                    .flat_map(|s| s.points.iter().map(|p| p.0))
                    .chain(p.notes.iter().map(|n| n.x))
            });
            let (lo, hi) = bounds(xs.filter(|x| axis.scale == Scale::Linear || *x > 0.0));
            super::chart::ticks(axis, lo, hi, true)
        }
    }
}

fn y_ticks(panel: &Panel) -> Ticks {
    let axis = &panel.y;
    let ys = panel
        .series
        .iter()
        .flat_map(|s| {
            s.points
                .iter()
                .map(|p| p.1)
                .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
        })
        .chain(panel.notes.iter().map(|n| n.y))
        .filter(|y| axis.scale == Scale::Linear || *y > 0.0);
    let (lo, hi) = bounds(ys);
    // Counts, rates and latencies: a linear axis starts at zero.
    let lo = if axis.scale == Scale::Linear {
        lo.min(0.0)
    } else {
        lo
    };
    super::chart::ticks(axis, lo, hi, false)
}

/// The widest y tick label of `panels`, so that their plot areas line up.
fn y_label_width(panels: &[Panel]) -> u32 {
    panels
        .iter()
        .flat_map(|p| {
            y_ticks(p)
                .at
                .into_iter()
                .map(move |v| text::width(&y_tick_label(&p.y, v), 14.0, false))
        })
        .max()
        .unwrap_or(20)
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) }
}

fn fwd(axis: &Axis, v: f64) -> f64 {
    match axis.scale {
        Scale::Linear => v,
        Scale::Log => v.log10(),
    }
}

/// A linear coordinate whose grid lines are exactly the given ticks (plotters' own pick
/// round numbers of the linear value, which on a log10 axis are not decades).
pub(super) struct Keyed {
    pub(super) range: (f64, f64),
    pub(super) bold: Vec<f64>,
    pub(super) light: Vec<f64>,
}

impl Keyed {
    fn new(t: &Ticks) -> Keyed {
        Keyed {
            range: t.range,
            bold: t.at.clone(),
            light: t.light.clone(),
        }
    }
}

impl Ranged for Keyed {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let (lo, hi) = self.range;
        let share = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
        limit.0 + (share * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.0..self.range.1
    }
}

type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<Keyed, Keyed>>;

/// Maps data to pixels of `root`, clamped to the plot area; `None` for a value a log
/// axis cannot show.
struct Mapper<'a, 'b, DB: DrawingBackend> {
    chart: &'b Plot<'a, DB>,
    x: Option<&'b Axis>,
    y: &'b Axis,
    xr: (f64, f64),
    yr: (f64, f64),
}

impl<DB: DrawingBackend> Mapper<'_, '_, DB> {
    fn px(&self, x: f64, y: f64) -> Option<(i32, i32)> {
        let x = match self.x {
            Some(a) if a.scale == Scale::Log && x <= 0.0 => return None,
            Some(a) => fwd(a, x),
            None => x,
        };
        if self.y.scale == Scale::Log && y <= 0.0 {
            return None;
        }
        let y = fwd(self.y, y);
        if !x.is_finite() || !y.is_finite() {
            return None;
        }
        Some(
            self.chart
                .backend_coord(&(x.clamp(self.xr.0, self.xr.1), y.clamp(self.yr.0, self.yr.1))),
        )
    }

    /// The plot area's corners: left, top, right, bottom.
    fn frame(&self) -> (i32, i32, i32, i32) {
        let (l, t) = self.chart.backend_coord(&(self.xr.0, self.yr.1));
        let (r, b) = self.chart.backend_coord(&(self.xr.1, self.yr.0));
        (l, t, r, b)
    }
}

fn draw_panel<DB: DrawingBackend>(
    root: &Area<DB>,
    area: &Area<DB>,
    (x, xt): (&XAxis, &Ticks),
    x_label: &str,
    y_label_width: u32,
    panel: &Panel,
) -> Result2<DB> {
    let yt = y_ticks(panel);
    let categories = match x {
        XAxis::Categories(c) => Some(c),
        XAxis::Numeric(_) => None,
    };
    // Category names: one row if they fit under their slots, two staggered rows if they
    // fit in two slots, else written downwards.
    let plot_width = area.dim_in_pixel().0.saturating_sub(y_label_width + 90) as f64;
    let (cat_rows, rotated, cat_height) = match categories {
        Some(names) => {
            let slot = plot_width / names.len().max(1) as f64;
            let widest = names
                .iter()
                .map(|n| text::width(n, 14.0, false))
                .max()
                .unwrap_or(0) as f64;
            if widest + 8.0 <= slot {
                (1, false, 22)
            } else if widest + 8.0 <= 2.0 * slot {
                (2, false, 42)
            } else {
                (1, true, widest as u32 + 12)
            }
        }
        None => (1, false, 0),
    };
    let x_area = if categories.is_some() {
        cat_height + if x_label.is_empty() { 4 } else { 28 }
    } else if x_label.is_empty() {
        30
    } else {
        52
    };
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(8)
        .margin_right(24)
        .x_label_area_size(x_area)
        .y_label_area_size(y_label_width + 40);
    if !panel.title.is_empty() {
        builder.caption(&panel.title, (FONT, 16).into_font().color(&INK));
    }
    let mut chart = builder.build_cartesian_2d(Keyed::new(xt), Keyed::new(&yt))?;
    let x_axis = match x {
        XAxis::Numeric(a) => Some(a),
        XAxis::Categories(_) => None,
    };
    let x_fmt = |v: &f64| match x_axis {
        Some(a) => x_tick_label(a, *v),
        None => String::new(),
    };
    let y_fmt = |v: &f64| y_tick_label(&panel.y, *v);
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(panel.y_label.as_str())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .bold_line_style(GRID)
        .light_line_style(LIGHT_GRID)
        .axis_style(INK)
        .label_style(font(14))
        .axis_desc_style(font(15))
        .draw()?;
    let map = Mapper {
        chart: &chart,
        x: x_axis,
        y: &panel.y,
        xr: xt.range,
        yr: yt.range,
    };
    let (_, top, right, bottom) = map.frame();

    if let Some(names) = categories {
        for (i, name) in names.iter().enumerate() {
            let (px, _) = chart.backend_coord(&(i as f64, yt.range.0));
            let row = if cat_rows == 2 {
                (i % 2) as i32 * 20
            } else {
                0
            };
            let style = if rotated {
                anchored(14, HPos::Left, VPos::Center).transform(FontTransform::Rotate90)
            } else {
                anchored(14, HPos::Center, VPos::Top)
            };
            root.draw(&Text::new(name.clone(), (px, bottom + 8 + row), style))?;
        }
    }

    for shade in &panel.shades {
        let (Some((a, _)), Some((b, _))) = (map.px(shade.from, 1.0), map.px(shade.to, 1.0)) else {
            continue;
        };
        if b - a < 1 {
            continue;
        }
        root.draw(&Rectangle::new([(a, top), (b, bottom)], SHADE.filled()))?;
        root.draw(&Text::new(
            shade.tag.clone(),
            (a + 5, top + 6),
            anchored(12, HPos::Left, VPos::Top),
        ))?;
    }

    let n = panel.series.len();
    for (j, s) in panel.series.iter().enumerate() {
        // Side by side within a category, so no group hides another.
        let dodge = if categories.is_some() {
            let w = (0.6 / n as f64).min(0.18);
            (j as f64 - (n as f64 - 1.0) / 2.0) * w
        } else {
            0.0
        };
        let color = Look::line(s.look).color;
        if !s.band.is_empty() {
            if categories.is_some() {
                for &(x, lo, hi) in &s.band {
                    if let (Some(a), Some(b)) = (map.px(x + dodge, lo), map.px(x + dodge, hi)) {
                        let line = color.stroke_width(2);
                        root.draw(&PathElement::new(vec![a, b], line))?;
                        root.draw(&PathElement::new(
                            vec![(a.0 - 5, a.1), (a.0 + 5, a.1)],
                            line,
                        ))?;
                        root.draw(&PathElement::new(
                            vec![(b.0 - 5, b.1), (b.0 + 5, b.1)],
                            line,
                        ))?;
                    }
                }
            } else {
                let upper = s.band.iter().filter_map(|&(x, _, hi)| map.px(x, hi));
                let lower: Vec<_> = s
                    .band
                    .iter()
                    .filter_map(|&(x, lo, _)| map.px(x, lo))
                    .collect();
                let outline: Vec<(i32, i32)> = upper.chain(lower.into_iter().rev()).collect();
                if n == 1 {
                    // Alone in its panel, the band is drawn opaque, a quad per step:
                    // plotters' bitmap fill of one long thin polygon leaves seams.
                    let upper: Vec<_> = s
                        .band
                        .iter()
                        .filter_map(|&(x, _, hi)| map.px(x, hi))
                        .collect();
                    let lower: Vec<_> = s
                        .band
                        .iter()
                        .filter_map(|&(x, lo, _)| map.px(x, lo))
                        .collect();
                    for i in 1..upper.len().min(lower.len()) {
                        let quad = vec![upper[i - 1], upper[i], lower[i], lower[i - 1]];
                        root.draw(&Polygon::new(quad, tint(color).filled()))?;
                    }
                } else if outline.len() >= 3 {
                    // Translucent, so that overlapping intervals both show.
                    root.draw(&Polygon::new(outline, color.mix(0.2).filled()))?;
                }
            }
        }
        let pts: Vec<(i32, i32)> = s
            .points
            .iter()
            .filter_map(|&(x, y)| map.px(x + dodge, y))
            .collect();
        match s.draw {
            Draw::Line | Draw::Rule if categories.is_none() => {
                root.draw(&PathElement::new(pts.clone(), color.stroke_width(2)))?;
            }
            Draw::Steps => {
                let mut steps = Vec::with_capacity(pts.len() * 2);
                for (i, &p) in pts.iter().enumerate() {
                    if i > 0 {
                        steps.push((p.0, pts[i - 1].1));
                    }
                    steps.push(p);
                }
                if let Some(&(x, _)) = steps.last() {
                    // The last step falls to the bottom: nothing is slower than the maximum.
                    steps.push((x, bottom));
                }
                root.draw(&PathElement::new(steps, color.stroke_width(2)))?;
            }
            _ => {}
        }
        if marked(s, categories.is_some()) {
            for p in pts {
                draw_marker(root, p, Look::line(s.look))?;
            }
        }
    }

    for note in &panel.notes {
        let Some(p) = map.px(note.x, note.y) else {
            continue;
        };
        root.draw(&Circle::new(p, 4, BLACK.filled()))?;
        root.draw(&Circle::new(p, 5, WHITE.stroke_width(1)))?;
        let width = text::width(&note.text, 13.0, false) as i32;
        let (at, h) = if p.0 + 10 + width < right {
            ((p.0 + 10, p.1 - 2), HPos::Left)
        } else {
            ((p.0 - 10, p.1 - 2), HPos::Right)
        };
        root.draw(&Text::new(
            note.text.clone(),
            at,
            anchored(13, h, VPos::Bottom),
        ))?;
    }

    for &x in &panel.rug.0 {
        if let Some((px, _)) = map.px(x, 1.0) {
            root.draw(&Polygon::new(
                vec![(px - 4, top + 1), (px + 4, top + 1), (px, top + 8)],
                RUG.filled(),
            ))?;
        }
    }
    Ok(())
}

/// The herd marks' colour: vermillion, apart from the blue of the load line.
pub(super) const RUG: RGBColor = super::chart::PALETTE[1];

pub(super) fn draw_marker<DB: DrawingBackend>(
    root: &Area<DB>,
    (x, y): (i32, i32),
    look: Look,
) -> Result2<DB> {
    let fill = look.color.filled();
    let edge = WHITE.stroke_width(1);
    match look.marker {
        Marker::Circle => {
            root.draw(&Circle::new((x, y), 5, fill))?;
            root.draw(&Circle::new((x, y), 5, edge))?;
        }
        Marker::Square => {
            root.draw(&Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], fill))?;
            root.draw(&Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], edge))?;
        }
        Marker::Triangle => {
            let t = vec![(x, y - 6), (x + 6, y + 4), (x - 6, y + 4)];
            root.draw(&Polygon::new(t.clone(), fill))?;
            root.draw(&PathElement::new([t.clone(), vec![t[0]]].concat(), edge))?;
        }
        Marker::Diamond => {
            let d = vec![(x, y - 6), (x + 6, y), (x, y + 6), (x - 6, y)];
            root.draw(&Polygon::new(d.clone(), fill))?;
            root.draw(&PathElement::new([d.clone(), vec![d[0]]].concat(), edge))?;
        }
    }
    Ok(())
}

pub(super) fn x_tick_label(axis: &Axis, v: f64) -> String {
    match axis.scale {
        Scale::Linear => super::chart::label(v, axis.percent),
        Scale::Log => super::chart::label(10f64.powf(v), axis.percent),
    }
}

fn y_tick_label(axis: &Axis, v: f64) -> String {
    x_tick_label(axis, v)
}

/// `c` at a fifth of its strength on white: what `c.mix(0.2)` shows on a white ground.
pub(super) fn tint(c: RGBColor) -> RGBColor {
    let f = |v: u8| (255.0 - (255.0 - f64::from(v)) * 0.2).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}
