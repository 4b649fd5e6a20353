//! The Discord block: the webhook URL (masked, checked as typed, kept in the
//! keyring), Enable, Verify, and Resume when paused.

use eframe::egui;

use super::channel_controls::{enable_ui, verify_ui};
use super::channel_health::paused_ui;
use super::command::UiCommand;
use super::engine_state::EngineState;
use super::secret_url_field::{FieldWords, SecretUrlField, saved_ui};
use super::widgets;
use crate::core::channels::discord;
use crate::core::channels::discord::url::DiscordWebhookUrl;
use crate::core::settings::{Channel, Settings};
use crate::engine::service::EngineCommand;

/// The Discord block's own state: the URL being typed.
#[derive(Default)]
pub struct DiscordPanel {
    url: SecretUrlField<DiscordWebhookUrl>,
}

const URL_WORDS: FieldWords = FieldWords {
    label: "Discord webhook URL",
    placeholder: "https://discord.com/api/webhooks/…",
    show: "Show URL",
    save: "Save URL",
};

impl DiscordPanel {
    /// Masks what was typed again.
    pub fn hide(&mut self) {
        self.url.hide();
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut Settings,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
        self.url.settle(state);
        widgets::section(ui, "Discord", |ui| {
            widgets::hint(
                ui,
                "In Discord: Edit Channel › Integrations › Webhooks › New Webhook › Copy Webhook URL, then paste it here.",
            );
            widgets::warn_line(
                ui,
                "Anyone who has this URL can post in your channel: keep it private. farmhook keeps it only in the OS keyring.",
            );
            ui.add_space(6.0);
            ui.add_enabled_ui(state.keyring_ok(), |ui| self.url_ui(ui, state, commands));
            ui.add_space(6.0);
            enable_ui(ui, settings, state, Channel::Discord, commands);
            verify_ui(
                ui,
                state,
                Channel::Discord,
                "which channel the webhook posts to",
                commands,
            );
            paused_ui(ui, state, Channel::Discord, commands);
        });
    }

    fn url_ui(&mut self, ui: &mut egui::Ui, state: &EngineState, commands: &mut Vec<UiCommand>) {
        let stored = state.secrets.discord_url();
        let stored = stored.as_ref();
        let submitted = self.url.ui(
            ui,
            &URL_WORDS,
            stored,
            DiscordWebhookUrl::parse,
            |url| {
                format!(
                    "a Discord webhook URL (webhook {}): press Enter or Save URL to keep it in the keyring",
                    url.id()
                )
            },
            |url| format!("saving webhook {} in the keyring…", url.id()),
        );
        if let Some((ticket, text)) = submitted {
            commands.push(UiCommand::Engine(EngineCommand::SetSecret(
                ticket,
                &discord::URL_SECRET,
                text.into(),
            )));
        }
        let forget = saved_ui(
            ui,
            stored.map(ToString::to_string),
            "Forget URL",
            "Remove the URL from the keyring and turn Discord off",
            "No URL saved yet.",
            state.keyring_ok(),
        );
        if forget {
            // The engine turns Discord off with it (one rule, in the
            // profile's operations) and answers with the settings.
            commands.push(UiCommand::Engine(EngineCommand::ClearChannel(
                Channel::Discord,
            )));
        }
    }
}
