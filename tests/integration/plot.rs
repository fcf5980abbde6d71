//! `tiersim plot` and `--plot`: every chart kind renders, decodes and is labelled.

use std::fs;
use std::path::Path;

use crate::support::{stderr, tiersim};

/// Decodes a PNG, checks its width, and that it is not blank: a chart has white
/// background, black axes and coloured lines, so many distinct colours.
fn check_png(path: &Path) {
    let decoder = png::Decoder::new(fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.width, 1000, "{}", path.display());
    assert!(info.height >= 400, "{}", path.display());
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

/// Parses an SVG and returns all its text.
fn svg_text(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn run_plot_draws_load_latency_and_who_answered() {
    let dir = tempfile::tempdir().unwrap();
    let out = tiersim(
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
    assert!(out.status.success(), "{}", stderr(&out));
    let r = dir.path().join("r");
    for (chart, labels) in [
        (
            "origin_rps",
            &[
                "simulated time (s)",
                "origin requests per second",
                "origin requests/s",
            ][..],
        ),
        (
            "latency_cdf",
            &[
                "end-to-end latency (ms)",
                "fraction of reads at or below",
                "reads",
            ][..],
        ),
        (
            "served_share",
            &["share of reads answered", "l1", "redis", "db"][..],
        ),
    ] {
        check_png(&r.join(format!("{chart}.png")));
        let text = svg_text(&r.join(format!("{chart}.svg")));
        for label in labels {
            assert!(text.contains(label), "{chart}.svg lacks `{label}`");
        }
    }
}

#[test]
fn plot_draws_sweep_and_replay_charts_in_the_asked_format() {
    let dir = tempfile::tempdir().unwrap();
    let q = crate::support::repo().join("scenarios/app_tier.toml");
    let out = tiersim(
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
    assert!(out.status.success(), "{}", stderr(&out));
    let out = tiersim(
        dir.path(),
        &["plot", "s", "--out", "charts", "--format", "svg"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let charts = dir.path().join("charts");
    assert!(!charts.join("sweep_hit_ratio.png").exists(), "svg only");
    let text = svg_text(&charts.join("sweep_hit_ratio.svg"));
    for label in [
        "redis.capacity (entries)",
        "hit ratio",
        "redis.policy=lru",
        "redis.policy=fifo",
        "layer l1",
        "layer redis",
    ] {
        assert!(text.contains(label), "sweep_hit_ratio.svg lacks `{label}`");
    }
    let text = svg_text(&charts.join("sweep_latency.svg"));
    for label in [
        "latency (ms)",
        "p99 redis.policy=lru",
        "p99.9 redis.policy=fifo",
    ] {
        assert!(text.contains(label), "sweep_latency.svg lacks `{label}`");
    }
    assert!(svg_text(&charts.join("sweep_served_share.svg")).contains("share of reads answered"));

    fs::create_dir(dir.path().join("rp")).unwrap();
    fs::write(
        dir.path().join("rp/replay.csv"),
        "policy,size,size_unit,requests,misses,miss_ratio,bytes,miss_bytes,byte_miss_ratio\n\
         lru,10,entries,100,80,0.8,100,80,0.8\nlru,100,entries,100,40,0.4,100,40,0.4\n\
         fifo,10,entries,100,85,0.85,100,85,0.85\nfifo,100,entries,100,45,0.45,100,45,0.45\n",
    )
    .unwrap();
    let out = tiersim(dir.path(), &["plot", "rp", "--format", "png"]);
    assert!(out.status.success(), "{}", stderr(&out));
    check_png(&dir.path().join("rp/miss_ratio_curve.png"));
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
