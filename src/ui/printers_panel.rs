//! The Printers section: each watched printer live (link, what it is
//! doing, the last news) with Edit and Remove, how soon a silent printer
//! is told offline, and a form to add a printer or change one. While the
//! window is open its engine watches them (unless `farmhook watch` already
//! does), so a printer's events reach the channels and the delivery log
//! with its name. A Bambu printer whose certificate is not Bambu Lab's is
//! shown with its fingerprint, to trust or not, before it is saved.

use eframe::egui;
use secrecy::SecretString;

use super::command::UiCommand;
use super::engine_state::EngineState;
use super::widgets;
use crate::core::printers::config::format_fingerprint;
use crate::core::printers::{OFFLINE_AFTER_DEFAULT_S, PrinterConfig, PrinterKind};
use crate::core::settings::Settings;
use crate::engine::service::{EngineCommand, SettingsChange, Ticket};

/// The offline times offered, in seconds.
const OFFLINE_CHOICES: [u32; 6] = [15, 30, 60, 120, 300, 900];

/// The add (or change) form.
#[derive(Default)]
pub struct PrintersPanel {
    kind: PrinterKind,
    name: String,
    address: String,
    serial: String,
    secret: String,
    /// The printer being changed, as it was when Edit was pressed; `None`
    /// while adding.
    editing: Option<PrinterConfig>,
    /// Changing a pinned printer: learn its certificate again.
    forget_pin: bool,
    /// The save sent, until its answer.
    sending: Option<Ticket>,
    /// The certificate fingerprint the engine asked the user to trust.
    trust: Option<String>,
}

impl PrintersPanel {
    /// Forgets a typed secret (the page is left).
    pub fn hide(&mut self) {
        self.secret.clear();
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &Settings,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
        self.take_answer(state);
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
                self.printer_ui(ui, view, commands);
            }
            ui.separator();
            offline_ui(ui, settings, commands);
        });
        ui.add_space(8.0);
        let title = match &self.editing {
            Some(old) => format!("Change {}", old.name),
            None => "Add a printer".to_string(),
        };
        widgets::section(ui, &title, |ui| self.form_ui(ui, state, commands));
    }

    /// The engine's answer to the save sent: done (the form empties), why
    /// not (the form stays as typed), or a certificate to trust.
    fn take_answer(&mut self, state: &EngineState) {
        let Some(ticket) = self.sending else {
            return;
        };
        if let Some((asked, fingerprint)) = &state.printer_trust
            && *asked == ticket
        {
            self.sending = None;
            self.trust = Some(fingerprint.clone());
        } else if let Some(answer) = state.answer(ticket) {
            self.sending = None;
            if answer.is_ok() {
                *self = PrintersPanel {
                    kind: self.kind,
                    ..PrintersPanel::default()
                };
            }
        }
    }

    fn printer_ui(
        &mut self,
        ui: &mut egui::Ui,
        view: &crate::engine::printers::PrinterView,
        commands: &mut Vec<UiCommand>,
    ) {
        let config = &view.config;
        ui.horizontal_wrapped(|ui| {
            ui.label(egui::RichText::new(&config.name).strong());
            widgets::hint(ui, format!("{} · {}", config.kind.label(), config.address));
            if ui
                .add_enabled(
                    self.sending.is_none(),
                    egui::Button::new(format!("Edit {}", config.name)),
                )
                .on_hover_text("Change its name, address, serial or access code")
                .clicked()
            {
                *self = PrintersPanel {
                    kind: config.kind,
                    name: config.name.clone(),
                    address: config.address.clone(),
                    serial: config.serial.clone().unwrap_or_default(),
                    editing: Some(config.clone()),
                    ..PrintersPanel::default()
                };
            }
            if ui
                .button(format!("Remove {}", config.name))
                .on_hover_text("Stop watching it and forget its access code or key")
                .clicked()
            {
                commands.push(UiCommand::Engine(EngineCommand::RemovePrinter(
                    config.name.clone(),
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

    fn form_ui(&mut self, ui: &mut egui::Ui, state: &EngineState, commands: &mut Vec<UiCommand>) {
        if let Some(fingerprint) = self.trust.clone() {
            self.trust_ui(ui, &fingerprint, commands);
            return;
        }
        if self.editing.is_none() {
            ui.horizontal(|ui| {
                for kind in [
                    PrinterKind::Bambu,
                    PrinterKind::OctoPrint,
                    PrinterKind::Moonraker,
                ] {
                    ui.selectable_value(&mut self.kind, kind, kind.label());
                }
            });
        }
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
        let keep_hint = if self.editing.is_some() {
            "leave empty to keep the saved one"
        } else {
            ""
        };
        field(ui, secret_label, &mut self.secret, keep_hint, true);
        let pinned = self
            .editing
            .as_ref()
            .and_then(|old| old.fingerprint.clone());
        if pinned.is_some() {
            ui.checkbox(
                &mut self.forget_pin,
                "Forget its pinned certificate (connect and trust the one it shows now)",
            );
        }
        let fingerprint = pinned.filter(|_| !self.forget_pin);
        let serial = (self.kind == PrinterKind::Bambu).then_some(self.serial.as_str());
        let checked = PrinterConfig::new(
            &self.name,
            self.kind,
            &self.address,
            serial,
            fingerprint.as_deref(),
        );
        let secret_needed = self.editing.is_none()
            && self.kind != PrinterKind::Moonraker
            && self.secret.trim().is_empty();
        ui.horizontal_wrapped(|ui| {
            let can =
                checked.is_ok() && !secret_needed && self.sending.is_none() && state.keyring_ok();
            let (label, hover) = if self.editing.is_some() {
                (
                    "Save changes",
                    "Connects once (a Bambu printer's certificate is checked again), then watches it as changed",
                )
            } else {
                (
                    "Add printer",
                    "Connects once (a Bambu printer whose certificate is not Bambu Lab's is shown to you to trust), then watches it",
                )
            };
            if ui
                .add_enabled(can, egui::Button::new(label))
                .on_hover_text(hover)
                .clicked()
                && let Ok(printer) = &checked
            {
                self.send(printer.clone(), commands);
            }
            if self.editing.is_some() && ui.button("Cancel").clicked() {
                *self = PrintersPanel::default();
                return;
            }
            if self.sending.is_some() {
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

    /// Sends the form's printer (with `printer.fingerprint` trusted, when
    /// the user just trusted it).
    fn send(&mut self, printer: PrinterConfig, commands: &mut Vec<UiCommand>) {
        let ticket = Ticket::next();
        let secret = (!self.secret.trim().is_empty())
            .then(|| SecretString::from(self.secret.trim().to_string()));
        commands.push(UiCommand::Engine(EngineCommand::SavePrinter {
            ticket,
            replacing: self.editing.as_ref().map(|old| old.name.clone()),
            printer,
            secret,
        }));
        self.sending = Some(ticket);
    }

    fn trust_ui(&mut self, ui: &mut egui::Ui, fingerprint: &str, commands: &mut Vec<UiCommand>) {
        widgets::warn_line(
            ui,
            format!(
                "{}'s certificate is not signed by Bambu Lab (a newer model, or a test rig).",
                self.name.trim()
            ),
        );
        ui.label("Its SHA-256 fingerprint:");
        ui.label(egui::RichText::new(format_fingerprint(fingerprint)).monospace());
        widgets::hint(
            ui,
            "Trust it only if this is your printer on your own network: farmhook keeps this fingerprint and refuses any other certificate for this printer.",
        );
        ui.horizontal(|ui| {
            if ui.button("Trust this certificate").clicked() {
                let serial = (self.kind == PrinterKind::Bambu).then_some(self.serial.as_str());
                if let Ok(printer) = PrinterConfig::new(
                    &self.name,
                    self.kind,
                    &self.address,
                    serial,
                    Some(fingerprint),
                ) {
                    self.trust = None;
                    self.send(printer, commands);
                }
            }
            if ui.button("Do not trust it").clicked() {
                self.trust = None;
            }
        });
    }
}

/// How soon a silent printer is told offline: a few choices, and the
/// one chosen elsewhere (`farmhook printers offline-after`) if it is not
/// among them.
fn offline_ui(ui: &mut egui::Ui, settings: &Settings, commands: &mut Vec<UiCommand>) {
    let now = settings.offline_after_s;
    let words = |s: u32| {
        if s.is_multiple_of(60) {
            format!("{} min", s / 60)
        } else {
            format!("{s} s")
        }
    };
    // Ids of their own: the printers listed above change as their links
    // do, and a choice clicked (or focused) must stay the same widget.
    let row = egui::UiBuilder::new().scope_id(egui::Id::unique("printer_offline_after"));
    ui.scope_builder(row, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.label("Tell a printer offline after");
            let mut choices = OFFLINE_CHOICES.to_vec();
            if !choices.contains(&now) {
                choices.push(now);
                choices.sort_unstable();
            }
            for choice in choices {
                let label = if choice == OFFLINE_AFTER_DEFAULT_S {
                    format!("{} (default)", words(choice))
                } else {
                    words(choice)
                };
                if ui.selectable_label(choice == now, label).clicked() && choice != now {
                    commands.push(UiCommand::Change(SettingsChange::OfflineAfter(choice)));
                }
            }
        })
    });
    widgets::hint(
        ui,
        "of silence: quicker news of a printer that dropped off, or calmer on a shaky Wi-Fi.",
    );
}
