//! Good news from the engine ("exported 12 deliveries…", "key copied") as a
//! small stack of toasts in the lower right corner of the page, newest on
//! top. They float over the page, so they never move the settings, and
//! leave on their own after [`INFO_NOTICE_SECONDS`]; the engine state drops
//! them and the app asks for a frame only until the last has gone.
//!
//! [`INFO_NOTICE_SECONDS`]: super::engine_state::INFO_NOTICE_SECONDS

use eframe::egui;

use super::engine_state::EngineState;

/// Widest a toast is drawn, in points.
const TOAST_WIDTH: f32 = 320.0;
/// Gap between the toasts and the corner of the page, in points.
const MARGIN: f32 = 12.0;

/// Draws the toasts in the lower right corner of `page`.
pub fn ui(ctx: &egui::Context, page: egui::Rect, state: &EngineState) {
    if state.info_notices().next().is_none() {
        return;
    }
    egui::Area::new(egui::Id::unique("farmhook_toasts"))
        .order(egui::Order::Foreground)
        .pivot(egui::Align2::RIGHT_BOTTOM)
        .fixed_pos(page.right_bottom() - egui::vec2(MARGIN, MARGIN))
        // Toasts only inform: clicks go through to the page beneath.
        .interactable(false)
        .show(ctx, |ui| {
            ui.set_max_width(TOAST_WIDTH);
            for notice in state.info_notices() {
                let visuals = ui.visuals();
                egui::Frame::popup(ui.style())
                    .stroke(egui::Stroke::new(1.0, visuals.hyperlink_color))
                    .inner_margin(egui::Margin::symmetric(10, 6))
                    .show(ui, |ui| {
                        ui.set_width(TOAST_WIDTH);
                        ui.add(egui::Label::new(format!("ℹ {}", notice.text)).wrap());
                    });
                ui.add_space(4.0);
            }
        });
}
