//! The double-entry ledger: every movement of money is an entry whose lines sum to zero in
//! each currency. A line's amount is signed: positive debits its account, negative credits
//! it. Entries are never changed: a correction is the reversal of an entry (every line
//! negated) followed by the right one.
//!
//! The accounts and what moves between them:
//!
//! | what happened | debit | credit |
//! |---|---|---|
//! | a card payment succeeded at the provider | provider clearing | host payable (tenant) |
//! | a bank transfer arrived and matched a payment | bank | host payable (tenant) |
//! | money arrived that matches no payment (or more than one asked) | bank | guest receivable |
//! | a refund is owed to the guest | host payable (tenant) | refunds |
//! | the refund was paid out (provider or bank) | refunds | provider clearing / bank |
//! | commission on a stay, at check-out | host payable (tenant) | commission revenue, taxes payable |
//! | a payout to the host | host payable (tenant) | bank |
//!
//! Host payable is a liability: its balance is credit (negative here) while the platform owes
//! the host; a positive balance means the host owes the platform (commission on stays paid
//! at the property).

use crate::{Currency, Money, MoneyError, TenantId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// An account of the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    /// Money held for guests that matches no payment yet (unapplied transfers).
    GuestReceivable,
    /// Card money at the payment provider, not yet settled to the bank.
    ProviderClearing,
    /// The platform's bank account.
    Bank,
    /// What the platform owes a host organisation.
    HostPayable(TenantId),
    /// The platform's commission, net of tax.
    CommissionRevenue,
    /// Tax collected on commission.
    TaxesPayable,
    /// Refunds owed to guests, not yet paid out.
    Refunds,
}

impl Account {
    /// The account's stored code: `bank`, `host_payable:<tenant id>`, ...
    pub fn code(&self) -> String {
        match self {
            Account::GuestReceivable => "guest_receivable".into(),
            Account::ProviderClearing => "provider_clearing".into(),
            Account::Bank => "bank".into(),
            Account::HostPayable(t) => format!("host_payable:{t}"),
            Account::CommissionRevenue => "commission_revenue".into(),
            Account::TaxesPayable => "taxes_payable".into(),
            Account::Refunds => "refunds".into(),
        }
    }

    /// The account a stored code names.
    pub fn parse(code: &str) -> Option<Account> {
        Some(match code {
            "guest_receivable" => Account::GuestReceivable,
            "provider_clearing" => Account::ProviderClearing,
            "bank" => Account::Bank,
            "commission_revenue" => Account::CommissionRevenue,
            "taxes_payable" => Account::TaxesPayable,
            "refunds" => Account::Refunds,
            other => Account::HostPayable(other.strip_prefix("host_payable:")?.parse().ok()?),
        })
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

impl Serialize for Account {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code())
    }
}

impl<'de> Deserialize<'de> for Account {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Account::parse(&code).ok_or_else(|| serde::de::Error::custom(format!("unknown ledger account {code:?}")))
    }
}

/// One line of an entry: a signed amount on an account (positive debits, negative credits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub account: Account,
    pub amount: Money,
}

impl Line {
    pub fn debit(account: Account, amount: Money) -> Line {
        Line { account, amount }
    }

    pub fn credit(account: Account, amount: Money) -> Result<Line, LedgerError> {
        let minor = amount.minor.checked_neg().ok_or(LedgerError::Overflow)?;
        Ok(Line { account, amount: Money { minor, ..amount } })
    }
}

/// Why lines do not make an entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("an entry needs at least two lines")]
    TooFewLines,
    #[error("a line of zero on {0}")]
    ZeroLine(Account),
    #[error("the lines do not balance: {0} {1} minor units off")]
    Unbalanced(Currency, i64),
    #[error("amount out of range")]
    Overflow,
    #[error("amounts must be positive")]
    NotPositive,
}

impl From<MoneyError> for LedgerError {
    fn from(_: MoneyError) -> Self {
        LedgerError::Overflow
    }
}

/// A balanced set of lines: what one movement of money did to the accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    lines: Vec<Line>,
}

/// Where each currency's lines do not sum to zero: the first currency and how far off.
pub fn imbalance(lines: &[Line]) -> Result<Option<(Currency, i64)>, LedgerError> {
    let mut sums: BTreeMap<&str, (Currency, i64)> = BTreeMap::new();
    for l in lines {
        let s = sums.entry(l.amount.currency.code()).or_insert((l.amount.currency, 0));
        s.1 = s.1.checked_add(l.amount.minor).ok_or(LedgerError::Overflow)?;
    }
    Ok(sums.into_values().find(|(_, sum)| *sum != 0))
}

impl Entry {
    /// An entry of these lines: at least two, none zero, summing to zero in each currency.
    pub fn new(lines: Vec<Line>) -> Result<Entry, LedgerError> {
        if lines.len() < 2 {
            return Err(LedgerError::TooFewLines);
        }
        if let Some(l) = lines.iter().find(|l| l.amount.minor == 0) {
            return Err(LedgerError::ZeroLine(l.account));
        }
        if let Some((currency, off)) = imbalance(&lines)? {
            return Err(LedgerError::Unbalanced(currency, off));
        }
        Ok(Entry { lines })
    }

    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The entry that undoes this one (every line negated).
    pub fn reversal(&self) -> Result<Entry, LedgerError> {
        let lines = self.lines.iter().map(|l| Line::credit(l.account, l.amount)).collect::<Result<Vec<_>, _>>()?;
        Entry::new(lines)
    }

    /// A simple movement: `amount` (positive) debited to `to` and credited to `from`.
    pub fn transfer(to: Account, from: Account, amount: Money) -> Result<Entry, LedgerError> {
        positive(amount)?;
        Entry::new(vec![Line::debit(to, amount), Line::credit(from, amount)?])
    }

    /// A card payment the provider captured for a tenant's booking.
    pub fn card_captured(tenant: TenantId, amount: Money) -> Result<Entry, LedgerError> {
        Entry::transfer(Account::ProviderClearing, Account::HostPayable(tenant), amount)
    }

    /// A bank transfer that arrived and paid a tenant's booking.
    pub fn transfer_received(tenant: TenantId, amount: Money) -> Result<Entry, LedgerError> {
        Entry::transfer(Account::Bank, Account::HostPayable(tenant), amount)
    }

    /// Money that arrived and matches no payment (or the part over what was asked).
    pub fn unapplied_received(amount: Money) -> Result<Entry, LedgerError> {
        Entry::transfer(Account::Bank, Account::GuestReceivable, amount)
    }

    /// Money held for a guest (a statement line that matched nothing) applied by a person to
    /// a payment of a tenant's booking.
    pub fn unapplied_applied(tenant: TenantId, amount: Money) -> Result<Entry, LedgerError> {
        Entry::transfer(Account::GuestReceivable, Account::HostPayable(tenant), amount)
    }

    /// A refund now owed to the guest of a tenant's booking.
    pub fn refund_owed(tenant: TenantId, amount: Money) -> Result<Entry, LedgerError> {
        Entry::transfer(Account::HostPayable(tenant), Account::Refunds, amount)
    }

    /// A refund paid out, by the provider (card) or from the bank (transfer).
    pub fn refund_paid(by_card: bool, amount: Money) -> Result<Entry, LedgerError> {
        let from = if by_card { Account::ProviderClearing } else { Account::Bank };
        Entry::transfer(Account::Refunds, from, amount)
    }

    /// Commission (net) and its tax charged to a tenant.
    pub fn commission(tenant: TenantId, net: Money, tax: Money) -> Result<Entry, LedgerError> {
        positive(net)?;
        let gross = net.checked_add(tax)?;
        let mut lines =
            vec![Line::debit(Account::HostPayable(tenant), gross), Line::credit(Account::CommissionRevenue, net)?];
        if tax.minor != 0 {
            positive(tax)?;
            lines.push(Line::credit(Account::TaxesPayable, tax)?);
        }
        Entry::new(lines)
    }

    /// A payout to a tenant from the bank.
    pub fn payout(tenant: TenantId, amount: Money) -> Result<Entry, LedgerError> {
        Entry::transfer(Account::HostPayable(tenant), Account::Bank, amount)
    }
}

fn positive(m: Money) -> Result<(), LedgerError> {
    if m.minor <= 0 {
        return Err(LedgerError::NotPositive);
    }
    Ok(())
}

/// Balances of accounts (debit positive), per account and currency, from entries' lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Balances(HashMap<(Account, Currency), i64>);

impl Balances {
    /// Add an entry's lines.
    pub fn post(&mut self, entry: &Entry) -> Result<(), LedgerError> {
        for l in entry.lines() {
            let b = self.0.entry((l.account, l.amount.currency)).or_insert(0);
            *b = b.checked_add(l.amount.minor).ok_or(LedgerError::Overflow)?;
        }
        Ok(())
    }

    /// An account's balance in a currency (debit positive).
    pub fn of(&self, account: Account, currency: Currency) -> Money {
        Money::new(self.0.get(&(account, currency)).copied().unwrap_or(0), currency)
    }

    /// What the platform owes a tenant now (zero when the tenant owes the platform): the
    /// most a payout may pay.
    pub fn payable(&self, tenant: TenantId, currency: Currency) -> Money {
        let b = self.of(Account::HostPayable(tenant), currency);
        Money::new(b.minor.saturating_neg().max(0), currency)
    }

    /// Whether every currency sums to zero over all accounts.
    pub fn balanced(&self) -> bool {
        let mut sums: HashMap<Currency, i128> = HashMap::new();
        for ((_, c), v) in &self.0 {
            *sums.entry(*c).or_insert(0) += i128::from(*v);
        }
        sums.values().all(|s| *s == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::parse("EUR").unwrap())
    }

    fn tenant() -> TenantId {
        TenantId(uuid::Uuid::from_u128(7))
    }

    #[test]
    fn an_entry_balances_in_each_currency() {
        let usd = Money::new(100, Currency::parse("USD").unwrap());
        assert_eq!(Entry::new(vec![Line::debit(Account::Bank, eur(100))]), Err(LedgerError::TooFewLines));
        let off = vec![Line::debit(Account::Bank, eur(100)), Line::credit(Account::Refunds, eur(99)).unwrap()];
        assert_eq!(Entry::new(off), Err(LedgerError::Unbalanced(eur(0).currency, 1)));
        // Balanced in total minor units but not per currency.
        let mixed = vec![Line::debit(Account::Bank, eur(100)), Line::credit(Account::Bank, usd).unwrap()];
        assert!(matches!(Entry::new(mixed), Err(LedgerError::Unbalanced(..))));
        let zero = vec![Line::debit(Account::Bank, eur(0)), Line::credit(Account::Refunds, eur(0)).unwrap()];
        assert_eq!(Entry::new(zero), Err(LedgerError::ZeroLine(Account::Bank)));
        assert_eq!(Entry::card_captured(tenant(), eur(-5)), Err(LedgerError::NotPositive));
    }

    #[test]
    fn a_reversal_undoes_an_entry() {
        let e = Entry::commission(tenant(), eur(1500), eur(285)).unwrap();
        let mut b = Balances::default();
        b.post(&e).unwrap();
        assert_eq!(b.of(Account::HostPayable(tenant()), eur(0).currency), eur(1785));
        assert_eq!(b.of(Account::CommissionRevenue, eur(0).currency), eur(-1500));
        b.post(&e.reversal().unwrap()).unwrap();
        assert_eq!(b.of(Account::HostPayable(tenant()), eur(0).currency), eur(0));
        assert!(b.balanced());
    }

    #[test]
    fn account_codes_round_trip() {
        for a in [
            Account::GuestReceivable,
            Account::ProviderClearing,
            Account::Bank,
            Account::HostPayable(tenant()),
            Account::CommissionRevenue,
            Account::TaxesPayable,
            Account::Refunds,
        ] {
            assert_eq!(Account::parse(&a.code()), Some(a));
        }
        assert_eq!(Account::parse("host_payable:nope"), None);
        assert_eq!(Account::parse("cash"), None);
    }

    use crate::payment::{check_refund, commission};
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Pay { card: bool, minor: i64 },
        Fail,
        Refund { of: usize, minor: i64 },
        RefundPaid,
        Commission { of: usize },
        Payout,
        Correct,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (any::<bool>(), 1..500_000i64).prop_map(|(card, minor)| Op::Pay { card, minor }),
            Just(Op::Fail),
            (0..8usize, 1..600_000i64).prop_map(|(of, minor)| Op::Refund { of, minor }),
            Just(Op::RefundPaid),
            (0..8usize).prop_map(|of| Op::Commission { of }),
            Just(Op::Payout),
            Just(Op::Correct),
        ]
    }

    proptest! {
        /// Any interleaving of payments, failures, refunds, commission, payouts and
        /// corrections keeps the books balanced, never refunds more than a payment
        /// captured, and never pays a host more than it is owed.
        #[test]
        fn the_books_balance_under_any_interleaving(ops in proptest::collection::vec(op(), 1..60)) {
            let t = tenant();
            let c = eur(0).currency;
            let mut books = Balances::default();
            let mut journal: Vec<Entry> = Vec::new();
            // Per payment: (captured, refunded, by card, commission charged).
            let mut payments: Vec<(Money, Money, bool, bool)> = Vec::new();
            let mut refunds_owed: Vec<(bool, Money)> = Vec::new();
            let mut paid_out = 0i64;
            for op in ops {
                let entry = match op {
                    Op::Pay { card, minor } => {
                        payments.push((eur(minor), eur(0), card, false));
                        Some(if card { Entry::card_captured(t, eur(minor)) } else { Entry::transfer_received(t, eur(minor)) }.unwrap())
                    }
                    // A failed payment moves no money.
                    Op::Fail => None,
                    Op::Refund { of, minor } => {
                        let Some(p) = payments.get_mut(of) else { continue };
                        match check_refund(p.0, p.1, eur(minor)) {
                            Ok(_) => {
                                p.1 = p.1.checked_add(eur(minor)).unwrap();
                                refunds_owed.push((p.2, eur(minor)));
                                Some(Entry::refund_owed(t, eur(minor)).unwrap())
                            }
                            Err(_) => None,
                        }
                    }
                    Op::RefundPaid => refunds_owed.pop().map(|(card, m)| Entry::refund_paid(card, m).unwrap()),
                    Op::Commission { of } => {
                        let Some(p) = payments.get_mut(of).filter(|p| !p.3) else { continue };
                        p.3 = true;
                        let (net, tax) = commission(p.0.checked_sub(p.1).unwrap(), 1500, 1900).unwrap();
                        (net.minor > 0).then(|| Entry::commission(t, net, tax).unwrap())
                    }
                    Op::Payout => {
                        let owed = books.payable(t, c);
                        if owed.minor > 0 {
                            paid_out += owed.minor;
                            let e = Entry::payout(t, owed).unwrap();
                            let mut after = books.clone();
                            after.post(&e).unwrap();
                            prop_assert_eq!(after.payable(t, c).minor, 0, "a payout pays what is owed, no more");
                            Some(e)
                        } else {
                            None
                        }
                    }
                    // A correction reverses the last entry and posts it again.
                    Op::Correct => {
                        if let Some(last) = journal.last().cloned() {
                            let rev = last.reversal().unwrap();
                            books.post(&rev).unwrap();
                            journal.push(rev);
                            Some(last)
                        } else {
                            None
                        }
                    }
                };
                if let Some(e) = entry {
                    prop_assert_eq!(imbalance(e.lines()).unwrap(), None);
                    books.post(&e).unwrap();
                    journal.push(e);
                }
                prop_assert!(books.balanced());
                for p in &payments {
                    prop_assert!(p.1.minor <= p.0.minor, "refunded more than captured");
                }
                // Never paid out more than came in. (A refund after a payout may leave the
                // host owing the platform: payable is then zero until it is made up.)
                let received: i64 = payments.iter().map(|p| p.0.minor).sum();
                prop_assert!(paid_out <= received, "paid out {} of {}", paid_out, received);
                // The host's account is what came in less refunds, commission and payouts.
                let refunded: i64 = payments.iter().map(|p| p.1.minor).sum();
                let charged = books.of(Account::CommissionRevenue, c).minor + books.of(Account::TaxesPayable, c).minor;
                let host = books.of(Account::HostPayable(t), c).minor;
                prop_assert_eq!(host, -(received - refunded + charged - paid_out));
            }
            // Replaying the journal gives the same balances.
            let mut again = Balances::default();
            for e in &journal {
                again.post(e).unwrap();
            }
            prop_assert_eq!(again, books);
        }
    }
}
