//! The lab page's assets, embedded in the binary: no CDN, no external script or font.

/// The page's style.
pub const CSS: &str = include_str!("assets/lab.css");

/// The page's script: builds the controls from `/api/scenario`, posts each change to
/// `/api/run` and draws the answer as inline SVG.
pub const JS: &str = include_str!("assets/lab.js");

const HTML: &str = include_str!("assets/index.html");

/// The page, stating the cap on requests per run.
pub fn html(max_requests: u64) -> String {
    HTML.replace("{{MAX_REQUESTS}}", &max_requests.to_string())
}
