//! Settings › Account: the plan switch and the Notifications tile.

use eframe::egui;

use super::command::UiCommand;
use super::engine_state::EngineState;
use super::notifications_tile;
use super::widgets;
use crate::core::settings::{Channel, Plan, Settings};
use crate::engine::service::SettingsChange;

pub fn ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    state: &EngineState,
    commands: &mut Vec<UiCommand>,
) {
    ui.heading("Account");
    ui.add_space(6.0);
    widgets::section(ui, "Plan", |ui| {
        ui.horizontal(|ui| {
            for plan in [Plan::Free, Plan::Commercial] {
                let text = match plan {
                    Plan::Free => "Free",
                    Plan::Commercial => "Commercial 💎",
                };
                if ui.radio_value(&mut settings.plan, plan, text).changed() {
                    commands.push(UiCommand::Change(SettingsChange::Plan(plan)));
                }
            }
        });
        widgets::hint(
            ui,
            match settings.plan {
                Plan::Free => {
                    "Free: Discord, Slack, Telegram and Pushover. Commercial adds a custom HTTPS webhook 💎 for your own systems."
                }
                Plan::Commercial => {
                    "Commercial: Discord, Slack, Telegram, Pushover and a custom HTTPS webhook 💎 with an X-API-Key header."
                }
            },
        );
        if settings.plan == Plan::Free && settings.channels[Channel::Webhook].enabled {
            widgets::warn_line(
                ui,
                "the custom webhook stays configured but sends nothing until the plan is Commercial",
            );
        }
    });
    ui.add_space(8.0);
    notifications_tile::ui(ui, settings, state, commands);
}
