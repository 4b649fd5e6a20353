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

/// Says that a secret copied at `copied_at` (egui time) is on the
/// clipboard until the engine clears it; shows nothing after that.
pub fn copied_secret_line(ui: &mut egui::Ui, copied_at: f64) {
    let after = crate::engine::clipboard::CLEAR_AFTER.as_secs_f64();
    let left = after - (ui.input(|i| i.time) - copied_at);
    if left > 0.0 {
        ok_line(
            ui,
            format!(
                "copied to the clipboard: paste it into your receiver; it is cleared from the clipboard in {after:.0} s"
            ),
        );
        // One frame when the line should go; an idle window asks for no others.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_secs_f64(left));
    }
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

/// `HH:MM:SS` of a moment in the user's local time (UTC where the local
/// offset could not be learned).
pub fn clock(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(super::local_offset());
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

/// A moment in full, local first with UTC beside it:
/// `2026-11-27 03:14:15.123 (02:14:15 UTC)`.
pub fn local_and_utc(t: time::OffsetDateTime) -> String {
    local_and_utc_at(t, super::local_offset())
}

fn local_and_utc_at(t: time::OffsetDateTime, offset: time::UtcOffset) -> String {
    let local = t.to_offset(offset);
    let utc = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02}.{:03} ({:02}:{:02}:{:02} UTC)",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second(),
        local.millisecond(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_reads_in_local_time_with_utc_beside_it() {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(1_795_719_000_123_000_000).unwrap();
        let cet = time::UtcOffset::from_hms(1, 0, 0).unwrap();
        assert_eq!(
            local_and_utc_at(t, cet),
            "2026-11-26 19:50:00.123 (18:50:00 UTC)"
        );
        let nz = time::UtcOffset::from_hms(13, 0, 0).unwrap();
        assert_eq!(
            local_and_utc_at(t, nz),
            "2026-11-27 07:50:00.123 (18:50:00 UTC)"
        );
    }
}
