//! The event checkboxes, grouped as in the tile (Print jobs, Printers,
//! Orders, Maintenance, Material), each group with its own all/none. One
//! selection serves both destinations here: ticking sets it for both. When
//! they differ (set with the command line's `--to`), the box shows a dash
//! and says which has it.

use eframe::egui;

use super::command::UiCommand;
use super::widgets;
use crate::core::events::{EventType, Group, Severity};
use crate::core::settings::{Destination, Settings};
use crate::engine::service::SettingsChange;

pub fn ui(ui: &mut egui::Ui, settings: &mut Settings, commands: &mut Vec<UiCommand>) {
    widgets::section(ui, "Events", |ui| {
        widgets::hint(
            ui,
            "What you want to be told about. Applies to Discord and the custom webhook.",
        );
        let differ = settings.discord.events != settings.webhook.events;
        if differ {
            widgets::warn_line(
                ui,
                "Discord and the custom webhook have different selections (set with --to on the command line); ticking a box here sets it for both.",
            );
        }
        ui.horizontal(|ui| {
            if ui.button("All").on_hover_text("Tick every event").clicked() {
                set_all(settings, true, commands);
            }
            if ui
                .button("None")
                .on_hover_text("Untick every event")
                .clicked()
            {
                set_all(settings, false, commands);
            }
        });
        for group in Group::ALL {
            ui.add_space(6.0);
            group_ui(ui, settings, group, commands);
        }
    });
}

/// A group's heading with how many are ticked, its all/none, and its boxes.
fn group_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    group: Group,
    commands: &mut Vec<UiCommand>,
) {
    let total = group.events().count();
    let ticked = settings.discord.events.count_in(group);
    ui.horizontal(|ui| {
        ui.label(egui::RichText::new(group.label()).strong());
        widgets::hint(ui, format!("{ticked} of {total}"));
        let name = group.label().to_lowercase();
        if ui
            .small_button(format!("All {name}"))
            .on_hover_text(format!("Tick every {name} event"))
            .clicked()
        {
            set_group(settings, group, true, commands);
        }
        if ui
            .small_button(format!("No {name}"))
            .on_hover_text(format!("Untick every {name} event"))
            .clicked()
        {
            set_group(settings, group, false, commands);
        }
    });
    egui::Grid::new(("events_grid", group))
        .num_columns(2)
        .spacing([24.0, 4.0])
        .show(ui, |ui| {
            for (i, event) in group.events().enumerate() {
                event_ui(ui, settings, event, commands);
                if i % 2 == 1 {
                    ui.end_row();
                }
            }
        });
}

fn set_group(settings: &mut Settings, group: Group, on: bool, commands: &mut Vec<UiCommand>) {
    set_events(settings, group.events().collect(), on, commands);
}

fn set_all(settings: &mut Settings, on: bool, commands: &mut Vec<UiCommand>) {
    set_events(settings, EventType::all().collect(), on, commands);
}

/// Ticks or unticks `events` for both channels: at once in the window,
/// and as a change for the engine to make.
fn set_events(
    settings: &mut Settings,
    events: Vec<EventType>,
    on: bool,
    commands: &mut Vec<UiCommand>,
) {
    for &event in &events {
        settings.discord.events.set(event, on);
        settings.webhook.events.set(event, on);
    }
    commands.push(UiCommand::Change(SettingsChange::Events {
        channels: Destination::ALL.to_vec(),
        events,
        on,
    }));
}

fn event_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    event: EventType,
    commands: &mut Vec<UiCommand>,
) {
    let in_discord = settings.discord.events.contains(event);
    let in_webhook = settings.webhook.events.contains(event);
    let mixed = in_discord != in_webhook;
    // A mixed box ticks both when clicked.
    let mut ticked = in_discord && in_webhook;
    ui.horizontal(|ui| {
        let dot = match event.info().severity {
            Severity::Error => ui.visuals().error_fg_color,
            Severity::Warning => ui.visuals().warn_fg_color,
            Severity::Success => widgets::ok_colour(ui),
            Severity::Info => ui.visuals().hyperlink_color,
        };
        let (rect, _) = ui.allocate_exact_size(egui::vec2(8.0, 8.0), egui::Sense::hover());
        ui.painter().circle_filled(rect.center(), 4.0, dot);
        let response = ui
            .add(egui::Checkbox::new(&mut ticked, event.label()).indeterminate(mixed))
            .on_hover_text(event.id());
        if response.changed() {
            let on = if mixed { true } else { ticked };
            set_events(settings, vec![event], on, commands);
        }
        if mixed {
            widgets::hint(
                ui,
                if in_discord {
                    "(Discord only)"
                } else {
                    "(custom webhook only)"
                },
            );
        }
    });
}
