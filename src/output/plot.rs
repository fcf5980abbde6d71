//! Charts from the files that `run`, `sweep` and `replay` write, drawn with plotters.
//!
//! A chart is first described as plain data ([`Chart`]: panels of named series), then
//! rendered to PNG and/or SVG, so every chart kind shares one renderer. The font
//! (DejaVu Sans, from the `dejavu` crate) is compiled in and registered before drawing:
//! charts look the same on a machine without system fonts.
//!
//! | input file | charts |
//! |---|---|
//! | `timeseries.csv` | `origin_rps`: origin requests/s over time, buckets with a herd marked |
//! | `latency.csv` | `latency_cdf`: the read latency distribution |
//! | `layers.csv` | `served_share`: who answered, one stacked bar |
//! | `sweep_summary.csv` | `sweep_hit_ratio` (a panel per cache layer), `sweep_latency`, `sweep_served_share` |
//! | `replay.csv` | `miss_ratio_curve`: miss ratio against cache size, a line per policy |
//!
//! It reads the output files, not the library's types, so it charts any run's files and
//! knows nothing of the engine or the scenario.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::output::report::{OutputError, write_atomic};

/// Which image formats to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ImageFormat {
    /// PNG only.
    Png,
    /// SVG only.
    Svg,
    /// Both.
    #[default]
    Both,
}

/// Why charts could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The folder holds no file a chart is drawn from.
    #[error(
        "{0}: no run, sweep or replay output here (looked for timeseries.csv, latency.csv, layers.csv, sweep_summary.csv, replay.csv)"
    )]
    Nothing(PathBuf),
    /// An input file could not be read or parsed.
    #[error("cannot read {path}: {message}")]
    Input {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Drawing failed.
    #[error("cannot draw {path}: {message}")]
    Draw {
        /// The chart file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A chart file could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// A named line (or set of markers) in a panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The legend entry.
    pub name: String,
    /// `(x, y)` points, in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Markers only, no line.
    pub markers: bool,
}

/// One plot area.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    /// The panel's caption.
    pub title: String,
    /// Its lines.
    pub series: Vec<Series>,
}

/// What a chart shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// Line panels, stacked vertically, sharing axis labels.
    Lines {
        /// The panels.
        panels: Vec<Panel>,
        /// Logarithmic x axis.
        log_x: bool,
        /// Fixed y range, else from the data.
        y_range: Option<(f64, f64)>,
    },
    /// Stacked bars: for each category, one segment per part (shares summing to 1).
    StackedBars {
        /// Category labels along x.
        categories: Vec<String>,
        /// `(part name, share per category)`.
        parts: Vec<(String, Vec<f64>)>,
    },
}

/// A chart: a title, axis labels with units, and a body.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// The file stem (`origin_rps` -> `origin_rps.png`).
    pub file: String,
    /// The caption.
    pub title: String,
    /// x axis label, with unit.
    pub x_label: String,
    /// y axis label, with unit.
    pub y_label: String,
    /// What is drawn.
    pub body: Body,
}

const FONT: &str = "sans-serif";
/// Herd requests in a bucket from which `origin_rps` marks it: a handful of duplicate
/// fetches is normal under Zipf load; ten or more is the stampede the chart is about.
const HERD_MARK: f64 = 10.0;
const WIDTH: u32 = 1000;
const PANEL_HEIGHT: u32 = 420;

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            let bytes = match style {
                FontStyle::Bold => dejavu::sans::bold(),
                _ => dejavu::sans::regular(),
            };
            register_font_bytes(style, bytes);
        }
    });
}

fn register_font_bytes(style: FontStyle, bytes: &'static [u8]) {
    // The embedded font is valid; a failure here would be a packaging bug.
    if plotters::style::register_font(FONT, style, bytes).is_err() {
        panic!("the embedded DejaVu Sans font does not load");
    }
}

impl Chart {
    fn height(&self) -> u32 {
        match &self.body {
            Body::Lines { panels, .. } => PANEL_HEIGHT * panels.len().max(1) as u32 + 40,
            Body::StackedBars { .. } => 520,
        }
    }

    /// Writes the chart into `dir` as `<file>.png` and/or `<file>.svg`, atomically.
    pub fn render(&self, dir: &Path, format: ImageFormat) -> Result<Vec<PathBuf>, PlotError> {
        register_font();
        let size = (WIDTH, self.height());
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
            let tmp = tempfile::Builder::new()
                .suffix(".png")
                .tempfile_in(dir)
                .map_err(io)?;
            {
                let root = BitMapBackend::new(tmp.path(), size).into_drawing_area();
                self.draw(&root).map_err(|e| draw_err(e.to_string()))?;
                root.present().map_err(|e| draw_err(e.to_string()))?;
            }
            tmp.persist(&path).map_err(|e| io(e.error))?;
            written.push(path);
        }
        if format != ImageFormat::Png {
            let path = dir.join(format!("{}.svg", self.file));
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                self.draw(&root).map_err(|e| PlotError::Draw {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                root.present().map_err(|e| PlotError::Draw {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            }
            write_atomic(&path, svg.as_bytes())?;
            written.push(path);
        }
        Ok(written)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let area = root.titled(&self.title, (FONT, 24).into_font().style(FontStyle::Bold))?;
        match &self.body {
            Body::Lines {
                panels,
                log_x,
                y_range,
            } => {
                for (panel, sub) in panels
                    .iter()
                    .zip(area.split_evenly((panels.len().max(1), 1)))
                {
                    self.draw_panel(&sub, panel, *log_x, *y_range)?;
                }
            }
            Body::StackedBars { categories, parts } => self.draw_bars(&area, categories, parts)?,
        }
        Ok(())
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &Panel,
        log_x: bool,
        y_range: Option<(f64, f64)>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let all = || panel.series.iter().flat_map(|s| s.points.iter().copied());
        let (mut x0, mut x1) = bounds(all().map(|p| p.0).filter(|x| !log_x || *x > 0.0));
        let (y0, y1) = y_range.unwrap_or_else(|| {
            let (lo, hi) = bounds(all().map(|p| p.1));
            (
                lo.min(0.0),
                if hi > lo.min(0.0) {
                    hi * 1.05
                } else {
                    lo.min(0.0) + 1.0
                },
            )
        });
        if x1 <= x0 {
            x1 = x0 + 1.0;
            if log_x {
                x0 = x0.max(f64::MIN_POSITIVE) / 2.0;
                x1 = x0 * 4.0;
            }
        }
        let mut builder = ChartBuilder::on(area);
        builder
            .caption(&panel.title, (FONT, 18))
            .margin(12)
            .margin_right(36)
            .x_label_area_size(48)
            .y_label_area_size(72);
        macro_rules! finish {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(self.x_label.as_str())
                    .y_desc(self.y_label.as_str())
                    .x_label_formatter(&|x| tick(*x))
                    .y_label_formatter(&|y| tick(*y))
                    .label_style((FONT, 14))
                    .axis_desc_style((FONT, 16))
                    .draw()?;
                for (i, s) in panel.series.iter().enumerate() {
                    let color = Palette99::pick(i).to_rgba();
                    let points = s.points.iter().copied().filter(|p| !log_x || p.0 > 0.0);
                    let drawn = if s.markers {
                        chart.draw_series(points.map(|p| Circle::new(p, 4, color.filled())))?
                    } else {
                        chart.draw_series(LineSeries::new(points, color.stroke_width(2)))?
                    };
                    drawn
                        .label(s.name.as_str())
                        .legend(move |corner| swatch(corner, color));
                }
                if panel.series.iter().any(|s| !s.name.is_empty()) {
                    draw_legend(&mut chart)?;
                }
            }};
        }
        if log_x {
            finish!(builder.build_cartesian_2d((x0..x1).log_scale(), y0..y1)?);
        } else {
            finish!(builder.build_cartesian_2d(x0..x1, y0..y1)?);
        }
        Ok(())
    }

    fn draw_bars<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        categories: &[String],
        parts: &[(String, Vec<f64>)],
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let n = categories.len().max(1);
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(64)
            .y_label_area_size(72)
            .build_cartesian_2d(0f64..n as f64, 0f64..1.0)?;
        let labels = categories.to_vec();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n.min(30))
            .x_label_formatter(&move |x| {
                let i = (x - 0.5).round();
                if (x - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 16))
            .draw()?;
        let mut base = vec![0.0; n];
        for (i, (name, shares)) in parts.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let bars: Vec<Rectangle<(f64, f64)>> = shares
                .iter()
                .enumerate()
                .map(|(c, &share)| {
                    let rect = Rectangle::new(
                        [
                            (c as f64 + 0.15, base[c]),
                            (c as f64 + 0.85, base[c] + share),
                        ],
                        color.filled(),
                    );
                    base[c] += share;
                    rect
                })
                .collect();
            chart
                .draw_series(bars)?
                .label(name.as_str())
                .legend(move |corner| swatch(corner, color));
        }
        draw_legend(&mut chart)
    }
}

/// Draws `chart`'s legend, placed and styled alike on every chart.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 14))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
}

/// A series' mark in the legend: a swatch of its colour at `(x, y)`, in pixels.
fn swatch((x, y): (i32, i32), color: RGBAColor) -> Rectangle<(i32, i32)> {
    Rectangle::new([(x, y - 4), (x + 16, y + 4)], color.filled())
}

/// A tick label: `250`, `0.25`, `10k`, `1.5M`.
fn tick(v: f64) -> String {
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", trim(format!("{:.2}", v / 1e6)))
    } else if a >= 1e4 {
        format!("{}k", trim(format!("{:.1}", v / 1e3)))
    } else {
        trim(format!("{v:.3}"))
    }
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) }
}

/// A CSV file as columns by header name.
struct Table {
    path: PathBuf,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn read(path: &Path) -> Result<Option<Table>, PlotError> {
        if !path.exists() {
            return Ok(None);
        }
        let bad = |e: csv::Error| PlotError::Input {
            path: path.to_owned(),
            message: e.to_string(),
        };
        let mut reader = csv::Reader::from_path(path).map_err(bad)?;
        let headers = reader
            .headers()
            .map_err(bad)?
            .iter()
            .map(str::to_owned)
            .collect();
        let rows = reader
            .records()
            .map(|r| r.map(|r| r.iter().map(str::to_owned).collect()))
            .collect::<Result<_, _>>()
            .map_err(bad)?;
        Ok(Some(Table {
            path: path.to_owned(),
            headers,
            rows,
        }))
    }

    fn col(&self, name: &str) -> Result<usize, PlotError> {
        self.headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| PlotError::Input {
                path: self.path.clone(),
                message: format!("no column `{name}`"),
            })
    }

    fn num(&self, row: &[String], col: usize) -> f64 {
        row[col].parse().unwrap_or(f64::NAN)
    }
}

/// Draws every chart the files in `dir` support into `out`; returns the files written.
pub fn plot_dir(dir: &Path, out: &Path, format: ImageFormat) -> Result<Vec<PathBuf>, PlotError> {
    let mut charts = Vec::new();
    if let Some(t) = Table::read(&dir.join("timeseries.csv"))? {
        charts.push(origin_rps(&t)?);
    }
    if let Some(t) = Table::read(&dir.join("latency.csv"))? {
        charts.push(latency_cdf(&t)?);
    }
    if let Some(t) = Table::read(&dir.join("layers.csv"))? {
        charts.push(run_served_share(&t)?);
    }
    if let Some(t) = Table::read(&dir.join("sweep_summary.csv"))? {
        charts.extend(sweep_charts(&t)?);
    }
    if let Some(t) = Table::read(&dir.join("replay.csv"))? {
        charts.push(miss_ratio_curve(&t)?);
    }
    if charts.is_empty() {
        return Err(PlotError::Nothing(dir.to_owned()));
    }
    std::fs::create_dir_all(out).map_err(|source| OutputError::Io {
        path: out.to_owned(),
        source,
    })?;
    let mut written = Vec::new();
    for chart in &charts {
        written.extend(chart.render(out, format)?);
    }
    Ok(written)
}

fn origin_rps(t: &Table) -> Result<Chart, PlotError> {
    let (ts, origin, herd) = (
        t.col("t_s")?,
        t.col("origin_requests")?,
        t.col("origin_herd")?,
    );
    let width = match t.rows.as_slice() {
        [a, b, ..] => t.num(b, ts) - t.num(a, ts),
        _ => 1.0,
    };
    let width = if width > 0.0 { width } else { 1.0 };
    let rps: Vec<(f64, f64)> = t
        .rows
        .iter()
        .map(|r| (t.num(r, ts), t.num(r, origin) / width))
        .collect();
    let herd_marks: Vec<(f64, f64)> = t
        .rows
        .iter()
        .zip(&rps)
        .filter(|(r, _)| t.num(r, herd) >= HERD_MARK)
        .map(|(_, p)| *p)
        .collect();
    let mut series = vec![Series {
        name: "origin requests/s".into(),
        points: rps,
        markers: false,
    }];
    if !herd_marks.is_empty() {
        series.push(Series {
            name: format!(
                "bucket with >= {HERD_MARK} herd requests (concurrent fetches of one key)"
            ),
            points: herd_marks,
            markers: true,
        });
    }
    Ok(Chart {
        file: "origin_rps".into(),
        title: "Origin load over time".into(),
        x_label: "simulated time (s)".into(),
        y_label: "origin requests per second".into(),
        body: Body::Lines {
            panels: vec![Panel {
                title: format!("{width} s buckets"),
                series,
            }],
            log_x: false,
            y_range: None,
        },
    })
}

fn latency_cdf(t: &Table) -> Result<Chart, PlotError> {
    let (q, ms) = (t.col("quantile")?, t.col("latency_ms")?);
    let points: Vec<(f64, f64)> = t.rows.iter().map(|r| (t.num(r, ms), t.num(r, q))).collect();
    let log_x = points.iter().any(|p| p.0 > 0.0);
    Ok(Chart {
        file: "latency_cdf".into(),
        title: "Read latency distribution".into(),
        x_label: "end-to-end latency (ms)".into(),
        y_label: "fraction of reads at or below".into(),
        body: Body::Lines {
            panels: vec![Panel {
                title: String::new(),
                series: vec![Series {
                    name: "reads".into(),
                    points,
                    markers: false,
                }],
            }],
            log_x,
            y_range: Some((0.0, 1.0)),
        },
    })
}

fn run_served_share(t: &Table) -> Result<Chart, PlotError> {
    let (name, share) = (t.col("name")?, t.col("served_share")?);
    Ok(Chart {
        file: "served_share".into(),
        title: "Who answered the reads".into(),
        x_label: "run".into(),
        y_label: "share of reads answered".into(),
        body: Body::StackedBars {
            categories: vec!["this run".into()],
            parts: t
                .rows
                .iter()
                .map(|r| (r[name].clone(), vec![t.num(r, share)]))
                .collect(),
        },
    })
}

/// Sweep charts: x is the first numeric axis; each combination of the other axes is a
/// line; each cache layer a panel.
fn sweep_charts(t: &Table) -> Result<Vec<Chart>, PlotError> {
    let layer = t.col("layer")?;
    let axes: Vec<String> = t.headers[..layer].to_vec();
    let numeric = |c: usize| t.rows.iter().all(|r| r[c].parse::<f64>().is_ok());
    let x_axis = (0..axes.len()).find(|&c| numeric(c));
    let x_values = |r: &[String]| x_axis.map_or(0.0, |c| t.num(r, c));
    let group_of = |r: &[String]| -> String {
        (0..axes.len())
            .filter(|&c| Some(c) != x_axis)
            .map(|c| format!("{}={}", short(&axes[c]), r[c]))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let xs: Vec<f64> = t
        .rows
        .iter()
        .map(|r| x_values(r))
        .filter(|x| *x > 0.0)
        .collect();
    let (lo, hi) = bounds(xs.iter().copied());
    let log_x = !xs.is_empty() && lo > 0.0 && hi / lo >= 20.0;
    let x_label = x_axis.map_or("grid point".to_owned(), |c| axis_label(&axes[c]));

    // layer -> group -> points
    let mut hit: BTreeMap<(usize, String), Lines> = BTreeMap::new();
    let mut layer_order: Vec<String> = Vec::new();
    let hr = t.col("hit_ratio_mean")?;
    for r in &t.rows {
        let l = &r[layer];
        let pos = layer_order.iter().position(|x| x == l).unwrap_or_else(|| {
            layer_order.push(l.clone());
            layer_order.len() - 1
        });
        hit.entry((pos, l.clone()))
            .or_default()
            .entry(group_of(r))
            .or_default()
            .push((x_values(r), t.num(r, hr)));
    }
    // The database answers every read that reaches it (hit ratio 1): no panel for it.
    let last = layer_order.len().saturating_sub(1);
    let panels: Vec<Panel> = hit
        .into_iter()
        .filter(|((pos, _), _)| *pos != last || layer_order.len() == 1)
        .map(|((_, name), groups)| Panel {
            title: format!("layer {name}"),
            series: groups
                .into_iter()
                .map(|(g, mut points)| {
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    Series {
                        name: if g.is_empty() { "hit ratio".into() } else { g },
                        points,
                        markers: false,
                    }
                })
                .collect(),
        })
        .collect();
    let mut charts = vec![Chart {
        file: "sweep_hit_ratio".into(),
        title: format!("Hit ratio against {}", x_label),
        x_label: x_label.clone(),
        y_label: "hit ratio".into(),
        body: Body::Lines {
            panels,
            log_x,
            y_range: Some((0.0, 1.0)),
        },
    }];

    // Latency: one panel, lines per percentile and group, from the first layer's rows
    // (latency is a property of the run, repeated on every layer row).
    let first_layer = layer_order.first().cloned().unwrap_or_default();
    let mut lat = Lines::new();
    for (col, label) in [
        ("latency_p50_ms_mean", "p50"),
        ("latency_p99_ms_mean", "p99"),
        ("latency_p999_ms_mean", "p99.9"),
    ] {
        let c = t.col(col)?;
        for r in t.rows.iter().filter(|r| r[layer] == first_layer) {
            let g = group_of(r);
            let name = if g.is_empty() {
                label.to_owned()
            } else {
                format!("{label} {g}")
            };
            lat.entry(name)
                .or_default()
                .push((x_values(r), t.num(r, c)));
        }
    }
    charts.push(Chart {
        file: "sweep_latency".into(),
        title: format!("Read latency percentiles against {}", x_label),
        x_label: x_label.clone(),
        y_label: "latency (ms)".into(),
        body: Body::Lines {
            panels: vec![Panel {
                title: String::new(),
                series: sorted_series(lat),
            }],
            log_x,
            y_range: None,
        },
    });

    // Who answered, per grid point (readable up to a few dozen points).
    let share = t.col("served_share_mean")?;
    let mut categories: Vec<String> = Vec::new();
    let mut parts: Vec<(String, Vec<f64>)> = layer_order
        .iter()
        .map(|l| (l.clone(), Vec::new()))
        .collect();
    for r in &t.rows {
        let label = (0..axes.len())
            .map(|c| r[c].clone())
            .collect::<Vec<_>>()
            .join(" ");
        if categories.last() != Some(&label) && !categories.contains(&label) {
            categories.push(label.clone());
            for p in parts.iter_mut() {
                p.1.push(0.0);
            }
        }
        let c = categories
            .iter()
            .position(|x| *x == label)
            .expect("just pushed");
        if let Some(p) = parts.iter_mut().find(|p| p.0 == r[layer]) {
            p.1[c] = t.num(r, share);
        }
    }
    if categories.len() <= 40 {
        charts.push(Chart {
            file: "sweep_served_share".into(),
            title: "Who answered the reads".into(),
            x_label: axes.iter().map(|a| short(a)).collect::<Vec<_>>().join(" "),
            y_label: "share of reads answered".into(),
            body: Body::StackedBars { categories, parts },
        });
    }
    Ok(charts)
}

fn miss_ratio_curve(t: &Table) -> Result<Chart, PlotError> {
    let (policy, size, mr) = (t.col("policy")?, t.col("size")?, t.col("miss_ratio")?);
    let unit = t
        .col("size_unit")
        .ok()
        .and_then(|c| t.rows.first().map(|r| r[c].clone()))
        .unwrap_or_else(|| "entries".into());
    let mut lines = Lines::new();
    for r in &t.rows {
        lines
            .entry(r[policy].clone())
            .or_default()
            .push((t.num(r, size), t.num(r, mr)));
    }
    let (lo, hi) = bounds(t.rows.iter().map(|r| t.num(r, size)));
    Ok(Chart {
        file: "miss_ratio_curve".into(),
        title: "Miss ratio curve".into(),
        x_label: format!("cache size ({unit})"),
        y_label: "miss ratio".into(),
        body: Body::Lines {
            panels: vec![Panel {
                title: String::new(),
                series: sorted_series(lines),
            }],
            log_x: lo > 0.0 && hi / lo >= 20.0,
            y_range: Some((0.0, 1.0)),
        },
    })
}

/// Named lines of points, by legend entry.
type Lines = BTreeMap<String, Vec<(f64, f64)>>;

/// One line per entry, its points sorted by x.
fn sorted_series(lines: Lines) -> Vec<Series> {
    lines
        .into_iter()
        .map(|(name, mut points)| {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series {
                name,
                points,
                markers: false,
            }
        })
        .collect()
}

/// `layers.redis.ttl_s` -> `redis.ttl_s`, for legends.
fn short(key: &str) -> String {
    key.strip_prefix("layers.").unwrap_or(key).to_owned()
}

/// An axis label with its unit, from the key's suffix.
fn axis_label(key: &str) -> String {
    let k = short(key);
    if k.ends_with("_s") {
        format!("{k} (s)")
    } else if k.ends_with("_ms") {
        format!("{k} (ms)")
    } else if k.ends_with("capacity") {
        format!("{k} (entries)")
    } else if k.ends_with("rate") {
        format!("{k} (requests/s)")
    } else {
        k
    }
}
