//! A destination's health under its settings: paused (why, and Resume), or
//! how its deliveries went. Shared by every channel's panel.

use eframe::egui::{self, RichText};

use super::command::UiCommand;
use super::engine_state::EngineState;
use super::widgets;
use crate::core::settings::Channel;
use crate::engine::service::EngineCommand;

/// A paused destination says why and offers Resume.
pub fn paused_ui(
    ui: &mut egui::Ui,
    state: &EngineState,
    destination: Channel,
    commands: &mut Vec<UiCommand>,
) {
    let health = &state.health[destination];
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
