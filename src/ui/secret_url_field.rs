//! A field for a URL that is a secret (a Discord webhook, a custom
//! endpoint): masked as typed with a Show toggle, checked as typed with the
//! reason in words, sent to the keyring only on Enter or Save, and cleared
//! once the keyring holds it. A saved URL is only ever shown redacted.

use std::fmt::Display;

use eframe::egui;

use super::engine_state::EngineState;
use super::widgets;
use crate::engine::service::Ticket;

/// The words of one such field.
pub struct FieldWords {
    pub label: &'static str,
    /// Placeholder while nothing is saved.
    pub placeholder: &'static str,
    /// The toggle that reveals what was typed (unique on the page).
    pub show: &'static str,
    /// The button that saves (unique on the page).
    pub save: &'static str,
}

/// What the user is typing, and whether it was sent to the keyring.
pub struct SecretUrlField<T> {
    /// The pasted URL until it is stored; never written anywhere else.
    text: String,
    reveal: bool,
    /// What was sent to the engine, and the ticket its answer will carry.
    submitted: Option<(T, Ticket)>,
}

impl<T> Default for SecretUrlField<T> {
    fn default() -> Self {
        SecretUrlField {
            text: String::new(),
            reveal: false,
            submitted: None,
        }
    }
}

impl<T: PartialEq> SecretUrlField<T> {
    /// Masks what was typed again.
    pub fn hide(&mut self) {
        self.reveal = false;
    }

    /// Clears the field once the engine says the keyring holds what was
    /// typed; keeps it when saving failed, so the user can try again.
    pub fn settle(&mut self, state: &EngineState) {
        let Some((_, ticket)) = &self.submitted else {
            return;
        };
        match state.answer(*ticket) {
            Some(Ok(())) => {
                self.text.clear();
                self.reveal = false;
                self.submitted = None;
            }
            Some(Err(_)) => self.submitted = None,
            None => {}
        }
    }

    /// Draws the field. Returns the ticket and the text to store when the
    /// user saves a valid URL; the command sent with it must carry that
    /// ticket. `valid_words` says what a valid, new URL is and how to keep
    /// it; `saving_words` what is being saved.
    pub fn ui<E: Display>(
        &mut self,
        ui: &mut egui::Ui,
        words: &FieldWords,
        stored: Option<&T>,
        parse: impl Fn(&str) -> Result<T, E>,
        valid_words: impl Fn(&T) -> String,
        saving_words: impl Fn(&T) -> String,
    ) -> Option<(Ticket, String)> {
        let label = widgets::field_label(ui, words.label);
        // Checked after the field has taken this frame's typing.
        let mut parsed = None;
        let mut submit = false;
        ui.horizontal_wrapped(|ui| {
            let hint = if stored.is_some() {
                "paste a new one to replace the saved one"
            } else {
                words.placeholder
            };
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut self.text)
                        .password(!self.reveal)
                        .hint_text(hint)
                        .desired_width(widgets::field_width(ui, 180.0)),
                )
                .labelled_by(label.id);
            parsed = (!self.text.trim().is_empty()).then(|| parse(&self.text));
            if field.changed() {
                self.submitted = None;
            }
            // Enter keeps a valid URL; leaving the field (to press Show,
            // say) does not, so nothing is stored by surprise.
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if enter && matches!(parsed, Some(Ok(_))) {
                submit = true;
            }
            ui.toggle_value(&mut self.reveal, words.show)
                .on_hover_text("Show or hide what you typed");
            let valid = matches!(parsed, Some(Ok(_)));
            if ui
                .add_enabled(
                    valid && self.submitted.is_none(),
                    egui::Button::new(words.save),
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
                    ui.label(saving_words(url));
                });
            }
            Some(Ok(url)) => {
                widgets::ok_line(ui, valid_words(url));
            }
        }
        if submit
            && self.submitted.is_none()
            && let Some(Ok(url)) = parsed
        {
            let ticket = Ticket::next();
            self.submitted = Some((url, ticket));
            return Some((ticket, self.text.trim().to_string()));
        }
        None
    }
}

/// What is saved, shown redacted, with a button to forget it; or why
/// nothing is. Returns true when the user pressed the button.
pub fn saved_ui(
    ui: &mut egui::Ui,
    saved: Option<String>,
    forget: &str,
    forget_hover: &str,
    nothing_saved: &str,
    keyring_ok: bool,
) -> bool {
    match saved {
        Some(shown) => {
            ui.horizontal_wrapped(|ui| {
                ui.label("Saved in the keyring:");
                ui.monospace(shown);
                ui.small_button(forget)
                    .on_hover_text(forget_hover)
                    .clicked()
            })
            .inner
        }
        None => {
            widgets::hint(
                ui,
                if keyring_ok {
                    nothing_saved
                } else {
                    "Disabled: the keyring is unreachable (see the banner above)."
                },
            );
            false
        }
    }
}
