//! Placeholder until the embed builder lands: one plain embed per event.

use super::payload::Event;

/// Discord accepts at most 10 embeds per message.
pub const MAX_EMBEDS_PER_MESSAGE: usize = 10;

/// Builds the execute-webhook body for up to 10 events.
pub fn discord_message(events: &[Event]) -> serde_json::Value {
    let embeds: Vec<_> = events
        .iter()
        .take(MAX_EMBEDS_PER_MESSAGE)
        .map(|e| serde_json::json!({"title": e.event_type.label(), "color": e.event_type.info().discord_colour}))
        .collect();
    serde_json::json!({"username": "farmhook", "embeds": embeds, "allowed_mentions": {"parse": []}})
}
