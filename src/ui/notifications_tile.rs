//! The Notifications tile: what is configured and whether it works, at a
//! glance, and the way into the settings.

use eframe::egui::{self, RichText};

use super::command::{Page, UiCommand};
use super::engine_state::{EngineState, Verify};
use super::record_words::describe;
use super::widgets;
use crate::core::events::EventType;
use crate::core::settings::{Channel, Plan, Settings};

pub fn ui(
    ui: &mut egui::Ui,
    settings: &Settings,
    state: &EngineState,
    commands: &mut Vec<UiCommand>,
) {
    widgets::section(ui, "Notifications", |ui| {
        egui::Grid::new("notifications_tile")
            .num_columns(2)
            .spacing([16.0, 6.0])
            .show(ui, |ui| {
                ui.label(RichText::new("Discord").strong());
                ui.vertical(|ui| discord_ui(ui, settings, state));
                ui.end_row();

                ui.label(RichText::new("Custom webhook 💎").strong());
                ui.vertical(|ui| webhook_ui(ui, settings, state));
                ui.end_row();

                ui.label(RichText::new("Events").strong());
                ui.vertical(|ui| events_ui(ui, settings));
                ui.end_row();

                ui.label(RichText::new("Last delivery").strong());
                ui.vertical(|ui| last_delivery_ui(ui, state));
                ui.end_row();
            });
        for warning in &state.duplicate_warnings {
            ui.label(
                RichText::new(format!("⚠ Sent twice: {warning}")).color(ui.visuals().warn_fg_color),
            );
        }
        ui.add_space(6.0);
        if ui
            .add(
                egui::Button::new(RichText::new("Configure").strong())
                    .min_size([120.0, 26.0].into()),
            )
            .clicked()
        {
            commands.push(UiCommand::Open(Page::Notifications));
        }
    });
}

fn discord_ui(ui: &mut egui::Ui, settings: &Settings, state: &EngineState) {
    if !state.loaded {
        ui.label("reading…");
        return;
    }
    let Some(url) = &state.secrets.discord_url() else {
        if state.secrets.keyring_error.is_some() {
            widgets::error_line(ui, "unknown: the keyring is unreachable");
        } else {
            ui.label("Not set up: no webhook URL yet");
        }
        return;
    };
    let on = settings.channels[Channel::Discord].enabled;
    let channel = match &state.verify[Channel::Discord] {
        Verify::Answered(Ok(facts)) => format!(", {}", facts.line()),
        _ => format!(", webhook {}", url.id()),
    };
    if on {
        widgets::ok_line(ui, format!("On{channel}"));
    } else {
        widgets::warn_line(ui, format!("Off{channel}: nothing is sent to Discord"));
    }
    if let Verify::Answered(Err(e)) = &state.verify[Channel::Discord] {
        widgets::error_line(ui, e);
    }
    health_ui(ui, state, Channel::Discord);
}

fn webhook_ui(ui: &mut egui::Ui, settings: &Settings, state: &EngineState) {
    if settings.plan == Plan::Free {
        ui.label("🔒 Locked: needs the Commercial plan");
        return;
    }
    let Some(url) = &state.secrets.endpoint() else {
        ui.label("Not set up: no endpoint URL yet");
        return;
    };
    if settings.channels[Channel::Webhook].enabled {
        widgets::ok_line(ui, format!("On, posts to {url}"));
    } else {
        widgets::warn_line(ui, format!("Off ({url}): nothing is sent"));
    }
    if state.loaded && state.secrets.api_key().is_none() && state.secrets.keyring_error.is_none() {
        widgets::warn_line(ui, "no API key yet");
    }
    health_ui(ui, state, Channel::Webhook);
}

fn health_ui(ui: &mut egui::Ui, state: &EngineState, destination: Channel) {
    let health = &state.health[destination];
    if health.paused.is_some() {
        widgets::error_line(ui, health.summary());
    } else if health.success_rate.is_some() || health.next_retry_at.is_some() {
        widgets::hint(ui, health.summary());
    }
}

/// How many events each channel sends ("Discord: 9 of 19 events"); the
/// custom webhook only on the plan that has it.
fn events_ui(ui: &mut egui::Ui, settings: &Settings) {
    let total = EventType::all().count();
    for channel in Channel::ALL {
        if channel == Channel::Webhook && settings.plan == Plan::Free {
            continue;
        }
        ui.label(format!(
            "{}: {} of {total} events",
            channel.label(),
            settings.events(channel).len()
        ));
    }
}

fn last_delivery_ui(ui: &mut egui::Ui, state: &EngineState) {
    let last = Channel::ALL
        .into_iter()
        .filter_map(|d| state.deliveries.last_ended(d))
        .max_by_key(|r| r.id);
    match last {
        None => {
            ui.label("None yet: press Test in Configure to send one");
        }
        Some(record) => {
            let colour = widgets::outcome_colour(ui, record.outcome);
            ui.label(RichText::new(describe(record)).color(colour));
        }
    }
}
