//! Charts from the files that `run`, `sweep` and `replay` write, drawn with plotters.
//!
//! A chart is first described as plain data (`chart`: panels of named series over a
//! shared x axis, or rows of stacked bars), then rendered to PNG and/or SVG (`render`),
//! so every chart kind shares one layout: title, a note saying how to read it, the plot
//! areas, and the legend in its own column beside them, never over the data. Series
//! take Okabe and Ito's colour-blind-safe colours and a marker each. Text is drawn from
//! the compiled-in DejaVu Sans outlines (`text`), in the PNG and, as paths, in the SVG:
//! a chart looks the same on a machine without fonts.
//!
//! | input file | charts |
//! |---|---|
//! | `timeseries.csv` | `origin_rps`: origin requests/s over time, herd buckets marked, fault windows shaded; with a rate profile, the offered load (arrivals/s) beside it |
//! | `timeseries.csv`, for a run with a rate profile or overload controls | `load`: offered load, goodput, failures (refusals, timeouts, retries when present) per second, and the origin queue, over time |
//! | `latency.csv` | `latency_ccdf`: the share of reads slower than x, log axes, percentiles marked |
//! | `layers.csv` | `served_share`: who answered, one bar |
//! | `sweep_summary.csv` | `sweep_hit_ratio` (a panel per cache layer), `sweep_latency` (a panel per percentile), `sweep_served_share` (a bar per grid point) |
//! | `replay.csv` | `miss_ratio_curve`: miss ratio against cache size, a line per policy |
//! | `capacity.csv` (with `capacity.json`) | `capacity_latency`: the objective's metric against the searched axis with its interval, the bound and the answer |
//!
//! It reads the output files, not the library's types, so it charts any run's files and
//! knows nothing of the engine. Fault windows come from `summary.json` when it lists
//! them (`faults`), else from the scenario stored beside the outputs (`scenario.json`
//! or `scenario.toml`).

mod bars;
mod capacity;
mod chart;
mod input;
mod legend;
mod render;
mod run;
mod sweep;
mod text;

use std::path::{Path, PathBuf};

use crate::output::report::OutputError;
use input::Table;

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
        "{0}: no run, sweep or replay output here (looked for timeseries.csv, latency.csv, layers.csv, sweep_summary.csv, replay.csv, capacity.csv)"
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

/// What [`plot_dir`] drew, and what it left out.
#[derive(Debug, Default)]
pub struct Drawn {
    /// The chart files written.
    pub files: Vec<PathBuf>,
    /// One line per input that had nothing to draw (a run that measured nothing has
    /// CSV files with a header and no rows), saying which and why.
    pub left_out: Vec<String>,
}

/// A chart drawn as an SVG document in memory, for a page that inlines it
/// ([`crate::output::html`]).
#[derive(Debug, Clone)]
pub struct SvgChart {
    /// The chart's file stem (`origin_rps`), which names it in a page.
    pub file: String,
    /// Its title.
    pub title: String,
    /// The note under its title (how to read it), possibly empty.
    pub note: String,
    /// The SVG document, its text drawn as glyph paths.
    pub svg: String,
}

/// What [`svg_charts`] drew, and what it left out.
#[derive(Debug, Default)]
pub struct SvgCharts {
    /// The charts, in the order [`plot_dir`] writes them.
    pub charts: Vec<SvgChart>,
    /// As [`Drawn::left_out`].
    pub left_out: Vec<String>,
}

/// Every chart the files in `dir` support, and the notes on inputs with nothing to draw;
/// [`PlotError::Nothing`] when the folder holds no output at all.
fn charts_of(dir: &Path) -> Result<(Vec<chart::Chart>, Vec<String>), PlotError> {
    let mut charts = Vec::new();
    let (mut found, mut left_out) = (false, Vec::new());
    // A table with rows, else a note: an empty chart would look like a measurement.
    let mut rows = |name: &str, why: &str| -> Result<Option<Table>, PlotError> {
        let t = Table::read(&dir.join(name))?;
        found |= t.is_some();
        Ok(t.filter(|t| {
            if t.rows.is_empty() {
                left_out.push(format!("{name} has no rows ({why})"));
            }
            !t.rows.is_empty()
        }))
    };
    let nothing = "the run measured nothing: every request fell in the warm-up, or none \
                   finished";
    let timeseries = rows("timeseries.csv", nothing)?;
    let latency = rows("latency.csv", "no read was measured")?;
    let layers = rows("layers.csv", "no layer")?;
    let sweep = rows("sweep_summary.csv", "no point finished")?;
    let replay = rows("replay.csv", "no point")?;
    let capacity = rows("capacity.csv", "no point was evaluated")?;
    if let Some(t) = timeseries {
        let offered = input::rate_profile(dir);
        charts.push(run::origin_rps(
            &t,
            &input::faults(dir)?,
            input::warmup_s(dir),
            offered,
        )?);
        if input::load_varies(dir) {
            charts.push(run::load(&t, input::warmup_s(dir))?);
        }
    }
    if let Some(t) = latency {
        charts.push(run::latency_ccdf(&t)?);
    }
    if let Some(t) = layers {
        match run::served_share(&t)? {
            Some(chart) => charts.push(chart),
            None => left_out.push("layers.csv: no layer answered a measured read".into()),
        }
    }
    if let Some(t) = sweep {
        charts.extend(sweep::sweep_charts(&t)?);
    }
    if let Some(t) = replay {
        charts.push(sweep::miss_ratio_curve(&t)?);
    }
    if let Some(t) = capacity {
        charts.push(capacity::capacity_latency(&t, dir)?);
    }
    if !found {
        return Err(PlotError::Nothing(dir.to_owned()));
    }
    Ok((charts, left_out))
}

/// Draws every chart the files in `dir` support as SVG documents in memory, exactly as
/// [`plot_dir`] would write them, for a page that inlines them.
pub fn svg_charts(dir: &Path) -> Result<SvgCharts, PlotError> {
    let (charts, left_out) = charts_of(dir)?;
    let charts = charts
        .iter()
        .map(|c| {
            Ok(SvgChart {
                file: c.file.clone(),
                title: c.title.clone(),
                note: c.note.clone(),
                svg: c.svg(&dir.join(format!("{}.svg", c.file)))?,
            })
        })
        .collect::<Result<_, PlotError>>()?;
    Ok(SvgCharts { charts, left_out })
}

/// Draws every chart the files in `dir` support into `out`. A file with no rows (a run
/// that measured nothing) draws no chart and is listed in [`Drawn::left_out`]; when no
/// chart is left, nothing is written and `files` is empty.
pub fn plot_dir(dir: &Path, out: &Path, format: ImageFormat) -> Result<Drawn, PlotError> {
    let (charts, left_out) = charts_of(dir)?;
    if charts.is_empty() {
        return Ok(Drawn {
            files: Vec::new(),
            left_out,
        });
    }
    std::fs::create_dir_all(out).map_err(|source| OutputError::Io {
        path: out.to_owned(),
        source,
    })?;
    let mut files = Vec::new();
    for chart in &charts {
        files.extend(chart.render(out, format)?);
    }
    Ok(Drawn { files, left_out })
}
