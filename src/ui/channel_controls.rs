//! The controls every channel's panel has: Enable (with why it cannot be
//! turned on yet) and Verify (where the service can be asked without
//! posting). Shared so each channel's panel holds only what is its own.

use eframe::egui;

use super::command::UiCommand;
use super::engine_state::{EngineState, Verify};
use super::widgets;
use crate::core::channel::Need;
use crate::core::settings::{Channel, Settings};
use crate::engine::service::{EngineCommand, SettingsChange};
use crate::engine::verify::can_verify;

/// Whether the keyring holds everything that says where `channel` sends.
pub fn set_up(state: &EngineState, channel: Channel) -> bool {
    channel
        .spec()
        .secrets
        .iter()
        .filter(|k| k.need == Need::Address)
        .all(|k| state.secrets.holds(k.entry))
}

/// The channel's Enable checkbox. Turning off always works; turning on
/// needs it set up. The engine applies the change (and its rules).
pub fn enable_ui(
    ui: &mut egui::Ui,
    settings: &mut Settings,
    state: &EngineState,
    channel: Channel,
    commands: &mut Vec<UiCommand>,
) {
    let ready = set_up(state, channel);
    let enabled = &mut settings.channels[channel].enabled;
    let can_toggle = ready || *enabled;
    let label = match channel {
        Channel::Webhook => "Enable the custom webhook".to_string(),
        _ => format!("Enable {} notifications", channel.label()),
    };
    let first = channel.spec().secrets.first().map_or("", |k| k.words);
    let enable = ui
        .add_enabled(can_toggle, egui::Checkbox::new(enabled, label))
        .on_disabled_hover_text(if state.keyring_ok() {
            format!("Save the {first} first")
        } else {
            format!("The keyring is unreachable: the {first} cannot be read")
        });
    if enable.changed() {
        commands.push(UiCommand::Change(SettingsChange::Enabled(
            channel, *enabled,
        )));
    }
    if ready && !*enabled && channel != Channel::Webhook {
        widgets::warn_line(
            ui,
            format!(
                "{} is off: tick Enable to be told when a print fails.",
                channel.label()
            ),
        );
    }
}

/// Verify, for channels whose service can be asked without posting:
/// `what` says what is asked ("which channel the webhook posts to").
pub fn verify_ui(
    ui: &mut egui::Ui,
    state: &EngineState,
    channel: Channel,
    what: &str,
    commands: &mut Vec<UiCommand>,
) {
    if !can_verify(channel) {
        return;
    }
    let verify = &state.verify[channel];
    ui.horizontal_wrapped(|ui| {
        let can = set_up(state, channel) && !matches!(verify, Verify::Asking);
        if ui
            .add_enabled(can, egui::Button::new("Verify"))
            .on_hover_text(format!(
                "Ask {} {what} (nothing is posted)",
                channel.label()
            ))
            .clicked()
        {
            commands.push(UiCommand::Engine(EngineCommand::Verify(channel)));
        }
        match verify {
            Verify::NotAsked => {
                widgets::hint(ui, format!("asks {} {what}", channel.label()));
            }
            Verify::Asking => {
                ui.spinner();
                ui.label(format!("asking {}…", channel.label()));
            }
            Verify::Answered(Ok(facts)) => {
                widgets::ok_line(ui, facts.line());
            }
            Verify::Answered(Err(e)) => {
                widgets::error_line(ui, e);
            }
        }
    });
}
