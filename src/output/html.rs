//! The one-file HTML report (`tiersim report DIR`, `run --report`, `sweep --report`):
//! the scenario, the per-layer table, every chart the folder supports as inline SVG,
//! the theory comparison, the warnings and the command that reproduces the run, in one
//! self-contained page with inline CSS and no script, font or network request.
//!
//! It reads a folder's output files (`summary.json`, `layers.csv`, `scenario.json`,
//! `sweep_summary.csv`, `replay.csv`) as plain JSON and CSV, like [`crate::output::plot`],
//! so it reports any run's files. Every string from those files goes through [`escape`].
//! The page is written with plain `format!` and one audited escape function rather than
//! a template crate: it is one page of fixed structure, and a template engine would add
//! a proc-macro build for no check that [`escape`] does not already give.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::output::plot::{PlotError, SvgChart, svg_charts};
use crate::output::report::{OutputError, write_atomic};

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    /// A file of the folder could not be read or parsed.
    #[error("cannot read {path}: {message}")]
    Input {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The charts could not be drawn (or the folder holds no output).
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// The page could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl HtmlError {
    /// Whether the error is the user's input to fix (exit code 2) rather than a failed
    /// write (1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            HtmlError::Input { .. } => true,
            HtmlError::Plot(PlotError::Nothing(_) | PlotError::Input { .. }) => true,
            HtmlError::Plot(_) | HtmlError::Output(_) => false,
        }
    }
}

/// What the folder itself does not hold: the scenario file (for its header comment) and
/// the command that produced the folder.
#[derive(Debug, Default, Clone)]
pub struct Context {
    /// The scenario file as the user wrote it; its leading `#` comment is shown (absent:
    /// `scenario.toml` in the folder, if there is one).
    pub source: Option<PathBuf>,
    /// The command that reproduces the folder, when known (`run --report` knows its own).
    pub command: Option<String>,
}

/// Escapes text for HTML (one function for the page and the SVG charts in it).
pub use super::escape;

/// The leading comment of a TOML scenario file: its first lines that start with `#`,
/// without the `#`; empty for a file with none (a JSON scenario).
pub fn header_comment(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .take_while(|l| l.trim_start().starts_with('#'))
        .map(|l| {
            let l = l.trim_start().trim_start_matches('#');
            l.strip_prefix(' ').unwrap_or(l)
        })
        .collect();
    lines.join("\n").trim_end().to_owned()
}

/// A CSV file's header and rows.
type Rows = (Vec<String>, Vec<Vec<String>>);

/// A CSV file as a header and rows, or `None` when it is absent.
fn csv(path: &Path) -> Result<Option<Rows>, HtmlError> {
    if !path.is_file() {
        return Ok(None);
    }
    let err = |e: csv::Error| HtmlError::Input {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(err)?;
    let header = r.headers().map_err(err)?.iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.map(|r| r.iter().map(String::from).collect()))
        .collect::<Result<_, _>>()
        .map_err(err)?;
    Ok(Some((header, rows)))
}

/// A JSON file, or `None` when it is absent.
fn json(path: &Path) -> Result<Option<Value>, HtmlError> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(HtmlError::Input {
                path: path.to_owned(),
                message: e.to_string(),
            });
        }
    };
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|e| HtmlError::Input {
            path: path.to_owned(),
            message: e.to_string(),
        })
}

/// A number for a table: integers as written, fractions to four significant figures.
fn number(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
        Value::Number(n) => short(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// `x` to four significant figures, without exponent for everyday magnitudes.
fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
    format!("{x:.digits$}")
}

/// A cell of a CSV table: numbers right-aligned, to four significant figures.
fn cell(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(x) if !text.is_empty() => {
            let shown = if text.contains('.') || text.contains('e') {
                short(x)
            } else {
                text.to_owned()
            };
            format!(r#"<td class="n">{}</td>"#, escape(&shown))
        }
        _ => format!("<td>{}</td>", escape(text)),
    }
}

/// A table; `round` shows numbers to four significant figures (measurements), else as
/// written (settings).
fn table(
    out: &mut String,
    id: &str,
    caption: &str,
    header: &[String],
    rows: &[Vec<String>],
    round: bool,
) {
    let _ = write!(
        out,
        r#"<table id="{id}"><caption>{}</caption><thead><tr>"#,
        escape(caption)
    );
    for h in header {
        // Field names break only after an underscore.
        let _ = write!(
            out,
            r#"<th scope="col">{}</th>"#,
            escape(h).replace('_', "_<wbr>")
        );
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            if round {
                out.push_str(&cell(c));
            } else {
                let _ = write!(out, "<td>{}</td>", escape(c));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

/// The columns of `layers.csv` the page shows, in this order (the file has them all).
const LAYER_COLUMNS: [&str; 11] = [
    "name",
    "kind",
    "policy",
    "requests",
    "hits",
    "hit_ratio",
    "served_share",
    "evictions",
    "expirations",
    "served_p50_ms",
    "served_p99_ms",
];

/// The warnings a reader must see before trusting the figures.
fn warnings(summary: &Value) -> Vec<String> {
    let mut w = Vec::new();
    let u = |k: &str| summary.get(k).and_then(Value::as_u64).unwrap_or(0);
    if summary.get("complete") == Some(&Value::Bool(false)) {
        w.push(
            "Incomplete run: it was stopped early (\"complete\": false); the figures cover \
             only what was measured."
                .to_owned(),
        );
    }
    if summary.get("steady") == Some(&Value::Bool(false)) {
        let why = summary
            .get("steady_reason")
            .and_then(Value::as_str)
            .unwrap_or("no reason given");
        w.push(format!(
            "Not in steady state: {why}. Rates and ratios may still be drifting."
        ));
    }
    if u("leaks") > 0 {
        w.push(format!(
            "Leaks: {} private responses were served from a shared cache to another user.",
            u("leaks")
        ));
    }
    if u("lost_writes") > 0 {
        w.push(format!(
            "Lost writes: {} writes were lost (a write-back cache crashed before flushing).",
            u("lost_writes")
        ));
    }
    if u("stale_reads") > 0 {
        let p99 = summary
            .pointer("/stale_read_age_ms/p99")
            .map(number)
            .unwrap_or_default();
        w.push(format!(
            "Stale reads: {} reads returned an older version than the origin held (p99 age {p99} ms).",
            u("stale_reads")
        ));
    }
    if let (Some(to), Some(from)) = (
        summary.get("bucket_s").and_then(Value::as_f64),
        summary
            .get("bucket_coarsened_from_s")
            .and_then(Value::as_f64),
    ) {
        w.push(format!(
            "Coarsened time series: timeseries.csv has rows of {} s, not the {} s the \
             scenario asked for (the run would have needed too many rows).",
            short(to),
            short(from)
        ));
    }
    if let Some(cut) = summary.get("timeseries_cut_at_s").and_then(Value::as_f64) {
        w.push(format!(
            "Cut time series: timeseries.csv has no rows from {} s on (every other figure \
             covers the whole run).",
            short(cut)
        ));
    }
    w
}

/// Key settings of a resolved scenario (`scenario.json`): top-level and workload
/// scalars, and one line per layer.
fn settings(scenario: &Value) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    // Settings as written in the file, not rounded like measurements.
    let raw = |v: &Value| match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    let scalar = |v: &Value| match v {
        Value::Object(_) | Value::Array(_) => None,
        v => Some(raw(v)),
    };
    if let Some(obj) = scenario.as_object() {
        for (k, v) in obj {
            if let Some(s) = scalar(v) {
                rows.push((k.clone(), s));
            }
        }
    }
    if let Some(w) = scenario.get("workload").and_then(Value::as_object) {
        for (k, v) in w {
            match (scalar(v), v) {
                (Some(s), _) => rows.push((format!("workload.{k}"), s)),
                (None, Value::Object(o)) if k == "popularity" => {
                    let s: Vec<String> = o.iter().map(|(k, v)| format!("{k}={}", raw(v))).collect();
                    rows.push((format!("workload.{k}"), s.join(", ")));
                }
                _ => {}
            }
        }
    }
    if let Some(layers) = scenario.get("layers").and_then(Value::as_array) {
        for l in layers {
            let name = l.get("name").map(raw).unwrap_or_default();
            let mut parts = Vec::new();
            for (k, v) in l.as_object().into_iter().flatten() {
                if k == "name" {
                    continue;
                }
                match v {
                    Value::Object(o) if k == "policy" => {
                        parts.push(format!(
                            "policy={}",
                            o.get("name").map(raw).unwrap_or_default()
                        ));
                    }
                    Value::Object(o) => {
                        let inner: Vec<String> = o
                            .iter()
                            .filter_map(|(k, v)| scalar(v).map(|v| format!("{k}={v}")))
                            .collect();
                        parts.push(format!("{k}=({})", inner.join(", ")));
                    }
                    Value::Array(_) => {}
                    v => parts.push(format!("{k}={}", raw(v))),
                }
            }
            rows.push((format!("layers.{name}"), parts.join(", ")));
        }
    }
    rows
}

fn theory(out: &mut String, rows: &[Value]) {
    out.push_str(
        "<section id=\"theory\"><h2>Theory beside the simulation</h2>\n<p>Where a closed \
         form applies, its prediction next to the simulated figure; where it does not, which \
         assumption fails. The gap is itself a lesson.</p>\n",
    );
    out.push_str(
        "<table id=\"theory-table\"><caption>Closed-form models against the simulation</caption>\
         <thead><tr><th scope=\"col\">layer</th><th scope=\"col\">quantity</th>\
         <th scope=\"col\">model</th><th scope=\"col\">predicted</th>\
         <th scope=\"col\">simulated</th><th scope=\"col\">gap</th></tr></thead><tbody>\n",
    );
    for r in rows {
        let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("");
        let num = |k: &str| r.get(k).and_then(Value::as_f64);
        let (model, predicted, gap) = match r.get("fails").and_then(Value::as_str) {
            Some(why) => (
                format!(r#"<td class="fails">does not apply: {}</td>"#, escape(why)),
                "—".to_owned(),
                "—".to_owned(),
            ),
            None => (
                format!("<td>{}</td>", escape(text("model"))),
                num("predicted").map_or("—".into(), short),
                match (num("predicted"), num("simulated")) {
                    (Some(p), Some(s)) if p != 0.0 => format!("{:+.1}%", (s - p) / p * 100.0),
                    _ => "—".into(),
                },
            ),
        };
        let _ = writeln!(
            out,
            r#"<tr><td>{}</td><td>{}</td>{model}<td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
            escape(text("layer")),
            escape(text("quantity")),
            escape(&predicted),
            escape(&num("simulated").map_or("—".into(), short)),
            escape(&gap),
        );
    }
    out.push_str("</tbody></table></section>\n");
}

/// An SVG chart made fit to sit inline in a page: no XML declaration or namespace
/// declarations (the HTML parser supplies them, and they are the only URLs in it), its
/// ids prefixed so that two charts' glyph ids do not collide, a `<title>` and a role.
fn inline_svg(chart: &SvgChart, n: usize) -> String {
    let mut svg = chart.svg.clone();
    if let Some(start) = svg.find("<svg") {
        svg.drain(..start);
    }
    for decl in [
        r#" xmlns="http://www.w3.org/2000/svg""#,
        r#" xmlns:xlink="http://www.w3.org/1999/xlink""#,
    ] {
        svg = svg.replacen(decl, "", 1);
    }
    let prefix = format!("c{n}-");
    svg = svg
        .replace(" id=\"", &format!(" id=\"{prefix}"))
        .replace("href=\"#", &format!("href=\"#{prefix}"));
    let title_id = format!("{prefix}title");
    let alt = if chart.note.is_empty() {
        chart.title.clone()
    } else {
        format!("{}: {}", chart.title, chart.note)
    };
    let open_end = svg.find('>').map_or(svg.len(), |i| i + 1);
    let open = svg[..open_end].replacen(
        "<svg",
        &format!(r#"<svg role="img" aria-labelledby="{title_id}" class="chart""#),
        1,
    );
    format!(
        r#"{open}<title id="{title_id}">{}</title>{}"#,
        escape(&alt),
        &svg[open_end..]
    )
}

const STYLE: &str = "
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif;
  color: #222; background: #fff; margin: 0; line-height: 1.45; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #ccc; }
.meta { color: #555; margin: 0 0 1rem; }
pre { background: #f5f5f5; padding: .6rem .8rem; white-space: pre-wrap; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .85rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: .2rem .45rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.fails { color: #8a4b00; }
.wide { overflow-x: auto; }
.warnings { border: 2px solid #d55e00; background: #fff4ec; padding: .5rem 1rem; }
.warnings li { margin: .25rem 0; }
figure { margin: 1rem 0 2rem; break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; }
@media print { main { max-width: none; padding: 0; } h2 { break-after: avoid; }
  .wide { overflow: visible; } table { font-size: 8pt; } }
";

/// The report page of the output folder `dir`.
pub fn render(dir: &Path, ctx: &Context) -> Result<String, HtmlError> {
    let charts = svg_charts(dir)?;
    let summary = json(&dir.join("summary.json"))?;
    let scenario = json(&dir.join("scenario.json"))?;
    let layers = csv(&dir.join("layers.csv"))?;
    let sweep = csv(&dir.join("sweep_summary.csv"))?;
    let replay = csv(&dir.join("replay.csv"))?;
    // A scenario.toml beside the outputs (as README's Charts suggests) stands in for a
    // file the command was not given.
    let beside = dir.join("scenario.toml");
    let source = ctx
        .source
        .clone()
        .or_else(|| beside.is_file().then_some(beside));
    let header = match &source {
        Some(p) => header_comment(&std::fs::read_to_string(p).map_err(|e| HtmlError::Input {
            path: p.clone(),
            message: e.to_string(),
        })?),
        None => String::new(),
    };
    let name = summary
        .as_ref()
        .and_then(|s| s.get("scenario"))
        .or_else(|| scenario.as_ref().and_then(|s| s.get("name")))
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| {
            dir.file_name()
                .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into())
        });
    let kind = if summary.is_some() {
        "run"
    } else if sweep.is_some() {
        "sweep"
    } else if replay.is_some() {
        "replay"
    } else {
        "output"
    };

    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>tiersim {kind} report: {}</title><style>{STYLE}</style></head>\n<body><main>\n\
         <h1>tiersim {kind} report: {}</h1>\n",
        escape(&name),
        escape(&name)
    );
    if let Some(s) = &summary {
        let f = |k: &str| s.get(k).map(number).unwrap_or_else(|| "—".into());
        let _ = writeln!(
            out,
            r#"<p class="meta">seed {} · {} requests measured ({} reads, {} writes) after a warm-up of {} requests · {} s simulated</p>"#,
            escape(&f("seed")),
            escape(&f("requests")),
            escape(&f("reads")),
            escape(&f("writes")),
            escape(&f("warmup_requests")),
            escape(&f("span_s")),
        );
        let w = warnings(s);
        if !w.is_empty() {
            out.push_str("<section id=\"warnings\" class=\"warnings\"><h2>Warnings</h2><ul>\n");
            for line in w {
                let _ = writeln!(out, "<li>{}</li>", escape(&line));
            }
            out.push_str("</ul></section>\n");
        }
    }
    if !charts.left_out.is_empty() {
        out.push_str("<section id=\"left-out\"><h2>Left out</h2><ul>\n");
        for line in &charts.left_out {
            let _ = writeln!(out, "<li>{}</li>", escape(line));
        }
        out.push_str("</ul></section>\n");
    }

    out.push_str("<section id=\"scenario\"><h2>Scenario</h2>\n");
    if !header.is_empty() {
        let _ = writeln!(
            out,
            r#"<pre id="scenario-header">{}</pre>"#,
            escape(&header)
        );
    }
    if let Some(sc) = &scenario {
        let rows: Vec<Vec<String>> = settings(sc).into_iter().map(|(k, v)| vec![k, v]).collect();
        table(
            &mut out,
            "settings",
            "Key settings (scenario.json, as run)",
            &["key".into(), "value".into()],
            &rows,
            false,
        );
    } else if header.is_empty() {
        out.push_str("<p>The folder holds no scenario.json.</p>\n");
    }
    out.push_str("</section>\n");

    if let Some((head, rows)) = &layers {
        let idx: Vec<usize> = LAYER_COLUMNS
            .iter()
            .filter_map(|c| head.iter().position(|h| h == c))
            .collect();
        let head: Vec<String> = idx.iter().map(|&i| head[i].clone()).collect();
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                idx.iter()
                    .map(|&i| r.get(i).cloned().unwrap_or_default())
                    .collect()
            })
            .collect();
        out.push_str("<section id=\"layers\"><h2>Layers</h2><div class=\"wide\">\n");
        table(
            &mut out,
            "layers-table",
            "Per layer (layers.csv has every column)",
            &head,
            &rows,
            true,
        );
        out.push_str("</div>\n");
        if let Some(s) = &summary {
            let mut rows = Vec::new();
            for (k, label) in [
                ("/origin/requests", "origin requests"),
                ("/origin/mean_rps", "origin mean req/s"),
                ("/origin/peak_rps", "origin peak req/s"),
                ("/origin/utilization", "database utilization"),
                ("/origin/mean_queue_wait_ms", "database mean queue wait, ms"),
                ("/latency_ms/p50", "read latency p50, ms"),
                ("/latency_ms/p99", "read latency p99, ms"),
                ("/availability", "availability"),
            ] {
                if let Some(v) = s.pointer(k) {
                    rows.push(vec![label.to_owned(), number(v)]);
                }
            }
            table(
                &mut out,
                "origin-table",
                "Origin and latency (summary.json)",
                &["figure".into(), "value".into()],
                &rows,
                true,
            );
        }
        out.push_str("</section>\n");
    }
    if let Some(rows) = summary
        .as_ref()
        .and_then(|s| s.get("theory"))
        .and_then(Value::as_array)
    {
        theory(&mut out, rows);
    }
    for (id, title, t) in [
        ("sweep", "Sweep (sweep_summary.csv)", &sweep),
        ("replay", "Replay (replay.csv)", &replay),
    ] {
        if let Some((head, rows)) = t {
            let _ = writeln!(
                out,
                "<section id=\"{id}\"><h2>{}</h2><div class=\"wide\">",
                escape(title)
            );
            table(&mut out, &format!("{id}-table"), title, head, rows, true);
            out.push_str("</div></section>\n");
        }
    }

    out.push_str("<section id=\"charts\"><h2>Charts</h2>\n");
    if charts.charts.is_empty() {
        out.push_str("<p>No chart: the files hold no measurement.</p>\n");
    }
    for (n, c) in charts.charts.iter().enumerate() {
        // The chart draws its own title and note; its <title> carries them as text.
        let _ = writeln!(
            out,
            "<figure id=\"chart-{}\">{}</figure>",
            escape(&c.file),
            inline_svg(c, n),
        );
    }
    out.push_str("</section>\n");

    let command = ctx.command.clone().unwrap_or_else(|| match kind {
        "run" => format!(
            "tiersim run {} --out {}",
            quote(&dir.join("scenario.json")),
            quote(dir)
        ),
        "sweep" => "tiersim sweep SCENARIO --grid ... (the grid is the point columns of \
                    sweep_summary.csv; the folder does not record the scenario file)"
            .into(),
        _ => "the folder does not record the command that wrote it".into(),
    });
    let _ = writeln!(
        out,
        "<section id=\"reproduce\"><h2>Reproduce</h2><p>The same scenario and seed give \
         bit-identical files.</p><pre><code>{}</code></pre></section>",
        escape(&command)
    );
    out.push_str("</main></body></html>\n");
    Ok(out)
}

/// `p` quoted for a POSIX shell when it needs it.
fn quote(p: &Path) -> String {
    shell_word(&p.display().to_string())
}

/// `word` as one POSIX shell word: as written when it is made of characters no shell
/// treats specially (shlex would quote `=` and `,` too), else quoted by shlex.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if plain {
        word.to_owned()
    } else {
        shlex::try_quote(word).map_or_else(|_| word.to_owned(), |q| q.into_owned())
    }
}

/// Writes the report of `dir` to `out` atomically.
pub fn write(dir: &Path, out: &Path, ctx: &Context) -> Result<(), HtmlError> {
    let page = render(dir, ctx)?;
    write_atomic(out, page.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_entities_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }

    #[test]
    fn the_header_comment_is_the_leading_hash_lines() {
        assert_eq!(
            header_comment("# a\n#\n#  b\nname = \"x\"\n# not this"),
            "a\n\n b"
        );
        assert_eq!(header_comment("{\"name\": 1}"), "");
    }

    #[test]
    fn numbers_have_four_significant_figures() {
        assert_eq!(short(0.812345), "0.8123");
        assert_eq!(short(1234.567), "1235");
        assert_eq!(short(12.5), "12.50");
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(
            shell_word("layers.redis.ttl_s=10,100"),
            "layers.redis.ttl_s=10,100"
        );
        // Every other word reads back as itself in a shell.
        for word in ["a b", "it's", "", "$HOME", "x;rm -rf /", "é"] {
            let quoted = shell_word(word);
            assert_ne!(quoted, word);
            assert_eq!(
                shlex::split(&quoted),
                Some(vec![word.to_owned()]),
                "{quoted}"
            );
        }
    }
}
