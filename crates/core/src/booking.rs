//! The booking state machine:
//! held -> confirmed -> checked_in -> completed; held -> expired;
//! held | confirmed -> cancelled; confirmed -> no_show. Nothing else.

use serde::{Deserialize, Serialize};

/// Where a booking is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Held,
    Confirmed,
    CheckedIn,
    Completed,
    Expired,
    Cancelled,
    NoShow,
}

/// An illegal move, naming both states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} booking cannot become {to}")]
pub struct TransitionError {
    pub from: BookingStatus,
    pub to: BookingStatus,
}

impl BookingStatus {
    /// Every status.
    pub const ALL: [BookingStatus; 7] = [
        BookingStatus::Held,
        BookingStatus::Confirmed,
        BookingStatus::CheckedIn,
        BookingStatus::Completed,
        BookingStatus::Expired,
        BookingStatus::Cancelled,
        BookingStatus::NoShow,
    ];

    /// The snake_case name used in the API and the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            BookingStatus::Held => "held",
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::CheckedIn => "checked_in",
            BookingStatus::Completed => "completed",
            BookingStatus::Expired => "expired",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::NoShow => "no_show",
        }
    }

    /// Parse the snake_case name.
    pub fn parse(s: &str) -> Option<BookingStatus> {
        BookingStatus::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// Move to `to`, or say why not.
    pub fn transition(self, to: BookingStatus) -> Result<BookingStatus, TransitionError> {
        use BookingStatus::*;
        match (self, to) {
            (Held, Confirmed)
            | (Confirmed, CheckedIn)
            | (CheckedIn, Completed)
            | (Held, Expired)
            | (Held, Cancelled)
            | (Confirmed, Cancelled)
            | (Confirmed, NoShow) => Ok(to),
            _ => Err(TransitionError { from: self, to }),
        }
    }

    /// Whether the booking's nights count as sold in the inventory.
    pub fn holds_inventory(&self) -> bool {
        matches!(
            self,
            BookingStatus::Held | BookingStatus::Confirmed | BookingStatus::CheckedIn | BookingStatus::Completed
        )
    }
}

impl std::fmt::Display for BookingStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BookingStatus::*;
    use proptest::prelude::*;

    #[test]
    fn the_happy_path_is_allowed() {
        assert_eq!(Held.transition(Confirmed), Ok(Confirmed));
        assert_eq!(Confirmed.transition(CheckedIn), Ok(CheckedIn));
        assert_eq!(CheckedIn.transition(Completed), Ok(Completed));
    }

    #[test]
    fn exactly_seven_moves_are_legal() {
        let legal: Vec<(BookingStatus, BookingStatus)> = BookingStatus::ALL
            .iter()
            .flat_map(|a| BookingStatus::ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.transition(*b).is_ok())
            .collect();
        assert_eq!(
            legal,
            vec![
                (Held, Confirmed),
                (Held, Expired),
                (Held, Cancelled),
                (Confirmed, CheckedIn),
                (Confirmed, Cancelled),
                (Confirmed, NoShow),
                (CheckedIn, Completed),
            ]
        );
    }

    #[test]
    fn an_illegal_move_names_both_states() {
        let e = Cancelled.transition(Confirmed).unwrap_err();
        assert_eq!(e.to_string(), "a cancelled booking cannot become confirmed");
    }

    proptest! {
        #[test]
        fn terminal_states_never_move(from in 0usize..7, to in 0usize..7) {
            let (a, b) = (BookingStatus::ALL[from], BookingStatus::ALL[to]);
            if matches!(a, Completed | Expired | Cancelled | NoShow) {
                prop_assert!(a.transition(b).is_err());
            }
            if a.transition(b).is_ok() && !b.holds_inventory() {
                // releasing inventory only happens from a state that held it
                prop_assert!(a.holds_inventory());
            }
        }
    }
}
