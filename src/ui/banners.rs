//! The strips across the top of the window: the Discord stand-in, a
//! refused API-base override, an unreachable keyring, a settings-file
//! problem, a stopped engine, and the engine's notices.

use eframe::egui::{self, RichText};

use super::command::UiCommand;
use super::engine_state::EngineState;
use crate::engine::service::{EngineCommand, NoticeLevel};

#[derive(Clone, Copy)]
enum Tone {
    Info,
    Warning,
    Error,
}

fn banner(ui: &mut egui::Ui, tone: Tone, add_contents: impl FnOnce(&mut egui::Ui)) {
    let visuals = ui.visuals();
    let accent = match tone {
        Tone::Info => visuals.hyperlink_color,
        Tone::Warning => visuals.warn_fg_color,
        Tone::Error => visuals.error_fg_color,
    };
    let fill = accent.gamma_multiply(if visuals.dark_mode { 0.18 } else { 0.12 });
    egui::Frame::new()
        .fill(fill)
        .stroke(egui::Stroke::new(1.0, accent.gamma_multiply(0.6)))
        .corner_radius(4.0)
        .inner_margin(egui::Margin::symmetric(8, 6))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            add_contents(ui);
        });
    ui.add_space(4.0);
}

fn strong(text: impl Into<String>) -> RichText {
    RichText::new(text.into()).strong()
}

/// Draws every banner that applies.
pub fn ui(ui: &mut egui::Ui, state: &EngineState, commands: &mut Vec<UiCommand>) {
    if let Some(base) = &state.stand_in {
        banner(ui, Tone::Warning, |ui| {
            ui.add(
                egui::Label::new(format!(
                    "Discord stand-in: FARMHOOK_DISCORD_API_BASE is set, so Discord deliveries go to {base}, not to Discord."
                ))
                .wrap(),
            );
        });
    }
    for refused in &state.refused_api_bases {
        banner(ui, Tone::Error, |ui| {
            ui.add(
                egui::Label::new(format!(
                    "{refused}. farmhook ignores it and sends to the real service."
                ))
                .wrap(),
            );
        });
    }
    if let Some(error) = &state.secrets.keyring_error {
        banner(ui, Tone::Error, |ui| {
            ui.label(strong("The OS keyring is unreachable"));
            ui.add(egui::Label::new(format!("The OS keyring is unreachable: {error}.")).wrap());
            ui.horizontal_wrapped(|ui| {
                ui.label(
                    "The Discord URL, API key and signing secret are disabled until it works again; \
                     farmhook never keeps them anywhere else.",
                );
                if ui.button("Try again").clicked() {
                    commands.push(UiCommand::Engine(EngineCommand::Reload));
                }
            });
        });
    }
    if let Some(notice) = &state.settings_notice {
        banner(ui, Tone::Warning, |ui| {
            ui.add(egui::Label::new(format!("Settings file: {notice}")).wrap());
        });
    }
    if state.stopped {
        banner(ui, Tone::Error, |ui| {
            ui.add(
                egui::Label::new(
                    "The delivery engine has stopped: nothing is being sent. Close and reopen farmhook.",
                )
                .wrap(),
            );
        });
    }
    for notice in &state.notices {
        let tone = match notice.level {
            NoticeLevel::Info => Tone::Info,
            NoticeLevel::Error => Tone::Error,
        };
        banner(ui, tone, |ui| {
            ui.horizontal(|ui| {
                let dismiss = ui
                    .add(egui::Button::new("✖").frame(false).small())
                    .on_hover_text("Dismiss");
                dismiss
                    .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, "Dismiss"));
                if dismiss.clicked() {
                    commands.push(UiCommand::DismissNotice(notice.id));
                }
                ui.add(egui::Label::new(notice.text.as_str()).wrap());
            });
        });
    }
}
