//! The Pushover block: the application token and the user key (each
//! masked, checked as typed, kept in the keyring), Enable, Verify (which
//! devices the user has), and Resume when paused.

use eframe::egui;

use super::channel_controls::{enable_ui, verify_ui};
use super::channel_health::paused_ui;
use super::command::UiCommand;
use super::engine_state::EngineState;
use super::secret_url_field::{FieldWords, SecretUrlField, saved_ui};
use super::widgets;
use crate::core::channels::pushover::{self, AppToken, UserKey};
use crate::core::settings::{Channel, Settings};
use crate::engine::service::EngineCommand;

/// The Pushover block's own state: the keys being typed.
#[derive(Default)]
pub struct PushoverPanel {
    token: SecretUrlField<AppToken>,
    user: SecretUrlField<UserKey>,
}

const TOKEN_WORDS: FieldWords = FieldWords {
    label: "Pushover application token",
    placeholder: "30 letters and digits, from pushover.net/apps",
    show: "Show application token",
    save: "Save application token",
};

const USER_WORDS: FieldWords = FieldWords {
    label: "Pushover user key",
    placeholder: "30 letters and digits, top right of your pushover.net dashboard",
    show: "Show user key",
    save: "Save user key",
};

impl PushoverPanel {
    /// Masks what was typed again.
    pub fn hide(&mut self) {
        self.token.hide();
        self.user.hide();
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut Settings,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
        self.token.settle(state);
        self.user.settle(state);
        widgets::section(ui, "Pushover", |ui| {
            widgets::hint(
                ui,
                "On pushover.net: Create an Application/API Token (pushover.net/apps/build) and paste its token here, then paste your user key from the top right of your dashboard. Errors arrive as high-priority pushes.",
            );
            ui.add_space(6.0);
            ui.add_enabled_ui(state.keyring_ok(), |ui| {
                let stored = state
                    .secrets
                    .parsed(&pushover::TOKEN_SECRET, AppToken::parse);
                let submitted = self.token.ui(
                    ui,
                    &TOKEN_WORDS,
                    stored.as_ref(),
                    AppToken::parse,
                    |t| {
                        format!(
                            "an application token ({}): press Enter or Save to keep it",
                            t.redacted()
                        )
                    },
                    |_| "saving the application token in the keyring…".to_string(),
                );
                if let Some((ticket, text)) = submitted {
                    commands.push(UiCommand::Engine(EngineCommand::SetSecret(
                        ticket,
                        &pushover::TOKEN_SECRET,
                        text.into(),
                    )));
                }
                let stored_user = state.secrets.parsed(&pushover::USER_SECRET, UserKey::parse);
                let submitted = self.user.ui(
                    ui,
                    &USER_WORDS,
                    stored_user.as_ref(),
                    UserKey::parse,
                    |k| {
                        format!(
                            "a user key ({}): press Enter or Save to keep it",
                            k.redacted()
                        )
                    },
                    |_| "saving the user key in the keyring…".to_string(),
                );
                if let Some((ticket, text)) = submitted {
                    commands.push(UiCommand::Engine(EngineCommand::SetSecret(
                        ticket,
                        &pushover::USER_SECRET,
                        text.into(),
                    )));
                }
                let saved = match (stored, stored_user) {
                    (None, None) => None,
                    (token, user) => Some(format!(
                        "token {}, user {}",
                        token.map_or("not set".into(), |t| t.redacted()),
                        user.map_or("not set".into(), |u| u.redacted())
                    )),
                };
                if saved_ui(
                    ui,
                    saved,
                    "Forget Pushover keys",
                    "Remove both keys from the keyring and turn Pushover off",
                    "No keys saved yet.",
                    state.keyring_ok(),
                ) {
                    commands.push(UiCommand::Engine(EngineCommand::ClearChannel(
                        Channel::Pushover,
                    )));
                }
            });
            ui.add_space(6.0);
            enable_ui(ui, settings, state, Channel::Pushover, commands);
            verify_ui(
                ui,
                state,
                Channel::Pushover,
                "whether it knows the user key, and its devices",
                commands,
            );
            paused_ui(ui, state, Channel::Pushover, commands);
        });
    }
}
