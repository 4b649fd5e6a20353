//! The JSON body the custom webhook receives for an event, with Copy.

use eframe::egui;
use time::OffsetDateTime;

use crate::core::events::EventType;
use crate::core::payload::{Event, event_id};

/// Keeps the rendered sample so a frame does not re-serialise it.
#[derive(Default)]
pub struct PayloadPreview {
    cached: Option<(EventType, String)>,
}

impl PayloadPreview {
    pub fn ui(&mut self, ui: &mut egui::Ui, event: EventType) {
        if self.cached.as_ref().is_none_or(|(e, _)| *e != event) {
            let sample = Event::sample(
                event,
                event_id("PreviewPreviewPreview0000"),
                OffsetDateTime::now_utc(),
            );
            self.cached = Some((event, sample.to_json_pretty()));
        }
        let Some((_, json)) = &self.cached else {
            return;
        };
        egui::CollapsingHeader::new(format!(
            "Custom webhook body for “{}” (schema version 1)",
            event.label()
        ))
        .id_salt("payload_preview")
        .show(ui, |ui| {
            if ui.button("Copy JSON").clicked() {
                ui.ctx().copy_text(json.clone());
            }
            egui::ScrollArea::vertical()
                .max_height(240.0)
                .show(ui, |ui| {
                    let mut text = json.as_str();
                    ui.add(
                        egui::TextEdit::multiline(&mut text)
                            .code_editor()
                            .desired_width(f32::INFINITY),
                    )
                    .on_hover_text("The body as sent; id and times change with each delivery");
                });
        });
    }
}
