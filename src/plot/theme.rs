//! The talk theme shared by every chart kind: fonts large enough to read
//! from the back of a room, a colour-blind-safe palette in which each
//! strategy keeps one colour (and one marker shape) on every slide, and the
//! embedded font that lets charts render where no font is installed.
//!
//! Colours: the Okabe-Ito palette (Okabe & Ito, "Color Universal Design",
//! 2008) for the strategies a talk shows first, then Paul Tol's "muted"
//! scheme for the rest. Unknown strategy names get a colour from a fixed hash
//! of the name, so the same name always gets the same colour.

use plotters::element::{
    Circle, Cross, DynElement, EmptyElement, IntoDynElement, Polygon, Rectangle,
};
use plotters::style::{register_font, FontStyle, IntoFont, RGBColor, ShapeStyle, TextStyle};
use plotters_backend::DrawingBackend;
use std::sync::Once;

/// The font family charts are drawn with. DejaVu Sans is embedded in the
/// binary and registered under this name; SVG output names the same family.
pub(crate) const FONT: &str = "sans-serif";

/// Registers the embedded DejaVu Sans (regular and bold) with plotters, once.
pub(crate) fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TTF shipped by the `dejavu` crate; failure
        // here would be a packaging bug, and text would then be missing.
        let _ = register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Sizes for one output size: everything scales with the image, relative to
/// a 1920x1080 slide.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    scale: f64,
}

pub(crate) const BACKGROUND: RGBColor = RGBColor(255, 255, 255);
pub(crate) const INK: RGBColor = RGBColor(34, 34, 34);
pub(crate) const GRID: RGBColor = RGBColor(225, 225, 225);
pub(crate) const SUBTLE: RGBColor = RGBColor(110, 110, 110);
/// Lines not highlighted (`--highlight`): drawn thin, beneath, in this grey.
pub const MUTED: RGBColor = RGBColor(200, 200, 200);

/// The smallest text on any chart, in pixels at 1920x1080 (scaled with the
/// image like every size: 7.5 px at 480x270), so a slide still reads at a
/// quarter of its size from the back of a room. Every text style of
/// [`Theme`] is at least this big; where text does not fit, charts lay it
/// out differently (two lines, fewer or rotated labels, abbreviated) rather
/// than shrink it.
///
/// The size is plotters' text size: the font's height from descender to
/// ascender. plotters' SVG backend writes it as `font-size` divided by 1.24
/// (the CSS em), so the SVG says `font-size="24.19..."` for 30 px.
pub const MIN_TEXT_1080P: f64 = 30.0;

/// The factor plotters' SVG backend divides a text size by to write its
/// `font-size` (see [`MIN_TEXT_1080P`]).
pub const SVG_FONT_SIZE_DIVISOR: f64 = 1.24;

impl Theme {
    pub(crate) fn new(width: u32, height: u32) -> Theme {
        let scale = (width as f64 / 1920.0).min(height as f64 / 1080.0).max(0.2);
        Theme {
            width,
            height,
            scale,
        }
    }

    /// A length in pixels for a 1920x1080 slide, scaled to this size.
    pub(crate) fn px(&self, at_1080p: f64) -> u32 {
        (at_1080p * self.scale).round().max(1.0) as u32
    }

    /// A text size in pixels at this image size: `size_at_1080p` scaled,
    /// never below [`MIN_TEXT_1080P`] scaled.
    pub(crate) fn text_px(&self, size_at_1080p: f64) -> f64 {
        size_at_1080p.max(MIN_TEXT_1080P) * self.scale
    }

    fn font(&self, size: f64) -> TextStyle<'static> {
        (FONT, self.text_px(size)).into_font().color(&INK)
    }

    pub(crate) fn title_sized(&self, size_at_1080p: f64) -> TextStyle<'static> {
        (FONT, self.text_px(size_at_1080p), FontStyle::Bold)
            .into_font()
            .color(&INK)
    }
    pub(crate) fn panel_title(&self) -> TextStyle<'static> {
        self.font(40.0)
    }
    pub(crate) fn axis_label(&self) -> TextStyle<'static> {
        self.font(38.0)
    }
    pub(crate) fn tick(&self) -> TextStyle<'static> {
        self.font(32.0)
    }
    pub(crate) fn legend(&self) -> TextStyle<'static> {
        self.font(36.0)
    }
    /// Text of `size` pixels at 1080p (at least [`MIN_TEXT_1080P`]).
    pub(crate) fn text(&self, size_at_1080p: f64) -> TextStyle<'static> {
        self.font(size_at_1080p)
    }
    pub(crate) fn line_width(&self) -> u32 {
        self.px(5.0)
    }
    /// Lines drawn beneath the highlighted ones: a third of [`Self::line_width`].
    pub(crate) fn muted_line_width(&self) -> u32 {
        self.px(5.0 / 3.0)
    }
    pub(crate) fn marker_size(&self) -> u32 {
        self.px(11.0)
    }
}

/// The strategy's name without its parameters: `ttl:ttl=60s` -> `ttl`.
pub(crate) fn base_name(spec: &str) -> &str {
    spec.split(':').next().unwrap_or(spec).trim()
}

/// Fixed colours for the strategies cachesim has or will have. The talk's
/// first six (none, lru, lfu, fifo, ttl, random) use the most distinct
/// Okabe-Ito hues; `belady` (the optimum) is black.
const KNOWN: &[(&str, RGBColor)] = &[
    ("none", RGBColor(136, 136, 136)),     // grey: no cache at all
    ("lru", RGBColor(0, 114, 178)),        // Okabe-Ito blue
    ("lfu", RGBColor(213, 94, 0)),         // Okabe-Ito vermillion
    ("fifo", RGBColor(0, 158, 115)),       // Okabe-Ito bluish green
    ("ttl", RGBColor(204, 121, 167)),      // Okabe-Ito reddish purple
    ("random", RGBColor(230, 159, 0)),     // Okabe-Ito orange
    ("clock", RGBColor(86, 180, 233)),     // Okabe-Ito sky blue
    ("belady", RGBColor(0, 0, 0)),         // black: the optimum
    ("slru", RGBColor(51, 34, 136)),       // Tol indigo
    ("2q", RGBColor(68, 170, 153)),        // Tol teal
    ("arc", RGBColor(170, 68, 153)),       // Tol purple
    ("lirs", RGBColor(136, 34, 85)),       // Tol wine
    ("sieve", RGBColor(153, 153, 51)),     // Tol olive
    ("s3fifo", RGBColor(17, 119, 51)),     // Tol green
    ("wtinylfu", RGBColor(204, 102, 119)), // Tol rose
    ("redis", RGBColor(140, 81, 10)),      // brown
    ("lruk", RGBColor(221, 170, 51)),      // Tol sand (darkened)
    ("tinylfu", RGBColor(102, 153, 204)),  // Tol light blue
];

/// Colours for names not in the table, picked by a fixed hash of the name.
const FALLBACK: &[RGBColor] = &[
    RGBColor(102, 17, 0),
    RGBColor(51, 102, 170),
    RGBColor(17, 170, 153),
    RGBColor(153, 68, 0),
    RGBColor(102, 51, 153),
    RGBColor(85, 85, 85),
    RGBColor(170, 119, 0),
    RGBColor(34, 136, 51),
];

/// FNV-1a: stable across runs and machines (never a per-process seed).
fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The colour of a strategy, the same on every chart. Parameters do not
/// change it (`ttl:ttl=1s` and `ttl:ttl=60s` are both ttl's colour; their
/// markers differ instead, see [`marker_for`]).
pub fn strategy_color(spec: &str) -> RGBColor {
    let name = base_name(spec).to_ascii_lowercase();
    if let Some((_, c)) = KNOWN.iter().find(|(n, _)| *n == name) {
        return *c;
    }
    FALLBACK[(stable_hash(&name) % FALLBACK.len() as u64) as usize]
}

/// Marker shapes, so lines stay apart for readers who cannot tell colours
/// apart and in greyscale print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
    /// No marker: a thin line (the lines `--highlight` leaves grey).
    Bare,
}

const MARKERS: [Marker; 5] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
    Marker::Cross,
];

/// The marker of a strategy: fixed per name (its place in the known table,
/// or its hash), shifted by `variant` when one chart shows several
/// parameterisations of the same strategy.
pub(crate) fn marker_for(spec: &str, variant: usize) -> Marker {
    let name = base_name(spec).to_ascii_lowercase();
    let base = match KNOWN.iter().position(|(n, _)| *n == name) {
        Some(i) => i,
        None => stable_hash(&name) as usize,
    };
    MARKERS[(base + variant) % MARKERS.len()]
}

/// A marker centred on `at`, `r` pixels in radius.
pub(crate) fn marker_element<'b, DB: DrawingBackend + 'b, C: Clone + 'b>(
    m: Marker,
    at: C,
    r: u32,
    color: RGBColor,
) -> DynElement<'b, DB, C> {
    let ri = r as i32;
    let fill: ShapeStyle = color.filled();
    let stroke: ShapeStyle = color.stroke_width((r / 3).max(2));
    let e = EmptyElement::at(at);
    match m {
        Marker::Circle => (e + Circle::new((0, 0), r, fill)).into_dyn(),
        Marker::Square => {
            (e + Rectangle::new([(-ri * 4 / 5, -ri * 4 / 5), (ri * 4 / 5, ri * 4 / 5)], fill))
                .into_dyn()
        }
        Marker::Triangle => {
            (e + Polygon::new(vec![(0, -ri), (ri, ri * 4 / 5), (-ri, ri * 4 / 5)], fill)).into_dyn()
        }
        Marker::Diamond => {
            (e + Polygon::new(vec![(0, -ri), (ri, 0), (0, ri), (-ri, 0)], fill)).into_dyn()
        }
        Marker::Cross => (e + Cross::new((0, 0), r, stroke)).into_dyn(),
        Marker::Bare => e.into_dyn(),
    }
}

use plotters::style::Color;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_fixed_per_strategy_and_ignore_parameters() {
        assert_eq!(strategy_color("lru"), RGBColor(0, 114, 178));
        assert_eq!(strategy_color("ttl:ttl=1s"), strategy_color("ttl:ttl=5m"));
        assert_ne!(strategy_color("lru"), strategy_color("lfu"));
        // The talk's first strategies all differ.
        let first = ["none", "lru", "lfu", "fifo", "ttl", "random", "belady"];
        for (i, a) in first.iter().enumerate() {
            for b in &first[i + 1..] {
                assert_ne!(strategy_color(a), strategy_color(b), "{a} vs {b}");
            }
        }
        // Unknown names: deterministic.
        assert_eq!(strategy_color("my-policy"), strategy_color("my-policy:k=2"));
        assert_eq!(stable_hash("abc"), 0xe71fa2190541574b);
    }

    #[test]
    fn known_names_are_unique() {
        for (i, (a, _)) in KNOWN.iter().enumerate() {
            assert!(
                KNOWN[i + 1..].iter().all(|(b, _)| a != b),
                "{a} listed twice"
            );
        }
    }

    #[test]
    fn markers_vary_with_variant() {
        assert_ne!(marker_for("ttl", 0), marker_for("ttl", 1));
        assert_eq!(marker_for("lru:x=1", 0), marker_for("lru", 0));
    }
}
