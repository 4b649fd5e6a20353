//! The Discord block: the webhook URL (masked, checked as typed, kept in the
//! keyring), Enable, Verify, and Resume when paused.

use eframe::egui::{self, RichText};

use super::app::UiCommand;
use super::engine_state::{EngineState, Verify, slot};
use super::widgets;
use crate::core::discord_url::DiscordWebhookUrl;
use crate::core::settings::{Destination, Settings};
use crate::engine::service::EngineCommand;

/// What the user is typing, and whether it was sent to the keyring.
#[derive(Default)]
pub struct DiscordPanel {
    /// The pasted URL until it is stored; never written anywhere else.
    url_text: String,
    reveal: bool,
    submitted: Option<Submitted>,
}

struct Submitted {
    url: DiscordWebhookUrl,
    errors_seen: u64,
}

impl DiscordPanel {
    /// Masks what was typed again.
    pub fn hide(&mut self) {
        self.reveal = false;
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut Settings,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
        self.settle_submission(state);
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
            ui.add_enabled_ui(state.keyring_ok(), |ui| {
                self.url_ui(ui, settings, state, commands)
            });
            ui.add_space(6.0);
            enable_ui(ui, settings, state, commands);
            verify_ui(ui, state, commands);
            paused_ui(ui, state, Destination::Discord, commands);
        });
    }

    /// Clears the field once the keyring holds what was typed; keeps it when
    /// saving failed, so the user can try again.
    fn settle_submission(&mut self, state: &EngineState) {
        if let Some(submitted) = &self.submitted {
            if state.secrets.discord_url.as_ref() == Some(&submitted.url) {
                self.url_text.clear();
                self.reveal = false;
                self.submitted = None;
            } else if state.errors_seen > submitted.errors_seen {
                self.submitted = None;
            }
        }
    }

    fn url_ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut Settings,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
        let label = widgets::field_label(ui, "Discord webhook URL");
        let stored = state.secrets.discord_url.as_ref();
        // Checked after the field has taken this frame's typing.
        let mut parsed = None;
        let mut submit = false;
        ui.horizontal_wrapped(|ui| {
            let hint = if stored.is_some() {
                "paste a new URL to replace the saved one"
            } else {
                "https://discord.com/api/webhooks/…"
            };
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut self.url_text)
                        .password(!self.reveal)
                        .hint_text(hint)
                        .desired_width(widgets::field_width(ui, 180.0)),
                )
                .labelled_by(label.id);
            parsed = (!self.url_text.trim().is_empty())
                .then(|| DiscordWebhookUrl::parse(&self.url_text));
            if field.changed() {
                self.submitted = None;
            }
            // Enter keeps a valid URL; leaving the field (to press Show URL,
            // say) does not, so nothing is stored by surprise.
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if enter && matches!(parsed, Some(Ok(_))) {
                submit = true;
            }
            ui.toggle_value(&mut self.reveal, "Show URL")
                .on_hover_text("Show or hide what you typed");
            let valid = matches!(parsed, Some(Ok(_)));
            if ui
                .add_enabled(
                    valid && self.submitted.is_none(),
                    egui::Button::new("Save URL"),
                )
                .clicked()
            {
                submit = true;
            }
        });
        match &parsed {
            None => {}
            Some(Err(e)) => {
                widgets::error_line(ui, e.to_string());
            }
            Some(Ok(url)) if stored == Some(url) => {
                widgets::ok_line(ui, "this is the URL already saved");
            }
            Some(Ok(url)) if self.submitted.is_some() => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(format!("saving webhook {} in the keyring…", url.id()));
                });
            }
            Some(Ok(url)) => {
                widgets::ok_line(
                    ui,
                    format!(
                        "a Discord webhook URL (webhook {}): press Enter or Save URL to keep it in the keyring",
                        url.id()
                    ),
                );
            }
        }
        if submit
            && self.submitted.is_none()
            && let Some(Ok(url)) = parsed
        {
            commands.push(UiCommand::Engine(EngineCommand::SetDiscordUrl(
                self.url_text.trim().into(),
            )));
            self.submitted = Some(Submitted {
                url,
                errors_seen: state.errors_seen,
            });
        }
        match stored {
            Some(url) => {
                ui.horizontal_wrapped(|ui| {
                    ui.label("Saved in the keyring:");
                    ui.monospace(url.to_string());
                    if ui
                        .small_button("Forget URL")
                        .on_hover_text("Remove the URL from the keyring and turn Discord off")
                        .clicked()
                    {
                        // The engine turns Discord off with it; so does the
                        // working copy, so a later save agrees.
                        settings.discord.enabled = false;
                        commands.push(UiCommand::SettingsEdited);
                        commands.push(UiCommand::Engine(EngineCommand::ClearDiscordUrl));
                    }
                });
            }
            None if state.keyring_ok() => {
                widgets::hint(ui, "No URL saved yet.");
            }
            None => {
                widgets::hint(
                    ui,
                    "Disabled: the keyring is unreachable (see the banner above).",
                );
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
    let has_url = state.secrets.discord_url.is_some();
    // Turning off always works; turning on needs a URL to send to.
    let can_toggle = has_url || settings.discord.enabled;
    let enable = ui
        .add_enabled(
            can_toggle,
            egui::Checkbox::new(
                &mut settings.discord.enabled,
                "Enable Discord notifications",
            ),
        )
        .on_disabled_hover_text(if state.keyring_ok() {
            "Save a webhook URL first"
        } else {
            "The keyring is unreachable: the webhook URL cannot be read"
        });
    if enable.changed() {
        commands.push(UiCommand::SettingsEdited);
    }
    if has_url && !settings.discord.enabled {
        widgets::warn_line(
            ui,
            "Discord is off: tick Enable to be told when a print fails.",
        );
    }
}

fn verify_ui(ui: &mut egui::Ui, state: &EngineState, commands: &mut Vec<UiCommand>) {
    ui.horizontal(|ui| {
        let can = state.secrets.discord_url.is_some() && !matches!(state.verify, Verify::Asking);
        if ui
            .add_enabled(can, egui::Button::new("Verify"))
            .on_hover_text(
                "Ask Discord which server and channel this webhook posts to (nothing is posted)",
            )
            .clicked()
        {
            commands.push(UiCommand::Engine(EngineCommand::VerifyDiscord));
        }
        match &state.verify {
            Verify::NotAsked => {
                widgets::hint(ui, "asks Discord which channel the webhook posts to");
            }
            Verify::Asking => {
                ui.spinner();
                ui.label("asking Discord…");
            }
            Verify::Answered(Ok(info)) => {
                let server = info
                    .guild_id
                    .as_ref()
                    .map(|g| format!(" on server {g}"))
                    .unwrap_or_default();
                widgets::ok_line(
                    ui,
                    format!(
                        "posts as “{}” in channel {}{server}",
                        info.name, info.channel_id
                    ),
                );
            }
            Verify::Answered(Err(e)) => {
                widgets::error_line(ui, e);
            }
        }
    });
}

/// A paused destination says why and offers Resume.
pub fn paused_ui(
    ui: &mut egui::Ui,
    state: &EngineState,
    destination: Destination,
    commands: &mut Vec<UiCommand>,
) {
    let health = &state.health[slot(destination)];
    if let Some(reason) = &health.paused {
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(format!("⏸ Paused: {reason}")).color(ui.visuals().error_fg_color),
            );
            if ui
                .button(format!("Resume {}", destination.label()))
                .clicked()
            {
                commands.push(UiCommand::Engine(EngineCommand::Resume(destination)));
            }
        });
    } else if health.success_rate.is_some() || health.next_retry_at.is_some() {
        widgets::hint(ui, health.summary());
    }
}
