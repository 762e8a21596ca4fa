//! A monthly bill: lines by tier, and their total.

use serde::Serialize;

/// One priced line.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub tier: String,
    pub item: String,
    pub quantity: f64,
    pub unit: String,
    pub monthly: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Bill {
    pub lines: Vec<Line>,
}

impl Bill {
    pub fn add(&mut self, tier: &str, item: impl Into<String>, quantity: f64, unit: &str, monthly: f64) {
        self.lines.push(Line { tier: tier.into(), item: item.into(), quantity, unit: unit.into(), monthly });
    }

    pub fn total(&self) -> f64 {
        self.lines.iter().map(|l| l.monthly).sum()
    }

    /// Monthly total of one tier.
    pub fn tier(&self, tier: &str) -> f64 {
        self.lines.iter().filter(|l| l.tier == tier).map(|l| l.monthly).sum()
    }

    /// Every line multiplied (one copy per region).
    pub fn times(mut self, k: f64) -> Bill {
        if k != 1.0 {
            for l in &mut self.lines {
                l.item = format!("{} (x {k} regions)", l.item);
                l.quantity *= k;
                l.monthly *= k;
            }
        }
        self
    }
}
