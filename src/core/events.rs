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
    /// `order.*`: the payload carries an `order` object (and a `printer`
    /// only when the order was sent to one).
    Order,
    /// `maintenance.*`: the payload carries a `maintenance` object.
    Maintenance,
    /// `material.*`: the payload carries a `material` object.
    Material,
}

/// The groups of the tile, in its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    PrintJobs,
    Printers,
    Orders,
    Maintenance,
    Material,
}

impl Group {
    pub const ALL: [Group; 5] = [
        Group::PrintJobs,
        Group::Printers,
        Group::Orders,
        Group::Maintenance,
        Group::Material,
    ];

    /// The id the command line takes (`events enable jobs`).
    pub fn id(self) -> &'static str {
        match self {
            Group::PrintJobs => "jobs",
            Group::Printers => "printers",
            Group::Orders => "orders",
            Group::Maintenance => "maintenance",
            Group::Material => "material",
        }
    }

    /// The heading in the tile.
    pub fn label(self) -> &'static str {
        match self {
            Group::PrintJobs => "Print jobs",
            Group::Printers => "Printers",
            Group::Orders => "Orders",
            Group::Maintenance => "Maintenance",
            Group::Material => "Material",
        }
    }

    /// A group by its id, its singular (`job`, the prefix of its events'
    /// ids) or its label, in any case.
    pub fn from_id(given: &str) -> Option<Group> {
        let given = given.trim().to_ascii_lowercase().replace([' ', '_'], "-");
        Group::ALL.into_iter().find(|g| {
            let label = g.label().to_ascii_lowercase().replace(' ', "-");
            given == g.id() || given == label || given == g.prefix()
        })
    }

    /// The part of its events' ids before the dot.
    fn prefix(self) -> &'static str {
        match self {
            Group::PrintJobs => "job",
            Group::Printers => "printer",
            Group::Orders => "order",
            Group::Maintenance => "maintenance",
            Group::Material => "material",
        }
    }

    /// Its events, in catalogue order.
    pub fn events(self) -> impl Iterator<Item = EventType> {
        EventType::all().filter(move |e| e.info().group == self)
    }
}

/// One row of the catalogue.
#[derive(Debug, PartialEq, Eq)]
pub struct EventInfo {
    /// The stable id used in payloads, settings and on the command line.
    pub id: &'static str,
    /// The checkbox label, in the operator's words.
    pub label: &'static str,
    pub group: Group,
    pub severity: Severity,
    pub subject: Subject,
    /// The embed colour Discord shows on the left edge (0xRRGGBB).
    pub discord_colour: u32,
}

/// One catalogue row, in the table's own column order.
const fn row(
    id: &'static str,
    label: &'static str,
    group: Group,
    severity: Severity,
    subject: Subject,
    discord_colour: u32,
) -> EventInfo {
    EventInfo {
        id,
        label,
        group,
        severity,
        subject,
        discord_colour,
    }
}

use Group as G;
use Severity as Sv;
use Subject as Sj;

/// Every event, in the order the tile shows them (grouped as in the tile).
#[rustfmt::skip]
pub const CATALOGUE: &[EventInfo] = &[
    row("job.started", "Job started", G::PrintJobs, Sv::Info, Sj::Job, 0x3498DB),
    row("job.succeeded", "Job succeeded", G::PrintJobs, Sv::Success, Sj::Job, 0x2ECC71),
    row("job.failed", "Job failed", G::PrintJobs, Sv::Error, Sj::Job, 0xE74C3C),
    row("job.cancelled", "Job cancelled", G::PrintJobs, Sv::Warning, Sj::Job, 0x95A5A6),
    row("printer.online", "Printer online", G::Printers, Sv::Success, Sj::Printer, 0x1ABC9C),
    row("printer.offline", "Printer offline", G::Printers, Sv::Warning, Sj::Printer, 0x7F8C8D),
    row("printer.hms_error", "Printer HMS error", G::Printers, Sv::Error, Sj::Hms, 0xC0392B),
    row("printer.hms_warning", "Printer HMS warning", G::Printers, Sv::Warning, Sj::Hms, 0xF39C12),
    row("printer.continuous_print_disabled", "Continuous print disabled", G::Printers, Sv::Warning, Sj::Printer, 0xD35400),
    row("order.created_manual", "Manual order created", G::Orders, Sv::Info, Sj::Order, 0x5DADE2),
    row("order.created_retail", "Retail order created", G::Orders, Sv::Info, Sj::Order, 0x2E86C1),
    row("order.cancelled", "Order cancelled", G::Orders, Sv::Warning, Sj::Order, 0xAAB7B8),
    row("order.closed", "Order closed", G::Orders, Sv::Success, Sj::Order, 0x27AE60),
    row("order.auto_printed", "Order auto-printed", G::Orders, Sv::Info, Sj::Order, 0x8E44AD),
    row("maintenance.mode_on", "Maintenance mode on", G::Maintenance, Sv::Warning, Sj::Maintenance, 0xF1C40F),
    row("maintenance.mode_off", "Maintenance mode off", G::Maintenance, Sv::Success, Sj::Maintenance, 0x16A085),
    row("maintenance.due_soon", "Maintenance due soon", G::Maintenance, Sv::Warning, Sj::Maintenance, 0xE67E22),
    row("maintenance.overdue", "Maintenance overdue", G::Maintenance, Sv::Error, Sj::Maintenance, 0xA93226),
    row("material.usage_recorded", "Material usage recorded", G::Material, Sv::Info, Sj::Material, 0x7D3C98),
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

    pub fn group(self) -> Group {
        self.info().group
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

    /// What a new channel starts with: the Print jobs and Printers groups.
    pub fn new_channel_default() -> Self {
        EventSelection(
            [Group::PrintJobs, Group::Printers]
                .into_iter()
                .flat_map(Group::events)
                .collect(),
        )
    }

    /// How many of `group`'s events are ticked.
    pub fn count_in(&self, group: Group) -> usize {
        self.0.iter().filter(|e| e.group() == group).count()
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
    fn catalogue_has_the_nineteen_events_of_the_tile_grouped_with_unique_ids() {
        let ids: Vec<_> = EventType::all().map(EventType::id).collect();
        assert_eq!(ids.len(), 19);
        let mut dedup = ids.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), ids.len());
        let per_group: Vec<usize> = Group::ALL.iter().map(|g| g.events().count()).collect();
        assert_eq!(per_group, [4, 5, 5, 4, 1]);
        // Every id starts with its group's prefix, and groups are contiguous.
        let mut last = Group::PrintJobs;
        for e in EventType::all() {
            assert!(
                e.id().starts_with(&format!("{}.", e.group().prefix())),
                "{e}"
            );
            assert!(e.group() >= last, "{e} is out of its group");
            last = e.group();
            let subject_fits = match e.info().subject {
                Subject::Job => e.id().starts_with("job."),
                Subject::Hms => e.id().starts_with("printer.hms_"),
                Subject::Printer => e.id().starts_with("printer."),
                Subject::Order => e.id().starts_with("order."),
                Subject::Maintenance => e.id().starts_with("maintenance."),
                Subject::Material => e.id().starts_with("material."),
            };
            assert!(subject_fits, "{e}");
        }
    }

    #[test]
    fn groups_are_found_by_id_prefix_or_label_and_a_new_channel_gets_jobs_and_printers() {
        for (given, group) in [
            ("jobs", Group::PrintJobs),
            ("job", Group::PrintJobs),
            ("Print jobs", Group::PrintJobs),
            ("PRINTERS", Group::Printers),
            ("order", Group::Orders),
            ("maintenance", Group::Maintenance),
            ("material", Group::Material),
        ] {
            assert_eq!(Group::from_id(given), Some(group), "{given}");
        }
        assert_eq!(Group::from_id("job.failed"), None);
        let fresh = EventSelection::new_channel_default();
        assert_eq!(fresh.len(), 9);
        assert_eq!(fresh.count_in(Group::PrintJobs), 4);
        assert_eq!(fresh.count_in(Group::Printers), 5);
        assert_eq!(fresh.count_in(Group::Orders), 0);
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
