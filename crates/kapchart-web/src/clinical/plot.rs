//! The outcome plot: one small SVG per instrument (small multiples), drawn
//! on the server as a pure function of the scores, with no script.
//!
//! Each plot has the instrument's severity bands as labelled background
//! stripes, one marker per score (class `point`) carrying a `<title>` with
//! the score, its band and its day, and a line joining the scores in time
//! order. Series are told apart by marker shape and line dash, not colour
//! alone; the plot is `role="img"` with a `<title>` and a `<desc>` that
//! says what it shows in words, and the page's table of scores is its
//! text alternative. The plots of one chart share their time axis, so
//! they line up.

use std::fmt::Write as _;

use chrono::NaiveDate;

use super::format;
use super::instruments::{Instrument, Marker, Score, change_from_baseline, signed};

/// The plot's size, in SVG units.
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 190.0;
/// The plotting area.
const LEFT: f64 = 40.0;
const RIGHT: f64 = 420.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 158.0;
/// Space kept between the area's edge and the first and last day.
const INSET: f64 = 14.0;
/// Closest two tick or band labels may be, vertically.
const LABEL_GAP: f64 = 12.0;
/// The ink of lines, markers and text (16:1 on white, and at least 9:1 on
/// every band's fill).
const INK: &str = "#1b1f24";
/// Band fills, lightest first; the bands are also named in text.
const FILLS: [&str; 5] = ["#f7f8f9", "#eceff2", "#e1e5ea", "#d6dbe1", "#cbd2d9"];

/// The SVG of one instrument's scores over `days` (first and last day of
/// the time axis, shared by the chart's plots). `id` makes the ids of its
/// title and description unique on the page.
pub fn plot(
    instrument: &Instrument,
    scores: &[Score],
    days: (NaiveDate, NaiveDate),
    id: &str,
) -> String {
    let mut sorted: Vec<Score> = scores.to_vec();
    sorted.sort_by_key(|s| (s.on, s.sequence));
    let x = |d: NaiveDate| x_of(d, days);
    let y = |score: f64| BOTTOM - score / f64::from(instrument.max) * (BOTTOM - TOP);

    let mut svg = String::with_capacity(4096);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="outcome-plot" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="system-ui, sans-serif" font-size="11">"#
    );
    let _ = write!(
        svg,
        r#"<title id="{id}-title">{} ({}) over time</title><desc id="{id}-desc">{}</desc>"#,
        esc(instrument.name),
        esc(instrument.measures),
        esc(&describe(instrument, &sorted)),
    );

    // The bands, each named beside the plot.
    svg.push_str(r#"<g class="bands">"#);
    let mut band_labels = Vec::with_capacity(instrument.bands.len());
    for (i, band) in instrument.bands.iter().enumerate() {
        let low = f64::from(band.from);
        let high = if band.to >= instrument.max {
            f64::from(instrument.max)
        } else {
            f64::from(band.to) + 1.0
        };
        let (top, bottom) = (y(high), y(low));
        let _ = write!(
            svg,
            r#"<rect x="{LEFT}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} {}–{}</title></rect>"#,
            RIGHT - LEFT,
            bottom - top,
            FILLS[i.min(FILLS.len() - 1)],
            esc(band.label),
            band.from,
            band.to,
        );
        band_labels.push((
            (top + bottom) / 2.0 + 4.0,
            format!("{}–{} {}", band.from, band.to, band.label),
        ));
    }
    for (ly, text) in spread(band_labels) {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{ly:.1}" fill="{INK}">{}</text>"#,
            RIGHT + 8.0,
            esc(&text)
        );
    }
    svg.push_str("</g>");

    // Axes: scores at the bands' edges, the first and last day.
    let _ = write!(
        svg,
        r#"<g class="axes" stroke="{INK}"><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{BOTTOM}"/><line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}"/></g>"#
    );
    let mut ticks: Vec<u8> = instrument.bands.iter().map(|b| b.from).collect();
    ticks.push(instrument.max);
    let mut last_y = f64::INFINITY;
    svg.push_str(r#"<g class="ticks">"#);
    for t in ticks {
        let ty = y(f64::from(t));
        if last_y - ty < LABEL_GAP {
            continue;
        }
        last_y = ty;
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="{INK}">{t}</text>"#,
            LEFT - 5.0,
            ty + 4.0
        );
    }
    let (first, last) = days;
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="{}" fill="{INK}">{}</text>"#,
        x(first),
        BOTTOM + 16.0,
        if first == last { "middle" } else { "start" },
        esc(&format::date(first))
    );
    if first != last {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="{INK}">{}</text>"#,
            x(last),
            BOTTOM + 16.0,
            esc(&format::date(last))
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="{INK}">day administered</text>"#,
        (LEFT + RIGHT) / 2.0,
        BOTTOM + 29.0
    );
    svg.push_str("</g>");

    // The series: a line in time order, and a marker per score.
    let points: Vec<(f64, f64, &Score)> = sorted
        .iter()
        .map(|s| (x(s.on), y(f64::from(s.score)), s))
        .collect();
    let _ = write!(
        svg,
        r#"<g class="series series-{}" fill="{INK}" stroke="{INK}">"#,
        instrument.code
    );
    if points.len() > 1 {
        let line: Vec<String> = points
            .iter()
            .map(|(px, py, _)| format!("{px:.1},{py:.1}"))
            .collect();
        let dash = if instrument.dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{}""#, instrument.dash)
        };
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke-width="2"{dash} points="{}"/>"#,
            line.join(" ")
        );
    }
    for (px, py, s) in &points {
        let title = format!(
            "{}: {} ({}) on {}",
            instrument.name,
            s.score,
            instrument.band_of(s.score).label,
            format::date(s.on)
        );
        let _ = write!(
            svg,
            r##"{}<title>{}</title></{}>"##,
            marker_open(instrument.marker, *px, *py),
            esc(&title),
            marker_tag(instrument.marker)
        );
    }
    svg.push_str("</g></svg>");
    svg
}

/// The plot in words, for its `<desc>`.
fn describe(instrument: &Instrument, sorted: &[Score]) -> String {
    let mut text = String::new();
    match (sorted.first(), sorted.last(), change_from_baseline(sorted)) {
        (Some(first), Some(last), Some(change)) => {
            let _ = write!(
                text,
                "{} {} from {} to {}. Baseline {} ({}), latest {} ({}): change {}",
                sorted.len(),
                if sorted.len() == 1 { "score" } else { "scores" },
                format::date(first.on),
                format::date(last.on),
                change.baseline.score,
                instrument.band_of(change.baseline.score).label,
                change.latest.score,
                instrument.band_of(change.latest.score).label,
                signed(i32::from(change.change)),
            );
            if let Some(p) = change.percent {
                let _ = write!(text, " ({}%)", signed(p));
            }
            text.push_str(". ");
        }
        _ => text.push_str("No scores. "),
    }
    let _ = write!(
        text,
        "Scores 0 to {}; bands {}. {}Scores are {} joined by a {} line. The table of outcome measures lists every score.",
        instrument.max,
        instrument.bands_text(),
        if instrument.note.is_empty() {
            String::new()
        } else {
            format!("{} ", instrument.note)
        },
        instrument.marker.name(),
        if instrument.dash.is_empty() {
            "solid"
        } else {
            "dashed"
        },
    );
    text
}

/// Where a day falls on the time axis.
fn x_of(d: NaiveDate, (first, last): (NaiveDate, NaiveDate)) -> f64 {
    let total = (last - first).num_days();
    if total <= 0 {
        return (LEFT + RIGHT) / 2.0;
    }
    let at = (d - first).num_days().clamp(0, total);
    LEFT + INSET + (at as f64) / (total as f64) * (RIGHT - LEFT - 2.0 * INSET)
}

/// Labels `(y, text)` moved apart so that none is closer than
/// [`LABEL_GAP`] to the one below it (bands are given lowest first).
fn spread(mut labels: Vec<(f64, String)>) -> Vec<(f64, String)> {
    let mut below = f64::INFINITY;
    for (y, _) in &mut labels {
        if below - *y < LABEL_GAP {
            *y = below - LABEL_GAP;
        }
        below = *y;
    }
    labels
}

fn marker_open(marker: Marker, x: f64, y: f64) -> String {
    match marker {
        Marker::Circle => format!(
            r##"<circle class="point" cx="{x:.1}" cy="{y:.1}" r="5" stroke="#ffffff" stroke-width="1.5">"##
        ),
        Marker::Square => format!(
            r##"<rect class="point" x="{:.1}" y="{:.1}" width="9" height="9" stroke="#ffffff" stroke-width="1.5">"##,
            x - 4.5,
            y - 4.5
        ),
        Marker::Triangle => format!(
            r##"<polygon class="point" points="{x:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" stroke="#ffffff" stroke-width="1.5">"##,
            y - 6.0,
            x - 5.5,
            y + 4.5,
            x + 5.5,
            y + 4.5
        ),
        Marker::Diamond => format!(
            r##"<polygon class="point" points="{x:.1},{:.1} {:.1},{y:.1} {x:.1},{:.1} {:.1},{y:.1}" stroke="#ffffff" stroke-width="1.5">"##,
            y - 6.0,
            x + 6.0,
            y + 6.0,
            x - 6.0
        ),
    }
}

fn marker_tag(marker: Marker) -> &'static str {
    match marker {
        Marker::Circle => "circle",
        Marker::Square => "rect",
        Marker::Triangle | Marker::Diamond => "polygon",
    }
}

/// Text escaped for SVG (XML) content and attributes.
fn esc(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clinical::instruments::{INSTRUMENTS, instrument};

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).expect("day")
    }

    fn scores(values: &[(u32, u8)]) -> Vec<Score> {
        values
            .iter()
            .enumerate()
            .map(|(i, (d, s))| Score {
                on: day(*d),
                sequence: i as u64 + 1,
                score: *s,
            })
            .collect()
    }

    #[test]
    fn one_marker_with_a_title_per_score() {
        let phq9 = instrument("phq9").expect("phq9");
        let svg = plot(
            phq9,
            &scores(&[(20, 9), (1, 18), (10, 14)]),
            (day(1), day(20)),
            "p",
        );
        assert_eq!(svg.matches(r#"class="point""#).count(), 3);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("<title>PHQ-9: 18 (moderately severe) on 1 Mar 2026</title>"));
        assert!(svg.contains("<title>PHQ-9: 9 (mild) on 20 Mar 2026</title>"));
        // The line joins them in time order: 18, then 14, then 9.
        let line = svg
            .split(r#"points=""#)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a polyline");
        let ys: Vec<f64> = line
            .split(' ')
            .map(|p| p.split(',').nth(1).and_then(|y| y.parse().ok()).expect("y"))
            .collect();
        assert_eq!(ys.len(), 3);
        assert!(
            ys[0] < ys[1] && ys[1] < ys[2],
            "higher scores are drawn higher: {ys:?}"
        );
    }

    #[test]
    fn the_plot_is_an_image_with_a_title_and_a_description() {
        let gad7 = instrument("gad7").expect("gad7");
        let svg = plot(
            gad7,
            &scores(&[(1, 12), (8, 6)]),
            (day(1), day(8)),
            "plot-gad7",
        );
        assert!(svg.starts_with("<svg "));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img" aria-labelledby="plot-gad7-title plot-gad7-desc""#));
        assert!(svg.contains(r#"<title id="plot-gad7-title">GAD-7 (anxiety) over time</title>"#));
        assert!(svg.contains(
            "2 scores from 1 Mar 2026 to 8 Mar 2026. Baseline 12 (moderate), latest 6 (mild): change −6 (−50%)."
        ));
        assert!(svg.contains("bands 0–4 minimal, 5–9 mild, 10–14 moderate, 15–21 severe"));
        assert!(svg.contains("Scores are squares joined by a dashed line."));
    }

    #[test]
    fn the_bands_are_drawn_and_named() {
        for i in INSTRUMENTS {
            let svg = plot(&i, &scores(&[(1, 1)]), (day(1), day(1)), i.code);
            assert_eq!(
                svg.matches("<rect x=").count(),
                i.bands.len(),
                "{}: one stripe per band",
                i.name
            );
            for b in i.bands {
                let label = esc(&format!("{}–{} {}", b.from, b.to, b.label));
                assert!(
                    svg.contains(&format!(">{label}</text>")),
                    "{}: {label}",
                    i.name
                );
            }
        }
        let pcl5 = instrument("pcl5").expect("pcl5");
        let svg = plot(pcl5, &[], (day(1), day(2)), "x");
        assert!(svg.contains("probable PTSD cut-off (31–33)"));
        assert!(svg.contains("No scores."));
        assert_eq!(svg.matches(r#"class="point""#).count(), 0);
    }

    #[test]
    fn each_instrument_has_its_own_marker_and_dash() {
        /// The first marker's element and, for a polygon, its corners.
        fn shape(svg: &str) -> (String, usize) {
            let at = svg.find(r#"class="point""#).expect("a marker");
            let open = svg[..at].rfind('<').expect("its tag");
            let tag = svg[open + 1..at].trim().to_owned();
            let corners = svg[at..]
                .split(r#"points=""#)
                .nth(1)
                .filter(|_| tag == "polygon")
                .map_or(0, |p| p.split('"').next().unwrap_or("").split(' ').count());
            (tag, corners)
        }
        let shapes: Vec<(String, usize)> = INSTRUMENTS
            .iter()
            .map(|i| {
                shape(&plot(
                    i,
                    &scores(&[(1, 1), (2, 2)]),
                    (day(1), day(2)),
                    i.code,
                ))
            })
            .collect();
        assert_eq!(
            shapes,
            [
                ("circle".to_owned(), 0),
                ("rect".to_owned(), 0),
                ("polygon".to_owned(), 3),
                ("polygon".to_owned(), 4)
            ]
        );
        let dashes: std::collections::BTreeSet<&str> = INSTRUMENTS.iter().map(|i| i.dash).collect();
        assert_eq!(
            dashes.len(),
            INSTRUMENTS.len(),
            "every series has its own dash"
        );
    }

    #[test]
    fn days_fall_inside_the_area_and_one_day_is_centred() {
        assert_eq!(x_of(day(5), (day(5), day(5))), (LEFT + RIGHT) / 2.0);
        assert_eq!(x_of(day(1), (day(1), day(11))), LEFT + INSET);
        assert_eq!(x_of(day(11), (day(1), day(11))), RIGHT - INSET);
        // Outside the axis: at its ends.
        assert_eq!(x_of(day(20), (day(1), day(11))), RIGHT - INSET);
    }

    #[test]
    fn close_labels_are_moved_apart() {
        let spread = spread(vec![
            (100.0, "a".into()),
            (95.0, "b".into()),
            (60.0, "c".into()),
        ]);
        let ys: Vec<f64> = spread.iter().map(|(y, _)| *y).collect();
        assert_eq!(ys, [100.0, 88.0, 60.0]);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc(r#"<a & "b">"#), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
