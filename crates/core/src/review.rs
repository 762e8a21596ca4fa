//! Reviews: who may review a stay and when, the scores a review gives, and a property's
//! rating from its reviews.

use crate::booking::BookingStatus;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// How long after check-out a guest may review the stay.
pub const REVIEW_WINDOW_DAYS: i64 = 30;
/// The longest review text, and the longest answer of the host.
pub const MAX_REVIEW_TEXT: usize = 5_000;
pub const MAX_REPLY_TEXT: usize = 2_000;

/// What a guest scores, each from 1 to 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scores {
    pub cleanliness: u8,
    pub location: u8,
    pub value: u8,
    pub staff: u8,
    pub comfort: u8,
}

impl Scores {
    /// The aspects' names, in the order people read them.
    pub const ASPECTS: [&'static str; 5] = ["cleanliness", "location", "value", "staff", "comfort"];

    /// The aspects with their names and scores, in the order of [`Scores::ASPECTS`].
    pub fn aspects(&self) -> [(&'static str, u8); 5] {
        let [c, l, v, s, f] = Scores::ASPECTS;
        [(c, self.cleanliness), (l, self.location), (v, self.value), (s, self.staff), (f, self.comfort)]
    }

    /// The overall score in tenths (86 = 8.6): the mean of the aspects, rounded half up.
    pub fn overall_tenths(&self) -> u16 {
        let sum: u16 = self.aspects().iter().map(|(_, s)| u16::from(*s)).sum();
        (sum * 10 + 2) / 5
    }
}

/// Why a review (or an answer to one) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("{aspect} is scored from 1 to 10")]
    Score { aspect: &'static str },
    #[error("a review is at most {MAX_REVIEW_TEXT} characters")]
    TextTooLong,
    #[error("an answer is 1 to {MAX_REPLY_TEXT} characters")]
    ReplyLength,
    #[error("only a stay that is over (completed) can be reviewed")]
    NotCompleted,
    #[error("a stay can be reviewed for {REVIEW_WINDOW_DAYS} days after check-out")]
    WindowClosed,
}

/// Check a review's scores and text.
pub fn check_review(scores: &Scores, text: &str) -> Result<(), ReviewError> {
    for (aspect, score) in scores.aspects() {
        if !(1..=10).contains(&score) {
            return Err(ReviewError::Score { aspect });
        }
    }
    if text.chars().count() > MAX_REVIEW_TEXT {
        return Err(ReviewError::TextTooLong);
    }
    Ok(())
}

/// Check a host's answer.
pub fn check_reply(text: &str) -> Result<(), ReviewError> {
    let n = text.trim().chars().count();
    if n == 0 || n > MAX_REPLY_TEXT {
        return Err(ReviewError::ReplyLength);
    }
    Ok(())
}

/// Whether a booking may be reviewed `today` (in the property's time zone): a completed
/// stay, until `REVIEW_WINDOW_DAYS` days after its check-out.
pub fn may_review(status: BookingStatus, check_out: Date, today: Date) -> Result<(), ReviewError> {
    if status != BookingStatus::Completed {
        return Err(ReviewError::NotCompleted);
    }
    match check_out.checked_add(jiff::Span::new().days(REVIEW_WINDOW_DAYS)) {
        Ok(last) if today <= last => Ok(()),
        _ => Err(ReviewError::WindowClosed),
    }
}

/// A score in tenths as people read it: "8.6".
pub fn score_label(tenths: u16) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use jiff::civil::date;

    fn scores(s: u8) -> Scores {
        Scores { cleanliness: s, location: s, value: s, staff: s, comfort: s }
    }

    #[test]
    fn the_overall_score_is_the_mean_rounded_half_up() {
        assert_eq!(scores(8).overall_tenths(), 80);
        let mixed = Scores { cleanliness: 9, location: 10, value: 7, staff: 8, comfort: 9 };
        // (9 + 10 + 7 + 8 + 9) / 5 = 8.6
        assert_eq!(mixed.overall_tenths(), 86);
        // 41 / 5 = 8.2; 43 / 5 = 8.6; 42 / 5 = 8.4: tenths are exact for five aspects.
        let odd = Scores { cleanliness: 1, location: 10, value: 10, staff: 10, comfort: 10 };
        assert_eq!(odd.overall_tenths(), 82);
        assert_eq!(score_label(86), "8.6");
        assert_eq!(score_label(100), "10.0");
    }

    #[test]
    fn scores_are_one_to_ten_and_text_has_a_limit() {
        assert!(check_review(&scores(1), "").is_ok());
        assert!(check_review(&scores(10), &"x".repeat(MAX_REVIEW_TEXT)).is_ok());
        assert_eq!(check_review(&scores(0), ""), Err(ReviewError::Score { aspect: "cleanliness" }));
        assert_eq!(
            check_review(&Scores { comfort: 11, ..scores(5) }, ""),
            Err(ReviewError::Score { aspect: "comfort" })
        );
        assert_eq!(check_review(&scores(5), &"x".repeat(MAX_REVIEW_TEXT + 1)), Err(ReviewError::TextTooLong));
        assert!(check_reply("Thank you!").is_ok());
        assert_eq!(check_reply("  "), Err(ReviewError::ReplyLength));
        assert_eq!(check_reply(&"x".repeat(MAX_REPLY_TEXT + 1)), Err(ReviewError::ReplyLength));
    }

    #[test]
    fn only_a_completed_stay_within_the_window_is_reviewed() {
        let out = date(2027, 2, 12);
        assert!(may_review(BookingStatus::Completed, out, out).is_ok());
        assert!(may_review(BookingStatus::Completed, out, date(2027, 3, 14)).is_ok(), "the 30th day");
        assert_eq!(may_review(BookingStatus::Completed, out, date(2027, 3, 15)), Err(ReviewError::WindowClosed));
        for s in [BookingStatus::Confirmed, BookingStatus::CheckedIn, BookingStatus::Cancelled, BookingStatus::NoShow] {
            assert_eq!(may_review(s, out, out), Err(ReviewError::NotCompleted), "{s:?}");
        }
    }
}
