//! A capacity search's chart: the objective's metric against the searched axis (the
//! hockey stick of latency against offered load), with its interval, the objective's
//! bound and the answer marked.

use std::path::Path;

use super::PlotError;
use super::chart::{Axis, Body, Chart, Draw, Note, Panel, Series, XAxis};
use super::input::Table;

/// What `capacity.json` says the chart needs.
struct Meta {
    axis: String,
    /// `(column stem, bound, text)` of the objective drawn: the first on latency, else
    /// the first.
    objective: (String, f64, String),
    answer: Option<f64>,
    outcome: String,
}

fn meta(dir: &Path) -> Result<Meta, PlotError> {
    let path = dir.join("capacity.json");
    let bad = |message: String| PlotError::Input {
        path: path.clone(),
        message,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let objectives = doc
        .get("objectives")
        .and_then(|o| o.as_array())
        .ok_or_else(|| bad("no `objectives` list".into()))?;
    let read = |o: &serde_json::Value| -> Option<(String, f64, String)> {
        Some((
            o.get("metric")?.as_str()?.to_owned(),
            o.get("bound")?.as_f64()?,
            o.get("text")?.as_str()?.to_owned(),
        ))
    };
    let objective = objectives
        .iter()
        .filter_map(read)
        .find(|o| o.0.ends_with("_ms"))
        .or_else(|| objectives.iter().find_map(read))
        .ok_or_else(|| bad("no objective with `metric`, `bound` and `text`".into()))?;
    Ok(Meta {
        axis: doc
            .get("axis")
            .and_then(|a| a.as_str())
            .unwrap_or("value")
            .to_owned(),
        objective,
        answer: doc.get("answer").and_then(|a| a.as_f64()),
        outcome: doc
            .get("outcome")
            .and_then(|a| a.as_str())
            .unwrap_or("")
            .to_owned(),
    })
}

/// The chart of `capacity.csv` (`t`), with the objective and answer from
/// `capacity.json` beside it.
pub(super) fn capacity_latency(t: &Table, dir: &Path) -> Result<Chart, PlotError> {
    let m = meta(dir)?;
    let (stem, bound, text) = &m.objective;
    let (xc, mean, half, verdict) = (
        t.col("value")?,
        t.col(&format!("{stem}_mean"))?,
        t.col(&format!("{stem}_ci95"))?,
        t.col("verdict")?,
    );
    let mut rows: Vec<(f64, f64, f64, String)> = t
        .rows
        .iter()
        .map(|r| {
            (
                t.num(r, xc),
                t.num(r, mean),
                t.num(r, half),
                r.get(verdict).cloned().unwrap_or_default(),
            )
        })
        .filter(|r| r.0.is_finite() && r.1.is_finite())
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let latency = stem.ends_with("_ms");
    let label = if latency {
        format!("{} (ms)", stem.trim_end_matches("_ms"))
    } else {
        stem.clone()
    };
    let (x_lo, x_hi) = match (rows.first(), rows.last()) {
        (Some(a), Some(b)) => (a.0, b.0),
        _ => (0.0, 1.0),
    };
    let y_lo = rows
        .iter()
        .map(|r| (r.1 - r.2).max(r.1 * 0.5))
        .chain([*bound])
        .fold(f64::INFINITY, f64::min);
    let y_hi = rows
        .iter()
        .map(|r| r.1 + r.2)
        .chain([*bound])
        .fold(f64::NEG_INFINITY, f64::max);
    // A hockey stick spans decades: past ×30 the latency axis is logarithmic.
    let y = if latency && y_lo > 0.0 && y_hi / y_lo > 30.0 {
        // Whole decades, so the axis has a labelled tick below the flat part.
        Axis {
            range: Some((
                10f64.powf(y_lo.log10().floor()),
                10f64.powf(y_hi.log10().ceil()),
            )),
            ..Axis::log()
        }
    } else {
        Axis::linear()
    };
    let log_y = y.scale == super::chart::Scale::Log;
    let mut line = Series::new(
        format!("{label}: mean over the replications"),
        0,
        rows.iter().map(|r| (r.0, r.1)).collect(),
    );
    line.band = rows
        .iter()
        .map(|r| {
            // On a log axis a lower end at or below zero cannot be drawn: cut it.
            let lo = if log_y {
                (r.1 - r.2).max(r.1 * 0.5)
            } else {
                r.1 - r.2
            };
            (r.0, lo, r.1 + r.2)
        })
        .collect();
    line.band_label = if log_y {
        "95% confidence interval (Student's t over the replications; on this log axis cut at half the mean)".into()
    } else {
        "95% confidence interval (Student's t over the replications)".into()
    };
    let marks = |want: &str| -> Vec<(f64, f64)> {
        rows.iter()
            .filter(|r| r.3 == want)
            .map(|r| (r.0, r.1))
            .collect()
    };
    let mut panel = Panel::new("", label.clone(), y);
    panel.series.push(line);
    for (name, look, want) in [
        ("meets every objective", 2, "pass"),
        ("misses an objective", 1, "fail"),
        ("uncertain at the replication cap", 4, "uncertain"),
    ] {
        let pts = marks(want);
        if !pts.is_empty() {
            let mut s = Series::new(name, look, pts);
            s.draw = Draw::Markers;
            panel.series.push(s);
        }
    }
    let mut rule = Series::new(
        format!("objective: {text}"),
        6,
        vec![(x_lo, *bound), (x_hi, *bound)],
    );
    rule.draw = Draw::Rule;
    panel.series.push(rule);
    if let Some(a) = m.answer
        && let Some(r) = rows.iter().find(|r| r.0 == a)
    {
        panel.notes.push(Note {
            x: r.0,
            y: r.1,
            text: format!(
                "{}answer {}",
                if m.outcome == "at_least_high" {
                    "at least: "
                } else {
                    ""
                },
                crate::output::number(a)
            ),
        });
    }
    let x = if x_lo > 0.0 && x_hi / x_lo > 20.0 {
        Axis::log()
    } else {
        Axis::linear()
    };
    let x_label = if m.axis.ends_with("rate") {
        format!("{} (offered requests/s)", m.axis)
    } else {
        m.axis.clone()
    };
    Ok(Chart {
        file: "capacity_latency".into(),
        title: format!("Capacity: {label} against {}", m.axis),
        note: format!(
            "{} points evaluated; a point passes when its interval's worse end meets the objective",
            rows.len()
        ),
        body: Body::Panels {
            x: XAxis::Numeric(x),
            x_label,
            panels: vec![panel],
        },
    })
}
