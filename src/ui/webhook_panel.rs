//! The custom webhook 💎 block: locked on the Free plan; otherwise the
//! endpoint, Enable, the API key and the optional signing secret.

use eframe::egui::{self, RichText};

use super::api_key_panel::ApiKeyPanel;
use super::app::{Page, UiCommand};
use super::discord_panel::paused_ui;
use super::engine_state::EngineState;
use super::widgets;
use crate::core::endpoint_url::EndpointUrl;
use crate::core::settings::{Destination, Plan, Settings};
use crate::engine::clipboard::SecretToCopy;
use crate::engine::service::EngineCommand;

#[derive(Default)]
pub struct WebhookPanel {
    endpoint_text: String,
    /// The stored endpoint the field was last filled from.
    endpoint_seen: Option<Option<EndpointUrl>>,
    api_key: ApiKeyPanel,
    reveal_signing: bool,
    /// When (egui time) the signing secret was last copied.
    signing_copied_at: Option<f64>,
}

impl WebhookPanel {
    /// Masks the key and the signing secret again.
    pub fn hide(&mut self) {
        self.reveal_signing = false;
        self.api_key.hide();
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut Settings,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
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
                self.endpoint_ui(ui, settings, commands);
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
                paused_ui(ui, state, Destination::Webhook, commands);
            });
        });
    }

    fn endpoint_ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut Settings,
        commands: &mut Vec<UiCommand>,
    ) {
        if self.endpoint_seen.as_ref() != Some(&settings.webhook.url) {
            self.endpoint_text = settings
                .webhook
                .url
                .as_ref()
                .map(|u| u.expose().to_string())
                .unwrap_or_default();
            self.endpoint_seen = Some(settings.webhook.url.clone());
        }
        let label = widgets::field_label(ui, "Endpoint URL");
        // Checked after the field has taken this frame's typing.
        let mut parsed = None;
        let stored = settings.webhook.url.clone();
        let is_new = |url: &EndpointUrl| stored.as_ref() != Some(url);
        let mut submit = false;
        ui.horizontal_wrapped(|ui| {
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut self.endpoint_text)
                        .hint_text("https://example.com/farmhook")
                        .desired_width(widgets::field_width(ui, 250.0)),
                )
                .labelled_by(label.id);
            parsed = (!self.endpoint_text.trim().is_empty())
                .then(|| EndpointUrl::parse(&self.endpoint_text));
            let valid_new = matches!(&parsed, Some(Ok(url)) if is_new(url));
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if enter && valid_new {
                submit = true;
            }
            if ui
                .add_enabled(valid_new, egui::Button::new("Save endpoint"))
                .clicked()
            {
                submit = true;
            }
            if settings.webhook.url.is_some()
                && ui
                    .button("Remove endpoint")
                    .on_hover_text("Forget the endpoint and turn the custom webhook off")
                    .clicked()
            {
                settings.webhook.url = None;
                settings.webhook.enabled = false;
                commands.push(UiCommand::SettingsEdited);
            }
        });
        match &parsed {
            None => {
                widgets::hint(
                    ui,
                    "https:// only; http:// is allowed for this machine (127.0.0.1, ::1, localhost) when testing.",
                );
            }
            Some(Err(e)) => {
                widgets::error_line(ui, e.to_string());
            }
            Some(Ok(url)) if !is_new(url) => {
                let note = if url.is_loopback() {
                    " (this machine: fine for testing)"
                } else {
                    ""
                };
                widgets::ok_line(ui, format!("saved: {url}{note}"));
            }
            Some(Ok(_)) => {
                widgets::ok_line(
                    ui,
                    "a valid endpoint: press Enter or Save endpoint to use it",
                );
            }
        }
        if submit && let Some(Ok(url)) = parsed {
            settings.webhook.url = Some(url);
            self.endpoint_seen = Some(settings.webhook.url.clone());
            commands.push(UiCommand::SettingsEdited);
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
        match &state.secrets.signing_secret {
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
                        settings.webhook.signing = false;
                        commands.push(UiCommand::SettingsEdited);
                        commands.push(UiCommand::Engine(EngineCommand::ClearSigningSecret));
                    }
                });
                if let Some(at) = self.signing_copied_at {
                    widgets::copied_secret_line(ui, at);
                }
                if !settings.webhook.signing {
                    widgets::warn_line(ui, "a secret is stored but signing is off");
                }
            }
            None => {
                if settings.webhook.signing && state.keyring_ok() {
                    widgets::warn_line(
                        ui,
                        "signing is on but no secret is stored: deliveries cannot be signed; generate one",
                    );
                }
                if ui.button("Generate signing secret").clicked() {
                    // The engine turns signing on with the new secret; the
                    // working copy says the same so a later save agrees.
                    settings.webhook.signing = true;
                    commands.push(UiCommand::SettingsEdited);
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
    let ready = settings.webhook.url.is_some() && state.keyring_ok();
    let was_on = settings.webhook.enabled;
    let enable = ui
        .add_enabled(
            ready || was_on,
            egui::Checkbox::new(&mut settings.webhook.enabled, "Enable the custom webhook"),
        )
        .on_disabled_hover_text("Save an endpoint URL first");
    if enable.changed() {
        commands.push(UiCommand::SettingsEdited);
        if settings.webhook.enabled && state.secrets.api_key.is_none() {
            commands.push(UiCommand::Engine(EngineCommand::GenerateApiKey));
        }
    }
    if settings.webhook.url.is_some() && !settings.webhook.enabled {
        widgets::warn_line(ui, "the custom webhook is off: nothing is sent to it");
    }
}
