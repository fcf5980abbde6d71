//! A run's charts: origin load over time, the latency tail, who answered.

use super::PlotError;
use super::chart::{Axis, Body, Chart, Draw, Note, Panel, Scale, Series, Shade, XAxis};
use super::input::{Fault, Table};

/// Buckets drawn one to a point, up to this many; more are drawn several to a point, in
/// about [`POINTS`] points.
const MAX_POINTS: usize = 250;
const POINTS: usize = 150;
/// The percentiles marked on the latency tail.
const PERCENTILES: [(f64, &str); 5] = [
    (0.5, "p50"),
    (0.9, "p90"),
    (0.99, "p99"),
    (0.999, "p99.9"),
    (0.9999, "p99.99"),
];

/// A duration in seconds as written on a chart: to the nanosecond, without float noise.
fn seconds(s: f64) -> String {
    let s = format!("{:.9}", (s * 1e9).round() / 1e9);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Origin requests/s over time. Buckets are drawn as they are up to [`MAX_POINTS`];
/// beyond, `k` buckets make one point: the line is their mean and a band their range,
/// so a short spike still shows at its height. Fault windows are shaded, and the
/// warm-up (rows before `warmup_s`, an automatic warm-up's); buckets with a herd event
/// (the summary's `herd_events`, by bucket) are marked along the top edge; files of
/// older versions, without the `herd_events` column, get no marks. With `offered` (a
/// run with a rate profile), the offered load, the measured arrivals per second, is a
/// second line: what the origin load answers to.
pub(super) fn origin_rps(
    t: &Table,
    faults: &[Fault],
    warmup_s: Option<f64>,
    offered: bool,
) -> Result<Chart, PlotError> {
    let (ts, origin, herd) = (
        t.col("t_s")?,
        t.col("origin_requests")?,
        t.opt("herd_events"),
    );
    // Only looked up when drawn, so an older file without it still plots.
    let arrivals = if offered {
        Some(t.col("requests")?)
    } else {
        None
    };
    let (width, k) = buckets(t, ts);
    let (mut line, mut band, mut herds) = (Vec::new(), Vec::new(), Vec::new());
    let mut offered_line = Vec::new();
    for chunk in t.rows.chunks(k) {
        if let Some(arrivals) = arrivals {
            let sum: f64 = chunk.iter().map(|r| t.num(r, arrivals)).sum();
            offered_line.push((
                t.num(&chunk[0], ts) + width * chunk.len() as f64 / 2.0,
                sum / (width * chunk.len() as f64),
            ));
        }
        let rps: Vec<f64> = chunk.iter().map(|r| t.num(r, origin) / width).collect();
        let x = t.num(&chunk[0], ts) + width * chunk.len() as f64 / 2.0;
        let mean = rps.iter().sum::<f64>() / rps.len() as f64;
        line.push((x, mean));
        let (lo, hi) = rps
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        band.push((x, lo, hi));
        if herd.is_some_and(|h| chunk.iter().any(|r| t.num(r, h) > 0.0)) {
            herds.push(x);
        }
    }
    let bucket = seconds(width);
    let (name, note) = if k > 1 {
        (
            format!(
                "origin requests/s, mean over {} s",
                seconds(width * k as f64)
            ),
            format!(
                "{} buckets of {bucket} s, {k} to a point: the line is their mean, the band their range",
                t.rows.len()
            ),
        )
    } else {
        (
            "origin requests/s".to_owned(),
            format!("{} buckets of {bucket} s", t.rows.len()),
        )
    };
    let mut series = Series::new(name, 0, line);
    if k > 1 {
        series.band = band;
        series.band_label = format!("range of the {bucket} s buckets");
    }
    let mut panel = Panel::new("", "origin requests per second", Axis::linear());
    if offered {
        panel.y_label = "requests per second".into();
        panel.series.push(Series::new(
            "offered load: arrivals/s (after the warm-up)",
            1,
            offered_line,
        ));
    }
    panel.series.push(series);
    panel.rug = (
        herds,
        "a bucket with a herd event (metrics.herd_threshold reads of one key in flight at the origin)".to_owned(),
    );
    // Only the windows the series overlaps: a legend entry for a shade not drawn would
    // send the reader looking for it.
    let (first, last) = match (t.rows.first(), t.rows.last()) {
        (Some(a), Some(b)) => (t.num(a, ts), t.num(b, ts) + width),
        _ => (0.0, 0.0),
    };
    panel.shades = faults
        .iter()
        .filter(|f| f.start_s < last && f.start_s + f.duration_s > first)
        .map(shade)
        .collect();
    if let Some(w) = warmup(first, last, warmup_s) {
        panel.shades.insert(0, w);
    }
    Ok(Chart {
        file: "origin_rps".into(),
        title: "Origin load over time".into(),
        note,
        body: Body::Panels {
            x: XAxis::Numeric(Axis::linear()),
            x_label: "simulated time (s)".into(),
            panels: vec![panel],
        },
    })
}

/// A time series' bucket width (s, from its first two rows) and how many buckets make
/// one point: one up to [`MAX_POINTS`] rows, else enough for about [`POINTS`] points.
fn buckets(t: &Table, ts: usize) -> (f64, usize) {
    let width = match t.rows.as_slice() {
        [a, b, ..] => t.num(b, ts) - t.num(a, ts),
        _ => 1.0,
    };
    let width = if width > 0.0 {
        (width * 1e9).round() / 1e9
    } else {
        1.0
    };
    let k = if t.rows.len() <= MAX_POINTS {
        1
    } else {
        t.rows.len().div_ceil(POINTS)
    };
    (width, k)
}

/// The warm-up's shade over rows from `first` to `last` s, when the measured window
/// starts (at `warmup_s`) after the first row.
fn warmup(first: f64, last: f64, warmup_s: Option<f64>) -> Option<Shade> {
    let w = warmup_s.filter(|&w| w > first)?;
    Some(Shade {
        from: first,
        to: w.min(last),
        label: format!(
            "warm-up ({} s to {} s): left out of every figure but this chart",
            seconds(first),
            seconds(w)
        ),
        tag: "warm-up".into(),
    })
}

/// Load over time, for a run whose load changes (a rate profile) or that has overload
/// controls: offered load (arrivals/s), goodput (answered/s) and failures/s (with
/// refusals, timeouts and retries when the file has those columns) in one panel, the
/// origin queue in a second (its time-weighted mean, a band up to each bucket's peak). `k` buckets
/// make a point past [`MAX_POINTS`], as in [`origin_rps`]: rates are their mean, the
/// queue's peak their largest. Columns absent from an older file are left out.
pub(super) fn load(t: &Table, warmup_s: Option<f64>) -> Result<Chart, PlotError> {
    let ts = t.col("t_s")?;
    let (width, k) = buckets(t, ts);
    let rates: Vec<(&str, usize, usize)> = [
        ("offered load: arrivals/s", "requests", 0),
        ("goodput: answered/s", "completed", 2),
        ("failed/s", "failed", 1),
        (
            "rejected/s (rate limit, full queue, shed, breaker)",
            "rejected",
            3,
        ),
        ("timeouts/s", "timeouts", 4),
        ("retries/s", "retries", 5),
    ]
    .into_iter()
    .filter_map(|(name, col, look)| Some((name, t.opt(col)?, look)))
    .collect();
    let (peak, mean) = (t.opt("origin_queue"), t.opt("origin_queue_mean"));
    let mut top = Panel::new("", "requests per second", Axis::linear());
    for (name, col, look) in rates {
        let points = t
            .rows
            .chunks(k)
            .map(|c| {
                let sum: f64 = c.iter().map(|r| t.num(r, col)).sum();
                let span = width * c.len() as f64;
                (t.num(&c[0], ts) + span / 2.0, sum / span)
            })
            .collect();
        top.series.push(Series::new(name, look, points));
    }
    let mut bottom = Panel::new("", "queries waiting at the origin", Axis::linear());
    let x = |c: &[Vec<String>]| t.num(&c[0], ts) + width * c.len() as f64 / 2.0;
    let peak_of = |c: &[Vec<String>], col| c.iter().map(|r| t.num(r, col)).fold(0.0, f64::max);
    match (mean, peak) {
        // The mean is the line; the band reaches up to the bucket's peak.
        (Some(m), p) => {
            let chunks = t.rows.chunks(k);
            let line = chunks
                .clone()
                .map(|c| {
                    (
                        x(c),
                        c.iter().map(|r| t.num(r, m)).sum::<f64>() / c.len() as f64,
                    )
                })
                .collect();
            let mut s = Series::new("origin queue: time-weighted mean", 6, line);
            if let Some(p) = p {
                s.band = chunks
                    .map(|c| {
                        let mean = c.iter().map(|r| t.num(r, m)).sum::<f64>() / c.len() as f64;
                        (x(c), mean, peak_of(c, p).max(mean))
                    })
                    .collect();
                s.band_label = "up to the longest queue in the bucket".into();
            }
            bottom.series.push(s);
        }
        // Older files have the peak only.
        (None, Some(p)) => bottom.series.push(Series::new(
            "origin queue: longest in the bucket",
            6,
            t.rows.chunks(k).map(|c| (x(c), peak_of(c, p))).collect(),
        )),
        (None, None) => {}
    }
    let (first, last) = match (t.rows.first(), t.rows.last()) {
        (Some(a), Some(b)) => (t.num(a, ts), t.num(b, ts) + width),
        _ => (0.0, 0.0),
    };
    let mut panels = vec![top];
    if !bottom.series.is_empty() {
        panels.push(bottom);
    }
    if let Some(w) = warmup(first, last, warmup_s) {
        for p in &mut panels {
            p.shades.push(w.clone());
        }
    }
    let bucket = seconds(width);
    let note = if k > 1 {
        format!(
            "{} buckets of {bucket} s, {k} to a point: rates are their mean, the queue's peak their largest",
            t.rows.len()
        )
    } else {
        format!("{} buckets of {bucket} s", t.rows.len())
    };
    Ok(Chart {
        file: "load".into(),
        title: "Load over time: offered, answered, refused; the origin queue".into(),
        note,
        body: Body::Panels {
            x: XAxis::Numeric(Axis::linear()),
            x_label: "simulated time (s)".into(),
            panels,
        },
    })
}

fn shade(f: &Fault) -> Shade {
    let what = match f.node {
        Some(n) => format!("{} node {n} down", f.layer),
        None => format!("{} down", f.layer),
    };
    let effect = if f.fallback {
        "requests go past it"
    } else {
        "requests fail"
    };
    Shade {
        from: f.start_s,
        to: f.start_s + f.duration_s,
        label: format!(
            "{what} ({} s to {} s): {effect}",
            seconds(f.start_s),
            seconds(f.start_s + f.duration_s)
        ),
        tag: what,
    }
}

/// The read latency's complementary CDF on log axes: the share of reads slower than x.
/// The bulk sits top left, the tail runs down to the right, so a stampede's slow reads
/// show as a shoulder instead of a sliver at the top of a CDF.
pub(super) fn latency_ccdf(t: &Table) -> Result<Chart, PlotError> {
    let (q, ms) = (t.col("quantile")?, t.col("latency_ms")?);
    let mut rows: Vec<(f64, f64)> = t
        .rows
        .iter()
        .map(|r| (t.num(r, q), t.num(r, ms)))
        .filter(|(q, ms)| q.is_finite() && ms.is_finite())
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let points: Vec<(f64, f64)> = rows
        .iter()
        .filter(|(q, ms)| *q < 1.0 && *ms > 0.0)
        .map(|&(q, ms)| (ms, 1.0 - q))
        .collect();
    let notes: Vec<Note> = PERCENTILES
        .iter()
        .filter_map(|&(p, name)| {
            let &(_, ms) = rows.iter().find(|(q, _)| (q - p).abs() < 1e-9)?;
            (ms > 0.0).then(|| Note {
                x: ms,
                y: 1.0 - p,
                text: format!("{name} {} ms", super::chart::label(ms, false)),
            })
        })
        .collect();
    let floor = points.iter().map(|p| p.1).fold(1.0f64, f64::min).max(1e-7);
    let mut series = Series::new("reads", 0, points);
    series.draw = Draw::Steps;
    let mut panel = Panel::new(
        "",
        "share of reads slower than x",
        Axis {
            range: Some((floor / 2.0, 1.3)),
            percent: true,
            ..Axis::log()
        },
    );
    panel.series.push(series);
    panel.notes = notes;
    Ok(Chart {
        file: "latency_ccdf".into(),
        title: "Read latency: the tail".into(),
        note: "complementary CDF on log axes: the share of reads slower than each latency; percentiles marked".into(),
        body: Body::Panels {
            x: XAxis::Numeric(Axis {
                scale: Scale::Log,
                ..Axis::linear()
            }),
            x_label: "end-to-end latency x (ms)".into(),
            panels: vec![panel],
        },
    })
}

/// Who answered a run's reads: one bar, a part per layer, the shares in the legend.
/// `None` when no layer answered a measured read (every share 0): no bar to draw.
pub(super) fn served_share(t: &Table) -> Result<Option<Chart>, PlotError> {
    let (name, share) = (t.col("name")?, t.col("served_share")?);
    if t.rows
        .iter()
        .all(|r| t.num(r, share) == 0.0 || t.num(r, share).is_nan())
    {
        return Ok(None);
    }
    let parts = t
        .rows
        .iter()
        .map(|r| {
            let s = t.num(r, share);
            (format!("{} {:.1}%", r[name], s * 100.0), vec![s])
        })
        .collect();
    Ok(Some(Chart {
        file: "served_share".into(),
        title: "Who answered the reads".into(),
        note: "each layer's share of the reads it answered, outermost first".into(),
        body: Body::Bars {
            rows: vec!["this run".into()],
            row_label: String::new(),
            x_label: "share of reads answered".into(),
            parts,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeseries(rows: usize, width: f64) -> Table {
        Table {
            path: "timeseries.csv".into(),
            headers: ["t_s", "origin_requests", "herd_events"]
                .map(String::from)
                .to_vec(),
            rows: (0..rows)
                .map(|i| {
                    vec![
                        format!("{}", i as f64 * width),
                        format!("{}", i % 7),
                        "0".into(),
                    ]
                })
                .collect(),
        }
    }

    fn fault(start_s: f64, duration_s: f64) -> Fault {
        Fault {
            layer: "redis".into(),
            node: None,
            start_s,
            duration_s,
            fallback: false,
        }
    }

    #[test]
    fn only_windows_within_the_series_are_shaded() {
        let t = timeseries(60, 1.0);
        let faults = [fault(10.0, 5.0), fault(59.5, 10.0), fault(100.0, 5.0)];
        let chart = origin_rps(&t, &faults, None, false).unwrap();
        let Body::Panels { panels, .. } = chart.body else {
            panic!("a line chart")
        };
        let shaded: Vec<(f64, f64)> = panels[0].shades.iter().map(|s| (s.from, s.to)).collect();
        assert_eq!(shaded, [(10.0, 15.0), (59.5, 69.5)]);
        assert_eq!(
            panels[0].shades[0].label,
            "redis down (10 s to 15 s): requests fail"
        );
    }

    /// An automatic warm-up's rows are shaded up to where the measured window starts;
    /// a warm-up before the first row (a fixed one: its rows are not written) is not.
    #[test]
    fn the_warm_up_is_shaded() {
        let t = timeseries(60, 1.0);
        let chart = origin_rps(&t, &[fault(30.0, 5.0)], Some(12.5), false).unwrap();
        let Body::Panels { panels, .. } = chart.body else {
            panic!("a line chart")
        };
        let shaded: Vec<(f64, f64)> = panels[0].shades.iter().map(|s| (s.from, s.to)).collect();
        assert_eq!(shaded, [(0.0, 12.5), (30.0, 35.0)]);
        assert!(
            panels[0].shades[0]
                .label
                .starts_with("warm-up (0 s to 12.5 s)")
        );
        let chart = origin_rps(&t, &[], Some(0.0), false).unwrap();
        let Body::Panels { panels, .. } = chart.body else {
            panic!("a line chart")
        };
        assert!(panels[0].shades.is_empty());
    }

    #[test]
    fn many_fine_buckets_are_drawn_several_to_a_point_with_their_range() {
        let chart = origin_rps(&timeseries(600, 0.1), &[], None, false).unwrap();
        assert!(
            chart.note.contains("600 buckets of 0.1 s, 4 to a point"),
            "{}",
            chart.note
        );
        let Body::Panels { panels, .. } = chart.body else {
            panic!("a line chart")
        };
        let s = &panels[0].series[0];
        assert_eq!(s.points.len(), 150);
        // Buckets 0..4 hold 0, 1, 2, 3 requests: 0 to 30/s, mean 15/s, at the middle
        // of the 0.4 s they cover.
        assert_eq!(s.band[0], (0.2, 0.0, 30.0));
        assert!((s.points[0].1 - 15.0).abs() < 1e-9);
        let few = origin_rps(&timeseries(250, 1.0), &[], None, false).unwrap();
        assert_eq!(few.note, "250 buckets of 1 s");
    }

    /// The buckets `origin_rps` marks, by their midpoints, for a run of a shipped
    /// scenario; and the run's summary.
    fn marked(name: &str) -> (Vec<f64>, Vec<f64>, u64) {
        let set = ["requests=20000", "warmup_requests=1000"]
            .map(|s| crate::scenario::Override::parse(s).unwrap());
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.toml"));
        let (_, plan) = crate::scenario::load(&path, &set).unwrap();
        let report = crate::simulate(&plan);
        let dir = tempfile::tempdir().unwrap();
        report.write(dir.path()).unwrap();
        let t = Table::read(&dir.path().join("timeseries.csv"))
            .unwrap()
            .unwrap();
        assert!(t.rows.len() <= MAX_POINTS, "one bucket to a point");
        let chart = origin_rps(&t, &[], None, false).unwrap();
        let Body::Panels { panels, .. } = chart.body else {
            panic!("a line chart")
        };
        let width = plan.bucket.as_secs_f64();
        let with_events: Vec<f64> = report
            .timeseries
            .iter()
            .filter(|b| b.herd_events > 0)
            .map(|b| b.t_s + width / 2.0)
            .collect();
        let in_buckets = report.timeseries.iter().map(|b| b.herd_events).sum();
        assert_eq!(in_buckets, report.origin.herd_events, "{name}");
        (panels[0].rug.0.clone(), with_events, in_buckets)
    }

    /// Issue 16: the CDN outage's chart marked every bucket as a herd while its summary
    /// said 0 herd events. The marks are now the buckets with herd events, whose sum is
    /// the summary's count.
    #[test]
    fn the_chart_marks_exactly_the_buckets_with_herd_events() {
        let (marks, buckets, events) = marked("cdn_outage");
        assert_eq!((marks.len(), buckets.len(), events), (0, 0, 0));
        let (marks, buckets, events) = marked("hot_key_stampede");
        assert!(events > 10 && !marks.is_empty(), "{events} herd events");
        assert_eq!(marks.len(), buckets.len());
        for (m, b) in marks.iter().zip(&buckets) {
            assert!((m - b).abs() < 1e-9, "{marks:?} vs {buckets:?}");
        }
    }

    /// The charts of a short run of a shipped scenario, its resolved scenario stored
    /// beside the outputs as `tiersim run` stores it.
    fn charts_of_run(name: &str, set: &[&str]) -> Vec<Chart> {
        let set: Vec<_> = set
            .iter()
            .map(|s| crate::scenario::Override::parse(s).unwrap())
            .collect();
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.toml"));
        let (scenario, plan) = crate::scenario::load(&path, &set).unwrap();
        let report = crate::simulate(&plan);
        let dir = tempfile::tempdir().unwrap();
        report.write(dir.path()).unwrap();
        std::fs::write(
            dir.path().join("scenario.json"),
            serde_json::to_vec(&scenario).unwrap(),
        )
        .unwrap();
        super::super::charts_of(dir.path()).unwrap().0
    }

    /// A run that left no warm-up out shades none, though its `warmup_s` (the first
    /// arrival's time) is after the first row's start.
    #[test]
    fn no_warm_up_is_shaded_when_none_was_left_out() {
        let charts = charts_of_run("flash_crowd", &["duration_s=45", "warmup_requests=0"]);
        assert!(!charts.is_empty());
        for c in &charts {
            let text = format!("{c:?}");
            assert!(!text.contains("warm-up ("), "{}: {text:.200}", c.title);
        }
    }

    /// A profiled run (the flash crowd) gets the load chart with offered load, goodput,
    /// failures and the origin queue; a constant-rate run without overload controls
    /// (the app tier) gets none.
    #[test]
    fn load_is_drawn_for_a_profiled_run_only() {
        // 45 s: the crowd starts at 35 s and peaks 5 s later.
        let charts = charts_of_run("flash_crowd", &["duration_s=45", "warmup_requests=1000"]);
        let load = charts
            .iter()
            .find(|c| c.file == "load")
            .expect("a load chart");
        let Body::Panels { panels, .. } = &load.body else {
            panic!("a line chart")
        };
        let names: Vec<&str> = panels
            .iter()
            .flat_map(|p| p.series.iter().map(|s| s.name.as_str()))
            .collect();
        for want in [
            "offered load: arrivals/s",
            "goodput: answered/s",
            "failed/s",
            "origin queue: time-weighted mean",
        ] {
            assert!(names.contains(&want), "{want} missing in {names:?}");
        }
        let queue = &panels[1].series[0];
        assert_eq!(queue.band.len(), queue.points.len(), "the peak as a band");
        // The crowd's peak (5× the base of 2,000/s) shows in the offered load.
        let offered = &panels[0].series[0].points;
        let peak = offered.iter().map(|p| p.1).fold(0.0, f64::max);
        assert!(peak > 6_000.0, "peak offered {peak}/s");
        assert!(
            charts_of_run("app_tier", &["requests=20000", "warmup_requests=1000"])
                .iter()
                .all(|c| c.file != "load"),
            "a constant rate without overload controls draws no load chart"
        );
    }

    /// The new columns of the overload work are drawn when the file has them.
    #[test]
    fn load_reads_rejections_timeouts_and_retries_when_present() {
        let t = Table {
            path: "timeseries.csv".into(),
            headers: [
                "t_s",
                "requests",
                "completed",
                "failed",
                "rejected",
                "timeouts",
                "retries",
            ]
            .map(String::from)
            .to_vec(),
            rows: (0..10)
                .map(|i| {
                    [i, 100, 90, 10, 4, 3, 20]
                        .iter()
                        .map(|v| v.to_string())
                        .collect()
                })
                .collect(),
        };
        let chart = load(&t, Some(2.0)).unwrap();
        let Body::Panels { panels, .. } = &chart.body else {
            panic!("a line chart")
        };
        // No queue columns: one panel.
        assert_eq!(panels.len(), 1);
        let rates: Vec<(&str, f64)> = panels[0]
            .series
            .iter()
            .map(|s| (s.name.as_str(), s.points[0].1))
            .collect();
        assert_eq!(rates.len(), 6, "{rates:?}");
        assert_eq!(rates[4], ("timeouts/s", 3.0));
        assert_eq!(rates[5], ("retries/s", 20.0));
        assert_eq!(
            (panels[0].shades[0].from, panels[0].shades[0].to),
            (0.0, 2.0)
        );
    }

    #[test]
    fn seconds_have_no_float_noise() {
        assert_eq!(seconds(0.10000000000000009), "0.1");
        assert_eq!(seconds(60.0), "60");
        assert_eq!(seconds(0.000_000_001), "0.000000001");
    }
}
