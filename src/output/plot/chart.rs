//! What a chart shows, as plain data: panels of series over a shared x axis, or rows of
//! stacked bars; the palette and markers that tell series apart; axis ticks.

use plotters::style::RGBColor;

/// Okabe and Ito's colour-blind-safe palette ("Color Universal Design", 2008,
/// <https://jfly.uni-koeln.de/color/>), ordered so that neighbours differ most. Yellow
/// is last: too pale for a thin line on white, it serves only as a fill.
pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

/// Colours a line may take (all but yellow).
const LINE_COLOURS: usize = 7;

/// A point marker's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
}

/// How series number `i` of a chart looks: colour and marker both change from one series
/// to the next, and the pair repeats only after 28 series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Look {
    pub(super) color: RGBColor,
    pub(super) marker: Marker,
}

impl Look {
    pub(super) fn line(i: usize) -> Look {
        const MARKERS: [Marker; 4] = [
            Marker::Circle,
            Marker::Square,
            Marker::Triangle,
            Marker::Diamond,
        ];
        Look {
            color: PALETTE[i % LINE_COLOURS],
            marker: MARKERS[i % MARKERS.len()],
        }
    }

    /// A stacked bar's part `i`: every colour, yellow too.
    pub(super) fn fill(i: usize) -> RGBColor {
        PALETTE[i % PALETTE.len()]
    }
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Draw {
    /// A line, with a marker on each point when there are few.
    Line,
    /// Markers only (categorical x, or marks on top of other series).
    Markers,
    /// A step line: each value holds until the next point's x.
    Steps,
    /// A plain line without markers: a bound or a reference, not data.
    Rule,
}

/// A named series of one panel.
#[derive(Clone, Debug)]
pub(super) struct Series {
    /// The legend entry; series of the same name in several panels share a look.
    pub(super) name: String,
    /// Index into [`Look::line`].
    pub(super) look: usize,
    /// `(x, y)`: for a categorical x axis, x is the category's index.
    pub(super) points: Vec<(f64, f64)>,
    /// `(x, low, high)`: a shaded band (an interval) around the series, or none.
    pub(super) band: Vec<(f64, f64, f64)>,
    /// What the band is, for the legend.
    pub(super) band_label: String,
    pub(super) draw: Draw,
}

impl Series {
    pub(super) fn new(name: impl Into<String>, look: usize, points: Vec<(f64, f64)>) -> Series {
        Series {
            name: name.into(),
            look,
            points,
            band: Vec::new(),
            band_label: String::new(),
            draw: Draw::Line,
        }
    }
}

/// An x interval shaded across a panel: a fault window.
#[derive(Clone, Debug)]
pub(super) struct Shade {
    pub(super) from: f64,
    pub(super) to: f64,
    /// The legend entry.
    pub(super) label: String,
    /// Written at the top of the shaded window.
    pub(super) tag: String,
}

/// A labelled point drawn on a panel (a percentile).
#[derive(Clone, Debug)]
pub(super) struct Note {
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) text: String,
}

/// Axis scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scale {
    Linear,
    Log,
}

/// A numeric axis.
#[derive(Clone, Debug)]
pub(super) struct Axis {
    pub(super) scale: Scale,
    /// Fixed range, else from the data.
    pub(super) range: Option<(f64, f64)>,
    /// Tick labels as percentages (0.01 -> `1%`).
    pub(super) percent: bool,
    /// Ticks at exactly these values (a sweep's grid), when they fit.
    pub(super) at: Vec<f64>,
}

impl Axis {
    pub(super) fn linear() -> Axis {
        Axis {
            scale: Scale::Linear,
            range: None,
            percent: false,
            at: Vec::new(),
        }
    }

    pub(super) fn log() -> Axis {
        Axis {
            scale: Scale::Log,
            ..Axis::linear()
        }
    }

    pub(super) fn fixed(lo: f64, hi: f64) -> Axis {
        Axis {
            range: Some((lo, hi)),
            ..Axis::linear()
        }
    }
}

/// The shared x axis of a chart's panels.
#[derive(Clone, Debug)]
pub(super) enum XAxis {
    Numeric(Axis),
    /// Named categories: points at 0, 1, ..., a group's points side by side.
    Categories(Vec<String>),
}

/// One plot area.
#[derive(Clone, Debug)]
pub(super) struct Panel {
    pub(super) title: String,
    pub(super) y_label: String,
    pub(super) y: Axis,
    pub(super) series: Vec<Series>,
    pub(super) shades: Vec<Shade>,
    pub(super) notes: Vec<Note>,
    /// x positions marked along the top edge (buckets with a herd), and their legend entry.
    pub(super) rug: (Vec<f64>, String),
}

impl Panel {
    pub(super) fn new(title: impl Into<String>, y_label: impl Into<String>, y: Axis) -> Panel {
        Panel {
            title: title.into(),
            y_label: y_label.into(),
            y,
            series: Vec::new(),
            shades: Vec::new(),
            notes: Vec::new(),
            rug: (Vec::new(), String::new()),
        }
    }
}

/// What a chart shows.
#[derive(Clone, Debug)]
pub(super) enum Body {
    /// Panels stacked vertically over one x axis.
    Panels {
        x: XAxis,
        x_label: String,
        panels: Vec<Panel>,
    },
    /// One horizontal bar per row, split into parts that add up to 1.
    Bars {
        rows: Vec<String>,
        /// What a row is (the sweep's axes, or "run").
        row_label: String,
        x_label: String,
        /// `(legend entry, share per row)`.
        parts: Vec<(String, Vec<f64>)>,
    },
}

/// A chart: a title, a line saying how to read it, and a body. Its legend is built from
/// the body and drawn beside it, outside every plot area.
#[derive(Clone, Debug)]
pub(super) struct Chart {
    /// The file stem (`origin_rps` -> `origin_rps.png`).
    pub(super) file: String,
    pub(super) title: String,
    /// Under the title: bucket widths, replications, what was left out.
    pub(super) note: String,
    pub(super) body: Body,
}

/// Axis ticks: where, in the axis's own (linear or log10) space, with their labels, and
/// the light grid lines between them.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Ticks {
    pub(super) range: (f64, f64),
    pub(super) at: Vec<f64>,
    pub(super) light: Vec<f64>,
}

/// Ticks for values in `[lo, hi]` on `axis`: the range widened a little so no point sits
/// on the frame, ticks at 1-2-5 steps (linear) or decades (log, with 2 and 5 when the
/// range spans less than two decades). A `tight` linear axis (time, sizes) ends at the
/// data; a loose one (values) at the next round tick.
pub(super) fn ticks(axis: &Axis, lo: f64, hi: f64, tight: bool) -> Ticks {
    let (lo, hi) = axis.range.unwrap_or((lo, hi));
    match axis.scale {
        Scale::Linear if tight && axis.range.is_none() => {
            let (lo, hi) = if hi > lo {
                let air = (hi - lo) * 0.015;
                (lo - air, hi + air)
            } else {
                (lo - 0.5, lo + 0.5)
            };
            let at = if axis.at.len() >= 2 {
                axis.at.clone()
            } else {
                steps(lo, hi, nice_step((hi - lo) / 8.0))
            };
            Ticks {
                range: (lo, hi),
                at,
                light: Vec::new(),
            }
        }
        Scale::Linear => {
            let (lo, hi) = if hi > lo {
                (lo, hi)
            } else {
                (lo - 0.5, lo + 0.5)
            };
            let step = nice_step((hi - lo) / 6.0);
            let (lo, hi) = if axis.range.is_some() {
                (lo, hi)
            } else {
                // Round outwards to a whole step, keeping zero where the data start at zero.
                (
                    (lo / step).floor() * step,
                    ((hi + (hi - lo) * 0.03) / step).ceil() * step,
                )
            };
            let at = if axis.at.len() >= 2 {
                axis.at.clone()
            } else {
                steps(lo, hi, step)
            };
            Ticks {
                range: (lo, hi),
                at,
                light: Vec::new(),
            }
        }
        Scale::Log => {
            let (lo, hi) = (lo.max(f64::MIN_POSITIVE), hi.max(lo.max(f64::MIN_POSITIVE)));
            let (lo, hi) = if axis.range.is_some() {
                (lo.log10(), hi.log10())
            } else {
                // A fifth of a decade of air on each side.
                (lo.log10() - 0.07, hi.log10() + 0.07)
            };
            let (lo, hi) = if hi > lo {
                (lo, hi)
            } else {
                (lo - 0.5, hi + 0.5)
            };
            let mut at: Vec<f64> = Vec::new();
            let mut light = Vec::new();
            for d in (lo.floor() as i32)..=(hi.ceil() as i32) {
                for m in 1..10 {
                    let v = (m as f64).log10() + d as f64;
                    if v < lo || v > hi {
                        continue;
                    }
                    let wanted = m == 1 || (hi - lo < 2.0 && (m == 2 || m == 5));
                    if wanted {
                        at.push(v);
                    } else {
                        light.push(v);
                    }
                }
            }
            if at.len() < 3 {
                // Less than a decade: round values of the data, placed on the log scale.
                let (a, b) = (10f64.powf(lo), 10f64.powf(hi));
                at = steps(a, b, nice_step((b - a) / 5.0))
                    .into_iter()
                    .filter(|v| *v > 0.0)
                    .map(f64::log10)
                    .collect();
            }
            if axis.at.len() >= 2 {
                at = axis.at.iter().map(|v| v.log10()).collect();
            }
            Ticks {
                range: (lo, hi),
                at,
                light,
            }
        }
    }
}

fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = if norm < 1.5 {
        1.0
    } else if norm < 3.0 {
        2.0
    } else if norm < 7.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

fn steps(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last.min(first + 50))
        .map(|i| i as f64 * step)
        .collect()
}

/// A tick label: `250`, `0.25`, `0.001`, `10k`, `1.5M`; with `percent`, `1%`, `0.01%`.
pub(super) fn label(v: f64, percent: bool) -> String {
    if percent {
        return format!("{}%", label(v * 100.0, false));
    }
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    let a = v.abs();
    if a < 1e-12 {
        "0".into()
    } else if a >= 1e9 {
        format!("{}G", trim(significant(v / 1e9)))
    } else if a >= 1e6 {
        format!("{}M", trim(significant(v / 1e6)))
    } else if a >= 1e3 {
        format!("{}k", trim(significant(v / 1e3)))
    } else {
        trim(significant(v))
    }
}

/// `v` with three significant digits (more for whole numbers).
fn significant(v: f64) -> String {
    let decimals = (2 - v.abs().log10().floor() as i32).clamp(0, 9) as usize;
    format!("{v:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_short_and_exact_enough() {
        assert_eq!(label(250.0, false), "250");
        assert_eq!(label(0.25, false), "0.25");
        assert_eq!(label(0.001, false), "0.001");
        assert_eq!(label(31_622.8, false), "31.6k");
        assert_eq!(label(316_228.0, false), "316k");
        assert_eq!(label(3_162.0, false), "3.16k");
        assert_eq!(label(2_500.0, false), "2.5k");
        assert_eq!(label(1_000_000.0, false), "1M");
        assert_eq!(label(1e-5, true), "0.001%");
        assert_eq!(label(0.1, true), "10%");
        assert_eq!(label(0.10000000000000009, false), "0.1");
    }

    #[test]
    fn linear_ticks_are_round_and_cover_the_data() {
        let t = ticks(&Axis::linear(), 0.0, 197.0, false);
        assert_eq!(t.range.0, 0.0);
        assert!(t.range.1 >= 197.0);
        assert_eq!(t.at[..3], [0.0, 50.0, 100.0]);
    }

    #[test]
    fn log_ticks_are_decades() {
        let t = ticks(&Axis::log(), 1e-5, 1.0, false);
        assert_eq!(t.at.len(), 6);
        assert!((t.at[0] + 5.0).abs() < 1e-9);
        let short = ticks(&Axis::log(), 2.0, 30.0, false);
        assert!(short.at.contains(&(5f64).log10()), "{short:?}");
        // Within a decade: round values, on the log scale.
        let narrow = ticks(&Axis::log(), 10.0, 33.0, false);
        let values: Vec<f64> = narrow.at.iter().map(|v| 10f64.powf(*v).round()).collect();
        assert_eq!(values, [10.0, 15.0, 20.0, 25.0, 30.0, 35.0], "{narrow:?}");
    }
}
