//! `tiersim plot` and `--plot`: every chart kind renders and is labelled, legends sit
//! outside the plot areas, categorical sweeps and replications draw what they should,
//! fault windows are shaded, and SVG text needs no font.
//!
//! The SVG checks read element positions with roxmltree: a chart's grid lines (`<line>`)
//! span its plot areas, and each piece of text is a `<g aria-label="...">` placed by its
//! leading `translate(x y)`.

use std::fs;
use std::path::Path;

use crate::support::{repo, stderr, tiersim, tiersim_ok};

/// Decodes a PNG, checks its size, and that it is not blank: a chart has a white
/// background, dark axes and coloured marks, so many distinct colours.
fn check_png(path: &Path) {
    let decoder = png::Decoder::new(fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert!(info.width >= 900, "{}", path.display());
    assert!(info.height >= 200, "{}", path.display());
    let bytes = &buf[..info.buffer_size()];
    let step = info.color_type.samples();
    let colours: std::collections::HashSet<&[u8]> = bytes.chunks(step).collect();
    assert!(
        colours.len() > 16,
        "{}: only {} colours",
        path.display(),
        colours.len()
    );
    let non_white = bytes
        .chunks(step)
        .filter(|p| p.iter().any(|&c| c < 250))
        .count();
    assert!(non_white > 2_000, "{}: nearly blank", path.display());
}

/// An SVG chart, parsed.
struct Svg {
    path: String,
    text: String,
}

/// A piece of text: what it says and where its anchor is.
#[derive(Debug)]
struct Label {
    text: String,
    x: f64,
    y: f64,
}

impl Svg {
    fn read(path: &Path) -> Svg {
        Svg {
            path: path.display().to_string(),
            text: fs::read_to_string(path).unwrap(),
        }
    }

    fn doc(&self) -> roxmltree::Document<'_> {
        let doc = roxmltree::Document::parse(&self.text).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        doc
    }

    fn elements<'a>(
        doc: &'a roxmltree::Document<'a>,
        tag: &'a str,
    ) -> impl Iterator<Item = roxmltree::Node<'a, 'a>> {
        doc.descendants()
            .filter(move |n| n.tag_name().name() == tag)
    }

    fn labels(&self) -> Vec<Label> {
        let doc = self.doc();
        Self::elements(&doc, "g")
            .filter_map(|g| {
                let text = g.attribute("aria-label")?.to_owned();
                let t = g.attribute("transform")?;
                let inner = t.strip_prefix("translate(")?.split(')').next()?;
                let mut xy = inner.split([' ', ',']).filter(|s| !s.is_empty());
                let x = xy.next()?.parse().ok()?;
                let y = xy.next()?.parse().ok()?;
                Some(Label { text, x, y })
            })
            .collect()
    }

    fn label(&self, text: &str) -> Label {
        self.labels()
            .into_iter()
            .find(|l| l.text == text)
            .unwrap_or_else(|| panic!("{} has no text `{text}`", self.path))
    }

    fn has(&self, text: &str) -> bool {
        self.labels().iter().any(|l| l.text == text)
    }

    /// The box the grid lines span: every plot area of the chart.
    fn plot_box(&self) -> (f64, f64, f64, f64) {
        let doc = self.doc();
        let mut b = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for l in Self::elements(&doc, "line") {
            let v = |a| l.attribute(a).unwrap().parse::<f64>().unwrap();
            for (x, y) in [(v("x1"), v("y1")), (v("x2"), v("y2"))] {
                b = (b.0.min(x), b.1.max(x), b.2.min(y), b.3.max(y));
            }
        }
        assert!(b.0 < b.1, "{}: no grid lines", self.path);
        b
    }

    /// Filled shapes drawn with some transparency (bands, shades), as their elements.
    fn translucent<'a>(
        doc: &'a roxmltree::Document<'a>,
        tag: &'a str,
    ) -> impl Iterator<Item = roxmltree::Node<'a, 'a>> {
        Self::elements(doc, tag).filter(|n| {
            n.attribute("opacity")
                .and_then(|o| o.parse::<f64>().ok())
                .is_some_and(|o| o < 0.5)
                && n.attribute("fill").is_some_and(|f| f != "none")
        })
    }
}

/// The text in an SVG is drawn as glyph outlines: no `<text>` element, every glyph a
/// `<use>` of a path defined in the file, the words kept in `aria-label`.
fn check_svg_text(svg: &Svg) {
    let doc = svg.doc();
    assert_eq!(
        Svg::elements(&doc, "text").count(),
        0,
        "{}: <text> depends on the viewer's fonts",
        svg.path
    );
    let defined: std::collections::HashSet<&str> = Svg::elements(&doc, "path")
        .filter_map(|p| p.attribute("id"))
        .collect();
    let uses: Vec<_> = Svg::elements(&doc, "use").collect();
    assert!(uses.len() > 20, "{}: no glyphs", svg.path);
    for u in uses {
        let href = u
            .attributes()
            .find(|a| a.name() == "href")
            .map(|a| a.value())
            .unwrap();
        assert!(
            defined.contains(href.trim_start_matches('#')),
            "{}: glyph {href} not defined",
            svg.path
        );
    }
}

/// Every entry of `legend` is written to the right of every plot area, and no text of
/// its name lies inside one. A long entry wraps: its first line starts it.
fn check_legend_outside(svg: &Svg, legend: &[&str]) {
    let (left, right, top, bottom) = svg.plot_box();
    let labels = svg.labels();
    for entry in legend {
        let lines: Vec<&Label> = labels
            .iter()
            .filter(|l| {
                l.text == *entry
                    || (l.x > right
                        && l.text.len() >= 10
                        && entry.starts_with(&format!("{} ", l.text)))
            })
            .collect();
        assert!(
            lines.iter().any(|l| l.x > right),
            "{}: legend entry `{entry}` is not right of the plot areas (right edge {right}): {lines:?}",
            svg.path,
        );
        for l in lines {
            assert!(
                !(l.x > left && l.x < right && l.y > top && l.y < bottom),
                "{}: `{entry}` written inside a plot area at {l:?}",
                svg.path
            );
        }
    }
}

/// Polygons that shade an interval: translucent, or tinted (every channel of the fill
/// light; no marker colour is).
fn bands(svg: &Svg) -> usize {
    let doc = svg.doc();
    let tinted = |fill: &str| {
        let hex = fill.trim_start_matches('#');
        hex.len() == 6
            && (0..3).all(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap() >= 0xCC)
    };
    Svg::elements(&doc, "polygon")
        .filter(|p| {
            let translucent = p
                .attribute("opacity")
                .and_then(|o| o.parse::<f64>().ok())
                .is_some_and(|o| o < 0.5);
            translucent || p.attribute("fill").is_some_and(tinted)
        })
        .count()
}

/// Translucent rectangles within the plot areas: shaded windows.
fn shades(svg: &Svg) -> Vec<(f64, f64)> {
    let (left, right, _, _) = svg.plot_box();
    let doc = svg.doc();
    Svg::translucent(&doc, "rect")
        .map(|r| {
            let v = |a| r.attribute(a).unwrap().parse::<f64>().unwrap();
            (v("x"), v("x") + v("width"))
        })
        .filter(|&(a, b)| a >= left && b <= right)
        .collect()
}

#[test]
fn run_plot_draws_load_latency_tail_and_who_answered() {
    let dir = tempfile::tempdir().unwrap();
    tiersim_ok(
        dir.path(),
        &[
            "run",
            "-q",
            "--plot",
            "--out",
            "r",
            "--set",
            "requests=30000",
            "--set",
            "warmup_requests=3000",
        ],
    );
    let r = dir.path().join("r");
    for (chart, labels, legend) in [
        (
            "origin_rps",
            &["simulated time (s)", "origin requests per second"][..],
            &["origin requests/s"][..],
        ),
        (
            "latency_ccdf",
            &["end-to-end latency x (ms)", "share of reads slower than x"][..],
            &["reads"][..],
        ),
        (
            "served_share",
            &["share of reads answered", "this run"][..],
            &[][..],
        ),
    ] {
        check_png(&r.join(format!("{chart}.png")));
        let svg = Svg::read(&r.join(format!("{chart}.svg")));
        check_svg_text(&svg);
        for label in labels {
            assert!(svg.has(label), "{chart}.svg lacks `{label}`");
        }
        check_legend_outside(&svg, legend);
    }
    // Who answered: one entry per layer with its share, beside the bar.
    let svg = Svg::read(&r.join("served_share.svg"));
    let layers: Vec<String> = svg
        .labels()
        .into_iter()
        .map(|l| l.text)
        .filter(|t| t.starts_with("db ") && t.ends_with('%'))
        .collect();
    assert_eq!(layers.len(), 1, "{layers:?}");
    check_legend_outside(&svg, &[layers[0].as_str()]);
}

/// The hot key's latency: 90% of reads hit Redis (0.3 ms), the rest wait for the 10 ms
/// query. A CDF put the tail in a sliver at its top; the complementary CDF shows the
/// 10% plateau and marks p50 at the hit latency and p99 at the query's.
#[test]
fn the_hot_key_latency_chart_shows_its_tail_with_percentiles() {
    let dir = tempfile::tempdir().unwrap();
    let s = repo().join("scenarios/hot_key_stampede.toml");
    tiersim_ok(
        dir.path(),
        &["run", s.to_str().unwrap(), "-q", "--plot", "--out", "h"],
    );
    let svg = Svg::read(&dir.path().join("h/latency_ccdf.svg"));
    for tick in ["100%", "10%", "1%", "0.1%", "0.01%"] {
        assert!(svg.has(tick), "no y tick {tick}");
    }
    let find = |p: &str| {
        svg.labels()
            .into_iter()
            .find(|l| l.text.starts_with(&format!("{p} ")))
            .unwrap_or_else(|| panic!("percentile {p} not marked"))
    };
    let (p50, p99, p999) = (find("p50"), find("p99"), find("p99.9"));
    // Redis answers in 0.3 ms, the database in 10 ms plus the hop.
    assert!(p50.text.starts_with("p50 0.3"), "{}", p50.text);
    assert!(p99.text.starts_with("p99 10."), "{}", p99.text);
    // On log axes: p99 is right of p50, and p99.9 a decade below p99.
    assert!(p99.x > p50.x + 200.0, "{p50:?} {p99:?}");
    assert!(p999.y > p99.y + 30.0, "{p99:?} {p999:?}");

    // 600 buckets of 0.1 s are drawn 4 to a point, their range as a band.
    let svg = Svg::read(&dir.path().join("h/origin_rps.svg"));
    assert!(
        svg.labels()
            .iter()
            .any(|l| l.text.contains("buckets of 0.1 s, 4 to a point")),
        "no note of the aggregation"
    );
    let doc = svg.doc();
    let longest = Svg::elements(&doc, "polyline")
        .map(|p| p.attribute("points").unwrap().split_whitespace().count())
        .max()
        .unwrap();
    assert!(longest <= 160, "the load line has {longest} points");
    // The band: a quad per step.
    let band = bands(&svg);
    assert!(band >= 100, "no range band: {band} quads");
    check_legend_outside(&svg, &["range of the 0.1 s buckets"]);
}

#[test]
fn fault_windows_are_shaded_from_the_scenario_beside() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = fs::read_to_string(repo().join("scenarios/hot_key_stampede.toml")).unwrap()
        + "\n[[faults]]\nlayer = \"redis\"\nstart_s = 20\nduration_s = 10\nfallback = true\n";
    fs::write(dir.path().join("s.toml"), &scenario).unwrap();
    tiersim_ok(dir.path(), &["run", "s.toml", "-q", "--out", "f"]);
    let f = dir.path().join("f");

    // `run` leaves the scenario as run beside its outputs (scenario.json): shaded.
    tiersim_ok(dir.path(), &["plot", "f", "--format", "svg"]);
    let svg = Svg::read(&f.join("origin_rps.svg"));
    assert_eq!(
        shades(&svg).len(),
        1,
        "the run's own scenario.json gives the window"
    );
    // Without a scenario beside, nothing says where the fault was: no shade.
    fs::remove_file(f.join("scenario.json")).unwrap();
    tiersim_ok(dir.path(), &["plot", "f", "--format", "svg"]);
    let svg = Svg::read(&f.join("origin_rps.svg"));
    assert_eq!(shades(&svg), []);

    fs::write(f.join("scenario.toml"), &scenario).unwrap();
    tiersim_ok(dir.path(), &["plot", "f", "--format", "svg"]);
    let svg = Svg::read(&f.join("origin_rps.svg"));
    check_svg_text(&svg);
    let shades = shades(&svg);
    assert_eq!(shades.len(), 1, "{shades:?}");
    // The window spans the x ticks at 20 s and 30 s, to the pixel.
    let (from, to) = shades[0];
    let (t20, t30) = (svg.label("20").x, svg.label("30").x);
    assert!(
        (from - t20).abs() <= 1.5 && (to - t30).abs() <= 1.5,
        "shade {from}..{to}, ticks {t20}, {t30}"
    );
    let entry = "redis down (20 s to 30 s): requests go past it";
    check_legend_outside(&svg, &[entry]);
    assert!(svg.has("redis down"), "the window is not tagged");
}

#[test]
fn sweep_charts_have_labelled_axes_markers_and_legends_outside() {
    let dir = tempfile::tempdir().unwrap();
    let q = repo().join("scenarios/app_tier.toml");
    tiersim_ok(
        dir.path(),
        &[
            "sweep",
            q.to_str().unwrap(),
            "-q",
            "--out",
            "s",
            "--grid",
            "layers.redis.capacity=1000..100000 log 3",
            "--grid",
            "layers.redis.policy=lru,fifo",
            "--set",
            "requests=20000",
            "--set",
            "warmup_requests=2000",
        ],
    );
    tiersim_ok(
        dir.path(),
        &["plot", "s", "--out", "charts", "--format", "svg"],
    );
    let charts = dir.path().join("charts");
    assert!(!charts.join("sweep_hit_ratio.png").exists(), "svg only");
    let svg = Svg::read(&charts.join("sweep_hit_ratio.svg"));
    check_svg_text(&svg);
    for label in [
        "redis.capacity (entries)",
        "hit ratio",
        "layer l1",
        "layer redis",
        // The grid's values are the ticks.
        "1k",
        "10k",
        "100k",
    ] {
        assert!(svg.has(label), "sweep_hit_ratio.svg lacks `{label}`");
    }
    check_legend_outside(&svg, &["redis.policy=lru", "redis.policy=fifo"]);
    // A marker on every point: 3 sizes x 2 policies x 2 panels, and one per legend entry.
    assert!(Svg::elements(&svg.doc(), "circle").count() >= 6);
    // One run per point: no interval to shade.
    assert_eq!(bands(&svg), 0);

    let svg = Svg::read(&charts.join("sweep_latency.svg"));
    for label in ["latency (ms)", "median (p50)", "p99", "p99.9"] {
        assert!(svg.has(label), "sweep_latency.svg lacks `{label}`");
    }
    check_legend_outside(&svg, &["redis.policy=lru", "redis.policy=fifo"]);

    let svg = Svg::read(&charts.join("sweep_served_share.svg"));
    for label in [
        "share of reads answered",
        "redis.capacity, redis.policy",
        // Each bar is labelled with its grid point.
        "1000, lru",
        "100000, fifo",
    ] {
        assert!(svg.has(label), "sweep_served_share.svg lacks `{label}`");
    }
    check_legend_outside(&svg, &["l1", "redis", "db"]);
}

/// A sweep over the stampede defences alone: its only axis is categorical, so the
/// points stand side by side at their categories (the chart used to be empty), and
/// with replications each carries its 95% interval.
#[test]
fn a_categorical_sweep_draws_points_at_its_categories_with_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let s = repo().join("scenarios/hot_key_stampede.toml");
    tiersim_ok(
        dir.path(),
        &[
            "sweep",
            s.to_str().unwrap(),
            "-q",
            "--plot",
            "--out",
            "m",
            "--grid",
            "layers.redis.stampede.mode=none,coalesce,xfetch",
            "--replications",
            "3",
            "--set",
            "requests=6000",
        ],
    );
    let svg = Svg::read(&dir.path().join("m/sweep_hit_ratio.svg"));
    check_svg_text(&svg);
    let (left, right, top, bottom) = svg.plot_box();
    let (none, coalesce, xfetch) = (
        svg.label("none"),
        svg.label("coalesce"),
        svg.label("xfetch"),
    );
    assert!(none.x < coalesce.x && coalesce.x < xfetch.x);
    assert!(svg.has("redis.stampede.mode"));
    // One marker per category inside the plot area, at its category's x.
    let doc = svg.doc();
    let inside: Vec<(f64, f64)> = Svg::elements(&doc, "circle")
        .map(|c| {
            let v = |a| c.attribute(a).unwrap().parse::<f64>().unwrap();
            (v("cx"), v("cy"))
        })
        .filter(|&(x, y)| x > left && x < right && y >= top && y <= bottom)
        .collect();
    for cat in [&none, &coalesce, &xfetch] {
        assert!(
            inside.iter().any(|p| (p.0 - cat.x).abs() < 2.0),
            "no point at {cat:?}: {inside:?}"
        );
    }
    // Error bars: a vertical line with caps per point, and a legend entry.
    let entry = "95% confidence interval (3 replications, Student's t)";
    check_legend_outside(&svg, &["hit ratio", entry]);
    assert!(
        svg.has("3 grid points, each the mean of 3 replications, with its 95% confidence interval")
    );
    let bars = Svg::elements(&doc, "polyline")
        .filter(|p| {
            let pts: Vec<&str> = p.attribute("points").unwrap().split_whitespace().collect();
            pts.len() == 2 && {
                let xy = |s: &str| -> (f64, f64) {
                    let (x, y) = s.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                };
                let (a, b) = (xy(pts[0]), xy(pts[1]));
                // Vertical, inside the plot area (tick marks hang below it).
                a.0 == b.0
                    && a.0 > left
                    && a.0 < right
                    && a.1 != b.1
                    && a.1.min(b.1) >= top
                    && a.1.max(b.1) <= bottom
            }
        })
        .count();
    assert!(bars >= 2, "no error bars");

    let svg = Svg::read(&dir.path().join("m/sweep_latency.svg"));
    assert!(
        Svg::elements(&svg.doc(), "circle").count() >= 9,
        "empty latency chart"
    );
    check_png(&dir.path().join("m/sweep_latency.png"));
}

/// Replications put a 95% confidence band around each line of a numeric sweep.
#[test]
fn replications_draw_confidence_bands() {
    let dir = tempfile::tempdir().unwrap();
    let q = repo().join("scenarios/app_tier.toml");
    tiersim_ok(
        dir.path(),
        &[
            "sweep",
            q.to_str().unwrap(),
            "-q",
            "--plot",
            "--out",
            "s",
            "--grid",
            "layers.redis.capacity=1000..100000 log 3",
            "--replications",
            "3",
            "--set",
            "requests=10000",
            "--set",
            "warmup_requests=1000",
        ],
    );
    for chart in ["sweep_hit_ratio", "sweep_latency"] {
        let svg = Svg::read(&dir.path().join(format!("s/{chart}.svg")));
        // A band per panel (two cache layers, three percentiles), a quad per step.
        let bands = bands(&svg);
        assert!(bands >= 4, "{chart}: {bands} band quads");
        check_legend_outside(
            &svg,
            &["95% confidence interval (3 replications, Student's t)"],
        );
    }
}

/// Forty-five grid points: the who-answered chart draws a labelled bar for every one
/// (it used to drop the chart above 40 points without a word).
#[test]
fn who_answered_keeps_every_grid_point() {
    let dir = tempfile::tempdir().unwrap();
    let s = repo().join("scenarios/hot_key_stampede.toml");
    tiersim_ok(
        dir.path(),
        &[
            "sweep",
            s.to_str().unwrap(),
            "-q",
            "--plot",
            "--out",
            "w",
            "--grid",
            "layers.redis.ttl_s=0.1..4.5 step 0.1",
            "--set",
            "requests=2000",
            "--set",
            "warmup_requests=100",
        ],
    );
    let svg = Svg::read(&dir.path().join("w/sweep_served_share.svg"));
    let rows: Vec<Label> = svg
        .labels()
        .into_iter()
        .filter(|l| l.text.parse::<f64>().is_ok() && l.x < 200.0)
        .collect();
    assert_eq!(rows.len(), 45, "{rows:?}");
    // One below the other.
    assert!(rows.windows(2).all(|w| w[1].y > w[0].y + 10.0));
    check_png(&dir.path().join("w/sweep_served_share.png"));
}

#[test]
fn replay_draws_the_miss_ratio_curve() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("rp")).unwrap();
    fs::write(
        dir.path().join("rp/replay.csv"),
        "policy,size,size_unit,requests,misses,miss_ratio,bytes,miss_bytes,byte_miss_ratio\n\
         lru,10,entries,100,80,0.8,100,80,0.8\nlru,100,entries,100,40,0.4,100,40,0.4\n\
         fifo,10,entries,100,85,0.85,100,85,0.85\nfifo,100,entries,100,45,0.45,100,45,0.45\n",
    )
    .unwrap();
    tiersim_ok(dir.path(), &["plot", "rp"]);
    check_png(&dir.path().join("rp/miss_ratio_curve.png"));
    let svg = Svg::read(&dir.path().join("rp/miss_ratio_curve.svg"));
    check_svg_text(&svg);
    for label in ["cache size (entries)", "miss ratio", "10", "100"] {
        assert!(svg.has(label), "miss_ratio_curve.svg lacks `{label}`");
    }
    check_legend_outside(&svg, &["lru", "fifo"]);
}

#[test]
fn plot_of_an_empty_or_missing_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("empty")).unwrap();
    let out = tiersim(dir.path(), &["plot", "empty"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no run, sweep or replay output here"),
        "{}",
        stderr(&out)
    );
    let out = tiersim(dir.path(), &["plot", "absent"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("absent is not a folder"));
}

#[test]
fn a_bad_fault_list_beside_the_outputs_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("r")).unwrap();
    fs::write(
        dir.path().join("r/timeseries.csv"),
        "t_s,requests,origin_requests,origin_queue,origin_herd\n0.0,10,1,0,0\n1.0,10,2,0,0\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("r/scenario.toml"),
        "[[faults]]\nlayer = \"redis\"\nduration_s = 5\n",
    )
    .unwrap();
    let out = tiersim(dir.path(), &["plot", "r"]);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(
        e.contains("scenario.toml") && e.contains("faults[0]") && e.contains("start_s"),
        "{e}"
    );
}
