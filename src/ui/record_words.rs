//! A delivery record in words, as the log, its detail, the tile and the
//! Test panel say it.

use super::widgets;
use crate::engine::delivery::log::{DeliveryRecord, Outcome};

/// "Job failed (test)", or "Job failed +2" for a batch.
pub fn event_words(record: &DeliveryRecord) -> String {
    let mut text = record
        .first_event()
        .map_or_else(|| "—".to_string(), |e| e.event_type.label().to_string());
    if record.events.len() > 1 {
        text.push_str(&format!(" +{}", record.events.len() - 1));
    }
    if record.test {
        text.push_str(" (test)");
    }
    text
}

/// The printer a real (or simulated) delivery's first event came from, so
/// a printer's events can be told apart in the log.
pub fn printer_words(record: &DeliveryRecord) -> Option<&str> {
    if record.test {
        return None;
    }
    record
        .first_event()
        .and_then(|e| e.printer.as_deref())
        .filter(|name| !name.trim().is_empty())
}

/// "delivered to Discord at 14:03:22 (HTTP 204, 120 ms)", in local time.
pub fn describe(record: &DeliveryRecord) -> String {
    let mut text = format!(
        "{} {} {} at {}",
        record.outcome.words(),
        match record.outcome {
            Outcome::Failed | Outcome::Filtered | Outcome::Summarised => "for",
            _ => "to",
        },
        record.destination.label(),
        widgets::clock(record.started_at)
    );
    let mut details = Vec::new();
    if let Some(status) = record.status() {
        details.push(format!("HTTP {status}"));
    }
    if let Some(ms) = record.latency_ms() {
        details.push(format!("{ms} ms"));
    }
    if !details.is_empty() {
        text.push_str(&format!(" ({})", details.join(", ")));
    }
    if let Some(error) = &record.error {
        text.push_str(&format!(": {error}"));
    }
    text
}
