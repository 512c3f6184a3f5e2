//! The outcome instruments the record holds (PHQ-9, GAD-7, PCL-5,
//! BDI-II): their ranges and published severity bands, how a series of
//! one is drawn (marker shape, line dash), and the change from baseline
//! as Dore et al. (2019) report it: the first score against the latest,
//! absolute and in percent.

use chrono::NaiveDate;

/// A severity band of an instrument: scores `from` to `to`, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    /// Lowest score in the band.
    pub from: u8,
    /// Highest score in the band.
    pub to: u8,
    /// Its name (`moderately severe`).
    pub label: &'static str,
}

/// The shape of a series' markers: series are told apart by shape and
/// line dash, not by colour alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// A circle.
    Circle,
    /// A square.
    Square,
    /// A triangle, point up.
    Triangle,
    /// A diamond.
    Diamond,
}

impl Marker {
    /// The shape in words (for the legend and descriptions).
    pub fn name(self) -> &'static str {
        match self {
            Marker::Circle => "circles",
            Marker::Square => "squares",
            Marker::Triangle => "triangles",
            Marker::Diamond => "diamonds",
        }
    }
}

/// An outcome instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instrument {
    /// The record's code: `phq9`, `gad7`, `pcl5`, `bdi_ii`.
    pub code: &'static str,
    /// Its name: `PHQ-9`.
    pub name: &'static str,
    /// What it measures.
    pub measures: &'static str,
    /// The highest score.
    pub max: u8,
    /// Its severity bands, lowest first, covering 0 to `max`.
    pub bands: &'static [Band],
    /// A note on reading the bands, if any.
    pub note: &'static str,
    /// The series' marker.
    pub marker: Marker,
    /// The series' line dash (SVG `stroke-dasharray`; empty for solid).
    pub dash: &'static str,
}

const fn band(from: u8, to: u8, label: &'static str) -> Band {
    Band { from, to, label }
}

/// The four instruments, in the order the pages show them.
pub const INSTRUMENTS: [Instrument; 4] = [
    Instrument {
        code: "phq9",
        name: "PHQ-9",
        measures: "depression",
        max: 27,
        bands: &[
            band(0, 4, "minimal"),
            band(5, 9, "mild"),
            band(10, 14, "moderate"),
            band(15, 19, "moderately severe"),
            band(20, 27, "severe"),
        ],
        note: "",
        marker: Marker::Circle,
        dash: "",
    },
    Instrument {
        code: "gad7",
        name: "GAD-7",
        measures: "anxiety",
        max: 21,
        bands: &[
            band(0, 4, "minimal"),
            band(5, 9, "mild"),
            band(10, 14, "moderate"),
            band(15, 21, "severe"),
        ],
        note: "",
        marker: Marker::Square,
        dash: "6 3",
    },
    Instrument {
        code: "pcl5",
        name: "PCL-5",
        measures: "post-traumatic stress",
        max: 80,
        bands: &[
            band(0, 30, "below the cut-off"),
            band(31, 33, "probable PTSD cut-off (31–33)"),
            band(34, 80, "above the cut-off"),
        ],
        note: "A score of 31–33 or more suggests probable PTSD.",
        marker: Marker::Triangle,
        dash: "2 3",
    },
    Instrument {
        code: "bdi_ii",
        name: "BDI-II",
        measures: "depression",
        max: 63,
        bands: &[
            band(0, 13, "minimal"),
            band(14, 19, "mild"),
            band(20, 28, "moderate"),
            band(29, 63, "severe"),
        ],
        note: "",
        marker: Marker::Diamond,
        dash: "8 3 2 3",
    },
];

/// The instrument of a record code.
pub fn instrument(code: &str) -> Option<&'static Instrument> {
    INSTRUMENTS.iter().find(|i| i.code == code)
}

impl Instrument {
    /// The band a score falls in (the top band for a score above `max`,
    /// which the record never holds).
    pub fn band_of(&self, score: u8) -> &'static Band {
        self.bands
            .iter()
            .find(|b| (b.from..=b.to).contains(&score))
            .or(self.bands.last())
            .expect("every instrument has bands")
    }

    /// The bands in words: `0–4 minimal, 5–9 mild, ...`.
    pub fn bands_text(&self) -> String {
        self.bands
            .iter()
            .map(|b| format!("{}–{} {}", b.from, b.to, b.label))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One score of an instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Score {
    /// Day administered.
    pub on: NaiveDate,
    /// The record's sequence of the entry (orders scores of one day).
    pub sequence: u64,
    /// The total score.
    pub score: u8,
}

/// Change from baseline: the first score of an instrument against the
/// latest (Dore et al. 2019). Negative is improvement on all four.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The first score (by day administered, then sequence).
    pub baseline: Score,
    /// The last score.
    pub latest: Score,
    /// Latest minus baseline.
    pub change: i16,
    /// The change as a percentage of the baseline, rounded half away from
    /// zero to a whole percent; `None` when the baseline is 0.
    pub percent: Option<i32>,
    /// How many scores.
    pub count: usize,
}

/// The change from baseline of one instrument's scores (in any order);
/// `None` without scores.
pub fn change_from_baseline(scores: &[Score]) -> Option<Change> {
    let order = |s: &&Score| (s.on, s.sequence);
    let baseline = *scores.iter().min_by_key(order)?;
    let latest = *scores.iter().max_by_key(order)?;
    let change = i16::from(latest.score) - i16::from(baseline.score);
    let percent = (baseline.score > 0).then(|| {
        let num = i32::from(change) * 100;
        let den = i32::from(baseline.score);
        // Rounded half away from zero, in integers.
        let q = (num.abs() * 2 + den) / (den * 2);
        if num < 0 { -q } else { q }
    });
    Some(Change {
        baseline,
        latest,
        change,
        percent,
        count: scores.len(),
    })
}

/// A signed number with a true minus sign: `−3`, `+2`, `0`.
pub fn signed(n: i32) -> String {
    match n.cmp(&0) {
        std::cmp::Ordering::Less => format!("−{}", n.unsigned_abs()),
        std::cmp::Ordering::Greater => format!("+{n}"),
        std::cmp::Ordering::Equal => "0".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(day: u32, sequence: u64, score: u8) -> Score {
        Score {
            on: NaiveDate::from_ymd_opt(2026, 1, day).expect("day"),
            sequence,
            score,
        }
    }

    #[test]
    fn the_bands_cover_each_range_without_gaps() {
        for i in INSTRUMENTS {
            assert_eq!(i.bands.first().map(|b| b.from), Some(0), "{}", i.name);
            assert_eq!(i.bands.last().map(|b| b.to), Some(i.max), "{}", i.name);
            for pair in i.bands.windows(2) {
                assert_eq!(pair[0].to + 1, pair[1].from, "{}", i.name);
            }
        }
        let phq9 = instrument("phq9").expect("phq9");
        assert_eq!(phq9.band_of(4).label, "minimal");
        assert_eq!(phq9.band_of(15).label, "moderately severe");
        assert_eq!(phq9.band_of(27).label, "severe");
        let pcl5 = instrument("pcl5").expect("pcl5");
        assert_eq!(pcl5.band_of(32).label, "probable PTSD cut-off (31–33)");
        let bdi = instrument("bdi_ii").expect("bdi");
        assert_eq!(bdi.band_of(28).label, "moderate");
        assert_eq!(bdi.band_of(29).label, "severe");
        assert!(instrument("hamd").is_none());
    }

    #[test]
    fn change_is_the_latest_against_the_first() {
        assert_eq!(change_from_baseline(&[]), None);
        // Given out of order; two on one day are ordered by sequence.
        let c = change_from_baseline(&[score(20, 9, 9), score(5, 2, 18), score(20, 8, 12)])
            .expect("a change");
        assert_eq!(c.baseline.score, 18);
        assert_eq!(c.latest.score, 9);
        assert_eq!(c.change, -9);
        assert_eq!(c.percent, Some(-50));
        assert_eq!(c.count, 3);
        // 17 → 16 is −5.88 %: −6 %. 3 → 4 is +33.3 %: +33 %.
        assert_eq!(
            change_from_baseline(&[score(1, 1, 17), score(2, 2, 16)]).and_then(|c| c.percent),
            Some(-6)
        );
        assert_eq!(
            change_from_baseline(&[score(1, 1, 3), score(2, 2, 4)]).and_then(|c| c.percent),
            Some(33)
        );
        // Half away from zero: 1 of 8 is 12.5 %.
        assert_eq!(
            change_from_baseline(&[score(1, 1, 8), score(2, 2, 9)]).and_then(|c| c.percent),
            Some(13)
        );
        assert_eq!(
            change_from_baseline(&[score(1, 1, 8), score(2, 2, 7)]).and_then(|c| c.percent),
            Some(-13)
        );
        // A baseline of 0 has no percentage.
        let zero = change_from_baseline(&[score(1, 1, 0), score(2, 2, 3)]).expect("a change");
        assert_eq!((zero.change, zero.percent), (3, None));
        // One score: its own baseline.
        let one = change_from_baseline(&[score(1, 1, 11)]).expect("a change");
        assert_eq!((one.change, one.percent, one.count), (0, Some(0), 1));
    }

    #[test]
    fn signs_are_written_out() {
        assert_eq!(signed(-3), "−3");
        assert_eq!(signed(2), "+2");
        assert_eq!(signed(0), "0");
    }
}
