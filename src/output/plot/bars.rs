//! Rows of stacked horizontal bars: who answered, per run or per grid point.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart::Look;
use super::render::{Area, FONT, GRID, INK, Keyed, MAIN_WIDTH, Result2, anchored, font};
use super::text;

/// White text on dark fills, black on light ones.
fn ink_on(c: RGBColor) -> RGBColor {
    let lum = 0.299 * c.0 as f64 + 0.587 * c.1 as f64 + 0.114 * c.2 as f64;
    if lum < 140.0 { WHITE } else { BLACK }
}

/// One bar per row, first on top, its parts left to right, each labelled with its share
/// where it is wide enough; each row's name on its left.
pub(super) fn draw_bars<DB: DrawingBackend>(
    root: &Area<DB>,
    area: &Area<DB>,
    rows: &[String],
    row_label: &str,
    x_label: &str,
    parts: &[(String, Vec<f64>)],
) -> Result2<DB> {
    let n = rows.len().max(1);
    let label_size = if rows.len() <= 40 { 14 } else { 12 };
    let widest = rows
        .iter()
        .map(|r| text::width(r, label_size as f64, false))
        .max()
        .unwrap_or(0)
        .min(MAIN_WIDTH * 2 / 5);
    let total = (0..rows.len())
        .map(|r| {
            parts
                .iter()
                .map(|p| p.1.get(r).copied().unwrap_or(0.0))
                .sum::<f64>()
        })
        .fold(1.0f64, f64::max);
    let x_hi = if total > 1.0005 {
        (total * 10.0).ceil() / 10.0
    } else {
        1.0
    };
    let x_at: Vec<f64> = (0..=(x_hi * 5.0).round() as usize)
        .map(|i| i as f64 * 0.2)
        .collect();
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .margin_right(24)
        .x_label_area_size(52)
        .y_label_area_size(widest + 46)
        .build_cartesian_2d(
            Keyed {
                range: (0.0, x_hi),
                bold: x_at,
                light: Vec::new(),
            },
            Keyed {
                range: (-0.5, n as f64 - 0.5),
                bold: Vec::new(),
                light: Vec::new(),
            },
        )?;
    let pct = |v: &f64| super::chart::label(*v, true);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(x_label)
        .y_desc(row_label)
        .x_label_formatter(&pct)
        .bold_line_style(GRID)
        .axis_style(INK)
        .label_style(font(14))
        .axis_desc_style(font(15))
        .draw()?;
    for (r, name) in rows.iter().enumerate() {
        // The first row on top.
        let y = (n - 1 - r) as f64;
        let (left, mid) = chart.backend_coord(&(0.0, y));
        root.draw(&Text::new(
            name.clone(),
            (left - 8, mid),
            anchored(label_size, HPos::Right, VPos::Center),
        ))?;
        let mut base = 0.0;
        for (i, (_, shares)) in parts.iter().enumerate() {
            let share = shares.get(r).copied().unwrap_or(0.0);
            if share <= 0.0 {
                continue;
            }
            let color = Look::fill(i);
            let a = chart.backend_coord(&(base, y + 0.36));
            let b = chart.backend_coord(&((base + share).min(x_hi), y - 0.36));
            root.draw(&Rectangle::new([a, b], color.filled()))?;
            root.draw(&Rectangle::new([a, b], WHITE.stroke_width(1)))?;
            let text = if share >= 0.1 {
                format!("{:.0}%", share * 100.0)
            } else {
                format!("{:.1}%", share * 100.0)
            };
            if b.0 - a.0 >= text::width(&text, 12.0, false) as i32 + 8 && b.1 - a.1 >= 12 {
                root.draw(&Text::new(
                    text,
                    ((a.0 + b.0) / 2, (a.1 + b.1) / 2),
                    (FONT, 12)
                        .into_font()
                        .color(&ink_on(color))
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ))?;
            }
            base += share;
        }
    }
    Ok(())
}
