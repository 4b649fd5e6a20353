//! The strips across the top of the window: the Discord stand-in, a
//! refused API-base override, an unreachable keyring, a settings-file
//! problem, a stopped engine (states, shown while they last), and one
//! banner for the engine's error notices (the newest, "and N more" to see
//! the rest). Good news is not a banner: see `toasts`.

use eframe::egui::{self, RichText};

use super::command::UiCommand;
use super::engine_state::EngineState;
use crate::engine::service::EngineCommand;

#[derive(Clone, Copy)]
enum Tone {
    Warning,
    Error,
}

fn banner(ui: &mut egui::Ui, tone: Tone, add_contents: impl FnOnce(&mut egui::Ui)) {
    let visuals = ui.visuals();
    let accent = match tone {
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

/// The banners' own state for the session.
#[derive(Default)]
pub struct Banners {
    /// The error banner lists every error, not only the newest.
    all_errors: bool,
}

impl Banners {
    /// Draws every banner that applies.
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &EngineState, commands: &mut Vec<UiCommand>) {
        states_ui(ui, state, commands);
        self.errors_ui(ui, state, commands);
    }

    /// One banner for every error notice: the newest, with "and N more" to
    /// list the others.
    fn errors_ui(&mut self, ui: &mut egui::Ui, state: &EngineState, commands: &mut Vec<UiCommand>) {
        let count = state.error_notices().count();
        if count == 0 {
            self.all_errors = false;
            return;
        }
        let shown = if self.all_errors { count } else { 1 };
        banner(ui, Tone::Error, |ui| {
            for (i, notice) in state.error_notices().take(shown).enumerate() {
                ui.horizontal(|ui| {
                    let dismiss = ui
                        .add(egui::Button::new("✖").frame(false).small())
                        .on_hover_text("Dismiss");
                    dismiss.widget_info(|| {
                        egui::WidgetInfo::labeled(egui::Role::Button, true, "Dismiss")
                    });
                    if dismiss.clicked() {
                        commands.push(UiCommand::DismissNotice(notice.id));
                    }
                    ui.add(egui::Label::new(notice.text.as_str()).wrap());
                    // The newest line also holds the way to the others, so
                    // three errors take no more room than one.
                    if i == 0 && count > 1 {
                        self.more_ui(ui, state, count, commands);
                    }
                });
            }
        });
    }

    /// "and N more" (or "Show only the newest") and "Dismiss all".
    fn more_ui(
        &mut self,
        ui: &mut egui::Ui,
        state: &EngineState,
        count: usize,
        commands: &mut Vec<UiCommand>,
    ) {
        ui.separator();
        let toggle = if self.all_errors {
            "Show only the newest".to_string()
        } else {
            format!("and {} more", count - 1)
        };
        if ui.link(toggle).clicked() {
            self.all_errors = !self.all_errors;
        }
        if ui.small_button("Dismiss all").clicked() {
            for notice in state.error_notices() {
                commands.push(UiCommand::DismissNotice(notice.id));
            }
        }
    }
}

/// The banners for states that last: they go when the state ends.
fn states_ui(ui: &mut egui::Ui, state: &EngineState, commands: &mut Vec<UiCommand>) {
    for stand_in in &state.stand_ins {
        let (label, env, base) = (stand_in.var.label, stand_in.var.env, &stand_in.base);
        banner(ui, Tone::Warning, |ui| {
            ui.add(
                egui::Label::new(format!(
                    "{label} stand-in: {env} is set, so {label} deliveries go to {base}, not to {label}."
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
}
