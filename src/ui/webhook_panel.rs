//! The custom webhook 💎 block: locked on the Free plan; otherwise the
//! endpoint, Enable, the API key and the optional signing secret.

use eframe::egui::{self, RichText};

use super::api_key_panel::ApiKeyPanel;
use super::channel_health::paused_ui;
use super::command::{Page, UiCommand};
use super::engine_state::EngineState;
use super::secret_url_field::{FieldWords, SecretUrlField, saved_ui};
use super::widgets;
use crate::core::channels::webhook;
use crate::core::channels::webhook::endpoint_url::EndpointUrl;
use crate::core::settings::{Channel, Plan, Settings};
use crate::engine::clipboard::SecretToCopy;
use crate::engine::service::{EngineCommand, SettingsChange};

#[derive(Default)]
pub struct WebhookPanel {
    endpoint: SecretUrlField<EndpointUrl>,
    api_key: ApiKeyPanel,
    reveal_signing: bool,
    /// When (egui time) the signing secret was last copied.
    signing_copied_at: Option<f64>,
}

const ENDPOINT_WORDS: FieldWords = FieldWords {
    label: "Endpoint URL",
    placeholder: "https://example.com/farmhook",
    show: "Show endpoint",
    save: "Save endpoint",
};

impl WebhookPanel {
    /// Masks the endpoint, the key and the signing secret again.
    pub fn hide(&mut self) {
        self.reveal_signing = false;
        self.endpoint.hide();
        self.api_key.hide();
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut Settings,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
        self.endpoint.settle(state);
        widgets::section(ui, "Custom webhook 💎", |ui| {
            let unlocked = settings.plan == Plan::Commercial;
            if !unlocked {
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        RichText::new(
                            "🔒 Custom webhooks need the Commercial plan. Switch the plan on the Account page.",
                        )
                        .strong(),
                    );
                    if ui.button("Go to Account").clicked() {
                        commands.push(UiCommand::Open(Page::Account));
                    }
                });
            }
            widgets::hint(
                ui,
                "farmhook POSTs a JSON body to your HTTPS endpoint with your API key in the X-API-Key header.",
            );
            ui.add_space(4.0);
            ui.add_enabled_ui(unlocked, |ui| {
                ui.add_enabled_ui(state.keyring_ok(), |ui| {
                    self.endpoint_ui(ui, state, commands)
                });
                ui.add_space(6.0);
                enable_ui(ui, settings, state, commands);
                ui.add_space(6.0);
                ui.add_enabled_ui(state.keyring_ok(), |ui| {
                    self.api_key.ui(ui, state, commands);
                    ui.add_space(6.0);
                    self.signing_ui(ui, settings, state, commands);
                });
                if !state.keyring_ok() && state.loaded {
                    widgets::hint(
                        ui,
                        "The API key and signing secret are disabled: the keyring is unreachable (see the banner above).",
                    );
                }
                paused_ui(ui, state, Channel::Webhook, commands);
            });
        });
    }

    fn endpoint_ui(
        &mut self,
        ui: &mut egui::Ui,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
        let stored = state.secrets.endpoint();
        let stored = stored.as_ref();
        let submitted = self.endpoint.ui(
            ui,
            &ENDPOINT_WORDS,
            stored,
            EndpointUrl::parse,
            |url| {
                let note = if url.is_loopback() {
                    " (this machine: fine for testing)"
                } else {
                    ""
                };
                format!(
                    "a valid endpoint{note}: press Enter or Save endpoint to keep it in the keyring"
                )
            },
            |url| format!("saving {url} in the keyring…"),
        );
        if let Some((ticket, text)) = submitted {
            commands.push(UiCommand::Engine(EngineCommand::SetSecret(
                ticket,
                &webhook::ENDPOINT_SECRET,
                text.into(),
            )));
        }
        let forget = saved_ui(
            ui,
            stored.map(ToString::to_string),
            "Remove endpoint",
            "Remove the endpoint from the keyring and turn the custom webhook off",
            "https:// only; http:// is allowed for this machine (127.0.0.1, ::1, localhost) when testing. \
             The URL is kept in the OS keyring, since its path or query often carries a token.",
            state.keyring_ok(),
        );
        if forget {
            // The engine turns the webhook off with it (one rule, in the
            // profile's operations) and answers with the settings.
            commands.push(UiCommand::Engine(EngineCommand::ClearChannel(
                Channel::Webhook,
            )));
        }
    }

    fn signing_ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut Settings,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
        let label = widgets::field_label(ui, "Signing secret (optional)");
        widgets::hint(
            ui,
            "Adds a webhook-signature header (Standard Webhooks, HMAC-SHA256) so the receiver can check each body came from farmhook.",
        );
        match &state.secrets.signing_secret() {
            Some(secret) => {
                ui.horizontal_wrapped(|ui| {
                    let mut shown = secret.expose();
                    ui.add(
                        egui::TextEdit::singleline(&mut shown)
                            .password(!self.reveal_signing)
                            .desired_width(widgets::field_width(ui, 320.0)),
                    )
                    .labelled_by(label.id);
                    ui.toggle_value(&mut self.reveal_signing, "Show secret");
                    if ui.button("Copy secret").clicked() {
                        ui.ctx().copy_text(secret.expose().to_string());
                        commands.push(UiCommand::Engine(EngineCommand::ClearCopiedSecret(
                            SecretToCopy::SigningSecret,
                            secret.expose().into(),
                        )));
                        self.signing_copied_at = Some(ui.input(|i| i.time));
                    }
                    if ui
                        .button("Remove signing")
                        .on_hover_text("Delete the secret; requests are sent unsigned")
                        .clicked()
                    {
                        // The engine turns signing off with the secret.
                        commands.push(UiCommand::Engine(EngineCommand::ClearSigningSecret));
                    }
                });
                if let Some(at) = self.signing_copied_at {
                    widgets::copied_secret_line(ui, at);
                }
                if !settings.channels[Channel::Webhook].signing {
                    widgets::warn_line(ui, "a secret is stored but signing is off");
                }
            }
            None => {
                if settings.channels[Channel::Webhook].signing && state.keyring_ok() {
                    widgets::warn_line(
                        ui,
                        "signing is on but no secret is stored: deliveries cannot be signed; generate one",
                    );
                }
                if ui.button("Generate signing secret").clicked() {
                    // The engine turns signing on with the new secret.
                    commands.push(UiCommand::Engine(EngineCommand::GenerateSigningSecret));
                }
            }
        }
    }
}

fn enable_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    state: &EngineState,
    commands: &mut Vec<UiCommand>,
) {
    let has_endpoint = state.secrets.endpoint().is_some();
    let ready = has_endpoint && state.keyring_ok();
    let was_on = settings.channels[Channel::Webhook].enabled;
    let enable = ui
        .add_enabled(
            ready || was_on,
            egui::Checkbox::new(
                &mut settings.channels[Channel::Webhook].enabled,
                "Enable the custom webhook",
            ),
        )
        .on_disabled_hover_text("Save an endpoint URL first");
    if enable.changed() {
        // The engine generates an API key when there is none, as for
        // `farmhook webhook enable`.
        commands.push(UiCommand::Change(SettingsChange::Enabled(
            Channel::Webhook,
            settings.channels[Channel::Webhook].enabled,
        )));
    }
    if has_endpoint && !settings.channels[Channel::Webhook].enabled {
        widgets::warn_line(ui, "the custom webhook is off: nothing is sent to it");
    }
}
