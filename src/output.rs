//! What a run leaves behind: the report (`summary.json`, `layers.csv`,
//! `timeseries.csv`, `latency.csv`, the terminal table) and the charts drawn from those
//! files, and the one-file HTML report (`html`). It reads measurements; it never runs a
//! simulation.

pub mod html;
pub mod plot;
pub mod report;

/// A number as a person reads it: a whole number with thousands separated, else to at
/// most four decimals.
///
/// ```
/// use tiersim::output::number;
/// assert_eq!(number(41200.0), "41,200");
/// assert_eq!(number(999.0), "999");
/// assert_eq!(number(1234.56789), "1234.5679");
/// ```
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let digits = (v.abs() as u64).to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        return if v < 0.0 { format!("-{out}") } else { out };
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

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
