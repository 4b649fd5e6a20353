//! Settings › Account › Notifications: Discord, the custom webhook, the
//! events, test deliveries, the virtual farm and troubleshooting, top to
//! bottom.

use eframe::egui;

use super::command::{Page, UiCommand};
use super::discord_panel::DiscordPanel;
use super::engine_state::EngineState;
use super::simulation_panel::SimulationPanel;
use super::test_panel::TestPanel;
use super::webhook_panel::WebhookPanel;
use super::{events_panel, troubleshooting_panel};
use crate::core::settings::Settings;

/// The page and the state of its panels (what is being typed, revealed…).
#[derive(Default)]
pub struct NotificationSettingsPage {
    discord: DiscordPanel,
    webhook: WebhookPanel,
    test: TestPanel,
    simulation: SimulationPanel,
}

impl NotificationSettingsPage {
    /// Masks every revealed secret: called when the page is left, so a
    /// secret shown once is not still on screen when the user comes back.
    pub fn hide_secrets(&mut self) {
        self.discord.hide();
        self.webhook.hide();
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut Settings,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
        ui.horizontal(|ui| {
            if ui.button("‹ Back to Account").clicked() {
                commands.push(UiCommand::Open(Page::Account));
            }
            ui.heading("Notifications");
        });
        ui.add_space(6.0);
        self.discord.ui(ui, settings, state, commands);
        ui.add_space(8.0);
        self.webhook.ui(ui, settings, state, commands);
        ui.add_space(8.0);
        events_panel::ui(ui, settings, commands);
        ui.add_space(8.0);
        self.test.ui(ui, settings, state, commands);
        ui.add_space(8.0);
        self.simulation.ui(ui, state, commands);
        ui.add_space(8.0);
        troubleshooting_panel::ui(ui, settings, state);
        ui.add_space(8.0);
    }
}
