//! What a run leaves behind: the report (`summary.json`, `layers.csv`,
//! `timeseries.csv`, `latency.csv`, the terminal table) and the charts drawn from those
//! files, and the one-file HTML report (`html`). It reads measurements; it never runs a
//! simulation.

pub mod html;
pub mod plot;
pub mod report;

/// Escapes `text` for HTML element content and double-quoted attribute values: the five
/// characters that can open markup, an entity or close an attribute. The
/// HTML report and the SVG charts both write text through it.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
