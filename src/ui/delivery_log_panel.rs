//! The live delivery log along the bottom of the window: newest first,
//! filters, Export… and Clear, and the selected delivery's detail. Only the
//! rows on screen are drawn, so the list stays smooth with the log's full
//! 100,000 records. Its header folds it to one line; empty, it takes two.

use eframe::egui::{self, Align2, RichText, Sense, TextStyle};

use super::command::UiCommand;
use super::delivery_detail_panel;
use super::engine_state::{Deliveries, EngineState};
use super::record_words::{describe, event_words, printer_words};
use super::widgets;
use crate::core::events::EventType;
use crate::core::settings::Channel;
use crate::engine::delivery::log::{DeliveryId, DeliveryRecord, Outcome};
use crate::engine::service::EngineCommand;

const OUTCOMES: [Outcome; 5] = [
    Outcome::InProgress,
    Outcome::Delivered,
    Outcome::Failed,
    Outcome::Filtered,
    Outcome::Summarised,
];

/// The columns: title and width in points (the last one takes the rest).
const COLUMNS: [(&str, f32); 7] = [
    ("Time", 76.0),
    ("Channel", 112.0),
    ("Event", 170.0),
    ("Outcome", 84.0),
    ("Status", 56.0),
    ("Latency", 72.0),
    ("Attempts", 64.0),
];

#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Filter {
    destination: Option<Channel>,
    outcome: Option<Outcome>,
    event: Option<EventType>,
}

impl Filter {
    fn is_all(&self) -> bool {
        *self == Filter::default()
    }

    fn matches(&self, record: &DeliveryRecord) -> bool {
        self.destination.is_none_or(|d| record.destination == d)
            && self.outcome.is_none_or(|o| record.outcome == o)
            && self
                .event
                .is_none_or(|e| record.events.iter().any(|r| r.event_type == e))
    }
}

/// Height the log opens at the first time it has rows, in points.
const DEFAULT_HEIGHT: f32 = 260.0;
/// The least height of the log when it shows rows, in points.
const MIN_HEIGHT: f32 = 140.0;

pub struct DeliveryLogPanel {
    /// False while folded to its header (for the session).
    open: bool,
    filter: Filter,
    selected: Option<DeliveryId>,
    /// Ids of the matching records, newest first, for `filter` at a given
    /// log generation.
    matching: Option<(u64, Filter, Vec<DeliveryId>)>,
}

impl Default for DeliveryLogPanel {
    fn default() -> Self {
        DeliveryLogPanel {
            open: true,
            filter: Filter::default(),
            selected: None,
            matching: None,
        }
    }
}

impl DeliveryLogPanel {
    /// True unless folded to its header.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Draws the log as a panel along the bottom of `ui`: resizable while
    /// it has rows to show, as small as its words otherwise.
    pub fn panel_ui(
        &mut self,
        ui: &mut egui::Ui,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
        let short = egui::Panel::bottom("farmhook_delivery_log_short").resizable(false);
        if state.deliveries.is_empty() {
            short.show(ui, |ui| self.ui(ui, state, commands));
            return;
        }
        let before = self.open;
        let mut open = self.open;
        egui::Panel::show_switched(
            ui,
            &mut open,
            short,
            egui::Panel::bottom("farmhook_delivery_log")
                .resizable(true)
                .default_size(DEFAULT_HEIGHT)
                .size_range(MIN_HEIGHT..=f32::INFINITY),
            |ui, _| self.ui(ui, state, commands),
        );
        // Dragging the log's edge past its least height folds or opens it
        // too (a click on the header this frame wins).
        if self.open == before {
            self.open = open;
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, state: &EngineState, commands: &mut Vec<UiCommand>) {
        let deliveries = &state.deliveries;
        let shown = self.count(deliveries);
        // A click on the header takes effect from the next frame: drawing
        // one line in the open panel now would shrink the size it keeps.
        let open = self.open;
        ui.add_space(4.0);
        ui.horizontal_wrapped(|ui| {
            self.fold_ui(ui);
            ui.label(if self.filter.is_all() {
                format!("{} deliveries", deliveries.len())
            } else {
                format!("{shown} of {} deliveries", deliveries.len())
            });
            if !open {
                // Folded: the one line says what is new at a glance.
                if let Some(last) = deliveries.newest(0) {
                    ui.separator();
                    let colour = widgets::outcome_colour(ui, last.outcome);
                    ui.label(RichText::new(format!("last: {}", describe(last))).color(colour));
                }
                return;
            }
            ui.separator();
            self.filters_ui(ui);
            ui.separator();
            if ui
                .button("Export…")
                .on_hover_text("Save the whole log as JSON Lines")
                .clicked()
            {
                commands.push(UiCommand::Engine(EngineCommand::ExportLogWithDialog));
            }
            if ui
                .add_enabled(!deliveries.is_empty(), egui::Button::new("Clear"))
                .on_hover_text("Empty the log (settings are not touched)")
                .clicked()
            {
                self.selected = None;
                commands.push(UiCommand::ClearLog);
            }
        });
        if !open {
            return;
        }
        ui.separator();

        if let Some(record) = self.selected.and_then(|id| deliveries.get(id)) {
            let mut close = false;
            egui::Panel::right("delivery_detail")
                .resizable(true)
                .default_size(400.0)
                .size_range(240.0..=f32::INFINITY)
                .show(ui, |ui| delivery_detail_panel::ui(ui, record, &mut close));
            if close {
                self.selected = None;
            }
        }

        if deliveries.is_empty() {
            widgets::hint(
                ui,
                "No deliveries yet. Press Test in Configure, or wait for a printer event: every delivery appears here as it happens.",
            );
            ui.add_space(4.0);
            return;
        }
        header_ui(ui);
        let row_height = ui.text_style_height(&TextStyle::Body) + 6.0;
        let selected = self.selected;
        let mut clicked = None;
        egui::ScrollArea::vertical()
            .id_salt("delivery_rows")
            .auto_shrink([false, false])
            .show_rows(ui, row_height, shown, |ui, rows| {
                for i in rows {
                    if let Some(record) = self.row(deliveries, i)
                        && row_ui(ui, record, i, selected == Some(record.id), row_height)
                    {
                        clicked = Some(record.id);
                    }
                }
            });
        if let Some(id) = clicked {
            // A second click on the selected row closes the detail.
            self.selected = (selected != Some(id)).then_some(id);
        }
    }

    /// The header, which folds the log to one line and opens it again.
    fn fold_ui(&mut self, ui: &mut egui::Ui) {
        let arrow = if self.open { "⏷" } else { "⏵" };
        let header = ui
            .add(
                egui::Button::new(RichText::new(format!("{arrow} Delivery log")).heading())
                    .frame(false),
            )
            .on_hover_text(if self.open {
                "Fold the log to one line"
            } else {
                "Show the log"
            });
        header.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, "Delivery log"));
        let open = self.open;
        ui.ctx()
            .accesskit_node_builder(header.id, |node| node.set_expanded(open));
        if header.clicked() {
            self.open = !self.open;
        }
    }

    fn filters_ui(&mut self, ui: &mut egui::Ui) {
        let f = &mut self.filter;
        filter_ui(
            ui,
            "Channel",
            &mut f.destination,
            Channel::ALL,
            Channel::label,
        );
        filter_ui(ui, "Outcome", &mut f.outcome, OUTCOMES, Outcome::words);
        filter_ui(
            ui,
            "Event",
            &mut f.event,
            EventType::all(),
            EventType::label,
        );
    }

    /// How many records the filters let through.
    fn count(&mut self, deliveries: &Deliveries) -> usize {
        if self.filter.is_all() {
            self.matching = None;
            return deliveries.len();
        }
        let fresh = self
            .matching
            .as_ref()
            .is_some_and(|(g, f, _)| *g == deliveries.generation() && *f == self.filter);
        if !fresh {
            let ids = deliveries
                .iter_newest_first()
                .filter(|r| self.filter.matches(r))
                .map(|r| r.id)
                .collect();
            self.matching = Some((deliveries.generation(), self.filter, ids));
        }
        self.matching.as_ref().map_or(0, |(_, _, ids)| ids.len())
    }

    /// The `i`-th row, newest first.
    fn row<'a>(&self, deliveries: &'a Deliveries, i: usize) -> Option<&'a DeliveryRecord> {
        match &self.matching {
            None => deliveries.newest(i),
            Some((_, _, ids)) => ids.get(i).and_then(|id| deliveries.get(*id)),
        }
    }
}

/// A labelled drop-down: "All" or one value.
fn filter_ui<T: Copy + PartialEq>(
    ui: &mut egui::Ui,
    name: &str,
    value: &mut Option<T>,
    choices: impl IntoIterator<Item = T>,
    words: fn(T) -> &'static str,
) {
    let label = ui.label(name);
    egui::ComboBox::from_id_salt(("log_filter", name))
        .selected_text(value.map_or("All", words))
        .width(130.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(value, None, "All");
            for choice in choices {
                ui.selectable_value(value, Some(choice), words(choice));
            }
        })
        .response
        .labelled_by(label.id);
}

fn header_ui(ui: &mut egui::Ui) {
    let height = ui.text_style_height(&TextStyle::Body) + 4.0;
    let (rect, _) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), height), Sense::hover());
    let painter = ui.painter_at(rect);
    let font = TextStyle::Body.resolve(ui.style());
    let colour = ui.visuals().strong_text_color();
    let mut x = rect.left() + 4.0;
    for (title, width) in COLUMNS {
        painter.text(
            egui::pos2(x, rect.center().y),
            Align2::LEFT_CENTER,
            title,
            font.clone(),
            colour,
        );
        x += width;
    }
}

/// Words a screen reader says for a row, and what tests look for.
pub fn row_label(record: &DeliveryRecord) -> String {
    let mut parts = vec![
        format!("Delivery {}", record.id.0),
        widgets::clock(record.started_at),
        record.destination.label().to_string(),
        event_words(record),
        record.outcome.words().to_string(),
    ];
    if let Some(status) = record.status() {
        parts.push(format!("HTTP {status}"));
    }
    if let Some(ms) = record.latency_ms() {
        parts.push(format!("{ms} ms"));
    }
    let n = record.attempts.len();
    parts.push(format!("{n} attempt{}", if n == 1 { "" } else { "s" }));
    if let Some(printer) = printer_words(record) {
        parts.push(format!("from {printer}"));
    }
    parts.join(", ")
}

/// Draws one row; true when it was clicked.
fn row_ui(
    ui: &mut egui::Ui,
    record: &DeliveryRecord,
    index: usize,
    selected: bool,
    height: f32,
) -> bool {
    let (rect, _) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), height), Sense::hover());
    let response = ui.interact(
        rect,
        ui.make_persistent_id(("delivery", record.id.0)),
        Sense::click(),
    );
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::Role::ListBoxOption, true, selected, row_label(record))
    });
    let visuals = ui.visuals();
    let fill = if selected {
        Some(visuals.selection.bg_fill)
    } else if response.hovered() || response.has_focus() {
        Some(visuals.widgets.hovered.weak_bg_fill)
    } else if index % 2 == 1 {
        Some(visuals.faint_bg_color)
    } else {
        None
    };
    let painter = ui.painter_at(rect);
    if let Some(fill) = fill {
        painter.rect_filled(rect, 2.0, fill);
    }
    if response.has_focus() {
        painter.rect_stroke(
            rect,
            2.0,
            visuals.selection.stroke,
            egui::StrokeKind::Inside,
        );
    }
    let text_colour = if selected {
        visuals.selection.stroke.color
    } else {
        visuals.text_color()
    };
    let font = TextStyle::Body.resolve(ui.style());
    let cells: [(String, egui::Color32); 7] = [
        (widgets::clock(record.started_at), text_colour),
        (record.destination.label().to_string(), text_colour),
        (
            match printer_words(record) {
                Some(printer) => format!("{} · {printer}", event_words(record)),
                None => event_words(record),
            },
            text_colour,
        ),
        (
            record.outcome.words().to_string(),
            if selected {
                text_colour
            } else {
                widgets::outcome_colour(ui, record.outcome)
            },
        ),
        (
            record
                .status()
                .map_or_else(|| "—".into(), |s| s.to_string()),
            text_colour,
        ),
        (
            record
                .latency_ms()
                .map_or_else(|| "—".into(), |ms| format!("{ms} ms")),
            text_colour,
        ),
        (record.attempts.len().to_string(), text_colour),
    ];
    let mut x = rect.left() + 4.0;
    for ((text, colour), (_, width)) in cells.into_iter().zip(COLUMNS) {
        let cell = egui::Rect::from_min_max(
            egui::pos2(x, rect.top()),
            egui::pos2((x + width - 6.0).min(rect.right()), rect.bottom()),
        );
        painter.with_clip_rect(cell).text(
            egui::pos2(x, rect.center().y),
            Align2::LEFT_CENTER,
            text,
            font.clone(),
            colour,
        );
        x += width;
    }
    response.clicked()
}
