//! The Printers section: each watched printer live (link, what it is
//! doing, the last news), Remove, and a form to add one. While the window
//! is open its engine watches them, so a printer's events reach the
//! channels and the delivery log with its name. (To change a printer,
//! remove it and add it again: its access code or key is asked once, as it
//! only lives in the keyring.)

use eframe::egui;
use secrecy::SecretString;

use super::command::UiCommand;
use super::engine_state::EngineState;
use super::widgets;
use crate::core::printers::{PrinterConfig, PrinterKind};
use crate::engine::service::{EngineCommand, Ticket};

/// The add form.
pub struct PrintersPanel {
    kind: PrinterKind,
    name: String,
    address: String,
    serial: String,
    secret: String,
    /// The add sent, until its answer.
    adding: Option<Ticket>,
}

impl Default for PrintersPanel {
    fn default() -> Self {
        PrintersPanel {
            kind: PrinterKind::Bambu,
            name: String::new(),
            address: String::new(),
            serial: String::new(),
            secret: String::new(),
            adding: None,
        }
    }
}

impl PrintersPanel {
    /// Forgets a typed secret (the page is left).
    pub fn hide(&mut self) {
        self.secret.clear();
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, state: &EngineState, commands: &mut Vec<UiCommand>) {
        if let Some(ticket) = self.adding
            && let Some(answer) = state.answer(ticket)
        {
            self.adding = None;
            if answer.is_ok() {
                *self = PrintersPanel {
                    kind: self.kind,
                    ..PrintersPanel::default()
                };
            }
        }
        widgets::section(ui, "Printers", |ui| {
            widgets::hint(
                ui,
                "farmhook watches these printers itself, on your network, while this window is open (or headless with `farmhook watch`): a print failing at 3 a.m. reaches your channels within seconds.",
            );
            if state.printers.is_empty() {
                ui.label("No printers yet: add one below.");
            }
            for view in &state.printers {
                ui.separator();
                ui.horizontal_wrapped(|ui| {
                    ui.label(egui::RichText::new(&view.config.name).strong());
                    widgets::hint(
                        ui,
                        format!("{} · {}", view.config.kind.label(), view.config.address),
                    );
                    if ui
                        .button(format!("Remove {}", view.config.name))
                        .on_hover_text("Stop watching it and forget its access code or key")
                        .clicked()
                    {
                        commands.push(UiCommand::Engine(EngineCommand::RemovePrinter(
                            view.config.name.clone(),
                        )));
                    }
                });
                if view.connected {
                    widgets::ok_line(ui, &view.link);
                } else if view.link.starts_with("stopped") {
                    widgets::error_line(ui, &view.link);
                } else {
                    widgets::warn_line(ui, &view.link);
                }
                let s = &view.snapshot;
                let mut doing = s.state.clone();
                if let Some(job) = &s.job {
                    doing.push_str(&format!(" “{job}”"));
                }
                if !doing.is_empty() {
                    ui.label(doing);
                }
                if let Some(progress) = s.progress.filter(|p| p.is_finite()) {
                    let left = s
                        .remaining_s
                        .map(|r| format!(", {} min left", r.div_ceil(60)))
                        .unwrap_or_default();
                    ui.add(
                        egui::ProgressBar::new(progress.clamp(0.0, 1.0) as f32)
                            .text(format!("{:.0} %{left}", progress.clamp(0.0, 1.0) * 100.0))
                            .desired_width(widgets::field_width(ui, 0.0).min(360.0)),
                    );
                }
                if let Some((_, news)) = &s.last_news {
                    widgets::hint(ui, format!("last: {}", news.words()));
                }
            }
        });
        ui.add_space(8.0);
        widgets::section(ui, "Add a printer", |ui| self.add_ui(ui, state, commands));
    }

    fn add_ui(&mut self, ui: &mut egui::Ui, state: &EngineState, commands: &mut Vec<UiCommand>) {
        ui.horizontal(|ui| {
            for kind in [
                PrinterKind::Bambu,
                PrinterKind::OctoPrint,
                PrinterKind::Moonraker,
            ] {
                ui.selectable_value(&mut self.kind, kind, kind.label());
            }
        });
        let (address_label, address_hint, secret_label) = match self.kind {
            PrinterKind::Bambu => (
                "Printer address",
                "192.168.1.40",
                "LAN access code (Settings › Network on the printer)",
            ),
            PrinterKind::OctoPrint => (
                "OctoPrint URL",
                "http://octopi.local",
                "API key (OctoPrint › Settings › Application Keys)",
            ),
            PrinterKind::Moonraker => (
                "Moonraker URL",
                "http://voron.local:7125",
                "API key (only if Moonraker asks for one)",
            ),
        };
        let field = |ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str, password| {
            let l = widgets::field_label(ui, label);
            ui.add(
                egui::TextEdit::singleline(text)
                    .password(password)
                    .hint_text(hint)
                    .desired_width(widgets::field_width(ui, 0.0).min(420.0)),
            )
            .labelled_by(l.id);
        };
        field(ui, "Printer name", &mut self.name, "X1C bay 3", false);
        field(ui, address_label, &mut self.address, address_hint, false);
        if self.kind == PrinterKind::Bambu {
            field(
                ui,
                "Serial (Settings › Device)",
                &mut self.serial,
                "01S00C123456789",
                false,
            );
        }
        field(ui, secret_label, &mut self.secret, "", true);
        let serial = (self.kind == PrinterKind::Bambu).then_some(self.serial.as_str());
        let checked = PrinterConfig::new(&self.name, self.kind, &self.address, serial, None);
        let secret_needed = self.kind != PrinterKind::Moonraker && self.secret.trim().is_empty();
        ui.horizontal_wrapped(|ui| {
            let can = checked.is_ok() && !secret_needed && self.adding.is_none() && state.keyring_ok();
            if ui
                .add_enabled(can, egui::Button::new("Add printer"))
                .on_hover_text("Connects once (a Bambu printer's certificate is pinned if it is not Bambu's own), then watches it")
                .clicked()
                && let Ok(printer) = &checked
            {
                let ticket = Ticket::next();
                let secret = (!self.secret.trim().is_empty())
                    .then(|| SecretString::from(self.secret.trim().to_string()));
                commands.push(UiCommand::Engine(EngineCommand::AddPrinter {
                    ticket,
                    printer: printer.clone(),
                    secret,
                }));
                self.adding = Some(ticket);
            }
            if self.adding.is_some() {
                ui.spinner();
                ui.label("connecting to the printer…");
            } else if let Err(e) = &checked {
                if !self.name.is_empty() || !self.address.is_empty() {
                    widgets::error_line(ui, e.to_string());
                }
            } else if secret_needed {
                widgets::hint(ui, "the access code or key is needed");
            }
        });
    }
}
