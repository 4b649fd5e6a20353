//! One delivery in full: every attempt with its wait, the redacted request
//! headers and body, the response status, headers and body excerpt, and the
//! error in words.

use eframe::egui::{self, RichText};

use super::record_words::event_words;
use super::widgets;
use crate::engine::delivery::log::{
    AttemptDetail, AttemptRecord, DETAIL_KEPT, DeliveryRecord, Outcome,
};

pub fn ui(ui: &mut egui::Ui, record: &DeliveryRecord, close: &mut bool) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("Delivery {}", record.id.0)).strong());
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("Close")
                .on_hover_text("Close the detail")
                .clicked()
            {
                *close = true;
            }
        });
    });
    egui::ScrollArea::vertical()
        .id_salt("delivery_detail_scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| body_ui(ui, record));
}

fn body_ui(ui: &mut egui::Ui, record: &DeliveryRecord) {
    let colour = widgets::outcome_colour(ui, record.outcome);
    ui.label(
        RichText::new(format!(
            "{} · {} · {}",
            record.outcome.words(),
            record.destination.label(),
            event_words(record)
        ))
        .color(colour)
        .strong(),
    );
    if let Some(error) = &record.error {
        match record.outcome {
            Outcome::Filtered => widgets::hint(ui, format!("not sent: {error}")),
            Outcome::Summarised => widgets::hint(ui, error),
            _ => widgets::error_line(ui, error),
        };
    }
    egui::Grid::new(("delivery_facts", record.id.0))
        .num_columns(2)
        .spacing([12.0, 2.0])
        .show(ui, |ui| {
            fact(ui, "Started", widgets::local_and_utc(record.started_at));
            fact(ui, "Target", record.target.to_string());
            if let Some(ms) = record.total_ms {
                fact(ui, "Total time", format!("{ms} ms (waits included)"));
            }
            let ids: Vec<&str> = record.events.iter().map(|e| e.id.as_str()).collect();
            fact(ui, "Event ids", ids.join(", "));
        });
    if record.outcome == Outcome::InProgress && record.attempts.is_empty() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("queued…");
        });
    }
    for (i, attempt) in record.attempts.iter().enumerate() {
        attempt_ui(ui, record, attempt, record.attempt_detail(i));
    }
    if record.detail.is_none() && !record.attempts.is_empty() {
        widgets::hint(
            ui,
            format!(
                "The request body, the headers and the answers are kept for the newest {DETAIL_KEPT} deliveries; this one's were let go to save memory."
            ),
        );
    }
    if let Some(body) = record.request_body().filter(|b| !b.is_empty()) {
        egui::CollapsingHeader::new("Request body")
            .id_salt(("request_body", record.id.0))
            .show(ui, |ui| {
                let body = body.text();
                if ui.small_button("Copy body").clicked() {
                    ui.ctx().copy_text(body.to_string());
                }
                code_ui(ui, &body);
            });
    }
}

fn fact(ui: &mut egui::Ui, name: &str, value: String) {
    ui.label(RichText::new(name).weak());
    ui.add(egui::Label::new(value).wrap());
    ui.end_row();
}

fn attempt_ui(
    ui: &mut egui::Ui,
    record: &DeliveryRecord,
    attempt: &AttemptRecord,
    detail: Option<&AttemptDetail>,
) {
    let status = attempt
        .status
        .map_or_else(|| "no answer".to_string(), |s| format!("HTTP {s}"));
    let title = format!(
        "Attempt {}: {status}, {} ms{}",
        attempt.number,
        attempt.latency_ms,
        if attempt.waited_ms > 0 {
            format!(", after waiting {} ms", attempt.waited_ms)
        } else {
            String::new()
        }
    );
    // The last attempt is the one people look at.
    let last = record.attempts.last().map(|a| a.number) == Some(attempt.number);
    egui::CollapsingHeader::new(title)
        .id_salt(("attempt", record.id.0, attempt.number))
        .default_open(last)
        .show(ui, |ui| {
            if let Some(error) = &attempt.error {
                widgets::error_line(ui, error);
            }
            let Some(detail) = detail else {
                return;
            };
            ui.label(RichText::new("Request headers (secrets masked)").weak());
            headers_ui(
                ui,
                ("req", record.id.0, attempt.number),
                &detail.request_headers,
            );
            ui.label(RichText::new("Response headers").weak());
            headers_ui(
                ui,
                ("res", record.id.0, attempt.number),
                &detail.response_headers,
            );
            ui.label(
                RichText::new(if detail.response_truncated {
                    "Response body (first part)"
                } else {
                    "Response body"
                })
                .weak(),
            );
            if detail.response_excerpt.is_empty() {
                widgets::hint(ui, "(empty)");
            } else {
                code_ui(ui, &detail.response_excerpt.text());
            }
        });
}

fn headers_ui(
    ui: &mut egui::Ui,
    id: impl egui::AsIdSalt,
    headers: &[(impl std::fmt::Display, impl std::fmt::Display)],
) {
    if headers.is_empty() {
        widgets::hint(ui, "(none)");
        return;
    }
    // One wrapped line per header: long values (a User-Agent) stay readable.
    ui.push_id(id, |ui| {
        for (name, value) in headers {
            ui.add(egui::Label::new(RichText::new(format!("{name}: {value}")).monospace()).wrap());
        }
    });
}

fn code_ui(ui: &mut egui::Ui, text: &str) {
    let mut shown = text;
    ui.add(
        egui::TextEdit::multiline(&mut shown)
            .code_editor()
            .desired_rows(1)
            .desired_width(f32::INFINITY),
    );
}
