//! One channel's event checkboxes, grouped as in the tile (Print jobs,
//! Printers, Orders, Maintenance, Material), each group with its own
//! all/none. Each channel has its own selection: this panel shows and
//! changes only its channel's.

use eframe::egui;

use super::command::UiCommand;
use super::widgets;
use crate::core::events::{EventType, Group, Severity};
use crate::core::settings::{Channel, Settings};
use crate::engine::service::SettingsChange;

pub fn ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    channel: Channel,
    commands: &mut Vec<UiCommand>,
) {
    let title = format!("Events for {}", channel.label());
    widgets::section(ui, &title, |ui| {
        widgets::hint(
            ui,
            format!(
                "What {} tells you about: {} of {} events ticked.",
                channel.label(),
                settings.events(channel).len(),
                EventType::all().count()
            ),
        );
        ui.horizontal(|ui| {
            if ui.button("All").on_hover_text("Tick every event").clicked() {
                set_events(
                    settings,
                    channel,
                    EventType::all().collect(),
                    true,
                    commands,
                );
            }
            if ui
                .button("None")
                .on_hover_text("Untick every event")
                .clicked()
            {
                set_events(
                    settings,
                    channel,
                    EventType::all().collect(),
                    false,
                    commands,
                );
            }
        });
        for group in Group::ALL {
            ui.add_space(6.0);
            group_ui(ui, settings, channel, group, commands);
        }
    });
}

/// A group's heading with how many are ticked, its all/none, and its boxes.
fn group_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    channel: Channel,
    group: Group,
    commands: &mut Vec<UiCommand>,
) {
    let total = group.events().count();
    let ticked = settings.events(channel).count_in(group);
    ui.horizontal(|ui| {
        ui.label(egui::RichText::new(group.label()).strong());
        widgets::hint(ui, format!("{ticked} of {total}"));
        let name = group.label().to_lowercase();
        if ui
            .small_button(format!("All {name}"))
            .on_hover_text(format!("Tick every {name} event"))
            .clicked()
        {
            set_events(settings, channel, group.events().collect(), true, commands);
        }
        if ui
            .small_button(format!("No {name}"))
            .on_hover_text(format!("Untick every {name} event"))
            .clicked()
        {
            set_events(settings, channel, group.events().collect(), false, commands);
        }
    });
    egui::Grid::new(("events_grid", channel, group))
        .num_columns(2)
        .spacing([24.0, 4.0])
        .show(ui, |ui| {
            for (i, event) in group.events().enumerate() {
                event_ui(ui, settings, channel, event, commands);
                if i % 2 == 1 {
                    ui.end_row();
                }
            }
        });
}

/// Ticks or unticks `events` for `channel`: at once in the window, and as a
/// change for the engine to make.
fn set_events(
    settings: &mut Settings,
    channel: Channel,
    events: Vec<EventType>,
    on: bool,
    commands: &mut Vec<UiCommand>,
) {
    for &event in &events {
        settings.events_mut(channel).set(event, on);
    }
    commands.push(UiCommand::Change(SettingsChange::Events {
        channels: vec![channel],
        events,
        on,
    }));
}

fn event_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    channel: Channel,
    event: EventType,
    commands: &mut Vec<UiCommand>,
) {
    let mut ticked = settings.events(channel).contains(event);
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
            .add(egui::Checkbox::new(&mut ticked, event.label()))
            .on_hover_text(event.id());
        if response.changed() {
            set_events(settings, channel, vec![event], ticked, commands);
        }
    });
}
