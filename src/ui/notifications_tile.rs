//! The Notifications tile: what is configured and whether it works, at a
//! glance, and the way into the settings.

use eframe::egui::{self, RichText};

use super::command::{Page, Section, UiCommand};
use super::engine_state::{EngineState, Verify};
use super::record_words::describe;
use super::widgets;
use crate::core::channel::Blocker;
use crate::core::events::EventType;
use crate::core::settings::{Channel, Settings};

pub fn ui(
    ui: &mut egui::Ui,
    settings: &Settings,
    state: &EngineState,
    commands: &mut Vec<UiCommand>,
) {
    widgets::section(ui, "Notifications", |ui| {
        // First, so it stays in one place however many channels and
        // printers the tile lists.
        if ui
            .add(
                egui::Button::new(RichText::new("Configure").strong())
                    .min_size([120.0, 26.0].into()),
            )
            .on_hover_text("Set up channels, choose events, send a test")
            .clicked()
        {
            commands.push(UiCommand::Open(Page::Notifications));
        }
        ui.add_space(6.0);
        egui::Grid::new("notifications_tile")
            .num_columns(2)
            .spacing([16.0, 6.0])
            .show(ui, |ui| {
                for channel in Channel::ALL {
                    ui.label(RichText::new(Section::Channel(channel).label()).strong());
                    ui.vertical(|ui| channel_ui(ui, settings, state, channel));
                    ui.end_row();
                }

                ui.label(RichText::new("Printers").strong());
                ui.vertical(|ui| printers_ui(ui, state));
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
    });
}

/// One channel at a glance: set up or not, on or off and where it posts,
/// what stops it, and its health.
fn channel_ui(ui: &mut egui::Ui, settings: &Settings, state: &EngineState, channel: Channel) {
    if !settings.plan_allows(channel) {
        ui.label("🔒 Locked: needs the Commercial plan");
        return;
    }
    if !state.loaded {
        ui.label("reading…");
        return;
    }
    let spec = channel.spec();
    let Some(first) = spec.secrets.first() else {
        return;
    };
    let Some(shown) = state.secrets.redacted(first) else {
        if state.secrets.keyring_error.is_some() {
            widgets::error_line(ui, "unknown: the keyring is unreachable");
        } else {
            ui.label(format!("Not set up: {}", spec.not_set_up));
        }
        return;
    };
    let place = match &state.verify[channel] {
        Verify::Answered(Ok(facts)) => facts.line(),
        _ => match channel {
            Channel::Discord => state
                .secrets
                .discord_url()
                .map_or(shown, |url| format!("webhook {}", url.id())),
            Channel::Telegram => match &settings.channels[channel].chat_id {
                Some(chat) => format!("bot {shown} in chat {chat}"),
                None => format!("bot {shown}, no chat chosen yet"),
            },
            Channel::Pushover => {
                match spec.secrets.get(1).and_then(|k| state.secrets.redacted(k)) {
                    Some(user) => format!("to user {user}"),
                    None => format!("app {shown}"),
                }
            }
            Channel::Slack | Channel::Webhook => format!("posts to {shown}"),
        },
    };
    if settings.channels[channel].enabled {
        widgets::ok_line(ui, format!("On, {place}"));
    } else {
        widgets::warn_line(
            ui,
            format!("Off, {place}: nothing is sent to {}", spec.label),
        );
    }
    match state.secrets.send_blocker(channel, settings) {
        Some(Blocker::Off) | None => {}
        Some(blocker) => {
            widgets::warn_line(ui, blocker.words(channel));
        }
    }
    if let Verify::Answered(Err(e)) = &state.verify[channel] {
        widgets::error_line(ui, e);
    }
    health_ui(ui, state, channel);
}

/// How many printers farmhook watches and how many answer.
fn printers_ui(ui: &mut egui::Ui, state: &EngineState) {
    let all = state.printers.len();
    let connected = state.printers.iter().filter(|p| p.connected).count();
    if all == 0 {
        ui.label("None watched yet: add your printers in Configure › Printers");
    } else if connected == all {
        widgets::ok_line(ui, format!("{connected} of {all} connected"));
    } else {
        widgets::warn_line(ui, format!("{connected} of {all} connected"));
    }
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
        if !settings.plan_allows(channel) {
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
