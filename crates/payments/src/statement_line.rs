//! One booked movement on a bank account, whichever format it came from.

use innkeep_core::Money;
use jiff::civil::Date;

/// One movement on a bank account, as a statement reports it.
///
/// `amount` is the magnitude (never negative); the direction is `credit`. A line that was
/// read but cannot be fully trusted keeps its place in the statement and says why in
/// `problem`, so an import never drops money silently and a person can review it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    /// The amount in minor units of its currency. `None` only when `problem` says why (an
    /// unknown currency code, a missing or unreadable amount).
    pub amount: Option<Money>,
    /// Money came in (`CRDT`, a positive CSV amount) rather than went out (`DBIT`, negative).
    pub credit: bool,
    /// The day the bank booked the movement.
    pub booking_date: Option<Date>,
    /// The day the money counts for interest (camt.053 only).
    pub value_date: Option<Date>,
    /// Texts that may identify what was paid: remittance information, creditor
    /// references, end-to-end ids, bank references; trimmed, without duplicates, in
    /// document order.
    pub references: Vec<String>,
    /// The bank reversed an earlier movement (camt.053 `RvslInd`).
    pub reversal: bool,
    /// The payer's name, when the bank gives it.
    pub debtor_name: Option<String>,
    /// The bank's entry status code (`BOOK`, `PDNG`, `INFO`, ...), when given.
    pub status: Option<String>,
    /// Why this line needs a person's review; `None` for a clean line.
    pub problem: Option<String>,
}
