//! Text in charts: laid out and drawn from the compiled-in font's glyph outlines, so a
//! PNG and an SVG of a chart show the same letters in the same places on any machine.
//!
//! plotters' SVG backend writes `<text font-family="sans-serif">`, which each viewer
//! renders with whatever font it has; its bitmap text drops each glyph's side bearing.
//! [`Glyphs`] wraps a backend and takes over `draw_text`: on a bitmap it rasterizes the
//! outlines itself; for an SVG it records the runs, and [`embed_text`] later writes each
//! glyph once as a `<path>` in `<defs>` and each run as a group of `<use>`s carrying its
//! text in `aria-label` (so the words stay searchable and readable by screen readers).
//! The SVG then holds no `<text>` and needs no font.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt::Write;
use std::rc::Rc;
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, OutlineCurve, PxScale, ScaleFont, point};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontStyle, FontTransform,
};

/// The two faces charts use: DejaVu Sans and DejaVu Sans Bold (the `dejavu` crate).
struct Faces {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

fn faces() -> &'static Faces {
    static FACES: OnceLock<Faces> = OnceLock::new();
    FACES.get_or_init(|| {
        let load = |bytes: &'static [u8]| {
            // The embedded font is valid; a failure here would be a packaging bug.
            FontRef::try_from_slice(bytes).expect("the embedded DejaVu Sans font loads")
        };
        Faces {
            regular: load(dejavu::sans::regular()),
            bold: load(dejavu::sans::bold()),
        }
    })
}

/// Where the baseline sits below the top of plotters' text box (`size / 1.24` high), as
/// a share of the font size: DejaVu's cap height then fills the box and descenders end
/// at its bottom.
const BASELINE: f32 = 0.63;

/// Glyphs of `text` at `size` pixels with their pen positions, and the run's width.
fn pen(text: &str, size: f32, bold: bool) -> (Vec<(GlyphId, f32)>, f32) {
    let face = if bold {
        &faces().bold
    } else {
        &faces().regular
    };
    let scaled = face.as_scaled(PxScale::from(size));
    let mut glyphs = Vec::with_capacity(text.len());
    let mut pen = 0f32;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        glyphs.push((id, pen));
        pen += scaled.h_advance(id);
        prev = Some(id);
    }
    (glyphs, pen)
}

/// The width in pixels of `text` drawn at `size`.
pub(super) fn width(text: &str, size: f64, bold: bool) -> u32 {
    pen(text, size as f32, bold).1 as u32
}

/// One run of text, laid out: glyphs with their pen positions, in pixels from the run's
/// left end on its baseline, and where that origin sits relative to the anchor point.
#[derive(Clone)]
struct Run {
    text: String,
    bold: bool,
    size: f32,
    glyphs: Vec<(GlyphId, f32)>,
    /// Offset of the baseline origin from the anchor, before rotation.
    origin: (f32, f32),
    anchor: BackendCoord,
    rotation: u16,
    color: BackendColor,
}

impl Run {
    fn new<S: BackendTextStyle>(text: &str, style: &S, anchor: BackendCoord) -> Run {
        let bold = matches!(style.style(), FontStyle::Bold);
        let size = style.size() as f32;
        let (glyphs, pen) = pen(text, size, bold);
        // The same box plotters reserves for the text (its `layout_box`), in whole pixels,
        // so that what it lays out around the text fits what is drawn.
        let (width, height) = (pen as i32, (style.size() / 1.24) as i32);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let rotation = match style.transform() {
            FontTransform::None => 0,
            FontTransform::Rotate90 => 90,
            FontTransform::Rotate180 => 180,
            FontTransform::Rotate270 => 270,
        };
        Run {
            text: text.to_owned(),
            bold,
            size,
            glyphs,
            origin: (dx as f32, dy as f32 + BASELINE * size),
            anchor,
            rotation,
            color: style.color(),
        }
    }

    fn face(&self) -> &'static FontRef<'static> {
        if self.bold {
            &faces().bold
        } else {
            &faces().regular
        }
    }

    /// A point of the run's own frame (x along the text, y down) in the image.
    fn place(&self, x: i32, y: i32) -> BackendCoord {
        let (x, y) = match self.rotation {
            90 => (-y, x),
            180 => (-x, -y),
            270 => (y, -x),
            _ => (x, y),
        };
        (self.anchor.0 + x, self.anchor.1 + y)
    }
}

/// What [`Glyphs`] does with text.
enum Mode {
    /// Rasterize it into the wrapped bitmap.
    Raster,
    /// Keep it for [`embed_text`].
    Record(Rc<RefCell<Vec<Run>>>),
}

/// A drawing backend whose text is drawn from the embedded font's outlines.
pub(super) struct Glyphs<B: DrawingBackend> {
    inner: B,
    mode: Mode,
}

/// The text runs an SVG's [`Glyphs`] recorded, to embed after drawing.
#[derive(Clone, Default)]
pub(super) struct Recorded(Rc<RefCell<Vec<Run>>>);

impl<B: DrawingBackend> Glyphs<B> {
    /// Text rasterized into the bitmap `inner`.
    pub(super) fn raster(inner: B) -> Self {
        Glyphs {
            inner,
            mode: Mode::Raster,
        }
    }

    /// Text recorded into `runs`, for a vector backend.
    pub(super) fn record(inner: B, runs: &Recorded) -> Self {
        Glyphs {
            inner,
            mode: Mode::Record(runs.0.clone()),
        }
    }
}

impl<B: DrawingBackend> DrawingBackend for Glyphs<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let bold = matches!(style.style(), FontStyle::Bold);
        Ok((
            width(text, style.size(), bold),
            (style.size() / 1.24) as u32,
        ))
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if style.color().alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let run = Run::new(text, style, pos);
        match &self.mode {
            Mode::Record(runs) => runs.borrow_mut().push(run),
            Mode::Raster => {
                let face = run.face();
                let scale = PxScale::from(run.size);
                for &(id, x) in &run.glyphs {
                    let glyph =
                        id.with_scale_and_position(scale, point(run.origin.0 + x, run.origin.1));
                    let Some(outlined) = face.outline_glyph(glyph) else {
                        continue;
                    };
                    let min = outlined.px_bounds().min;
                    let mut pixels = Vec::new();
                    outlined.draw(|x, y, coverage| pixels.push((x, y, coverage)));
                    for (x, y, coverage) in pixels {
                        if coverage <= 0.0 {
                            continue;
                        }
                        let at = run.place(min.x as i32 + x as i32, min.y as i32 + y as i32);
                        let color = BackendColor {
                            alpha: run.color.alpha * f64::from(coverage.min(1.0)),
                            rgb: run.color.rgb,
                        };
                        self.inner.draw_pixel(at, color)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A number in an SVG attribute: at most two decimals, no trailing zeros.
fn num(v: f32) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// The glyph's outline as SVG path data, in font units with y pointing down.
fn glyph_path(face: &FontRef<'static>, id: GlyphId) -> Option<String> {
    let outline = face.outline(id)?;
    let mut d = String::new();
    let mut at = None;
    let p = |v: ab_glyph::Point| format!("{} {}", num(v.x), num(-v.y));
    for curve in &outline.curves {
        let (start, end) = match curve {
            OutlineCurve::Line(a, b) | OutlineCurve::Quad(a, _, b) => (*a, *b),
            OutlineCurve::Cubic(a, _, _, b) => (*a, *b),
        };
        if at != Some(start) {
            if at.is_some() {
                d.push('Z');
            }
            let _ = write!(d, "M{}", p(start));
        }
        let _ = match curve {
            OutlineCurve::Line(_, b) => write!(d, "L{}", p(*b)),
            OutlineCurve::Quad(_, c, b) => write!(d, "Q{} {}", p(*c), p(*b)),
            OutlineCurve::Cubic(_, c1, c2, b) => write!(d, "C{} {} {}", p(*c1), p(*c2), p(*b)),
        };
        at = Some(end);
    }
    if d.is_empty() {
        return None;
    }
    d.push('Z');
    Some(d)
}

/// Writes the recorded runs into `svg` (as plotters left it, ending in `</svg>`): each
/// glyph used once in `<defs>`, each run a `<g>` of `<use>`s on top of the drawing.
pub(super) fn embed_text(svg: &mut String, runs: &Recorded) {
    let runs = runs.0.borrow();
    let mut used = BTreeSet::new();
    for r in runs.iter() {
        used.extend(r.glyphs.iter().map(|&(id, _)| (r.bold, id.0)));
    }
    let mut out = String::from("<defs>\n");
    let mut drawn = BTreeSet::new();
    for (bold, id) in used {
        let face = if bold {
            &faces().bold
        } else {
            &faces().regular
        };
        if let Some(d) = glyph_path(face, GlyphId(id)) {
            let _ = writeln!(out, r#"<path id="{}{id}" d="{d}"/>"#, prefix(bold));
            drawn.insert((bold, id));
        }
    }
    out.push_str("</defs>\n");
    for r in runs.iter() {
        let k = r.face().as_scaled(PxScale::from(r.size)).h_scale_factor();
        let (rgb, alpha) = (r.color.rgb, r.color.alpha);
        let _ = write!(
            out,
            r##"<g aria-label="{}" fill="#{:02X}{:02X}{:02X}"{} transform="translate({} {}) rotate({}) translate({} {}) scale({})">"##,
            crate::output::escape(&r.text),
            rgb.0,
            rgb.1,
            rgb.2,
            if alpha < 1.0 {
                format!(r#" fill-opacity="{}""#, num(alpha as f32))
            } else {
                String::new()
            },
            r.anchor.0,
            r.anchor.1,
            r.rotation,
            num(r.origin.0),
            num(r.origin.1),
            k,
        );
        for &(id, x) in &r.glyphs {
            if drawn.contains(&(r.bold, id.0)) {
                let _ = write!(
                    out,
                    r##"<use xlink:href="#{}{}" x="{}"/>"##,
                    prefix(r.bold),
                    id.0,
                    num(x / k)
                );
            }
        }
        out.push_str("</g>\n");
    }
    let end = svg.rfind("</svg>").unwrap_or(svg.len());
    svg.insert_str(end, &out);
    // `<use>` names its glyph with xlink:href, which SVG 1.1 viewers need.
    if !svg.contains("xmlns:xlink") {
        *svg = svg.replacen(
            "xmlns=\"http://www.w3.org/2000/svg\"",
            "xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\"",
            1,
        );
    }
}

fn prefix(bold: bool) -> &'static str {
    if bold { "b" } else { "r" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyph_paths_are_closed_outlines_in_font_units() {
        let face = &faces().regular;
        let d = glyph_path(face, face.glyph_id('o')).unwrap();
        // An `o` is two contours: outside and the hole.
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(d.matches('Z').count(), 2, "{d}");
        assert!(glyph_path(face, face.glyph_id(' ')).is_none());
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.256), "1.26");
        assert_eq!(num(-0.001), "0");
    }
}
