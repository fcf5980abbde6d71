//! A sweep's charts (hit ratio, latency percentiles, who answered, per grid point) and a
//! replay's miss-ratio curve.
//!
//! The x axis is the sweep's first numeric axis; each combination of the other axes is
//! a series (a line, with a 95% confidence band when there are replications). A sweep
//! with no numeric axis puts its first axis's values side by side as categories, each
//! combination of the others a marker with its interval as an error bar.

use std::collections::BTreeSet;

use super::PlotError;
use super::chart::{Axis, Body, Chart, Draw, Panel, Series, XAxis};
use super::input::Table;

/// Rows of the who-answered chart; beyond, the chart says how many points it leaves out.
const MAX_ROWS: usize = 200;
/// Grid values become the axis's ticks up to this many.
const MAX_VALUE_TICKS: usize = 8;

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
    } else if k.ends_with("capacity_bytes") {
        format!("{k} (bytes)")
    } else if k.ends_with("rate") {
        format!("{k} (requests/s)")
    } else {
        k
    }
}

/// A grid value as a person reads it: a number to ten significant digits, so that a
/// range's float steps (`0.30000000000000004`) print as written (`0.3`).
fn value(v: &str) -> String {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && x != 0.0 && v.contains('.') => {
            let decimals = (9 - x.abs().log10().floor() as i32).clamp(0, 15) as usize;
            let s = format!("{x:.decimals$}");
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        }
        _ => v.to_owned(),
    }
}

/// A numeric axis for `values`: log when they span a factor of 20 or more, ticked at the
/// values themselves when there are few.
fn value_axis(values: &[f64]) -> Axis {
    let distinct: BTreeSet<u64> = values
        .iter()
        .filter(|v| v.is_finite())
        .map(|v| v.to_bits())
        .collect();
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let mut axis = if lo > 0.0 && hi / lo >= 20.0 {
        Axis::log()
    } else {
        Axis::linear()
    };
    if distinct.len() <= MAX_VALUE_TICKS {
        axis.at = distinct.into_iter().map(f64::from_bits).collect();
        axis.at.sort_by(f64::total_cmp);
    }
    axis
}

/// A ratio's axis: [0, 1], or the tenths around the data when they are close together,
/// so that differences of a few points stay visible.
fn ratio_axis(values: impl Iterator<Item = f64>) -> Axis {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return Axis::fixed(0.0, 1.0);
    }
    let lo = ((lo - 0.02) * 10.0).floor().max(0.0) / 10.0;
    let hi = ((hi + 0.02) * 10.0).ceil().min(10.0) / 10.0;
    Axis::fixed(lo, hi.max(lo + 0.1))
}

/// What the sweep's table says about its layout.
struct Layout<'a> {
    t: &'a Table,
    axes: Vec<String>,
    layer: usize,
    /// The x axis's column, and whether it is numeric.
    x: Option<(usize, bool)>,
    categories: Vec<String>,
    groups: Vec<String>,
    replications: u32,
}

impl<'a> Layout<'a> {
    fn new(t: &'a Table) -> Result<Layout<'a>, PlotError> {
        let layer = t.col("layer")?;
        let axes: Vec<String> = t.headers[..layer].to_vec();
        let numeric = |c: usize| t.rows.iter().all(|r| r[c].parse::<f64>().is_ok());
        let x = (0..axes.len())
            .find(|&c| numeric(c))
            .map(|c| (c, true))
            .or_else(|| (!axes.is_empty()).then_some((0, false)));
        let mut l = Layout {
            t,
            axes,
            layer,
            x,
            categories: Vec::new(),
            groups: Vec::new(),
            replications: t
                .opt("replications")
                .map(|c| t.rows.iter().map(|r| t.num(r, c) as u32).max().unwrap_or(1))
                .unwrap_or(1),
        };
        for r in &t.rows {
            if let Some((c, false)) = l.x
                && !l.categories.contains(&r[c])
            {
                l.categories.push(r[c].clone());
            }
            let g = l.group(r);
            if !l.groups.contains(&g) {
                l.groups.push(g);
            }
        }
        if l.x.is_none() {
            l.categories.push("all runs".into());
        }
        Ok(l)
    }

    /// The row's combination of the axes other than x, as `key=value ...`.
    fn group(&self, r: &[String]) -> String {
        (0..self.axes.len())
            .filter(|&c| Some(c) != self.x.map(|x| x.0))
            .map(|c| format!("{}={}", short(&self.axes[c]), r[c]))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn x_of(&self, r: &[String]) -> f64 {
        match self.x {
            Some((c, true)) => self.t.num(r, c),
            Some((c, false)) => self.categories.iter().position(|v| *v == r[c]).unwrap_or(0) as f64,
            None => 0.0,
        }
    }

    fn x_axis(&self) -> XAxis {
        match self.x {
            Some((c, true)) => {
                let xs: Vec<f64> = self.t.rows.iter().map(|r| self.t.num(r, c)).collect();
                XAxis::Numeric(value_axis(&xs))
            }
            _ => XAxis::Categories(self.categories.clone()),
        }
    }

    fn x_label(&self) -> String {
        match self.x {
            Some((c, _)) => axis_label(&self.axes[c]),
            None => "grid".into(),
        }
    }

    /// One series per group from `rows`: the mean in `col`, its interval from `col`'s
    /// `_ci95` twin when there are replications.
    fn series<'r>(
        &self,
        rows: impl Iterator<Item = &'r Vec<String>> + Clone,
        mean: usize,
        ci: Option<usize>,
        label: &str,
    ) -> Vec<Series> {
        let ci = ci.filter(|_| self.replications > 1);
        self.groups
            .iter()
            .enumerate()
            .filter_map(|(look, g)| {
                let mut points: Vec<(f64, f64, f64)> = rows
                    .clone()
                    .filter(|r| self.group(r) == *g)
                    .map(|r| {
                        let half = ci.map_or(f64::NAN, |c| self.t.num(r, c));
                        (self.x_of(r), self.t.num(r, mean), half)
                    })
                    .collect();
                if points.is_empty() {
                    return None;
                }
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                let name = match (g.is_empty(), label.is_empty()) {
                    (true, true) => "mean".to_owned(),
                    (true, false) => label.to_owned(),
                    (false, _) => g.clone(),
                };
                let mut s = Series::new(name, look, points.iter().map(|p| (p.0, p.1)).collect());
                if points.iter().any(|p| p.2.is_finite()) {
                    s.band = points
                        .iter()
                        .map(|p| {
                            let h = if p.2.is_finite() { p.2 } else { 0.0 };
                            (p.0, p.1 - h, p.1 + h)
                        })
                        .collect();
                    s.band_label = format!(
                        "95% confidence interval ({} replications, Student's t)",
                        self.replications
                    );
                }
                if self.x.is_none_or(|x| !x.1) {
                    s.draw = Draw::Markers;
                }
                Some(s)
            })
            .collect()
    }

    fn note(&self) -> String {
        let points = self
            .t
            .rows
            .iter()
            .map(|r| self.point_label(r))
            .collect::<BTreeSet<_>>()
            .len();
        if self.replications > 1 {
            format!(
                "{points} grid points, each the mean of {} replications, with its 95% confidence interval",
                self.replications
            )
        } else {
            format!(
                "{points} grid points, one run each (with --replications, 95% confidence intervals)"
            )
        }
    }

    fn point_label(&self, r: &[String]) -> String {
        if self.axes.is_empty() {
            return "all runs".into();
        }
        (0..self.axes.len())
            .map(|c| value(&r[c]))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The sweep's charts: hit ratio (a panel per cache layer), latency percentiles (a
/// panel per percentile), and who answered at each grid point.
pub(super) fn sweep_charts(t: &Table) -> Result<Vec<Chart>, PlotError> {
    let l = Layout::new(t)?;
    let layer = l.layer;
    let mut layers: Vec<String> = Vec::new();
    for r in &t.rows {
        if !layers.contains(&r[layer]) {
            layers.push(r[layer].clone());
        }
    }
    let note = l.note();
    let x_label = l.x_label();

    // The database answers every read that reaches it (hit ratio 1): no panel for it.
    let hr = t.col("hit_ratio_mean")?;
    let hr_ci = t.opt("hit_ratio_ci95");
    let caches = if layers.len() > 1 {
        &layers[..layers.len() - 1]
    } else {
        &layers[..]
    };
    let panels = caches
        .iter()
        .map(|name| {
            let rows = t.rows.iter().filter(move |r| r[layer] == *name);
            let series = l.series(rows, hr, hr_ci, "hit ratio");
            let y = ratio_axis(series.iter().flat_map(|s| {
                s.points
                    .iter()
                    .map(|p| p.1)
                    .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
            }));
            let mut p = Panel::new(format!("layer {name}"), "hit ratio", y);
            p.series = series;
            p
        })
        .collect();
    let mut charts = vec![Chart {
        file: "sweep_hit_ratio".into(),
        title: format!("Hit ratio against {x_label}"),
        note: note.clone(),
        body: Body::Panels {
            x: l.x_axis(),
            x_label: x_label.clone(),
            panels,
        },
    }];

    // Latency is a property of the run, repeated on every layer row: take the first's.
    let first = layers.first().cloned().unwrap_or_default();
    let mut panels = Vec::new();
    for (col, title) in [
        ("latency_p50_ms", "median (p50)"),
        ("latency_p99_ms", "p99"),
        ("latency_p999_ms", "p99.9"),
    ] {
        let mean = t.col(&format!("{col}_mean"))?;
        let rows = t.rows.iter().filter(|r| r[layer] == first);
        let mut p = Panel::new(title, "latency (ms)", Axis::linear());
        p.series = l.series(rows, mean, t.opt(&format!("{col}_ci95")), "latency");
        panels.push(p);
    }
    charts.push(Chart {
        file: "sweep_latency".into(),
        title: format!("Read latency percentiles against {x_label}"),
        note: note.clone(),
        body: Body::Panels {
            x: l.x_axis(),
            x_label: x_label.clone(),
            panels,
        },
    });

    let share = t.col("served_share_mean")?;
    let mut rows: Vec<String> = Vec::new();
    let mut parts: Vec<(String, Vec<f64>)> =
        layers.iter().map(|l| (l.clone(), Vec::new())).collect();
    for r in &t.rows {
        let label = l.point_label(r);
        let i = rows.iter().position(|x| *x == label).unwrap_or_else(|| {
            rows.push(label);
            for p in parts.iter_mut() {
                p.1.push(0.0);
            }
            rows.len() - 1
        });
        if let Some(p) = parts.iter_mut().find(|p| p.0 == r[layer]) {
            p.1[i] = t.num(r, share);
        }
    }
    let total = rows.len();
    let note = if total > MAX_ROWS {
        rows.truncate(MAX_ROWS);
        for p in parts.iter_mut() {
            p.1.truncate(MAX_ROWS);
        }
        format!("the first {MAX_ROWS} of {total} grid points; all are in sweep_summary.csv")
    } else {
        l.note()
    };
    charts.push(Chart {
        file: "sweep_served_share".into(),
        title: "Who answered the reads".into(),
        note,
        body: Body::Bars {
            rows,
            row_label: l
                .axes
                .iter()
                .map(|a| short(a))
                .collect::<Vec<_>>()
                .join(", "),
            x_label: "share of reads answered".into(),
            parts,
        },
    });
    Ok(charts)
}

/// A replay's miss ratio against cache size, a line per policy.
pub(super) fn miss_ratio_curve(t: &Table) -> Result<Chart, PlotError> {
    let (policy, size, mr) = (t.col("policy")?, t.col("size")?, t.col("miss_ratio")?);
    let unit = t
        .opt("size_unit")
        .and_then(|c| t.rows.first().map(|r| r[c].clone()))
        .unwrap_or_else(|| "entries".into());
    let mut names: Vec<String> = Vec::new();
    for r in &t.rows {
        if !names.contains(&r[policy]) {
            names.push(r[policy].clone());
        }
    }
    let series: Vec<Series> = names
        .iter()
        .enumerate()
        .map(|(look, name)| {
            let mut points: Vec<(f64, f64)> = t
                .rows
                .iter()
                .filter(|r| r[policy] == *name)
                .map(|r| (t.num(r, size), t.num(r, mr)))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series::new(name.clone(), look, points)
        })
        .collect();
    let sizes: Vec<f64> = t.rows.iter().map(|r| t.num(r, size)).collect();
    let y = ratio_axis(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
    let mut panel = Panel::new(
        "",
        "miss ratio",
        Axis {
            range: Some((0.0, y.range.map_or(1.0, |r| r.1))),
            ..y
        },
    );
    panel.series = series;
    Ok(Chart {
        file: "miss_ratio_curve".into(),
        title: "Miss ratio curve".into(),
        note: format!(
            "{} policies, {} cache sizes",
            names.len(),
            sizes
                .iter()
                .map(|v| v.to_bits())
                .collect::<BTreeSet<_>>()
                .len()
        ),
        body: Body::Panels {
            x: XAxis::Numeric(value_axis(&sizes)),
            x_label: format!("cache size ({unit})"),
            panels: vec![panel],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_values_print_as_written() {
        assert_eq!(value("0.30000000000000004"), "0.3");
        assert_eq!(value("4.3999999999999995"), "4.4");
        assert_eq!(value("1.0"), "1");
        assert_eq!(value("31623"), "31623");
        assert_eq!(value("lru"), "lru");
        assert_eq!(value("0.000125"), "0.000125");
    }
}
