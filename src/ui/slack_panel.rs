//! The Slack block: the incoming-webhook URL (masked, checked as typed,
//! kept in the keyring), Enable, and Resume when paused. Slack has no way
//! to check a webhook without posting, so Test is how to try it.

use eframe::egui;

use super::channel_controls::enable_ui;
use super::channel_health::paused_ui;
use super::command::UiCommand;
use super::engine_state::EngineState;
use super::secret_url_field::{FieldWords, SecretUrlField, saved_ui};
use super::widgets;
use crate::core::channels::slack::{self, SlackWebhookUrl};
use crate::core::settings::{Channel, Settings};
use crate::engine::service::EngineCommand;

/// The Slack block's own state: the URL being typed.
#[derive(Default)]
pub struct SlackPanel {
    url: SecretUrlField<SlackWebhookUrl>,
}

const URL_WORDS: FieldWords = FieldWords {
    label: "Slack webhook URL",
    placeholder: "https://hooks.slack.com/services/T…/B…/…",
    show: "Show Slack URL",
    save: "Save Slack URL",
};

impl SlackPanel {
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
        widgets::section(ui, "Slack", |ui| {
            widgets::hint(
                ui,
                "In Slack: api.slack.com/apps › Create New App › Incoming Webhooks › Add New Webhook to Workspace, pick the channel, then Copy the Webhook URL and paste it here.",
            );
            widgets::warn_line(
                ui,
                "Anyone who has this URL can post in your channel: keep it private. farmhook keeps it only in the OS keyring.",
            );
            ui.add_space(6.0);
            ui.add_enabled_ui(state.keyring_ok(), |ui| self.url_ui(ui, state, commands));
            ui.add_space(6.0);
            enable_ui(ui, settings, state, Channel::Slack, commands);
            widgets::hint(
                ui,
                "Slack takes about one message a second: a burst of events arrives as one message.",
            );
            paused_ui(ui, state, Channel::Slack, commands);
        });
    }

    fn url_ui(&mut self, ui: &mut egui::Ui, state: &EngineState, commands: &mut Vec<UiCommand>) {
        let stored = state
            .secrets
            .parsed(&slack::URL_SECRET, SlackWebhookUrl::parse);
        let submitted = self.url.ui(
            ui,
            &URL_WORDS,
            stored.as_ref(),
            SlackWebhookUrl::parse,
            |url| {
                format!(
                    "a Slack webhook URL (workspace {}, webhook {}): press Enter or Save Slack URL to keep it in the keyring",
                    url.team_id(),
                    url.webhook_id()
                )
            },
            |url| format!("saving webhook {} in the keyring…", url.webhook_id()),
        );
        if let Some((ticket, text)) = submitted {
            commands.push(UiCommand::Engine(EngineCommand::SetSecret(
                ticket,
                &slack::URL_SECRET,
                text.into(),
            )));
        }
        let forget = saved_ui(
            ui,
            stored.map(|url| url.redacted()),
            "Forget Slack URL",
            "Remove the URL from the keyring and turn Slack off",
            "No URL saved yet.",
            state.keyring_ok(),
        );
        if forget {
            commands.push(UiCommand::Engine(EngineCommand::ClearChannel(
                Channel::Slack,
            )));
        }
    }
}
