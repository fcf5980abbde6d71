//! `tiersim report`, `run --report`, `sweep --report` (issue 18, part 3): one
//! self-contained HTML page with the scenario, the tables, every chart the folder
//! supports as inline SVG, the theory comparison, the warnings and the command.
//!
//! Without a browser: the page's markup is read as text (every tag's attributes hold no
//! URL but `#fragment`s, strings from the files are escaped). With one:
//! `headless_chromium_loads_the_report` (ignored by `cargo test`; `.ci/run` installs
//! Debian's chromium and runs it) loads the page from a file and watches what Chromium
//! itself reports.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{assert_bad_input, repo, stderr, tiersim, tiersim_ok};

/// A header comment that would run a script, load an image and break out of an
/// attribute if it were not escaped (scenario names are plain file names, so the
/// header is where hostile text can come from).
const HOSTILE: &str =
    "# <script>alert(\"x\")</script> & <img src=\"http://example.com/x.png\" onerror='y'>\n";

/// The quickstart scenario with [`HOSTILE`] on top, run small with `--report` in
/// `dir/r`; the scenario file's path.
fn run_with_report(dir: &Path) -> PathBuf {
    let quickstart = fs::read_to_string(repo().join("scenarios/quickstart.toml")).unwrap();
    let scenario = dir.join("lesson.toml");
    fs::write(&scenario, format!("{HOSTILE}{quickstart}")).unwrap();
    tiersim_ok(
        dir,
        &[
            "run",
            "lesson.toml",
            "-q",
            "--report",
            "--out",
            "r",
            "--set",
            "requests=30000",
            "--set",
            "warmup_requests=3000",
        ],
    );
    scenario
}

/// Every tag's attribute text (`<tag a="v" ...>` without the tag name), outside
/// `<title>`/text content: the places a URL would make a request.
fn tags(page: &str) -> Vec<&str> {
    page.split('<')
        .skip(1)
        .filter_map(|t| t.split_once('>').map(|(tag, _)| tag))
        .collect()
}

/// The stems of the SVG charts `tiersim plot` draws from `dir`.
fn plotted(dir: &Path, folder: &str) -> BTreeSet<String> {
    tiersim_ok(dir, &["plot", folder, "--out", "charts", "--format", "svg"]);
    let stems = fs::read_dir(dir.join("charts"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            p.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    fs::remove_dir_all(dir.join("charts")).unwrap();
    stems
}

/// The figures of a page, by chart stem, each with whether it holds an inline SVG that
/// has a `<title>`.
fn figures(page: &str) -> Vec<(String, bool)> {
    page.split("<figure id=\"chart-")
        .skip(1)
        .map(|f| {
            let (stem, rest) = f.split_once('"').unwrap();
            let body = rest.split("</figure>").next().unwrap();
            let svg = body.contains("<svg") && body.contains("role=\"img\"");
            let titled = body.contains("<title id=");
            (stem.to_owned(), svg && titled)
        })
        .collect()
}

/// What must hold of any report page as text.
fn check_self_contained(page: &str) {
    for tag in tags(page) {
        let name = tag.split_whitespace().next().unwrap_or("");
        assert!(
            ![
                "script", "link", "img", "iframe", "object", "embed", "image", "base"
            ]
            .contains(&name),
            "a <{name}> in the page"
        );
        assert!(
            !tag.contains("://") && !tag.to_ascii_lowercase().contains("url("),
            "a URL in a tag: <{tag}>"
        );
        for attr in ["href=\"", "src=\"", "xlink:href=\""] {
            for (i, _) in tag.match_indices(attr) {
                assert!(
                    tag[i + attr.len()..].starts_with('#'),
                    "a reference out of the page: <{tag}>"
                );
            }
        }
    }
    assert!(!page.contains("@import") && !page.contains("@font-face"));
}

#[test]
fn run_report_is_one_page_with_tables_every_chart_and_the_command() {
    let dir = tempfile::tempdir().unwrap();
    run_with_report(dir.path());
    let page = fs::read_to_string(dir.path().join("r/report.html")).unwrap();
    check_self_contained(&page);
    // The hostile header is shown as text: escaped, never as markup.
    assert!(!page.contains("<script"), "unescaped script");
    assert!(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img"));
    assert!(page.contains("quickstart: the built-in default scenario"));
    for id in ["settings", "layers-table", "origin-table"] {
        assert!(
            page.contains(&format!("<table id=\"{id}\">")),
            "no table {id}"
        );
    }
    // Numbers are right-aligned cells; every layer has a row.
    for layer in ["browser", "cdn", "shield", "l1", "redis", "db"] {
        assert!(
            page.contains(&format!("<tr><td>{layer}</td>")),
            "no row {layer}"
        );
    }
    assert!(page.contains("<td class=\"n\">"));
    // Every chart `tiersim plot` draws from the folder, inline, titled.
    let figs = figures(&page);
    let stems: BTreeSet<String> = figs.iter().map(|(s, _)| s.clone()).collect();
    assert_eq!(stems, plotted(dir.path(), "r"));
    assert!(stems.contains("origin_rps") && stems.contains("latency_ccdf"));
    assert!(figs.iter().all(|(_, ok)| *ok), "{figs:?}");
    // Two charts' glyph ids must not collide in one document.
    let ids: Vec<&str> = page
        .match_indices(" id=\"")
        .map(|(i, _)| page[i + 5..].split('"').next().unwrap())
        .collect();
    let unique: BTreeSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate ids");
    // The command that reproduces the run, as it was typed.
    assert!(
        page.contains("tiersim run lesson.toml -q --report --out r --set requests=30000"),
        "no command"
    );
    // The scenario (no theory block asked): no theory section.
    assert!(!page.contains("id=\"theory\""));
}

#[test]
fn report_renders_the_theory_block_and_every_warning_of_a_fixture() {
    let dir = tempfile::tempdir().unwrap();
    run_with_report(dir.path());
    let summary_path = dir.path().join("r/summary.json");
    let mut summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&summary_path).unwrap()).unwrap();
    // The shared contract's example block, with hostile text in a `fails` sentence.
    let fixture = serde_json::json!({
        "theory": [
            {"layer": "redis", "quantity": "hit_ratio",
             "model": "Che approximation (LRU, independent reference model)",
             "predicted": 0.8123, "simulated": 0.8099, "fails": null},
            {"layer": "db", "quantity": "mean_queue_wait_ms", "model": "Erlang C (M/M/c)",
             "predicted": 1.93, "simulated": 1.97, "fails": null},
            {"layer": "cdn", "quantity": "hit_ratio", "model": null,
             "predicted": null, "simulated": 0.52,
             "fails": "writes invalidate copies; <b>the formulas</b> assume a read-only independent reference model"}
        ],
        "steady": false,
        "steady_reason": "origin load still falls by 12% per minute",
        "complete": false,
        "leaks": 7,
        "lost_writes": 3,
        "stale_reads": 11,
        "bucket_s": 10.0,
        "bucket_coarsened_from_s": 1.0,
        "timeseries_cut_at_s": 5000.0
    });
    for (k, v) in fixture.as_object().unwrap() {
        summary[k] = v.clone();
    }
    fs::write(&summary_path, serde_json::to_vec_pretty(&summary).unwrap()).unwrap();
    // The scenario file beside the outputs gives the header comment.
    fs::copy(
        dir.path().join("lesson.toml"),
        dir.path().join("r/scenario.toml"),
    )
    .unwrap();
    let out = tiersim_ok(dir.path(), &["report", "r", "--out", "fixture.html"]);
    assert!(crate::support::stdout(&out).contains("fixture.html"));
    let page = fs::read_to_string(dir.path().join("fixture.html")).unwrap();
    check_self_contained(&page);
    assert!(page.contains("<table id=\"theory-table\">"));
    assert!(page.contains(
        "<tr><td>redis</td><td>hit_ratio</td><td>Che approximation (LRU, independent reference model)</td><td class=\"n\">0.8123</td><td class=\"n\">0.8099</td><td class=\"n\">-0.3%</td></tr>"
    ));
    // (1.97 - 1.93) / 1.93 = +2.07%
    assert!(page.contains(
        "<td class=\"n\">1.930</td><td class=\"n\">1.970</td><td class=\"n\">+2.1%</td>"
    ));
    assert!(page.contains(
        "<td class=\"fails\">does not apply: writes invalidate copies; &lt;b&gt;the formulas&lt;/b&gt;"
    ));
    let warnings = page
        .split("<section id=\"warnings\"")
        .nth(1)
        .expect("a warnings section")
        .split("</section>")
        .next()
        .unwrap();
    for phrase in [
        "Incomplete run",
        "Not in steady state: origin load still falls by 12% per minute",
        "Leaks: 7",
        "Lost writes: 3",
        "Stale reads: 11",
        "Coarsened time series: timeseries.csv has rows of 10.00 s, not the 1.000 s",
        "Cut time series: timeseries.csv has no rows from 5000 s on",
    ] {
        assert!(
            warnings.contains(phrase),
            "no warning `{phrase}` in {warnings}"
        );
    }
    assert!(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert!(page.contains("quickstart: the built-in default scenario"));
    // Without the command line, the page reproduces a run from its stored scenario.
    assert!(page.contains("tiersim run r/scenario.json --out r"));
}

#[test]
fn sweep_report_has_the_sweep_table_and_its_charts() {
    let dir = tempfile::tempdir().unwrap();
    let q = repo().join("scenarios/app_tier.toml");
    tiersim_ok(
        dir.path(),
        &[
            "sweep",
            q.to_str().unwrap(),
            "-q",
            "--report",
            "--out",
            "s",
            "--grid",
            "layers.redis.ttl_s=10,100",
            "--jobs",
            "1",
            "--set",
            "requests=20000",
            "--set",
            "warmup_requests=2000",
        ],
    );
    let page = fs::read_to_string(dir.path().join("s/report.html")).unwrap();
    check_self_contained(&page);
    assert!(page.contains("<table id=\"sweep-table\">"));
    let figs = figures(&page);
    let stems: BTreeSet<String> = figs.iter().map(|(s, _)| s.clone()).collect();
    assert_eq!(stems, plotted(dir.path(), "s"));
    assert!(stems.contains("sweep_hit_ratio"), "{stems:?}");
    assert!(figs.iter().all(|(_, ok)| *ok));
    // app_tier's header comment, from the scenario file the sweep ran.
    let header = fs::read_to_string(&q).unwrap();
    let first = header.lines().next().unwrap().trim_start_matches("# ");
    assert!(page.contains(first), "no header line `{first}`");
    assert!(page.contains("--grid layers.redis.ttl_s=10,100"));
}

#[test]
fn report_of_a_folder_without_output_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = tiersim(dir.path(), &["report", "missing"]);
    assert_bad_input(&out, &["missing", "is not a folder"]);
    fs::create_dir(dir.path().join("empty")).unwrap();
    let out = tiersim(dir.path(), &["report", "empty"]);
    assert_bad_input(&out, &["empty", "no run, sweep or replay output"]);
    assert!(!dir.path().join("empty/report.html").exists());
    // A damaged summary.json is named, and the old report stays whole.
    run_with_report(dir.path());
    let before = fs::read(dir.path().join("r/report.html")).unwrap();
    fs::write(dir.path().join("r/summary.json"), "{\"scenario\": ").unwrap();
    let out = tiersim(dir.path(), &["report", "r"]);
    assert_bad_input(&out, &["summary.json", "EOF"]);
    assert_eq!(fs::read(dir.path().join("r/report.html")).unwrap(), before);
}

/// Chromium for the browser check: `$TIERSIM_CHROMIUM`, else `chromium` on the PATH.
fn chromium() -> PathBuf {
    std::env::var_os("TIERSIM_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("chromium"))
}

/// What headless Chromium reported while loading `page` from a file.
struct Loaded {
    /// The DOM after load (`--dump-dom`).
    dom: String,
    /// Network requests made on behalf of the page: URLs or hosts of every NetLog event
    /// whose isolation key is the page's own `file://` site. The browser's own
    /// background traffic (updates, accounts) has another key and is not the page's.
    requests: Vec<String>,
    /// Console messages (`--enable-logging=stderr` logs each as `CONSOLE`); the page has
    /// no script, so any message is an error or warning from the browser.
    console: Vec<String>,
}

/// The flags the brief asks for, with a fresh profile in `profile`.
fn headless(profile: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

fn load(page: &Path, work: &Path) -> Loaded {
    let net = work.join("net.json");
    let out = headless(&work.join("profile"))
        .args(["--enable-logging=stderr", "--v=0", "--dump-dom"])
        .arg(format!("--log-net-log={}", net.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium().display()));
    assert!(out.status.success(), "chromium failed: {}", stderr(&out));
    let log: serde_json::Value = serde_json::from_slice(&fs::read(&net).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", net.display()));
    let mut requests = Vec::new();
    for e in log["events"].as_array().unwrap() {
        let p = &e["params"];
        let key = |k: &str| p[k].as_str().unwrap_or("").starts_with("file://");
        if key("network_isolation_key") || key("network_anonymization_key") {
            let what = p["url"].as_str().or(p["host"].as_str()).unwrap_or("?");
            requests.push(what.to_owned());
        }
    }
    let console = stderr(&out)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(String::from)
        .collect();
    Loaded {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        requests,
        console,
    }
}

/// A screenshot's luminance variance and the share of pixels that are not white.
fn ink(png_path: &Path) -> (f64, f64, u32, u32) {
    let decoder = png::Decoder::new(fs::File::open(png_path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    let lum: Vec<f64> = buf[..info.buffer_size()]
        .chunks(step)
        .map(|p| {
            let c = |i: usize| f64::from(p[i.min(p.len() - 1)]);
            0.2126 * c(0) + 0.7152 * c(1) + 0.0722 * c(2)
        })
        .collect();
    let n = lum.len() as f64;
    let mean = lum.iter().sum::<f64>() / n;
    let var = lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n;
    let inked = lum.iter().filter(|&&l| l < 240.0).count() as f64 / n;
    (var, inked, info.width, info.height)
}

#[test]
#[ignore = "needs Debian's chromium; .ci/run installs it and runs this test with --ignored --exact"]
fn headless_chromium_loads_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();

    // The detector first: a page that requests an image off the page and logs an error
    // must be caught, so that an empty finding below means something.
    let control = work.join("control.html");
    fs::write(
        &control,
        "<!DOCTYPE html><html><body><img src=\"http://127.0.0.1:9/leak.png\">\
         <script>console.error(\"boom\")</script></body></html>",
    )
    .unwrap();
    fs::create_dir(work.join("c")).unwrap();
    let seen = load(&control, &work.join("c"));
    assert!(
        seen.requests.iter().any(|r| r.contains("127.0.0.1:9")),
        "the NetLog check misses a request the page makes: {:?}",
        seen.requests
    );
    assert!(
        seen.console.iter().any(|l| l.contains("boom")),
        "the console check misses a console error"
    );

    run_with_report(work);
    let page = work.join("r/report.html");
    let text = fs::read_to_string(&page).unwrap();
    fs::create_dir(work.join("p")).unwrap();
    let seen = load(&page, &work.join("p"));
    assert!(
        seen.requests.is_empty(),
        "the page made requests: {:?}",
        seen.requests
    );
    assert!(
        seen.console.is_empty(),
        "console messages: {:?}",
        seen.console
    );
    // The DOM as Chromium built it: the tables, and every chart as an SVG with glyphs.
    for id in ["settings", "layers-table", "origin-table"] {
        assert!(
            seen.dom.contains(&format!("<table id=\"{id}\">")),
            "no table {id} in the DOM"
        );
    }
    let in_page = figures(&text);
    let in_dom = figures(&seen.dom);
    assert!(!in_page.is_empty());
    assert_eq!(in_dom, in_page, "the charts in the DOM");
    assert!(in_dom.iter().all(|(_, ok)| *ok));
    assert!(seen.dom.contains("<use "), "no glyph in the DOM");
    assert!(!seen.dom.contains("<script"), "a script in the DOM");

    // A screenshot that is not blank: text, tables and charts put dark ink on white,
    // so the luminance varies widely (a blank or single-colour page has variance 0).
    let shot = work.join("shot.png");
    let out = headless(&work.join("profile-shot"))
        .args(["--hide-scrollbars", "--window-size=1000,2600"])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium failed: {}", stderr(&out));
    let (var, inked, w, h) = ink(&shot);
    assert_eq!((w, h), (1000, 2600));
    // Black text on white alone gives a variance of about 255² × share of ink; a
    // tenth of a percent of ink is already about 65. Demand well above a blank page.
    assert!(var > 500.0, "screenshot nearly uniform: variance {var}");
    assert!(
        inked > 0.01,
        "screenshot nearly blank: {inked} of pixels inked"
    );
    if let Some(keep) = std::env::var_os("TIERSIM_REPORT_SHOT") {
        fs::copy(&shot, keep).unwrap();
    }
}
