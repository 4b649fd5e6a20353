//! The event catalogue: every notification farmhook can send, as one table.
//!
//! Adding an event is adding one row to [`CATALOGUE`]; everything else (the
//! checkboxes, the command line, the payload, the Discord colour) reads it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How serious an event is; it picks the Discord colour and the log tone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Success,
    Warning,
    Error,
}

/// What an event is about, which decides the payload's optional sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// `job.*`: the payload carries a `job` object.
    Job,
    /// `printer.hms_*`: the payload carries an `hms` object.
    Hms,
    /// Printer state changes: only the `printer` object.
    Printer,
}

/// One row of the catalogue.
#[derive(Debug, PartialEq, Eq)]
pub struct EventInfo {
    /// The stable id used in payloads, settings and on the command line.
    pub id: &'static str,
    /// The checkbox label, in the operator's words.
    pub label: &'static str,
    pub severity: Severity,
    pub subject: Subject,
    /// The embed colour Discord shows on the left edge (0xRRGGBB).
    pub discord_colour: u32,
}

/// Every event, in the order the tile shows them.
pub const CATALOGUE: &[EventInfo] = &[
    EventInfo {
        id: "job.started",
        label: "Job started",
        severity: Severity::Info,
        subject: Subject::Job,
        discord_colour: 0x3498DB,
    },
    EventInfo {
        id: "job.succeeded",
        label: "Job succeeded",
        severity: Severity::Success,
        subject: Subject::Job,
        discord_colour: 0x2ECC71,
    },
    EventInfo {
        id: "job.cancelled",
        label: "Job cancelled",
        severity: Severity::Warning,
        subject: Subject::Job,
        discord_colour: 0x95A5A6,
    },
    EventInfo {
        id: "job.failed",
        label: "Job failed",
        severity: Severity::Error,
        subject: Subject::Job,
        discord_colour: 0xE74C3C,
    },
    EventInfo {
        id: "printer.hms_error",
        label: "Printer HMS error",
        severity: Severity::Error,
        subject: Subject::Hms,
        discord_colour: 0xC0392B,
    },
    EventInfo {
        id: "printer.hms_warning",
        label: "Printer HMS warning",
        severity: Severity::Warning,
        subject: Subject::Hms,
        discord_colour: 0xF39C12,
    },
    EventInfo {
        id: "printer.offline",
        label: "Printer offline",
        severity: Severity::Warning,
        subject: Subject::Printer,
        discord_colour: 0x7F8C8D,
    },
    EventInfo {
        id: "printer.online",
        label: "Printer online",
        severity: Severity::Success,
        subject: Subject::Printer,
        discord_colour: 0x1ABC9C,
    },
];

/// An event type from the catalogue. Cheap to copy; compares by id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventType(usize);

/// An id that is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{given}' is not an event farmhook knows; the events are: {}",
    known_ids()
)]
pub struct UnknownEvent {
    pub given: String,
}

fn known_ids() -> String {
    CATALOGUE
        .iter()
        .map(|e| e.id)
        .collect::<Vec<_>>()
        .join(", ")
}

impl EventType {
    /// Every event type, in catalogue order.
    pub fn all() -> impl Iterator<Item = EventType> {
        (0..CATALOGUE.len()).map(EventType)
    }

    /// Looks an event up by its id (`job.failed`).
    pub fn from_id(id: &str) -> Result<EventType, UnknownEvent> {
        CATALOGUE
            .iter()
            .position(|e| e.id == id)
            .map(EventType)
            .ok_or_else(|| UnknownEvent {
                given: id.chars().take(64).collect(),
            })
    }

    pub fn info(self) -> &'static EventInfo {
        &CATALOGUE[self.0]
    }

    pub fn id(self) -> &'static str {
        self.info().id
    }

    pub fn label(self) -> &'static str {
        self.info().label
    }
}

impl fmt::Debug for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        EventType::from_id(&id).map_err(serde::de::Error::custom)
    }
}

/// A set of ticked events. Stored as a list of ids; ids this version does not
/// know (written by a newer farmhook) are skipped rather than failing the file.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EventSelection(std::collections::BTreeSet<EventType>);

impl EventSelection {
    pub fn all() -> Self {
        EventSelection(EventType::all().collect())
    }

    pub fn none() -> Self {
        EventSelection::default()
    }

    pub fn contains(&self, event: EventType) -> bool {
        self.0.contains(&event)
    }

    pub fn set(&mut self, event: EventType, ticked: bool) {
        if ticked {
            self.0.insert(event);
        } else {
            self.0.remove(&event);
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The ticked events in catalogue order.
    pub fn iter(&self) -> impl Iterator<Item = EventType> + '_ {
        self.0.iter().copied()
    }
}

impl Serialize for EventSelection {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

impl<'de> Deserialize<'de> for EventSelection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let ids = Vec::<String>::deserialize(d)?;
        Ok(EventSelection(
            ids.iter()
                .filter_map(|id| EventType::from_id(id).ok())
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_the_eight_events_of_the_tile_with_unique_ids() {
        let ids: Vec<_> = EventType::all().map(EventType::id).collect();
        assert_eq!(
            ids,
            [
                "job.started",
                "job.succeeded",
                "job.cancelled",
                "job.failed",
                "printer.hms_error",
                "printer.hms_warning",
                "printer.offline",
                "printer.online"
            ]
        );
        let mut dedup = ids.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), ids.len());
    }

    #[test]
    fn ids_round_trip_and_unknown_ids_are_named() {
        for e in EventType::all() {
            assert_eq!(EventType::from_id(e.id()), Ok(e));
        }
        let err = EventType::from_id("job.exploded").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("job.exploded") && msg.contains("job.failed"),
            "{msg}"
        );
    }

    #[test]
    fn selection_skips_ids_it_does_not_know() {
        let sel: EventSelection =
            serde_json::from_str(r#"["job.failed","job.teleported","printer.online"]"#).unwrap();
        let ids: Vec<_> = sel.iter().map(EventType::id).collect();
        assert_eq!(ids, ["job.failed", "printer.online"]);
        assert_eq!(
            serde_json::to_string(&sel).unwrap(),
            r#"["job.failed","printer.online"]"#
        );
    }
}
