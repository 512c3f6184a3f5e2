//! The therapists' calendars: a fixed grid of weekday slots per therapist,
//! each slot given to at most one session ever (a cancelled session's slot
//! is not offered again), so the practice is never double-booked.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};

use crate::rng::Rng;

/// What a slot is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotKind {
    /// Three hours: an exploration (dosing) session.
    Long,
    /// One hour: intake, preparation, integration, ongoing care.
    Short,
}

/// The day's slots: start (minutes after midnight UTC), length in minutes,
/// kind. They never overlap (touching ends are fine).
pub(crate) const SLOTS: [(i64, i64, SlotKind); 5] = [
    (9 * 60, 180, SlotKind::Long),
    (12 * 60 + 30, 60, SlotKind::Short),
    (13 * 60 + 30, 180, SlotKind::Long),
    (16 * 60 + 45, 60, SlotKind::Short),
    (18 * 60, 60, SlotKind::Short),
];

/// One slot of one therapist: (therapist index, day index, slot index).
pub(crate) type SlotKey = (usize, i64, usize);

/// Who holds a slot, and since when the practice's schedule knows it.
#[derive(Debug, Clone)]
struct SlotUse {
    client: usize,
    /// When the command that books it was issued (set once planned).
    booked_at: Option<DateTime<Utc>>,
    /// When it was cancelled, if it was.
    released_at: Option<DateTime<Utc>>,
}

/// Every therapist's taken slots.
#[derive(Debug, Clone)]
pub(crate) struct Calendar {
    start: NaiveDate,
    taken: BTreeMap<SlotKey, SlotUse>,
}

impl Calendar {
    /// An empty calendar whose day 0 is `start`.
    pub(crate) fn new(start: NaiveDate) -> Self {
        Self {
            start,
            taken: BTreeMap::new(),
        }
    }

    /// The slots of one therapist only: all that planning one of that
    /// therapist's clients reads and changes. Copying this, not the whole
    /// practice's calendar, keeps planning linear in the number of clients.
    pub(crate) fn of_therapist(&self, therapist: usize) -> Calendar {
        Calendar {
            start: self.start,
            taken: self
                .taken
                .range((therapist, i64::MIN, 0)..(therapist + 1, i64::MIN, 0))
                .map(|(key, used)| (*key, used.clone()))
                .collect(),
        }
    }

    /// Puts back the slots of a calendar made by [`Calendar::of_therapist`]
    /// as planning left them (slots are only ever added or marked).
    pub(crate) fn merge(&mut self, part: Calendar) {
        self.taken.extend(part.taken);
    }

    /// The date of day `day`.
    pub(crate) fn date(&self, day: i64) -> NaiveDate {
        self.start + Duration::days(day)
    }

    /// True on Saturdays and Sundays, when the practice is closed.
    pub(crate) fn is_weekend(&self, day: i64) -> bool {
        matches!(self.date(day).weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The first weekday on or after `day`.
    pub(crate) fn weekday_from(&self, day: i64) -> i64 {
        let mut d = day;
        while self.is_weekend(d) {
            d += 1;
        }
        d
    }

    /// The first free slot of `kind` for the therapist on a weekday on or
    /// after `earliest`, taken for `client`. Which of the day's slots is
    /// tried first varies.
    pub(crate) fn take(
        &mut self,
        rng: &Rng,
        therapist: usize,
        kind: SlotKind,
        earliest: i64,
        client: usize,
    ) -> Option<SlotKey> {
        let of_kind: Vec<usize> = (0..SLOTS.len()).filter(|&i| SLOTS[i].2 == kind).collect();
        for day in earliest..earliest + 366 {
            if self.is_weekend(day) {
                continue;
            }
            let first = rng.below(of_kind.len() as u64) as usize;
            for n in 0..of_kind.len() {
                let key = (therapist, day, of_kind[(first + n) % of_kind.len()]);
                if let Entry::Vacant(slot) = self.taken.entry(key) {
                    slot.insert(SlotUse {
                        client,
                        booked_at: None,
                        released_at: None,
                    });
                    return Some(key);
                }
            }
        }
        None
    }

    /// A free slot of `kind` on exactly `day`, taken for `client`.
    pub(crate) fn take_on(
        &mut self,
        therapist: usize,
        kind: SlotKind,
        day: i64,
        client: usize,
    ) -> Option<SlotKey> {
        if self.is_weekend(day) {
            return None;
        }
        let key = (0..SLOTS.len())
            .filter(|&i| SLOTS[i].2 == kind)
            .map(|i| (therapist, day, i))
            .find(|key| !self.taken.contains_key(key))?;
        self.taken.insert(
            key,
            SlotUse {
                client,
                booked_at: None,
                released_at: None,
            },
        );
        Some(key)
    }

    /// Records when the command booking the slot is issued.
    pub(crate) fn booked(&mut self, key: SlotKey, at: DateTime<Utc>) {
        if let Some(u) = self.taken.get_mut(&key) {
            u.booked_at = Some(at);
        }
    }

    /// Records that the slot's session was cancelled at `at`.
    pub(crate) fn released(&mut self, key: SlotKey, at: DateTime<Utc>) {
        if let Some(u) = self.taken.get_mut(&key) {
            u.released_at = Some(at);
        }
    }

    /// A slot of `kind` on `day` that another client's session holds, booked
    /// before `before` and never cancelled: booking it again is refused as
    /// double-booking.
    pub(crate) fn held_by_other(
        &self,
        therapist: usize,
        kind: SlotKind,
        day: i64,
        client: usize,
        before: DateTime<Utc>,
    ) -> Option<SlotKey> {
        (0..SLOTS.len())
            .filter(|&i| SLOTS[i].2 == kind)
            .map(|i| (therapist, day, i))
            .find(|key| {
                self.taken.get(key).is_some_and(|u| {
                    u.client != client
                        && u.booked_at.is_some_and(|b| b < before)
                        && u.released_at.is_none()
                })
            })
    }
}
