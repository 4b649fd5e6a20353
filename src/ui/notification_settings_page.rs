//! Settings › Account › Notifications: a list of the channels and of what
//! they share (events, test, the virtual farm, troubleshooting) on the
//! left, and the one chosen on the right.

use eframe::egui;

use super::command::{Page, Section, UiCommand};
use super::discord_panel::DiscordPanel;
use super::engine_state::EngineState;
use super::printers_panel::PrintersPanel;
use super::pushover_panel::PushoverPanel;
use super::section_list::{self, LIST_WIDTH};
use super::simulation_panel::SimulationPanel;
use super::slack_panel::SlackPanel;
use super::telegram_panel::TelegramPanel;
use super::test_panel::TestPanel;
use super::webhook_panel::WebhookPanel;
use super::{events_panel, troubleshooting_panel};
use crate::core::settings::{Channel, Settings};

/// The widest the chosen section is drawn, in points: lines stay readable
/// on a wide window.
const SECTION_MAX_WIDTH: f32 = 760.0;

/// The page and the state of its panels (what is being typed, revealed…).
#[derive(Default)]
pub struct NotificationSettingsPage {
    section: Section,
    discord: DiscordPanel,
    slack: SlackPanel,
    telegram: TelegramPanel,
    pushover: PushoverPanel,
    webhook: WebhookPanel,
    test: TestPanel,
    printers: PrintersPanel,
    simulation: SimulationPanel,
}

impl NotificationSettingsPage {
    /// Masks every revealed secret: called when the page is left, so a
    /// secret shown once is not still on screen when the user comes back.
    pub fn hide_secrets(&mut self) {
        self.discord.hide();
        self.slack.hide();
        self.telegram.hide();
        self.pushover.hide();
        self.printers.hide();
        self.webhook.hide();
    }

    /// The section shown on the right.
    pub fn section(&self) -> Section {
        self.section
    }

    /// Shows `section` on the right, masking secrets revealed in the one
    /// that is left.
    pub fn open(&mut self, section: Section) {
        if section != self.section {
            self.hide_secrets();
        }
        self.section = section;
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
        egui::Panel::left("notification_sections")
            .resizable(false)
            .exact_size(LIST_WIDTH)
            .show(ui, |ui| {
                ui.add_space(2.0);
                if let Some(section) = section_list::ui(ui, self.section, settings, state) {
                    commands.push(UiCommand::OpenSection(section));
                }
            });
        egui::ScrollArea::vertical()
            .id_salt(("section", self.section.label()))
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.add_space(2.0);
                ui.set_max_width(SECTION_MAX_WIDTH.min(ui.available_width()));
                self.section_ui(ui, settings, state, commands);
                ui.add_space(8.0);
            });
    }

    fn section_ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut Settings,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
        match self.section {
            // A channel's settings (its own panel), then its own events.
            Section::Channel(channel) => {
                match channel {
                    Channel::Discord => self.discord.ui(ui, settings, state, commands),
                    Channel::Slack => self.slack.ui(ui, settings, state, commands),
                    Channel::Telegram => self.telegram.ui(ui, settings, state, commands),
                    Channel::Pushover => self.pushover.ui(ui, settings, state, commands),
                    Channel::Webhook => self.webhook.ui(ui, settings, state, commands),
                }
                ui.add_space(8.0);
                ui.add_enabled_ui(settings.plan_allows(channel), |ui| {
                    events_panel::ui(ui, settings, channel, commands)
                });
            }
            Section::Printers => self.printers.ui(ui, settings, state, commands),
            Section::Test => self.test.ui(ui, settings, state, commands),
            Section::VirtualFarm => self.simulation.ui(ui, state, commands),
            Section::Troubleshooting => troubleshooting_panel::ui(ui, settings, state),
        }
    }
}
