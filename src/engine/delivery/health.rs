//! Channel health: how the last hour of deliveries went, and whether a
//! destination is paused. The figures are computed from recorded outcomes
//! with the time passed in, so they can be checked from a known sequence.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;

use super::deliver::Ending;
use super::log::{DeliveryRecord, Outcome};
use crate::core::settings::Channel;

/// The wall clock in the health figures' unit: Unix time in milliseconds.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The window the figures cover, in milliseconds.
pub const HEALTH_WINDOW_MS: i64 = 3_600_000;
/// Outcomes kept per destination (older ones leave the window anyway).
const MAX_SAMPLES: usize = 10_000;

/// A destination's health, as shown in the tile and `status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChannelHealth {
    pub deliveries_last_hour: usize,
    pub delivered_last_hour: usize,
    /// 0.0 to 1.0; `None` with no deliveries in the window.
    pub success_rate: Option<f64>,
    pub p50_latency_ms: Option<u64>,
    pub p95_latency_ms: Option<u64>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    /// Why it is paused, when it is.
    pub paused: Option<String>,
    /// When the next delivery waiting to retry tries again (a running app
    /// only; none while nothing waits).
    #[serde(with = "crate::core::payload::rfc3339_millis::option")]
    pub next_retry_at: Option<time::OffsetDateTime>,
}

impl ChannelHealth {
    /// One line for the tile and `status`.
    pub fn summary(&self) -> String {
        let mut text = if let Some(reason) = &self.paused {
            format!("paused: {reason}")
        } else if let Some(rate) = self.success_rate {
            let mut text = format!(
                "{} of {} delivered in the last hour ({:.0} %), p50 {} ms, p95 {} ms",
                self.delivered_last_hour,
                self.deliveries_last_hour,
                rate * 100.0,
                self.p50_latency_ms.unwrap_or(0),
                self.p95_latency_ms.unwrap_or(0),
            );
            if self.consecutive_failures > 0 {
                text.push_str(&format!(", {} failed in a row", self.consecutive_failures));
            }
            text
        } else {
            "no deliveries in the last hour".into()
        };
        if let Some(at) = self.next_retry_at {
            // A time of day stays true without redrawing, unlike "in 5 s".
            let clock = time::macros::format_description!("[hour]:[minute]:[second]");
            let at = at.to_offset(time::UtcOffset::UTC);
            text.push_str(&format!(
                ", next retry at {} UTC",
                at.format(&clock).unwrap_or_default()
            ));
        }
        text
    }
}

/// One finished delivery, as the health figures need it. Also the line
/// format of the health journal on disk (no secrets: errors are in words).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct HealthEntry {
    /// Unix time in milliseconds.
    pub at_ms: i64,
    pub destination: Channel,
    pub kind: HealthEntryKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum HealthEntryKind {
    Delivered {
        latency_ms: Option<u64>,
    },
    Failed {
        latency_ms: Option<u64>,
        error: String,
    },
    Paused {
        reason: String,
    },
    Resumed,
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    at_ms: i64,
    delivered: bool,
    latency_ms: Option<u64>,
}

#[derive(Debug, Default)]
struct Book {
    samples: VecDeque<Sample>,
    consecutive_failures: u32,
    last_error: Option<String>,
    paused: Option<String>,
}

/// Health of every destination.
#[derive(Debug, Default)]
pub struct HealthBook {
    books: HashMap<Channel, Book>,
}

impl HealthBook {
    /// Notes how a delivery ended; pauses after `pause_after` failures in a
    /// row, or at once when the answer means only the user can fix it.
    /// Returns what changed, for the journal.
    pub fn record(
        &mut self,
        destination: Channel,
        record: &DeliveryRecord,
        ending: &Ending,
        pause_after: u32,
        now_ms: i64,
    ) -> Vec<HealthEntry> {
        // Neither says anything about the destination: the app was closing,
        // or the destination was already paused.
        if matches!(ending, Ending::CutShort | Ending::Paused) {
            return Vec::new();
        }
        let latency_ms = record.latency_ms();
        let mut entries = vec![HealthEntry {
            at_ms: now_ms,
            destination,
            kind: if record.outcome == Outcome::Delivered {
                HealthEntryKind::Delivered { latency_ms }
            } else {
                HealthEntryKind::Failed {
                    latency_ms,
                    error: record
                        .error
                        .clone()
                        .unwrap_or_else(|| "unknown error".into()),
                }
            },
        }];
        self.apply(&entries[0]);
        let book = self.books.entry(destination).or_default();
        let pause = match ending {
            Ending::FailedAndPause(reason) if book.paused.is_none() => Some(reason.clone()),
            Ending::Failed
                if pause_after > 0
                    && book.consecutive_failures >= pause_after
                    && book.paused.is_none() =>
            {
                Some(format!(
                    "{} deliveries in a row failed; last: {}",
                    book.consecutive_failures,
                    record.error.as_deref().unwrap_or("unknown error")
                ))
            }
            _ => None,
        };
        if let Some(reason) = pause {
            let entry = HealthEntry {
                at_ms: now_ms,
                destination,
                kind: HealthEntryKind::Paused { reason },
            };
            self.apply(&entry);
            entries.push(entry);
        }
        entries
    }

    /// Replays one entry (from a delivery or from the journal).
    pub fn apply(&mut self, entry: &HealthEntry) {
        let book = self.books.entry(entry.destination).or_default();
        match &entry.kind {
            HealthEntryKind::Delivered { latency_ms } => {
                book.push(Sample {
                    at_ms: entry.at_ms,
                    delivered: true,
                    latency_ms: *latency_ms,
                });
                book.consecutive_failures = 0;
                // A delivery that gets through (a test after a fix) ends a pause.
                book.paused = None;
            }
            HealthEntryKind::Failed { latency_ms, error } => {
                book.push(Sample {
                    at_ms: entry.at_ms,
                    delivered: false,
                    latency_ms: *latency_ms,
                });
                book.consecutive_failures += 1;
                book.last_error = Some(error.clone());
            }
            HealthEntryKind::Paused { reason } => book.paused = Some(reason.clone()),
            HealthEntryKind::Resumed => {
                book.paused = None;
                book.consecutive_failures = 0;
            }
        }
    }

    pub fn paused_reason(&self, destination: Channel) -> Option<String> {
        self.books.get(&destination).and_then(|b| b.paused.clone())
    }

    /// Lifts a pause; returns the journal entry.
    pub fn resume(&mut self, destination: Channel, now_ms: i64) -> HealthEntry {
        let entry = HealthEntry {
            at_ms: now_ms,
            destination,
            kind: HealthEntryKind::Resumed,
        };
        self.apply(&entry);
        entry
    }

    pub fn get(&self, destination: Channel, now_ms: i64) -> ChannelHealth {
        let Some(book) = self.books.get(&destination) else {
            return ChannelHealth::default();
        };
        let recent: Vec<&Sample> = book
            .samples
            .iter()
            .filter(|s| now_ms - s.at_ms <= HEALTH_WINDOW_MS)
            .collect();
        let delivered = recent.iter().filter(|s| s.delivered).count();
        let mut latencies: Vec<u64> = recent.iter().filter_map(|s| s.latency_ms).collect();
        latencies.sort_unstable();
        ChannelHealth {
            deliveries_last_hour: recent.len(),
            delivered_last_hour: delivered,
            success_rate: (!recent.is_empty()).then(|| delivered as f64 / recent.len() as f64),
            p50_latency_ms: percentile(&latencies, 50),
            p95_latency_ms: percentile(&latencies, 95),
            last_error: book.last_error.clone(),
            consecutive_failures: book.consecutive_failures,
            paused: book.paused.clone(),
            next_retry_at: None,
        }
    }
}

impl Book {
    fn push(&mut self, sample: Sample) {
        self.samples.push_back(sample);
        if self.samples.len() > MAX_SAMPLES {
            self.samples.pop_front();
        }
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: usize) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::delivery::log::AttemptRecord;
    use crate::engine::delivery::log::tests::record;

    fn finished(outcome: Outcome, latency_ms: u64, error: Option<&str>) -> DeliveryRecord {
        let mut r = record(1);
        r.outcome = outcome;
        r.error = error.map(String::from);
        r.attempts = std::sync::Arc::new([AttemptRecord {
            number: 1,
            started_at: time::OffsetDateTime::UNIX_EPOCH,
            waited_ms: 0,
            status: Some(if outcome == Outcome::Delivered {
                204
            } else {
                503
            }),
            latency_ms,
            error: None,
        }]);
        r
    }

    #[test]
    fn figures_from_a_known_sequence() {
        let start = 1_000_000i64;
        let mut book = HealthBook::default();
        let d = Channel::Discord;
        // 20 deliveries with latencies 10, 20, …, 200 ms; every 4th fails.
        for i in 1..=20u64 {
            let ok = i % 4 != 0;
            let r = finished(
                if ok {
                    Outcome::Delivered
                } else {
                    Outcome::Failed
                },
                i * 10,
                (!ok).then_some("the server had an error (503)"),
            );
            let ending = if ok {
                Ending::Delivered
            } else {
                Ending::Failed
            };
            book.record(d, &r, &ending, 5, start + i as i64 * 1000);
        }
        let h = book.get(d, start + 30_000);
        assert_eq!(h.deliveries_last_hour, 20);
        assert_eq!(h.delivered_last_hour, 15);
        assert_eq!(h.success_rate, Some(0.75));
        assert_eq!(h.p50_latency_ms, Some(100));
        assert_eq!(h.p95_latency_ms, Some(190));
        assert_eq!(h.consecutive_failures, 1);
        assert_eq!(
            h.last_error.as_deref(),
            Some("the server had an error (503)")
        );
        assert_eq!(h.paused, None);
        // An hour later the window is empty again.
        let later = book.get(d, start + 3_621_000);
        assert_eq!(later.deliveries_last_hour, 0);
        assert_eq!(later.success_rate, None);
    }

    #[test]
    fn pauses_after_failures_in_a_row_and_resumes() {
        let now = 5_000i64;
        let mut book = HealthBook::default();
        let d = Channel::Webhook;
        let mut journal = Vec::new();
        for _ in 0..3 {
            journal.extend(book.record(
                d,
                &finished(Outcome::Failed, 5, Some("connection refused")),
                &Ending::Failed,
                3,
                now,
            ));
        }
        // The journal replays to the same state (a restart keeps the pause).
        let mut replayed = HealthBook::default();
        journal.iter().for_each(|e| replayed.apply(e));
        assert_eq!(replayed.get(d, now), book.get(d, now));
        let reason = book.paused_reason(d).unwrap();
        assert!(
            reason.contains("3 deliveries in a row") && reason.contains("connection refused"),
            "{reason}"
        );
        book.resume(d, now);
        assert_eq!(book.paused_reason(d), None);
        assert_eq!(book.get(d, now).consecutive_failures, 0);
    }

    #[test]
    fn a_deleted_webhook_pauses_at_once_and_a_delivery_lifts_it() {
        let now = 0i64;
        let mut book = HealthBook::default();
        let d = Channel::Discord;
        let ending = Ending::FailedAndPause("the Discord webhook was deleted".into());
        book.record(
            d,
            &finished(Outcome::Failed, 5, Some("404")),
            &ending,
            5,
            now,
        );
        assert!(book.paused_reason(d).unwrap().contains("deleted"));
        book.record(
            d,
            &finished(Outcome::Delivered, 5, None),
            &Ending::Delivered,
            5,
            now,
        );
        assert_eq!(book.paused_reason(d), None);
    }
}
