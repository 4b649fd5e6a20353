//! The custom webhook's API key: masked, Show, Copy, Regenerate (asks
//! first), and Customize with live validation and a strength hint.

use eframe::egui::{self, RichText};

use super::command::UiCommand;
use super::engine_state::EngineState;
use super::widgets;
use crate::core::channels::webhook::api_key::{
    ApiKey, GENERATED_KEY_LEN, KeyStrength, MIN_KEY_LEN,
};
use crate::engine::clipboard::SecretToCopy;
use crate::engine::service::{EngineCommand, Ticket};

#[derive(Default)]
pub struct ApiKeyPanel {
    reveal: bool,
    /// The key last copied and when (egui time), to say so next to it.
    copied: Option<(ApiKey, f64)>,
    confirm_regenerate: bool,
    custom: Option<CustomKey>,
}

/// The Customize editor.
#[derive(Default)]
struct CustomKey {
    text: String,
    reveal: bool,
    /// Sent to the keyring, with the ticket of its answer; the editor
    /// closes once the engine says it is stored.
    submitted: Option<(ApiKey, Ticket)>,
}

impl ApiKeyPanel {
    /// Masks the key (and a custom key being typed) again.
    pub fn hide(&mut self) {
        self.reveal = false;
        if let Some(custom) = &mut self.custom {
            custom.reveal = false;
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, state: &EngineState, commands: &mut Vec<UiCommand>) {
        let label = widgets::field_label(ui, "API key");
        let stored = state.secrets.api_key();
        let stored = stored.as_ref();
        match stored {
            Some(key) => {
                let mut shown = key.expose();
                ui.add(
                    egui::TextEdit::singleline(&mut shown)
                        .password(!self.reveal)
                        .font(egui::TextStyle::Monospace)
                        .desired_width(widgets::field_width(ui, 0.0)),
                )
                .labelled_by(label.id);
                ui.horizontal_wrapped(|ui| {
                    ui.toggle_value(&mut self.reveal, "Show key");
                    if ui
                        .button("Copy key")
                        .on_hover_text("Copy the key, then paste it into your receiver")
                        .clicked()
                    {
                        ui.ctx().copy_text(key.expose().to_string());
                        commands.push(UiCommand::Engine(EngineCommand::ClearCopiedSecret(
                            SecretToCopy::ApiKey,
                            key.expose().into(),
                        )));
                        self.copied = Some((key.clone(), ui.input(|i| i.time)));
                    }
                    if ui.button("Regenerate…").clicked() {
                        self.confirm_regenerate = true;
                    }
                    if ui.button("Customize…").clicked() {
                        self.custom = Some(CustomKey::default());
                    }
                });
                widgets::hint(
                    ui,
                    format!(
                        "{} characters, {}. Sent as the X-API-Key header: your receiver must have the same key.",
                        key.expose().len(),
                        key.strength().words()
                    ),
                );
                if let Some((copied, at)) = &self.copied
                    && copied == key
                {
                    widgets::copied_secret_line(ui, *at);
                }
            }
            None => {
                ui.horizontal_wrapped(|ui| {
                    if state.keyring_ok() {
                        ui.label(
                            "No API key yet: one is generated when you enable the custom webhook.",
                        );
                    }
                    if ui.button("Generate key").clicked() {
                        commands.push(UiCommand::Engine(EngineCommand::GenerateApiKey));
                    }
                    if ui.button("Customize…").clicked() {
                        self.custom = Some(CustomKey::default());
                    }
                });
            }
        }
        self.custom_ui(ui, state, commands);
        self.regenerate_modal_ui(ui, stored.is_some(), commands);
    }

    fn custom_ui(&mut self, ui: &mut egui::Ui, state: &EngineState, commands: &mut Vec<UiCommand>) {
        let Some(custom) = &mut self.custom else {
            return;
        };
        if let Some((_, ticket)) = &custom.submitted {
            match state.answer(*ticket) {
                Some(Ok(())) => {
                    self.custom = None;
                    return;
                }
                Some(Err(_)) => custom.submitted = None,
                None => {}
            }
        }
        let mut close = false;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            let label = widgets::field_label(ui, "Custom API key");
            widgets::hint(
                ui,
                format!(
                    "{MIN_KEY_LEN} to 256 visible ASCII characters, no spaces. A generated key ({GENERATED_KEY_LEN} random characters) is the safe choice."
                ),
            );
            // Checked after the field has taken this frame's typing.
            let mut parsed = ApiKey::parse("");
            let mut submit = false;
            ui.horizontal_wrapped(|ui| {
                let field = ui
                    .add(
                        egui::TextEdit::singleline(&mut custom.text)
                            .password(!custom.reveal)
                            .font(egui::TextStyle::Monospace)
                            .hint_text("paste or type the key your receiver expects")
                            .desired_width(widgets::field_width(ui, 270.0)),
                    )
                    .labelled_by(label.id);
                parsed = ApiKey::parse(&custom.text);
                if field.changed() {
                    custom.submitted = None;
                }
                let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.toggle_value(&mut custom.reveal, "Show custom key");
                let ready = parsed.is_ok() && custom.submitted.is_none();
                if ui.add_enabled(ready, egui::Button::new("Save key")).clicked() || (enter && ready)
                {
                    submit = true;
                }
                if ui.button("Cancel").clicked() {
                    close = true;
                }
            });
            if !custom.text.is_empty() {
                match &parsed {
                    Err(e) => {
                        widgets::error_line(ui, e.to_string());
                    }
                    Ok(key) => {
                        let strength = key.strength();
                        let words = format!("valid, strength: {}", strength.words());
                        if strength == KeyStrength::Weak {
                            widgets::warn_line(ui, words);
                        } else {
                            widgets::ok_line(ui, words);
                        }
                    }
                }
            }
            if custom.submitted.is_some() {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("saving the key in the keyring…");
                });
            }
            widgets::warn_line(
                ui,
                "Saving replaces the current key: update your receiver with the new one.",
            );
            if submit && let Ok(key) = parsed {
                let ticket = Ticket::next();
                commands.push(UiCommand::Engine(EngineCommand::SetApiKey(
                    ticket,
                    custom.text.clone().into(),
                )));
                custom.submitted = Some((key, ticket));
            }
        });
        if close {
            self.custom = None;
        }
    }

    fn regenerate_modal_ui(
        &mut self,
        ui: &mut egui::Ui,
        has_key: bool,
        commands: &mut Vec<UiCommand>,
    ) {
        if !self.confirm_regenerate {
            return;
        }
        if !has_key {
            self.confirm_regenerate = false;
            return;
        }
        let modal = egui::Modal::new(egui::Id::unique("regenerate_api_key")).show(ui.ctx(), |ui| {
            ui.set_max_width(380.0);
            ui.label(RichText::new("Regenerate the API key?").heading());
            ui.add_space(4.0);
            ui.add(
                egui::Label::new(
                    "The current key stops working at once: your receiver rejects deliveries until you paste the new key there.",
                )
                .wrap(),
            );
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui.button("Regenerate the key").clicked() {
                    commands.push(UiCommand::Engine(EngineCommand::GenerateApiKey));
                    self.reveal = false;
                    self.confirm_regenerate = false;
                }
                if ui.button("Cancel").clicked() {
                    self.confirm_regenerate = false;
                }
            });
        });
        if modal.should_close() {
            self.confirm_regenerate = false;
        }
    }
}
