//! Small drawing helpers the panels share: sections, status lines in words,
//! and the colours of outcomes.

use eframe::egui::{self, Color32, RichText};

use crate::engine::delivery::log::Outcome;

/// A titled, framed block of the settings page.
pub fn section<R>(
    ui: &mut egui::Ui,
    title: &str,
    add_contents: impl FnOnce(&mut egui::Ui) -> R,
) -> R {
    egui::Frame::group(ui.style())
        .inner_margin(10.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(title).heading());
            ui.add_space(4.0);
            add_contents(ui)
        })
        .inner
}

/// Green for good news.
pub fn ok_colour(ui: &egui::Ui) -> Color32 {
    if ui.visuals().dark_mode {
        Color32::from_rgb(0x5c, 0xd0, 0x7a)
    } else {
        Color32::from_rgb(0x1a, 0x7f, 0x37)
    }
}

/// A line that says something is right.
pub fn ok_line(ui: &mut egui::Ui, text: impl Into<String>) -> egui::Response {
    let colour = ok_colour(ui);
    ui.add(egui::Label::new(RichText::new(format!("✔ {}", text.into())).color(colour)).wrap())
}

/// A line that says what is wrong, in words.
pub fn error_line(ui: &mut egui::Ui, text: impl Into<String>) -> egui::Response {
    let colour = ui.visuals().error_fg_color;
    ui.add(egui::Label::new(RichText::new(format!("✖ {}", text.into())).color(colour)).wrap())
}

/// A line that asks for attention.
pub fn warn_line(ui: &mut egui::Ui, text: impl Into<String>) -> egui::Response {
    let colour = ui.visuals().warn_fg_color;
    ui.add(egui::Label::new(RichText::new(format!("⚠ {}", text.into())).color(colour)).wrap())
}

/// Quieter explanatory text.
pub fn hint(ui: &mut egui::Ui, text: impl Into<String>) -> egui::Response {
    ui.add(egui::Label::new(RichText::new(text.into()).weak()).wrap())
}

/// The colour of an outcome in the log and the tile.
pub fn outcome_colour(ui: &egui::Ui, outcome: Outcome) -> Color32 {
    match outcome {
        Outcome::Delivered => ok_colour(ui),
        Outcome::Failed => ui.visuals().error_fg_color,
        Outcome::InProgress => ui.visuals().warn_fg_color,
        Outcome::Filtered => ui.visuals().weak_text_color(),
        // Not lost, but not sent on its own either: worth a second look.
        Outcome::Summarised => ui.visuals().warn_fg_color,
    }
}

/// A field label on its own, whose id the input passes to `labelled_by`.
pub fn field_label(ui: &mut egui::Ui, text: &str) -> egui::Response {
    ui.label(RichText::new(text).strong())
}

/// Width for a text field that shares its row with buttons taking about
/// `buttons` points; the row wraps when the window is narrow.
pub fn field_width(ui: &egui::Ui, buttons: f32) -> f32 {
    (ui.available_width() - buttons).clamp(200.0, 460.0)
}

/// `HH:MM:SS UTC` of a moment.
pub fn clock(t: time::OffsetDateTime) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}
