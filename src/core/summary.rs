//! Events counted instead of sent: when a burst brings more events than a
//! destination's queue holds, the ones that do not fit are tallied by type
//! here and the next message says so ("and 37 more events (job.failed ×30,
//! printer.offline ×7)"), so nothing disappears without a word.

use std::collections::BTreeMap;

use super::events::EventType;

/// How many events of each type were summarised rather than sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Per type, in catalogue order (the tally is as small as the catalogue).
    counts: BTreeMap<EventType, u64>,
}

impl Summary {
    /// Counts one more event of `event_type`.
    pub fn add(&mut self, event_type: EventType) {
        *self.counts.entry(event_type).or_default() += 1;
    }

    /// Adds another tally to this one.
    pub fn merge(&mut self, other: Summary) {
        for (event_type, n) in other.counts {
            *self.counts.entry(event_type).or_default() += n;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Events counted in all.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// The count for one type.
    pub fn count(&self, event_type: EventType) -> u64 {
        self.counts.get(&event_type).copied().unwrap_or(0)
    }

    /// `and 37 more events (job.failed ×30, printer.offline ×7)`, the most
    /// frequent type first.
    pub fn text(&self) -> String {
        let total = self.total();
        let mut counts: Vec<(EventType, u64)> = self.counts.iter().map(|(t, n)| (*t, *n)).collect();
        // Stable: equal counts keep catalogue order.
        counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let parts: Vec<String> = counts
            .iter()
            .map(|(t, n)| format!("{} ×{n}", t.id()))
            .collect();
        format!(
            "and {total} more event{} ({})",
            if total == 1 { "" } else { "s" },
            parts.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_counts_every_event_most_frequent_first() {
        let mut s = Summary::default();
        assert!(s.is_empty());
        let failed = EventType::from_id("job.failed").unwrap();
        let offline = EventType::from_id("printer.offline").unwrap();
        for _ in 0..7 {
            s.add(offline);
        }
        for _ in 0..30 {
            s.add(failed);
        }
        assert_eq!(s.total(), 37);
        assert_eq!(s.count(failed), 30);
        assert_eq!(
            s.text(),
            "and 37 more events (job.failed ×30, printer.offline ×7)"
        );
        let mut one = Summary::default();
        one.add(failed);
        assert_eq!(one.text(), "and 1 more event (job.failed ×1)");
    }
}
