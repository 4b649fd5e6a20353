//! An event in the operator's words, shared by every chat channel: its
//! title, the prose of why it happened, and its facts as name/value pairs.
//! Each channel's message module lays these out in its service's format and
//! cuts them to its service's limits (with [`truncate_chars`]).
//!
//! Names, reasons and HMS messages come from printers and users, so any of
//! them may be empty, huge or full of markup: the texts here are raw, and
//! each channel escapes them for its service.

use crate::core::events::Severity;
use crate::core::payload::Event;

/// Marks a text that was cut short.
pub const ELLIPSIS: char = '…';
/// Stands in for an empty text.
pub const PLACEHOLDER: &str = "—";

/// One event, in words.
#[derive(Debug, Clone, PartialEq)]
pub struct EventText {
    /// A test delivery (the title says so).
    pub test: bool,
    pub severity: Severity,
    /// What happened, with the printer (or order) it happened to:
    /// `Job failed · Voron-02`.
    pub headline: String,
    /// Why it happened (a failure reason, the printer's own message), when
    /// anyone said.
    pub description: Option<String>,
    /// The facts, in the order they are told.
    pub fields: Vec<EventField>,
}

/// One fact about an event (`Printer: Voron-02`).
#[derive(Debug, Clone, PartialEq)]
pub struct EventField {
    pub name: &'static str,
    pub value: String,
    /// Short enough to sit beside others.
    pub inline: bool,
}

impl EventText {
    pub fn for_event(event: &Event) -> EventText {
        let info = event.event_type.info();
        let mut headline = info.label.to_string();
        if !is_blank(event.printer_name()) {
            headline.push_str(" · ");
            headline.push_str(event.printer_name());
        } else if let Some(order) = &event.order {
            headline.push_str(" · ");
            headline.push_str(&order.number);
        }

        // The why of the event is prose, so it goes where there is room.
        let description = [
            event.job.as_ref().and_then(|job| job.reason.as_deref()),
            event.hms.as_ref().map(|hms| hms.message.as_str()),
            event
                .order
                .as_ref()
                .and_then(|order| order.reason.as_deref()),
            event.maintenance.as_ref().and_then(|m| m.note.as_deref()),
        ]
        .into_iter()
        .flatten()
        .filter(|text| !is_blank(text))
        .collect::<Vec<_>>()
        .join("\n\n");

        let mut fields = Vec::new();
        let mut field = |name: &'static str, value: &str, inline: bool| {
            fields.push(EventField {
                name,
                value: or_placeholder(value).to_string(),
                inline,
            })
        };
        if let Some(printer) = &event.printer {
            field("Printer", &printer.name, true);
            field("Model", &printer.model, true);
        }
        if let Some(order) = &event.order {
            field("Order", &order.number, true);
            field("Source", &order.source, true);
            field("Items", &order.items.to_string(), true);
        }
        if let Some(job) = &event.job {
            field("Job", &job.name, false);
            if let Some(progress) = progress_text(job.progress) {
                field("Progress", &progress, true);
            }
            if let Some(seconds) = job.duration_s {
                field("Duration", &duration_text(seconds), true);
            }
        }
        if let Some(hms) = &event.hms {
            field("HMS code", &hms.code, true);
            field("Severity", severity_word(hms.severity), true);
        }
        if let Some(m) = &event.maintenance {
            if let Some(task) = &m.task {
                field("Task", task, false);
            }
            let hours = match m.due_at_print_hours {
                Some(due) => format!("{} of {}", hours_text(m.print_hours), hours_text(due)),
                None => hours_text(m.print_hours),
            };
            field("Print hours", &hours, true);
        }
        if let Some(material) = &event.material {
            let filament = match &material.colour {
                Some(colour) if !is_blank(colour) => format!("{} ({colour})", material.filament),
                _ => material.filament.clone(),
            };
            field("Filament", &filament, true);
            field("Used", &grams_text(material.grams), true);
        }

        EventText {
            test: event.test,
            severity: info.severity,
            headline,
            description: (!description.is_empty()).then_some(description),
            fields,
        }
    }

    /// The title as chat messages show it: `[TEST] ❌ Job failed · Voron-02`.
    pub fn title(&self) -> String {
        format!(
            "{}{} {}",
            if self.test { "[TEST] " } else { "" },
            severity_emoji(self.severity),
            self.headline
        )
    }
}

/// `text` cut to at most `max` characters, ending in "…" when it was cut.
/// Cuts between characters, never inside one.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().nth(max).is_none() {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push(ELLIPSIS);
    cut
}

pub fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

pub fn or_placeholder(text: &str) -> &str {
    if is_blank(text) { PLACEHOLDER } else { text }
}

pub fn severity_emoji(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "ℹ️",
        Severity::Success => "✅",
        Severity::Warning => "⚠️",
        Severity::Error => "❌",
    }
}

pub fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "Info",
        Severity::Success => "Success",
        Severity::Warning => "Warning",
        Severity::Error => "Error",
    }
}

/// Progress as a whole percentage ("62%"); none when the printer reported
/// nonsense.
pub fn progress_text(progress: f64) -> Option<String> {
    progress
        .is_finite()
        .then(|| format!("{:.0}%", progress.clamp(0.0, 1.0) * 100.0))
}

/// Print hours, like `187.5 h`; nonsense (NaN, negative) shows as a dash.
pub fn hours_text(hours: f64) -> String {
    if hours.is_finite() && hours >= 0.0 {
        format!("{:.1} h", hours.min(1e9))
    } else {
        PLACEHOLDER.to_string()
    }
}

/// Grams of filament, like `41.7 g`; nonsense shows as a dash.
pub fn grams_text(grams: f64) -> String {
    if grams.is_finite() && grams >= 0.0 {
        format!("{:.1} g", grams.min(1e9))
    } else {
        PLACEHOLDER.to_string()
    }
}

/// A duration as an operator reads it: "1 h 00 min", "42 min", "35 s".
pub fn duration_text(seconds: u64) -> String {
    let (hours, minutes) = (seconds / 3600, seconds % 3600 / 60);
    if hours > 0 {
        format!("{hours} h {minutes:02} min")
    } else if minutes > 0 {
        format!("{minutes} min")
    } else {
        format!("{seconds} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_fall_between_characters_and_keep_the_length() {
        assert_eq!(truncate_chars("é🦀é🦀", 4), "é🦀é🦀");
        assert_eq!(truncate_chars("é🦀é🦀x", 4), "é🦀é…");
        assert_eq!(truncate_chars("abc", 1), "…");
        assert_eq!(truncate_chars("", 3), "");
    }

    #[test]
    fn durations_and_progress_read_naturally() {
        assert_eq!(duration_text(0), "0 s");
        assert_eq!(duration_text(35), "35 s");
        assert_eq!(duration_text(60), "1 min");
        assert_eq!(duration_text(42 * 60 + 59), "42 min");
        assert_eq!(duration_text(3600), "1 h 00 min");
        assert_eq!(duration_text(5430), "1 h 30 min");
        assert_eq!(duration_text(25 * 3600 + 60), "25 h 01 min");
        assert_eq!(progress_text(0.0).as_deref(), Some("0%"));
        assert_eq!(progress_text(0.62).as_deref(), Some("62%"));
        assert_eq!(progress_text(1.0).as_deref(), Some("100%"));
        assert_eq!(progress_text(1.7).as_deref(), Some("100%"));
        assert_eq!(progress_text(-0.2).as_deref(), Some("0%"));
        assert_eq!(progress_text(f64::NAN), None);
        assert_eq!(progress_text(f64::INFINITY), None);
    }
}
